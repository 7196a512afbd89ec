/* planegrind taint log writer (docs/taint-log.md): a buffered line writer, the header, the module
   table with GNU build-ids, periodic delta flushes and the `end` record. */
#include "pg_include.h"
#include "pub_tool_libcfile.h"
#include "pub_tool_libcproc.h"
#include "pub_tool_options.h"
#include "pub_tool_clientstate.h"
#include "pub_tool_debuginfo.h"
#include "pub_tool_xarray.h"
#include "pub_tool_vki.h"
#include "pg_version.h"
#include <elf.h>

extern ULong        pg_clo_exec_seq;        /* pg_main.c: --exec-seq */
extern const HChar *pg_clo_exec_prev_log;   /* pg_main.c: --exec-prev-log */

static Int    log_fd = -1;
static HChar *log_path;
static HChar  buf[1 << 16];
static UInt   buf_used;
static ULong  flush_seq;
static UInt   last_flush_ms;
static Bool   ended;

static void write_out(void)
{
   UInt done = 0;
   while (done < buf_used) {
      Int n = VG_(write)(log_fd, buf + done, buf_used - done);
      if (n <= 0) break;
      done += n;
   }
   buf_used = 0;
}

static void put(const HChar *s, UInt n)
{
   if (log_fd < 0) return;
   if (buf_used + n > sizeof buf) write_out();
   if (n > sizeof buf) {
      VG_(write)(log_fd, s, n);
      return;
   }
   VG_(memcpy)(buf + buf_used, s, n);
   buf_used += n;
}

void pg_log_printf(const HChar *fmt, ...)
{
   HChar line[1024];
   va_list vargs;
   va_start(vargs, fmt);
   UInt n = VG_(vsnprintf)(line, sizeof line, fmt, vargs);
   va_end(vargs);
   put(line, n < sizeof line ? n : sizeof line - 1);
}

/* " key=<percent-encoded value>" into out (size >= 80); returns its length */
static UInt encode_kv(HChar *out, UInt size, const HChar *key, const HChar *value)
{
   static const HChar hex[] = "0123456789ABCDEF";
   UInt n = 0;
   out[n++] = ' ';
   for (const HChar *k = key; *k && n < 64; k++) out[n++] = *k;
   out[n++] = '=';
   for (const UChar *p = (const UChar *)value; *p && n < size - 4; p++) {
      UChar c = *p;
      if (c <= ' ' || c == '%' || c == '=' || c >= 0x7f) {
         out[n++] = '%';
         out[n++] = hex[c >> 4];
         out[n++] = hex[c & 15];
      } else {
         out[n++] = c;
      }
   }
   return n;
}

void pg_log_kv_str(const HChar *key, const HChar *value)
{
   HChar out[4096];
   put(out, encode_kv(out, sizeof out, key, value));
}

/* ---- modules ---- */

typedef struct { HChar *path; Addr text_avma; PtrdiffT bias; UInt id; } Module;
static XArray *modules;

static Bool pread_all(Int fd, void *b, Int n, Long off)
{
   SysRes r = VG_(pread)(fd, b, n, off);
   return !sr_isError(r) && sr_Res(r) == (UWord)n;
}

