/* UDP message tagging: every datagram carries a 16-byte prefix (magic, kind, message id, and under
   planegrind the sender's identity and the taint tag). The receiver peeks at the prefix and strips it;
   a datagram without the magic came from a peer not running librecord and is delivered unchanged. A
   sender prefixes only datagrams to destinations that run librecord: known from their datagrams, or
   asked once per destination before the first (lr_peers.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "lr.h"

#define IOV_LOCAL 64

static int same_addr(const struct sockaddr_storage *a, const void *b, socklen_t blen)
{
   const struct sockaddr *sb = b;
   if (blen < sizeof(sa_family_t) || a->ss_family != sb->sa_family) return 0;
   if (sb->sa_family == AF_INET) {
      const struct sockaddr_in *x = (const void *)a, *y = b;
      return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
   }
   if (sb->sa_family == AF_INET6) {
      const struct sockaddr_in6 *x = (const void *)a, *y = b;
      return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
   }
   return 0;
}

/* The cached verdict for a peer: 1 tagged, 0 untagged, -1 unknown. Caller holds in_lock. */
static int cached(struct lr_sock *s, const void *addr, socklen_t len)
{
   for (int i = 0; i < s->dg_n; i++)
      if (same_addr(&s->dg_peer[i], addr, len)) return s->dg_tagged[i];
   return -1;
}

/* Records a verdict; returns the previous one (-1 when the peer was new). Caller holds in_lock. */
static int remember(struct lr_sock *s, const void *addr, socklen_t len, int tagged)
{
   for (int i = 0; i < s->dg_n; i++)
      if (same_addr(&s->dg_peer[i], addr, len)) {
         int old = s->dg_tagged[i];
         s->dg_tagged[i] = (int8_t)tagged;
         return old;
      }
   int cap = (int)(sizeof s->dg_peer / sizeof s->dg_peer[0]);
   int i = s->dg_n < cap ? s->dg_n++ : (s->dg_next++ % cap);
   memset(&s->dg_peer[i], 0, sizeof s->dg_peer[i]);
   memcpy(&s->dg_peer[i], addr, len < sizeof s->dg_peer[i] ? len : sizeof s->dg_peer[i]);
   s->dg_tagged[i] = (int8_t)tagged;
   return -1;
}

/* Does this destination run librecord? Known from its own datagrams, else asked once (lr_peers.c). */
static int dest_tagged(int fd, struct lr_sock *s, const struct msghdr *msg)
{
   struct sockaddr_storage peer;
   const void *dest = msg->msg_name;
   socklen_t len = msg->msg_namelen;
   if (!dest) {
      len = sizeof peer;
      if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0) return 0; /* the send will fail: ENOTCONN */
      dest = &peer;
   }
   pthread_mutex_lock(&s->in_lock);
   int v = cached(s, dest, len);
   pthread_mutex_unlock(&s->in_lock);
   if (v >= 0) return v;
   v = lr_peer_runs_librecord(0, dest, len);
   pthread_mutex_lock(&s->in_lock);
   if (cached(s, dest, len) < 0) remember(s, dest, len, v);
   pthread_mutex_unlock(&s->in_lock);
   return v;
}

/* A datagram from this peer said whether it runs librecord. Caller holds in_lock. */
static void learned(struct lr_sock *s, const struct sockaddr_storage *from, socklen_t len, int tagged)
{
   int old = remember(s, from, len, tagged);
   if (tagged || old == 0) return;
   char who[INET6_ADDRSTRLEN + 8];
   lr_addr_describe(from, who, sizeof who);
   lr_warn("datagram peer %s is not running librecord (untagged datagram): datagrams to it go untagged", who);
}

ssize_t lr_dgram_send(int fd, struct lr_sock *s, const struct msghdr *msg, int flags)
{
   if (!dest_tagged(fd, s, msg)) return lr_real.sendmsg(fd, msg, flags);
   size_t total = lr_iov_total(msg->msg_iov, msg->msg_iovlen);
   struct lr_buf tag = {0};
   lr_tag_build_iov(msg->msg_iov, msg->msg_iovlen, total, &tag);
   uint32_t id = lr_next_msg_id();
   /* record/replay: every datagram names its sender, so a replay can take its taint by message id */
   int rr = lr_rr_recording || lr_rr_replaying;
   const char *ident = rr ? lr_rr_identity() : lr_identity;
   if (lr_rr_replaying) lr_rr_msg_sent(id, msg->msg_iov, (int)msg->msg_iovlen, total, &tag), tag.len = 0;
   size_t idlen = tag.len || rr ? strlen(ident) : 0;
   uint8_t hdr[LR_DGRAM_HDR];
   lr_put32(hdr, LR_DGRAM_MAGIC);
   hdr[4] = tag.len ? LR_KIND_TAINTED : LR_KIND_CLEAN;
   hdr[5] = 0;
   lr_put16(hdr + 6, (uint16_t)idlen);
   lr_put32(hdr + 8, id);
   lr_put32(hdr + 12, (uint32_t)tag.len);

   struct iovec local[IOV_LOCAL + 3], *v = local;
   if (msg->msg_iovlen > IOV_LOCAL) v = malloc((msg->msg_iovlen + 3) * sizeof *v);
   if (!v) { lr_buf_free(&tag); errno = ENOMEM; return -1; }
   int n = 0;
   v[n++] = (struct iovec){hdr, sizeof hdr};
   if (idlen) v[n++] = (struct iovec){(void *)ident, idlen};
   if (tag.len) v[n++] = (struct iovec){tag.p, tag.len};
   for (size_t i = 0; i < msg->msg_iovlen; i++) v[n++] = msg->msg_iov[i];
   struct msghdr m = *msg;
   m.msg_iov = v;
   m.msg_iovlen = n;
   ssize_t r = lr_real.sendmsg(fd, &m, flags);
   size_t prefix = sizeof hdr + idlen + tag.len;
   lr_buf_free(&tag);
   if (v != local) free(v);
   if (r < 0) return r;
   LR_STATS(prefix, (size_t)r >= prefix ? r - prefix : 0);
   return (size_t)r >= prefix ? (ssize_t)(r - prefix) : 0;
}

