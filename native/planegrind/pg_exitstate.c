/* planegrind: how the process ends (for the log's `end` record). The tool interface gives `fini` no
   exit status (the core passes 0) and no hook sees a fatal signal that takes its default action, but
   the core keeps both in the ThreadState of the thread that runs the shutdown (VG_(get_running_tid)()
   inside fini): `exitreason` and `os_state.exitcode` / `os_state.fatalsig`, which it then uses for
   VG_(exit) / VG_(kill_self). ThreadState is not in the tool headers, so this file mirrors the leading
   part of its layout (coregrind/pub_core_threadstate.h on amd64-linux, built only from public types;
   checked against Valgrind 3.19, the version DESIGN §9 builds against) and checks the mirror against facts it can verify (the thread id, the kernel
   thread id and the pid) before it trusts a field. If the check fails, the caller falls back to what
   the syscalls showed. */
#include "pg_include.h"
#include "pub_tool_libcproc.h"
#include "pub_tool_threadstate.h"
#include "pub_tool_vki.h"
#include "libvex.h"
#include "libvex_guest_amd64.h"

#define PG_ALIGNED __attribute__((aligned(LibVEX_GUEST_STATE_ALIGN)))

typedef struct {
   ThreadId tid;
   UInt     status;
   UInt     exitreason;             /* VgSchedReturnCode */
   struct {
      VexGuestAMD64State vex PG_ALIGNED;
      VexGuestAMD64State vex_shadow1 PG_ALIGNED;
      VexGuestAMD64State vex_shadow2 PG_ALIGNED;
      UChar              vex_spill[LibVEX_N_SPILL_BYTES] PG_ALIGNED;
   } arch;
   vki_sigset_t sig_mask;
   vki_sigset_t tmp_sig_mask;
   void        *sig_queue;
   SizeT        client_stack_szB;
   Addr         client_stack_highest_byte;
   vki_stack_t  altstack;
   struct {                          /* ThreadOSstate, up to fatalsig */
      Int      lwpid;
      Int      threadgroup;
      ThreadId parent;
      Addr     valgrind_stack_base;
      Addr     valgrind_stack_init_SP;
      UWord    stk_id;
      Word     exitcode;
      Int      fatalsig;
   } os_state;
} PG_CoreThreadState;

enum { PG_SRC_NONE = 0, PG_SRC_EXIT_THREAD = 1, PG_SRC_EXIT_PROCESS = 2, PG_SRC_FATAL_SIG = 3 };

extern void *VG_(get_ThreadState)(ThreadId tid);   /* in libcoregrind, not in the tool headers */

/* The running thread's core state, or NULL when the mirror does not match this Valgrind. */
static const PG_CoreThreadState *running_state(void)
{
   ThreadId tid = VG_(get_running_tid)();
   if (tid == VG_INVALID_THREADID) return NULL;
   const PG_CoreThreadState *ts = VG_(get_ThreadState)(tid);
   if (!ts || ts->tid != tid) return NULL;
   if (ts->os_state.lwpid != VG_(gettid)() || ts->os_state.threadgroup != VG_(getpid)()) return NULL;
   return ts;
}

/* Called from fini: True when the core's state says how the process ends; then *by_signal and
   *value (the exit code or the signal number) are set. */
Bool pg_exit_state(Bool *by_signal, Int *value)
{
   const PG_CoreThreadState *ts = running_state();
   if (!ts) return False;
   switch (ts->exitreason) {
   case PG_SRC_EXIT_THREAD:
   case PG_SRC_EXIT_PROCESS:
      *by_signal = False;
      *value = (Int)ts->os_state.exitcode;
      return True;
   case PG_SRC_FATAL_SIG:
      if (ts->os_state.fatalsig <= 0 || ts->os_state.fatalsig > 64) return False;
      *by_signal = True;
      *value = ts->os_state.fatalsig;
      return True;
   default:
      return False;
   }
}