/* The GNU build-id of an ELF file, as hex, from its PT_NOTE segments; "-" when it has none. */
static void read_build_id(const HChar *path, HChar *out, SizeT size)
{
   VG_(strcpy)(out, "-");
   SysRes sr = VG_(open)(path, VKI_O_RDONLY, 0);
   if (sr_isError(sr)) return;
   Int fd = sr_Res(sr);
   Elf64_Ehdr eh;
   if (pread_all(fd, &eh, sizeof eh, 0) && VG_(memcmp)(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
       eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phnum < 256) {
      for (UInt i = 0; i < eh.e_phnum; i++) {
         Elf64_Phdr ph;
         if (!pread_all(fd, &ph, sizeof ph, eh.e_phoff + (ULong)i * eh.e_phentsize)) break;
         if (ph.p_type != PT_NOTE || ph.p_filesz > 65536) continue;
         UChar notes[ph.p_filesz];
         if (!pread_all(fd, notes, ph.p_filesz, ph.p_offset)) continue;
         for (ULong o = 0; o + sizeof(Elf64_Nhdr) <= ph.p_filesz;) {
            Elf64_Nhdr *nh = (Elf64_Nhdr *)(notes + o);
            ULong name_at = o + sizeof(Elf64_Nhdr);
            ULong desc_at = name_at + ((nh->n_namesz + 3) & ~3UL);
            if (desc_at + nh->n_descsz > ph.p_filesz) break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                VG_(memcmp)(notes + name_at, "GNU", 4) == 0 && nh->n_descsz * 2 < size) {
               for (UInt k = 0; k < nh->n_descsz; k++)
                  VG_(sprintf)(out + 2 * k, "%02x", notes[desc_at + k]);
               VG_(close)(fd);
               return;
            }
            o = desc_at + ((nh->n_descsz + 3) & ~3UL);
         }
      }
   }
   VG_(close)(fd);
}

static void write_module(Module *m)
{
   HChar id[130];
   read_build_id(m->path, id, sizeof id);
   pg_log_printf("module id=%u build-id=%s", m->id, id);
   pg_log_kv_str("path", m->path);
   pg_log_printf(" bias=0x%lx\n", (Addr)m->bias);
}

UInt pg_module_id(Addr a, Addr *offset_out)
{
   const DebugInfo *di = VG_(find_DebugInfo)(VG_(current_DiEpoch)(), a);
   if (!di) {
      *offset_out = a;
      return 0;
   }
   Addr avma = VG_(DebugInfo_get_text_avma)(di);
   PtrdiffT bias = VG_(DebugInfo_get_text_bias)(di);
   *offset_out = a - bias;
   if (!modules) modules = VG_(newXA)(VG_(malloc), "pg.modules", VG_(free), sizeof(Module));
   for (Word i = 0; i < VG_(sizeXA)(modules); i++) {
      Module *m = VG_(indexXA)(modules, i);
      if (m->text_avma == avma && m->bias == bias) return m->id;
   }
   Module m = { VG_(strdup)("pg.mpath", VG_(DebugInfo_get_filename)(di)), avma, bias,
                (UInt)VG_(sizeXA)(modules) + 1 };
   VG_(addToXA)(modules, &m);
   write_module(&m);
   return m.id;
}

/* ---- header, flushes, end ---- */

static void write_header(void)
{
   pg_log_printf("version v=1\n");
   pg_log_printf("tool name=planegrind version=%s policy=%s\n", PG_VERSION,
                 pg_clo_policy == PG_POLICY_SENSITIVE ? "sensitive" : "insensitive");
   pg_log_printf("process pid=%d ppid=%d", VG_(getpid)(), VG_(getppid)());
   if (pg_clo_exec_seq) pg_log_printf(" exec=%llu", pg_clo_exec_seq);
   pg_log_kv_str("exe", VG_(args_the_exename) ? VG_(args_the_exename) : "");
   struct vki_timeval tv;
   VG_(gettimeofday)(&tv, NULL);   /* wall clock: logs of several processes line up */
   pg_log_printf(" start-ms=%llu", (ULong)tv.tv_sec * 1000 + tv.tv_usec / 1000);
   for (Word i = 0; VG_(args_for_client) && i < VG_(sizeXA)(VG_(args_for_client)); i++)
      pg_log_kv_str("arg", *(HChar **)VG_(indexXA)(VG_(args_for_client), i));
   pg_log_printf("\n");
   for (Word i = 0; i < VG_(sizeXA)(pg_clo_user_data); i++) {
      pg_log_printf("user-data");
      pg_log_kv_str("glob", *(HChar **)VG_(indexXA)(pg_clo_user_data, i));
      pg_log_printf("\n");
   }
   write_out();
}

