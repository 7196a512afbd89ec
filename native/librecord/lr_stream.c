/* TCP message tagging. Each direction of a connection is tagged or not on its own: a tagged direction
   starts with a hello (magic, identity) and carries every send() as a frame: a 12-byte header with the
   message length and id (+ the taint tag under planegrind), then the payload. The receiver reads tag
   bytes into per-socket state and payload bytes straight into the caller's buffer, so it never holds
   application bytes the kernel no longer reports (readiness stays truthful). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "lr.h"

#define IOV_LOCAL 64

static int load_state(struct lr_sock *s) { return __atomic_load_n(&s->in_state, __ATOMIC_ACQUIRE); }
static void store_state(struct lr_sock *s, int v) { __atomic_store_n(&s->in_state, v, __ATOMIC_RELEASE); }

/* ------------------------------------------------------------------------------------------ send */

/* Copies the part [skip, skip+len) of iov into out (capacity cap); returns the entries used. */
static int iov_slice(struct iovec *out, int cap, const struct iovec *iov, int iovcnt, size_t skip, size_t len)
{
   int n = 0;
   for (int i = 0; i < iovcnt && len > 0 && n < cap; i++) {
      size_t l = iov[i].iov_len;
      if (skip >= l) { skip -= l; continue; }
      size_t take = l - skip < len ? l - skip : len;
      out[n].iov_base = (char *)iov[i].iov_base + skip;
      out[n].iov_len = take;
      n++;
      len -= take;
      skip = 0;
   }
   return n;
}

static int peer_listed_plain(struct lr_sock *s)
{
   return s->peer_len && lr_peer_listed((struct sockaddr *)&s->peer_addr, s->peer_len) == 0;
}

/* The accepting side decides whether to tag its direction: only if the peer's stream starts with a
   hello. A server that speaks first waits (bounded) for the connecting peer's hello. */
static void decide_out(int fd, struct lr_sock *s)
{
   int st = load_state(s);
   if (st == LR_IN_UNKNOWN && peer_listed_plain(s)) {
      s->out_state = LR_OUT_UNTAGGED; /* PLANESCOPE_TAG_PEERS says so: no wait, no warning */
      return;
   }
   if (st == LR_IN_UNKNOWN) {
      struct pollfd p = {fd, POLLIN, 0};
      uint8_t tmp[LR_MAGIC_LEN];
      ssize_t r = -1;
      if (lr_real.poll(&p, 1, lr_hello_wait_ms) > 0)
         r = lr_real.recv(fd, tmp, sizeof tmp, MSG_PEEK | MSG_DONTWAIT);
      st = load_state(s); /* a reader may have consumed the hello meanwhile */
      if (st == LR_IN_UNKNOWN)
         st = (r > 0 && memcmp(tmp, LR_MAGIC, r < LR_MAGIC_LEN ? r : LR_MAGIC_LEN) == 0) ? LR_IN_HELLO : LR_IN_UNTAGGED;
   }
   if (st == LR_IN_UNTAGGED) {
      s->out_state = LR_OUT_UNTAGGED;
      if (load_state(s) == LR_IN_UNKNOWN && !s->in_warned) {
         s->in_warned = 1; /* one warning per connection: the receive side stays quiet about it */
         lr_warn("peer %s sent no librecord hello within %d ms before we spoke: replying untagged (a hello that "
                 "comes later is still read)", s->peer_name, lr_hello_wait_ms);
      }
      return;
   }
   s->out_state = LR_OUT_TAGGED;
   uint8_t hello[LR_HELLO_FIXED + 256];
   size_t n = lr_hello_build(hello, sizeof hello);
   lr_buf_put(&s->out_pending, hello, n);
}

