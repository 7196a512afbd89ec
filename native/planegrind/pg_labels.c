/* planegrind provenance labels: a label names a source event (bytes [start,end) of a user-data file,
   or a message from a peer) or a merge of labels. Labels are numbered from 1 in creation order and
   written to the log (as `label` records) before any record that refers to them. */
#include "pg_include.h"
#include "pub_tool_gdbserver.h"
#include "pub_tool_xarray.h"

typedef enum { LK_FILE, LK_MSG, LK_MIXED } LabelKind;
typedef struct {
   LabelKind kind;
   HChar    *path;            /* file path, or peer for messages */
   HChar    *origin;          /* messages: sender-side provenance */
   ULong     start, end;      /* file range, or msg id in start */
   PG_Label  a, b;            /* mixed: the two merged labels */
} Label;

static XArray *labels;        /* of Label; label id = index + 1 */
static UInt    n_logged;

/* cache of merges so that merging the same pair twice gives the same label */
#define MERGE_BUCKETS 1024
typedef struct Merge { struct Merge *next; PG_Label a, b, m; } Merge;
static Merge *merges[MERGE_BUCKETS];

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
   Label l = { LK_FILE, VG_(strdup)("pg.lpath", path), NULL, start, end, 0, 0 };
   return add(&l);
}

PG_Label pg_label_new_msg(const HChar *peer, ULong msg, const HChar *origin)
{
   Label l = { LK_MSG, VG_(strdup)("pg.lpeer", peer ? peer : ""), VG_(strdup)("pg.lorig", origin ? origin : ""),
               msg, 0, 0, 0 };
   return add(&l);
}

PG_Label pg_label_merge(PG_Label a, PG_Label b)
{
   if (a == 0 || a == b) return b;
   if (b == 0) return a;
   if (a > b) { PG_Label t = a; a = b; b = t; }
   UInt h = (a * 31 + b) % MERGE_BUCKETS;
   for (Merge *m = merges[h]; m; m = m->next)
      if (m->a == a && m->b == b) return m->m;
   Label l = { LK_MIXED, NULL, NULL, 0, 0, a, b };
   Merge *m = PG_MALLOC("pg.merge", sizeof(Merge));
   m->a = a; m->b = b; m->m = add(&l); m->next = merges[h]; merges[h] = m;
   return m->m;
}

SizeT pg_label_describe(PG_Label id, HChar *buf, SizeT size)
{
   HChar tmp[600];
   Label *l = get(id);
   if (!l) VG_(snprintf)(tmp, sizeof tmp, "%s", id == 0 ? "clean" : "unknown");
   else if (l->kind == LK_FILE) VG_(snprintf)(tmp, sizeof tmp, "file:%s[%llu,%llu)", l->path, l->start, l->end);
   else if (l->kind == LK_MSG) VG_(snprintf)(tmp, sizeof tmp, "msg:%s#%llu<-%s", l->path, l->start, l->origin);
   else VG_(snprintf)(tmp, sizeof tmp, "mixed:%u,%u", l->a, l->b);
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
   if (l && l->kind == LK_MIXED && depth < 16) {
      print_chain(l->a, depth + 1);
      print_chain(l->b, depth + 1);
   }
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
         pg_log_printf(" kind=mixed of=%u,%u\n", l->a, l->b);
      }
   }
}

/* after fork: the child's log must define every label again */
void pg_labels_forget(void) { n_logged = 0; }
