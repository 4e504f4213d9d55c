// AVX2 (+FMA, F16C) dot products and activation quantizers. Same signatures
// and results as kernels/ref (integer sums exact; float sums in another
// order); tested against the reference on awkward sizes and misaligned
// pointers. Compiled for the AVX2 target only inside the pragma region, so
// no header inline function is emitted with AVX2 instructions.
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "kernels/avx2/dot_avx2.h"
#include "tensor/blocks.h"
#include "tensor/fp16.h"

#define FOLIO_TARGET "avx2,fma,f16c"
#include "kernels/target_begin.h"
#include <immintrin.h>

namespace folio::avx2 {

namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

inline __m256i loadu(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Weights stream from DRAM once per token; the hardware prefetcher alone
// leaves the loads waiting (measured: Q4_0 3.1 -> 8.0 GB/s per thread out
// of cache with this), so ask for the lines kPrefetch bytes ahead.
constexpr int kPrefetch = 2048;
inline void prefetch_block(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p) + kPrefetch;
  for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(c + off, _MM_HINT_T0);
}

inline float half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Signed int8 x signed int8, 32 pairs -> 8 int32 partial sums.
inline __m256i dot_i8(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

// The 32 nibbles of 16 bytes: low nibbles in bytes 0..15, high in 16..31.
inline __m256i nibbles(const uint8_t* qs) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// 32 bits (bit j: value j) as 32 bytes, 0xFF where the bit is set.
inline __m256i bits_to_bytes(uint32_t bits) {
  // byte j of the result takes byte j / 8 of the word and keeps bit j % 8
  const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                                             _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                                                0x0202020202020202, 0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

inline uint32_t u32_at(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Unsigned bytes x signed bytes, 32 pairs -> 8 int32 partial sums (u * x
// pairs stay within int16 for u < 128).
inline __m256i dot_u8(__m256i u, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1));
}

}  // namespace

float dot_f32(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const float*>(w);
  const auto* b = static_cast<const float*>(x);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm_prefetch(reinterpret_cast<const char*>(a + i) + kPrefetch, _MM_HINT_T0);
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) {
    float wa, xb;
    std::memcpy(&wa, a + i, 4);
    std::memcpy(&xb, b + i, 4);
    sum += wa * xb;
  }
  return sum;
}

float dot_f16(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint8_t*>(w);
  const auto* b = static_cast<const uint8_t*>(x);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm_prefetch(reinterpret_cast<const char*>(a + 2 * i) + kPrefetch, _MM_HINT_T0);
    const __m256 a0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + 2 * i)));
    const __m256 b0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2 * i)));
    const __m256 a1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + 2 * i + 16)));
    const __m256 b1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2 * i + 16)));
    acc0 = _mm256_fmadd_ps(a0, b0, acc0);
    acc1 = _mm256_fmadd_ps(a1, b1, acc1);
  }
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += half(a + 2 * i) * half(b + 2 * i);
  return sum;
}

float dot_q4_0_q8_0(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint8_t*>(w);
  const auto* b = static_cast<const uint8_t*>(x);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i, a += sizeof(BlockQ4_0), b += sizeof(BlockQ8_0)) {
    _mm_prefetch(reinterpret_cast<const char*>(a) + kPrefetch, _MM_HINT_T0);
    const __m256 d = _mm256_set1_ps(half(a) * half(b));
    const __m256i q = _mm256_sub_epi8(nibbles(a + 2), _mm256_set1_epi8(8));
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(q, loadu(b + 2))), acc);
  }
  return hsum(acc);
}

float dot_q8_0_q8_0(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint8_t*>(w);
  const auto* b = static_cast<const uint8_t*>(x);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i, a += sizeof(BlockQ8_0), b += sizeof(BlockQ8_0)) {
    _mm_prefetch(reinterpret_cast<const char*>(a) + kPrefetch, _MM_HINT_T0);
    const __m256 d = _mm256_set1_ps(half(a) * half(b));
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(loadu(a + 2), loadu(b + 2))), acc);
  }
  return hsum(acc);
}

