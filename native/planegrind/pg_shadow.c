/* planegrind shadow memory: a two-level map like memcheck's. The primary map covers the low 128 GB
   (where Valgrind places client code, heap, mmaps and stacks on amd64-linux); higher addresses go to
   a small hash of secondaries. Each secondary covers 64 KB with one taint byte per byte (0 clean,
   0xFF tainted: loads return these bytes directly as V-bits) and one 32-bit provenance label per
   byte, in the same block: a secondary exists only once a tainted byte was stored in its chunk, and
   the kernel commits only the label pages that are written, so a separate label array would save no
   memory and cost a load helper one more dependent load. All untouched chunks share one clean,
   read-only secondary, so loads never need a NULL check and clean stores to it are no-ops. */
#include "pg_include.h"
#include "pub_tool_aspacemgr.h"

#define SEC_BITS   16
#define SEC_SIZE   (1UL << SEC_BITS)
#define PRIM_BITS  21                      /* 2^(21+16) = 128 GB */
#define PRIM_SIZE  (1UL << PRIM_BITS)
#define PRIM_LIMIT (1UL << (PRIM_BITS + SEC_BITS))

typedef struct {
   UChar v[SEC_SIZE];
   UInt lab[SEC_SIZE];                     /* meaningful where v is non-zero */
} Sec;

static Sec   clean_sec;                    /* shared, all zero; never written */
/* Static, so that a load helper reaches an entry with one load from a constant address. An entry is
   the secondary's distance from clean_sec: zero-filled means all clean, so the 16 MB need no
   initialisation and only the pages of chunks that were tainted get committed. */
static Long  primary[PRIM_SIZE];
static inline Sec *prim_sec(Addr a) { return (Sec *)((Addr)&clean_sec + primary[a >> SEC_BITS]); }
static ULong n_secs;

/* Secondaries above PRIM_LIMIT: open hashing on the chunk number. */
#define AUX_BUCKETS 4096
typedef struct Aux { struct Aux *next; Addr chunk; Sec *sec; } Aux;
static Aux *aux[AUX_BUCKETS];

PG_Label pg_cur_label;

/* zero-filled memory from the address space manager's shadow area (like memcheck's secondaries) */
static void *shadow_alloc(SizeT n, const HChar *what)
{
   void *p = VG_(am_shadow_alloc)(n);
   if (!p) VG_(out_of_memory_NORETURN)(what, n);
   return p;
}

static Sec *new_sec(void)
{
   if (n_secs == 0) pg_first_taint();   /* every secondary holds tainted bytes when it is made */
   n_secs++;
   return shadow_alloc(sizeof(Sec), "secondary");   /* anonymous memory is zero: clean */
}

static Aux *aux_find(Addr chunk)
{
   for (Aux *x = aux[chunk % AUX_BUCKETS]; x; x = x->next)
      if (x->chunk == chunk) return x;
   return NULL;
}

static inline Sec *sec_for_read(Addr a)
{
   if (LIKELY(a < PRIM_LIMIT)) return prim_sec(a);
   Aux *x = aux_find(a >> SEC_BITS);
   return x ? x->sec : &clean_sec;
}

static Sec *sec_for_write(Addr a)
{
   if (LIKELY(a < PRIM_LIMIT)) {
      Sec *s = prim_sec(a);
      if (s == &clean_sec) {
         s = new_sec();
         primary[a >> SEC_BITS] = (Addr)s - (Addr)&clean_sec;
      }
      return s;
   }
   Addr chunk = a >> SEC_BITS;
   Aux *x = aux_find(chunk);
   if (!x) {
      x = PG_MALLOC("pg.aux", sizeof(Aux));
      x->chunk = chunk;
      x->sec = new_sec();
      x->next = aux[chunk % AUX_BUCKETS];
      aux[chunk % AUX_BUCKETS] = x;
   }
   return x->sec;
}

ULong pg_shadow_bytes_allocated(void) { return n_secs * sizeof(Sec); }

/* ---- byte-level access (slow paths, client requests, syscalls) ---- */

PG_Label pg_shadow_get(Addr a)
{
   Sec *s = sec_for_read(a);
   UWord off = a & (SEC_SIZE - 1);
   if (!s->v[off]) return 0;
   return s->lab[off];
}

static void set_byte(Addr a, PG_Label label)
{
   Sec *s = sec_for_read(a);
   UWord off = a & (SEC_SIZE - 1);
   if (label == 0) {
      if (s != &clean_sec) s->v[off] = 0;
      return;
   }
   if (s == &clean_sec) s = sec_for_write(a);
   s->v[off] = 0xFF;
   s->lab[off] = label;
}

