/* The interposed I/O entry points. Each looks up the fd's socket state (a lock-free table read) and
   passes anything that is not a tagged inet socket straight to libc: files, pipes, ttys and unix
   sockets are never touched. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include "lr.h"

static inline struct lr_sock *tagged(int fd)
{
   lr_ensure_init();
   return lr_enabled ? lr_fd_get(fd) : NULL;
}

static ssize_t send_iov(int fd, struct lr_sock *s, const struct iovec *iov, int iovcnt, int flags,
                        const struct sockaddr *to, socklen_t tolen)
{
   if (s->kind == LR_SOCK_STREAM) return lr_stream_send(fd, s, iov, iovcnt, flags);
   struct msghdr m = {.msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt};
   return lr_dgram_send(fd, s, &m, flags);
}

static ssize_t recv_iov(int fd, struct lr_sock *s, const struct iovec *iov, int iovcnt, int flags,
                        struct sockaddr *from, socklen_t *fromlen)
{
   if (s->kind == LR_SOCK_STREAM) {
      if (fromlen) *fromlen = 0;
      return iovcnt == 1 ? lr_stream_recv(fd, s, iov[0].iov_base, iov[0].iov_len, flags)
                         : lr_stream_recv_iov(fd, s, iov, iovcnt, flags);
   }
   struct msghdr m = {.msg_name = from, .msg_namelen = fromlen ? *fromlen : 0, .msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt};
   ssize_t r = lr_dgram_recv(fd, s, &m, flags);
   if (r >= 0 && fromlen) *fromlen = m.msg_namelen;
   return r;
}

LR_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
   struct lr_sock *s = tagged(fd);
   if (!s) return lr_real.send(fd, buf, n, flags);
   struct iovec v = {(void *)buf, n};
   return send_iov(fd, s, &v, 1, flags, NULL, 0);
}

LR_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t tolen)
{
   struct lr_sock *s = tagged(fd);
   if (!s) return lr_real.sendto(fd, buf, n, flags, to, tolen);
   struct iovec v = {(void *)buf, n};
   return send_iov(fd, s, &v, 1, flags, to, tolen);
}

LR_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
   struct lr_sock *s = tagged(fd);
   if (!s) return lr_real.sendmsg(fd, msg, flags);
   if (s->kind == LR_SOCK_DGRAM) return lr_dgram_send(fd, s, msg, flags);
   return lr_stream_send(fd, s, msg->msg_iov, msg->msg_iovlen, flags);
}

LR_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
   struct lr_sock *s = tagged(fd);
   if (!s) return lr_real.write(fd, buf, n);
   struct iovec v = {(void *)buf, n};
   return send_iov(fd, s, &v, 1, 0, NULL, 0);
}

LR_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
   struct lr_sock *s = tagged(fd);
   if (!s) return lr_real.writev(fd, iov, iovcnt);
   return send_iov(fd, s, iov, iovcnt, 0, NULL, 0);
}

LR_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
   struct lr_sock *s = tagged(fd);
   if (!s) return lr_real.recv(fd, buf, n, flags);
   struct iovec v = {buf, n};
   return recv_iov(fd, s, &v, 1, flags, NULL, NULL);
}

LR_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from, socklen_t *fromlen)
{
   struct lr_sock *s = tagged(fd);
   if (!s) return lr_real.recvfrom(fd, buf, n, flags, from, fromlen);
   struct iovec v = {buf, n};
   return recv_iov(fd, s, &v, 1, flags, from, fromlen);
}

LR_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
   struct lr_sock *s = tagged(fd);
   if (!s) return lr_real.recvmsg(fd, msg, flags);
   if (s->kind == LR_SOCK_DGRAM) return lr_dgram_recv(fd, s, msg, flags);
   msg->msg_namelen = 0;
   msg->msg_controllen = 0;
   msg->msg_flags = 0;
   return recv_iov(fd, s, msg->msg_iov, msg->msg_iovlen, flags, NULL, NULL);
}

LR_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
   struct lr_sock *s = tagged(fd);
   if (!s) return lr_real.read(fd, buf, n);
   struct iovec v = {buf, n};
   return recv_iov(fd, s, &v, 1, 0, NULL, NULL);
}

LR_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
   struct lr_sock *s = tagged(fd);
   if (!s) return lr_real.readv(fd, iov, iovcnt);
   return recv_iov(fd, s, iov, iovcnt, 0, NULL, NULL);
}

/* _FORTIFY_SOURCE variants: same checks as glibc's, then our wrappers. */
LR_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
   if (n > buflen) abort();
   return read(fd, buf, n);
}

