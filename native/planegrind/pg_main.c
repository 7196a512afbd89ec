/* planegrind: Planescope's taint-flow tool. This file registers the tool with the Valgrind core and
   handles its command-line options; the other concerns live in pg_shadow.c (shadow memory),
   pg_translate.c (VEX instrumentation), pg_insns.c (per-instruction counts), pg_syscalls.c (sources,
   I/O accounting), pg_labels.c (provenance), pg_log.c (the taint log), pg_clreq.c (client requests)
   and pg_monitor.c (gdb monitor commands). */
#include "pg_include.h"
#include "pub_tool_options.h"
#include "pub_tool_xarray.h"
#include "pub_tool_machine.h"
#include "pub_tool_libcproc.h"
#include "pg_version.h"

PG_Policy    pg_clo_policy = PG_POLICY_INSENSITIVE;
const HChar *pg_clo_taint_log = "planegrind.%p.taintlog";
XArray      *pg_clo_user_data;
Bool        *pg_glob_matched;
ULong        pg_clo_flush_ms = 1000;
Int          pg_clo_stop_support = -1;
ULong        pg_clo_exec_seq;          /* set by planegrind itself across an exec (pg_log.c) */
const HChar *pg_clo_exec_prev_log;

extern const HChar *pg_glob_error(const HChar *pat);   /* pg_syscalls.c */

/* Our options that take a value, and what a value looks like: `--user-data GLOB` (a space, not '=')
   gets this hint instead of "Unknown option". */
static const HChar *const value_options[][2] = {
   { "--user-data", "GLOB" }, { "--pointer-policy", "insensitive|sensitive" }, { "--taint-log", "PATH" },
   { "--flush-interval", "MS" }, { "--stop-at-support", "yes|no" },
};

static Bool pg_process_cmd_line_option(const HChar *arg)
{
   const HChar *s;
   for (UInt i = 0; i < sizeof value_options / sizeof value_options[0]; i++)
      if (VG_(strcmp)(arg, value_options[i][0]) == 0)
         VG_(fmsg_bad_option)(arg, "%s needs a value: write %s=%s (with '=')\n", arg, arg, value_options[i][1]);
   if VG_STR_CLO(arg, "--user-data", s) {
      if (!*s) VG_(fmsg_bad_option)(arg, "--user-data needs a glob, e.g. --user-data='data/*'\n");
      const HChar *why = pg_glob_error(s);
      if (why) VG_(fmsg_bad_option)(arg, "the glob '%s' %s\n", s, why);
      HChar *copy = VG_(strdup)("pg.clo", s);
      VG_(addToXA)(pg_clo_user_data, &copy);
   } else if VG_STR_CLO(arg, "--pointer-policy", s) {
      if (VG_(strcmp)(s, "insensitive") == 0) pg_clo_policy = PG_POLICY_INSENSITIVE;
      else if (VG_(strcmp)(s, "sensitive") == 0) pg_clo_policy = PG_POLICY_SENSITIVE;
      else VG_(fmsg_bad_option)(arg, "--pointer-policy must be 'insensitive' or 'sensitive'\n");
   } else if VG_STR_CLO(arg, "--taint-log", pg_clo_taint_log) {
      if (!*pg_clo_taint_log) VG_(fmsg_bad_option)(arg, "--taint-log needs a file name\n");
   } else if VG_BINT_CLO(arg, "--flush-interval", pg_clo_flush_ms, 10, 3600000) {
   } else if VG_BINT_CLO(arg, "--exec-seq", pg_clo_exec_seq, 1, 1000000000) {
   } else if VG_STR_CLO(arg, "--exec-prev-log", pg_clo_exec_prev_log) {
      if (!*pg_clo_exec_prev_log) VG_(fmsg_bad_option)(arg, "--exec-prev-log needs a file name\n");
   } else if VG_STR_CLO(arg, "--stop-at-support", s) {
      if (VG_(strcmp)(s, "yes") == 0) pg_clo_stop_support = 1;
      else if (VG_(strcmp)(s, "no") == 0) pg_clo_stop_support = 0;
      else VG_(fmsg_bad_option)(arg, "--stop-at-support must be 'yes' or 'no'\n");
   } else {
      return False;
   }
   return True;
}

static void pg_print_usage(void)
{
   VG_(printf)(
      "    --user-data=GLOB             bytes read or mapped from files matching GLOB are tainted\n"
      "                                 (repeatable; * ? [..] match within a path component)\n"
      "    --pointer-policy=insensitive|sensitive  does a load through a tainted pointer taint\n"
      "                                 the loaded value? [insensitive]\n"
      "    --taint-log=PATH             write the taint log to PATH (%%p = pid)\n"
      "                                 [planegrind.%%p.taintlog]\n"
      "    --flush-interval=MS          write count deltas to the log every MS ms [1000]\n"
      "    --stop-at-support=yes|no     count instructions exactly for the stop-at monitor\n"
      "                                 command (slower) [yes with --vgdb-error=N, else no]\n");
}