ssize_t lr_stream_send(int fd, struct lr_sock *s, const struct iovec *iov, int iovcnt, int flags)
{
   size_t total = lr_iov_total(iov, iovcnt);
   pthread_mutex_lock(&s->out_lock);
   if (s->out_state == LR_OUT_UNDECIDED) decide_out(fd, s);
   if (s->out_state == LR_OUT_TAGGED && __atomic_load_n(&s->peer_untagged, __ATOMIC_ACQUIRE) && s->out_remaining == 0 &&
       s->out_pending.len == s->out_pending_off)
      s->out_state = LR_OUT_UNTAGGED;
   if (s->out_state == LR_OUT_UNTAGGED && s->out_remaining == 0 && s->out_pending.len == s->out_pending_off) {
      pthread_mutex_unlock(&s->out_lock);
      struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt};
      return lr_real.sendmsg(fd, &m, flags);
   }

   struct iovec local[IOV_LOCAL + 1], *v = local;
   if (iovcnt > IOV_LOCAL) v = malloc((iovcnt + 1) * sizeof *v);
   if (!v) {
      pthread_mutex_unlock(&s->out_lock);
      errno = ENOMEM;
      return -1;
   }
   struct lr_buf tag = {0};
   size_t sent = 0;
   int nonblock = -1; /* looked up on the first partial send only */
   ssize_t result;
   for (;;) {
      if (s->out_remaining == 0 && sent < total && s->out_state == LR_OUT_TAGGED) {
         /* a new frame for the rest of this call's bytes */
         size_t len = total - sent;
         if (len > UINT32_MAX) len = UINT32_MAX;
         int n = iov_slice(v, iovcnt, iov, iovcnt, sent, len);
         lr_tag_build_iov(v, n, len, &tag);
         uint32_t id = lr_next_msg_id();
         if (lr_rr_replaying) lr_rr_msg_sent(id, v, n, len, &tag), tag.len = 0; /* replay: the wire as recorded */
         uint8_t hdr[LR_FRAME_HDR + 4];
         lr_frame_hdr_build(hdr, tag.len ? LR_KIND_TAINTED : LR_KIND_CLEAN, (uint32_t)len, id);
         size_t hlen = LR_FRAME_HDR;
         if (tag.len) lr_put32(hdr + LR_FRAME_HDR, (uint32_t)tag.len), hlen += 4;
         if (s->out_pending_off == s->out_pending.len) s->out_pending.len = s->out_pending_off = 0;
         if (lr_buf_put(&s->out_pending, hdr, hlen) || lr_buf_put(&s->out_pending, tag.p, tag.len)) {
            result = -1;
            errno = ENOMEM;
            break;
         }
         s->out_remaining = len;
      }
      size_t pend = s->out_pending.len - s->out_pending_off;
      size_t want = total - sent;
      if (s->out_remaining && want > s->out_remaining) want = s->out_remaining;
      int n = 0;
      if (pend) v[n++] = (struct iovec){s->out_pending.p + s->out_pending_off, pend};
      n += iov_slice(v + n, iovcnt, iov, iovcnt, sent, want);
      struct msghdr m = {.msg_iov = v, .msg_iovlen = n};
      ssize_t r = n ? lr_real.sendmsg(fd, &m, flags) : 0;
      if (r < 0) {
         result = sent ? (ssize_t)sent : -1;
         break;
      }
      size_t from_pend = (size_t)r < pend ? (size_t)r : pend;
      s->out_pending_off += from_pend;
      size_t payload = r - from_pend;
      LR_STATS(from_pend, payload);
      if (s->out_remaining) s->out_remaining -= payload;
      sent += payload;
      if (s->out_pending_off == s->out_pending.len) s->out_pending.len = s->out_pending_off = 0;
      if (sent == total) {
         result = sent;
         break;
      }
      if ((size_t)r < pend + want) {
         /* the kernel took less than offered: a non-blocking socket is full, or a signal arrived */
         if (nonblock < 0) nonblock = (flags & MSG_DONTWAIT) || lr_fd_nonblocking(fd);
         if (nonblock || sent) {
            if (sent) result = sent;
            else errno = EAGAIN, result = -1;
            break;
         }
      }
      if (s->out_remaining == 0 && s->out_state != LR_OUT_TAGGED) {
         /* the last frame before switching to untagged is done: the rest goes raw */
         m = (struct msghdr){.msg_iov = v, .msg_iovlen = iov_slice(v, iovcnt, iov, iovcnt, sent, total - sent)};
         r = lr_real.sendmsg(fd, &m, flags);
         if (r > 0) LR_STATS(0, r);
         result = r < 0 ? (ssize_t)sent : (ssize_t)(sent + r);
         break;
      }
   }
   lr_buf_free(&tag);
   if (v != local) free(v);
   pthread_mutex_unlock(&s->out_lock);
   return result;
}

