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
   Waiting: a receiver waits for a sender named in $PLANESCOPE_RR_TAINT_WAIT (newline-separated
   identities of the senders replaying alongside) until its file holds the message id or an end entry;
   `planescope replay --analyze` appends the end entry when a sender's replay exits, whatever way. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "lr_rr.h"
#include "planegrind.h"

#define MT_MAGIC "PSMT0001"
#define MT_MAGIC_LEN 8
#define MT_ENTRY 24
enum { MT_MESSAGE = 1, MT_END = 2 };

int lr_rr_replaying;

static const char *taint_dir(void)
{
   const char *d = getenv("PLANESCOPE_RR_TAINT_DIR");
   return d && *d ? d : NULL;
}

/* A tiny lock of our own: pthread mutexes are interposed (their order is recorded). */
static int mt_lock_word;
static void mt_lock(void)
{
   while (__atomic_exchange_n(&mt_lock_word, 1, __ATOMIC_ACQUIRE)) syscall(SYS_sched_yield);
}
static void mt_unlock(void) { __atomic_store_n(&mt_lock_word, 0, __ATOMIC_RELEASE); }

static void file_name(char *out, size_t cap, const char *dir, const char *identity)
{
   int n = snprintf(out, cap, "%s/", dir);
   for (const char *p = identity; *p && (size_t)n + 12 < cap; p++) out[n++] = *p == '/' ? '_' : *p;
   snprintf(out + n, cap - (size_t)n, ".msgtaint");
}

static long write_all(int fd, const void *p, size_t n)
{
   const uint8_t *c = p;
   while (n) {
      long r = syscall(SYS_write, fd, c, n);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return -1;
      c += r; n -= (size_t)r;
   }
   return 0;
}

/* ---- sender ---- */
static int out_fd = -2; /* -2: not opened yet, -1: not writing */

static int sender_file(void)
{
   if (out_fd != -2) return out_fd;
   out_fd = -1;
   const char *dir = taint_dir();
   if (!dir || !lr_under_planegrind) return -1;
   char path[4400];
   file_name(path, sizeof path, dir, lr_rr_identity());
   int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
   if (fd < 0) {
      lr_rr_say("replay: warning: cannot write the message taint file %s: %s; receivers will replay this process's messages clean",
              path, strerror(errno));
      return -1;
   }
   int high = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 900); /* away from the program's fd numbers */
   if (high >= 0) { syscall(SYS_close, fd); fd = high; }
   write_all(fd, MT_MAGIC, MT_MAGIC_LEN);
   out_fd = fd;
   return fd;
}

void lr_rr_msg_sent(uint32_t msg_id, size_t len, const struct lr_buf *tag)
{
   mt_lock();
   int fd = sender_file();
   if (fd >= 0) {
      size_t tl = tag ? tag->len : 0;
      uint8_t local[MT_ENTRY + 4096], *e = tl <= 4096 ? local : malloc(MT_ENTRY + tl);
      if (e) {
         uint32_t w[6] = {msg_id, MT_MESSAGE, (uint32_t)len, (uint32_t)((uint64_t)len >> 32), (uint32_t)tl, 0};
         memcpy(e, w, MT_ENTRY);
         if (tl) memcpy(e + MT_ENTRY, tag->p, tl);
         write_all(fd, e, MT_ENTRY + tl);
         if (e != local) free(e);
      }
   }
   mt_unlock();
}

/* A normal end of the sender's replay (a divergence or a crash is closed by `planescope replay`). */
void lr_rr_msg_end(void)
{
   mt_lock();
   if (out_fd >= 0) {
      uint32_t w[6] = {0, MT_END, 0, 0, 0, 0};
      write_all(out_fd, w, MT_ENTRY);
   }
   mt_unlock();
}

/* ---- receiver ---- */
struct peer {
   char identity[256];
   int fd;           /* -1: no file (yet) */
   int waitable;     /* named in PLANESCOPE_RR_TAINT_WAIT */
   int ended;
   int warned;
   uint64_t scanned; /* file offset of the next unread entry */
   /* entries by message id: tag offset in the file + 1 (0: not seen), tag length */
   uint64_t *off;
   uint32_t *tlen;
   size_t cap;
};

static struct peer *peers;
static size_t npeers;

static int in_wait_list(const char *identity)
{
   const char *w = getenv("PLANESCOPE_RR_TAINT_WAIT");
   size_t il = strlen(identity);
   while (w && *w) {
      const char *e = strchr(w, '\n');
      size_t n = e ? (size_t)(e - w) : strlen(w);
      if (n == il && memcmp(w, identity, il) == 0) return 1;
      w = e ? e + 1 : NULL;
   }
   return 0;
}

