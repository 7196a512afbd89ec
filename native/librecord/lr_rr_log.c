/* Record/replay log: configuration, the writer (record), the reader with per-thread turns (replay),
   and the reports that end a replay (divergence, end of the recording). Nothing here calls an
   interposed function: raw syscalls only, so the log never records itself. */
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <link.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "lr_rr.h"

#define EXIT_DIVERGED 86 /* planescope replay reads the report file next to the log */
#define EXIT_LOG_END 75

int lr_rr_mode;
int lr_rr_by_reference;

static const char *const kind_names[RR_KIND_MAX] = {
   [RR_HEADER] = "header", [RR_END] = "end",
   [RR_READ] = "read", [RR_READV] = "readv", [RR_RECV] = "recv", [RR_RECVFROM] = "recvfrom",
   [RR_RECVMSG] = "recvmsg", [RR_SEND] = "send", [RR_SENDTO] = "sendto", [RR_SENDMSG] = "sendmsg",
   [RR_WRITE] = "write", [RR_WRITEV] = "writev", [RR_SENDFILE] = "sendfile", [RR_SOCKET] = "socket",
   [RR_CONNECT] = "connect", [RR_ACCEPT] = "accept", [RR_ACCEPT4] = "accept4", [RR_SHUTDOWN] = "shutdown",
   [RR_BIND] = "bind", [RR_LISTEN] = "listen", [RR_GETSOCKNAME] = "getsockname",
   [RR_GETPEERNAME] = "getpeername", [RR_FIONREAD] = "ioctl(FIONREAD)", [RR_POLL] = "poll",
   [RR_PPOLL] = "ppoll", [RR_SELECT] = "select", [RR_PSELECT] = "pselect", [RR_EPOLL_WAIT] = "epoll_wait",
   [RR_EPOLL_PWAIT] = "epoll_pwait", [RR_EPOLL_PWAIT2] = "epoll_pwait2",
   [RR_CLOCK_GETTIME] = "clock_gettime", [RR_GETTIMEOFDAY] = "gettimeofday", [RR_TIME] = "time",
   [RR_GETRANDOM] = "getrandom", [RR_GETPID] = "getpid", [RR_GETPPID] = "getppid",
   [RR_MUTEX_LOCK] = "pthread_mutex_lock", [RR_MUTEX_TRYLOCK] = "pthread_mutex_trylock",
   [RR_MUTEX_UNLOCK] = "pthread_mutex_unlock", [RR_COND_WAIT] = "pthread_cond_wait",
   [RR_COND_WAKE] = "pthread_cond_wait(return)", [RR_COND_SIGNAL] = "pthread_cond_signal",
   [RR_COND_BROADCAST] = "pthread_cond_broadcast", [RR_THREAD_CREATE] = "pthread_create",
   [RR_UDATA_VALUE] = "read(user data)", [RR_UDATA_REF] = "read(user data, by reference)",
   [RR_RECVMSG_REF] = "recvmsg(message by reference)", [RR_EXEC] = "exec",
};

static const char *lr_rr_kind_name(int kind)
{
   return kind > 0 && kind < RR_KIND_MAX && kind_names[kind] ? kind_names[kind] : "?";
}

long lr_rr_write_all(int fd, const void *p, size_t n)
{
   const char *c = p;
   while (n) {
      long r = syscall(SYS_write, fd, c, n);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return -1;
      c += r; n -= (size_t)r;
   }
   return 0;
}

int lr_rr_fd_high(int fd)
{
   int high = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 900);
   if (high < 0) return fd;
   syscall(SYS_close, fd);
   return high;
}

#define say lr_rr_say
void lr_rr_say(const char *fmt, ...)
{
   char line[1024];
   int saved = errno;
   int n = snprintf(line, sizeof line, "librecord[%ld]: ", syscall(SYS_getpid));
   va_list ap;
   va_start(ap, fmt);
   n += vsnprintf(line + n, sizeof line - n, fmt, ap);
   va_end(ap);
   if ((size_t)n > sizeof line - 2) n = sizeof line - 2;
   line[n++] = '\n';
   lr_rr_write_all(2, line, n);
   errno = saved;
}

