/* planegrind VEX instrumentation. Like memcheck's V-bits, the shadow of a value of type T is a value
   of type T (floats: the integer type of the same size) in which each byte is 0x00 (clean) or 0xFF
   (tainted). Moves, widening, narrowing, concatenation, byte-multiple shifts and bitwise ops keep byte
   positions exactly; every other operation is the n-ary rule: the result (per vector lane where the
   lanes are independent) is tainted iff an operand is. The shadow of a guest register lives in
   Valgrind's shadow guest state (at offset + guest state size); memory goes through the helpers of
   pg_shadow.c. Per static instruction, inline code counts the executions that read or wrote tainted
   data; executions themselves are counted per segment (see pg_insns.c).
   Provenance travels beside the V-bits like memcheck's origin tags: every shadowed value has a label
   pair (two I32: the largest source label and the negated smallest, both merged by unsigned max, so a
   merge is two inline ops and 0 is "no source"); registers keep their pair in shadow area 2; memory
   keeps a label per tainted byte. The pair becomes one label (a mixed one where the two differ) only
   in the helpers that store tainted bytes, record sites, and at log flushes. */
#include "pg_include.h"
#include "pub_tool_machine.h"
#include "pub_tool_transtab.h"
#include "pub_tool_threadstate.h"
#include "pub_tool_gdbserver.h"
#include "libvex_guest_amd64.h"
#include <stddef.h>

#define MAX_SEG 1024

typedef IRExpr IRAtom;   /* an IRExpr that is a temp or a constant (flat IR) */

/* a label pair (see the top of the file); hi == NULL: no source, the value's provenance is clean */
typedef struct { IRAtom *hi, *lo; } LP;

typedef struct {
   IRSB    *sb;
   IRTemp  *tmap;          /* original temp -> shadow temp */
   Int      n_orig;
   Int      gso;           /* offset of shadow area 1 in the guest state */
   Int      offIP;
   PG_Insn *insn;          /* current instruction */
   /* Tainted executions. A run's mask has a bit per taint test (an I1 atom) of the segment, not per
      instruction: an instruction's taint is the OR of some tests (atoms_of), and instructions share
      them (a cmp and its jcc; an xor and the operands it ORs: test_set), so a chain of register ops
      over data costs a bit per new test, not per instruction. pg_seg_new keeps atoms_of. */
#define MAX_ATOMS 63
#define SET_FULL (~0ULL)       /* a test set that did not fit in the mask */
   IRAtom  *atoms[MAX_ATOMS];
   UInt     n_atoms, n_masked;  /* tests, and how many of them are in seg_mask yet */
   ULong    atoms_of[MAX_SEG];
   UInt     atoms_gen;         /* the numbering of atoms the test sets below belong to */
#define N_TSET 256
   struct { IRTemp sh; UInt gen; ULong set; } tset[N_TSET];   /* shadow temp -> its tests (a cache) */
#define N_OR2 128
   struct { IRTemp r; IRAtom *a, *b; } or2[N_OR2];             /* shadow r is non-zero iff a or b is */
   Bool     acc_inline;        /* the current instruction's tests did not fit: counted inline by acc */
   IRAtom  *acc;              /* I1, only while acc_inline */
   PG_Insn *seg[MAX_SEG];
   UInt     seg_n;
   PG_Seg  *cur_seg;
   Bool     exact;         /* stop support with a stop-at armed: a stop check before every instruction */
   IRConst *stop_c[MAX_SEG];  /* the checks' constants k - n, patched when the segment's n is known */
   UInt     n_stop_c;
   IRTemp   touched[16];  /* shadow temps already in acc for this instruction */
   Int      n_touched;
   LP      *lmap;          /* original temp -> its label pair */
   Bool    *escapes;       /* original temp -> read by a later guest instruction than the one defining it */
   LP       ins_lp;        /* pair of the data the current instruction last touched */
   /* I64: bit j = test j (atoms[j]) was true (NULL: no test yet). Tests are numbered per block, not per
      segment, so a later segment's mask is the earlier one's OR its new tests (ANDed with the tests its
      instructions use when it uses fewer): in an unrolled loop each iteration pays for its new tests only */
   IRAtom  *seg_mask;
   LP       seg_lp;        /* pair of the data the segment last touched */
   /* which source pairs a pair is the max of (bit per pair that is no merge): merging a pair with one
      it already includes (in an unrolled loop, the loop-invariant operand's) needs no IR */
#define N_LSET 256
#define LEAVES_UNKNOWN (~0ULL)
   struct { IRTemp hi, lo; ULong set; } lset[N_LSET];   /* pair (its temps) -> its sources (a cache) */
   UInt     n_leaves;
   /* what is known of shadow temps' taint: made by from1(b) (an n-ary result), to1 is b again;
      a widening or a copy of shadow `same` is tainted iff it is (a cache: collisions forget) */
#define N_UNIFORM 128
   struct { IRTemp sh; IRAtom *b; IRAtom *same; } uniform[N_UNIFORM];
   LP      *slot_lp;       /* per 8-byte chunk of the guest state: the pair its label slot holds now */
   UChar   *sh_zero;       /* per guest state byte: this block last put a constant-zero shadow there */
   /* per offset of the guest state and shadow area 1: the atom the block last put there or got from
      there (of gs_size bytes), while nothing else wrote those bytes. A put of the value a register
      holds already is dropped: in an unrolled loop each iteration puts again the flags thunk's
      operation and the loop-invariant registers and shadows, and stores are what the loop waits on.
      Not with stop support: at a stop gdb may write registers, and the core's gdbserver puts its
      calls into a block after this instrumentation, where the block cannot see them. */
   Bool     gs_track;
   IRAtom **gs_val;
   UChar   *gs_size;
#define N_COPY 256
   struct { IRTemp t; IRAtom *v; } copy[N_COPY];   /* shadow temp t was assigned atom v (a cache) */
   /* the next load/store helper also records a tainted pointer site: the address's shadow (I64) and
      its largest source label (I64), else NULL */
   IRAtom  *site_sa, *site_hi;
#define N_HC 512
   struct { IRExpr *x; IRTemp t; IRType ty; } hc[N_HC];   /* assign's pure expressions (a cache) */
} Env;

/* ---- small IR builders ---- */

static void stmt(Env *e, IRStmt *s) { addStmtToIRSB(e->sb, s); }

/* A pure unary or binary op of atoms already assigned in this block gives its temp again: each
   instruction's shadow code narrows and tests the same registers' shadows, and shared temps let the
   caches below (to1, touched) see that two instructions test the same value. */
static IRAtom *assign(Env *e, IRType ty, IRExpr *x)
{
   UInt h = 0;
   Bool pure = (x->tag == Iex_Unop && isIRAtom(x->Iex.Unop.arg)) ||
               (x->tag == Iex_Binop && isIRAtom(x->Iex.Binop.arg1) && isIRAtom(x->Iex.Binop.arg2));
   if (pure) {
      IRExpr *a1 = x->tag == Iex_Unop ? x->Iex.Unop.arg : x->Iex.Binop.arg1;
      IRExpr *a2 = x->tag == Iex_Binop ? x->Iex.Binop.arg2 : NULL;
      IROp op = x->tag == Iex_Unop ? x->Iex.Unop.op : x->Iex.Binop.op;
      h = (UInt)op * 31 + (a1->tag == Iex_RdTmp ? a1->Iex.RdTmp.tmp : 7) * 131 +
          (a2 && a2->tag == Iex_RdTmp ? a2->Iex.RdTmp.tmp * 7 : 3);
      h %= N_HC;
      IRExpr *c = e->hc[h].x;
      if (c && c->tag == x->tag && e->hc[h].ty == ty) {
         IROp cop = c->tag == Iex_Unop ? c->Iex.Unop.op : c->Iex.Binop.op;
         IRExpr *c1 = c->tag == Iex_Unop ? c->Iex.Unop.arg : c->Iex.Binop.arg1;
         if (cop == op && eqIRAtom(c1, a1) && (!a2 || eqIRAtom(c->Iex.Binop.arg2, a2)))
            return IRExpr_RdTmp(e->hc[h].t);
      }
   }
   IRTemp t = newIRTemp(e->sb->tyenv, ty);
   stmt(e, IRStmt_WrTmp(t, x));
   if (pure) {
      e->hc[h].x = x;
      e->hc[h].t = t;
      e->hc[h].ty = ty;
   }
   return IRExpr_RdTmp(t);
}

static IRType shadow_ty(IRType t)
{
   switch (t) {
   case Ity_I1: case Ity_I8: case Ity_I16: case Ity_I32: case Ity_I64: case Ity_I128:
   case Ity_V128: case Ity_V256:
      return t;
   case Ity_F16: return Ity_I16;
   case Ity_F32: case Ity_D32: return Ity_I32;
   case Ity_F64: case Ity_D64: return Ity_I64;
   case Ity_F128: case Ity_D128: return Ity_I128;
   default: VG_(tool_panic)("planegrind: shadow_ty");
   }
}

static Bool is_zero(IRAtom *a)
{
   if (a->tag != Iex_Const) return False;
   IRConst *c = a->Iex.Const.con;
   switch (c->tag) {
   case Ico_U1: return !c->Ico.U1;
   case Ico_U8: return c->Ico.U8 == 0;
   case Ico_U16: return c->Ico.U16 == 0;
   case Ico_U32: return c->Ico.U32 == 0;
   case Ico_U64: return c->Ico.U64 == 0;
   case Ico_V128: return c->Ico.V128 == 0;
   case Ico_V256: return c->Ico.V256 == 0;
   default: return False;
   }
}

static IRAtom *zero(Env *e, IRType ty)
{
   switch (ty) {
   case Ity_I1: return IRExpr_Const(IRConst_U1(False));
   case Ity_I8: return IRExpr_Const(IRConst_U8(0));
   case Ity_I16: return IRExpr_Const(IRConst_U16(0));
   case Ity_I32: return IRExpr_Const(IRConst_U32(0));
   case Ity_I64: return IRExpr_Const(IRConst_U64(0));
   case Ity_V128: return IRExpr_Const(IRConst_V128(0));
   case Ity_V256: return IRExpr_Const(IRConst_V256(0));
   case Ity_I128: return assign(e, Ity_I128, IRExpr_Binop(Iop_64HLto128, zero(e, Ity_I64), zero(e, Ity_I64)));
   default: VG_(tool_panic)("planegrind: zero");
   }
}

static IRTemp shadow_tmp(Env *e, IRTemp t)
{
   tl_assert(t < e->n_orig);
   if (e->tmap[t] == IRTemp_INVALID)
      e->tmap[t] = newIRTemp(e->sb->tyenv, shadow_ty(typeOfIRTemp(e->sb->tyenv, t)));
   return e->tmap[t];
}

/* the shadow of an atom of the original block */
static IRAtom *sh(Env *e, IRAtom *a)
{
   if (a->tag == Iex_RdTmp) return IRExpr_RdTmp(shadow_tmp(e, a->Iex.RdTmp.tmp));
   tl_assert(a->tag == Iex_Const);
   return zero(e, shadow_ty(typeOfIRExpr(e->sb->tyenv, a)));
}

/* any byte of a shadow tainted? -> I1 */
static void memo_set(Env *e, IRAtom *r, IRAtom *b, IRAtom *same)
{
   if (r->tag != Iex_RdTmp) return;
   UInt h = r->Iex.RdTmp.tmp % N_UNIFORM;
   e->uniform[h].sh = r->Iex.RdTmp.tmp;
   e->uniform[h].b = b;
   e->uniform[h].same = same;
}

/* the shadow whose taint v's is, following widenings and copies */
static IRAtom *memo_root(Env *e, IRAtom *v)
{
   for (Int i = 0; i < 8 && v->tag == Iex_RdTmp; i++) {
      UInt h = v->Iex.RdTmp.tmp % N_UNIFORM;
      if (e->uniform[h].sh != v->Iex.RdTmp.tmp || !e->uniform[h].same) break;
      v = e->uniform[h].same;
   }
   return v;
}

/* the shadow v was widened from (memo_set by sh_unop), else NULL */
static IRAtom *widened_from(Env *e, IRAtom *v)
{
   IRType ty = typeOfIRExpr(e->sb->tyenv, v);
   /* through copies (same type) to the widening */
   for (Int i = 0; i < 8 && v->tag == Iex_RdTmp; i++) {
      UInt h = v->Iex.RdTmp.tmp % N_UNIFORM;
      if (e->uniform[h].sh != v->Iex.RdTmp.tmp || !e->uniform[h].same) return NULL;
      v = e->uniform[h].same;
      if (typeOfIRExpr(e->sb->tyenv, v) != ty) return v;
   }
   return NULL;
}

