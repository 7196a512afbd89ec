/* Record and replay shims for the lr_real table: the kernel boundary under the tagging layer. In record
   mode each shim calls the true function and logs its result; in replay mode it returns the logged
   result without touching the network. Regular files that are not user data pass straight through
   (they are part of the replay's environment); user-data file reads are logged by value or by
   reference (file offset, length, hash) and checked on replay. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lr_rr.h"
#include "planegrind.h"

static struct lr_real T; /* the true functions */

/* ---- per-fd class, cached until the fd is closed or replaced ---- */
enum { C_UNKNOWN, C_PLAIN, C_USER_DATA, C_SOCKET, C_OTHER };
#define CLASS_MAX 65536
static int8_t fd_class[CLASS_MAX];
/* the path of a user-data fd, for its by-reference records (one readlink per open, not per read) */
#define PATHS_MAX 1024
static char *udata_path[PATHS_MAX];

static int classify(int fd)
{
   if (fd < 0) return C_PLAIN;
   if (fd < CLASS_MAX && fd_class[fd]) return fd_class[fd];
   struct stat st;
   int saved = errno, c;
   if (syscall(SYS_fstat, fd, &st) != 0) c = C_PLAIN;
   else if (S_ISSOCK(st.st_mode)) c = C_SOCKET;
   else if (S_ISREG(st.st_mode)) {
      char link[64], path[4096];
      snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
      long n = syscall(SYS_readlink, link, path, sizeof path - 1);
      c = C_PLAIN;
      if (n > 0) {
         path[n] = 0;
         if (lr_rr_user_data(path)) {
            c = C_USER_DATA;
            if (fd < PATHS_MAX) { free(udata_path[fd]); udata_path[fd] = strdup(path); }
         }
      }
   } else if (S_ISDIR(st.st_mode)) c = C_PLAIN;
   else c = C_OTHER; /* pipes, ttys, character devices such as /dev/urandom */
   if (fd < CLASS_MAX) fd_class[fd] = (int8_t)c;
   errno = saved;
   return c;
}

static void forget(int fd)
{
   if (fd >= 0 && fd < CLASS_MAX) fd_class[fd] = C_UNKNOWN;
   if (fd >= 0 && fd < PATHS_MAX && udata_path[fd]) { free(udata_path[fd]); udata_path[fd] = NULL; }
}

static int logged(int fd) { int c = classify(fd); return c == C_SOCKET || c == C_OTHER; }

#define REC (lr_rr_mode == LR_RR_RECORD)
#define REP (lr_rr_mode == LR_RR_REPLAY)

/* ---- buffers ---- */
/* Copies n bytes of src into the iovecs starting at byte offset at. */
static void scatter_at(const struct iovec *iov, int iovcnt, size_t at, const uint8_t *src, size_t n)
{
   for (int i = 0; i < iovcnt && n; i++) {
      if (at >= iov[i].iov_len) { at -= iov[i].iov_len; continue; }
      size_t k = iov[i].iov_len - at < n ? iov[i].iov_len - at : n;
      memcpy((uint8_t *)iov[i].iov_base + at, src, k);
      src += k; n -= k; at = 0;
   }
}

static uint8_t *gather(const struct iovec *iov, int iovcnt, size_t n)
{
   uint8_t *b = malloc(n ? n : 1), *p = b;
   if (!b) return NULL;
   for (int i = 0; i < iovcnt && n; i++) {
      size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
      memcpy(p, iov[i].iov_base, k);
      p += k; n -= k;
   }
   return b;
}

/* ---- I/O accounting of replayed calls ----
   A replayed read or send makes no syscall, so planegrind's I/O accounting (Figure 5) would miss it:
   the shim reports the r bytes it delivered (or that the recorded send accepted) with
   PLANEGRIND_ACCOUNT_IO, after the bytes are in place, as planegrind counts the syscall when it
   returns. Only the replay branches call these: a call that still reaches the kernel (files, pipes and
   ttys written on replay, user-data reads) is counted by planegrind itself. A peek consumes nothing. */
static void replayed_io(int fd, int dir, const void *buf, ssize_t r, int flags)
{
   if (!lr_under_planegrind || r <= 0 || (dir == 0 && (flags & MSG_PEEK))) return;
   int e = errno;
   PLANEGRIND_ACCOUNT_IO(fd, dir, buf, (size_t)r);
   errno = e;
}