static Bool open_path(const HChar *path)
{
   SysRes sr = VG_(open)(path, VKI_O_WRONLY | VKI_O_CREAT | VKI_O_TRUNC, 0644);
   if (sr_isError(sr)) {
      VG_(fmsg)("planegrind: cannot write the taint log '%s': %s; choose a writable --taint-log=PATH\n",
                path, VG_(strerror)(sr_Err(sr)));
      return False;
   }
   /* keep the log fd out of the client's way, as the core does with its own files */
   Int fd = VG_(safe_fd)(sr_Res(sr));
   log_fd = fd;
   return True;
}

/* ---- log names: exec'd images and forked children ---- */

static const HChar LOG_EXT[] = ".taintlog";

/* path with suffix inserted before a trailing ".taintlog" (so `*.taintlog` globs still find it), or
   appended */
static HChar *with_suffix(const HChar *path, const HChar *suffix)
{
   SizeT n = VG_(strlen)(path), e = sizeof LOG_EXT - 1;
   HChar *out = PG_MALLOC("pg.logpath", n + VG_(strlen)(suffix) + 1);
   if (n > e && VG_(strcmp)(path + n - e, LOG_EXT) == 0) {
      VG_(memcpy)(out, path, n - e);
      VG_(sprintf)(out + n - e, "%s%s", suffix, LOG_EXT);
   } else {
      VG_(sprintf)(out, "%s%s", path, suffix);
   }
   return out;
}

/* The log of the seq-th exec'd image of a process, named after the log of the image before it:
   app.123.taintlog -> app.123.exec1.taintlog -> app.123.exec2.taintlog. */
static HChar *exec_log_name(const HChar *prev, ULong seq)
{
   HChar *base = VG_(strdup)("pg.logpath", prev);
   SizeT n = VG_(strlen)(base), e = sizeof LOG_EXT - 1;
   SizeT stem = (n > e && VG_(strcmp)(base + n - e, LOG_EXT) == 0) ? n - e : n;
   /* drop the ".execK" of the previous image */
   SizeT d = stem;
   while (d > 0 && base[d - 1] >= '0' && base[d - 1] <= '9') d--;
   if (d < stem && d >= 5 && VG_(strncmp)(base + d - 5, ".exec", 5) == 0)
      VG_(memmove)(base + d - 5, base + stem, n - stem + 1);
   HChar suffix[32];
   VG_(sprintf)(suffix, ".exec%llu", seq);
   HChar *out = with_suffix(base, suffix);
   PG_FREE(base);
   return out;
}

/* The image before the exec stopped here: its log gets `end reason=exec`, written by the new image
   because only it knows that the exec succeeded (execvp tries several paths that fail). */
static void end_previous_image(const HChar *prev, const HChar *next)
{
   SysRes sr = VG_(open)(prev, VKI_O_WRONLY | VKI_O_APPEND, 0);
   if (sr_isError(sr)) return;   /* removed meanwhile: nothing to complete */
   HChar line[4200];
   UInt n = VG_(sprintf)(line, "end reason=exec");
   n += encode_kv(line + n, sizeof line - n - 2, "next", next);
   line[n++] = '\n';
   VG_(write)(sr_Res(sr), line, n);
   VG_(close)(sr_Res(sr));
}

/* Before an execve: tell the image that valgrind starts for the new program (--trace-children=yes)
   its exec number and this log, through the options the core passes on. Replaces the values a
   failed exec (or the exec that started this image) set; value NULL removes the option. */
