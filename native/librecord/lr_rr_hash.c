/* librecord record/replay: the content hash of by-reference records (user-data reads, message payloads),
   computed while recording on every such byte, so it must run at memory speed: right after a 1 MiB
   read() here, ~26 ms per GiB with AVX-512, ~30 with AVX2 (the scalar loop: ~9 GB/s). It is defined
   lane-wise so that the scalar, AVX2 and AVX-512 loops give the same value (a recording made on one
   machine replays on another): 32-byte stripes, four 64-bit lanes; stripe s, lane i:
   x = w[i] ^ (K[i] + s * STEP), acc[i] += lo32(x) * hi32(x) + w[i ^ 1]. The key changes per stripe so the
   order of stripes counts; a final mix folds in the lanes, the length and the tail. The wide loops keep
   several partial sums per lane (stripes s, s + 1, ... in separate registers) and add them at the end:
   the sums are mod 2^64, so the grouping does not change acc. For the same reason they sum the words
   w unswapped and swap the sum once at the end (the sum of w[i ^ 1] is lane i ^ 1 of the sum of w),
   one shuffle less per stripe. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include "lr_rr.h"
static const uint64_t K[4] = {0x9E3779B185EBCA87ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull, 0x27D4EB2F165667C5ull};
static const uint64_t STEP = 0x85EBCA77C2B2AE63ull;

/* The loops hash whole stripes from stripe number `first` on and return the bytes they consumed. */
static size_t stripes_scalar(uint64_t acc[4], const uint8_t *s, size_t n, uint64_t first)
{
   size_t done = 0;
   uint64_t key[4];
   for (int i = 0; i < 4; i++) key[i] = K[i] + first * STEP;
   for (; done + 32 <= n; done += 32) {
      uint64_t w[4];
      memcpy(w, s + done, 32);
      for (int i = 0; i < 4; i++) {
         uint64_t x = w[i] ^ key[i];
         acc[i] += (x & 0xffffffffull) * (x >> 32) + w[i ^ 1];
         key[i] += STEP;
      }
   }
   return done;
}

/* One stripe: the products into accumulator a, the words into accumulator ws, with the key k. */
#define STRIPE256(a, ws, k, p)                                                                        \
   do {                                                                                                \
      __m256i w_ = _mm256_loadu_si256((const __m256i *)(p));                                           \
      __m256i x_ = _mm256_xor_si256(w_, (k));                                                          \
      (a) = _mm256_add_epi64((a), _mm256_mul_epu32(x_, _mm256_srli_epi64(x_, 32)));                    \
      (ws) = _mm256_add_epi64((ws), w_);                                                               \
   } while (0)

/* acc[i] += products[i] + words[i ^ 1] */
__attribute__((target("avx2"))) static void fold256(uint64_t acc[4], __m256i prod, __m256i words)
{
   __m256i a = _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)acc), prod);
   a = _mm256_add_epi64(a, _mm256_shuffle_epi32(words, _MM_SHUFFLE(1, 0, 3, 2))); /* lanes 0<->1, 2<->3 */
   _mm256_storeu_si256((__m256i *)acc, a);
}

/* Four stripes per iteration (4j .. 4j + 3 with the keys k0 .. k3). */
__attribute__((target("avx2"))) static size_t stripes_avx2(uint64_t acc[4], const uint8_t *s, size_t n, uint64_t first)
{
   const __m256i step = _mm256_set1_epi64x((long long)STEP), step4 = _mm256_set1_epi64x((long long)(4 * STEP));
   __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, w0 = a0, w1 = a0;
   __m256i k0 = _mm256_add_epi64(_mm256_loadu_si256((const __m256i *)K), _mm256_set1_epi64x((long long)(first * STEP)));
   __m256i k1 = _mm256_add_epi64(k0, step), k2 = _mm256_add_epi64(k1, step), k3 = _mm256_add_epi64(k2, step);
   size_t done = 0;
   for (; done + 128 <= n; done += 128) {
      STRIPE256(a0, w0, k0, s + done);
      STRIPE256(a1, w1, k1, s + done + 32);
      STRIPE256(a2, w0, k2, s + done + 64);
      STRIPE256(a3, w1, k3, s + done + 96);
      k0 = _mm256_add_epi64(k0, step4);
      k1 = _mm256_add_epi64(k1, step4);
      k2 = _mm256_add_epi64(k2, step4);
      k3 = _mm256_add_epi64(k3, step4);
   }
   for (; done + 32 <= n; done += 32) { STRIPE256(a0, w0, k0, s + done); k0 = _mm256_add_epi64(k0, step); }
   fold256(acc, _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)), _mm256_add_epi64(w0, w1));
   return done;
}