static void replayed_iov(int fd, int dir, const struct iovec *iov, int iovcnt, ssize_t r, int flags)
{
   if (!lr_under_planegrind || r <= 0 || (dir == 0 && (flags & MSG_PEEK))) return;
   size_t left = (size_t)r;
   for (int i = 0; i < iovcnt && left; i++) {
      size_t k = iov[i].iov_len < left ? iov[i].iov_len : left;
      replayed_io(fd, dir, iov[i].iov_base, (ssize_t)k, 0);
      left -= k;
   }
}

/* Replay of a call whose result is bytes into one buffer. */
static ssize_t replay_bytes(int kind, int fd, size_t n, int flags, void *buf)
{
   struct lr_rr_rec R;
   lr_rr_next(kind, fd, n, (uint32_t)flags, &R);
   memcpy(buf, R.data, R.data_len < n ? R.data_len : n);
   ssize_t r = (ssize_t)lr_rr_result(&R);
   int e = errno;
   replayed_io(fd, 0, buf, r, flags);
   lr_rr_done();
   errno = e;
   return r;
}

/* Replay of a call whose only result is its return value (and errno). */
static int64_t replay_ret(int kind, int fd, uint64_t arg, int flags)
{
   struct lr_rr_rec R;
   lr_rr_next(kind, fd, arg, (uint32_t)flags, &R);
   int64_t r = lr_rr_result(&R);
   int e = errno;
   lr_rr_done();
   errno = e;
   return r;
}

static void put_ret(int kind, int fd, int64_t r, int e, uint64_t arg, int flags)
{
   lr_rr_put(kind, fd, r, e, arg, (uint32_t)flags, NULL, 0, NULL, 0);
   errno = e;
}

/* ---- user-data file reads ---- */
struct udata_ref { uint64_t off, hash; };

static ssize_t udata_read(int fd, void *buf, size_t n)
{
   if (REC && !lr_rr_by_reference) {
      ssize_t r = T.read(fd, buf, n);
      int e = errno;
      lr_rr_put(RR_UDATA_VALUE, fd, r, e, n, 0, NULL, 0, buf, r > 0 ? (size_t)r : 0);
      errno = e;
      return r;
   }
   off_t off = (off_t)syscall(SYS_lseek, fd, 0, SEEK_CUR);
   ssize_t r = T.read(fd, buf, n);
   int e = errno;
   if (REC) {
      struct udata_ref ref = {(uint64_t)off, r > 0 ? lr_rr_hash(buf, (size_t)r) : 0};
      char link[64], path[4096];
      const char *known = fd < PATHS_MAX ? udata_path[fd] : NULL;
      long pl;
      if (known) pl = (long)strlen(known);
      else {
         snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
         pl = syscall(SYS_readlink, link, path, sizeof path);
      }
      lr_rr_put(RR_UDATA_REF, fd, r, e, n, 0, &ref, sizeof ref, known ? known : path, pl > 0 ? (size_t)pl : 0);
      errno = e;
      return r;
   }
   struct lr_rr_rec R;
   if (!lr_rr_by_reference) {
      lr_rr_next(RR_UDATA_VALUE, fd, n, 0, &R);
      ssize_t want = (ssize_t)R.h->ret;
      if (want >= 0 && r >= 0 && want != r) syscall(SYS_lseek, fd, (off_t)(want - r), SEEK_CUR);
      lr_rr_copy_keep_taint(buf, R.data, R.data_len < n ? R.data_len : n, r > 0 ? (size_t)r : 0);
      want = (ssize_t)lr_rr_result(&R);
      e = errno;
      lr_rr_done();
      errno = e;
      return want;
   }
   lr_rr_next(RR_UDATA_REF, fd, n, 0, &R);
   struct udata_ref ref;
   memcpy(&ref, R.aux, sizeof ref);
   uint64_t h = r > 0 ? lr_rr_hash(buf, (size_t)r) : 0;
   if (r != (ssize_t)R.h->ret || (uint64_t)off != ref.off || h != ref.hash) {
      char why[1400];
      snprintf(why, sizeof why,
               "user-data file %.*s changed since the recording: read of %zu bytes at offset %lld gave %zd bytes (hash %016llx), the recording has %lld bytes at offset %llu (hash %016llx)",
               (int)R.data_len, (const char *)R.data, n, (long long)off, r, (unsigned long long)h,
               (long long)R.h->ret, (unsigned long long)ref.off, (unsigned long long)ref.hash);
      lr_rr_diverge(why, RR_UDATA_REF, fd);
   }
   r = (ssize_t)lr_rr_result(&R);
   e = errno;
   lr_rr_done();
   errno = e;
   return r;
}

