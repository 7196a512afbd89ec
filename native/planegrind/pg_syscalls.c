/* planegrind sources and I/O accounting. Bytes that read-family syscalls (read, pread64, readv,
   preadv, preadv2) bring in from a file matching a --user-data glob, and pages mmap'd from one, are
   tainted with a label naming the file and the byte range. The file behind an fd is found through
   /proc/self/fd and its offset through lseek(fd, 0, SEEK_CUR) before the read, so dup/dup2/dup3/
   fcntl(F_DUPFD), close and reuse, and fds of any number need no bookkeeping of ours. Every
   read/write/send/recv-family syscall adds its bytes to a counter per channel kind x direction x
   tainted/clean. */
#include "pg_include.h"
#include "pub_tool_libcfile.h"
#include "pub_tool_libcproc.h"
#include "pub_tool_xarray.h"
#include "pub_tool_vki.h"
#include "pub_tool_vkiscnums.h"
#include "pub_tool_threadstate.h"

/* ---- glob matching: * and ? do not cross '/', ** does, [..] classes ---- */
Bool pg_glob_match(const HChar *p, const HChar *s)
{
   for (;;) {
      if (*p == 0) return *s == 0;
      if (p[0] == '*' && p[1] == '*') {
         p += 2;
         if (*p == '/') p++;
         for (const HChar *t = s;; t++) {
            if (pg_glob_match(p, t)) return True;
            if (*t == 0) return False;
         }
      }
      if (*p == '*') {
         p++;
         for (const HChar *t = s;; t++) {
            if (pg_glob_match(p, t)) return True;
            if (*t == 0 || *t == '/') return False;
         }
      }
      if (*s == 0) return False;
      if (*p == '?') {
         if (*s == '/') return False;
      } else if (*p == '[') {
         const HChar *q = p + 1;
         Bool neg = (*q == '!' || *q == '^');
         if (neg) q++;
         Bool hit = False;
         for (Bool first = True; *q && (first || *q != ']'); first = False, q++) {
            if (q[1] == '-' && q[2] && q[2] != ']') {
               if (*s >= q[0] && *s <= q[2]) hit = True;
               q += 2;
            } else if (*q == *s) hit = True;
         }
         if (*q != ']' || hit == neg) return False;
         p = q;
      } else if (*p != *s) {
         return False;
      }
      p++;
      s++;
   }
}

/* Why pat cannot be a glob of files (NULL if it can): an unterminated [..] or a trailing '/' would
   silently match nothing. */
const HChar *pg_glob_error(const HChar *p)
{
   SizeT n = VG_(strlen)(p);
   if (n && p[n - 1] == '/') return "ends with '/': it names a directory, not files (write DIR/* or DIR/**)";
   for (; *p; p++) {
      if (*p != '[') continue;
      const HChar *q = p + 1;
      if (*q == '!' || *q == '^') q++;
      if (*q == ']') q++;   /* a leading ] is a member, as in fnmatch */
      while (*q && *q != ']') q++;
      if (!*q) return "has a '[' without its closing ']' (write [[] for a literal '[')";
      p = q;
   }
   return NULL;
}

static XArray *abs_globs;     /* of HChar*: the globs made absolute against the start directory */

void pg_syscalls_init(void)
{
   abs_globs = VG_(newXA)(VG_(malloc), "pg.globs", VG_(free), sizeof(HChar *));
   const HChar *wd = VG_(get_startup_wd)();
   for (Word i = 0; i < VG_(sizeXA)(pg_clo_user_data); i++) {
      const HChar *g = *(HChar **)VG_(indexXA)(pg_clo_user_data, i);
      HChar *a;
      if (g[0] == '/') a = VG_(strdup)("pg.glob", g);
      else {
         a = PG_MALLOC("pg.glob", VG_(strlen)(wd) + VG_(strlen)(g) + 2);
         VG_(sprintf)(a, "%s/%s", wd, g[0] == '.' && g[1] == '/' ? g + 2 : g);
      }
      VG_(addToXA)(abs_globs, &a);
   }
}