/* ---- a futex lock (the app's pthread_mutex_lock is interposed by us) ---- */
static int futex(int *uaddr, int op, int val, const struct timespec *ts)
{
   return (int)syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static int log_lock_word;

void lr_rr_lock(void)
{
   int c = 0;
   if (__atomic_compare_exchange_n(&log_lock_word, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
   if (c != 2) c = __atomic_exchange_n(&log_lock_word, 2, __ATOMIC_ACQUIRE);
   while (c != 0) {
      futex(&log_lock_word, FUTEX_WAIT_PRIVATE, 2, NULL);
      c = __atomic_exchange_n(&log_lock_word, 2, __ATOMIC_ACQUIRE);
   }
}

void lr_rr_unlock(void)
{
   if (__atomic_exchange_n(&log_lock_word, 0, __ATOMIC_RELEASE) == 2)
      futex(&log_lock_word, FUTEX_WAKE_PRIVATE, 1, NULL);
}

/* ---- thread ids ---- */
static __thread int my_tid_plus1;
static uint16_t next_tid = 1;

uint16_t lr_rr_tid(void)
{
   if (!my_tid_plus1) my_tid_plus1 = syscall(SYS_gettid) == syscall(SYS_getpid) ? 1 : 0xFFFF;
   return (uint16_t)(my_tid_plus1 - 1);
}

void lr_rr_set_tid(uint16_t tid) { my_tid_plus1 = tid + 1; }

uint16_t lr_rr_new_tid(void) { return __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED); }

/* ---- configuration ---- */
static char log_path[4096];
static int log_fd = -1;
static char *user_data; /* newline-separated patterns */

int lr_rr_user_data(const char *path)
{
   if (!user_data || !*user_data) return 0;
   const char *p = user_data;
   char pat[1024];
   while (*p) {
      const char *e = strchr(p, '\n');
      size_t n = e ? (size_t)(e - p) : strlen(p);
      if (n && n < sizeof pat) {
         memcpy(pat, p, n); pat[n] = 0;
         /* as `planescope run`: * and ? stay within a component; a pattern with ** may cross '/' */
         if (fnmatch(pat, path, strstr(pat, "**") ? 0 : FNM_PATHNAME) == 0) return 1;
      }
      p += n + (e ? 1 : 0);
   }
   return 0;
}

/* ---- own address range (librecord's internal locks are not recorded) ---- */
static uintptr_t self_lo, self_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
   (void)size;
   uintptr_t base = *(uintptr_t *)arg;
   if (info->dlpi_addr != base) return 0;
   for (int i = 0; i < info->dlpi_phnum; i++) {
      const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
      if (ph->p_type != PT_LOAD) continue;
      uintptr_t lo = base + ph->p_vaddr, hi = lo + ph->p_memsz;
      if (!self_lo || lo < self_lo) self_lo = lo;
      if (hi > self_hi) self_hi = hi;
   }
   return 1;
}

int lr_rr_from_self(const void *ret_addr)
{
   uintptr_t a = (uintptr_t)ret_addr;
   return a >= self_lo && a < self_hi;
}

/* ---- build id of the main program ---- */
/* The GNU build-id note of a loaded object, as hex into out (129 bytes). */
static void note_build_id(struct dl_phdr_info *info, char *out)
{
   for (int i = 0; i < info->dlpi_phnum; i++) {
      const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
      if (ph->p_type != PT_NOTE) continue;
      const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
      while (p + 12 <= end) {
         uint32_t namesz, descsz, type;
         memcpy(&namesz, p, 4); memcpy(&descsz, p + 4, 4); memcpy(&type, p + 8, 4);
         const uint8_t *name = p + 12, *desc = name + ((namesz + 3) & ~3u);
         if (desc + descsz > end) break;
         if (type == 3 && namesz == 4 && memcmp(name, "GNU", 4) == 0 && descsz <= 64) {
            for (uint32_t k = 0; k < descsz; k++) sprintf(out + 2 * k, "%02x", desc[k]);
            return;
         }
         p = desc + ((descsz + 3) & ~3u);
      }
   }
}

static int main_build_id(struct dl_phdr_info *info, size_t size, void *arg)
{
   (void)size;
   note_build_id(info, arg);
   return 1; /* only the first object (the program) */
}

/* librecord's own build-id: a replay with another librecord build may diverge where this one would not */
static uintptr_t self_base;
static int self_build_id(struct dl_phdr_info *info, size_t size, void *arg)
{
   (void)size;
   if (info->dlpi_addr != self_base) return 0;
   note_build_id(info, arg);
   return 1;
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
   int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
   if (fd < 0) return 0;
   size_t have = 0;
   for (;;) {
      long r = syscall(SYS_read, fd, buf + have, cap - have);
      if (r <= 0) break;
      have += (size_t)r;
      if (have == cap) break;
   }
   syscall(SYS_close, fd);
   return have;
}

/* ---- record ----
   Records go into a MAP_SHARED window of the log file: a memcpy per record and no system call. The
   page cache owns those pages, so a crash or SIGKILL keeps every record written, as with write(2).
   Aux and data are copied first and the length last, so a record cut short reads as length 0 (the
   end). Windows are reserved with fallocate, so a full disk stops the recording instead of raising
   SIGBUS; a normal exit trims the file to its records, a killed process leaves a zero tail. */
#define WINDOW ((size_t)32 << 20)
static uint8_t *wmap;
static size_t wmap_off, wmap_len, wpos;

static int reserve(size_t need)
{
   if (wmap && wpos + need <= wmap_off + wmap_len) return 0;
   if (wmap) munmap(wmap, wmap_len);
   wmap = NULL;
   size_t off = wpos & ~(size_t)4095;
   size_t len = wpos - off + need;
   if (len < WINDOW) len = WINDOW;
   len = (len + 4095) & ~(size_t)4095;
   if (syscall(SYS_fallocate, log_fd, 0, (off_t)off, (off_t)len) != 0 &&
       (errno != EOPNOTSUPP || syscall(SYS_ftruncate, log_fd, (off_t)(off + len)) != 0))
      return -1;
   void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, log_fd, (off_t)off);
   if (m == MAP_FAILED) return -1;
   /* no readahead on the window's faults: the file is all unwritten extents, and with the disk's
      read_ahead_kb (8 MiB here) the header's first fault zero-filled megabytes of page cache (~4 ms of
      the process's kernel time, measured with perf) for a log that mostly stays below a megabyte */
   madvise(m, len, MADV_RANDOM);
   wmap = m; wmap_off = off; wmap_len = len;
   return 0;
}