void lr_stream_flush_hello(int fd, struct lr_sock *s)
{
   if (!s->connector || s->out_pending.len == s->out_pending_off) return;
   if (pthread_mutex_trylock(&s->out_lock) != 0) return;
   size_t pend = s->out_pending.len - s->out_pending_off;
   if (pend) {
      ssize_t r = lr_real.send(fd, s->out_pending.p + s->out_pending_off, pend, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (r > 0) {
         s->out_pending_off += r;
         LR_STATS(r, 0);
      }
      if (s->out_pending_off == s->out_pending.len) s->out_pending.len = s->out_pending_off = 0;
   }
   pthread_mutex_unlock(&s->out_lock);
}

void lr_stream_flush_pending_blocking(int fd, struct lr_sock *s)
{
   pthread_mutex_lock(&s->out_lock);
   while (s->out_pending.len > s->out_pending_off) {
      ssize_t r = lr_real.send(fd, s->out_pending.p + s->out_pending_off, s->out_pending.len - s->out_pending_off, MSG_NOSIGNAL);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno == EAGAIN) {
         struct pollfd p = {fd, POLLOUT, 0};
         if (lr_real.poll(&p, 1, 1000) > 0) continue;
      }
      if (r <= 0) break;
      s->out_pending_off += r;
      LR_STATS(r, 0);
   }
   s->out_pending.len = s->out_pending_off = 0;
   pthread_mutex_unlock(&s->out_lock);
}

/* ------------------------------------------------------------------------------------------ receive */

/* The peer's stream has no hello. An accepting side then replies plain. A connecting side keeps tagging:
   it sent its hello, and a librecord server that spoke first and gave up waiting for it replies plain
   yet still reads our hello and frames (switching to raw bytes would desynchronise it). */
static void mark_untagged(struct lr_sock *s, const char *why)
{
   store_state(s, LR_IN_UNTAGGED);
   if (!s->connector) __atomic_store_n(&s->peer_untagged, 1, __ATOMIC_RELEASE);
   if (!s->in_warned) {
      s->in_warned = 1;
      if (s->connector)
         lr_warn("peer %s replies to us untagged (%s): reading its replies plain and still tagging what we send; "
                 "if it does not run librecord it received our hello (check PLANESCOPE_TAG_PEERS)", s->peer_name, why);
      else
         lr_warn("peer %s is not running librecord (%s): talking to it untagged", s->peer_name, why);
   }
}

/* Reads up to need-have tag bytes into dst+have. 1: complete, 0: EOF, -1: error/EAGAIN (errno). */
static int read_exact_part(int fd, uint8_t *dst, size_t *have, size_t need, int flags)
{
   while (*have < need) {
      ssize_t r = lr_real.recv(fd, dst + *have, need - *have, flags);
      if (r == 0) return 0;
      if (r < 0) return -1;
      *have += r;
   }
   return 1;
}

/* Waits up to ms for at least n readable bytes (or EOF) on a blocking socket: 1 when they came. */
static int wait_for_bytes(int fd, int n, int ms)
{
   int old = 1;
   socklen_t ol = sizeof old;
   int have_old = getsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &old, &ol) == 0;
   setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &n, sizeof n); /* poll reports POLLIN only from n bytes on */
   struct pollfd p = {fd, POLLIN, 0};
   int r;
   do r = lr_real.poll(&p, 1, ms); while (r < 0 && errno == EINTR);
   if (have_old) setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &old, sizeof old);
   return r > 0;
}

/* Consumes tag bytes (hello, frame header, tag) until payload can be read (1), the stream turns out
   untagged (1), EOF (0) or an error/EAGAIN (-1). Called with in_lock held. */
