/* planegrind per-static-instruction counters. Instrumented code does not count every instruction:
   it counts executions of *segments* (runs of instructions between a block's start and its side
   exits, which always execute together) with one inline increment; the per-instruction execution
   counts are derived from the segments when the log is flushed. Tainted executions and tainted pointer
   sites are counted by helpers that run only when taint is present. */
#include "pg_include.h"
#include "pub_tool_hashtable.h"
#include "pub_tool_xarray.h"
#include "pub_tool_machine.h"
#include "pub_tool_threadstate.h"

typedef struct _Node { struct _Node *next; UWord key; PG_Insn insn; } Node;
static VgHashTable *insns;
static XArray *segs;                /* of PG_Seg*: every segment ever instrumented */
static PG_Insn *dirty_list;
static ULong left_unrun;            /* instructions counted by segments that stop-at stops left early */

/* icount at the last derivation from segments plus the segments' counts since */
ULong pg_icount(void)
{
   ULong n = 0;
   if (!segs) return 0;
   for (Word i = 0; i < VG_(sizeXA)(segs); i++) {
      PG_Seg *s = *(PG_Seg **)VG_(indexXA)(segs, i);
      n += s->count * s->n;
   }
   return n - left_unrun;
}

PG_Insn *pg_insn_get(Addr a)
{
   if (!insns) insns = VG_(HT_construct)("pg.insns");
   Node *n = VG_(HT_lookup)(insns, a);
   if (!n) {
      n = PG_MALLOC("pg.insn", sizeof(Node));
      VG_(memset)(n, 0, sizeof(Node));
      n->key = a;
      n->insn.addr = a;
      VG_(HT_add_node)(insns, n);
   }
   return &n->insn;
}

PG_Seg *pg_seg_new(PG_Insn **list, UInt n, const ULong *atoms_of)
{
   if (!segs) segs = VG_(newXA)(VG_(malloc), "pg.segs", VG_(free), sizeof(PG_Seg *));
   PG_Seg *s = PG_MALLOC("pg.seg", sizeof(PG_Seg));
   s->count = s->logged = 0;
   s->t_mask = s->t_base = 0;
   s->t_label = 0;
   s->n = n;
   s->insns = PG_MALLOC("pg.seg.insns", n * sizeof(PG_Insn *));
   VG_(memcpy)(s->insns, list, n * sizeof(PG_Insn *));
   s->atoms_of = PG_MALLOC("pg.seg.atoms", n * sizeof(ULong));
   VG_(memcpy)(s->atoms_of, atoms_of, n * sizeof(ULong));
   VG_(addToXA)(segs, &s);
   return s;
}

static void mark_dirty(PG_Insn *in)
{
   if (!in->dirty) {
      in->dirty = True;
      in->next_dirty = dirty_list;
      dirty_list = in;
   }
}

/* adds k tainted executions to those of the first n instructions one of whose taint tests is true
   in mask (bit j: the segment's test j; atoms_of[i]: instruction i's tests) */
static void seg_apply_to(PG_Seg *s, ULong mask, ULong k, PG_Label label, UInt n)
{
   if (!k || !mask) return;
   for (UInt i = 0; i < n; i++) {
      if (!(s->atoms_of[i] & mask)) continue;
      PG_Insn *in = s->insns[i];
      in->tainted += k;
      if (label) in->seg_label = label;
   }
}

static void seg_apply(PG_Seg *s, ULong mask, ULong k, PG_Label label)
{
   seg_apply_to(s, mask, k, label, s->n);
}

/* The runs since the last change of mask all had t_mask: add them to the instructions. */
static void seg_settle(PG_Seg *s)
{
   seg_apply(s, s->t_mask, s->count - s->t_base, s->t_label);
   s->t_base = s->count;
}

/* A run of segment s (counted in s->count already) ended with mask (bit j: the segment's taint test j
   was true; PG_Seg.atoms_of) different from s->t_mask; label: the largest source label of the data it last
   touched. The runs before it since t_base had t_mask; this one becomes the new reference, so a loop
   over user data calls this once, not per iteration. */
VG_REGPARM(3) void pg_seg_tainted(PG_Seg *s, ULong mask, ULong label)
{
   seg_apply(s, s->t_mask, s->count - 1 - s->t_base, s->t_label);
   seg_apply(s, mask, 1, (PG_Label)label);
   s->t_mask = mask;
   s->t_base = s->count;
   s->t_label = (PG_Label)label;
}

/* A stop-at stopped the current run of s before its instruction k: the runs before it had t_mask; this
   one's tests were mask, and only its first k instructions ran. */
void pg_seg_tainted_part(PG_Seg *s, ULong mask, UInt k)
{
   seg_apply(s, s->t_mask, s->count - 1 - s->t_base, s->t_label);
   seg_apply_to(s, mask, 1, 0, k);
   s->t_mask = mask;
   s->t_base = s->count;
   s->t_label = 0;
}