/* ---- reads ---- */
static ssize_t s_read(int fd, void *buf, size_t n)
{
   int c = classify(fd);
   if (c == C_USER_DATA) return udata_read(fd, buf, n);
   if (c == C_PLAIN && fd != 0) return T.read(fd, buf, n);
   if (REP) return replay_bytes(RR_READ, fd, n, 0, buf);
   ssize_t r = T.read(fd, buf, n);
   int e = errno;
   lr_rr_put(RR_READ, fd, r, e, n, 0, NULL, 0, buf, r > 0 ? (size_t)r : 0);
   errno = e;
   return r;
}

static ssize_t s_recv(int fd, void *buf, size_t n, int flags)
{
   if (REP) return replay_bytes(RR_RECV, fd, n, flags, buf);
   ssize_t r = T.recv(fd, buf, n, flags);
   int e = errno;
   lr_rr_put(RR_RECV, fd, r, e, n, (uint32_t)flags, NULL, 0, buf, r > 0 ? (size_t)r : 0);
   errno = e;
   return r;
}

static ssize_t s_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from, socklen_t *fromlen)
{
   struct lr_rr_rec R;
   if (REP) {
      lr_rr_next(RR_RECVFROM, fd, n, (uint32_t)flags, &R);
      memcpy(buf, R.data, R.data_len < n ? R.data_len : n);
      if (from && fromlen && R.h->aux_len >= 4) {
         uint32_t al;
         memcpy(&al, R.aux, 4);
         memcpy(from, R.aux + 4, al < *fromlen ? al : *fromlen);
         *fromlen = al;
      }
      ssize_t r = (ssize_t)lr_rr_result(&R);
      int e = errno;
      replayed_io(fd, 0, buf, r, flags);
      lr_rr_done();
      errno = e;
      return r;
   }
   ssize_t r = T.recvfrom(fd, buf, n, flags, from, fromlen);
   int e = errno;
   uint8_t aux[4 + sizeof(struct sockaddr_storage)];
   uint32_t al = (r >= 0 && from && fromlen) ? *fromlen : 0;
   if (al > sizeof(struct sockaddr_storage)) al = sizeof(struct sockaddr_storage);
   memcpy(aux, &al, 4);
   if (al) memcpy(aux + 4, from, al);
   lr_rr_put(RR_RECVFROM, fd, r, e, n, (uint32_t)flags, aux, 4 + al, buf, r > 0 ? (size_t)r : 0);
   errno = e;
   return r;
}

struct msg_aux { uint32_t namelen, flags, controllen; };

/* ---- message payloads by reference ----
   By reference, a receive whose leading bytes are at least LR_RR_REF_MIN payload bytes of a tagged
   frame logs (sender identity, message id, offset in the message, length, hash) instead of them: the
   tagging layer reads a frame's payload with one recvmsg while its socket state names the frame. On
   replay the bytes come from the sender's replay (lr_rr_msg_payload) and are checked against the hash. */
struct msg_ref { uint32_t msg_id, idlen; uint64_t off, len, hash; };

static size_t payload_ahead(int fd, int flags, ssize_t r, struct lr_sock **out)
{
   if (!lr_rr_by_reference || r < LR_RR_REF_MIN || (flags & MSG_PEEK)) return 0;
   struct lr_sock *s = lr_fd_get(fd);
   if (!s || s->kind != LR_SOCK_STREAM || __atomic_load_n(&s->in_state, __ATOMIC_ACQUIRE) != LR_IN_FRAMES || !s->in_peer[0]) return 0;
   /* only a sender that records too can regenerate the bytes on replay (its hello's flag bit 1) */
   if (s->in_hello.len <= 9 || !(s->in_hello.p[9] & 2)) return 0;
   size_t p = s->in_remaining < (uint64_t)r ? (size_t)s->in_remaining : (size_t)r;
   *out = s;
   return p >= LR_RR_REF_MIN ? p : 0;
}