static void stop_recording(void)
{
   say("record: cannot write %s: %s; recording stops", log_path, strerror(errno));
   lr_rr_mode = LR_RR_OFF;
   lr_rr_recording = 0;
   lr_rr_uninstall();
}

static void put_bytes(const void *p, size_t n)
{
   if (reserve(n)) { stop_recording(); return; }
   memcpy(wmap + (wpos - wmap_off), p, n);
   wpos += n;
}

/* The data of a record comes as iovecs (the program's receive buffers), copied once into the log. */
static void put_rawv(int kind, int fd, int64_t ret, int err, uint64_t arg, uint32_t flags,
                     const void *aux, size_t aux_len, const struct iovec *dv, int dn, size_t data_len)
{
   struct lr_rr_hdr h = {
      .len = 0, .kind = (uint16_t)kind, .tid = lr_rr_tid(),
      .fd = fd, .err = ret < 0 ? err : 0, .ret = ret, .arg = arg, .aux_len = (uint32_t)aux_len, .flags = flags,
   };
   uint32_t len = (uint32_t)(sizeof h + aux_len + data_len);
   if (reserve(len)) { stop_recording(); return; }
   uint8_t *p = wmap + (wpos - wmap_off);
   memcpy(p, &h, sizeof h);
   if (aux_len) memcpy(p + sizeof h, aux, aux_len);
   size_t at = sizeof h + aux_len, left = data_len;
   for (int i = 0; i < dn && left; i++) {
      size_t k = dv[i].iov_len < left ? dv[i].iov_len : left;
      const uint8_t *src = dv[i].iov_base;
      if (data_len >= (64 << 10)) {
         /* bulk bytes: pwrite copies into the page cache without a page fault per 4 KiB of the window */
         size_t done = 0;
         while (done < k) {
            long r = syscall(SYS_pwrite64, log_fd, src + done, k - done, (off_t)(wpos + at + done));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) { stop_recording(); return; }
            done += (size_t)r;
         }
      } else {
         memcpy(p + at, src, k);
      }
      at += k; left -= k;
   }
   __atomic_signal_fence(__ATOMIC_SEQ_CST); /* the length goes in last */
   memcpy(p, &len, sizeof len);
   wpos += len;
}

