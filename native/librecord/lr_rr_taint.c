/* Message taint on replay. A replay carries the recorded wire: clean frames, since the recording ran
   natively. Under planegrind, each sender's replay writes the taint of every message it sends (the
   tag the online run would have put on the wire) into its message-taint file,
   $PLANESCOPE_RR_TAINT_DIR/<identity>.msgtaint, and a receiver's replay, when it decodes a frame header
   naming (sender identity, message id), takes the taint from that file. The join key is on the
   recorded wire: hellos carry the sender's identity and frame headers the message id.

   File format (little-endian): "PSMT0001", then entries of 24 bytes + tag:
     u32 msg_id, u32 kind (1 message, 2 end: the sender's replay is over), u64 payload length,
     u32 tag length, u32 0, then the tag (docs/message-tagging.md; empty for a clean message).
   Entries are appended with one write each; readers tolerate a partial last entry.
   The same files, with suffix .payload in PLANESCOPE_RR_PAYLOAD_DIR, carry the payload bytes of the
   sender's messages of at least LR_RR_REF_MIN bytes, for receivers whose recording refers to them.
   Waiting: a receiver waits for a sender named in $PLANESCOPE_RR_TAINT_WAIT (PLANESCOPE_RR_PAYLOAD_WAIT:
   newline-separated identities of the senders replaying alongside) until its file holds the message id
   or an end entry; `planescope replay` appends the end entry when a sender's replay exits, whatever
   way (PLANESCOPE_RR_TAINT_WAIT_S bounds a wait without growth, default 1800 s). Other senders'
   files are taken as they are. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "lr_rr.h"
#include "planegrind.h"

#define MT_MAGIC "PSMT0001"
#define MT_MAGIC_LEN 8
#define MT_ENTRY 24
enum { MT_MESSAGE = 1, MT_END = 2, MT_SKIP = 3 /* a payload that could not be written: readers pass over it */ };

int lr_rr_replaying;
int lr_rr_recording;

/* Tiny locks of our own (pthread mutexes are interposed: their order is recorded): one for the sender
   files, one for the receiver tables, never held while waiting for another process. */
static int out_lock_word, in_lock_word;
static void lock(int *w)
{
   while (__atomic_exchange_n(w, 1, __ATOMIC_ACQUIRE)) syscall(SYS_sched_yield);
}
static void unlock(int *w) { __atomic_store_n(w, 0, __ATOMIC_RELEASE); }

/* Two channels share the format: message taint (.msgtaint, under planegrind, in
   PLANESCOPE_RR_TAINT_DIR) and message payloads (.payload, in PLANESCOPE_RR_PAYLOAD_DIR: the bytes of
   every message of at least LR_RR_REF_MIN bytes, for receivers recorded by reference). */
enum { CH_TAINT, CH_PAYLOAD, CH_N };
static const char *const ch_env[CH_N] = {"PLANESCOPE_RR_TAINT_DIR", "PLANESCOPE_RR_PAYLOAD_DIR"};
static const char *const ch_suffix[CH_N] = {".msgtaint", ".payload"};

static const char *ch_dir(int ch)
{
   const char *d = getenv(ch_env[ch]);
   return d && *d ? d : NULL;
}

static void ch_file(char *out, size_t cap, int ch, const char *identity)
{
   int n = snprintf(out, cap, "%s/", ch_dir(ch));
   for (const char *p = identity; *p && (size_t)n + 12 < cap; p++) out[n++] = *p == '/' ? '_' : *p;
   snprintf(out + n, cap - (size_t)n, "%s", ch_suffix[ch]);
}

/* ---- sender ----
   Payload entries are written through a shared mapping of the file, not with write(2), and read the
   same way: under planegrind a write or read system call would count as file I/O in the taint log
   (Figure 5), which the recorded run never did. An entry's kind goes in last (0 until then). */
static int out_fd[CH_N] = {-2, -2}; /* -2: not opened yet, -1: not writing */
static uint64_t out_size[CH_N];