void pg_shadow_set_range(Addr a, SizeT len, PG_Label label)
{
   while (len > 0) {
      UWord off = a & (SEC_SIZE - 1);
      SizeT n = SEC_SIZE - off;
      if (n > len) n = len;
      Sec *s = sec_for_read(a);
      if (label == 0) {
         if (s != &clean_sec) VG_(memset)(&s->v[off], 0, n);
      } else {
         if (s == &clean_sec) s = sec_for_write(a);
         VG_(memset)(&s->v[off], 0xFF, n);
         UInt *l = s->lab + off;
         SizeT i = 0;
         /* a read() of user data labels 64 KB at a time: two labels per 8-byte store */
         if (n >= 2 && ((Addr)l & 7)) l[i++] = label;
         ULong ll = (ULong)label << 32 | label;
         for (; i + 2 <= n; i += 2) *(ULong *)&l[i] = ll;
         for (; i < n; i++) l[i] = label;
      }
      a += n;
      len -= n;
   }
}

SizeT pg_shadow_get_range(Addr a, SizeT len, UInt *out)
{
   SizeT tainted = 0;
   for (SizeT i = 0; i < len; i++) {
      PG_Label l = pg_shadow_get(a + i);
      Sec *s = sec_for_read(a + i);
      Bool t = s->v[(a + i) & (SEC_SIZE - 1)] != 0;
      if (t && l == 0) l = 1;               /* tainted without a recorded label: never expected */
      if (out) out[i] = t ? l : 0;
      tainted += t;
   }
   return tainted;
}

Bool pg_shadow_any(Addr a, SizeT len)
{
   while (len > 0) {
      UWord off = a & (SEC_SIZE - 1);
      SizeT n = SEC_SIZE - off;
      if (n > len) n = len;
      Sec *s = sec_for_read(a);
      if (s != &clean_sec)
         for (SizeT i = 0; i < n; i++)
            if (s->v[off + i]) return True;
      a += n;
      len -= n;
   }
   return False;
}

void pg_shadow_copy(Addr from, Addr to, SizeT len)
{
   /* mremap: the ranges may overlap only in the way memmove handles */
   if (to > from && to < from + len) {
      for (SizeT i = len; i-- > 0;) set_byte(to + i, pg_shadow_any(from + i, 1) ? pg_shadow_get(from + i) : 0);
   } else {
      for (SizeT i = 0; i < len; i++) set_byte(to + i, pg_shadow_any(from + i, 1) ? pg_shadow_get(from + i) : 0);
   }
}

/* ---- helpers called from instrumented code ---- */

/* The label of a load's tainted bytes (several labels merge); also the store fallback. */
static PG_Label loaded_label(Sec *s, UWord off, UInt n)
{
   PG_Label l = 0;
   UInt i = 0;
   /* the common case: every byte tainted, one label (compared two at a time) */
   if (n >= 8 && s->v[off] && s->lab[off]) {
      l = s->lab[off];
      ULong ll = (ULong)l << 32 | l;
      for (; i + 8 <= n; i += 8)
         if (*(const ULong *)&s->v[off + i] != ~0ULL || *(const ULong *)&s->lab[off + i] != ll ||
             *(const ULong *)&s->lab[off + i + 2] != ll || *(const ULong *)&s->lab[off + i + 4] != ll ||
             *(const ULong *)&s->lab[off + i + 6] != ll)
            break;
   }
   for (; i < n; i++)
      if (s->v[off + i] && s->lab[off + i] != l) l = l ? pg_label_merge(l, s->lab[off + i]) : s->lab[off + i];
   if (l) pg_cur_label = l;
   return l;
}

static ULong load_slow(Addr a, UInt n, PG_Label *label)
{
   ULong v = 0;
   PG_Label l = 0;
   for (UInt i = 0; i < n; i++) {
      Sec *s = sec_for_read(a + i);
      UWord off = (a + i) & (SEC_SIZE - 1);
      if (s->v[off]) {
         v |= 0xFFULL << (8 * i);
         l = pg_label_merge(l, s->lab[off]);
      }
   }
   if (l) pg_cur_label = l;
   *label = l;
   return v;
}

UInt pg_ld_label;   /* an 8-byte or vector load's label (its V-bits fill the result) */

/* The load helpers run once per guest load, so each has a leaf fast path (no call, no saved
   registers: gcc emits no prologue) for the common cases: a clean load, and a tainted load within one
   secondary whose tainted bytes share one label. Everything else (a tainted pointer site, an address
   above the primary map or across a secondary's end, several labels) goes to load_general, reached
   by a tail call. */
