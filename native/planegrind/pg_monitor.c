/* planegrind gdb monitor commands (`monitor taint ...` from gdb, or vgdb): the debugger's view of the
   taint state. The exact output format is documented in docs/planegrind.md; keep them in step. */
#include "pg_include.h"
#include "pub_tool_gdbserver.h"
#include "pub_tool_machine.h"
#include "pub_tool_threadstate.h"
#include "libvex_guest_amd64.h"
#include <stddef.h>

Bool  pg_stop_armed;
Bool  pg_stop_support;

static void help(void)
{
   VG_(gdb_printf)(
      "planegrind monitor commands:\n"
      "  taint ADDR LEN     per-byte taint labels of [ADDR, ADDR+LEN)\n"
      "  taint-regs [TID]   guest registers holding tainted bytes\n"
      "  label N            provenance chain of label N\n"
      "  icount             guest instructions executed so far\n"
      "  stop-at ICOUNT     stop (SIGTRAP to gdb) when the instruction count reaches ICOUNT; 0 cancels\n");
}

static void cmd_taint(HChar **save)
{
   Addr a = 0;
   SizeT len = 1;
   if (!VG_(strtok_get_address_and_size)(&a, &len, save)) return;
   if (len > (1 << 20)) {
      VG_(gdb_printf)("error: LEN %lu too large (max 1048576)\n", len);
      return;
   }
   UInt *labels = PG_MALLOC("pg.mon.taint", (len ? len : 1) * sizeof(UInt));
   SizeT n = pg_shadow_get_range(a, len, labels);
   VG_(gdb_printf)("taint addr=0x%lx len=%lu tainted=%lu\n", a, len, n);
   for (SizeT i = 0; i < len;) {
      SizeT j = i + 1;
      while (j < len && labels[j] == labels[i]) j++;
      if (labels[i]) VG_(gdb_printf)("range start=0x%lx end=0x%lx label=%u\n", a + i, a + j, labels[i]);
      i = j;
   }
   if (len <= 4096) {
      VG_(gdb_printf)("bytes");
      for (SizeT i = 0; i < len; i++) VG_(gdb_printf)(" %u", labels[i]);
      VG_(gdb_printf)("\n");
   }
   PG_FREE(labels);
}

typedef struct { const HChar *name; Int off; Int size; } Reg;
#define R(n, f, s) { n, offsetof(VexGuestAMD64State, f), s }
static const Reg regs[] = {
   R("rax", guest_RAX, 8), R("rcx", guest_RCX, 8), R("rdx", guest_RDX, 8), R("rbx", guest_RBX, 8),
   R("rsp", guest_RSP, 8), R("rbp", guest_RBP, 8), R("rsi", guest_RSI, 8), R("rdi", guest_RDI, 8),
   R("r8", guest_R8, 8), R("r9", guest_R9, 8), R("r10", guest_R10, 8), R("r11", guest_R11, 8),
   R("r12", guest_R12, 8), R("r13", guest_R13, 8), R("r14", guest_R14, 8), R("r15", guest_R15, 8),
   R("rip", guest_RIP, 8),
   /* the lazily computed flags: tainted when the last flag-setting operation had tainted operands */
   R("eflags", guest_CC_DEP1, 24),
   R("ymm0", guest_YMM0, 32), R("ymm1", guest_YMM1, 32), R("ymm2", guest_YMM2, 32), R("ymm3", guest_YMM3, 32),
   R("ymm4", guest_YMM4, 32), R("ymm5", guest_YMM5, 32), R("ymm6", guest_YMM6, 32), R("ymm7", guest_YMM7, 32),
   R("ymm8", guest_YMM8, 32), R("ymm9", guest_YMM9, 32), R("ymm10", guest_YMM10, 32), R("ymm11", guest_YMM11, 32),
   R("ymm12", guest_YMM12, 32), R("ymm13", guest_YMM13, 32), R("ymm14", guest_YMM14, 32), R("ymm15", guest_YMM15, 32),
};

/* the label of a register's value: its label pair in shadow area 2 (pg_translate.c keeps one per
   8-byte chunk; the first chunk with a tainted byte speaks for the register), else the fallback */