static int sender_file(int ch)
{
   if (out_fd[ch] != -2) return out_fd[ch];
   out_fd[ch] = -1;
   if (!ch_dir(ch) || (ch == CH_TAINT && !lr_under_planegrind)) return -1;
   char path[4400];
   ch_file(path, sizeof path, ch, lr_rr_identity());
   int flags = ch == CH_PAYLOAD ? O_RDWR : O_WRONLY | O_APPEND;
   int fd = (int)syscall(SYS_openat, AT_FDCWD, path, flags | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
   if (fd < 0) {
      lr_rr_say("replay: warning: cannot write %s: %s; receivers will miss this process's messages", path, strerror(errno));
      return -1;
   }
   fd = lr_rr_fd_high(fd);
   lr_rr_write_all(fd, MT_MAGIC, MT_MAGIC_LEN);
   out_fd[ch] = fd;
   out_size[ch] = MT_MAGIC_LEN;
   return fd;
}

static void put_entry_mapped(int ch, uint32_t msg_id, uint64_t len, const struct iovec *body, int nbody, size_t body_len)
{
   int fd = out_fd[ch];
   uint64_t at = out_size[ch], end = at + MT_ENTRY + body_len, base = at & ~(uint64_t)4095;
   if (syscall(SYS_ftruncate, fd, (off_t)end) != 0) return;
   uint8_t *m = mmap(NULL, end - base, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)base);
   uint32_t w[6] = {msg_id, 0, (uint32_t)len, (uint32_t)(len >> 32), (uint32_t)body_len, 0};
   if (m == MAP_FAILED) {
      /* never shrink the file (a reader's mapping would fault): mark the entry skipped */
      w[1] = MT_SKIP;
      syscall(SYS_pwrite64, fd, w, MT_ENTRY, (off_t)at);
      out_size[ch] = end;
      return;
   }
   uint8_t *e = m + (at - base);
   memcpy(e, w, MT_ENTRY);
   size_t done = 0;
   for (int i = 0; i < nbody && done < body_len; i++) {
      size_t k = body[i].iov_len < body_len - done ? body[i].iov_len : body_len - done;
      memcpy(e + MT_ENTRY + done, body[i].iov_base, k);
      done += k;
   }
   __atomic_store_n((uint32_t *)(e + 4), (uint32_t)MT_MESSAGE, __ATOMIC_RELEASE);
   munmap(m, end - base);
   out_size[ch] = end;
}

static void put_entry(int fd, uint32_t msg_id, uint32_t kind, uint64_t len, const struct iovec *body, int nbody, size_t body_len)
{
   uint32_t w[6] = {msg_id, kind, (uint32_t)len, (uint32_t)(len >> 32), (uint32_t)body_len, 0};
   struct iovec v[1 + 64];
   int n = 0;
   v[n++] = (struct iovec){w, MT_ENTRY};
   for (int i = 0; i < nbody && n < (int)(sizeof v / sizeof v[0]); i++) v[n++] = body[i];
   /* one writev: a reader sees the entry whole or waits (O_APPEND) */
   size_t total = MT_ENTRY + body_len, done = 0;
   while (done < total) {
      long r = syscall(SYS_writev, fd, v, n);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return;
      done += (size_t)r;
      if (done == total) break;
      /* a short write: finish byte-exactly */
      size_t skip = (size_t)r;
      int k = 0;
      while (k < n && skip >= v[k].iov_len) skip -= v[k++].iov_len;
      for (; k < n; k++) {
         if (lr_rr_write_all(fd, (uint8_t *)v[k].iov_base + skip, v[k].iov_len - skip)) return;
         skip = 0;
      }
      return;
   }
}

void lr_rr_msg_sent(uint32_t msg_id, const struct iovec *iov, int iovcnt, size_t len, const struct lr_buf *tag)
{
   lock(&out_lock_word);
   int fd = sender_file(CH_TAINT);
   if (fd >= 0) {
      struct iovec t = {tag ? tag->p : NULL, tag ? tag->len : 0};
      put_entry(fd, msg_id, MT_MESSAGE, len, &t, t.iov_len ? 1 : 0, t.iov_len);
   }
   if (len >= LR_RR_REF_MIN && sender_file(CH_PAYLOAD) >= 0) put_entry_mapped(CH_PAYLOAD, msg_id, len, iov, iovcnt, len);
   unlock(&out_lock_word);
}

/* A normal end of the sender's replay (a divergence or a crash is closed by `planescope replay`). */
void lr_rr_msg_end(void)
{
   lock(&out_lock_word);
   for (int ch = 0; ch < CH_N; ch++) {
      if (out_fd[ch] < 0) continue;
      uint32_t w[6] = {0, MT_END, 0, 0, 0, 0};
      if (ch == CH_PAYLOAD) syscall(SYS_pwrite64, out_fd[ch], w, MT_ENTRY, (off_t)out_size[ch]), out_size[ch] += MT_ENTRY;
      else lr_rr_write_all(out_fd[ch], w, MT_ENTRY);
   }
   unlock(&out_lock_word);
}