static __attribute__((noinline)) ULong load_general(Addr a, UInt n, PG_Insn *in, ULong sa, ULong ahi)
{
   UWord off = a & (SEC_SIZE - 1);
   if (sa) pg_site_hit((HWord)in, a, (UInt)ahi);
   PG_Label l = 0;
   ULong v;
   if (LIKELY(off <= SEC_SIZE - n)) {
      Sec *s = sec_for_read(a);
      v = n == 8 ? *(const ULong *)&s->v[off] : n == 4 ? *(const UInt *)&s->v[off]
        : n == 2 ? *(const UShort *)&s->v[off] : s->v[off];
      if (v) l = loaded_label(s, off, n);
   } else {
      v = load_slow(a, n, &l);
   }
   if (l) in->label = l;
   if (n == 8) pg_ld_label = l;
   return n == 8 ? v : v | (ULong)l << 32;
}

/* the one label of a fast-path load's tainted bytes, 0 when they have several (or none recorded) */
static inline PG_Label one_label(const Sec *s, UWord off, UInt n, ULong v)
{
   PG_Label l = s->lab[off + __builtin_ctzll(v) / 8];
   for (UInt i = 0; i < n; i++)
      if (s->v[off + i] && s->lab[off + i] != l) return 0;
   return l;
}

/* 1-, 2- and 4-byte loads return the V-bits in the low half and the label in the high half */
#define DEF_LOAD(N, T)                                                         \
   VG_REGPARM(2) ULong pg_load##N(Addr a, PG_Insn *in, ULong sa, ULong ahi)    \
   {                                                                           \
      UWord off = a & (SEC_SIZE - 1);                                          \
      if (UNLIKELY(sa | (a >= PRIM_LIMIT) | (off > SEC_SIZE - N)))             \
         return load_general(a, N, in, sa, ahi);                               \
      const Sec *s = prim_sec(a);                                              \
      ULong v = *(const T *)&s->v[off];                                        \
      if (LIKELY(!v)) return 0;                                                \
      PG_Label l = one_label(s, off, N, v);                                    \
      if (UNLIKELY(!l)) return load_general(a, N, in, sa, ahi);                \
      pg_cur_label = l;                                                        \
      in->label = l;                                                           \
      return v | (ULong)l << 32;                                               \
   }
DEF_LOAD(1, UChar)
DEF_LOAD(2, UShort)
DEF_LOAD(4, UInt)

/* 8-byte loads: the V-bits fill the result; the label goes to pg_ld_label */

VG_REGPARM(2) ULong pg_load8(Addr a, PG_Insn *in, ULong sa, ULong ahi)
{
   UWord off = a & (SEC_SIZE - 1);
   if (UNLIKELY(sa | (a >= PRIM_LIMIT) | (off > SEC_SIZE - 8))) return load_general(a, 8, in, sa, ahi);
   const Sec *s = prim_sec(a);
   ULong v = *(const ULong *)&s->v[off];
   if (LIKELY(!v)) { pg_ld_label = 0; return 0; }
   PG_Label l = one_label(s, off, 8, v);
   if (UNLIKELY(!l)) return load_general(a, 8, in, sa, ahi);
   pg_cur_label = l;
   pg_ld_label = l;
   in->label = l;
   return v;
}

/* 16- and 32-byte loads in one call (VECRET: res points at the V128/V256 result), label to pg_ld_label */
static void load_vec(UChar *res, Addr a, UInt n, PG_Insn *in, ULong sa, ULong ahi)
{
   UWord off = a & (SEC_SIZE - 1);
   PG_Label l = 0;
   if (UNLIKELY(sa)) pg_site_hit((HWord)in, a, (UInt)ahi);
   if (LIKELY(off <= SEC_SIZE - n)) {
      Sec *s = sec_for_read(a);
      ULong any = 0;
      for (UInt i = 0; i < n; i += 8) {
         ULong q = *(const ULong *)&s->v[off + i];
         *(ULong *)&res[i] = q;
         any |= q;
      }
      if (UNLIKELY(any)) l = loaded_label(s, off, n);
   } else {
      for (UInt i = 0; i < n; i += 8) {
         PG_Label li;
         *(ULong *)&res[i] = load_slow(a + i, 8, &li);
         if (li) l = l ? pg_label_merge(l, li) : li;
      }
   }
   pg_ld_label = l;
   if (l) in->label = l;
}

VG_REGPARM(2) void pg_load16(V128 *res, Addr a, PG_Insn *in, ULong sa, ULong ahi)
{
   load_vec(res->w8, a, 16, in, sa, ahi);
}

VG_REGPARM(2) void pg_load32(V256 *res, Addr a, PG_Insn *in, ULong sa, ULong ahi)
{
   load_vec(res->w8, a, 32, in, sa, ahi);
}

/* the label tainted stored bytes get: the value's provenance, else the last tainted load's */
static PG_Label store_label(ULong pair)
{
   PG_Label l = pg_label_of_pair(pair);
   if (!l) l = pg_cur_label ? pg_cur_label : 1;
   return l;
}

static PG_Insn no_insn;   /* vector stores do not name their instruction */