static uint64_t iov_hash(const struct iovec *iov, int iovcnt, size_t n)
{
   if (iovcnt >= 1 && iov[0].iov_len >= n) return lr_rr_hash(iov[0].iov_base, n);
   uint8_t *b = gather(iov, iovcnt, n);
   uint64_t h = b ? lr_rr_hash(b, n) : 0;
   free(b);
   return h;
}

static void replay_payload(int fd, struct msghdr *m, const struct lr_rr_rec *R, size_t at_aux)
{
   struct msg_ref ref;
   memcpy(&ref, R->aux + at_aux, sizeof ref);
   char peer[256];
   size_t il = ref.idlen < sizeof peer - 1 ? ref.idlen : sizeof peer - 1;
   memcpy(peer, R->aux + at_aux + sizeof ref, il);
   peer[il] = 0;
   char why[600];
   const struct iovec *v = m->msg_iov;
   int direct = m->msg_iovlen >= 1 && v[0].iov_len >= ref.len;
   uint8_t *buf = direct ? v[0].iov_base : malloc(ref.len ? ref.len : 1);
   if (!buf) lr_rr_diverge("out of memory for a message payload", RR_RECVMSG_REF, fd);
   if (lr_rr_msg_payload(peer, ref.msg_id, ref.off, buf, ref.len, why, sizeof why) != 0) lr_rr_diverge(why, RR_RECVMSG_REF, fd);
   uint64_t h = lr_rr_hash(buf, ref.len);
   if (h != ref.hash) {
      snprintf(why, sizeof why, "message %u from %s differs from the recording: bytes %llu..%llu of its payload hash to %016llx in the sender's replay, %016llx when recorded",
               ref.msg_id, peer, (unsigned long long)ref.off, (unsigned long long)(ref.off + ref.len), (unsigned long long)h, (unsigned long long)ref.hash);
      lr_rr_diverge(why, RR_RECVMSG_REF, fd);
   }
   if (!direct) { scatter_at(v, (int)m->msg_iovlen, 0, buf, ref.len); free(buf); }
   scatter_at(v, (int)m->msg_iovlen, ref.len, R->data, R->data_len);
}

static ssize_t s_recvmsg(int fd, struct msghdr *m, int flags)
{
   size_t n = lr_iov_total(m->msg_iov, (int)m->msg_iovlen);
   struct lr_rr_rec R;
   if (REP) {
      lr_rr_next(RR_RECVMSG, fd, n, (uint32_t)flags, &R);
      struct msg_aux a;
      memcpy(&a, R.aux, sizeof a);
      if (R.h->kind == RR_RECVMSG_REF) replay_payload(fd, m, &R, sizeof a + a.namelen + a.controllen);
      else scatter_at(m->msg_iov, (int)m->msg_iovlen, 0, R.data, R.data_len);
      if (m->msg_name) memcpy(m->msg_name, R.aux + sizeof a, a.namelen < m->msg_namelen ? a.namelen : m->msg_namelen);
      m->msg_namelen = a.namelen;
      size_t cl = a.controllen < m->msg_controllen ? a.controllen : m->msg_controllen;
      if (m->msg_control) memcpy(m->msg_control, R.aux + sizeof a + a.namelen, cl);
      m->msg_controllen = cl;
      m->msg_flags = (int)a.flags;
      ssize_t r = (ssize_t)lr_rr_result(&R);
      int e = errno;
      replayed_iov(fd, 0, m->msg_iov, (int)m->msg_iovlen, r, flags);
      lr_rr_done();
      errno = e;
      return r;
   }
   ssize_t r = T.recvmsg(fd, m, flags);
   int e = errno;
   struct msg_aux a = {0, 0, 0};
   if (r >= 0) { a.namelen = m->msg_name ? m->msg_namelen : 0; a.flags = (uint32_t)m->msg_flags; a.controllen = m->msg_control ? (uint32_t)m->msg_controllen : 0; }
   struct lr_sock *s = NULL;
   size_t ref_len = payload_ahead(fd, flags, r, &s);
   size_t base = sizeof a + a.namelen + a.controllen;
   size_t idlen = ref_len ? strlen(s->in_peer) : 0;
   size_t al = base + (ref_len ? sizeof(struct msg_ref) + idlen : 0);
   uint8_t *aux = malloc(al);
   if (aux) {
      memcpy(aux, &a, sizeof a);
      if (a.namelen) memcpy(aux + sizeof a, m->msg_name, a.namelen);
      if (a.controllen) memcpy(aux + sizeof a + a.namelen, m->msg_control, a.controllen);
      if (ref_len) {
         struct msg_ref ref = {s->in_msg_id, (uint32_t)idlen, s->in_frame_off, ref_len, iov_hash(m->msg_iov, (int)m->msg_iovlen, ref_len)};
         memcpy(aux + base, &ref, sizeof ref);
         memcpy(aux + base + sizeof ref, s->in_peer, idlen);
      }
   }
   if (!aux) ref_len = 0;
   /* by value: all received bytes; by reference: the bytes after the payload (the next frame header) */
   size_t dl = r > 0 ? (size_t)r - ref_len : 0;
   lr_rr_putv(ref_len ? RR_RECVMSG_REF : RR_RECVMSG, fd, r, e, n, (uint32_t)flags, aux, aux ? al : 0, m->msg_iov, (int)m->msg_iovlen, ref_len, dl);
   free(aux);
   errno = e;
   return r;
}