/* Two stripes per 512-bit register (lanes 0-3 stripe 2j, lanes 4-7 stripe 2j + 1), four registers per
   iteration (8 stripes); the remaining stripes go through the
   AVX2 loop with their stripe numbers. */
__attribute__((target("avx512f,avx2"))) static size_t stripes_avx512(uint64_t acc[4], const uint8_t *s, size_t n)
{
   const __m256i k256 = _mm256_loadu_si256((const __m256i *)K);
   __m512i k0 = _mm512_inserti64x4(_mm512_castsi256_si512(k256), _mm256_add_epi64(k256, _mm256_set1_epi64x((long long)STEP)), 1);
   const __m512i step2 = _mm512_set1_epi64((long long)(2 * STEP)), step8 = _mm512_set1_epi64((long long)(8 * STEP));
   __m512i k1 = _mm512_add_epi64(k0, step2), k2 = _mm512_add_epi64(k1, step2), k3 = _mm512_add_epi64(k2, step2);
   __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, w0 = a0, w1 = a0;
   size_t done = 0;
#define STRIPES512(a, ws, k, p)                                                                       \
   do {                                                                                                \
      __m512i w_ = _mm512_loadu_si512((const void *)(p));                                              \
      __m512i x_ = _mm512_xor_si512(w_, (k));                                                          \
      (a) = _mm512_add_epi64((a), _mm512_mul_epu32(x_, _mm512_srli_epi64(x_, 32)));                    \
      (ws) = _mm512_add_epi64((ws), w_);                                                               \
   } while (0)
   for (; done + 256 <= n; done += 256) {
      STRIPES512(a0, w0, k0, s + done);
      STRIPES512(a1, w1, k1, s + done + 64);
      STRIPES512(a2, w0, k2, s + done + 128);
      STRIPES512(a3, w1, k3, s + done + 192);
      k0 = _mm512_add_epi64(k0, step8);
      k1 = _mm512_add_epi64(k1, step8);
      k2 = _mm512_add_epi64(k2, step8);
      k3 = _mm512_add_epi64(k3, step8);
   }
#undef STRIPES512
   a0 = _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3));
   w0 = _mm512_add_epi64(w0, w1);
   fold256(acc, _mm256_add_epi64(_mm512_castsi512_si256(a0), _mm512_extracti64x4_epi64(a0, 1)),
           _mm256_add_epi64(_mm512_castsi512_si256(w0), _mm512_extracti64x4_epi64(w0, 1)));
   return done + stripes_avx2(acc, s + done, n - done, done / 32);
}

static inline uint64_t mix(uint64_t h) { h ^= h >> 33; h *= 0xC2B2AE3D27D4EB4Full; h ^= h >> 29; h *= 0x165667B19E3779F9ull; h ^= h >> 32; return h; }

enum { HASH_SCALAR, HASH_AVX2, HASH_AVX512 };

/* The hash by one of the loops (test/native/fixtures/replay/hash_check.c checks that all agree). */
static uint64_t hash_with(int loop, const void *p, size_t n)
{
   const uint8_t *s = p;
   uint64_t acc[4] = {0, 0, 0, 0};
   size_t i = loop == HASH_AVX512 ? stripes_avx512(acc, s, n) : loop == HASH_AVX2 ? stripes_avx2(acc, s, n, 0) : stripes_scalar(acc, s, n, 0);
   uint64_t h = n * K[0];
   for (int l = 0; l < 4; l++) h = mix(h ^ acc[l]) + K[l];
   for (; i < n; i++) h = (h ^ s[i]) * 0x100000001B3ull;
   return mix(h);
}

/* The widest loop this CPU has. */
static int best_loop(void)
{
   __builtin_cpu_init(); /* librecord may run before the constructors that would do it */
   if (__builtin_cpu_supports("avx512f")) return HASH_AVX512;
   return __builtin_cpu_supports("avx2") ? HASH_AVX2 : HASH_SCALAR;
}

uint64_t lr_rr_hash(const void *p, size_t n)
{
   static int loop = -1; /* decided once; two threads racing here both store the same value */
   if (loop < 0) loop = best_loop();
   return hash_with(loop, p, n);
}