/* dst (a shadow temp) is assigned v: it knows what v's taint is, and its value is v (copy_root) */
static void memo_copy(Env *e, IRTemp dst, IRAtom *v)
{
   if (v->tag == Iex_RdTmp) memo_set(e, IRExpr_RdTmp(dst), NULL, v);
   if (!isIRAtom(v)) return;
   UInt h = dst % N_COPY;
   e->copy[h].t = dst;
   e->copy[h].v = v;
}

static IRAtom *to1(Env *e, IRAtom *v)
{
   if (is_zero(v)) return IRExpr_Const(IRConst_U1(False));
   v = memo_root(e, v);
   if (v->tag == Iex_RdTmp) {
      UInt h = v->Iex.RdTmp.tmp % N_UNIFORM;
      if (e->uniform[h].b && e->uniform[h].sh == v->Iex.RdTmp.tmp) return e->uniform[h].b;
   }
   IRType ty = typeOfIRExpr(e->sb->tyenv, v);
   switch (ty) {
   case Ity_I1: return v;
   case Ity_I8: return assign(e, Ity_I1, IRExpr_Unop(Iop_CmpNEZ8, v));
   case Ity_I16: return assign(e, Ity_I1, IRExpr_Unop(Iop_CmpNEZ16, v));
   case Ity_I32: return assign(e, Ity_I1, IRExpr_Unop(Iop_CmpNEZ32, v));
   case Ity_I64: return assign(e, Ity_I1, IRExpr_Unop(Iop_CmpNEZ64, v));
   case Ity_I128: {
      IRAtom *o = assign(e, Ity_I64, IRExpr_Binop(Iop_Or64, assign(e, Ity_I64, IRExpr_Unop(Iop_128HIto64, v)),
                                                   assign(e, Ity_I64, IRExpr_Unop(Iop_128to64, v))));
      return assign(e, Ity_I1, IRExpr_Unop(Iop_CmpNEZ64, o));
   }
   case Ity_V128: {
      IRAtom *o = assign(e, Ity_I64, IRExpr_Binop(Iop_Or64, assign(e, Ity_I64, IRExpr_Unop(Iop_V128HIto64, v)),
                                                   assign(e, Ity_I64, IRExpr_Unop(Iop_V128to64, v))));
      return assign(e, Ity_I1, IRExpr_Unop(Iop_CmpNEZ64, o));
   }
   case Ity_V256: {
      IRAtom *o = assign(e, Ity_V128, IRExpr_Binop(Iop_OrV128, assign(e, Ity_V128, IRExpr_Unop(Iop_V256toV128_0, v)),
                                                   assign(e, Ity_V128, IRExpr_Unop(Iop_V256toV128_1, v))));
      return to1(e, o);
   }
   default: VG_(tool_panic)("planegrind: to1");
   }
}

/* I1 -> a shadow of type ty that is all-tainted or all-clean */
static IRAtom *from1_(Env *e, IRAtom *b, IRType ty);
static IRAtom *from1(Env *e, IRAtom *b, IRType ty)
{
   IRAtom *r = from1_(e, b, ty);
   if (r->tag == Iex_RdTmp && b->tag != Iex_Const && r != b) memo_set(e, r, b, NULL);
   return r;
}

static IRAtom *from1_(Env *e, IRAtom *b, IRType ty)
{
   if (is_zero(b)) return zero(e, ty);
   switch (ty) {
   case Ity_I1: return b;
   case Ity_I8: return assign(e, ty, IRExpr_Unop(Iop_1Sto8, b));
   case Ity_I16: return assign(e, ty, IRExpr_Unop(Iop_1Sto16, b));
   case Ity_I32: return assign(e, ty, IRExpr_Unop(Iop_1Sto32, b));
   case Ity_I64: return assign(e, ty, IRExpr_Unop(Iop_1Sto64, b));
   case Ity_I128: {
      IRAtom *w = from1(e, b, Ity_I64);
      return assign(e, ty, IRExpr_Binop(Iop_64HLto128, w, w));
   }
   case Ity_V128: {
      IRAtom *w = from1(e, b, Ity_I64);
      return assign(e, ty, IRExpr_Binop(Iop_64HLtoV128, w, w));
   }
   case Ity_V256: {
      IRAtom *w = from1(e, b, Ity_V128);
      return assign(e, ty, IRExpr_Binop(Iop_V128HLtoV256, w, w));
   }
   default: VG_(tool_panic)("planegrind: from1");
   }
}

static IRAtom *or1(Env *e, IRAtom *a, IRAtom *b)
{
   if (!a || is_zero(a)) return b;
   if (!b || is_zero(b)) return a;
   return assign(e, Ity_I1, IRExpr_Binop(Iop_Or1, a, b));
}

static IROp or_op(IRType ty)
{
   switch (ty) {
   case Ity_I1: return Iop_Or1;
   case Ity_I8: return Iop_Or8;
   case Ity_I16: return Iop_Or16;
   case Ity_I32: return Iop_Or32;
   case Ity_I64: return Iop_Or64;
   case Ity_V128: return Iop_OrV128;
   case Ity_V256: return Iop_OrV256;
   default: VG_(tool_panic)("planegrind: or_op");
   }
}

static IRAtom *or_sh(Env *e, IRType ty, IRAtom *a, IRAtom *b)
{
   if (is_zero(a)) return b;
   if (is_zero(b)) return a;
   if (ty == Ity_I128) {
      IRAtom *hi = assign(e, Ity_I64, IRExpr_Binop(Iop_Or64, assign(e, Ity_I64, IRExpr_Unop(Iop_128HIto64, a)),
                                                   assign(e, Ity_I64, IRExpr_Unop(Iop_128HIto64, b))));
      IRAtom *lo = assign(e, Ity_I64, IRExpr_Binop(Iop_Or64, assign(e, Ity_I64, IRExpr_Unop(Iop_128to64, a)),
                                                   assign(e, Ity_I64, IRExpr_Unop(Iop_128to64, b))));
      return assign(e, ty, IRExpr_Binop(Iop_64HLto128, hi, lo));
   }
   return assign(e, ty, IRExpr_Binop(or_op(ty), a, b));
}

/* r = a | b of two shadows: r's taint test is a's or b's (test_set) */
static void or2_note(Env *e, IRAtom *r, IRAtom *a, IRAtom *b)
{
   if (r->tag != Iex_RdTmp || r == a || r == b) return;
   UInt h = r->Iex.RdTmp.tmp % N_OR2;
   e->or2[h].r = r->Iex.RdTmp.tmp;
   e->or2[h].a = a;
   e->or2[h].b = b;
}

static IRAtom *or_sh_noted(Env *e, IRType ty, IRAtom *a, IRAtom *b)
{
   IRAtom *r = or_sh(e, ty, a, b);
   or2_note(e, r, a, b);
   return r;
}

/* ---- label pairs ---- */

static const LP lp_none = { NULL, NULL };

static LP lp_of(Env *e, IRAtom *a)
{
   if (a && a->tag == Iex_RdTmp && a->Iex.RdTmp.tmp < e->n_orig) return e->lmap[a->Iex.RdTmp.tmp];
   return lp_none;
}

/* the source pairs pair p is the max of; a pair first seen is a source of its own (a fresh bit; when a
   cache collision forgot a pair it gets a new one, which is only less precise) */
static ULong lp_leaves(Env *e, LP p)
{
   if (p.hi->tag != Iex_RdTmp || p.lo->tag != Iex_RdTmp) return LEAVES_UNKNOWN;
   IRTemp t = p.hi->Iex.RdTmp.tmp, u = p.lo->Iex.RdTmp.tmp;
   UInt h = t % N_LSET;
   if (e->lset[h].set && e->lset[h].hi == t && e->lset[h].lo == u) return e->lset[h].set;
   if (e->n_leaves == 64) return LEAVES_UNKNOWN;
   e->lset[h].hi = t;
   e->lset[h].lo = u;
   e->lset[h].set = 1ULL << e->n_leaves++;
   return e->lset[h].set;
}

static LP lp_merge(Env *e, LP a, LP b)
{
   if (!a.hi) return b;
   if (!b.hi || (a.hi == b.hi && a.lo == b.lo)) return a;
   /* max is idempotent: a pair already made of the other's sources is the merge */
   ULong sa = lp_leaves(e, a), sb = lp_leaves(e, b);
   Bool known = sa != LEAVES_UNKNOWN && sb != LEAVES_UNKNOWN;
   if (known && !(sb & ~sa)) return a;
   if (known && !(sa & ~sb)) return b;
   LP r = { assign(e, Ity_I32, IRExpr_Binop(Iop_Max32U, a.hi, b.hi)),
            assign(e, Ity_I32, IRExpr_Binop(Iop_Max32U, a.lo, b.lo)) };
   if (known) {
      UInt h = r.hi->Iex.RdTmp.tmp % N_LSET;
      e->lset[h].hi = r.hi->Iex.RdTmp.tmp;
      e->lset[h].lo = r.lo->Iex.RdTmp.tmp;
      e->lset[h].set = sa | sb;
   }
   return r;
}

/* the pair of a value with one source label l (I32, 0 = clean) */
static LP lp_label(Env *e, IRAtom *l)
{
   LP r = { l, assign(e, Ity_I32, IRExpr_Binop(Iop_Sub32, IRExpr_Const(IRConst_U32(0)), l)) };
   return r;
}

static LP lp_args(Env *e, IRExpr **args, Int n)
{
   LP r = lp_none;
   for (Int i = 0; i < n; i++)
      if (args[i] && !is_IRExpr_VECRET_or_GSPTR(args[i])) r = lp_merge(e, r, lp_of(e, args[i]));
   return r;
}

/* the pair as one I64 for a helper argument (pg_label_of_pair decodes it) */
static IRAtom *lp_pack(Env *e, LP p)
{
   if (!p.hi) return IRExpr_Const(IRConst_U64(0));
   return assign(e, Ity_I64, IRExpr_Binop(Iop_32HLto64, p.hi, p.lo));
}

/* Where a register's pair lives in shadow area 2: two I32 at the start of its 8-byte chunk. Not
   for the flags thunk, the stack and instruction pointers: they are written by nearly every
   instruction and their taint, when any, has a fallback label (the last tainted load's). */
static Int lp_slot(Env *e, Int off)
{
   Int c = off & ~7;
   if (c == offsetof(VexGuestAMD64State, guest_CC_OP) || c == offsetof(VexGuestAMD64State, guest_CC_DEP1) ||
       c == offsetof(VexGuestAMD64State, guest_CC_DEP2) || c == offsetof(VexGuestAMD64State, guest_CC_NDEP) ||
       c == offsetof(VexGuestAMD64State, guest_RSP) || c == e->offIP || c + 8 > e->gso)
      return -1;
   return 2 * e->gso + c;
}

/* A register's pair: read from its slot once per block, then what the block last put there. */
static LP lp_get(Env *e, Int off)
{
   Int slot = lp_slot(e, off);
   if (slot < 0) return lp_none;
   LP *c = &e->slot_lp[(off & ~7) / 8];
   if (!c->hi) {
      /* two 4-byte loads: cheaper than one 8-byte load split by a shift (and packed again to store) */
      c->hi = assign(e, Ity_I32, IRExpr_Get(slot, Ity_I32));
      c->lo = assign(e, Ity_I32, IRExpr_Get(slot + 4, Ity_I32));
   }
   return *c;
}

/* a write of size bytes at guest offset off with provenance p: whole chunks get p (clean: none);
   a write of part of a chunk replaces its pair only when p has a source */
static void lp_put(Env *e, Int off, Int size, LP p)
{
   IRAtom *z = IRExpr_Const(IRConst_U32(0));
   for (Int c = off & ~7; c < off + size; c += 8) {
      Int slot = lp_slot(e, c);
      if (slot < 0) continue;
      Bool whole = c >= off && c + 8 <= off + size;
      if (!p.hi && !whole) continue;
      LP *cached = &e->slot_lp[c / 8];
      LP w = { p.hi ? p.hi : z, p.hi ? p.lo : z };
      if (cached->hi == w.hi && cached->lo == w.lo) continue;   /* the slot holds it already */
      /* hi at slot, lo at slot + 4; a clean pair is one 8-byte store of zero */
      if (!p.hi) {
         stmt(e, IRStmt_Put(slot, IRExpr_Const(IRConst_U64(0))));
      } else {
         stmt(e, IRStmt_Put(slot, w.hi));
         stmt(e, IRStmt_Put(slot + 4, w.lo));
      }
      *cached = w;
   }
}

static void lp_set(Env *e, IRTemp t, LP p)
{
   if (t < e->n_orig) e->lmap[t] = p;
}

/* forgets what the block knows of bytes [off, off + size) of the guest state or shadow area 1 */
static void gs_forget(Env *e, Int off, Int size)
{
   Int from = off >= 32 ? off - 31 : 0, to = off + size;
   if (to > 2 * e->gso) to = 2 * e->gso;
   for (Int o = from; o < to; o++)
      if (e->gs_val[o] && o + e->gs_size[o] > off) e->gs_val[o] = NULL;
}