void pg_warn_unmatched_globs(void)
{
   for (Word i = 0; i < VG_(sizeXA)(pg_clo_user_data); i++) {
      if (pg_glob_matched[i]) continue;
      HChar text[1200];
      VG_(snprintf)(text, sizeof text, "--user-data glob '%s' matched no file opened in this run",
                    *(HChar **)VG_(indexXA)(pg_clo_user_data, i));
      pg_log_warning(text);
   }
}

/* The path behind fd if it is a user-data file (marking its glob as matched), else NULL. */
static const HChar *user_data_path(Int fd, HChar *buf, SizeT size)
{
   if (fd < 0 || VG_(sizeXA)(abs_globs) == 0) return NULL;
   HChar link[64];
   VG_(sprintf)(link, "/proc/self/fd/%d", fd);
   SSizeT n = VG_(readlink)(link, buf, size - 1);
   if (n <= 0) return NULL;
   buf[n] = 0;
   if (buf[0] != '/') return NULL;           /* pipe:[..], socket:[..], anon_inode:.. */
   Bool user = False;
   for (Word i = 0; i < VG_(sizeXA)(abs_globs); i++)
      if (pg_glob_match(*(HChar **)VG_(indexXA)(abs_globs, i), buf)) {
         pg_glob_matched[i] = True;
         user = True;
      }
   return user ? buf : NULL;
}

/* ---- I/O accounting ---- */
#define LINUX_MSG_PEEK 0x2 /* recv flag; Valgrind's vki headers do not define it */
enum { K_FILE, K_SOCKET, K_PIPE, K_TTY, K_DEVICE, K_OTHER, N_KINDS };
static const HChar *kind_name[N_KINDS] = { "file", "socket", "pipe", "tty", "device", "other" };
static ULong io[N_KINDS][2][2], io_logged[N_KINDS][2][2];   /* [kind][dir in/out][tainted/clean] */

static Int channel_kind(Int fd)
{
   struct vg_stat st;
   if (VG_(fstat)(fd, &st) != 0) return K_OTHER;
   switch (st.mode & VKI_S_IFMT) {
   case VKI_S_IFREG: return K_FILE;
   case VKI_S_IFSOCK: return K_SOCKET;
   case VKI_S_IFIFO: return K_PIPE;
   case VKI_S_IFBLK: return K_DEVICE;
   case VKI_S_IFCHR: {
      UInt major = (UInt)(((st.rdev >> 8) & 0xfff) | ((st.rdev >> 32) & ~0xfffULL));
      /* ttys (4), the console and ptmx (5), pseudo-terminal slaves (136-143) */
      return (major == 4 || major == 5 || (major >= 136 && major <= 143)) ? K_TTY : K_DEVICE;
   }
   default: return K_OTHER;
   }
}

static void account(Int fd, Int dir, ULong tainted, ULong total)
{
   Int k = channel_kind(fd);
   io[k][dir][0] += tainted;
   io[k][dir][1] += total - tainted;
}

/* tainted bytes among the first `total` bytes of an iovec array */
static ULong iov_tainted(const struct vki_iovec *iov, ULong cnt, ULong total)
{
   ULong t = 0;
   for (ULong i = 0; i < cnt && total > 0; i++) {
      ULong n = iov[i].iov_len < total ? iov[i].iov_len : total;
      t += pg_shadow_get_range((Addr)iov[i].iov_base, n, NULL);
      total -= n;
   }
   return t;
}

void pg_io_flush(void)
{
   for (Int k = 0; k < N_KINDS; k++)
      for (Int d = 0; d < 2; d++) {
         /* clean can go down: librecord marks received bytes tainted after the recv (TAINTED_INPUT),
            and a flush may come in between; the record then says so with a negative delta */
         ULong t = io[k][d][0] - io_logged[k][d][0];
         Long c = (Long)(io[k][d][1] - io_logged[k][d][1]);
         if (!t && !c) continue;
         pg_log_printf("io kind=%s dir=%s tainted=%llu clean=%lld\n", kind_name[k], d ? "out" : "in", t, c);
         io_logged[k][d][0] = io[k][d][0];
         io_logged[k][d][1] = io[k][d][1];
      }
}