static ssize_t s_readv(int fd, const struct iovec *iov, int iovcnt)
{
   int c = classify(fd);
   if (c == C_PLAIN || c == C_USER_DATA) return T.readv(fd, iov, iovcnt); /* user-data readv: see docs */
   size_t n = lr_iov_total(iov, iovcnt);
   if (REP) {
      struct lr_rr_rec R;
      lr_rr_next(RR_READV, fd, n, 0, &R);
      scatter_at(iov, iovcnt, 0, R.data, R.data_len);
      ssize_t r = (ssize_t)lr_rr_result(&R);
      int e = errno;
      replayed_iov(fd, 0, iov, iovcnt, r, 0);
      lr_rr_done();
      errno = e;
      return r;
   }
   ssize_t r = T.readv(fd, iov, iovcnt);
   int e = errno;
   lr_rr_putv(RR_READV, fd, r, e, n, 0, NULL, 0, iov, iovcnt, 0, r > 0 ? (size_t)r : 0);
   errno = e;
   return r;
}

/* ---- sends: on sockets only the result is logged; replay sends nothing (and accounts the bytes the
   recorded call accepted: `counted`) ---- */
#define SEND_SHIM(kind, call, n, flags, counted)              \
   do {                                                       \
      if (classify(fd) != C_SOCKET) return call;              \
      if (REP) {                                              \
         ssize_t r = (ssize_t)replay_ret(kind, fd, n, flags); \
         counted;                                             \
         return r;                                            \
      }                                                       \
      ssize_t r = call;                                       \
      put_ret(kind, fd, r, errno, n, flags);                  \
      return r;                                               \
   } while (0)

static ssize_t s_send(int fd, const void *b, size_t n, int fl) { SEND_SHIM(RR_SEND, T.send(fd, b, n, fl), n, fl, replayed_io(fd, 1, b, r, 0)); }
static ssize_t s_sendto(int fd, const void *b, size_t n, int fl, const struct sockaddr *to, socklen_t tl)
{ SEND_SHIM(RR_SENDTO, T.sendto(fd, b, n, fl, to, tl), n, fl, replayed_io(fd, 1, b, r, 0)); }
static ssize_t s_sendmsg(int fd, const struct msghdr *m, int fl)
{ SEND_SHIM(RR_SENDMSG, T.sendmsg(fd, m, fl), lr_iov_total(m->msg_iov, (int)m->msg_iovlen), fl, replayed_iov(fd, 1, m->msg_iov, (int)m->msg_iovlen, r, 0)); }
static ssize_t s_write(int fd, const void *b, size_t n) { SEND_SHIM(RR_WRITE, T.write(fd, b, n), n, 0, replayed_io(fd, 1, b, r, 0)); }
static ssize_t s_writev(int fd, const struct iovec *v, int c) { SEND_SHIM(RR_WRITEV, T.writev(fd, v, c), lr_iov_total(v, c), 0, replayed_iov(fd, 1, v, c, r, 0)); }