static struct peer *peer_of(const char *identity)
{
   for (size_t i = 0; i < npeers; i++)
      if (strcmp(peers[i].identity, identity) == 0) return &peers[i];
   struct peer *np = realloc(peers, (npeers + 1) * sizeof *np);
   if (!np) return NULL;
   peers = np;
   struct peer *p = &peers[npeers++];
   memset(p, 0, sizeof *p);
   snprintf(p->identity, sizeof p->identity, "%s", identity);
   p->fd = -1;
   p->waitable = in_wait_list(identity);
   return p;
}

static int remember(struct peer *p, uint32_t id, uint64_t tag_off, uint32_t tl)
{
   if (id >= p->cap) {
      size_t ncap = p->cap ? p->cap : 1024;
      while (ncap <= id) ncap *= 2;
      uint64_t *o = realloc(p->off, ncap * sizeof *o);
      if (!o) return -1;
      p->off = o;
      uint32_t *t = realloc(p->tlen, ncap * sizeof *t);
      if (!t) return -1;
      p->tlen = t;
      memset(p->off + p->cap, 0, (ncap - p->cap) * sizeof *o);
      memset(p->tlen + p->cap, 0, (ncap - p->cap) * sizeof *t);
      p->cap = ncap;
   }
   p->off[id] = tag_off + 1;
   p->tlen[id] = tl;
   return 0;
}

/* Reads the entries appended since the last scan. */
static void scan(struct peer *p)
{
   if (p->fd < 0) {
      const char *dir = taint_dir();
      char path[4400];
      file_name(path, sizeof path, dir, p->identity);
      p->fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
      if (p->fd < 0) return;
      int high = (int)syscall(SYS_fcntl, p->fd, F_DUPFD_CLOEXEC, 900);
      if (high >= 0) { syscall(SYS_close, p->fd); p->fd = high; }
      p->scanned = MT_MAGIC_LEN;
   }
   struct stat st;
   if (syscall(SYS_fstat, p->fd, &st) != 0) return;
   while (p->scanned + MT_ENTRY <= (uint64_t)st.st_size) {
      uint32_t w[6];
      if (syscall(SYS_pread64, p->fd, w, MT_ENTRY, (off_t)p->scanned) != MT_ENTRY) return;
      if (p->scanned + MT_ENTRY + w[4] > (uint64_t)st.st_size) return; /* the tag is still being written */
      if (w[1] == MT_END) p->ended = 1;
      else if (w[1] == MT_MESSAGE) remember(p, w[0], p->scanned + MT_ENTRY, w[4]);
      p->scanned += MT_ENTRY + w[4];
   }
}

static int seen(const struct peer *p, uint32_t id) { return id < p->cap && p->off[id]; }

int lr_rr_msg_taint(const char *identity, uint32_t msg_id, struct lr_taint_runs *runs)
{
   const char *dir = taint_dir();
   if (!dir || !lr_under_planegrind || !*identity) return 0;
   mt_lock();
   struct peer *p = peer_of(identity);
   int tainted = 0;
   if (!p) goto out;
   scan(p);
   /* wait for a sender replaying alongside; a file left by an earlier analysis is complete */
   struct timespec nap = {0, 2000000};
   long stalled_ms = 0, limit_ms = 1000L * (getenv("PLANESCOPE_RR_TAINT_WAIT_S") ? atol(getenv("PLANESCOPE_RR_TAINT_WAIT_S")) : 1800);
   while (!seen(p, msg_id) && !p->ended && (p->fd >= 0 || p->waitable) && stalled_ms < limit_ms) {
      uint64_t before = p->scanned;
      int had = p->fd >= 0;
      syscall(SYS_nanosleep, &nap, NULL);
      scan(p);
      stalled_ms = (p->scanned != before || (p->fd >= 0) != had) ? 0 : stalled_ms + nap.tv_nsec / 1000000;
      if (nap.tv_nsec < 50000000) nap.tv_nsec *= 2;
   }
   if (!seen(p, msg_id)) {
      if (!p->warned++) {
         if (p->fd < 0)
            lr_rr_say("replay: warning: no message taint from %s in %s (it was not replayed with --analyze): its messages replay clean",
                    identity, dir);
         else
            lr_rr_say("replay: warning: the message taint file of %s lacks message %u (its replay stopped before sending it%s): such messages replay clean",
                    identity, msg_id, stalled_ms >= limit_ms ? ", or stalled" : "");
      }
      goto out;
   }
   uint32_t tl = p->tlen[msg_id];
   if (tl) {
      uint8_t *tag = malloc(tl);
      if (tag && syscall(SYS_pread64, p->fd, tag, tl, (off_t)(p->off[msg_id] - 1)) == (long)tl)
         tainted = lr_tag_decode(tag, tl, identity, msg_id, runs) == 0;
      free(tag);
   }
out:
   mt_unlock();
   return tainted;
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