/* the atom whose value v is, through the shadow temps assigned a copy (each instruction's shadow of a
   register is a temp of its own, often a copy of the one before) */
static IRAtom *copy_root(Env *e, IRAtom *v)
{
   for (Int i = 0; i < 8 && v->tag == Iex_RdTmp; i++) {
      UInt h = v->Iex.RdTmp.tmp % N_COPY;
      if (e->copy[h].t != v->Iex.RdTmp.tmp || !e->copy[h].v) break;
      v = e->copy[h].v;
   }
   return v;
}

static Bool gs_holds(Env *e, Int off, Int size, IRAtom *v)
{
   return e->gs_track && off + size <= 2 * e->gso && e->gs_val[off] && e->gs_size[off] == size &&
          eqIRAtom(e->gs_val[off], copy_root(e, v));
}

/* bytes [off, off + size) now hold v */
static void gs_note(Env *e, Int off, Int size, IRAtom *v)
{
   v = copy_root(e, v);
   if (off + size > 2 * e->gso) return;
   gs_forget(e, off, size);
   e->gs_val[off] = v;
   e->gs_size[off] = size;
}

/* the atom guest state bytes [off, off + sizeof ty) hold, when the block knows one of that type */
static IRAtom *gs_known(Env *e, Int off, IRType ty)
{
   Int size = sizeofIRType(ty);
   if (!e->gs_track || off + size > 2 * e->gso || !e->gs_val[off] || e->gs_size[off] != size) return NULL;
   return typeOfIRExpr(e->sb->tyenv, e->gs_val[off]) == ty ? e->gs_val[off] : NULL;
}

/* Puts shadow s of a size-byte write at guest offset off. A clean constant where the block already
   put one (e.g. the flags thunk's unused fields, written by every compare) needs no store: it is
   there still, also after a side exit not taken. */
static void sh_put(Env *e, Int off, Int size, IRAtom *s)
{
   Bool z = is_zero(s);
   if (z && off + size <= e->gso) {
      Int i = 0;
      while (i < size && e->sh_zero[off + i]) i++;
      if (i == size) return;
   }
   if (gs_holds(e, off + e->gso, size, s)) return;
   stmt(e, IRStmt_Put(off + e->gso, s));
   gs_note(e, off + e->gso, size, s);
   for (Int i = off; i < off + size && i < e->gso; i++) e->sh_zero[i] = z;
}

static void touch(Env *e, IRAtom *v);

/* the bit of test b (I1) in this segment's mask, added if new (mask_new_atoms makes its IR) */
static ULong atom_bit(Env *e, IRAtom *b)
{
   if (is_zero(b)) return 0;
   UInt j = 0;
   while (j < e->n_atoms && !eqIRAtom(e->atoms[j], b)) j++;
   if (j == e->n_atoms) {
      if (j == MAX_ATOMS) return SET_FULL;
      e->atoms[e->n_atoms++] = b;
   }
   return 1ULL << j;
}

/* ORs the bits of the tests added since the last call into the segment's mask; done at each
   instruction's end so the bits are made where the tests are last used (shorter live ranges) */
static void mask_new_atoms(Env *e)
{
   for (; e->n_masked < e->n_atoms; e->n_masked++) {
      UInt j = e->n_masked;
      IRAtom *bit = assign(e, Ity_I64, IRExpr_Unop(Iop_1Uto64, e->atoms[j]));
      if (j) bit = assign(e, Ity_I64, IRExpr_Binop(Iop_Shl64, bit, IRExpr_Const(IRConst_U8(j))));
      e->seg_mask = e->seg_mask ? assign(e, Ity_I64, IRExpr_Binop(Iop_Or64, e->seg_mask, bit)) : bit;
   }
}

/* the tests whose OR says whether shadow v is non-zero: an OR of two shadows is the union of theirs */
static ULong test_set(Env *e, IRAtom *v, Int depth)
{
   if (is_zero(v)) return 0;
   v = memo_root(e, v);
   UInt h = 0;
   if (v->tag == Iex_RdTmp) {
      IRTemp t = v->Iex.RdTmp.tmp;
      h = t % N_TSET;
      if (e->tset[h].sh == t && e->tset[h].gen == e->atoms_gen) return e->tset[h].set;
      UInt o = t % N_OR2;
      if (depth < 4 && e->or2[o].r == t && e->or2[o].a) {
         ULong a = test_set(e, e->or2[o].a, depth + 1), b = test_set(e, e->or2[o].b, depth + 1);
         if (a != SET_FULL && b != SET_FULL) {
            e->tset[h].sh = t;
            e->tset[h].gen = e->atoms_gen;
            e->tset[h].set = a | b;
            return a | b;
         }
      }
   }
   ULong set = atom_bit(e, to1(e, v));
   if (v->tag == Iex_RdTmp && set != SET_FULL) {
      e->tset[h].sh = v->Iex.RdTmp.tmp;
      e->tset[h].gen = e->atoms_gen;
      e->tset[h].set = set;
   }
   return set;
}

/* the current instruction touched tainted data if one of the tests in set is true; v: the shadow
   (or I1) they test, for inline counting when they do not fit */
static void acc_add(Env *e, ULong set, IRAtom *v)
{
   if (!set || !e->insn || e->seg_n == 0) return;
   UInt k = e->seg_n - 1;
   if (!e->acc_inline && set != SET_FULL) {
      e->atoms_of[k] |= set;
      return;
   }
   if (!e->acc_inline) {
      /* no bit left: this instruction is counted inline, by the OR of all its tests */
      e->acc_inline = True;
      e->acc = NULL;
      for (UInt j = 0; j < e->n_atoms; j++)
         if (e->atoms_of[k] >> j & 1) e->acc = or1(e, e->acc, e->atoms[j]);
      e->atoms_of[k] = 0;
   }
   e->acc = or1(e, e->acc, to1(e, v));
}

/* the instruction touched tainted data if shadow v is non-zero; p: that data's provenance */
static void touch_lp(Env *e, IRAtom *v, LP p)
{
   if (is_zero(v)) return;
   if (p.hi) e->ins_lp = p;
   touch(e, v);
}

/* the instruction touched tainted data if shadow v is non-zero */
static void touch(Env *e, IRAtom *v)
{
   if (is_zero(v)) return;
   v = memo_root(e, v);
   if (v->tag == Iex_RdTmp) {
      /* an instruction often writes one value to several places (register and flags thunk) */
      for (Int i = 0; i < e->n_touched; i++)
         if (e->touched[i] == v->Iex.RdTmp.tmp) return;
      if (e->n_touched < 16) e->touched[e->n_touched++] = v->Iex.RdTmp.tmp;
   }
   acc_add(e, test_set(e, v, 0), v);
}

/* the n-ary rule: result of type ty tainted iff any argument is */
static IRAtom *nary(Env *e, IRType ty, IRExpr **args, Int n)
{
   IRAtom *any = NULL, *first = NULL, *second = NULL;
   Int parts = 0;
   for (Int i = 0; i < n; i++) {
      if (!args[i] || is_IRExpr_VECRET_or_GSPTR(args[i])) continue;
      IRAtom *s = sh(e, args[i]);
      if (is_zero(s)) continue;
      if (parts == 0) first = s;
      else if (parts == 1) second = s;
      parts++;
      any = or1(e, any, to1(e, s));
   }
   if (!any) return zero(e, shadow_ty(ty));
   IRAtom *r = from1(e, any, shadow_ty(ty));
   if (parts == 2) or2_note(e, r, first, second);
   return r;
}

/* ---- vector lanes ---- */

/* lane size in bytes of a lane-wise vector op whose lanes depend only on the same lanes of the
   operands (0: not such an op) */
static Int lane_bytes(IROp op)
{
   switch (op) {
   case Iop_Add8x16: case Iop_Sub8x16: case Iop_QAdd8Ux16: case Iop_QAdd8Sx16: case Iop_QSub8Ux16:
   case Iop_QSub8Sx16: case Iop_Avg8Ux16: case Iop_Max8Ux16: case Iop_Max8Sx16: case Iop_Min8Ux16:
   case Iop_Min8Sx16: case Iop_CmpEQ8x16: case Iop_CmpGT8Sx16: case Iop_CmpGT8Ux16:
   case Iop_Add8x32: case Iop_Sub8x32: case Iop_QAdd8Ux32: case Iop_QAdd8Sx32: case Iop_QSub8Ux32:
   case Iop_QSub8Sx32: case Iop_Avg8Ux32: case Iop_Max8Ux32: case Iop_Max8Sx32: case Iop_Min8Ux32:
   case Iop_Min8Sx32: case Iop_CmpEQ8x32: case Iop_CmpGT8Sx32:
      return 1;
   case Iop_Add16x8: case Iop_Sub16x8: case Iop_QAdd16Ux8: case Iop_QAdd16Sx8: case Iop_QSub16Ux8:
   case Iop_QSub16Sx8: case Iop_Avg16Ux8: case Iop_Max16Sx8: case Iop_Min16Sx8: case Iop_Max16Ux8:
   case Iop_Min16Ux8: case Iop_Mul16x8: case Iop_MulHi16Ux8: case Iop_MulHi16Sx8: case Iop_CmpEQ16x8:
   case Iop_CmpGT16Sx8: case Iop_ShlN16x8: case Iop_ShrN16x8: case Iop_SarN16x8:
   case Iop_Add16x16: case Iop_Sub16x16: case Iop_QAdd16Ux16: case Iop_QAdd16Sx16: case Iop_QSub16Ux16:
   case Iop_QSub16Sx16: case Iop_Avg16Ux16: case Iop_Max16Sx16: case Iop_Min16Sx16: case Iop_Max16Ux16:
   case Iop_Min16Ux16: case Iop_Mul16x16: case Iop_MulHi16Ux16: case Iop_MulHi16Sx16: case Iop_CmpEQ16x16:
   case Iop_CmpGT16Sx16: case Iop_ShlN16x16: case Iop_ShrN16x16: case Iop_SarN16x16:
      return 2;
   case Iop_Add32x4: case Iop_Sub32x4: case Iop_Mul32x4: case Iop_Max32Sx4: case Iop_Min32Sx4:
   case Iop_Max32Ux4: case Iop_Min32Ux4: case Iop_CmpEQ32x4: case Iop_CmpGT32Sx4: case Iop_ShlN32x4:
   case Iop_ShrN32x4: case Iop_SarN32x4: case Iop_CmpEQ32Fx4: case Iop_CmpLT32Fx4: case Iop_CmpLE32Fx4:
   case Iop_CmpUN32Fx4: case Iop_Max32Fx4: case Iop_Min32Fx4:
   case Iop_Add32x8: case Iop_Sub32x8: case Iop_Mul32x8: case Iop_Max32Sx8: case Iop_Min32Sx8:
   case Iop_Max32Ux8: case Iop_Min32Ux8: case Iop_CmpEQ32x8: case Iop_CmpGT32Sx8: case Iop_ShlN32x8:
   case Iop_ShrN32x8: case Iop_SarN32x8: case Iop_Max32Fx8: case Iop_Min32Fx8:
      return 4;
   case Iop_Add64x2: case Iop_Sub64x2: case Iop_CmpEQ64x2: case Iop_CmpGT64Sx2: case Iop_ShlN64x2:
   case Iop_ShrN64x2: case Iop_CmpEQ64Fx2: case Iop_CmpLT64Fx2: case Iop_CmpLE64Fx2: case Iop_CmpUN64Fx2:
   case Iop_Max64Fx2: case Iop_Min64Fx2:
   case Iop_Add64x4: case Iop_Sub64x4: case Iop_CmpEQ64x4: case Iop_CmpGT64Sx4: case Iop_ShlN64x4:
   case Iop_ShrN64x4: case Iop_Max64Fx4: case Iop_Min64Fx4:
      return 8;
   default:
      return 0;
   }
}

static Int fp_lane_bytes(IROp op)   /* triops: rounding mode x V x V */
{
   switch (op) {
   case Iop_Add32Fx4: case Iop_Sub32Fx4: case Iop_Mul32Fx4: case Iop_Div32Fx4:
   case Iop_Add32Fx8: case Iop_Sub32Fx8: case Iop_Mul32Fx8: case Iop_Div32Fx8:
      return 4;
   case Iop_Add64Fx2: case Iop_Sub64Fx2: case Iop_Mul64Fx2: case Iop_Div64Fx2:
   case Iop_Add64Fx4: case Iop_Sub64Fx4: case Iop_Mul64Fx4: case Iop_Div64Fx4:
      return 8;
   default:
      return 0;
   }
}