static void put_raw(int kind, int fd, int64_t ret, int err, uint64_t arg, uint32_t flags,
                    const void *aux, size_t aux_len, const void *data, size_t data_len)
{
   struct iovec v = {(void *)data, data_len};
   put_rawv(kind, fd, ret, err, arg, flags, aux, aux_len, &v, 1, data_len);
}

/* A normal exit: drop the unused part of the last window. */
static void trim_log(void)
{
   if (log_fd < 0) return;
   if (wmap) munmap(wmap, wmap_len); /* a later record (another thread) maps a fresh window */
   wmap = NULL;
   syscall(SYS_ftruncate, log_fd, (off_t)wpos);
}


void lr_rr_put_locked(int kind, int fd, int64_t ret, int err, uint64_t arg, uint32_t flags,
                      const void *aux, size_t aux_len, const void *data, size_t data_len)
{
   if (lr_rr_mode != LR_RR_RECORD || log_fd < 0) return;
   int saved = errno;
   put_raw(kind, fd, ret, err, arg, flags, aux, aux_len, data, data_len);
   errno = saved;
}

void lr_rr_putv(int kind, int fd, int64_t ret, int err, uint64_t arg, uint32_t flags,
                const void *aux, size_t aux_len, const struct iovec *dv, int dn, size_t skip, size_t data_len)
{
   if (lr_rr_mode != LR_RR_RECORD || log_fd < 0) return;
   struct iovec local[16] = {{0, 0}}, *v = local;
   int n = 0;
   if (dn > 16 && !(v = malloc((size_t)dn * sizeof *v))) return;
   for (int i = 0; i < dn; i++) {
      if (skip >= dv[i].iov_len) { skip -= dv[i].iov_len; continue; }
      v[n++] = (struct iovec){(uint8_t *)dv[i].iov_base + skip, dv[i].iov_len - skip};
      skip = 0;
   }
   int saved = errno;
   lr_rr_lock();
   put_rawv(kind, fd, ret, err, arg, flags, aux, aux_len, v, n, data_len);
   lr_rr_unlock();
   errno = saved;
   if (v != local) free(v);
}

void lr_rr_put(int kind, int fd, int64_t ret, int err, uint64_t arg, uint32_t flags,
               const void *aux, size_t aux_len, const void *data, size_t data_len)
{
   if (lr_rr_mode != LR_RR_RECORD || log_fd < 0) return;
   lr_rr_lock();
   lr_rr_put_locked(kind, fd, ret, err, arg, flags, aux, aux_len, data, data_len);
   lr_rr_unlock();
}

/* The host name as librecord's identity has it (lr_main.c: gethostname, at most 63 bytes). */
static const char *host_name(void)
{
   static char host[64];
   struct utsname u;
   if (!host[0]) snprintf(host, sizeof host, "%.63s", syscall(SYS_uname, &u) == 0 ? u.nodename : "?");
   return host;
}

