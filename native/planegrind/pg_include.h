/* planegrind: declarations shared by the pg_*.c files (one concern a file, like memcheck's mc_*.c). */
#ifndef PG_INCLUDE_H
#define PG_INCLUDE_H

#include "pub_tool_basics.h"
#include "pub_tool_tooliface.h"
#include "pub_tool_libcassert.h"
#include "pub_tool_libcbase.h"
#include "pub_tool_libcprint.h"
#include "pub_tool_mallocfree.h"

/* ---- options (pg_main.c) ---- */
typedef enum { PG_POLICY_INSENSITIVE = 0, PG_POLICY_SENSITIVE = 1 } PG_Policy;
extern PG_Policy     pg_clo_policy;
extern const HChar  *pg_clo_taint_log;      /* --taint-log=PATH (%p = pid), unexpanded */
extern XArray       *pg_clo_user_data;      /* of HChar*: --user-data globs */
extern Bool         *pg_glob_matched;       /* per glob: matched a file opened in this run */
extern ULong         pg_clo_flush_ms;       /* --flush-interval=MS */

/* ---- labels (pg_labels.c) ---- */
typedef UInt PG_Label;                      /* 0 = clean */
PG_Label pg_label_new_file(const HChar *path, ULong start, ULong end);
PG_Label pg_label_new_msg(const HChar *peer, ULong msg, const HChar *origin);
PG_Label pg_label_merge(PG_Label a, PG_Label b);
/* the label of a provenance pair as instrumented code carries it (pg_translate.c): 0 = none */
PG_Label pg_label_of_pair(ULong pair);
Bool     pg_label_exists(PG_Label l);
/* The provenance text of a label (one line, as NEW_MSG_LABEL takes as origin); returns its length. */
SizeT    pg_label_describe(PG_Label l, HChar *buf, SizeT size);
/* Multi-line provenance chain (for the monitor command), via gdb_printf. */
void     pg_label_print_chain(PG_Label l);
/* Writes label records not yet written to the log. */
void     pg_labels_flush(void);
UInt     pg_labels_count(void);

/* The label of the last tainted load (or SET_TAINT): what tainted bytes get when the value's own
   provenance is unknown (see docs/planegrind.md, Labels). */
extern PG_Label pg_cur_label;

/* ---- shadow memory (pg_shadow.c) ---- */
void     pg_shadow_set_range(Addr a, SizeT len, PG_Label label);   /* label 0 clears */
PG_Label pg_shadow_get(Addr a);                                   /* a byte's label, 0 = clean */
/* Per-byte labels of [a, a+len) into out (may be NULL); returns the number of tainted bytes. */
SizeT    pg_shadow_get_range(Addr a, SizeT len, UInt *out);
Bool     pg_shadow_any(Addr a, SizeT len);
void     pg_shadow_copy(Addr from, Addr to, SizeT len);
ULong    pg_shadow_bytes_allocated(void);

/* helpers called from instrumented code (V-bits: one byte per byte, non-zero = tainted). Loads of
   1, 2, 4 bytes return the label of the tainted bytes in the high 32 bits; 8-byte loads put it in
   pg_ld_label. Stores take the value's provenance pair (pg_label_of_pair).
   The instruction's label (PG_Insn.label) is set on the tainted paths. sa, ahi: the address's shadow
   and label, for the tainted pointer site the access is when sa != 0 (insensitive policy). */
typedef struct _PG_Insn PG_Insn;
VG_REGPARM(2) ULong pg_load1(Addr a, PG_Insn *in, ULong sa, ULong ahi);
VG_REGPARM(2) ULong pg_load2(Addr a, PG_Insn *in, ULong sa, ULong ahi);
VG_REGPARM(2) ULong pg_load4(Addr a, PG_Insn *in, ULong sa, ULong ahi);
VG_REGPARM(2) ULong pg_load8(Addr a, PG_Insn *in, ULong sa, ULong ahi);
extern UInt pg_ld_label;
VG_REGPARM(2) void  pg_load16(V128 *res, Addr a, PG_Insn *in, ULong sa, ULong ahi);   /* label: pg_ld_label */
VG_REGPARM(2) void  pg_load32(V256 *res, Addr a, PG_Insn *in, ULong sa, ULong ahi);
VG_REGPARM(3) void  pg_store16(Addr a, ULong q0, ULong q1, ULong pair);
VG_REGPARM(3) void  pg_store32(Addr a, ULong q0, ULong q1, ULong q2, ULong q3, ULong pair);
VG_REGPARM(3) void  pg_store1(Addr a, ULong v, ULong pair, PG_Insn *in, ULong sa, ULong ahi);
VG_REGPARM(3) void  pg_store2(Addr a, ULong v, ULong pair, PG_Insn *in, ULong sa, ULong ahi);
VG_REGPARM(3) void  pg_store4(Addr a, ULong v, ULong pair, PG_Insn *in, ULong sa, ULong ahi);
VG_REGPARM(3) void  pg_store8(Addr a, ULong v, ULong pair, PG_Insn *in, ULong sa, ULong ahi);
VG_REGPARM(3) void  pg_store_range(Addr a, ULong len, ULong tainted, ULong pair);
VG_REGPARM(2) ULong pg_load_any(Addr a, ULong len);

