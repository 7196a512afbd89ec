/* planegrind provenance labels: a label names a source event (bytes [start,end) of a user-data file,
   or a message from a peer) or a merge of labels. Labels are numbered from 1 in creation order and
   written to the log (as `label` records) before any record that refers to them. A merge (`mixed`)
   holds the flat, sorted set of the source labels it covers, so merging a value with one of its own
   sources again gives the same label (a loop folding bytes into an accumulator does not create a
   label per iteration), and equal sets share one label. */
#include "pg_include.h"
#include "pub_tool_gdbserver.h"
#include "pub_tool_xarray.h"

typedef enum { LK_FILE, LK_MSG, LK_MIXED } LabelKind;
#define MAX_MEMBERS 16        /* a merge of more sources keeps the first 16 (it stays "mixed") */
typedef struct {
   LabelKind kind;
   HChar    *path;            /* file path, or peer for messages */
   HChar    *origin;          /* messages: sender-side provenance */
   ULong     start, end;      /* file range, or msg id in start */
   UInt      n;               /* mixed: number of members */
   PG_Label *of;              /* mixed: the source labels (never mixed themselves), ascending */
} Label;

static XArray *labels;        /* of Label; label id = index + 1 */
static UInt    n_logged;

/* cache of merges so that merging the same pair twice is one lookup */
#define MERGE_BUCKETS 4096
typedef struct Merge { struct Merge *next; PG_Label a, b, m; } Merge;
static Merge *merges[MERGE_BUCKETS];
/* mixed labels by member set */
#define SET_BUCKETS 1024
typedef struct SetNode { struct SetNode *next; UInt hash; PG_Label id; } SetNode;
static SetNode *sets[SET_BUCKETS];

static PG_Label add(Label *l)
{
   if (!labels) labels = VG_(newXA)(VG_(malloc), "pg.labels", VG_(free), sizeof(Label));
   VG_(addToXA)(labels, l);
   return (PG_Label)VG_(sizeXA)(labels);
}

static Label *get(PG_Label id)
{
   return (labels && id >= 1 && id <= (PG_Label)VG_(sizeXA)(labels)) ? VG_(indexXA)(labels, id - 1) : NULL;
}

Bool pg_label_exists(PG_Label l) { return get(l) != NULL; }
UInt pg_labels_count(void) { return labels ? (UInt)VG_(sizeXA)(labels) : 0; }

PG_Label pg_label_new_file(const HChar *path, ULong start, ULong end)
{
   Label l = { LK_FILE, VG_(strdup)("pg.lpath", path), NULL, start, end, 0, NULL };
   return add(&l);
}

PG_Label pg_label_new_msg(const HChar *peer, ULong msg, const HChar *origin)
{
   Label l = { LK_MSG, VG_(strdup)("pg.lpeer", peer ? peer : ""), VG_(strdup)("pg.lorig", origin ? origin : ""),
               msg, 0, 0, NULL };
   return add(&l);
}

/* the source labels of a label: itself, or a mixed label's members */
static const PG_Label *members(PG_Label *self, UInt *n)
{
   Label *l = get(*self);
   if (l && l->kind == LK_MIXED) { *n = l->n; return l->of; }
   *n = 1;
   return self;
}

static UInt set_hash(const PG_Label *m, UInt n)
{
   UInt h = 2166136261u;
   for (UInt i = 0; i < n; i++) h = (h ^ m[i]) * 16777619u;
   return h;
}

static PG_Label union_of(PG_Label a, PG_Label b)
{
   UInt na, nb, n = 0;
   const PG_Label *ma = members(&a, &na), *mb = members(&b, &nb);
   PG_Label u[2 * MAX_MEMBERS];
   UInt i = 0, j = 0;
   while ((i < na || j < nb) && n < MAX_MEMBERS) {
      PG_Label x = j >= nb || (i < na && ma[i] <= mb[j]) ? ma[i] : mb[j];
      if (i < na && ma[i] == x) i++;
      if (j < nb && mb[j] == x) j++;
      u[n++] = x;
   }
   /* one side covers the other: no new label */
   if (n == na && VG_(memcmp)(u, ma, n * sizeof(PG_Label)) == 0) return a;
   if (n == nb && VG_(memcmp)(u, mb, n * sizeof(PG_Label)) == 0) return b;
   UInt h = set_hash(u, n);
   for (SetNode *s = sets[h % SET_BUCKETS]; s; s = s->next) {
      if (s->hash != h) continue;
      Label *l = get(s->id);
      if (l->n == n && VG_(memcmp)(l->of, u, n * sizeof(PG_Label)) == 0) return s->id;
   }
   Label l = { LK_MIXED, NULL, NULL, 0, 0, n, PG_MALLOC("pg.lset", n * sizeof(PG_Label)) };
   VG_(memcpy)(l.of, u, n * sizeof(PG_Label));
   SetNode *s = PG_MALLOC("pg.lsetn", sizeof(SetNode));
   s->hash = h;
   s->id = add(&l);
   s->next = sets[h % SET_BUCKETS];
   sets[h % SET_BUCKETS] = s;
   return s->id;
}