VG_REGPARM(1) void pg_insn_tainted(PG_Insn *in)
{
   in->tainted++;
   mark_dirty(in);
}

VG_REGPARM(3) void pg_site_hit(HWord insn_store, Addr addr, UInt label)
{
   PG_Insn *in = (PG_Insn *)(insn_store & ~(HWord)1);
   if (insn_store & 1) in->site_store++;
   else in->site_load++;
   if (!in->site_label) in->site_label = label ? label : pg_cur_label;
   mark_dirty(in);
}

void pg_insns_flush(void)
{
   if (segs) {
      for (Word i = 0; i < VG_(sizeXA)(segs); i++) {
         PG_Seg *s = *(PG_Seg **)VG_(indexXA)(segs, i);
         if (s->t_mask) seg_settle(s);
         ULong d = s->count - s->logged;
         if (!d) continue;
         s->logged = s->count;
         for (UInt k = 0; k < s->n; k++) {
            s->insns[k]->execs += d;
            mark_dirty(s->insns[k]);
         }
      }
   }
   /* labels first: insn and site records refer to them */
   for (PG_Insn *in = dirty_list; in; in = in->next_dirty)
      in->label_out = in->tainted == in->tainted_logged ? 0 : in->label ? in->label : in->seg_label;
   pg_labels_flush();
   for (PG_Insn *in = dirty_list; in; in = in->next_dirty) {
      Addr off;
      UInt m = pg_module_id(in->addr, &off);
      ULong t = in->tainted - in->tainted_logged;
      if (in->execs || t) {
         pg_log_printf("insn m=%u off=0x%lx execs=%llu tainted=%llu", m, off, in->execs, t);
         if (t && in->label_out) pg_log_printf(" label=%u", in->label_out);
         pg_log_printf("\n");
      }
      if (in->site_load != in->site_load_logged)
         pg_log_printf("site m=%u off=0x%lx access=load count=%llu label=%u\n", m, off,
                       in->site_load - in->site_load_logged, in->site_label);
      if (in->site_store != in->site_store_logged)
         pg_log_printf("site m=%u off=0x%lx access=store count=%llu label=%u\n", m, off,
                       in->site_store - in->site_store_logged, in->site_label);
      in->execs = 0;
      in->tainted_logged = in->tainted;
      in->site_load_logged = in->site_load;
      in->site_store_logged = in->site_store;
      in->dirty = False;
   }
   dirty_list = NULL;
}

/* After fork the child's log starts empty: what the parent counted is the parent's to report. */
void pg_insns_forget(void)
{
   if (segs)
      for (Word i = 0; i < VG_(sizeXA)(segs); i++) {
         PG_Seg *s = *(PG_Seg **)VG_(indexXA)(segs, i);
         s->logged = s->count;
         s->t_base = s->count;
      }
   for (PG_Insn *in = dirty_list; in; in = in->next_dirty) {
      in->execs = 0;
      in->tainted_logged = in->tainted;
      in->site_load_logged = in->site_load;
      in->site_store_logged = in->site_store;
      in->dirty = False;
   }
   dirty_list = NULL;
}

/* A stop-at stop leaves the current translation before instruction k of the current segment and the
   same instructions run again from a new one: the segment was counted as a whole when it started, so
   its instructions from k on must not count this run. */
void pg_seg_left_at(UInt k)
{
   PG_Seg *s = pg_cur_seg;
   if (!s || k >= s->n) return;
   left_unrun += s->n - k;
   pg_stop_budget += s->n - k;    /* the live count gives back what did not run */
   for (; k < s->n; k++) {
      s->insns[k]->execs--;     /* wraps below 0 until the flush adds the segment's count */
      mark_dirty(s->insns[k]);
   }
   pg_cur_seg = NULL;           /* left: nothing of it is part-way run */
}

/* With stop support pg_live_icount() counts a segment whole when it starts and pg_cur_seg is the one
   part-way run (NULL between segments): its instructions from the one about to execute on have not run. */
ULong pg_live_icount_exact(ThreadId tid)
{
   PG_Seg *s = pg_cur_seg;
   if (s && tid != VG_INVALID_THREADID) {
      Addr ip = VG_(get_IP)(tid);
      for (UInt k = 0; k < s->n; k++)
         if (s->insns[k]->addr == ip) return pg_live_icount() - (s->n - k);
   }
   return pg_live_icount();
}

/* The current segment was counted as a whole when it started: subtract its instructions from the one
   about to execute onwards. */
ULong pg_icount_exact(ThreadId tid)
{
   ULong n = pg_icount();
   PG_Seg *s = pg_cur_seg;
   if (s && tid != VG_INVALID_THREADID) {
      Addr ip = VG_(get_IP)(tid);
      for (UInt k = 0; k < s->n; k++)
         if (s->insns[k]->addr == ip) return n - (s->n - k);
   }
   return n;
}