static int advance(int fd, struct lr_sock *s, int flags)
{
   int waited = 0;
   for (;;) {
      int st = load_state(s);
      if (st == LR_IN_UNTAGGED) return 1;
      if (st == LR_IN_FRAMES && s->in_remaining > 0) return 1;
      if (st == LR_IN_UNKNOWN) {
         uint8_t tmp[LR_MAGIC_LEN];
         ssize_t r = lr_real.recv(fd, tmp, sizeof tmp, flags | MSG_PEEK);
         if (r == 0) return 0;
         if (r < 0) return -1;
         if (memcmp(tmp, LR_MAGIC, r) != 0) {
            mark_untagged(s, "its stream starts without a hello");
            return 1;
         }
         if (r < LR_MAGIC_LEN) {
            /* a prefix of the magic: wait for the rest (or give up for now if non-blocking). A librecord
               peer sends its whole hello in one send(), so a prefix that stays one is a plain peer's
               data (a first message "\x89P" that waits for a reply must not hang us). */
            if ((flags & MSG_DONTWAIT) || lr_fd_nonblocking(fd)) { errno = EAGAIN; return -1; }
            if (!waited++ && wait_for_bytes(fd, LR_MAGIC_LEN, lr_hello_wait_ms)) continue;
            mark_untagged(s, "its first bytes are only a prefix of the hello magic");
            return 1;
         }
         s->in_hello.len = 0;
         s->in_hello_need = LR_HELLO_FIXED;
         store_state(s, LR_IN_HELLO);
         continue;
      }
      if (st == LR_IN_HELLO) {
         if (lr_buf_reserve(&s->in_hello, LR_HELLO_FIXED + 256)) { errno = ENOMEM; return -1; }
         int rc = read_exact_part(fd, s->in_hello.p, &s->in_hello.len, s->in_hello_need, flags);
         if (rc <= 0) return rc;
         if (s->in_hello_need == LR_HELLO_FIXED) {
            size_t idlen = lr_get16(s->in_hello.p + 10);
            if (idlen > 255) idlen = 255;
            s->in_hello_need += idlen;
            if (idlen) continue;
         }
         size_t idlen = s->in_hello_need - LR_HELLO_FIXED;
         memcpy(s->in_peer, s->in_hello.p + LR_HELLO_FIXED, idlen);
         s->in_peer[idlen] = 0;
         s->in_hdr_have = 0;
         s->in_hdr_need = LR_FRAME_HDR;
         s->in_remaining = 0;
         store_state(s, LR_IN_FRAMES);
         continue;
      }
      /* LR_IN_FRAMES between frames: the header, then the tag */
      if (s->in_hdr_need == 0) s->in_hdr_need = LR_FRAME_HDR;
      if (s->in_hdr_have < s->in_hdr_need) {
         int rc = read_exact_part(fd, s->in_hdr, &s->in_hdr_have, s->in_hdr_need, flags);
         if (rc <= 0) return rc;
         if (s->in_hdr_need == LR_FRAME_HDR) {
            uint8_t kind = s->in_hdr[0];
            if (lr_get16(s->in_hdr + 2) != LR_FRAME_CHECK || (kind != LR_KIND_CLEAN && kind != LR_KIND_TAINTED)) {
               lr_warn("tagged stream from %s is out of step (bad frame header): delivering it raw from here",
                       s->peer_name);
               store_state(s, LR_IN_UNTAGGED);
               errno = EPROTO;
               return -1;
            }
            if (kind == LR_KIND_TAINTED) {
               s->in_hdr_need = LR_FRAME_HDR + 4;
               continue;
            }
            s->in_tag_need = 0;
         } else {
            s->in_tag_need = lr_get32(s->in_hdr + LR_FRAME_HDR);
            s->in_tag.len = 0;
            if (lr_buf_reserve(&s->in_tag, s->in_tag_need)) { errno = ENOMEM; return -1; }
         }
      }
      if (s->in_tag.len < s->in_tag_need) {
         int rc = read_exact_part(fd, s->in_tag.p, &s->in_tag.len, s->in_tag_need, flags);
         if (rc <= 0) return rc;
      }
      /* a complete frame header */
      s->in_msg_id = lr_get32(s->in_hdr + 8);
      s->in_remaining = lr_get32(s->in_hdr + 4);
      s->in_frame_off = 0;
      s->in_tainted = s->in_tag_need > 0;
      if (s->in_tainted && lr_tag_decode(s->in_tag.p, s->in_tag_need, s->in_peer, s->in_msg_id, &s->in_runs) != 0) {
         lr_warn("undecodable taint tag in message %u from %s: its bytes arrive clean", s->in_msg_id, s->in_peer);
         s->in_tainted = 0;
      }
      if (!s->in_tainted && lr_rr_replaying) s->in_tainted = lr_rr_msg_taint(s->in_peer, s->in_msg_id, &s->in_runs);
      s->in_hdr_have = 0;
      s->in_hdr_need = LR_FRAME_HDR;
      s->in_tag_need = 0;
      s->in_tag.len = 0;
   }
}