PG_Label pg_label_merge(PG_Label a, PG_Label b)
{
   if (a == 0 || a == b) return b;
   if (b == 0) return a;
   if (a > b) { PG_Label t = a; a = b; b = t; }
   UInt h = (a * 2654435761u ^ b) % MERGE_BUCKETS;
   for (Merge *m = merges[h]; m; m = m->next)
      if (m->a == a && m->b == b) return m->m;
   Merge *m = PG_MALLOC("pg.merge", sizeof(Merge));
   m->a = a; m->b = b; m->m = union_of(a, b); m->next = merges[h]; merges[h] = m;
   return m->m;
}

/* Instrumented code carries a value's provenance as two 32-bit lanes merged by unsigned max: the
   largest source label, and the negated smallest (0, clean, is the identity of both). */
PG_Label pg_label_of_pair(ULong pair)
{
   PG_Label hi = (PG_Label)(pair >> 32), lo = (PG_Label)(0u - (UInt)pair);
   if (hi == 0) return lo;
   if (lo == 0 || lo == hi) return hi;
   return pg_label_merge(lo, hi);
}

SizeT pg_label_describe(PG_Label id, HChar *buf, SizeT size)
{
   HChar tmp[600];
   Label *l = get(id);
   if (!l) VG_(snprintf)(tmp, sizeof tmp, "%s", id == 0 ? "clean" : "unknown");
   else if (l->kind == LK_FILE) VG_(snprintf)(tmp, sizeof tmp, "file:%s[%llu,%llu)", l->path, l->start, l->end);
   else if (l->kind == LK_MSG) VG_(snprintf)(tmp, sizeof tmp, "msg:%s#%llu<-%s", l->path, l->start, l->origin);
   else {
      SizeT k = VG_(snprintf)(tmp, sizeof tmp, "mixed:");
      for (UInt i = 0; i < l->n && k < sizeof tmp - 12; i++)
         k += VG_(snprintf)(tmp + k, sizeof tmp - k, i ? ",%u" : "%u", l->of[i]);
   }
   SizeT n = VG_(strlen)(tmp);
   if (buf && size > 0) {
      SizeT k = n < size - 1 ? n : size - 1;
      VG_(memcpy)(buf, tmp, k);
      buf[k] = 0;
   }
   return n;
}

static void print_chain(PG_Label id, Int depth)
{
   HChar text[600];
   pg_label_describe(id, text, sizeof text);
   VG_(gdb_printf)("%*slabel %u %s\n", depth * 2, "", id, text);
   Label *l = get(id);
   if (l && l->kind == LK_MIXED)
      for (UInt i = 0; i < l->n; i++) print_chain(l->of[i], depth + 1);
}

void pg_label_print_chain(PG_Label l) { print_chain(l, 0); }

void pg_labels_flush(void)
{
   UInt n = pg_labels_count();
   for (; n_logged < n; n_logged++) {
      Label *l = VG_(indexXA)(labels, n_logged);
      pg_log_printf("label id=%u", n_logged + 1);
      if (l->kind == LK_FILE) {
         pg_log_printf(" kind=file");
         pg_log_kv_str("path", l->path);
         pg_log_printf(" start=%llu end=%llu\n", l->start, l->end);
      } else if (l->kind == LK_MSG) {
         pg_log_printf(" kind=msg");
         pg_log_kv_str("peer", l->path);
         pg_log_printf(" msg=%llu", l->start);
         pg_log_kv_str("origin", l->origin);
         pg_log_printf("\n");
      } else {
         pg_log_printf(" kind=mixed of=");
         for (UInt i = 0; i < l->n; i++) pg_log_printf(i ? ",%u" : "%u", l->of[i]);
         pg_log_printf("\n");
      }
   }
}

/* after fork: the child's log must define every label again */
void pg_labels_forget(void) { n_logged = 0; }