static void store_slow(Addr a, ULong v, UInt n, ULong pair, PG_Insn *in)
{
   PG_Label l = v ? store_label(pair) : 0;
   if (l) in->label = l;
   for (UInt i = 0; i < n; i++)
      set_byte(a + i, ((v >> (8 * i)) & 0xFF) ? l : 0);
}

/* a tainted store within one secondary: V-bits as given, one label for the tainted bytes */
static void store_tainted(Sec *s, UWord off, ULong v, UInt n, ULong pair, PG_Insn *in)
{
   PG_Label l = store_label(pair);
   in->label = l;
   UInt *lab = s->lab;
   if (n == 8 && v == ~0ULL) {
      ULong ll = (ULong)l << 32 | l;
      *(ULong *)&s->v[off] = ~0ULL;
      for (UInt i = 0; i < 8; i += 2) *(ULong *)&lab[off + i] = ll;
      return;
   }
   for (UInt i = 0; i < n; i++) {
      UChar b = (UChar)(v >> (8 * i));
      s->v[off + i] = b ? 0xFF : 0;
      if (b) lab[off + i] = l;
   }
}

static __attribute__((noinline)) void store_general(Addr a, ULong v, UInt n, ULong pair, PG_Insn *in,
                                                    ULong sa, ULong ahi)
{
   UWord off = a & (SEC_SIZE - 1);
   if (sa) pg_site_hit((HWord)in | 1, a, (UInt)ahi);
   Sec *s = sec_for_read(a);
   if (v == 0) {
      if (s == &clean_sec) return;
      if (off <= SEC_SIZE - n) {
         VG_(memset)(&s->v[off], 0, n);
         return;
      }
   } else if (off <= SEC_SIZE - n) {
      if (s == &clean_sec) s = sec_for_write(a);
      store_tainted(s, off, v, n, pair, in);
      return;
   }
   store_slow(a, v, n, pair, in);
}

/* the leaf fast path: a clean store through a clean address within one secondary of the primary map */
#define DEF_STORE(N, T)                                                        \
   VG_REGPARM(3) void pg_store##N(Addr a, ULong v, ULong pair, PG_Insn *in,    \
                                  ULong sa, ULong ahi)                         \
   {                                                                           \
      UWord off = a & (SEC_SIZE - 1);                                          \
      if (LIKELY(!(sa | v | (a >= PRIM_LIMIT) | (off > SEC_SIZE - N)))) {      \
         Sec *s = prim_sec(a);                                                 \
         if (s != &clean_sec) *(T *)&s->v[off] = 0;                            \
         return;                                                               \
      }                                                                        \
      store_general(a, v, N, pair, in, sa, ahi);                               \
   }
DEF_STORE(1, UChar)
DEF_STORE(2, UShort)
DEF_STORE(4, UInt)
DEF_STORE(8, ULong)

/* 16- and 32-byte stores in one call: the V-bits as 64-bit quarters */
static void store_vec(Addr a, const ULong *q, UInt n, ULong pair)
{
   UWord off = a & (SEC_SIZE - 1);
   Sec *s = sec_for_read(a);
   ULong any = 0;
   for (UInt i = 0; i < n / 8; i++) any |= q[i];
   if (LIKELY(!any) && LIKELY(s == &clean_sec)) return;
   if (LIKELY(off <= SEC_SIZE - n)) {
      if (!any) { VG_(memset)(&s->v[off], 0, n); return; }
      if (s == &clean_sec) s = sec_for_write(a);
      for (UInt i = 0; i < n / 8; i++) store_tainted(s, off + 8 * i, q[i], 8, pair, &no_insn);
      return;
   }
   for (UInt i = 0; i < n / 8; i++) store_slow(a + 8 * i, q[i], 8, pair, &no_insn);
}

VG_REGPARM(3) void pg_store16(Addr a, ULong q0, ULong q1, ULong pair)
{
   ULong q[2] = { q0, q1 };
   store_vec(a, q, 16, pair);
}

VG_REGPARM(3) void pg_store32(Addr a, ULong q0, ULong q1, ULong q2, ULong q3, ULong pair)
{
   ULong q[4] = { q0, q1, q2, q3 };
   store_vec(a, q, 32, pair);
}

/* dirty helpers' memory effects: every byte written gets the OR of the helper's inputs */
VG_REGPARM(3) void pg_store_range(Addr a, ULong len, ULong tainted, ULong pair)
{
   pg_shadow_set_range(a, len, tainted ? store_label(pair) : 0);
}

VG_REGPARM(2) ULong pg_load_any(Addr a, ULong len)
{
   for (ULong i = 0; i < len; i++) {
      Sec *s = sec_for_read(a + i);
      UWord off = (a + i) & (SEC_SIZE - 1);
      if (s->v[off]) {
         pg_cur_label = s->lab[off];
         return 1;
      }
   }
   return 0;
}
