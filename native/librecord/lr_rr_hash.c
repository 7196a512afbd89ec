/* librecord record/replay: the content hash of by-reference records (user-data reads, message payloads),
   computed while recording on every such byte, so it must run at memory speed: about 25 GB/s with AVX2.
   It is defined lane-wise so that the scalar and the AVX2 loop give the same value (a recording made on one
   machine replays on another): 32-byte stripes, four 64-bit lanes; stripe s, lane i:
   x = w[i] ^ (K[i] + s * STEP), acc[i] += lo32(x) * hi32(x) + w[i ^ 1]. The key changes per stripe so the
   order of stripes counts; a final mix folds in the lanes, the length and the tail. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include "lr_rr.h"
static const uint64_t K[4] = {0x9E3779B185EBCA87ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull, 0x27D4EB2F165667C5ull};
static const uint64_t STEP = 0x85EBCA77C2B2AE63ull;

static size_t stripes_scalar(uint64_t acc[4], const uint8_t *s, size_t n)
{
   size_t done = 0;
   uint64_t key[4] = {K[0], K[1], K[2], K[3]};
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

__attribute__((target("avx2"))) static size_t stripes_avx2(uint64_t acc[4], const uint8_t *s, size_t n)
{
   __m256i a = _mm256_loadu_si256((const __m256i *)acc);
   __m256i key = _mm256_loadu_si256((const __m256i *)K);
   const __m256i step = _mm256_set1_epi64x((long long)STEP);
   size_t done = 0;
   for (; done + 32 <= n; done += 32) {
      __m256i w = _mm256_loadu_si256((const __m256i *)(s + done));
      __m256i x = _mm256_xor_si256(w, key);
      __m256i prod = _mm256_mul_epu32(x, _mm256_srli_epi64(x, 32));
      __m256i swapped = _mm256_shuffle_epi32(w, _MM_SHUFFLE(1, 0, 3, 2)); /* lanes 0<->1, 2<->3 (w[i ^ 1]) */
      a = _mm256_add_epi64(a, _mm256_add_epi64(prod, swapped));
      key = _mm256_add_epi64(key, step);
   }
   _mm256_storeu_si256((__m256i *)acc, a);
   return done;
}

static inline uint64_t mix(uint64_t h) { h ^= h >> 33; h *= 0xC2B2AE3D27D4EB4Full; h ^= h >> 29; h *= 0x165667B19E3779F9ull; h ^= h >> 32; return h; }

/* The hash by either loop (the test in test/native/replay.hash.test.ts checks that both agree). */
static uint64_t hash_with(int avx2, const void *p, size_t n)
{
   const uint8_t *s = p;
   uint64_t acc[4] = {0, 0, 0, 0};
   size_t i = avx2 ? stripes_avx2(acc, s, n) : stripes_scalar(acc, s, n);
   uint64_t h = n * K[0];
   for (int l = 0; l < 4; l++) h = mix(h ^ acc[l]) + K[l];
   for (; i < n; i++) h = (h ^ s[i]) * 0x100000001B3ull;
   return mix(h);
}

uint64_t lr_rr_hash(const void *p, size_t n)
{
   static int avx2 = -1; /* decided once; two threads racing here both store the same value */
   if (avx2 < 0) {
      __builtin_cpu_init(); /* librecord may run before the constructors that would do it */
      avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
   }
   return hash_with(avx2, p, n);
}