/* librecord applies a message's taint after the recv returned: move those bytes to tainted input. */
void pg_io_tainted_socket_input(ULong n)
{
   ULong *counts = io[K_SOCKET][0];
   if (n > counts[1]) n = counts[1];
   counts[0] += n;
   counts[1] -= n;
}

/* the client moved bytes without the syscall (PG_USERREQ__ACCOUNT_IO): the same accounting */
void pg_io_account(Int fd, Int dir, ULong tainted, ULong total) { account(fd, dir, tainted, total); }

/* kernel-side copies (sendfile, splice, copy_file_range; PG_USERREQ__ACCOUNT_COPY): user data moves
   without passing through memory, so planegrind knows only the source (tainted when it is a user-data
   file) and the count, not the taint of the bytes once they are in the destination (a pipe's reader,
   a copied file read back: clean) */
void pg_io_account_copy(Int in_fd, Int out_fd, ULong r)
{
   HChar path[VKI_PATH_MAX];
   Bool user = user_data_path(in_fd, path, sizeof path) != NULL;
   account(in_fd, 0, user ? r : 0, r);
   account(out_fd, 1, user ? r : 0, r);
}

void pg_io_forget(void) { VG_(memcpy)(io_logged, io, sizeof io); }

/* ---- sources ---- */
static void taint_iov(const struct vki_iovec *iov, ULong cnt, ULong total, PG_Label l)
{
   for (ULong i = 0; i < cnt && total > 0; i++) {
      ULong n = iov[i].iov_len < total ? iov[i].iov_len : total;
      pg_shadow_set_range((Addr)iov[i].iov_base, n, l);
      total -= n;
   }
}

Bool pg_exit_seen;
Int  pg_exit_code;
extern void pg_log_before_exec(void);   /* pg_log.c */
extern Int  VG_(fcntl)(Int fd, Int cmd, Addr arg);   /* libcoregrind; not in the tool headers */

/* per-thread: the file offset of the fd before the read in flight */
#define MAX_TIDS 1024
static Long pre_offset[MAX_TIDS];

void pg_pre_syscall(ThreadId tid, UInt sysno, UWord *args, UInt nArgs)
{
   pg_log_maybe_periodic();
   switch (sysno) {
   case __NR_read:
   case __NR_readv:
      if (tid < MAX_TIDS) pre_offset[tid] = VG_(lseek)((Int)args[0], 0, VKI_SEEK_CUR);
      break;
   case __NR_execve:
   case __NR_execveat:
      /* the new image starts its own log (with --trace-children=yes), named after this one */
      pg_log_flush(False);
      pg_log_before_exec();
      break;
   case __NR_exit_group:
      pg_exit_seen = True;
      pg_exit_code = (Int)args[0];
      pg_log_flush(False);
      break;
   default:
      break;
   }
}

static void open_source(const HChar *path, ULong start, ULong len, PG_Label *l)
{
   *l = pg_label_new_file(path, start, start + len);
}