/* Delivers n payload bytes just read at buf: their taint, and the frame bookkeeping. */
static void delivered(struct lr_sock *s, void *buf, size_t n)
{
   if (s->in_tainted) lr_taint_count_input(lr_taint_apply(&s->in_runs, s->in_frame_off, buf, n));
   s->in_frame_off += n;
   s->in_remaining -= n;
}

static ssize_t peek_stream(int fd, struct lr_sock *s, void *buf, size_t n, int flags);

ssize_t lr_stream_recv(int fd, struct lr_sock *s, void *buf, size_t n, int flags)
{
   if ((flags & MSG_OOB) || n == 0) return lr_real.recv(fd, buf, n, flags);
   lr_stream_flush_hello(fd, s);
   pthread_mutex_lock(&s->in_lock);
   ssize_t result;
   if (s->in_err) {
      errno = s->in_err;
      s->in_err = 0;
      pthread_mutex_unlock(&s->in_lock);
      return -1;
   }
   if (flags & MSG_PEEK) {
      result = peek_stream(fd, s, buf, n, flags & ~MSG_PEEK);
      pthread_mutex_unlock(&s->in_lock);
      return result;
   }
   int waitall = flags & MSG_WAITALL;
   int base = flags & ~(MSG_WAITALL | MSG_TRUNC);
   size_t got = 0;
   for (;;) {
      if (got == n && n > 0) break;
      int rf = base | (got && !waitall ? MSG_DONTWAIT : 0);
      int rc = advance(fd, s, rf);
      if (rc <= 0) {
         if (rc < 0 && got == 0) { result = -1; goto out; }
         /* EOF, or no more bytes right now after some were delivered; a real error waits for the next call */
         if (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EPROTO) s->in_err = errno;
         break;
      }
      if (n == 0) break;
      if (load_state(s) == LR_IN_UNTAGGED) {
         ssize_t r = lr_real.recv(fd, (char *)buf + got, n - got, rf | (waitall ? MSG_WAITALL : 0));
         if (r < 0 && got == 0) { result = -1; goto out; }
         if (r > 0) got += r;
         break;
      }
      size_t want = n - got;
      if (want > s->in_remaining) want = s->in_remaining;
      /* read the frame's payload and, if it ends here, the next header in one call */
      struct iovec v[2] = {{(char *)buf + got, want}, {s->in_hdr, LR_FRAME_HDR}};
      int grab = want == s->in_remaining && got + want < n;
      struct msghdr m = {.msg_iov = v, .msg_iovlen = grab ? 2 : 1};
      ssize_t r = lr_real.recvmsg(fd, &m, rf);
      if (r < 0) {
         if (got == 0) { result = -1; goto out; }
         break;
      }
      if (r == 0) break; /* the connection closed mid-message */
      size_t p = (size_t)r < want ? (size_t)r : want;
      delivered(s, (char *)buf + got, p);
      got += p;
      if ((size_t)r > want) s->in_hdr_have = r - want, s->in_hdr_need = LR_FRAME_HDR;
      if (p < want && !waitall) break;
      if (grab && (size_t)r == want && !waitall) break; /* nothing more was waiting */
   }
   result = got;
out:
   pthread_mutex_unlock(&s->in_lock);
   return result;
}

ssize_t lr_stream_recv_iov(int fd, struct lr_sock *s, const struct iovec *iov, int iovcnt, int flags)
{
   size_t got = 0;
   for (int i = 0; i < iovcnt; i++) {
      if (!iov[i].iov_len) continue;
      int f = flags | (got && !(flags & MSG_WAITALL) ? MSG_DONTWAIT : 0);
      ssize_t r = lr_stream_recv(fd, s, iov[i].iov_base, iov[i].iov_len, f);
      if (r < 0) {
         if (got) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) s->in_err = errno;
            break;
         }
         return -1;
      }
      got += r;
      if ((size_t)r < iov[i].iov_len) break;
   }
   return got;
}

/* MSG_PEEK: the payload bytes that a recv would return, without consuming them. Tag bytes in front of
   the current frame are consumed (they are ours); later frames' tags are parsed from a peeked window. */
