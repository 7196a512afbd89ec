/* Adler-32 (RFC 1950): the per-chunk checksum computed by the client and verified by chunk servers. */
#include "minidfs.h"

#define BASE 65521u
#define NMAX 5552 /* largest n with 255n(n+1)/2 + (n+1)(BASE-1) < 2^32 */

uint32_t adler32_update(uint32_t adler, const unsigned char *buf, size_t len)
{
   uint32_t a = adler & 0xffff, b = adler >> 16;
   while (len > 0) {
      size_t n = len < NMAX ? len : NMAX;
      len -= n;
      while (n--) {
         a += *buf++;
         b += a;
      }
      a %= BASE;
      b %= BASE;
   }
   return b << 16 | a;
}