/* ---- receiver ---- */
struct peer {
   char identity[256];
   int ch;
   int fd;           /* -1: no file (yet) */
   int waitable;     /* named in PLANESCOPE_RR_TAINT_WAIT (PLANESCOPE_RR_PAYLOAD_WAIT) */
   int ended;
   int warned;
   uint64_t scanned; /* file offset of the next unread entry */
   const uint8_t *map; /* the file, mapped up to map_len */
   size_t map_len;
   /* entries by message id: body offset in the file + 1 (0: not seen), body length */
   uint64_t *off;
   uint32_t *blen;
   size_t cap;
};

static struct peer *peers;
static size_t npeers;

static int in_wait_list(int ch, const char *identity)
{
   const char *w = getenv(ch == CH_TAINT ? "PLANESCOPE_RR_TAINT_WAIT" : "PLANESCOPE_RR_PAYLOAD_WAIT");
   size_t il = strlen(identity);
   while (w && *w) {
      const char *e = strchr(w, '\n');
      size_t n = e ? (size_t)(e - w) : strlen(w);
      if (n == il && memcmp(w, identity, il) == 0) return 1;
      w = e ? e + 1 : NULL;
   }
   return 0;
}

static struct peer *peer_of(int ch, const char *identity)
{
   for (size_t i = 0; i < npeers; i++)
      if (peers[i].ch == ch && strcmp(peers[i].identity, identity) == 0) return &peers[i];
   struct peer *np = realloc(peers, (npeers + 1) * sizeof *np);
   if (!np) return NULL;
   peers = np;
   struct peer *p = &peers[npeers++];
   memset(p, 0, sizeof *p);
   snprintf(p->identity, sizeof p->identity, "%s", identity);
   p->ch = ch;
   p->fd = -1;
   p->waitable = in_wait_list(ch, identity);
   return p;
}

static int remember(struct peer *p, uint32_t id, uint64_t body_off, uint32_t bl)
{
   if (id >= p->cap) {
      size_t ncap = p->cap ? p->cap : 1024;
      while (ncap <= id) ncap *= 2;
      uint64_t *o = realloc(p->off, ncap * sizeof *o);
      if (!o) return -1;
      p->off = o;
      uint32_t *t = realloc(p->blen, ncap * sizeof *t);
      if (!t) return -1;
      p->blen = t;
      memset(p->off + p->cap, 0, (ncap - p->cap) * sizeof *o);
      memset(p->blen + p->cap, 0, (ncap - p->cap) * sizeof *t);
      p->cap = ncap;
   }
   p->off[id] = body_off + 1;
   p->blen[id] = bl;
   return 0;
}

/* Reads the entries appended since the last scan. */
static void scan(struct peer *p)
{
   if (p->fd < 0) {
      char path[4400];
      ch_file(path, sizeof path, p->ch, p->identity);
      p->fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
      if (p->fd < 0) return;
      p->fd = lr_rr_fd_high(p->fd);
      p->scanned = MT_MAGIC_LEN;
   }
   struct stat st;
   if (syscall(SYS_fstat, p->fd, &st) != 0) return;
   size_t size = (size_t)st.st_size;
   if (size > p->map_len) { /* files only grow: map what is there now */
      void *m = mmap(NULL, size, PROT_READ, MAP_SHARED, p->fd, 0);
      if (m == MAP_FAILED) return;
      if (p->map) munmap((void *)p->map, p->map_len);
      p->map = m;
      p->map_len = size;
   }
   while (p->scanned + MT_ENTRY <= p->map_len) {
      uint32_t w[6];
      memcpy(w, p->map + p->scanned, MT_ENTRY);
      w[1] = __atomic_load_n((const uint32_t *)(p->map + p->scanned + 4), __ATOMIC_ACQUIRE);
      if (w[1] == 0) return;                                  /* the entry is still being written */
      if (p->scanned + MT_ENTRY + w[4] > p->map_len) return; /* its body is still being written */
      if (w[1] == MT_END) p->ended = 1;
      else if (w[1] == MT_MESSAGE) remember(p, w[0], p->scanned + MT_ENTRY, w[4]);
      p->scanned += MT_ENTRY + w[4];
   }
}

static int seen(const struct peer *p, uint32_t id) { return id < p->cap && p->off[id]; }

/* Finds message msg_id of identity on a channel, waiting for a sender replaying alongside. Returns the peer with the entry, or NULL. Called with in_lock held;
   sleeps without it. */