static ssize_t s_sendfile(int out, int in, off_t *off, size_t n)
{
   if (classify(out) != C_SOCKET) return T.sendfile(out, in, off, n);
   if (REC) {
      ssize_t r = T.sendfile(out, in, off, n);
      put_ret(RR_SENDFILE, out, r, errno, n, 0);
      return r;
   }
   ssize_t r = (ssize_t)replay_ret(RR_SENDFILE, out, n, 0);
   if (r > 0) { /* the file offset moves as it did; planegrind counts the copy as it counts sendfile */
      int e = errno;
      if (lr_under_planegrind) PLANEGRIND_ACCOUNT_COPY(in, out, (size_t)r);
      if (off) *off += r;
      else syscall(SYS_lseek, in, (off_t)r, SEEK_CUR);
      errno = e;
   }
   return r;
}

static int warned_mmsg;
static int s_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int fl)
{
   if (REP && classify(fd) == C_SOCKET) lr_rr_diverge("sendmmsg is not supported by replay", RR_SEND, fd);
   if (!warned_mmsg++) lr_warn("record: sendmmsg/recvmmsg are not recorded; this process will not replay past them");
   return T.sendmmsg(fd, v, n, fl);
}

static int s_recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int fl, struct timespec *t)
{
   if (REP && classify(fd) == C_SOCKET) lr_rr_diverge("recvmmsg is not supported by replay", RR_RECV, fd);
   if (!warned_mmsg++) lr_warn("record: sendmmsg/recvmmsg are not recorded; this process will not replay past them");
   return T.recvmmsg(fd, v, n, fl, t);
}

/* ---- fd lifecycle: replay gives sockets the recorded numbers with unconnected placeholders ---- */
static void placeholder(int want, int domain, int type, int protocol)
{
   int saved = errno;
   forget(want);
   int p = T.socket(domain, type, protocol);
   if (p < 0) p = T.socket(AF_UNIX, SOCK_STREAM | (type & (SOCK_NONBLOCK | SOCK_CLOEXEC)), 0);
   if (p >= 0 && p != want) {
      T.dup3(p, want, (type & SOCK_CLOEXEC) ? O_CLOEXEC : 0);
      T.close(p);
   }
   if (want < CLASS_MAX) fd_class[want] = C_SOCKET;
   errno = saved;
}

static int s_socket(int domain, int type, int protocol)
{
   uint64_t arg = ((uint64_t)(uint32_t)domain << 32) | (uint32_t)type;
   if (REC) {
      int r = T.socket(domain, type, protocol);
      forget(r);
      put_ret(RR_SOCKET, -1, r, errno, arg, protocol);
      return r;
   }
   int r = (int)replay_ret(RR_SOCKET, -1, arg, protocol);
   if (r >= 0) placeholder(r, domain, type, protocol);
   return r;
}

static int s_connect(int fd, const struct sockaddr *a, socklen_t len)
{
   if (REC) {
      int r = T.connect(fd, a, len);
      lr_rr_put(RR_CONNECT, fd, r, errno, len, 0, NULL, 0, a, len);
      return r;
   }
   return (int)replay_ret(RR_CONNECT, fd, len, 0);
}

static int do_accept(int kind, int fd, struct sockaddr *a, socklen_t *len, int flags)
{
   if (REC) {
      int r = kind == RR_ACCEPT ? T.accept(fd, a, len) : T.accept4(fd, a, len, flags);
      int e = errno;
      forget(r);
      uint8_t aux[4 + sizeof(struct sockaddr_storage)];
      uint32_t al = (r >= 0 && a && len) ? *len : 0;
      if (al > sizeof(struct sockaddr_storage)) al = sizeof(struct sockaddr_storage);
      memcpy(aux, &al, 4);
      if (al) memcpy(aux + 4, a, al);
      lr_rr_put(kind, fd, r, e, 0, (uint32_t)flags, aux, 4 + al, NULL, 0);
      errno = e;
      return r;
   }
   struct lr_rr_rec R;
   lr_rr_next(kind, fd, 0, (uint32_t)flags, &R);
   if (a && len && R.h->aux_len >= 4) {
      uint32_t al;
      memcpy(&al, R.aux, 4);
      memcpy(a, R.aux + 4, al < *len ? al : *len);
      *len = al;
   }
   int r = (int)lr_rr_result(&R);
   int e = errno;
   lr_rr_done();
   if (r >= 0) {
      int domain = AF_INET;
      socklen_t dl = sizeof domain;
      if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl) != 0) domain = AF_INET;
      placeholder(r, domain, SOCK_STREAM | (flags & (SOCK_NONBLOCK | SOCK_CLOEXEC)), 0);
   }
   errno = e;
   return r;
}

