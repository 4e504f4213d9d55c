// Small helpers of the AVX-512 kernels. Include only inside a
// `#pragma GCC target` region that enables AVX-512 (after <immintrin.h>),
// in an anonymous namespace: nothing here may be emitted for other callers.
// The includer provides <cstdint>, <cstring> and <immintrin.h>.
#pragma once

#define FOLIO_INLINE inline __attribute__((always_inline))

FOLIO_INLINE __m128i load128(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
FOLIO_INLINE __m256i load256(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
FOLIO_INLINE __m512i load512(const uint8_t* p) { return _mm512_loadu_si512(p); }

// An F16 value at any alignment, as float.
FOLIO_INLINE float half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

FOLIO_INLINE float f32_at(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

FOLIO_INLINE int32_t i32_at(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Byte offsets of 16 lanes `stride` apart (0, stride, ..., 15 stride): the
// index of a gather over 16 rows or 16 blocks.
FOLIO_INLINE __m512i lane_offsets(size_t stride) {
  return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                            _mm512_set1_epi32(static_cast<int>(stride)));
}

// e^x for x <= 0 (softmax arguments, sigmoids): 2^n * e^r, |r| <= ln2/2, degree-6
// Taylor polynomial (relative error < 2e-7); below -87 the result is 0.
FOLIO_INLINE __m512 exp_neg(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  return _mm512_scalef_ps(p, n);
}