static PG_Label reg_label(ThreadId tid, const Reg *r, const UChar *sh)
{
   Int first = 0;
   while (first < r->size && !sh[first]) first++;
   Int chunk = (r->off + first) & ~7;
   PG_Label l = 0;
   if (r->off != offsetof(VexGuestAMD64State, guest_RSP) && r->off != offsetof(VexGuestAMD64State, guest_RIP) &&
       r->off != offsetof(VexGuestAMD64State, guest_CC_DEP1)) {
      UInt pair[2];
      VG_(get_shadow_regs_area)(tid, (UChar *)pair, 2, chunk, 8);
      l = pg_label_of_pair((ULong)pair[0] << 32 | pair[1]);
   }
   return l ? l : pg_cur_label;
}

static void regs_of(ThreadId tid)
{
   UInt n = 0;
   for (UInt i = 0; i < sizeof regs / sizeof regs[0]; i++) {
      UChar sh[32];
      VG_(get_shadow_regs_area)(tid, sh, 1, regs[i].off, regs[i].size);
      ULong mask = 0;
      for (Int b = 0; b < regs[i].size; b++)
         if (sh[b]) mask |= 1ULL << b;
      if (!mask) continue;
      n++;
      VG_(gdb_printf)("reg name=%s bytes=0x%llx label=%u\n", regs[i].name, mask, reg_label(tid, &regs[i], sh));
   }
   VG_(gdb_printf)("taint-regs tid=%u tainted=%u\n", tid, n);
}

/* the stopped thread, the thread named by the argument, or (from vgdb with no thread stopped) all */
static void cmd_taint_regs(ThreadId tid, HChar *arg)
{
   ThreadId t;
   Addr lo, hi;
   if (arg) {
      HChar *end;
      ULong want = VG_(strtoull10)(arg, &end);
      VG_(thread_stack_reset_iter)(&t);
      while (VG_(thread_stack_next)(&t, &lo, &hi))
         if (t == want) { regs_of(t); return; }
      VG_(gdb_printf)("error: no thread %s\n", arg);
      return;
   }
   if (tid != VG_INVALID_THREADID) { regs_of(tid); return; }
   VG_(thread_stack_reset_iter)(&t);
   while (VG_(thread_stack_next)(&t, &lo, &hi)) regs_of(t);
}

static Bool parse_ulong(HChar *s, ULong *out)
{
   if (!s || !*s) return False;
   HChar *end;
   *out = VG_(strtoull10)(s, &end);
   return *end == 0;
}

Bool pg_handle_monitor_command(ThreadId tid, HChar *req)
{
   HChar buf[VG_(strlen)(req) + 1];
   VG_(strcpy)(buf, req);
   HChar *save;
   HChar *word = VG_(strtok_r)(buf, " ", &save);
   if (!word) return False;
   switch (VG_(keyword_id)("help taint taint-regs label icount stop-at", word, kwd_report_none)) {
   case 0:
      help();
      return True;
   case 1:
      /* keyword_id matches prefixes: "taint" must not swallow "taint-regs" */
      cmd_taint(&save);
      return True;
   case 2:
      cmd_taint_regs(tid, VG_(strtok_r)(NULL, " ", &save));
      return True;
   case 3: {
      ULong l;
      if (!parse_ulong(VG_(strtok_r)(NULL, " ", &save), &l)) {
         VG_(gdb_printf)("error: usage: label N\n");
         return True;
      }
      if (l == 0 || !pg_label_exists((PG_Label)l)) {
         VG_(gdb_printf)("error: no label %llu (labels 1..%u exist)\n", l, pg_labels_count());
         return True;
      }
      pg_label_print_chain((PG_Label)l);
      return True;
   }
   case 4:
      VG_(gdb_printf)("icount %llu\n", pg_stop_support ? pg_live_icount_exact(tid) : pg_icount_exact(tid));
      return True;
   case 5: {
      ULong at;
      if (!parse_ulong(VG_(strtok_r)(NULL, " ", &save), &at)) {
         VG_(gdb_printf)("error: usage: stop-at ICOUNT\n");
         return True;
      }
      if (!pg_stop_support) {
         VG_(gdb_printf)("error: stop-at needs instruction-exact counting: start valgrind with --vgdb-error=N "
                         "or --stop-at-support=yes\n");
         return True;
      }
      ULong now = pg_live_icount_exact(tid);
      if (at == 0) {
         pg_stop_set(0);
         VG_(gdb_printf)("stop-at cancelled icount=%llu\n", now);
         return True;
      }
      if (at <= now) {
         VG_(gdb_printf)("error: icount %llu already reached (icount=%llu)\n", at, now);
         return True;
      }
      pg_stop_set(at);
      VG_(gdb_printf)("stop-at armed icount=%llu target=%llu\n", now, at);
      return True;
   }
   default:
      return False;   /* not ours: the core reports an unknown command */
   }
}