static int s_accept(int fd, struct sockaddr *a, socklen_t *l) { return do_accept(RR_ACCEPT, fd, a, l, 0); }
static int s_accept4(int fd, struct sockaddr *a, socklen_t *l, int f) { return do_accept(RR_ACCEPT4, fd, a, l, f); }

static int s_shutdown(int fd, int how)
{
   if (REC) { int r = T.shutdown(fd, how); put_ret(RR_SHUTDOWN, fd, r, errno, (uint64_t)how, 0); return r; }
   return (int)replay_ret(RR_SHUTDOWN, fd, (uint64_t)how, 0);
}

static int s_close(int fd) { forget(fd); return T.close(fd); }
static int s_dup(int fd) { int r = T.dup(fd); forget(r); return r; }
static int s_dup2(int a, int b) { forget(b); return T.dup2(a, b); }
static int s_dup3(int a, int b, int f) { forget(b); return T.dup3(a, b, f); }
static int s_fclose(FILE *f) { forget(fileno(f)); return T.fclose(f); }
static int s_close_range(unsigned int a, unsigned int b, int f)
{
   if (!(f & CLOSE_RANGE_CLOEXEC))
      for (unsigned long i = a; i <= b && i < CLASS_MAX; i++) forget((int)i);
   return T.close_range(a, b, f);
}

static int s_ioctl(int fd, unsigned long req, ...)
{
   va_list ap;
   va_start(ap, req);
   void *arg = va_arg(ap, void *);
   va_end(ap);
   if (req != FIONREAD || !logged(fd)) return T.ioctl(fd, req, arg);
   if (REC) {
      int r = T.ioctl(fd, req, arg);
      int e = errno;
      lr_rr_put(RR_FIONREAD, fd, r, e, 0, 0, NULL, 0, arg, r == 0 ? sizeof(int) : 0);
      errno = e;
      return r;
   }
   struct lr_rr_rec R;
   lr_rr_next(RR_FIONREAD, fd, 0, 0, &R);
   if (arg && R.data_len == sizeof(int)) memcpy(arg, R.data, sizeof(int));
   int r = (int)lr_rr_result(&R);
   int e = errno;
   lr_rr_done();
   errno = e;
   return r;
}

/* ---- readiness ---- */
static int poll_like(int kind, struct pollfd *fds, nfds_t n, int (*call)(void *), void *ctx)
{
   int first = n ? fds[0].fd : -1;
   if (REC) {
      int r = call(ctx);
      int e = errno;
      short *rev = malloc(n * sizeof *rev + 1);
      if (rev) for (nfds_t i = 0; i < n; i++) rev[i] = fds[i].revents;
      lr_rr_put(kind, first, r, e, n, 0, rev, rev ? n * sizeof *rev : 0, NULL, 0);
      free(rev);
      errno = e;
      return r;
   }
   struct lr_rr_rec R;
   lr_rr_next(kind, first, n, 0, &R);
   for (nfds_t i = 0; i < n && (i + 1) * sizeof(short) <= R.h->aux_len; i++) memcpy(&fds[i].revents, R.aux + i * sizeof(short), sizeof(short));
   int r = (int)lr_rr_result(&R);
   int e = errno;
   lr_rr_done();
   errno = e;
   return r;
}

struct poll_args { struct pollfd *fds; nfds_t n; int timeout; const struct timespec *ts; const sigset_t *mask; };
static int call_poll(void *c) { struct poll_args *a = c; return T.poll(a->fds, a->n, a->timeout); }
static int call_ppoll(void *c) { struct poll_args *a = c; return T.ppoll(a->fds, a->n, a->ts, a->mask); }

static int s_poll(struct pollfd *fds, nfds_t n, int timeout)
{
   struct poll_args a = {fds, n, timeout, NULL, NULL};
   return poll_like(RR_POLL, fds, n, call_poll, &a);
}

static int s_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
   struct poll_args a = {fds, n, 0, ts, mask};
   return poll_like(RR_PPOLL, fds, n, call_ppoll, &a);
}

struct select_aux { fd_set s[3]; };

