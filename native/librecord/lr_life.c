/* The life of a tagged socket's fd: created by socket() (UDP) or connect()/accept() (TCP), shared by
   dup, forgotten on close, kept across fork (the child gets fresh locks and its own identity). A
   connecting side whose destination runs librecord queues its hello at connect() and sends it as
   soon as the connection is up. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lr.h"

LR_HIDDEN void lr_epoll_forget(int epfd);

/* A connecting side tags only a destination known to run librecord (lr_peers.c), decided before its
   first byte; then both directions are plain, since a librecord server tags only after our hello. */
static void attach_stream(int fd, int connector, const struct sockaddr *dest, socklen_t dest_len)
{
   struct lr_sock *s = lr_fd_attach_new(fd, LR_SOCK_STREAM, connector);
   if (!s) return;
   lr_sock_describe_peer(fd, s);
   if (!connector) return;
   if (!lr_peer_runs_librecord(1, dest, dest_len)) {
      s->out_state = LR_OUT_UNTAGGED;
      s->in_state = LR_IN_UNTAGGED;
      s->peer_untagged = 1;
      s->in_warned = 1;
      return;
   }
   uint8_t hello[LR_HELLO_FIXED + 256];
   size_t n = lr_hello_build(hello, sizeof hello);
   lr_buf_put(&s->out_pending, hello, n);
}

LR_EXPORT int socket(int domain, int type, int protocol)
{
   lr_ensure_init();
   int fd = lr_real.socket(domain, type, protocol);
   if (fd < 0) return fd;
   lr_fd_forget(fd);
   if (lr_enabled && (domain == AF_INET || domain == AF_INET6) && (type & 0xf) == SOCK_DGRAM)
      lr_fd_attach_new(fd, LR_SOCK_DGRAM, 0);
   return fd;
}

LR_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
   lr_ensure_init();
   int r = lr_real.connect(fd, addr, len);
   int saved = errno;
   if (lr_enabled && (r == 0 || errno == EINPROGRESS) && !lr_fd_get(fd) && lr_sock_kind_of(fd) == LR_SOCK_STREAM) {
      attach_stream(fd, 1, addr, len);
      struct lr_sock *s = lr_fd_get(fd);
      if (s && r == 0) {
         if (lr_fd_nonblocking(fd)) lr_stream_flush_hello(fd, s);
         else lr_stream_flush_pending_blocking(fd, s);
      }
   }
   errno = saved;
   return r;
}

static int after_accept(int fd)
{
   if (fd < 0) return fd;
   int saved = errno;
   lr_fd_forget(fd);
   if (lr_enabled && lr_sock_kind_of(fd) == LR_SOCK_STREAM) attach_stream(fd, 0, NULL, 0);
   errno = saved;
   return fd;
}

LR_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
   lr_ensure_init();
   return after_accept(lr_real.accept(fd, addr, len));
}

LR_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
   lr_ensure_init();
   return after_accept(lr_real.accept4(fd, addr, len, flags));
}

LR_EXPORT int shutdown(int fd, int how)
{
   lr_ensure_init();
   struct lr_sock *s = lr_enabled ? lr_fd_get(fd) : NULL;
   if (s && s->kind == LR_SOCK_STREAM && how != SHUT_RD) lr_stream_flush_pending_blocking(fd, s);
   return lr_real.shutdown(fd, how);
}

LR_EXPORT int close(int fd)
{
   lr_ensure_init();
   lr_fd_forget(fd);
   lr_epoll_forget(fd);
   return lr_real.close(fd);
}

LR_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
   lr_ensure_init();
   if (!lr_real.close_range) { errno = ENOSYS; return -1; }
   int r = lr_real.close_range(first, last, flags);
   if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
      for (unsigned long fd = first; fd <= last && fd < (1u << 20); fd++) lr_fd_forget((int)fd);
   return r;
}

LR_EXPORT int dup(int fd)
{
   lr_ensure_init();
   int r = lr_real.dup(fd);
   if (r >= 0) lr_fd_share(fd, r);
   return r;
}

LR_EXPORT int dup2(int old, int new)
{
   lr_ensure_init();
   int r = lr_real.dup2(old, new);
   if (r >= 0 && old != new) lr_fd_share(old, new);
   return r;
}

LR_EXPORT int dup3(int old, int new, int flags)
{
   lr_ensure_init();
   int r = lr_real.dup3(old, new, flags);
   if (r >= 0) lr_fd_share(old, new);
   return r;
}

LR_EXPORT int fcntl(int fd, int cmd, ...)
{
   lr_ensure_init();
   va_list ap;
   va_start(ap, cmd);
   void *arg = va_arg(ap, void *);
   va_end(ap);
   int r = lr_real.fcntl(fd, cmd, arg);
   if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) lr_fd_share(fd, r);
   return r;
}

LR_EXPORT int fcntl64(int fd, int cmd, ...)
{
   va_list ap;
   va_start(ap, cmd);
   void *arg = va_arg(ap, void *);
   va_end(ap);
   return fcntl(fd, cmd, arg);
}

LR_EXPORT int fclose(FILE *f)
{
   lr_ensure_init();
   int fd = f ? fileno(f) : -1;
   int r = lr_real.fclose(f);
   if (fd >= 0) {
      lr_fd_forget(fd); /* stdio closes the fd inside libc, past our close() */
      lr_epoll_forget(fd);
   }
   return r;
}

/* stdio on a tagged socket would write past our wrappers (libc-internal calls): route it through them. */
static ssize_t cookie_read(void *c, char *buf, size_t n) { return read((int)(intptr_t)c, buf, n); }
static ssize_t cookie_write(void *c, const char *buf, size_t n) { return write((int)(intptr_t)c, buf, n); }
static int cookie_close(void *c) { return close((int)(intptr_t)c); }

LR_EXPORT FILE *fdopen(int fd, const char *mode)
{
   lr_ensure_init();
   struct lr_sock *s = lr_enabled ? lr_fd_get(fd) : NULL;
   if (!s || s->kind != LR_SOCK_STREAM) return lr_real.fdopen(fd, mode);
   cookie_io_functions_t io = {cookie_read, cookie_write, NULL, cookie_close};
   return fopencookie((void *)(intptr_t)fd, mode, io);
}

static void after_fork_child(void)
{
   lr_fd_after_fork_child();
   lr_peers_after_fork_child();
   lr_identity_refresh();
}

__attribute__((constructor(200))) static void lr_life_init(void)
{
   lr_ensure_init();
   pthread_atfork(NULL, NULL, after_fork_child);
}
