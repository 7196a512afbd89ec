/* The tagging wire format (docs/message-tagging.md): little-endian fixed headers and LEB128 varints
   inside tags, plus a small growable buffer used to assemble them. */
#include <stdlib.h>
#include <string.h>
#include "lr.h"

void lr_put32(uint8_t *p, uint32_t v) { p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }
uint32_t lr_get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
void lr_put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
uint16_t lr_get16(const uint8_t *p) { return p[0] | p[1] << 8; }

/* Stream hello: magic, version, flags, identity length, identity. */
size_t lr_hello_build(uint8_t *out, size_t cap)
{
   size_t idlen = strlen(lr_identity);
   if (idlen > 255) idlen = 255;
   if (cap < LR_HELLO_FIXED + idlen) return 0;
   memcpy(out, LR_MAGIC, LR_MAGIC_LEN);
   out[8] = LR_VERSION_WIRE;
   out[9] = (lr_under_planegrind ? 1 : 0) | (lr_rr_recording ? 2 : 0); /* bit 1: lr_rr_shim.c */
   lr_put16(out + 10, (uint16_t)idlen);
   memcpy(out + LR_HELLO_FIXED, lr_identity, idlen);
   return LR_HELLO_FIXED + idlen;
}

void lr_frame_hdr_build(uint8_t *out, int kind, uint32_t len, uint32_t msg_id)
{
   out[0] = (uint8_t)kind;
   out[1] = 0;
   lr_put16(out + 2, LR_FRAME_CHECK);
   lr_put32(out + 4, len);
   lr_put32(out + 8, msg_id);
}

int lr_buf_reserve(struct lr_buf *b, size_t cap)
{
   if (b->cap >= cap) return 0;
   size_t ncap = b->cap ? b->cap : 64;
   while (ncap < cap) ncap *= 2;
   uint8_t *p = realloc(b->p, ncap);
   if (!p) return -1;
   b->p = p;
   b->cap = ncap;
   return 0;
}

int lr_buf_put(struct lr_buf *b, const void *src, size_t n)
{
   if (lr_buf_reserve(b, b->len + n)) return -1;
   memcpy(b->p + b->len, src, n);
   b->len += n;
   return 0;
}

int lr_buf_varint(struct lr_buf *b, uint64_t v)
{
   uint8_t tmp[10];
   size_t n = 0;
   do {
      tmp[n] = v & 0x7f;
      v >>= 7;
      if (v) tmp[n] |= 0x80;
      n++;
   } while (v);
   return lr_buf_put(b, tmp, n);
}

void lr_buf_free(struct lr_buf *b)
{
   free(b->p);
   b->p = NULL;
   b->len = b->cap = 0;
}

int lr_varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
   uint64_t r = 0;
   int shift = 0;
   const uint8_t *p = *pp;
   while (p < end && shift < 64) {
      uint8_t byte = *p++;
      r |= (uint64_t)(byte & 0x7f) << shift;
      if (!(byte & 0x80)) {
         *v = r;
         *pp = p;
         return 0;
      }
      shift += 7;
   }
   return -1;
}

size_t lr_iov_total(const struct iovec *iov, int iovcnt)
{
   size_t n = 0;
   for (int i = 0; i < iovcnt; i++) n += iov[i].iov_len;
   return n;
}