static void pg_print_debug_usage(void) { VG_(printf)("    (none)\n"); }

static void pg_child_after_fork(ThreadId tid) { pg_log_after_fork(); }

static void pg_post_clo_init(void)
{
   UWord n = VG_(sizeXA)(pg_clo_user_data);
   pg_glob_matched = PG_MALLOC("pg.globs", (n ? n : 1) * sizeof(Bool));
   VG_(memset)(pg_glob_matched, 0, (n ? n : 1) * sizeof(Bool));
   /* a debugger that waits for gdb wants exact instruction counts (stop-at, icount) */
   pg_stop_support = pg_clo_stop_support == 1 ||
                     (pg_clo_stop_support == -1 && VG_(clo_vgdb_error) < 999999999);
   /* ... and exact registers at every stop (pg_precise.c) */
   pg_precise_init();
   if (!pg_log_open()) VG_(exit)(1);
   pg_syscalls_init();
   VG_(atfork)(NULL, NULL, pg_child_after_fork);
}

/* Whatever the kernel or the core writes is clean until a source (pg_syscalls.c) says otherwise. */
static void pg_clear_mem(Addr a, SizeT len) { pg_shadow_set_range(a, len, 0); }
static void pg_clear_mem_tid(Addr a, SizeT len, ThreadId tid) { pg_shadow_set_range(a, len, 0); }
static void pg_post_mem_write(CorePart part, ThreadId tid, Addr a, SizeT len) { pg_shadow_set_range(a, len, 0); }
static void pg_post_reg_write(CorePart part, ThreadId tid, PtrdiffT off, SizeT size)
{
   UChar zero[64];
   VG_(memset)(zero, 0, sizeof zero);
   while (size > 0) {
      SizeT n = size < sizeof zero ? size : sizeof zero;
      VG_(set_shadow_regs_area)(tid, 1, off, n, zero);
      off += n;
      size -= n;
   }
}
static void pg_post_reg_write_clientcall(ThreadId tid, PtrdiffT off, SizeT size, Addr f)
{
   pg_post_reg_write(Vg_CoreClientReq, tid, off, size);
}

extern Bool pg_exit_state(Bool *by_signal, Int *value);   /* pg_exitstate.c */

static void pg_fini(Int exitcode)
{
   /* The core passes no exit status here (exitcode is always 0): pg_exitstate.c reads the exit code
      or the fatal signal the core is about to use. If that fails, a process that called exit_group
      exits and any other end is a fatal signal of unknown number (0). */
   Bool by_signal;
   Int value;
   pg_log_flush(True);
   if (pg_exit_state(&by_signal, &value)) {
      if (by_signal) pg_log_end_signal(value);
      else pg_log_end_exit(value);
   } else if (pg_exit_seen) {
      pg_log_end_exit(pg_exit_code);
   } else {
      pg_log_end_signal(0);
   }
}

static void pg_pre_clo_init(void)
{
   VG_(details_name)("planegrind");
   VG_(details_version)(PG_VERSION);
   VG_(details_description)("control/data plane taint analysis (Planescope)");
   VG_(details_copyright_author)("Copyright (C) 2026, the Planescope developers.");
   VG_(details_bug_reports_to)("the Planescope issue tracker");
   VG_(details_avg_translation_sizeB)(640);

   VG_(basic_tool_funcs)(pg_post_clo_init, pg_instrument, pg_fini);
   VG_(needs_command_line_options)(pg_process_cmd_line_option, pg_print_usage, pg_print_debug_usage);
   VG_(needs_client_requests)(pg_handle_client_request);
   VG_(needs_syscall_wrapper)(pg_pre_syscall, pg_post_syscall);

   VG_(track_new_mem_mmap)(pg_new_mem_mmap);
   VG_(track_new_mem_brk)(pg_clear_mem_tid);
   VG_(track_die_mem_munmap)(pg_clear_mem);
   VG_(track_die_mem_brk)(pg_clear_mem);
   VG_(track_copy_mem_remap)(pg_shadow_copy);
   VG_(track_post_mem_write)(pg_post_mem_write);
   VG_(track_post_reg_write)(pg_post_reg_write);
   VG_(track_post_reg_write_clientcall_return)(pg_post_reg_write_clientcall);

   pg_clo_user_data = VG_(newXA)(VG_(malloc), "pg.clo.ud", VG_(free), sizeof(HChar *));
}

VG_DETERMINE_INTERFACE_VERSION(pg_pre_clo_init)