static void write_header(const char *name, const char *dir)
{
   static char cmd[65536], env[65536], aux[16384], data[sizeof cmd + sizeof env + 4];
   char exe[4096] = "", cwd[4096] = "", bid[129] = "", lrbid[129] = "";
   long n = syscall(SYS_readlink, "/proc/self/exe", exe, sizeof exe - 1);
   if (n > 0) exe[n] = 0;
   if (syscall(SYS_getcwd, cwd, sizeof cwd) < 0) cwd[0] = 0;
   dl_iterate_phdr(main_build_id, bid);
   if (self_base) dl_iterate_phdr(self_build_id, lrbid);
   size_t cl = slurp("/proc/self/cmdline", cmd, sizeof cmd);
   size_t el = slurp("/proc/self/environ", env, sizeof env);
   int al = snprintf(aux, sizeof aux,
                     "name=%s\npid=%ld\nppid=%ld\nexe=%s\nbuild_id=%s\ncwd=%s\ndata=%s\ndir=%s\nstart_ns=%lld\nhost=%s\nlibrecord=%s\n",
                     name, syscall(SYS_getpid), syscall(SYS_getppid), exe, bid, cwd,
                     lr_rr_by_reference ? "reference" : "value", dir, (long long)0, host_name(), lrbid);
   uint32_t c32 = (uint32_t)cl;
   memcpy(data, &c32, 4);
   memcpy(data + 4, cmd, cl);
   memcpy(data + 4 + cl, env, el);
   static const char magic[] = LR_RR_MAGIC;
   put_bytes(magic, LR_RR_MAGIC_LEN);
   put_raw(RR_HEADER, 0, 0, 0, 0, 0, aux, (size_t)al, data, 4 + cl + el);
}