/* every lane of v with a tainted byte becomes fully tainted */
static IRAtom *lane_pcast(Env *e, IRType ty, IRAtom *v, Int lane)
{
   if (lane == 1 || is_zero(v)) return v;
   IROp op;
   if (ty == Ity_V128) op = lane == 2 ? Iop_CmpNEZ16x8 : lane == 4 ? Iop_CmpNEZ32x4 : Iop_CmpNEZ64x2;
   else op = lane == 2 ? Iop_CmpNEZ16x16 : lane == 4 ? Iop_CmpNEZ32x8 : Iop_CmpNEZ64x4;
   if (ty == Ity_V256 && lane == 8) {
      /* no CmpNEZ64x4 on all hosts' back ends: do it per half */
      IRAtom *lo = assign(e, Ity_V128, IRExpr_Unop(Iop_CmpNEZ64x2, assign(e, Ity_V128, IRExpr_Unop(Iop_V256toV128_0, v))));
      IRAtom *hi = assign(e, Ity_V128, IRExpr_Unop(Iop_CmpNEZ64x2, assign(e, Ity_V128, IRExpr_Unop(Iop_V256toV128_1, v))));
      return assign(e, ty, IRExpr_Binop(Iop_V128HLtoV256, hi, lo));
   }
   return assign(e, ty, IRExpr_Unop(op, v));
}

/* ---- expressions ---- */

static IRAtom *shift_const(Env *e, IROp op, IRType ty, IRAtom *sv, UInt k)
{
   UInt w = sizeofIRType(ty) * 8;
   if (k >= w) k = w - 1;
   UInt lo = (k / 8) * 8, hi = lo + 8;
   IRAtom *a = lo ? assign(e, ty, IRExpr_Binop(op, sv, IRExpr_Const(IRConst_U8(lo)))) : sv;
   if (k % 8 == 0) return a;
   if (hi >= w) {
      Bool sar = op == Iop_Sar8 || op == Iop_Sar16 || op == Iop_Sar32 || op == Iop_Sar64;
      if (!sar) return a;
      hi = w - 8;
   }
   IRAtom *b = assign(e, ty, IRExpr_Binop(op, sv, IRExpr_Const(IRConst_U8(hi))));
   return or_sh(e, ty, a, b);
}

/* a constant AND mask keeps only the bytes it can let through */
static IRAtom *and_const(Env *e, IRType ty, IRAtom *sv, IRConst *c)
{
   ULong v;
   switch (c->tag) {
   case Ico_U8: v = c->Ico.U8; break;
   case Ico_U16: v = c->Ico.U16; break;
   case Ico_U32: v = c->Ico.U32; break;
   case Ico_U64: v = c->Ico.U64; break;
   default: return sv;
   }
   ULong m = 0;
   for (Int i = 0; i < 8; i++)
      if ((v >> (8 * i)) & 0xFF) m |= 0xFFULL << (8 * i);
   IRConst *mc;
   IROp op;
   switch (ty) {
   case Ity_I8: mc = IRConst_U8((UChar)m); op = Iop_And8; break;
   case Ity_I16: mc = IRConst_U16((UShort)m); op = Iop_And16; break;
   case Ity_I32: mc = IRConst_U32((UInt)m); op = Iop_And32; break;
   case Ity_I64: mc = IRConst_U64(m); op = Iop_And64; break;
   default: return sv;
   }
   if (m == 0) return zero(e, ty);
   return assign(e, ty, IRExpr_Binop(op, sv, IRExpr_Const(mc)));
}

static IRAtom *sh_unop(Env *e, IROp op, IRAtom *arg, IRType rty)
{
   IRAtom *s = sh(e, arg);
   IRType sty = shadow_ty(rty);
   switch (op) {
   /* identity on the bits: the shadow is unchanged */
   case Iop_Not8: case Iop_Not16: case Iop_Not32: case Iop_Not64: case Iop_NotV128: case Iop_NotV256:
   case Iop_ReinterpF64asI64: case Iop_ReinterpI64asF64: case Iop_ReinterpF32asI32: case Iop_ReinterpI32asF32:
      return s;
   /* byte movement: the same operation on the shadow */
   case Iop_8Uto16: case Iop_8Uto32: case Iop_8Uto64: case Iop_16Uto32: case Iop_16Uto64: case Iop_32Uto64:
   case Iop_8Sto16: case Iop_8Sto32: case Iop_8Sto64: case Iop_16Sto32: case Iop_16Sto64: case Iop_32Sto64:
   case Iop_64to8: case Iop_64to16: case Iop_64to32: case Iop_32to8: case Iop_32to16: case Iop_16to8:
   case Iop_64HIto32: case Iop_32HIto16: case Iop_16HIto8: case Iop_128to64: case Iop_128HIto64:
   case Iop_V128to64: case Iop_V128HIto64: case Iop_V128to32: case Iop_64UtoV128: case Iop_32UtoV128:
   case Iop_V256toV128_0: case Iop_V256toV128_1: case Iop_V256to64_0: case Iop_V256to64_1:
   case Iop_V256to64_2: case Iop_V256to64_3: case Iop_1Sto8: case Iop_1Sto16: case Iop_1Sto32: case Iop_1Sto64:
   case Iop_32to1: case Iop_64to1: {
      if (is_zero(s)) return zero(e, sty);
      if (op == Iop_64to32 || op == Iop_64to16 || op == Iop_64to8 || op == Iop_32to16 || op == Iop_32to8 ||
          op == Iop_16to8 || op == Iop_V128to64) {
         /* the low part of a widening of x is x (each instruction re-narrows what the last widened) */
         IRAtom *w = widened_from(e, s);
         if (w && typeOfIRExpr(e->sb->tyenv, w) == sty) return w;
      }
      IRAtom *r = assign(e, sty, IRExpr_Unop(op, s));
      switch (op) {
      case Iop_8Uto16: case Iop_8Uto32: case Iop_8Uto64: case Iop_16Uto32: case Iop_16Uto64: case Iop_32Uto64:
      case Iop_8Sto16: case Iop_8Sto32: case Iop_8Sto64: case Iop_16Sto32: case Iop_16Sto64: case Iop_32Sto64:
      case Iop_64UtoV128: case Iop_32UtoV128:
         memo_set(e, r, NULL, s);   /* widening keeps every byte */
         break;
      default:
         break;
      }
      return r;
   }
   case Iop_1Uto8:
      return from1(e, s, Ity_I8);
   case Iop_1Uto32:
      if (is_zero(s)) return zero(e, sty);
      return assign(e, sty, IRExpr_Unop(Iop_8Uto32, from1(e, s, Ity_I8)));
   case Iop_1Uto64:
      if (is_zero(s)) return zero(e, sty);
      return assign(e, sty, IRExpr_Unop(Iop_8Uto64, from1(e, s, Ity_I8)));
   default: {
      IRExpr *args[1] = { arg };
      return nary(e, rty, args, 1);
   }
   }
}

static IRAtom *sh_binop(Env *e, IROp op, IRAtom *a1, IRAtom *a2, IRType rty)
{
   IRType sty = shadow_ty(rty);
   /* zeroing idioms: x-x, x^x give constants */
   if (a1->tag == Iex_RdTmp && a2->tag == Iex_RdTmp && a1->Iex.RdTmp.tmp == a2->Iex.RdTmp.tmp) {
      switch (op) {
      case Iop_Xor8: case Iop_Xor16: case Iop_Xor32: case Iop_Xor64: case Iop_XorV128: case Iop_XorV256:
      case Iop_Sub8: case Iop_Sub16: case Iop_Sub32: case Iop_Sub64:
      case Iop_Sub8x16: case Iop_Sub16x8: case Iop_Sub32x4: case Iop_Sub64x2:
      case Iop_Sub8x32: case Iop_Sub16x16: case Iop_Sub32x8: case Iop_Sub64x4:
      case Iop_CmpEQ8x16: case Iop_CmpEQ16x8: case Iop_CmpEQ32x4: case Iop_CmpEQ64x2:
      case Iop_CmpGT8Sx16: case Iop_CmpGT16Sx8: case Iop_CmpGT32Sx4: case Iop_CmpGT64Sx2:
         return zero(e, sty);
      default: break;
      }
   }
   IRAtom *s1 = sh(e, a1), *s2 = sh(e, a2);
   switch (op) {
   case Iop_CasCmpEQ8: case Iop_CasCmpEQ16: case Iop_CasCmpEQ32: case Iop_CasCmpEQ64:
   case Iop_CasCmpNE8: case Iop_CasCmpNE16: case Iop_CasCmpNE32: case Iop_CasCmpNE64:
      return zero(e, sty);   /* a CAS loop's success test is synchronisation, not data */
   case Iop_8HLto16: case Iop_16HLto32: case Iop_32HLto64: case Iop_64HLto128: case Iop_64HLtoV128:
   case Iop_V128HLtoV256:
      if (is_zero(s1) && is_zero(s2)) return zero(e, sty);
      return assign(e, sty, IRExpr_Binop(op, s1, s2));
   case Iop_And8: case Iop_And16: case Iop_And32: case Iop_And64:
      if (a2->tag == Iex_Const) return and_const(e, sty, s1, a2->Iex.Const.con);
      if (a1->tag == Iex_Const) return and_const(e, sty, s2, a1->Iex.Const.con);
      return or_sh_noted(e, sty, s1, s2);
   case Iop_Or8: case Iop_Or16: case Iop_Or32: case Iop_Or64: case Iop_Xor8: case Iop_Xor16: case Iop_Xor32:
   case Iop_Xor64: case Iop_AndV128: case Iop_OrV128: case Iop_XorV128: case Iop_AndV256: case Iop_OrV256:
   case Iop_XorV256: case Iop_Or1: case Iop_And1:
      return or_sh_noted(e, sty, s1, s2);
   case Iop_Shl8: case Iop_Shl16: case Iop_Shl32: case Iop_Shl64: case Iop_Shr8: case Iop_Shr16:
   case Iop_Shr32: case Iop_Shr64: case Iop_Sar8: case Iop_Sar16: case Iop_Sar32: case Iop_Sar64:
      if (a2->tag == Iex_Const) {
         if (is_zero(s1)) return zero(e, sty);
         return shift_const(e, op, sty, s1, a2->Iex.Const.con->Ico.U8);
      }
      break;
   case Iop_ShlV128: case Iop_ShrV128:
      if (a2->tag == Iex_Const && a2->Iex.Const.con->Ico.U8 % 8 == 0) {
         if (is_zero(s1)) return zero(e, sty);
         return assign(e, sty, IRExpr_Binop(op, s1, a2));
      }
      break;
   default:
      break;
   }
   Int lane = lane_bytes(op);
   if (lane && (sty == Ity_V128 || sty == Ity_V256)) {
      /* vector shifts by a scalar amount: a tainted amount taints everything */
      IRType t2 = typeOfIRExpr(e->sb->tyenv, s2);
      IRAtom *b = t2 == sty ? s2 : from1(e, to1(e, s2), sty);
      return lane_pcast(e, sty, or_sh(e, sty, s1, b), lane);
   }
   IRExpr *args[2] = { a1, a2 };
   return nary(e, rty, args, 2);
}

static IRAtom *load_shadow(Env *e, IRType ty, IRAtom *addr, LP *lp);

static IRAtom *sh_expr(Env *e, IRExpr *x, IRType ty)
{
   IRType sty = shadow_ty(ty);
   switch (x->tag) {
   case Iex_Const:
      return zero(e, sty);
   case Iex_RdTmp:
      return sh(e, x);
   case Iex_Get: {
      Int off = x->Iex.Get.offset + e->gso;
      IRAtom *k = gs_known(e, off, sty);
      if (k) return k;
      IRAtom *v = assign(e, sty, IRExpr_Get(off, sty));
      gs_note(e, off, sizeofIRType(sty), v);
      return v;
   }
   case Iex_GetI: {
      IRRegArray *d = x->Iex.GetI.descr;
      IRRegArray *sd = mkIRRegArray(d->base + e->gso, shadow_ty(d->elemTy), d->nElems);
      return assign(e, sty, IRExpr_GetI(sd, x->Iex.GetI.ix, x->Iex.GetI.bias));
   }
   case Iex_Unop:
      return sh_unop(e, x->Iex.Unop.op, x->Iex.Unop.arg, ty);
   case Iex_Binop:
      return sh_binop(e, x->Iex.Binop.op, x->Iex.Binop.arg1, x->Iex.Binop.arg2, ty);
   case Iex_Triop: {
      IRTriop *t = x->Iex.Triop.details;
      Int lane = fp_lane_bytes(t->op);
      if (lane) {
         IRAtom *v = or_sh(e, sty, sh(e, t->arg2), sh(e, t->arg3));
         IRAtom *rm = to1(e, sh(e, t->arg1));
         if (!is_zero(rm)) v = or_sh(e, sty, v, from1(e, rm, sty));
         return lane_pcast(e, sty, v, lane);
      }
      IRExpr *args[3] = { t->arg1, t->arg2, t->arg3 };
      return nary(e, ty, args, 3);
   }
   case Iex_Qop: {
      IRQop *q = x->Iex.Qop.details;
      IRExpr *args[4] = { q->arg1, q->arg2, q->arg3, q->arg4 };
      return nary(e, ty, args, 4);
   }
   case Iex_ITE: {
      IRAtom *st = sh(e, x->Iex.ITE.iftrue), *sf = sh(e, x->Iex.ITE.iffalse);
      IRAtom *r = (is_zero(st) && is_zero(sf)) ? zero(e, sty)
                  : assign(e, sty, IRExpr_ITE(x->Iex.ITE.cond, st, sf));
      IRAtom *c = sh(e, x->Iex.ITE.cond);
      if (!is_zero(c)) r = or_sh(e, sty, r, from1(e, c, sty));
      return r;
   }
   case Iex_CCall: {
      Int n = 0;
      while (x->Iex.CCall.args[n]) n++;
      return nary(e, ty, x->Iex.CCall.args, n);
   }
   case Iex_Load:
      return load_shadow(e, ty, x->Iex.Load.addr, NULL);
   default:
      VG_(tool_panic)("planegrind: sh_expr");
   }
}