namespace {

// Q4_K, and Q5_K (kFifth: a fifth bit per value, bit j of qh[l] for
// sub-block j, value l).
template <bool kFifth>
float dot_k45(int64_t n, const uint8_t* a, const uint8_t* b) {
  using Block = std::conditional_t<kFifth, BlockQ5_K, BlockQ4_K>;
  const __m256i mask = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i, a += sizeof(Block), b += sizeof(BlockQ8_K)) {
    prefetch_block(a, sizeof(Block));
    const uint8_t* scales = a + offsetof(Block, scales);
    const uint8_t* qs = a + offsetof(Block, qs);
    const int8_t* q8 = reinterpret_cast<const int8_t*>(b + offsetof(BlockQ8_K, qs));
    int16_t bsums[16];
    std::memcpy(bsums, b + offsetof(BlockQ8_K, bsums), sizeof bsums);
    float dy;
    std::memcpy(&dy, b, 4);
    uint8_t sc[8], mn[8];
    int summ = 0;
    for (int j = 0; j < 8; ++j) {
      unpack_scale_min_k4(j, scales, &sc[j], &mn[j]);
      summ += mn[j] * (bsums[2 * j] + bsums[2 * j + 1]);
    }
    const __m256i qh = kFifth ? loadu(a + offsetof(BlockQ5_K, qh)) : _mm256_setzero_si256();
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {  // 64 values: sub-blocks 2c (low nibbles) and 2c+1 (high)
      const __m256i q = loadu(qs + 32 * c);
      __m256i lo = _mm256_and_si256(q, mask);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask);
      if (kFifth) {
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4));
      }
      const __m256i plo = _mm256_maddubs_epi16(lo, loadu(q8 + 64 * c));
      const __m256i phi = _mm256_maddubs_epi16(hi, loadu(q8 + 64 * c + 32));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(plo, _mm256_set1_epi16(sc[2 * c])));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(phi, _mm256_set1_epi16(sc[2 * c + 1])));
    }
    sum += dy * (half(a) * static_cast<float>(hsum_i32(acc)) - half(a + 2) * static_cast<float>(summ));
  }
  return sum;
}

}  // namespace

float dot_q4_k_q8_k(int64_t n, const void* w, const void* x) {
  return dot_k45<false>(n, static_cast<const uint8_t*>(w), static_cast<const uint8_t*>(x));
}

float dot_q5_k_q8_k(int64_t n, const void* w, const void* x) {
  return dot_k45<true>(n, static_cast<const uint8_t*>(w), static_cast<const uint8_t*>(x));
}

float dot_q6_k_q8_k(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint8_t*>(w);
  const auto* b = static_cast<const uint8_t*>(x);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i, a += sizeof(BlockQ6_K), b += sizeof(BlockQ8_K)) {
    prefetch_block(a, sizeof(BlockQ6_K));
    const uint8_t* ql = a + offsetof(BlockQ6_K, ql);
    const uint8_t* qh = a + offsetof(BlockQ6_K, qh);
    const int8_t* scales = reinterpret_cast<const int8_t*>(a + offsetof(BlockQ6_K, scales));
    const int8_t* q8 = reinterpret_cast<const int8_t*>(b + offsetof(BlockQ8_K, qs));
    int16_t bsums[16];
    std::memcpy(bsums, b + offsetof(BlockQ8_K, bsums), sizeof bsums);
    float dy;
    std::memcpy(&dy, b, 4);
    int bias = 0;  // the -32 offset of the 6-bit values: 32 * sum(scale * sum(q8)) per group
    for (int g = 0; g < 16; ++g) bias += scales[g] * bsums[g];
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 2; ++c) {
      const __m256i ql0 = loadu(ql + 64 * c), ql1 = loadu(ql + 64 * c + 32), qhc = loadu(qh + 32 * c);
      for (int g = 0; g < 4; ++g) {  // 32 values: 128c + 32g + l
        const __m256i src = (g & 1) ? ql1 : ql0;
        const __m256i lo = _mm256_and_si256(g < 2 ? src : _mm256_srli_epi16(src, 4), m4);
        const __m256i hi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qhc, 2 * g), m2), 4);
        const __m256i p = _mm256_maddubs_epi16(_mm256_or_si256(lo, hi), loadu(q8 + 128 * c + 32 * g));
        const int gi = 8 * c + 2 * g;  // two 16-value groups: lanes 0..7 and 8..15 of p
        const __m256i s = _mm256_set_m128i(_mm_set1_epi16(scales[gi + 1]), _mm_set1_epi16(scales[gi]));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, s));
      }
    }
    sum += half(a + offsetof(BlockQ6_K, d)) * dy * static_cast<float>(hsum_i32(acc) - 32 * bias);
  }
  return sum;
}