static void open_record_log(void)
{
   const char *dir = getenv("PLANESCOPE_RR_DIR");
   if (!dir || !*dir) { say("record: PLANESCOPE_RR_DIR is not set; not recording"); lr_rr_mode = LR_RR_OFF; return; }
   char exe[4096] = "";
   long n = syscall(SYS_readlink, "/proc/self/exe", exe, sizeof exe - 1);
   if (n > 0) exe[n] = 0;
   const char *base = strrchr(exe, '/');
   base = base ? base + 1 : (*exe ? exe : "process");
   long pid = syscall(SYS_getpid);
   for (int k = 0; k < 100; k++) {
      if (k == 0) snprintf(log_path, sizeof log_path, "%s/%s.%ld.rec", dir, base, pid);
      else snprintf(log_path, sizeof log_path, "%s/%s.%ld-%d.rec", dir, base, pid, k); /* exec kept the pid */
      log_fd = (int)syscall(SYS_openat, AT_FDCWD, log_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (log_fd >= 0 || errno != EEXIST) break;
   }
   if (log_fd < 0) { say("record: cannot create %s: %s; not recording", log_path, strerror(errno)); lr_rr_mode = LR_RR_OFF; return; }
   log_fd = lr_rr_fd_high(log_fd);
   write_header(base, dir);
}

/* A forked child records into a log of its own. */
static void record_after_fork(void)
{
   if (lr_rr_mode != LR_RR_RECORD) return;
   log_lock_word = 0;
   if (wmap) munmap(wmap, wmap_len); /* the parent's window: never write it from here */
   wmap = NULL; wpos = 0;
   syscall(SYS_close, log_fd);
   log_fd = -1;
   lr_rr_set_tid(0);
   open_record_log();
}

/* ---- replay ---- */
static const uint8_t *log_base;
static size_t log_size;
static size_t log_pos;       /* offset of the next record */
static uint64_t log_index;   /* its number (the header is record 0) */
static int turn_seq;         /* bumped at every consumed record: the futex threads wait on */
static char proc_name[4096];

static int rec_complete(size_t pos, const struct lr_rr_hdr **h)
{
   if (pos + sizeof **h > log_size) return 0;
   const struct lr_rr_hdr *x = (const void *)(log_base + pos);
   if (x->len < sizeof *x || pos + x->len > log_size || x->aux_len > x->len - sizeof *x) return 0;
   *h = x;
   return 1;
}

/* The unused, zero-filled end of a recording window (the process did not exit normally). */
static int zero_tail(size_t pos)
{
   for (size_t i = pos; i < log_size; i++) if (log_base[i]) return 0;
   return 1;
}

static void report(const char *status, const char *call, int fd, uint64_t arg, const char *reason, int code)
      __attribute__((noreturn));
static void report(const char *status, const char *call, int fd, uint64_t arg, const char *reason, int code)
{
   char path[4200], text[8192];
   snprintf(path, sizeof path, "%s.%s", log_path, status);
   int n = snprintf(text, sizeof text,
                    "status=%s\nprocess=%s\nthread=%u\ncall=%s\nfd=%d\narg=%llu\nrecord=%llu\noffset=%zu\nreason=%s\n",
                    status, proc_name, lr_rr_tid(), call, fd, (unsigned long long)arg,
                    (unsigned long long)log_index, log_pos, reason);
   void *frames[32];
   int nf = backtrace(frames, 32);
   for (int i = 0; i < nf && n < (int)sizeof text - 300; i++) {
      Dl_info di;
      if (!dladdr(frames[i], &di) || !di.dli_fname) continue;
      if (lr_rr_from_self(frames[i])) continue;
      n += snprintf(text + n, sizeof text - n, "frame=%s\t%lx\t%lx\n", di.dli_fname,
                    (unsigned long)(uintptr_t)frames[i], (unsigned long)(uintptr_t)di.dli_fbase);
   }
   int fd2 = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
   if (fd2 >= 0) { lr_rr_write_all(fd2, text, (size_t)n); syscall(SYS_close, fd2); }
   lr_rr_msg_end();
   say("replay %s: %s (process %s, thread %u, call %s on fd %d, record %llu at byte %zu)", status, reason,
       proc_name, lr_rr_tid(), call, fd, (unsigned long long)log_index, log_pos);
   syscall(SYS_exit_group, code);
   __builtin_unreachable();
}

void lr_rr_diverge(const char *what, int kind, int fd)
{
   report("divergence", lr_rr_kind_name(kind), fd, 0, what, EXIT_DIVERGED);
}

static struct timespec stall_limit = {30, 0};

void lr_rr_next(int kind, int fd, uint64_t arg, uint32_t flags, struct lr_rr_rec *out)
{
   uint16_t me = lr_rr_tid();
   const struct lr_rr_hdr *h;
   struct timespec slice = {1, 0};
   long waited = 0;
   for (;;) {
      int seq = __atomic_load_n(&turn_seq, __ATOMIC_ACQUIRE);
      size_t pos = __atomic_load_n(&log_pos, __ATOMIC_ACQUIRE);
      if (!rec_complete(pos, &h)) {
         char why[256];
         if (pos < log_size && !zero_tail(pos))
            snprintf(why, sizeof why, "the log is truncated: %zu bytes of a partial record after record %llu; replayed up to the truncation",
                     log_size - pos, (unsigned long long)log_index);
         else
            snprintf(why, sizeof why, "end of the recording after record %llu: the recorded process made no further call here (it crashed or was killed)",
                     (unsigned long long)log_index);
         report("end", lr_rr_kind_name(kind), fd, arg, why, EXIT_LOG_END);
      }
      if (h->tid == me) break;
      if (futex(&turn_seq, FUTEX_WAIT_PRIVATE, seq, &slice) != 0 && errno == ETIMEDOUT) {
         if (++waited >= stall_limit.tv_sec) {
            char why[256];
            snprintf(why, sizeof why, "thread %u waited %lds for its turn: the log's next record is %s of thread %u",
                     me, waited, lr_rr_kind_name(h->kind), h->tid);
            report("divergence", lr_rr_kind_name(kind), fd, arg, why, EXIT_DIVERGED);
         }
      } else {
         waited = 0;
      }
   }
   int alias = kind == RR_RECVMSG && h->kind == RR_RECVMSG_REF; /* the same call, payload by reference */
   if ((h->kind != kind && !alias) || h->fd != fd || h->arg != arg || h->flags != flags) {
      char why[512];
      snprintf(why, sizeof why, "the program called %s(fd %d, size/arg %llu, flags %#x) but the log holds %s(fd %d, size/arg %llu, flags %#x)",
               lr_rr_kind_name(kind), fd, (unsigned long long)arg, flags, lr_rr_kind_name(h->kind), h->fd,
               (unsigned long long)h->arg, h->flags);
      report("divergence", lr_rr_kind_name(kind), fd, arg, why, EXIT_DIVERGED);
   }
   out->h = h;
   out->aux = (const uint8_t *)(h + 1);
   out->data = out->aux + h->aux_len;
   out->data_len = h->len - sizeof *h - h->aux_len;
}

void lr_rr_done(void)
{
   const struct lr_rr_hdr *h = (const void *)(log_base + log_pos);
   log_index++;
   __atomic_store_n(&log_pos, log_pos + h->len, __ATOMIC_RELEASE);
   __atomic_add_fetch(&turn_seq, 1, __ATOMIC_RELEASE);
   futex(&turn_seq, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL);
}

int64_t lr_rr_result(const struct lr_rr_rec *r)
{
   if (r->h->ret < 0) errno = r->h->err;
   return r->h->ret;
}

/* The log belongs to the program whose exe its header names. Another program that inherits the
   environment (the shell script /usr/bin/valgrind that execs valgrind.bin, a process started with exec)
   runs with replay off instead of consuming the log. */
static int is_recorded_program(const char *hdr, size_t len)
{
   const char *k = memmem(hdr, len, "\nexe=", 5);
   if (!k) return 1;
   k += 5;
   const char *e = memchr(k, '\n', len - (size_t)(k - hdr));
   size_t kl = e ? (size_t)(e - k) : len - (size_t)(k - hdr);
   char exe[4096];
   long n = syscall(SYS_readlink, "/proc/self/exe", exe, sizeof exe - 1);
   if (n <= 0) return 1;
   if ((size_t)n == kl && memcmp(exe, k, kl) == 0) return 1;
   lr_rr_mode = LR_RR_OFF;
   munmap((void *)log_base, log_size);
   log_base = NULL;
   return 0;
}

static char recorded_host[64];

const char *lr_rr_identity(void)
{
   static char id[sizeof lr_identity + 64];
   const char *at = strrchr(lr_identity, '@');
   if (!recorded_host[0] || !at) return lr_identity;
   snprintf(id, sizeof id, "%.*s@%s", (int)(at - lr_identity), lr_identity, recorded_host);
   return id;
}

static void open_replay_log(void)
{
   const char *p = getenv("PLANESCOPE_RR_LOG");
   if (!p || !*p) { say("replay: PLANESCOPE_RR_LOG is not set"); syscall(SYS_exit_group, 2); }
   snprintf(log_path, sizeof log_path, "%s", p);
   int fd = (int)syscall(SYS_openat, AT_FDCWD, log_path, O_RDONLY | O_CLOEXEC);
   struct stat st;
   if (fd < 0 || fstat(fd, &st) != 0) { say("replay: cannot open %s: %s", log_path, strerror(errno)); syscall(SYS_exit_group, 2); }
   log_size = (size_t)st.st_size;
   void *m = log_size ? mmap(NULL, log_size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
   syscall(SYS_close, fd);
   if (m == MAP_FAILED || log_size < LR_RR_MAGIC_LEN || memcmp(m, LR_RR_MAGIC, LR_RR_MAGIC_LEN) != 0) {
      say("replay: %s is not a Planescope recording (bad magic)", log_path);
      syscall(SYS_exit_group, 2);
   }
   log_base = m;
   log_pos = LR_RR_MAGIC_LEN;
   const struct lr_rr_hdr *h = NULL;
   if (!rec_complete(log_pos, &h) || h->kind != RR_HEADER) { say("replay: %s has no header record", log_path); syscall(SYS_exit_group, 2); }
   const char *slash = strrchr(log_path, '/');
   snprintf(proc_name, sizeof proc_name, "%s", slash ? slash + 1 : log_path);
   char *dot = strstr(proc_name, ".rec");
   if (dot) *dot = 0;
   const char *hdr_text = (const char *)(h + 1);
   if (!is_recorded_program(hdr_text, h->aux_len)) return; /* a wrapper (valgrind's launcher script) */
   lr_rr_by_reference = memmem(hdr_text, h->aux_len, "\ndata=reference\n", 16) != NULL;
   const char *host = memmem(hdr_text, h->aux_len, "\nhost=", 6);
   if (host) {
      host += 6;
      const char *e = memchr(host, '\n', h->aux_len - (size_t)(host - hdr_text));
      size_t hl = e ? (size_t)(e - host) : 0;
      if (hl < sizeof recorded_host) memcpy(recorded_host, host, hl), recorded_host[hl] = 0;
   }
   log_pos += h->len;
   log_index = 1;
   const char *stall = getenv("PLANESCOPE_RR_STALL_S");
   if (stall && atoi(stall) > 0) stall_limit.tv_sec = atoi(stall);
}

/* The child of a fork in replay has no log of its own here: it runs untouched. */
static void replay_after_fork(void)
{
   if (lr_rr_mode == LR_RR_REPLAY) { lr_rr_mode = LR_RR_OFF; lr_rr_uninstall(); }
}

void lr_rr_configure(void)
{
   const char *mode = getenv("PLANESCOPE_RR_MODE");
   if (!mode) return;
   Dl_info di;
   if (dladdr((void *)lr_rr_configure, &di)) {
      uintptr_t base = (uintptr_t)di.dli_fbase;
      self_base = base;
      dl_iterate_phdr(find_self, &base);
   }
   const char *ud = getenv("PLANESCOPE_RR_USER_DATA");
   if (ud) user_data = strdup(ud);
   const char *data = getenv("PLANESCOPE_RR_DATA");
   lr_rr_by_reference = data && strcmp(data, "reference") == 0;
   if (strcmp(mode, "record") == 0) {
      lr_rr_mode = LR_RR_RECORD;
      open_record_log();
      pthread_atfork(NULL, NULL, record_after_fork);
   } else if (strcmp(mode, "replay") == 0) {
      lr_rr_mode = LR_RR_REPLAY;
      open_replay_log();
      if (lr_rr_mode == LR_RR_REPLAY) pthread_atfork(NULL, NULL, replay_after_fork);
   }
}

/* An exec record has arg 0; a failed exec adds one with arg 1, ret -1 and the errno, right after it. */
int lr_rr_before_exec(const char *path)
{
   const char *p = path ? path : "?";
   if (lr_rr_mode == LR_RR_RECORD) {
      int saved = errno;
      lr_rr_lock();
      put_raw(RR_EXEC, 0, 0, 0, 0, 0, NULL, 0, p, strlen(p));
      trim_log();
      lr_rr_unlock();
      errno = saved;
   } else if (lr_rr_mode == LR_RR_REPLAY) {
      struct lr_rr_rec R;
      lr_rr_next(RR_EXEC, 0, 0, 0, &R);
      char why[600];
      snprintf(why, sizeof why, "the recorded process exec'd %.*s here; that program's recording replays on its own",
               (int)(R.data_len < 500 ? R.data_len : 500), (const char *)R.data);
      lr_rr_done();
      const struct lr_rr_hdr *next;
      if (rec_complete(log_pos, &next) && next->kind == RR_EXEC && next->arg == 1 && next->tid == lr_rr_tid()) {
         lr_rr_next(RR_EXEC, 0, 1, 0, &R); /* the recorded exec failed: so does this one */
         int e = R.h->err;
         lr_rr_done();
         errno = e;
         return 1;
      }
      report("exec", "exec", 0, 0, why, 0);
   }
   return 0;
}

void lr_rr_exec_failed(int err)
{
   if (lr_rr_mode == LR_RR_RECORD) lr_rr_put(RR_EXEC, 0, -1, err, 1, 0, NULL, 0, NULL, 0);
   errno = err;
}

/* The end record tells replay that the process exited normally. */
__attribute__((destructor)) static void rr_end(void)
{
   if (lr_rr_mode == LR_RR_RECORD) {
      lr_rr_lock();
      lr_rr_put_locked(RR_END, 0, 0, 0, 0, 0, NULL, 0, NULL, 0);
      trim_log();
      lr_rr_unlock();
   } else if (lr_rr_mode == LR_RR_REPLAY) {
      struct lr_rr_rec r;
      lr_rr_next(RR_END, 0, 0, 0, &r);
      lr_rr_done();
      lr_rr_msg_end();
   }
}
