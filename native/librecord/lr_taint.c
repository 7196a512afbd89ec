/* Taint <-> tag, through planegrind's client requests (native/planegrind/planegrind.h).
   Sender: the per-byte labels of the outgoing bytes become a tag: the labels' provenance texts and
   run-length encoded (length, label index) runs. Receiver: each label becomes a message label
   (NEW_MSG_LABEL(peer, msg id, origin text)) and the runs are set on the received bytes.
   Outside planegrind every request returns 0, so a send costs one cheap client request. */
#include <stdlib.h>
#include <string.h>
#include "lr.h"
#include "planegrind.h"

#define SLICE 4096 /* bytes asked of planegrind at a time: bounds the label scratch to 16 KB */

struct label_table {
   uint32_t ids[1024];
   size_t n;
   size_t last;
};

/* Index (1-based) of sender label id in the table, adding it; 0 for the clean label. */
static uint32_t label_index(struct label_table *t, uint32_t id)
{
   if (!id) return 0;
   if (t->n && t->ids[t->last] == id) return t->last + 1;
   for (size_t i = 0; i < t->n; i++)
      if (t->ids[i] == id) return (t->last = i) + 1;
   if (t->n == sizeof t->ids / sizeof t->ids[0]) return 1; /* table full: fold into the first label */
   t->ids[t->n] = id;
   t->last = t->n;
   return ++t->n;
}

static int encode(struct label_table *t, struct lr_buf *runs, size_t nruns, struct lr_buf *out)
{
   char text[512];
   if (lr_buf_varint(out, t->n)) return -1;
   for (size_t i = 0; i < t->n; i++) {
      size_t len = PLANEGRIND_LABEL_INFO(t->ids[i], text, sizeof text);
      if (len >= sizeof text) len = sizeof text - 1;
      text[len] = 0;
      len = strlen(text);
      if (lr_buf_varint(out, t->ids[i]) || lr_buf_varint(out, len) || lr_buf_put(out, text, len)) return -1;
   }
   if (lr_buf_varint(out, nruns)) return -1;
   return lr_buf_put(out, runs->p, runs->len);
}

int lr_tag_build_iov(const struct iovec *iov, int iovcnt, size_t n, struct lr_buf *out)
{
   out->len = 0;
   if (!lr_under_planegrind || n == 0) return 0;
   size_t tainted = 0;
   for (int i = 0; i < iovcnt; i++)
      if (iov[i].iov_len) tainted += PLANEGRIND_GET_TAINT(iov[i].iov_base, iov[i].iov_len, NULL);
   if (!tainted) return 0;

   static __thread uint32_t labels[SLICE];
   struct label_table *t = calloc(1, sizeof *t);
   struct lr_buf runs = {0};
   size_t nruns = 0;
   uint32_t run_idx = 0;
   uint64_t run_len = 0;
   int rc = t ? 0 : -1;
   for (int i = 0; i < iovcnt && rc == 0; i++) {
      const uint8_t *p = iov[i].iov_base;
      for (size_t off = 0; off < iov[i].iov_len && rc == 0; off += SLICE) {
         size_t len = iov[i].iov_len - off < SLICE ? iov[i].iov_len - off : SLICE;
         if (PLANEGRIND_GET_TAINT(p + off, len, labels) == 0) memset(labels, 0, len * sizeof labels[0]);
         for (size_t k = 0; k < len; k++) {
            uint32_t idx = label_index(t, labels[k]);
            if (run_len && idx == run_idx) { run_len++; continue; }
            if (run_len) {
               rc |= lr_buf_varint(&runs, run_len) | lr_buf_varint(&runs, run_idx);
               nruns++;
            }
            run_idx = idx;
            run_len = 1;
         }
      }
   }
   if (run_len && rc == 0) {
      rc |= lr_buf_varint(&runs, run_len) | lr_buf_varint(&runs, run_idx);
      nruns++;
   }
   if (rc == 0) rc = encode(t, &runs, nruns, out);
   lr_buf_free(&runs);
   free(t);
   if (rc) out->len = 0; /* out of memory: send the message clean rather than not at all */
   return rc;
}

static int runs_push(struct lr_taint_runs *r, uint32_t len, uint32_t label)
{
   if (r->n == r->cap) {
      size_t ncap = r->cap ? r->cap * 2 : 16;
      uint32_t *l = realloc(r->len, ncap * sizeof *l), *b;
      if (!l) return -1;
      r->len = l;
      b = realloc(r->label, ncap * sizeof *b);
      if (!b) return -1;
      r->label = b;
      r->cap = ncap;
   }
   r->len[r->n] = len;
   r->label[r->n] = label;
   r->n++;
   return 0;
}

int lr_tag_decode(const uint8_t *tag, size_t len, const char *peer, uint64_t msg_id, struct lr_taint_runs *runs)
{
   const uint8_t *p = tag, *end = tag + len;
   uint64_t nlabels, nruns, v, tl;
   runs->n = 0;
   if (lr_varint_get(&p, end, &nlabels) || nlabels > 1024) return -1;
   uint32_t local[1024];
   char text[512];
   for (uint64_t i = 0; i < nlabels; i++) {
      if (lr_varint_get(&p, end, &v) || lr_varint_get(&p, end, &tl) || tl > (uint64_t)(end - p)) return -1;
      size_t cpy = tl < sizeof text - 1 ? tl : sizeof text - 1;
      memcpy(text, p, cpy);
      text[cpy] = 0;
      p += tl;
      local[i] = PLANEGRIND_NEW_MSG_LABEL(peer, msg_id, text);
   }
   if (lr_varint_get(&p, end, &nruns)) return -1;
   for (uint64_t i = 0; i < nruns; i++) {
      if (lr_varint_get(&p, end, &tl) || lr_varint_get(&p, end, &v) || v > nlabels) return -1;
      if (runs_push(runs, (uint32_t)tl, v ? local[v - 1] : 0)) return -1;
   }
   return 0;
}

size_t lr_taint_apply(struct lr_taint_runs *runs, size_t off, void *buf, size_t n)
{
   if (!lr_under_planegrind || !runs || n == 0) return 0;
   size_t tainted = 0;
   static __thread uint32_t labels[SLICE];
   uint8_t *dst = buf;
   size_t r = 0, pos = 0; /* run index, payload offset of run r's start */
   while (r < runs->n && pos + runs->len[r] <= off) pos += runs->len[r++];
   size_t done = 0;
   while (done < n) {
      size_t slice = n - done < SLICE ? n - done : SLICE;
      int any = 0;
      for (size_t k = 0; k < slice; k++) {
         size_t at = off + done + k;
         while (r < runs->n && pos + runs->len[r] <= at) pos += runs->len[r++];
         labels[k] = r < runs->n ? runs->label[r] : 0;
         any |= labels[k] != 0;
         tainted += labels[k] != 0;
      }
      PLANEGRIND_SET_TAINT(dst + done, slice, any ? labels : NULL);
      done += slice;
   }
   return tainted;
}

void lr_taint_count_input(size_t n)
{
   if (lr_under_planegrind && n) PLANEGRIND_TAINTED_INPUT(n);
}

void lr_runs_free(struct lr_taint_runs *runs)
{
   free(runs->len);
   free(runs->label);
   runs->len = runs->label = NULL;
   runs->n = runs->cap = 0;
}