static void set_exec_option(const HChar *prefix, const HChar *value)
{
   XArray *args = VG_(args_for_valgrind);
   if (!args) return;
   HChar *opt = NULL;
   if (value) {
      opt = PG_MALLOC("pg.execopt", VG_(strlen)(prefix) + VG_(strlen)(value) + 1);
      VG_(sprintf)(opt, "%s%s", prefix, value);
   }
   for (Word i = VG_(args_for_valgrind_noexecpass); i < VG_(sizeXA)(args); i++) {
      HChar **a = VG_(indexXA)(args, i);
      if (VG_(strncmp)(*a, prefix, VG_(strlen)(prefix)) == 0) {
         if (opt) *a = opt;
         else VG_(removeIndexXA)(args, i);
         return;
      }
   }
   if (opt) VG_(addToXA)(args, &opt);
}

void pg_log_before_exec(void)
{
   if (log_fd < 0 || ended) {
      /* no log of ours to follow: the new image names its log from the pattern, not after the log
         of the exec that started this image */
      set_exec_option("--exec-seq=", NULL);
      set_exec_option("--exec-prev-log=", NULL);
      return;
   }
   HChar seq[32];
   VG_(sprintf)(seq, "%llu", pg_clo_exec_seq + 1);
   set_exec_option("--exec-seq=", seq);
   set_exec_option("--exec-prev-log=", log_path);
}

Bool pg_log_open(void)
{
   log_path = pg_clo_exec_prev_log ? exec_log_name(pg_clo_exec_prev_log, pg_clo_exec_seq)
                                   : VG_(expand_file_name)("--taint-log", pg_clo_taint_log);
   if (!open_path(log_path)) return False;
   write_header();
   if (pg_clo_exec_prev_log) end_previous_image(pg_clo_exec_prev_log, log_path);
   last_flush_ms = VG_(read_millisecond_timer)();
   return True;
}

extern void pg_insns_forget(void);
extern void pg_labels_forget(void);
extern void pg_io_forget(void);

void pg_log_after_fork(void)
{
   /* the child writes its own log: same name pattern, its own pid */
   if (log_fd >= 0) VG_(close)(log_fd);
   log_fd = -1;
   buf_used = 0;
   log_path = VG_(expand_file_name)("--taint-log", pg_clo_taint_log);
   if (!VG_(strstr)(pg_clo_taint_log, "%p")) {
      /* the name does not depend on the pid: app.taintlog -> app.<pid>.taintlog */
      HChar suffix[32];
      VG_(sprintf)(suffix, ".%d", VG_(getpid)());
      log_path = with_suffix(log_path, suffix);
   }
   pg_clo_exec_seq = 0;   /* a new pid: its first exec will be .exec1 */
   if (!open_path(log_path)) return;
   if (modules) VG_(deleteXA)(modules);
   modules = NULL;
   pg_insns_forget();
   pg_labels_forget();
   pg_io_forget();
   flush_seq = 0;
   write_header();
}

void pg_log_flush(Bool final)
{
   if (log_fd < 0 || ended) return;
   pg_insns_flush();
   pg_labels_flush();
   pg_io_flush();
   pg_log_printf("flush seq=%llu icount=%llu\n", ++flush_seq, pg_icount());
   write_out();
   last_flush_ms = VG_(read_millisecond_timer)();
}

void pg_log_maybe_periodic(void)
{
   if (VG_(read_millisecond_timer)() - last_flush_ms >= pg_clo_flush_ms) pg_log_flush(False);
}

extern void pg_warn_unmatched_globs(void);

void pg_log_end_exit(Int code)
{
   if (log_fd < 0 || ended) return;
   pg_warn_unmatched_globs();
   pg_log_printf("end reason=exit code=%d icount=%llu\n", code, pg_icount());
   write_out();
   ended = True;
}

void pg_log_end_signal(Int sig)
{
   if (log_fd < 0 || ended) return;
   pg_warn_unmatched_globs();
   pg_log_printf("end reason=signal signal=%d icount=%llu\n", sig, pg_icount());
   write_out();
   ended = True;
}

void pg_log_warning(const HChar *text)
{
   pg_log_printf("warning");
   pg_log_kv_str("text", text);
   pg_log_printf("\n");
   VG_(umsg)("planegrind: warning: %s\n", text);
}