static int select_like(int kind, int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int r, int e)
{
   fd_set *sets[3] = {rd, wr, ex};
   if (REC) {
      struct select_aux a;
      memset(&a, 0, sizeof a);
      for (int i = 0; i < 3; i++) if (sets[i] && r >= 0) a.s[i] = *sets[i];
      lr_rr_put(kind, nfds, r, e, 0, 0, &a, sizeof a, NULL, 0);
      errno = e;
      return r;
   }
   struct lr_rr_rec R;
   lr_rr_next(kind, nfds, 0, 0, &R);
   struct select_aux a;
   memcpy(&a, R.aux, sizeof a);
   r = (int)lr_rr_result(&R);
   e = errno;
   if (r >= 0) for (int i = 0; i < 3; i++) if (sets[i]) *sets[i] = a.s[i];
   lr_rr_done();
   errno = e;
   return r;
}

static int s_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
   int r = REC ? T.select(nfds, rd, wr, ex, tv) : 0;
   return select_like(RR_SELECT, nfds, rd, wr, ex, r, errno);
}

static int s_pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts, const sigset_t *m)
{
   int r = REC ? T.pselect(nfds, rd, wr, ex, ts, m) : 0;
   return select_like(RR_PSELECT, nfds, rd, wr, ex, r, errno);
}

static int epoll_like(int kind, int epfd, struct epoll_event *ev, int max, int r, int e)
{
   if (REC) {
      lr_rr_put(kind, epfd, r, e, (uint64_t)max, 0, ev, r > 0 ? (size_t)r * sizeof *ev : 0, NULL, 0);
      errno = e;
      return r;
   }
   struct lr_rr_rec R;
   lr_rr_next(kind, epfd, (uint64_t)max, 0, &R);
   memcpy(ev, R.aux, R.h->aux_len);
   r = (int)lr_rr_result(&R);
   e = errno;
   lr_rr_done();
   errno = e;
   return r;
}

static int s_epoll_wait(int epfd, struct epoll_event *ev, int max, int t)
{
   int r = REC ? T.epoll_wait(epfd, ev, max, t) : 0;
   return epoll_like(RR_EPOLL_WAIT, epfd, ev, max, r, errno);
}

static int s_epoll_pwait(int epfd, struct epoll_event *ev, int max, int t, const sigset_t *m)
{
   int r = REC ? T.epoll_pwait(epfd, ev, max, t, m) : 0;
   return epoll_like(RR_EPOLL_PWAIT, epfd, ev, max, r, errno);
}

static int s_epoll_pwait2(int epfd, struct epoll_event *ev, int max, const struct timespec *t, const sigset_t *m)
{
   int r = REC ? T.epoll_pwait2(epfd, ev, max, t, m) : 0;
   return epoll_like(RR_EPOLL_PWAIT2, epfd, ev, max, r, errno);
}

/* ---- install ---- */
static struct lr_real *table;

void lr_rr_uninstall(void)
{
   if (table) *table = T;
}

void lr_rr_install(struct lr_real *r)
{
   static int installed;
   if (__atomic_exchange_n(&installed, 1, __ATOMIC_ACQ_REL)) return;
   T = *r;
   table = r;
   lr_rr_configure();
   if (lr_rr_mode == LR_RR_OFF) return;
   lr_rr_replaying = lr_rr_mode == LR_RR_REPLAY;
   lr_rr_recording = lr_rr_mode == LR_RR_RECORD;
   r->read = s_read; r->readv = s_readv; r->recv = s_recv; r->recvfrom = s_recvfrom; r->recvmsg = s_recvmsg;
   r->send = s_send; r->sendto = s_sendto; r->sendmsg = s_sendmsg; r->write = s_write; r->writev = s_writev;
   r->sendfile = s_sendfile; r->sendmmsg = s_sendmmsg; r->recvmmsg = s_recvmmsg;
   r->socket = s_socket; r->connect = s_connect; r->accept = s_accept; r->accept4 = s_accept4;
   r->shutdown = s_shutdown; r->close = s_close; r->dup = s_dup; r->dup2 = s_dup2; r->dup3 = s_dup3;
   r->fclose = s_fclose; r->ioctl = s_ioctl;
   if (T.close_range) r->close_range = s_close_range;
   r->poll = s_poll; r->ppoll = s_ppoll; r->select = s_select; r->pselect = s_pselect;
   r->epoll_wait = s_epoll_wait; r->epoll_pwait = s_epoll_pwait;
   if (T.epoll_pwait2) r->epoll_pwait2 = s_epoll_pwait2;
}