/* the provenance of a (non-load) expression: its operands' merged */
static LP lp_expr(Env *e, IRExpr *x)
{
   switch (x->tag) {
   case Iex_RdTmp:
      return lp_of(e, x);
   case Iex_Get:
      return lp_get(e, x->Iex.Get.offset);
   case Iex_Unop:
      return lp_of(e, x->Iex.Unop.arg);
   case Iex_Binop:
      return lp_merge(e, lp_of(e, x->Iex.Binop.arg1), lp_of(e, x->Iex.Binop.arg2));
   case Iex_Triop: {
      IRTriop *t = x->Iex.Triop.details;
      IRExpr *args[3] = { t->arg1, t->arg2, t->arg3 };
      return lp_args(e, args, 3);
   }
   case Iex_Qop: {
      IRQop *q = x->Iex.Qop.details;
      IRExpr *args[4] = { q->arg1, q->arg2, q->arg3, q->arg4 };
      return lp_args(e, args, 4);
   }
   case Iex_ITE: {
      IRExpr *args[3] = { x->Iex.ITE.cond, x->Iex.ITE.iftrue, x->Iex.ITE.iffalse };
      return lp_args(e, args, 3);
   }
   case Iex_CCall: {
      Int n = 0;
      while (x->Iex.CCall.args[n]) n++;
      return lp_args(e, x->Iex.CCall.args, n);
   }
   default:   /* constants; GetI (x87 registers) has no pairs */
      return lp_none;
   }
}

/* ---- memory ---- */

/* the current instruction for a helper's argument (statements before a block's first IMark have none) */
static PG_Insn no_insn;
static IRAtom *insn_arg(Env *e)
{
   return mkIRExpr_HWord((HWord)(e->insn ? e->insn : &no_insn));
}

/* a folded pointer site's arguments (pointer()), once */
static void site_args(Env *e, IRAtom **sa, IRAtom **hi)
{
   *sa = e->site_sa ? e->site_sa : IRExpr_Const(IRConst_U64(0));
   *hi = e->site_hi ? e->site_hi : IRExpr_Const(IRConst_U64(0));
   e->site_sa = e->site_hi = NULL;
}

/* returns the V-bits (I64); *lab gets the loaded bytes' label (I32) */
static IRAtom *call_load(Env *e, Int size, IRAtom *addr, IRAtom **lab)
{
   IRTemp t = newIRTemp(e->sb->tyenv, Ity_I64);
   const HChar *name;
   void *fn;
   switch (size) {
   case 1: name = "pg_load1"; fn = pg_load1; break;
   case 2: name = "pg_load2"; fn = pg_load2; break;
   case 4: name = "pg_load4"; fn = pg_load4; break;
   default: name = "pg_load8"; fn = pg_load8; break;
   }
   IRAtom *sa, *hi;
   site_args(e, &sa, &hi);
   IRDirty *d = unsafeIRDirty_1_N(t, 2, name, VG_(fnptr_to_fnentry)(fn), mkIRExprVec_4(addr, insn_arg(e), sa, hi));
   if (size == 8) {
      /* it writes pg_ld_label, read just after */
      d->mFx = Ifx_Write;
      d->mAddr = IRExpr_Const(IRConst_U64((HWord)&pg_ld_label));
      d->mSize = 4;
   }
   stmt(e, IRStmt_Dirty(d));
   if (size == 8) *lab = assign(e, Ity_I32, IRExpr_Load(Iend_LE, Ity_I32, IRExpr_Const(IRConst_U64((HWord)&pg_ld_label))));
   else *lab = assign(e, Ity_I32, IRExpr_Unop(Iop_64HIto32, IRExpr_RdTmp(t)));
   return IRExpr_RdTmp(t);
}

static IRAtom *add_addr(Env *e, IRAtom *addr, Int k)
{
   if (k == 0) return addr;
   return assign(e, Ity_I64, IRExpr_Binop(Iop_Add64, addr, IRExpr_Const(IRConst_U64(k))));
}

/* the shadow of a load of type ty from addr; *lp (when asked for) gets its provenance */
static IRAtom *load_shadow(Env *e, IRType ty, IRAtom *addr, LP *lp)
{
   IRType sty = shadow_ty(ty);
   IRAtom *l0, *l1, *r;
   switch (sty) {
   case Ity_I8: r = assign(e, sty, IRExpr_Unop(Iop_64to8, call_load(e, 1, addr, &l0))); break;
   case Ity_I16: r = assign(e, sty, IRExpr_Unop(Iop_64to16, call_load(e, 2, addr, &l0))); break;
   case Ity_I32: r = assign(e, sty, IRExpr_Unop(Iop_64to32, call_load(e, 4, addr, &l0))); break;
   case Ity_I64: r = call_load(e, 8, addr, &l0); break;
   case Ity_I128: {
      IRAtom *lo = call_load(e, 8, addr, &l0), *hi = call_load(e, 8, add_addr(e, addr, 8), &l1);
      r = assign(e, sty, IRExpr_Binop(Iop_64HLto128, hi, lo));
      l0 = assign(e, Ity_I32, IRExpr_Binop(Iop_Max32U, l0, l1));
      break;
   }
   case Ity_V128: case Ity_V256: {
      /* one call for the whole vector (as memcheck's LOADV128/256) */
      IRTemp t = newIRTemp(e->sb->tyenv, sty);
      IRAtom *sa, *hi;
      site_args(e, &sa, &hi);
      Bool v2 = sty == Ity_V256;
      IRDirty *d = unsafeIRDirty_1_N(t, 0, v2 ? "pg_load32" : "pg_load16",
                                     VG_(fnptr_to_fnentry)(v2 ? (void *)pg_load32 : (void *)pg_load16),
                                     mkIRExprVec_5(IRExpr_VECRET(), addr, insn_arg(e), sa, hi));
      d->mFx = Ifx_Write;
      d->mAddr = IRExpr_Const(IRConst_U64((HWord)&pg_ld_label));
      d->mSize = 4;
      stmt(e, IRStmt_Dirty(d));
      l0 = assign(e, Ity_I32, IRExpr_Load(Iend_LE, Ity_I32, IRExpr_Const(IRConst_U64((HWord)&pg_ld_label))));
      r = IRExpr_RdTmp(t);
      break;
   }
   default:
      VG_(tool_panic)("planegrind: load_shadow");
   }
   if (lp) *lp = lp_label(e, l0);
   return r;
}

static void call_store(Env *e, Int size, IRAtom *addr, IRAtom *v64, IRAtom *guard, IRAtom *pair)
{
   const HChar *name;
   void *fn;
   switch (size) {
   case 1: name = "pg_store1"; fn = pg_store1; break;
   case 2: name = "pg_store2"; fn = pg_store2; break;
   case 4: name = "pg_store4"; fn = pg_store4; break;
   default: name = "pg_store8"; fn = pg_store8; break;
   }
   IRAtom *sa, *hi;
   site_args(e, &sa, &hi);
   IRDirty *d = unsafeIRDirty_0_N(3, name, VG_(fnptr_to_fnentry)(fn),
                                  mkIRExprVec_6(addr, v64, pair, insn_arg(e), sa, hi));
   if (guard) d->guard = guard;
   stmt(e, IRStmt_Dirty(d));
}

/* stores shadow sv (type of the stored data's shadow) with provenance p at addr */
static void store_shadow(Env *e, IRAtom *addr, IRAtom *sv, IRAtom *guard, LP p)
{
   IRType sty = typeOfIRExpr(e->sb->tyenv, sv);
   IRAtom *pair = is_zero(sv) ? IRExpr_Const(IRConst_U64(0)) : lp_pack(e, p);
   switch (sty) {
   case Ity_I8: call_store(e, 1, addr, is_zero(sv) ? zero(e, Ity_I64) : assign(e, Ity_I64, IRExpr_Unop(Iop_8Uto64, sv)), guard, pair); break;
   case Ity_I16: call_store(e, 2, addr, is_zero(sv) ? zero(e, Ity_I64) : assign(e, Ity_I64, IRExpr_Unop(Iop_16Uto64, sv)), guard, pair); break;
   case Ity_I32: call_store(e, 4, addr, is_zero(sv) ? zero(e, Ity_I64) : assign(e, Ity_I64, IRExpr_Unop(Iop_32Uto64, sv)), guard, pair); break;
   case Ity_I64: call_store(e, 8, addr, sv, guard, pair); break;
   case Ity_I128:
      call_store(e, 8, addr, is_zero(sv) ? zero(e, Ity_I64) : assign(e, Ity_I64, IRExpr_Unop(Iop_128to64, sv)), guard, pair);
      call_store(e, 8, add_addr(e, addr, 8), is_zero(sv) ? zero(e, Ity_I64) : assign(e, Ity_I64, IRExpr_Unop(Iop_128HIto64, sv)), guard, pair);
      break;
   case Ity_V128: case Ity_V256: {
      /* one call for the whole vector; a folded pointer site gets its own call */
      IRAtom *sa, *ahi;
      site_args(e, &sa, &ahi);
      if (!is_zero(sa)) {
         IRDirty *sd = unsafeIRDirty_0_N(3, "pg_site_hit", VG_(fnptr_to_fnentry)(pg_site_hit),
                                         mkIRExprVec_3(mkIRExpr_HWord((HWord)(e->insn ? e->insn : &no_insn) | 1), addr, ahi));
         IRAtom *t = to1(e, sa);
         sd->guard = guard ? assign(e, Ity_I1, IRExpr_Binop(Iop_And1, t, guard)) : t;
         stmt(e, IRStmt_Dirty(sd));
      }
      static const IROp part[4] = { Iop_V256to64_0, Iop_V256to64_1, Iop_V256to64_2, Iop_V256to64_3 };
      IRAtom *q[4];
      Int n = sty == Ity_V256 ? 4 : 2;
      for (Int i = 0; i < n; i++)
         q[i] = is_zero(sv) ? zero(e, Ity_I64)
                : assign(e, Ity_I64, IRExpr_Unop(n == 4 ? part[i] : i ? Iop_V128HIto64 : Iop_V128to64, sv));
      IRDirty *d = n == 4
         ? unsafeIRDirty_0_N(3, "pg_store32", VG_(fnptr_to_fnentry)(pg_store32), mkIRExprVec_6(addr, q[0], q[1], q[2], q[3], pair))
         : unsafeIRDirty_0_N(3, "pg_store16", VG_(fnptr_to_fnentry)(pg_store16), mkIRExprVec_4(addr, q[0], q[1], pair));
      if (guard) d->guard = guard;
      stmt(e, IRStmt_Dirty(d));
      break;
   }
   default:
      VG_(tool_panic)("planegrind: store_shadow");
   }
}

/* a load or store through addr: records a tainted pointer site; under the sensitive policy the
   address's taint joins the value's (and *lp gets the address's provenance). Returns the address
   taint as I1 (or zero). */
static IRAtom *pointer(Env *e, IRAtom *addr, Bool is_store, IRAtom *guard, LP *lp, Bool fold)
{
   IRAtom *sa = sh(e, addr);
   if (lp) *lp = lp_none;
   if (is_zero(sa)) return IRExpr_Const(IRConst_U1(False));
   LP ap = lp_of(e, addr);
   if (fold && pg_clo_policy == PG_POLICY_INSENSITIVE) {
      /* the access's own helper records the site: no separate guarded call */
      e->site_sa = sa;
      e->site_hi = ap.hi ? assign(e, Ity_I64, IRExpr_Unop(Iop_32Uto64, ap.hi)) : IRExpr_Const(IRConst_U64(0));
      return IRExpr_Const(IRConst_U1(False));
   }
   IRAtom *t = to1(e, sa);
   if (guard) t = assign(e, Ity_I1, IRExpr_Binop(Iop_And1, t, guard));
   /* the instruction with is_store in bit 0; the address's largest source label */
   IRDirty *d = unsafeIRDirty_0_N(3, "pg_site_hit", VG_(fnptr_to_fnentry)(pg_site_hit),
                                  mkIRExprVec_3(mkIRExpr_HWord((HWord)(e->insn ? e->insn : &no_insn) | is_store), addr,
                                                ap.hi ? assign(e, Ity_I64, IRExpr_Unop(Iop_32Uto64, ap.hi)) : IRExpr_Const(IRConst_U64(0))));
   d->guard = t;
   stmt(e, IRStmt_Dirty(d));
   if (pg_clo_policy == PG_POLICY_SENSITIVE) {
      acc_add(e, atom_bit(e, t), t);
      if (lp) *lp = ap;
      return t;
   }
   return IRExpr_Const(IRConst_U1(False));
}