static ssize_t peek_stream(int fd, struct lr_sock *s, void *buf, size_t n, int flags)
{
   int rc = advance(fd, s, flags);
   if (rc <= 0) return rc;
   if (load_state(s) == LR_IN_UNTAGGED) return lr_real.recv(fd, buf, n, flags | MSG_PEEK);
   if (n <= s->in_remaining) {
      ssize_t r = lr_real.recv(fd, buf, n, (flags & ~MSG_WAITALL) | MSG_PEEK);
      if (r > 0 && s->in_tainted) lr_taint_apply(&s->in_runs, s->in_frame_off, buf, r);
      return r;
   }
   size_t window = s->in_remaining + (n - s->in_remaining) + 4096;
   uint8_t *w = malloc(window);
   if (!w) { errno = ENOMEM; return -1; }
   ssize_t r = lr_real.recv(fd, w, window, (flags & ~MSG_WAITALL) | MSG_PEEK);
   if (r <= 0) {
      free(w);
      return r;
   }
   size_t got = (size_t)r < s->in_remaining ? (size_t)r : s->in_remaining;
   memcpy(buf, w, got);
   if (s->in_tainted) lr_taint_apply(&s->in_runs, s->in_frame_off, buf, got);
   size_t pos = got;
   struct lr_taint_runs runs = {0};
   while (got < n && pos + LR_FRAME_HDR <= (size_t)r) {
      const uint8_t *h = w + pos;
      if (lr_get16(h + 2) != LR_FRAME_CHECK) break;
      size_t hlen = LR_FRAME_HDR, taglen = 0;
      if (h[0] == LR_KIND_TAINTED) {
         if (pos + LR_FRAME_HDR + 4 > (size_t)r) break;
         taglen = lr_get32(h + LR_FRAME_HDR);
         hlen += 4;
      }
      if (pos + hlen + taglen > (size_t)r) break;
      uint32_t len = lr_get32(h + 4);
      int tainted = taglen && lr_tag_decode(h + hlen, taglen, s->in_peer, lr_get32(h + 8), &runs) == 0;
      if (!taglen && lr_rr_replaying) tainted = lr_rr_msg_taint(s->in_peer, lr_get32(h + 8), &runs);
      size_t start = pos + hlen + taglen;
      size_t avail = (size_t)r - start;
      size_t take = len < avail ? len : avail;
      if (take > n - got) take = n - got;
      memcpy((char *)buf + got, w + start, take);
      if (tainted) lr_taint_apply(&runs, 0, (char *)buf + got, take);
      got += take;
      pos = start + take;
      if (take < len) break;
   }
   lr_runs_free(&runs);
   free(w);
   return got;
}

int lr_stream_readable(int fd, struct lr_sock *s)
{
   lr_stream_flush_hello(fd, s);
   if (pthread_mutex_trylock(&s->in_lock) != 0) return -1;
   int ready = 1;
   if (!s->in_err) {
      int rc = advance(fd, s, MSG_DONTWAIT);
      if (rc < 0) {
         if (errno == EAGAIN || errno == EWOULDBLOCK) ready = 0;
         else if (errno != EPROTO) s->in_err = errno; /* keep it for the application's next recv */
      } else if (rc > 0 && load_state(s) == LR_IN_FRAMES) {
         uint8_t b;
         ssize_t r = lr_real.recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
         ready = !(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
      }
   }
   pthread_mutex_unlock(&s->in_lock);
   return ready;
}

/* Bytes an application read could return now (FIONREAD), at most the current frame's remainder. */
int lr_stream_available(int fd, struct lr_sock *s, int kernel_avail)
{
   if (pthread_mutex_trylock(&s->in_lock) != 0) return kernel_avail;
   int result = kernel_avail;
   if (load_state(s) != LR_IN_UNTAGGED) {
      result = 0;
      if (advance(fd, s, MSG_DONTWAIT) > 0 && load_state(s) == LR_IN_FRAMES) {
         int avail = 0;
         if (lr_real.ioctl(fd, FIONREAD, &avail) == 0)
            result = (uint64_t)avail < s->in_remaining ? avail : (int)s->in_remaining;
      } else if (load_state(s) == LR_IN_UNTAGGED) {
         lr_real.ioctl(fd, FIONREAD, &result);
      }
   }
   pthread_mutex_unlock(&s->in_lock);
   return result;
}