/* ---- static instructions and pointer sites (pg_insns.c) ---- */
struct _PG_Insn {
   Addr     addr;             /* key: guest address */
   ULong    execs;            /* executions not yet written to the log */
   ULong    tainted;          /* tainted executions, cumulative */
   ULong    tainted_logged;   /* ... already written */
   ULong    site_load, site_load_logged, site_store, site_store_logged;
   PG_Label site_label;
   PG_Label seg_label;        /* largest source label of the data its segment last touched when tainted */
   PG_Label label;            /* label of the tainted data it last loaded or stored (memory helpers) */
   PG_Label label_out;        /* the label for the next log record */
   PG_Insn *next_dirty;       /* has something to flush */
   Bool     dirty;
};
typedef struct {
   ULong     count;           /* incremented by instrumented code */
   ULong     logged;
   UInt      n;
   PG_Insn **insns;
   ULong    *atoms_of;        /* per instruction: the taint tests (bits of a run's mask) its taint is the OR of */
   /* tainted executions not yet added to the instructions: every run since run number t_base had
      mask t_mask (instrumented code calls pg_seg_tainted only when a run's mask differs) */
   ULong     t_mask, t_base;
   PG_Label  t_label;
} PG_Seg;
PG_Insn *pg_insn_get(Addr a);
PG_Seg  *pg_seg_new(PG_Insn **insns, UInt n, const ULong *atoms_of);
void     pg_seg_tainted_part(PG_Seg *s, ULong mask, UInt k);
VG_REGPARM(1) void pg_insn_tainted(PG_Insn *in);
VG_REGPARM(3) void pg_seg_tainted(PG_Seg *s, ULong mask, ULong label);
/* a tainted pointer site: insn_store = the PG_Insn* with bit 0 = is a store; label of the address */
VG_REGPARM(3) void pg_site_hit(HWord insn_store, Addr addr, UInt label);
ULong    pg_icount(void);     /* guest instructions executed so far (segment granularity) */
/* exact count of instructions completed before the one thread tid is about to execute */
ULong    pg_icount_exact(ThreadId tid);
extern PG_Seg *pg_cur_seg;
void     pg_seg_left_at(UInt k);   /* the current segment stopped running before its instruction k */
ULong    pg_live_icount_exact(ThreadId tid);   /* with stop support */
ULong    pg_live_icount(void);   /* with stop support: counts segments whole as they start */
extern Long pg_stop_budget;
void     pg_stop_set(ULong at);   /* arms stop-at at; 0 cancels */
void     pg_insns_flush(void);/* writes insn/site deltas */

/* ---- instrumentation (pg_translate.c) ---- */
IRSB *pg_instrument(VgCallbackClosure *closure, IRSB *bb, const VexGuestLayout *layout,
                    const VexGuestExtents *vge, const VexArchInfo *archinfo_host,
                    IRType gWordTy, IRType hWordTy);
extern Bool pg_stop_armed;     /* a stop-at target is set */
/* Until the first byte is tainted every shadow is zero, so blocks are translated with counting only
   (pg_translate.c); pg_first_taint(), called as the first secondary is made, discards them all. */
extern Bool pg_shadows_on;
void pg_first_taint(void);
extern Bool pg_stop_support;   /* exact counting and stop checks are instrumented (per segment; per instruction while armed) */
/* pg_precise.c: which translations keep every register exact at each instruction */
void   pg_precise_init(void);
void   pg_precise_armed_changed(void);
IRSB  *pg_precise_check(IRSB *bb, Addr start);
extern Int  pg_clo_stop_support; /* --stop-at-support: -1 auto (when --vgdb-error is given) */

/* ---- sources, sinks, I/O accounting (pg_syscalls.c) ---- */
void pg_syscalls_init(void);
extern Bool pg_exit_seen;   /* exit_group was called: the process exits normally */
extern Int  pg_exit_code;
void pg_pre_syscall(ThreadId tid, UInt sysno, UWord *args, UInt nArgs);
void pg_post_syscall(ThreadId tid, UInt sysno, UWord *args, UInt nArgs, SysRes res);
void pg_io_flush(void);
void pg_io_tainted_socket_input(ULong n);
void pg_io_account(Int fd, Int dir, ULong tainted, ULong total);   /* a syscall's bytes on fd, dir 0 in / 1 out */
void pg_io_account_copy(Int in_fd, Int out_fd, ULong r);            /* a kernel copy's r bytes (sendfile, splice) */
void pg_new_mem_mmap(Addr a, SizeT len, Bool rr, Bool ww, Bool xx, ULong di_handle);
Bool pg_glob_match(const HChar *pat, const HChar *s);

/* ---- the taint log (pg_log.c) ---- */
Bool pg_log_open(void);                   /* after options; False = cannot write (already reported) */
void pg_log_printf(const HChar *fmt, ...) PRINTF_CHECK(1, 2);
void pg_log_kv_str(const HChar *key, const HChar *value);   /* " key=<percent-encoded value>" */
void pg_log_flush(Bool final);             /* writes all deltas + flush record */
void pg_log_end_exit(Int code);
void pg_log_end_signal(Int sig);
void pg_log_maybe_periodic(void);
void pg_log_after_fork(void);
UInt pg_module_id(Addr a, Addr *offset_out);  /* module id (0 = unknown) and link-time offset */

/* ---- client requests and monitor commands (pg_clreq.c, pg_monitor.c) ---- */
Bool pg_handle_client_request(ThreadId tid, UWord *args, UWord *ret);
Bool pg_handle_monitor_command(ThreadId tid, HChar *req);
void pg_check_stop(void);

/* core functions the tool headers do not declare (present in libcoregrind) */
extern Int          VG_(safe_fd)(Int oldfd);
extern const HChar *VG_(strerror)(Word errnum);
extern SysRes       VG_(pread)(Int fd, void *buf, Int count, OffT offset);
void pg_log_warning(const HChar *text);

#define PG_MALLOC(cc, n) VG_(malloc)(cc, n)
#define PG_FREE(p)       VG_(free)(p)

#endif