/* ---- per-instruction and per-segment accounting ---- */

/* Tainted executions: an instruction's taint is a set of the segment's tests (acc_add); one guarded
   helper at the segment's end credits the instructions (pg_seg_tainted) only when the run's mask
   differs from the last one's, so clean code pays a few ALU ops per test and no memory access. */
static void end_insn(Env *e)
{
   if (e->insn && e->acc_inline && e->acc && !is_zero(e->acc)) {
      /* insn->tainted += acc, inline */
      IRAtom *a = IRExpr_Const(IRConst_U64((HWord)&e->insn->tainted));
      IRAtom *v = assign(e, Ity_I64, IRExpr_Load(Iend_LE, Ity_I64, a));
      IRAtom *w = assign(e, Ity_I64, IRExpr_Binop(Iop_Add64, v, assign(e, Ity_I64, IRExpr_Unop(Iop_1Uto64, e->acc))));
      stmt(e, IRStmt_Store(Iend_LE, a, w));
   }
   mask_new_atoms(e);
   if (e->insn && e->seg_n && (e->acc_inline || e->atoms_of[e->seg_n - 1]) && e->ins_lp.hi) e->seg_lp = e->ins_lp;
   e->acc_inline = False;
   e->acc = NULL;
   e->n_touched = 0;
   e->ins_lp = lp_none;
}

PG_Seg *pg_cur_seg = NULL;   /* the segment executing now (for exact icount at a stop) */
/* With stop support: the instructions left before the stop-at target, counted down by a whole segment
   as it starts (a stop gives back the part not run, pg_seg_left_at); PG_BUDGET_NONE with no target.
   The live instruction count is pg_budget_base - pg_stop_budget, so a segment pays one load, one
   subtraction and one store for both the count and the check. */
#define PG_BUDGET_NONE (1LL << 62)
Long  pg_stop_budget = PG_BUDGET_NONE;
static ULong pg_budget_base = PG_BUDGET_NONE;

ULong pg_live_icount(void)
{
   return pg_budget_base - (ULong)pg_stop_budget;
}

/* arms a stop when at instructions have completed; at 0 cancels */
void pg_stop_set(ULong at)
{
   ULong live = pg_live_icount();
   pg_stop_armed = at != 0;
   pg_stop_budget = at ? (Long)(at - live) : PG_BUDGET_NONE;
   pg_budget_base = live + (ULong)pg_stop_budget;
   pg_precise_armed_changed();
}

/* A segment's counter is bumped where it starts; since its instructions are known only at its end,
   the increment is written then into slots reserved at the start. */
#define SEG_SLOTS 12
static void begin_seg(Env *e, Int *start_stmt)
{
   e->seg_n = 0;
   *start_stmt = e->sb->stmts_used;
   /* placeholders, patched by end_seg */
   for (Int i = 0; i < SEG_SLOTS; i++) stmt(e, IRStmt_NoOp());
}

/* Sets the range the scheduler discards on an Ijk_InvalICache exit: the translations holding ip. */
static VG_REGPARM(2) void pg_stop_near(VexGuestAMD64State *g, Addr ip)
{
   g->guest_CMSTART = ip;
   g->guest_CMLEN = 1;
}

static void end_seg(Env *e, Int start_stmt)
{
   if (e->seg_n == 0) return;
   PG_Seg *s = pg_seg_new(e->seg, e->seg_n, e->atoms_of);
   IRStmt **slot = &e->sb->stmts[start_stmt];
   Int n = 0;
   if (pg_stop_support) {
      IRAtom *ba = IRExpr_Const(IRConst_U64((HWord)&pg_stop_budget));
      IRTemp b = newIRTemp(e->sb->tyenv, Ity_I64), w = newIRTemp(e->sb->tyenv, Ity_I64);
      slot[n++] = IRStmt_WrTmp(b, IRExpr_Load(Iend_LE, Ity_I64, ba));
      slot[n++] = IRStmt_WrTmp(w, IRExpr_Binop(Iop_Sub64, IRExpr_RdTmp(b), IRExpr_Const(IRConst_U64(e->seg_n))));
      if (!e->exact) {
         /* Made while no stop-at was armed, so there is no check per instruction: if the target is
            reached (or passed) within this segment, leave before it, discarding this translation; the
            scheduler translates from here again, now with a check before every instruction. */
         IRTemp hit = newIRTemp(e->sb->tyenv, Ity_I1);
         Addr ip0 = e->seg[0]->addr;
         slot[n++] = IRStmt_WrTmp(hit, IRExpr_Binop(Iop_CmpLT64S, IRExpr_RdTmp(b), IRExpr_Const(IRConst_U64(e->seg_n))));
         IRDirty *d = unsafeIRDirty_0_N(2, "pg_stop_near", VG_(fnptr_to_fnentry)(pg_stop_near),
                                        mkIRExprVec_2(IRExpr_GSPTR(), mkIRExpr_HWord(ip0)));
         d->guard = IRExpr_RdTmp(hit);
         d->nFxState = 2;
         VG_(memset)(d->fxState, 0, sizeof d->fxState);
         d->fxState[0].fx = Ifx_Write;
         d->fxState[0].offset = offsetof(VexGuestAMD64State, guest_CMSTART);
         d->fxState[0].size = 8;
         d->fxState[1].fx = Ifx_Write;
         d->fxState[1].offset = offsetof(VexGuestAMD64State, guest_CMLEN);
         d->fxState[1].size = 8;
         slot[n++] = IRStmt_Dirty(d);
         slot[n++] = IRStmt_Exit(IRExpr_RdTmp(hit), Ijk_InvalICache, IRConst_U64(ip0), e->offIP);
      }
      slot[n++] = IRStmt_Store(Iend_LE, ba, IRExpr_RdTmp(w));
      /* which segment runs: for an instruction-exact icount at a stop (pg_live_icount_exact) */
      slot[n++] = IRStmt_Store(Iend_LE, IRExpr_Const(IRConst_U64((HWord)&pg_cur_seg)),
                               IRExpr_Const(IRConst_U64((HWord)s)));
   }
   IRAtom *a = IRExpr_Const(IRConst_U64((HWord)&s->count));
   IRTemp v = newIRTemp(e->sb->tyenv, Ity_I64), w = newIRTemp(e->sb->tyenv, Ity_I64);
   slot[n++] = IRStmt_WrTmp(v, IRExpr_Load(Iend_LE, Ity_I64, a));
   slot[n++] = IRStmt_WrTmp(w, IRExpr_Binop(Iop_Add64, IRExpr_RdTmp(v), IRExpr_Const(IRConst_U64(1))));
   slot[n++] = IRStmt_Store(Iend_LE, a, IRExpr_RdTmp(w));
   tl_assert(n <= SEG_SLOTS);
   for (UInt i = 0; i < e->n_stop_c; i++) e->stop_c[i]->Ico.U64 -= e->seg_n;   /* k - n */
   e->n_stop_c = 0;
   ULong used = 0;   /* the tests this segment's instructions use */
   for (UInt k = 0; k < e->seg_n; k++) used |= e->atoms_of[k];
   if (used) {
      IRAtom *mask = e->seg_mask;
      if (used != (1ULL << e->n_atoms) - 1)   /* n_atoms <= MAX_ATOMS < 64 */ mask = assign(e, Ity_I64, IRExpr_Binop(Iop_And64, mask, IRExpr_Const(IRConst_U64(used))));
      IRDirty *d = unsafeIRDirty_0_N(3, "pg_seg_tainted", VG_(fnptr_to_fnentry)(pg_seg_tainted),
                                     mkIRExprVec_3(mkIRExpr_HWord((HWord)s), mask,
                                                   e->seg_lp.hi ? assign(e, Ity_I64, IRExpr_Unop(Iop_32Uto64, e->seg_lp.hi))
                                                                : IRExpr_Const(IRConst_U64(0))));
      /* only when this run's mask differs from the segment's last one (pg_seg_tainted) */
      IRAtom *last = assign(e, Ity_I64, IRExpr_Load(Iend_LE, Ity_I64, IRExpr_Const(IRConst_U64((HWord)&s->t_mask))));
      d->guard = assign(e, Ity_I1, IRExpr_Binop(Iop_CmpNE64, mask, last));
      stmt(e, IRStmt_Dirty(d));
   }
   /* between segments (and in the scheduler, a syscall) no segment is part-way run */
   if (pg_stop_support)
      stmt(e, IRStmt_Store(Iend_LE, IRExpr_Const(IRConst_U64((HWord)&pg_cur_seg)), IRExpr_Const(IRConst_U64(0))));
   for (UInt k = 0; k < e->seg_n; k++) e->atoms_of[k] = 0;
   if (e->n_atoms > MAX_ATOMS / 2) {
      /* the next segment numbers its tests afresh, so that it has bits left */
      e->n_atoms = e->n_masked = 0;
      e->atoms_gen++;
      e->seg_mask = NULL;
   }
   e->seg_n = 0;
   e->seg_lp = lp_none;
}

/* Stop checks. Translations cannot be discarded from inside gdbserver (a stop is a helper call), so
   every translation made with stop support checks once per segment whether the target falls in it
   (end_seg); translations made while a stop-at is armed check before each instruction (stop_check). */
static VG_REGPARM(3) void pg_stop_hit(PG_Insn *in, ULong mask, ULong k)
{
   /* called only when the target's instructions have completed; the side exit after it is then taken,
      so the segment's end does not run: count its tainted executions so far here */
   Bool armed = pg_stop_armed;
   if (pg_cur_seg) pg_seg_tainted_part(pg_cur_seg, mask, (UInt)k);
   pg_seg_left_at((UInt)k);
   pg_stop_set(0);
   if (armed) VG_(gdbserver)(VG_(get_running_tid)());
}

/* Before instruction k of the segment: if the target's instructions have completed, hand the thread to
   gdb. The helper is declared to read the whole guest state, so VEX writes every register back before
   it even under --vgdb=yes (gdb sees exact registers). After gdb resumes, a side exit to the same
   instruction returns to the scheduler: the rest of this translation was made before gdb's
   requests, and a `stepi` or a new breakpoint needs a fresh, gdbserver-instrumented translation
   from this instruction on. The instruction itself has not run yet, so it is not counted twice. */
static void stop_check(Env *e, Addr ip)
{
   UInt k = e->seg_n - 1;
   /* the budget was counted down by the whole segment (n) at its start: k instructions of it have
      completed, so the target is reached when budget - (k - n) <= 0. Loaded here each time: gdb may
      arm a new target at a breakpoint in the middle of the segment. */
   IRAtom *left = assign(e, Ity_I64, IRExpr_Load(Iend_LE, Ity_I64, IRExpr_Const(IRConst_U64((HWord)&pg_stop_budget))));
   IRAtom *hit = assign(e, Ity_I1, IRExpr_Binop(Iop_CmpLE64S, left,
                                                IRExpr_Const(e->stop_c[e->n_stop_c++] = IRConst_U64(k))));
   stmt(e, IRStmt_Put(e->offIP, IRExpr_Const(IRConst_U64(ip))));
   gs_note(e, e->offIP, 8, IRExpr_Const(IRConst_U64(ip)));
   IRDirty *d = unsafeIRDirty_0_N(3, "pg_stop_hit", VG_(fnptr_to_fnentry)(pg_stop_hit),
                                  mkIRExprVec_3(mkIRExpr_HWord((HWord)e->insn),
                                                e->seg_mask ? e->seg_mask : IRExpr_Const(IRConst_U64(0)),
                                                IRExpr_Const(IRConst_U64(k))));
   d->guard = hit;
   d->nFxState = 1;
   d->fxState[0].fx = Ifx_Read;
   d->fxState[0].offset = 0;
   d->fxState[0].size = e->gso;         /* the whole guest state (shadows excluded) */
   d->fxState[0].nRepeats = 0;
   d->fxState[0].repeatLen = 0;
   stmt(e, IRStmt_Dirty(d));
   stmt(e, IRStmt_Exit(hit, Ijk_Boring, IRConst_U64(ip), e->offIP));
}

/* ---- statements ---- */