namespace {
// Eight BF16 values as floats (a BF16 is the top half of an f32).
inline __m256 widen_bf16(const uint8_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}
}  // namespace

float dot_bf16(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint8_t*>(w);
  const auto* b = static_cast<const uint8_t*>(x);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm_prefetch(reinterpret_cast<const char*>(a + 2 * i) + kPrefetch, _MM_HINT_T0);
    acc0 = _mm256_fmadd_ps(widen_bf16(a + 2 * i), widen_bf16(b + 2 * i), acc0);
    acc1 = _mm256_fmadd_ps(widen_bf16(a + 2 * i + 16), widen_bf16(b + 2 * i + 16), acc1);
  }
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) {
    uint16_t ha, hb;
    std::memcpy(&ha, a + 2 * i, 2);
    std::memcpy(&hb, b + 2 * i, 2);
    sum += bf16_to_f32(ha) * bf16_to_f32(hb);
  }
  return sum;
}

float dot_q5_0_q8_0(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint8_t*>(w);
  const auto* b = static_cast<const uint8_t*>(x);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i, a += sizeof(BlockQ5_0), b += sizeof(BlockQ8_0)) {
    _mm_prefetch(reinterpret_cast<const char*>(a) + kPrefetch, _MM_HINT_T0);
    const __m256i high = _mm256_and_si256(bits_to_bytes(u32_at(a + 2)), _mm256_set1_epi8(0x10));
    const __m256i q = _mm256_sub_epi8(_mm256_or_si256(nibbles(a + 6), high), _mm256_set1_epi8(16));
    const __m256 d = _mm256_set1_ps(half(a) * half(b));
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(q, loadu(b + 2))), acc);
  }
  return hsum(acc);
}

// Q4_1 / Q5_1 with Q8_1: d dx sum(q x) + m s per block.
float dot_q4_1_q8_1(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint8_t*>(w);
  const auto* b = static_cast<const uint8_t*>(x);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0;
  for (int64_t i = 0; i < n / kQK; ++i, a += sizeof(BlockQ4_1), b += sizeof(BlockQ8_1)) {
    _mm_prefetch(reinterpret_cast<const char*>(a) + kPrefetch, _MM_HINT_T0);
    const __m256 d = _mm256_set1_ps(half(a) * half(b));
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_u8(nibbles(a + 4), loadu(b + 4))), acc);
    mins += half(a + 2) * half(b + 2);
  }
  return hsum(acc) + mins;
}

float dot_q5_1_q8_1(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint8_t*>(w);
  const auto* b = static_cast<const uint8_t*>(x);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0;
  for (int64_t i = 0; i < n / kQK; ++i, a += sizeof(BlockQ5_1), b += sizeof(BlockQ8_1)) {
    _mm_prefetch(reinterpret_cast<const char*>(a) + kPrefetch, _MM_HINT_T0);
    const __m256i high = _mm256_and_si256(bits_to_bytes(u32_at(a + 4)), _mm256_set1_epi8(0x10));
    const __m256 d = _mm256_set1_ps(half(a) * half(b));
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_u8(_mm256_or_si256(nibbles(a + 8), high), loadu(b + 4))), acc);
    mins += half(a + 2) * half(b + 2);
  }
  return hsum(acc) + mins;
}

// Q2_K / Q3_K: value 128h + 32j + l is bit pair j of qs[32h + l]; groups
// of 16 values, two per 32 (lanes 0..7 and 8..15 of a maddubs result).
inline __m256i group_scales(int lo, int hi) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(hi)), _mm_set1_epi16(static_cast<short>(lo)));
}