/* Copies src into the iovecs (as far as they reach) and applies the taint; returns bytes copied and
   adds the number of bytes that got a label to *tainted. */
static size_t scatter(const struct msghdr *msg, const uint8_t *src, size_t n, struct lr_taint_runs *runs, size_t *tainted)
{
   size_t done = 0;
   for (size_t i = 0; i < msg->msg_iovlen && done < n; i++) {
      size_t take = msg->msg_iov[i].iov_len < n - done ? msg->msg_iov[i].iov_len : n - done;
      memcpy(msg->msg_iov[i].iov_base, src + done, take);
      if (runs) *tainted += lr_taint_apply(runs, done, msg->msg_iov[i].iov_base, take);
      done += take;
   }
   return done;
}

ssize_t lr_dgram_recv(int fd, struct lr_sock *s, struct msghdr *msg, int flags)
{
   pthread_mutex_lock(&s->in_lock);
   ssize_t result;
   uint8_t hdr[LR_DGRAM_HDR];
   struct iovec hv = {hdr, sizeof hdr};
   struct sockaddr_storage from;
   struct msghdr pm = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &hv, .msg_iovlen = 1};
   ssize_t full = lr_real.recvmsg(fd, &pm, MSG_PEEK | MSG_TRUNC | (flags & MSG_DONTWAIT));
   if (full < 0) { result = -1; goto out; }
   int tagged = (size_t)full >= sizeof hdr && lr_get32(hdr) == LR_DGRAM_MAGIC;
   if (pm.msg_namelen && !(flags & MSG_PEEK)) learned(s, &from, pm.msg_namelen, tagged);
   if (!tagged) {
      result = lr_real.recvmsg(fd, msg, flags); /* an untagged datagram */
      goto out;
   }
   size_t idlen = lr_get16(hdr + 6), taglen = lr_get32(hdr + 12);
   size_t prefix = sizeof hdr + idlen + taglen;
   size_t cap = lr_iov_total(msg->msg_iov, msg->msg_iovlen);
   if (hdr[4] == LR_KIND_CLEAN && !(flags & MSG_PEEK) && prefix == sizeof hdr) {
      /* the common case: prefix into our buffer, payload straight into the caller's */
      struct iovec local[IOV_LOCAL + 1], *v = local;
      if (msg->msg_iovlen > IOV_LOCAL) v = malloc((msg->msg_iovlen + 1) * sizeof *v);
      if (!v) { errno = ENOMEM; result = -1; goto out; }
      v[0] = hv;
      for (size_t i = 0; i < msg->msg_iovlen; i++) v[i + 1] = msg->msg_iov[i];
      struct msghdr m = *msg;
      m.msg_iov = v;
      m.msg_iovlen = msg->msg_iovlen + 1;
      ssize_t r = lr_real.recvmsg(fd, &m, flags);
      if (v != local) free(v);
      if (r < 0) { result = -1; goto out; }
      msg->msg_namelen = m.msg_namelen;
      msg->msg_controllen = m.msg_controllen;
      msg->msg_flags = m.msg_flags;
      result = (size_t)r >= sizeof hdr ? r - (ssize_t)sizeof hdr : 0;
      goto out;
   }
   /* tainted, or a peek: the whole datagram into a scratch buffer */
   uint8_t *w = malloc(full);
   if (!w) { errno = ENOMEM; result = -1; goto out; }
   struct iovec wv = {w, full};
   struct msghdr m = *msg;
   m.msg_iov = &wv;
   m.msg_iovlen = 1;
   ssize_t r = lr_real.recvmsg(fd, &m, flags & ~MSG_TRUNC);
   if (r < 0 || (size_t)r < prefix) {
      free(w);
      result = r < 0 ? -1 : 0;
      goto out;
   }
   char peer[256];
   size_t pl = idlen < sizeof peer - 1 ? idlen : sizeof peer - 1;
   memcpy(peer, w + sizeof hdr, pl);
   peer[pl] = 0;
   struct lr_taint_runs runs = {0};
   int tainted = taglen && lr_tag_decode(w + sizeof hdr + idlen, taglen, peer, lr_get32(hdr + 8), &runs) == 0;
   if (!taglen && lr_rr_replaying && pl) tainted = lr_rr_msg_taint(peer, lr_get32(hdr + 8), &runs);
   size_t payload = r - prefix;
   size_t tainted_bytes = 0;
   size_t copied = scatter(msg, w + prefix, payload, tainted ? &runs : NULL, &tainted_bytes);
   if (!(flags & MSG_PEEK)) lr_taint_count_input(tainted_bytes);
   lr_runs_free(&runs);
   free(w);
   msg->msg_namelen = m.msg_namelen;
   msg->msg_controllen = m.msg_controllen;
   msg->msg_flags = m.msg_flags | (payload > cap ? MSG_TRUNC : 0);
   result = (flags & MSG_TRUNC) ? (ssize_t)payload : (ssize_t)copied;
out:
   pthread_mutex_unlock(&s->in_lock);
   return result;
}