LR_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
   if (n > buflen) abort();
   return recv(fd, buf, n, flags);
}

LR_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *from,
                                 socklen_t *fromlen)
{
   if (n > buflen) abort();
   return recvfrom(fd, buf, n, flags, from, fromlen);
}

LR_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
   struct lr_sock *s = tagged(fd);
   if (!s) return lr_real.sendmmsg(fd, vec, vlen, flags);
   unsigned int i;
   for (i = 0; i < vlen; i++) {
      ssize_t r = sendmsg(fd, &vec[i].msg_hdr, flags);
      if (r < 0) return i ? (int)i : -1;
      vec[i].msg_len = r;
   }
   return i;
}

LR_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout)
{
   struct lr_sock *s = tagged(fd);
   if (!s) return lr_real.recvmmsg(fd, vec, vlen, flags, timeout);
   unsigned int i;
   int wait1 = flags & MSG_WAITFORONE;
   flags &= ~MSG_WAITFORONE;
   for (i = 0; i < vlen; i++) {
      ssize_t r = recvmsg(fd, &vec[i].msg_hdr, flags | (i && wait1 ? MSG_DONTWAIT : 0));
      if (r < 0) return i ? (int)i : -1;
      vec[i].msg_len = r;
   }
   return i;
}

/* sendfile to a tagged socket goes through the tagged send path: read, then send as one message. */
static ssize_t sendfile_tagged(int out, struct lr_sock *s, int in, off_t *offset, size_t count)
{
   size_t chunk = count < (1 << 20) ? count : (1 << 20);
   if (chunk == 0) return 0;
   char *buf = malloc(chunk);
   if (!buf) { errno = ENOMEM; return -1; }
   ssize_t r = offset ? pread(in, buf, chunk, *offset) : lr_real.read(in, buf, chunk);
   if (r <= 0) { free(buf); return r; }
   struct iovec v = {buf, (size_t)r};
   ssize_t w = lr_stream_send(out, s, &v, 1, 0);
   free(buf);
   size_t sent = w > 0 ? (size_t)w : 0;
   if (offset) *offset += sent;
   else if (sent < (size_t)r) lseek(in, (off_t)sent - r, SEEK_CUR); /* give back what was not sent */
   return w < 0 ? -1 : w;
}

LR_EXPORT ssize_t sendfile(int out, int in, off_t *offset, size_t count)
{
   struct lr_sock *s = tagged(out);
   if (!s || s->kind != LR_SOCK_STREAM) return lr_real.sendfile(out, in, offset, count);
   return sendfile_tagged(out, s, in, offset, count);
}

LR_EXPORT ssize_t sendfile64(int out, int in, off_t *offset, size_t count)
{
   return sendfile(out, in, offset, count);
}

LR_EXPORT int ioctl(int fd, unsigned long req, ...)
{
   va_list ap;
   va_start(ap, req);
   void *arg = va_arg(ap, void *);
   va_end(ap);
   struct lr_sock *s = tagged(fd);
   int r = lr_real.ioctl(fd, req, arg);
   if (r == 0 && s && s->kind == LR_SOCK_STREAM && req == FIONREAD && arg)
      *(int *)arg = lr_stream_available(fd, s, *(int *)arg);
   return r;
}