float dot_q2_k_q8_k(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint8_t*>(w);
  const auto* b = static_cast<const uint8_t*>(x);
  const __m256i m2 = _mm256_set1_epi8(0x03);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i, a += sizeof(BlockQ2_K), b += sizeof(BlockQ8_K)) {
    prefetch_block(a, sizeof(BlockQ2_K));
    const uint8_t* scales = a + offsetof(BlockQ2_K, scales);
    const int8_t* q8 = reinterpret_cast<const int8_t*>(b + offsetof(BlockQ8_K, qs));
    int16_t bsums[16];
    std::memcpy(bsums, b + offsetof(BlockQ8_K, bsums), sizeof bsums);
    float dy;
    std::memcpy(&dy, b, 4);
    int summ = 0;
    for (int g = 0; g < 16; ++g) summ += (scales[g] >> 4) * bsums[g];
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i v = loadu(a + offsetof(BlockQ2_K, qs) + 32 * h);
      for (int j = 0; j < 4; ++j) {
        const int g = 8 * h + 2 * j;
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(v, 2 * j), m2);
        const __m256i p = _mm256_maddubs_epi16(q, loadu(q8 + 128 * h + 32 * j));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, group_scales(scales[g] & 0xF, scales[g + 1] & 0xF)));
      }
    }
    sum += dy * (half(a + offsetof(BlockQ2_K, d)) * static_cast<float>(hsum_i32(acc)) -
                 half(a + offsetof(BlockQ2_K, dmin)) * static_cast<float>(summ));
  }
  return sum;
}

float dot_q3_k_q8_k(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const uint8_t*>(w);
  const auto* b = static_cast<const uint8_t*>(x);
  const __m256i m2 = _mm256_set1_epi8(0x03), one = _mm256_set1_epi8(1);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i, a += sizeof(BlockQ3_K), b += sizeof(BlockQ8_K)) {
    prefetch_block(a, sizeof(BlockQ3_K));
    int8_t sc[16];
    unpack_scales_q3_k(a + offsetof(BlockQ3_K, scales), sc);
    const int8_t* q8 = reinterpret_cast<const int8_t*>(b + offsetof(BlockQ8_K, qs));
    int16_t bsums[16];
    std::memcpy(bsums, b + offsetof(BlockQ8_K, bsums), sizeof bsums);
    float dy;
    std::memcpy(&dy, b, 4);
    int bias = 0;  // the -4 offset: 4 * sum_g sc_g * sum_g(x)
    for (int g = 0; g < 16; ++g) bias += sc[g] * bsums[g];
    const __m256i hm = loadu(a + offsetof(BlockQ3_K, hmask));
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i v = loadu(a + offsetof(BlockQ3_K, qs) + 32 * h);
      for (int j = 0; j < 4; ++j) {
        const int g = 8 * h + 2 * j;
        const __m256i hb = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + j), one), 2);
        const __m256i q = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 2 * j), m2), hb);
        const __m256i p = _mm256_maddubs_epi16(q, loadu(q8 + 128 * h + 32 * j));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, group_scales(sc[g], sc[g + 1])));
      }
    }
    sum += half(a + offsetof(BlockQ3_K, d)) * dy * static_cast<float>(hsum_i32(acc) - 4 * bias);
  }
  return sum;
}

void quantize_act_q8_0(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK, out += sizeof(BlockQ8_0)) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm256_loadu_ps(x + 8 * k);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[k]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float mx = _mm_cvtss_f32(m);
    const uint16_t d = f32_to_fp16(mx / 127.f);
    std::memcpy(out, &d, 2);
    const __m256 id = _mm256_set1_ps(mx != 0 ? 127.f / mx : 0.f);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) {
      q[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[k], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    // int32 -> int8 keeping order: packs interleave 128-bit lanes, permute fixes it.
    const __m256i p16a = _mm256_packs_epi32(q[0], q[1]), p16b = _mm256_packs_epi32(q[2], q[3]);
    const __m256i p8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p16a, p16b),
                                                   _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2), p8);
  }
}

// F16 activations (and the KV cache's rows): vcvtps2ph rounds to nearest
// even as the reference does; only a NaN's payload may differ (still NaN).
void quantize_act_f16(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);  // any alignment
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) {
    const uint16_t h = f32_to_fp16(x[i]);
    std::memcpy(out + 2 * i, &h, 2);
  }
}

}  // namespace folio::avx2

#include "kernels/target_end.h"