static struct peer *lookup(int ch, const char *identity, uint32_t msg_id, int *stalled)
{
   struct peer *p = peer_of(ch, identity);
   *stalled = 0;
   if (!p) return NULL;
   scan(p);
   struct timespec nap = {0, 2000000};
   const char *lim = getenv("PLANESCOPE_RR_TAINT_WAIT_S");
   long stalled_ms = 0, limit_ms = 1000L * (lim && atol(lim) > 0 ? atol(lim) : 1800);
   size_t idx = (size_t)(p - peers);
   /* only a sender replaying alongside is waited for: a file another replay left unfinished (it was
      killed) is taken as it is */
   while (!seen(p, msg_id) && !p->ended && p->waitable && stalled_ms < limit_ms) {
      uint64_t before = p->scanned;
      int had = p->fd >= 0;
      unlock(&in_lock_word);
      syscall(SYS_nanosleep, &nap, NULL);
      lock(&in_lock_word);
      p = &peers[idx]; /* the table may have grown meanwhile */
      scan(p);
      stalled_ms = (p->scanned != before || (p->fd >= 0) != had) ? 0 : stalled_ms + nap.tv_nsec / 1000000;
      if (nap.tv_nsec < 50000000) nap.tv_nsec *= 2;
   }
   *stalled = stalled_ms >= limit_ms;
   return seen(p, msg_id) ? p : NULL;
}

int lr_rr_msg_taint(const char *identity, uint32_t msg_id, struct lr_taint_runs *runs)
{
   if (!ch_dir(CH_TAINT) || !lr_under_planegrind || !*identity) return 0;
   lock(&in_lock_word);
   int stalled, tainted = 0;
   struct peer *p = lookup(CH_TAINT, identity, msg_id, &stalled);
   if (!p) {
      p = peer_of(CH_TAINT, identity);
      if (p && !p->warned++) {
         if (p->fd < 0)
            lr_rr_say("replay: warning: no message taint from %s in %s (it was not replayed with --analyze): its messages replay clean",
                      identity, ch_dir(CH_TAINT));
         else
            lr_rr_say("replay: warning: the message taint file of %s lacks message %u (its replay stopped before sending it%s): such messages replay clean",
                      identity, msg_id, stalled ? ", or stalled" : "");
      }
   } else if (p->blen[msg_id]) {
      tainted = lr_tag_decode(p->map + p->off[msg_id] - 1, p->blen[msg_id], identity, msg_id, runs) == 0;
   }
   unlock(&in_lock_word);
   return tainted;
}

int lr_rr_msg_payload(const char *identity, uint32_t msg_id, uint64_t off, void *dst, size_t n, char *why, size_t why_cap)
{
   if (!ch_dir(CH_PAYLOAD)) {
      snprintf(why, why_cap, "message %u from %s was recorded by reference (its payload is in the sender's recording): replay the sender alongside (`planescope replay DIR` does)",
               msg_id, identity);
      return -1;
   }
   lock(&in_lock_word);
   int stalled, rc = -1;
   struct peer *p = lookup(CH_PAYLOAD, identity, msg_id, &stalled);
   if (!p) {
      snprintf(why, why_cap, "message %u from %s was recorded by reference and its sender's replay did not regenerate it (%s): replay the sender's recording alongside",
               msg_id, identity, stalled ? "it stalled" : "no such message in its payload file");
   } else if (off + n > p->blen[msg_id]) {
      snprintf(why, why_cap, "message %u from %s has %u payload bytes in the sender's replay, the recording reads up to byte %llu",
               msg_id, identity, p->blen[msg_id], (unsigned long long)(off + n));
   } else {
      memcpy(dst, p->map + p->off[msg_id] - 1 + off, n);
      rc = 0;
   }
   unlock(&in_lock_word);
   return rc;
}

/* ---- by-value user data under analysis: the log's bytes, the real read's taint ---- */
void lr_rr_copy_keep_taint(void *dst, const void *src, size_t n, size_t real_n)
{
   if (!lr_under_planegrind || !n) { memcpy(dst, src, n); return; }
   enum { SLICE = 4096 };
   static __thread uint32_t labels[SLICE];
   uint32_t last = 0;
   for (size_t off = 0; off < n; off += SLICE) {
      size_t k = n - off < SLICE ? n - off : SLICE;
      size_t have = off < real_n ? (real_n - off < k ? real_n - off : k) : 0;
      if (!have || PLANEGRIND_GET_TAINT((uint8_t *)dst + off, have, labels) == 0) memset(labels, 0, have * sizeof *labels);
      if (have) last = labels[have - 1];
      for (size_t i = have; i < k; i++) labels[i] = last; /* bytes the file no longer has */
      memcpy((uint8_t *)dst + off, (const uint8_t *)src + off, k);
      int any = 0;
      for (size_t i = 0; i < k && !any; i++) any = labels[i] != 0;
      PLANEGRIND_SET_TAINT((uint8_t *)dst + off, k, any ? labels : NULL);
   }
}
