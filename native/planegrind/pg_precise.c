/* Register precision in debug sessions (stop support).

   A stop between two instructions of a block must show, and resume from, every register and the
   flags as they are there: VEX's first optimisation drops a register (or flags) write that a later
   instruction of the block overwrites, and a stop between the two then shows the stale value (a cmp's
   flags before the sbb that reads them made a stepped-back run compute another result). VEX keeps them so only with allregs-at-each-insn, which costs about 1.5x on
   register-heavy loops, and it decides the mode for each translation before planegrind sees the block.
   So: the default (for code that is not file-backed, e.g. JIT'd code) is allregs-at-each-insn, and
   file-backed code (nearly all code) is translated with allregs-at-mem-access through the core's
   per-translation --px-file-backed: registers are exact wherever a fault can stop the program, and the
   flags thunk and registers overwritten within a block between memory accesses are not stored.

   Blocks where a stop can fall between instructions are translated exact: while a stop-at target is
   armed, while gdb single-steps, blocks holding a gdb breakpoint, and blocks with an integer division
   (a SIGFPE stops the program there, at no memory access). gdb inserts a breakpoint by
   discarding the translations at its address; when such a block is translated again, planegrind sees
   the breakpoint and, if the translation was not exact, makes it a stub that discards itself and jumps
   to its own start, with the next translation exact. A user's own --px-file-backed turns this off. */
#include "pg_include.h"
#include "pub_tool_options.h"
#include "libvex_guest_amd64.h"
#include <stddef.h>

/* Valgrind's gdbserver (coregrind, linked into the tool) */
extern Bool VG_(has_gdbserver_breakpoint)(Addr addr);
extern Bool valgrind_single_stepping(void);

static Bool  switching;      /* planegrind sets VG_(clo_px_file_backed) */
static Addr  pending;        /* a stub was made for this block (0: none): exact until it is translated again */

static void set_exact(Bool on)
{
   VG_(clo_px_file_backed) = on ? VexRegUpd_INVALID : VexRegUpdAllregsAtMemAccess;
}

void pg_precise_init(void)
{
   if (!pg_stop_support) return;
   VG_(clo_vex_control).iropt_register_updates_default = VexRegUpdAllregsAtEachInsn;
   if (VG_(clo_px_file_backed) != VexRegUpd_INVALID) return;   /* the user chose */
   switching = True;
   set_exact(False);
}

/* the exact mode may be needed for other translations too: a stop-at target, single steps */
static Bool exact_wanted(void)
{
   return pg_stop_armed || valgrind_single_stepping() || pending != 0;
}

void pg_precise_armed_changed(void)
{
   if (switching) set_exact(exact_wanted());
}

static Bool has_breakpoint(const IRSB *bb)
{
   for (Int i = 0; i < bb->stmts_used; i++)
      if (bb->stmts[i]->tag == Ist_IMark && VG_(has_gdbserver_breakpoint)(bb->stmts[i]->Ist.IMark.addr))
         return True;
   return False;
}

/* An integer division faults (SIGFPE) without accessing memory: at allregs-at-mem-access the registers
   written before it in its block may not be stored yet, so gdb would show them stale at the signal. */
static Bool has_division(const IRSB *bb)
{
   for (Int i = 0; i < bb->stmts_used; i++) {
      const IRStmt *st = bb->stmts[i];
      if (st->tag != Ist_WrTmp || st->Ist.WrTmp.data->tag != Iex_Binop) continue;
      switch (st->Ist.WrTmp.data->Iex.Binop.op) {
      case Iop_DivModU64to32: case Iop_DivModS64to32: case Iop_DivModU128to64: case Iop_DivModS128to64:
      case Iop_DivU32: case Iop_DivS32: case Iop_DivU64: case Iop_DivS64:
         return True;
      default:
         break;
      }
   }
   return False;
}

/* Called for each translation before it is instrumented: NULL to instrument bb, or the stub to use
   instead (a jump to bb's start that discards it, so that it is translated again, exact). */
IRSB *pg_precise_check(IRSB *bb, Addr start)
{
   if (!switching) return NULL;
   /* this translation is exact when the mode was exact as it was made (conservatively: code that is
      not file-backed is exact anyway, and gets one stub too many at most) */
   Bool exact = VG_(clo_px_file_backed) == VexRegUpd_INVALID;
   if (start == pending) pending = 0;
   Bool need = pg_stop_armed || valgrind_single_stepping() || has_breakpoint(bb) || has_division(bb);
   if (need && !exact) {
      pending = start;
      set_exact(True);
      IRSB *stub = deepCopyIRSBExceptStmts(bb);
      addStmtToIRSB(stub, IRStmt_Put(offsetof(VexGuestAMD64State, guest_CMSTART), IRExpr_Const(IRConst_U64(start))));
      addStmtToIRSB(stub, IRStmt_Put(offsetof(VexGuestAMD64State, guest_CMLEN), IRExpr_Const(IRConst_U64(1))));
      stub->next = IRExpr_Const(IRConst_U64(start));
      stub->jumpkind = Ijk_InvalICache;
      return stub;
   }
   set_exact(exact_wanted());
   return NULL;
}