void pg_post_syscall(ThreadId tid, UInt sysno, UWord *args, UInt nArgs, SysRes res)
{
   if (sr_isError(res)) return;
   ULong r = sr_Res(res);
   Int fd = (Int)args[0];
   HChar path[VKI_PATH_MAX];
   PG_Label l;
   switch (sysno) {
   case __NR_open:
   case __NR_openat:
   case __NR_creat:
      user_data_path((Int)r, path, sizeof path);   /* only marks the glob as matched */
      break;

   case __NR_read:
   case __NR_pread64: {
      if (r == 0) break;
      ULong off = sysno == __NR_pread64 ? args[3] : (ULong)(tid < MAX_TIDS ? pre_offset[tid] : 0);
      if (user_data_path(fd, path, sizeof path) && (Long)off >= 0) {
         open_source(path, off, r, &l);
         pg_shadow_set_range(args[1], r, l);
         account(fd, 0, r, r);
      } else {
         account(fd, 0, pg_shadow_get_range(args[1], r, NULL), r);
      }
      break;
   }
   case __NR_readv:
   case __NR_preadv:
   case __NR_preadv2: {
      if (r == 0) break;
      const struct vki_iovec *iov = (const struct vki_iovec *)args[1];
      ULong off = sysno == __NR_readv ? (ULong)(tid < MAX_TIDS ? pre_offset[tid] : 0) : args[3];
      if (sysno == __NR_preadv2 && (Long)args[3] == -1) off = VG_(lseek)(fd, 0, VKI_SEEK_CUR) - r;
      if (user_data_path(fd, path, sizeof path) && (Long)off >= 0) {
         open_source(path, off, r, &l);
         taint_iov(iov, args[2], r, l);
         account(fd, 0, r, r);
      } else {
         account(fd, 0, iov_tainted(iov, args[2], r), r);
      }
      break;
   }
   case __NR_recvfrom:
      if (args[3] & LINUX_MSG_PEEK) break; /* a peek consumes nothing: the later read counts */
      account(fd, 0, pg_shadow_get_range(args[1], r, NULL), r);
      break;
   case __NR_recvmsg: {
      if (args[2] & LINUX_MSG_PEEK) break;
      const struct vki_msghdr *m = (const struct vki_msghdr *)args[1];
      account(fd, 0, iov_tainted(m->msg_iov, m->msg_iovlen, r), r);
      break;
   }
   case __NR_write:
   case __NR_pwrite64:
   case __NR_sendto:
      account(fd, 1, pg_shadow_get_range(args[1], r, NULL), r);
      break;
   case __NR_writev:
   case __NR_pwritev:
   case __NR_pwritev2:
      account(fd, 1, iov_tainted((const struct vki_iovec *)args[1], args[2], r), r);
      break;
   case __NR_sendmsg: {
      const struct vki_msghdr *m = (const struct vki_msghdr *)args[1];
      account(fd, 1, iov_tainted(m->msg_iov, m->msg_iovlen, r), r);
      break;
   }
   case __NR_recvmmsg:
   case __NR_sendmmsg: {
      /* r messages; msg_len = the bytes each one moved */
      Int dir = sysno == __NR_sendmmsg;
      if (!dir && (args[3] & LINUX_MSG_PEEK)) break;
      const struct vki_mmsghdr *mm = (const struct vki_mmsghdr *)args[1];
      for (ULong i = 0; i < r; i++)
         account(fd, dir, iov_tainted(mm[i].msg_hdr.msg_iov, mm[i].msg_hdr.msg_iovlen, mm[i].msg_len), mm[i].msg_len);
      break;
   }
   case __NR_vmsplice: {
      /* memory <-> pipe: into the write end the bytes come from memory (split by their taint); from
         the read end the kernel writes memory (clean, like readv) */
      const struct vki_iovec *iov = (const struct vki_iovec *)args[1];
      Bool out = (VG_(fcntl)(fd, VKI_F_GETFL, 0) & VKI_O_ACCMODE) == VKI_O_WRONLY;
      account(fd, out ? 1 : 0, iov_tainted(iov, args[2], r), r);
      break;
   }
   case __NR_sendfile:
   case __NR_splice:
   case __NR_copy_file_range:
      pg_io_account_copy(sysno == __NR_sendfile ? (Int)args[1] : (Int)args[0], sysno == __NR_sendfile ? (Int)args[0] : (Int)args[2], r);
      break;
   case __NR_mmap: {
      Int mfd = (Int)args[4];
      if (args[3] & VKI_MAP_ANONYMOUS) break;
      if (!user_data_path(mfd, path, sizeof path)) break;
      struct vg_stat st;
      if (VG_(fstat)(mfd, &st) != 0) break;
      ULong off = args[5], len = args[1];
      if (off >= (ULong)st.size) break;
      if (len > (ULong)st.size - off) len = st.size - off;   /* bytes past EOF read as zero: clean */
      open_source(path, off, len, &l);
      pg_shadow_set_range(r, len, l);
      break;
   }
   default:
      break;
   }
}

/* new mappings start clean; file-backed user data is tainted by the mmap post-syscall above */
void pg_new_mem_mmap(Addr a, SizeT len, Bool rr, Bool ww, Bool xx, ULong di_handle)
{
   pg_shadow_set_range(a, len, 0);
}