static void do_dirty(Env *e, IRStmt *st)
{
   IRDirty *d = st->Ist.Dirty.details;
   IRAtom *any = NULL;
   for (Int i = 0; d->args[i]; i++) {
      if (is_IRExpr_VECRET_or_GSPTR(d->args[i])) continue;
      any = or1(e, any, to1(e, sh(e, d->args[i])));
   }
   for (Int i = 0; i < d->nFxState; i++) {
      if (d->fxState[i].fx == Ifx_Write) continue;
      for (Int r = 0; r <= d->fxState[i].nRepeats; r++) {
         Int off = d->fxState[i].offset + r * d->fxState[i].repeatLen;
         for (Int k = 0; k < d->fxState[i].size; k += 8) {
            Int left = d->fxState[i].size - k;
            IRType t = left >= 8 ? Ity_I64 : left >= 4 ? Ity_I32 : left >= 2 ? Ity_I16 : Ity_I8;
            any = or1(e, any, to1(e, assign(e, t, IRExpr_Get(off + k + e->gso, t))));
            if (left < 8) k -= 8 - sizeofIRType(t);   /* step by the size just read */
         }
      }
   }
   if (d->mFx == Ifx_Read || d->mFx == Ifx_Modify) {
      IRTemp t = newIRTemp(e->sb->tyenv, Ity_I64);
      IRDirty *ld = unsafeIRDirty_1_N(t, 2, "pg_load_any", VG_(fnptr_to_fnentry)(pg_load_any),
                                      mkIRExprVec_2(d->mAddr, IRExpr_Const(IRConst_U64(d->mSize))));
      stmt(e, IRStmt_Dirty(ld));
      any = or1(e, any, to1(e, IRExpr_RdTmp(t)));
   }
   /* provenance: the arguments' (guest state and memory inputs fall back to the last tainted load) */
   Int nargs = 0;
   while (d->args[nargs]) nargs++;
   LP lp = any ? lp_args(e, d->args, nargs) : lp_none;
   if (any) touch_lp(e, any, lp);
   stmt(e, st);
   for (Int i = 0; i < d->nFxState; i++)
      if (d->fxState[i].fx != Ifx_Read)
         for (Int r = 0; r <= d->fxState[i].nRepeats; r++)
            gs_forget(e, d->fxState[i].offset + r * d->fxState[i].repeatLen, d->fxState[i].size);
   IRAtom *taint = any ? any : IRExpr_Const(IRConst_U1(False));
   if (d->tmp != IRTemp_INVALID) {
      IRType ty = typeOfIRTemp(e->sb->tyenv, d->tmp);
      stmt(e, IRStmt_WrTmp(shadow_tmp(e, d->tmp), from1(e, taint, shadow_ty(ty))));
      lp_set(e, d->tmp, lp);
   }
   for (Int i = 0; i < d->nFxState; i++) {
      if (d->fxState[i].fx == Ifx_Read) continue;
      for (Int r = 0; r <= d->fxState[i].nRepeats; r++) {
         Int off = d->fxState[i].offset + r * d->fxState[i].repeatLen;
         for (Int k = 0; k < d->fxState[i].size;) {
            Int left = d->fxState[i].size - k;
            IRType t = left >= 8 ? Ity_I64 : left >= 4 ? Ity_I32 : left >= 2 ? Ity_I16 : Ity_I8;
            sh_put(e, off + k, sizeofIRType(t), from1(e, taint, t));
            k += sizeofIRType(t);
         }
         lp_put(e, off, d->fxState[i].size, lp);
      }
   }
   if (d->mFx == Ifx_Write || d->mFx == Ifx_Modify) {
      IRAtom *t64 = is_zero(taint) ? zero(e, Ity_I64) : assign(e, Ity_I64, IRExpr_Unop(Iop_1Uto64, taint));
      IRDirty *sd = unsafeIRDirty_0_N(3, "pg_store_range", VG_(fnptr_to_fnentry)(pg_store_range),
                                      mkIRExprVec_4(d->mAddr, IRExpr_Const(IRConst_U64(d->mSize)), t64, lp_pack(e, lp)));
      sd->guard = d->guard;
      stmt(e, IRStmt_Dirty(sd));
   }
}

static void do_cas(Env *e, IRStmt *st)
{
   IRCAS *c = st->Ist.CAS.details;
   IRType ty = typeOfIRExpr(e->sb->tyenv, c->dataLo);
   Int sz = sizeofIRType(ty);
   IRAtom *addr_hi = c->oldHi != IRTemp_INVALID ? add_addr(e, c->addr, sz) : NULL;
   pointer(e, c->addr, True, NULL, NULL, False);
   LP lp_lo, lp_hi = lp_none;
   IRAtom *old_lo = load_shadow(e, ty, c->addr, &lp_lo);
   IRAtom *old_hi = addr_hi ? load_shadow(e, ty, addr_hi, &lp_hi) : NULL;
   stmt(e, st);
   stmt(e, IRStmt_WrTmp(shadow_tmp(e, c->oldLo), old_lo));
   lp_set(e, c->oldLo, lp_lo);
   if (addr_hi) {
      stmt(e, IRStmt_WrTmp(shadow_tmp(e, c->oldHi), old_hi));
      lp_set(e, c->oldHi, lp_hi);
   }
   IROp eq = sz == 1 ? Iop_CasCmpEQ8 : sz == 2 ? Iop_CasCmpEQ16 : sz == 4 ? Iop_CasCmpEQ32 : Iop_CasCmpEQ64;
   IRAtom *ok = assign(e, Ity_I1, IRExpr_Binop(eq, IRExpr_RdTmp(c->oldLo), c->expdLo));
   if (addr_hi) {
      IRAtom *ok2 = assign(e, Ity_I1, IRExpr_Binop(eq, IRExpr_RdTmp(c->oldHi), c->expdHi));
      ok = assign(e, Ity_I1, IRExpr_Binop(Iop_And1, ok, ok2));
   }
   IRAtom *sd = sh(e, c->dataLo);
   touch_lp(e, sd, lp_of(e, c->dataLo));
   touch_lp(e, old_lo, lp_lo);
   store_shadow(e, c->addr, sd, ok, lp_of(e, c->dataLo));
   if (addr_hi) {
      IRAtom *sd2 = sh(e, c->dataHi);
      touch_lp(e, sd2, lp_of(e, c->dataHi));
      store_shadow(e, addr_hi, sd2, ok, lp_of(e, c->dataHi));
   }
}

static void do_stmt(Env *e, IRStmt *st)
{
   IRTypeEnv *tyenv = e->sb->tyenv;
   switch (st->tag) {
   case Ist_WrTmp: {
      IRExpr *x = st->Ist.WrTmp.data;
      IRType ty = typeOfIRTemp(tyenv, st->Ist.WrTmp.tmp);
      IRAtom *v;
      LP lp;
      if (x->tag == Iex_Load) {
         LP ap;
         IRAtom *pt = pointer(e, x->Iex.Load.addr, False, NULL, &ap, True);
         v = load_shadow(e, ty, x->Iex.Load.addr, &lp);
         if (!is_zero(pt)) {
            v = or_sh(e, shadow_ty(ty), v, from1(e, pt, shadow_ty(ty)));
            lp = lp_merge(e, lp, ap);
         }
         touch_lp(e, v, lp);
      } else {
         v = sh_expr(e, x, ty);
         lp = is_zero(v) ? lp_none : lp_expr(e, x);
         if (e->escapes[st->Ist.WrTmp.tmp]) touch_lp(e, v, lp);
      }
      stmt(e, IRStmt_WrTmp(shadow_tmp(e, st->Ist.WrTmp.tmp), v));
      memo_copy(e, shadow_tmp(e, st->Ist.WrTmp.tmp), v);
      lp_set(e, st->Ist.WrTmp.tmp, lp);
      stmt(e, st);
      /* the register holds this temp now (unless the block knows it holds another one equal to it) */
      if (x->tag == Iex_Get && x->Iex.Get.offset + sizeofIRType(ty) <= e->gso && !e->gs_val[x->Iex.Get.offset])
         gs_note(e, x->Iex.Get.offset, sizeofIRType(ty), IRExpr_RdTmp(st->Ist.WrTmp.tmp));
      break;
   }
   case Ist_Put: {
      IRAtom *s = sh(e, st->Ist.Put.data);
      IRType ty = typeOfIRExpr(tyenv, st->Ist.Put.data);
      LP lp = is_zero(s) ? lp_none : lp_of(e, st->Ist.Put.data);
      if (is_zero(s)) s = zero(e, shadow_ty(ty));
      sh_put(e, st->Ist.Put.offset, sizeofIRType(ty), s);
      lp_put(e, st->Ist.Put.offset, sizeofIRType(ty), lp);
      touch_lp(e, s, lp);
      if (!gs_holds(e, st->Ist.Put.offset, sizeofIRType(ty), st->Ist.Put.data)) {
         stmt(e, st);
         gs_note(e, st->Ist.Put.offset, sizeofIRType(ty), st->Ist.Put.data);
      }
      break;
   }
   case Ist_PutI: {
      IRPutI *p = st->Ist.PutI.details;
      IRRegArray *sd = mkIRRegArray(p->descr->base + e->gso, shadow_ty(p->descr->elemTy), p->descr->nElems);
      IRAtom *s = sh(e, p->data);
      stmt(e, IRStmt_PutI(mkIRPutI(sd, p->ix, p->bias, s)));
      Int len = p->descr->nElems * sizeofIRType(p->descr->elemTy);
      for (Int b = 0; b < len; b++)
         if (p->descr->base + b < e->gso) e->sh_zero[p->descr->base + b] = 0;
      gs_forget(e, p->descr->base, len);
      gs_forget(e, p->descr->base + e->gso, len);
      touch(e, s);
      stmt(e, st);
      break;
   }
   case Ist_Store: {
      LP ap;
      IRAtom *pt = pointer(e, st->Ist.Store.addr, True, NULL, &ap, True);
      IRAtom *s = sh(e, st->Ist.Store.data);
      LP lp = lp_of(e, st->Ist.Store.data);
      IRType sty = typeOfIRExpr(tyenv, s);
      if (!is_zero(pt)) {
         s = or_sh(e, sty, s, from1(e, pt, sty));
         lp = lp_merge(e, lp, ap);
      }
      touch_lp(e, s, lp);
      store_shadow(e, st->Ist.Store.addr, s, NULL, lp);
      stmt(e, st);
      break;
   }
   case Ist_StoreG: {
      IRStoreG *g = st->Ist.StoreG.details;
      LP ap;
      IRAtom *pt = pointer(e, g->addr, True, g->guard, &ap, False);
      IRAtom *s = sh(e, g->data);
      LP lp = lp_of(e, g->data);
      IRType sty = typeOfIRExpr(tyenv, s);
      if (!is_zero(pt)) {
         s = or_sh(e, sty, s, from1(e, pt, sty));
         lp = lp_merge(e, lp, ap);
      }
      if (!is_zero(s)) {
         IRAtom *t = assign(e, Ity_I1, IRExpr_Binop(Iop_And1, to1(e, s), g->guard));
         acc_add(e, atom_bit(e, t), t);
         if (lp.hi) e->ins_lp = lp;
      }
      store_shadow(e, g->addr, s, g->guard, lp);
      stmt(e, st);
      break;
   }
   case Ist_LoadG: {
      IRLoadG *g = st->Ist.LoadG.details;
      IRType lty, rty;
      typeOfIRLoadGOp(g->cvt, &rty, &lty);
      LP ap, lp;
      IRAtom *pt = pointer(e, g->addr, False, g->guard, &ap, False);
      IRAtom *v = load_shadow(e, lty, g->addr, &lp);
      IROp cv = Iop_INVALID;
      switch (g->cvt) {
      case ILGop_16Uto32: cv = Iop_16Uto32; break;
      case ILGop_16Sto32: cv = Iop_16Sto32; break;
      case ILGop_8Uto32: cv = Iop_8Uto32; break;
      case ILGop_8Sto32: cv = Iop_8Sto32; break;
      default: break;
      }
      if (cv != Iop_INVALID) v = assign(e, shadow_ty(rty), IRExpr_Unop(cv, v));
      if (!is_zero(pt)) {
         v = or_sh(e, shadow_ty(rty), v, from1(e, pt, shadow_ty(rty)));
         lp = lp_merge(e, lp, ap);
      }
      IRAtom *r = assign(e, shadow_ty(rty), IRExpr_ITE(g->guard, v, sh(e, g->alt)));
      lp = lp_merge(e, lp, lp_of(e, g->alt));
      touch_lp(e, r, lp);
      stmt(e, IRStmt_WrTmp(shadow_tmp(e, g->dst), r));
      lp_set(e, g->dst, lp);
      stmt(e, st);
      break;
   }
   case Ist_CAS:
      do_cas(e, st);
      break;
   case Ist_LLSC: {
      IRType ty;
      if (st->Ist.LLSC.storedata == NULL) {
         ty = typeOfIRTemp(tyenv, st->Ist.LLSC.result);
         LP lp;
         IRAtom *v = load_shadow(e, ty, st->Ist.LLSC.addr, &lp);
         touch_lp(e, v, lp);
         stmt(e, st);
         stmt(e, IRStmt_WrTmp(shadow_tmp(e, st->Ist.LLSC.result), v));
         lp_set(e, st->Ist.LLSC.result, lp);
      } else {
         stmt(e, st);
         IRAtom *s = sh(e, st->Ist.LLSC.storedata);
         touch_lp(e, s, lp_of(e, st->Ist.LLSC.storedata));
         store_shadow(e, st->Ist.LLSC.addr, s, IRExpr_RdTmp(st->Ist.LLSC.result), lp_of(e, st->Ist.LLSC.storedata));
         stmt(e, IRStmt_WrTmp(shadow_tmp(e, st->Ist.LLSC.result), IRExpr_Const(IRConst_U1(False))));
      }
      break;
   }
   case Ist_Dirty:
      do_dirty(e, st);
      break;
   case Ist_Exit:
      if (pg_clo_policy == PG_POLICY_SENSITIVE) touch_lp(e, sh(e, st->Ist.Exit.guard), lp_of(e, st->Ist.Exit.guard));
      stmt(e, st);
      break;
   case Ist_NoOp: case Ist_AbiHint: case Ist_MBE:
      stmt(e, st);
      break;
   default:
      ppIRStmt(st);
      VG_(tool_panic)("planegrind: unhandled statement");
   }
}

/* ---- temps that carry a value from one guest instruction to a later one ---- */

typedef struct { Int *def; IRTemp *copy_of; Bool *is_get, *own_use, *escapes; Int insn; } Uses;

/* temp t read; as_addr: as a load's or store's address */
static void uses_tmp(Uses *u, IRTemp t, Bool as_addr)
{
   if (u->copy_of[t] != IRTemp_INVALID) t = u->copy_of[t];   /* a use of a copy uses the original */
   if (u->def[t] < 0) return;
   if (u->def[t] == u->insn) u->own_use[t] = True;
   else if (!as_addr) u->escapes[t] = True;
}

static void uses_expr(Uses *u, IRExpr *x);
static void uses_addr(Uses *u, IRExpr *a)
{
   if (a && a->tag == Iex_RdTmp) uses_tmp(u, a->Iex.RdTmp.tmp, True);
   else uses_expr(u, a);
}

static void uses_expr(Uses *u, IRExpr *x)
{
   if (!x) return;
   switch (x->tag) {
   case Iex_RdTmp: uses_tmp(u, x->Iex.RdTmp.tmp, False); break;
   case Iex_Load: uses_addr(u, x->Iex.Load.addr); break;
   case Iex_Unop: uses_expr(u, x->Iex.Unop.arg); break;
   case Iex_Binop: uses_expr(u, x->Iex.Binop.arg1); uses_expr(u, x->Iex.Binop.arg2); break;
   case Iex_Triop:
      uses_expr(u, x->Iex.Triop.details->arg1); uses_expr(u, x->Iex.Triop.details->arg2);
      uses_expr(u, x->Iex.Triop.details->arg3);
      break;
   case Iex_Qop:
      uses_expr(u, x->Iex.Qop.details->arg1); uses_expr(u, x->Iex.Qop.details->arg2);
      uses_expr(u, x->Iex.Qop.details->arg3); uses_expr(u, x->Iex.Qop.details->arg4);
      break;
   case Iex_ITE: uses_expr(u, x->Iex.ITE.cond); uses_expr(u, x->Iex.ITE.iftrue); uses_expr(u, x->Iex.ITE.iffalse); break;
   case Iex_CCall:
      for (Int i = 0; x->Iex.CCall.args[i]; i++) uses_expr(u, x->Iex.CCall.args[i]);
      break;
   case Iex_GetI: uses_expr(u, x->Iex.GetI.ix); break;
   default: break;   /* Get, Const, VECRET, GSPTR */
   }
}

/* VEX keeps an instruction's result in a temp when the next instruction overwrites the register it
   was written to (the xor of `h = (h ^ b) * k`): that instruction then has no Put or Store of its
   own, and is counted as touching tainted data through the temp's shadow (do_stmt, WrTmp). Not
   counted: temps used only within their own instruction, a later instruction's use as an address
   (VEX shares address arithmetic between instructions; a load through a tainted address is the
   pointer policy's to judge), and a register read that its own instruction also used (VEX reuses
   one Get for later instructions: that is their read). A register read its instruction did nothing
   else with is a mov whose destination VEX dropped, and counts. */
static Bool *temps_escaping(IRSB *bb)
{
   Int n = bb->tyenv->types_used;
   Int m = n ? n : 1;
   Uses u = { PG_MALLOC("pg.def", m * sizeof(Int)), PG_MALLOC("pg.copy", m * sizeof(IRTemp)),
              PG_MALLOC("pg.get", m * sizeof(Bool)), PG_MALLOC("pg.own", m * sizeof(Bool)),
              PG_MALLOC("pg.esc", m * sizeof(Bool)), -1 };
   for (Int t = 0; t < n; t++) {
      u.def[t] = -1;
      u.copy_of[t] = IRTemp_INVALID;
      u.is_get[t] = u.own_use[t] = u.escapes[t] = False;
   }
   for (Int i = 0; i < bb->stmts_used; i++) {
      IRStmt *st = bb->stmts[i];
      switch (st->tag) {
      case Ist_IMark: u.insn++; break;
      case Ist_WrTmp: {
         IRExpr *x = st->Ist.WrTmp.data;
         IRTemp t = st->Ist.WrTmp.tmp;
         if (x->tag == Iex_RdTmp) {
            /* a copy: its uses are the original's */
            IRTemp o = x->Iex.RdTmp.tmp;
            u.copy_of[t] = u.copy_of[o] != IRTemp_INVALID ? u.copy_of[o] : o;
            break;
         }
         uses_expr(&u, x);
         if (x->tag != Iex_Const) u.def[t] = u.insn;
         u.is_get[t] = x->tag == Iex_Get || x->tag == Iex_GetI;
         break;
      }
      case Ist_Put: uses_expr(&u, st->Ist.Put.data); break;
      case Ist_PutI: uses_expr(&u, st->Ist.PutI.details->ix); uses_expr(&u, st->Ist.PutI.details->data); break;
      case Ist_Store: uses_addr(&u, st->Ist.Store.addr); uses_expr(&u, st->Ist.Store.data); break;
      case Ist_StoreG:
         uses_addr(&u, st->Ist.StoreG.details->addr); uses_expr(&u, st->Ist.StoreG.details->data);
         uses_expr(&u, st->Ist.StoreG.details->guard);
         break;
      case Ist_LoadG:
         uses_addr(&u, st->Ist.LoadG.details->addr); uses_expr(&u, st->Ist.LoadG.details->alt);
         uses_expr(&u, st->Ist.LoadG.details->guard);
         u.def[st->Ist.LoadG.details->dst] = u.insn;
         break;
      case Ist_CAS: {
         IRCAS *c = st->Ist.CAS.details;
         uses_addr(&u, c->addr); uses_expr(&u, c->expdHi); uses_expr(&u, c->expdLo);
         uses_expr(&u, c->dataHi); uses_expr(&u, c->dataLo);
         if (c->oldHi != IRTemp_INVALID) u.def[c->oldHi] = u.insn;
         u.def[c->oldLo] = u.insn;
         break;
      }
      case Ist_LLSC:
         uses_addr(&u, st->Ist.LLSC.addr); uses_expr(&u, st->Ist.LLSC.storedata);
         u.def[st->Ist.LLSC.result] = u.insn;
         break;
      case Ist_Dirty: {
         IRDirty *d = st->Ist.Dirty.details;
         uses_expr(&u, d->guard); uses_addr(&u, d->mAddr);
         for (Int k = 0; d->args[k]; k++) uses_expr(&u, d->args[k]);
         if (d->tmp != IRTemp_INVALID) u.def[d->tmp] = u.insn;
         break;
      }
      case Ist_Exit: uses_expr(&u, st->Ist.Exit.guard); break;
      default: break;
      }
   }
   /* a register read counts for its instruction only if that instruction did nothing else with it
      (a mov whose destination VEX dropped); else the later use is VEX reusing the read */
   for (Int t = 0; t < n; t++)
      if (u.is_get[t] && u.own_use[t]) u.escapes[t] = False;
   PG_FREE(u.def);
   PG_FREE(u.copy_of);
   PG_FREE(u.is_get);
   PG_FREE(u.own_use);
   return u.escapes;
}

Bool pg_shadows_on;

/* In the core, not in the tool headers; safe where the core itself discards (syscall wrappers,
   client requests), which is where taint first arrives: a read or mmap of user data, a tagged
   message, a client request. Never from generated code: no shadow is non-zero there yet. */
extern void VG_(discard_translations)(Addr start, ULong range, const HChar *who);

void pg_first_taint(void)
{
   if (pg_shadows_on) return;
   pg_shadows_on = True;
   VG_(discard_translations)(0, ~0ULL, "planegrind: first tainted byte");
}

IRSB *pg_instrument(VgCallbackClosure *closure, IRSB *bb, const VexGuestLayout *layout,
                    const VexGuestExtents *vge, const VexArchInfo *archinfo_host,
                    IRType gWordTy, IRType hWordTy)
{
   if (gWordTy != hWordTy) VG_(tool_panic)("planegrind: host/guest word size mismatch");
   pg_log_maybe_periodic();
   if (pg_stop_support) {
      IRSB *stub = pg_precise_check(bb, vge->base[0]);
      if (stub) return stub;
   }

   Env e;
   VG_(memset)(&e, 0, sizeof e);
   e.sb = deepCopyIRSBExceptStmts(bb);
   e.n_orig = bb->tyenv->types_used;
   e.tmap = PG_MALLOC("pg.tmap", (e.n_orig ? e.n_orig : 1) * sizeof(IRTemp));
   for (Int i = 0; i < e.n_orig; i++) e.tmap[i] = IRTemp_INVALID;
   e.lmap = PG_MALLOC("pg.lmap", (e.n_orig ? e.n_orig : 1) * sizeof(LP));
   for (Int i = 0; i < e.n_orig; i++) e.lmap[i] = lp_none;
   Bool shadows = pg_shadows_on;   /* else the statements go as they are, with the counting around them */
   e.escapes = shadows ? temps_escaping(bb) : NULL;
   e.atoms_gen = 1;   /* test-set cache entries of generation 0 are empty ones */
   e.gso = layout->total_sizeB;
   e.exact = pg_stop_support && pg_stop_armed;
   e.offIP = layout->offset_IP;
   e.slot_lp = PG_MALLOC("pg.slots", (e.gso / 8 + 1) * sizeof(LP));
   for (Int i = 0; i <= e.gso / 8; i++) e.slot_lp[i] = lp_none;
   e.sh_zero = PG_MALLOC("pg.shzero", e.gso + 1);
   VG_(memset)(e.sh_zero, 0, e.gso + 1);
   e.gs_val = PG_MALLOC("pg.gsval", 2 * e.gso * sizeof(IRAtom *));
   VG_(memset)(e.gs_val, 0, 2 * e.gso * sizeof(IRAtom *));
   e.gs_size = PG_MALLOC("pg.gssize", 2 * e.gso);
   e.gs_track = !pg_stop_support;

   void (*each)(Env *, IRStmt *) = shadows ? do_stmt : stmt;
   Int i = 0;
   /* statements before the first IMark (rare) are copied (with their shadows once there is taint) */
   while (i < bb->stmts_used && bb->stmts[i]->tag != Ist_IMark) each(&e, bb->stmts[i++]);

   Int seg_start;
   begin_seg(&e, &seg_start);
   for (; i < bb->stmts_used; i++) {
      IRStmt *st = bb->stmts[i];
      if (st->tag == Ist_IMark) {
         end_insn(&e);
         if (e.seg_n == MAX_SEG) { end_seg(&e, seg_start); begin_seg(&e, &seg_start); }
         e.insn = pg_insn_get(st->Ist.IMark.addr);
         e.seg[e.seg_n++] = e.insn;
         stmt(&e, st);
         if (e.exact) stop_check(&e, st->Ist.IMark.addr);
         continue;
      }
      if (st->tag == Ist_Exit) {
         if (pg_clo_policy == PG_POLICY_SENSITIVE && each == do_stmt) touch_lp(&e, sh(&e, st->Ist.Exit.guard), lp_of(&e, st->Ist.Exit.guard));
         end_insn(&e);
         end_seg(&e, seg_start);
         stmt(&e, st);
         /* an instruction counts once, in the segment where it starts */
         begin_seg(&e, &seg_start);
         continue;
      }
      each(&e, st);
   }
   end_insn(&e);
   end_seg(&e, seg_start);
   PG_FREE(e.tmap);
   PG_FREE(e.lmap);
   PG_FREE(e.escapes);
   PG_FREE(e.slot_lp);
   PG_FREE(e.sh_zero);
   PG_FREE(e.gs_val);
   PG_FREE(e.gs_size);
   return e.sb;
}
