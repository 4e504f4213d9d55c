// The column kernels' activations (LegacyGemv in gemm_avx512.cpp, the
// packed kernels in packed_avx512.cpp). Include as common.h is included
// (in the kernel's anonymous namespace, after it); the includer provides
// tensor/blocks.h.
#pragma once

// The column kernels' activations for nt tokens of Q8_0 rows (rows[t]),
// interleaved per block so one pointer walks them: per block the nt
// integer dots' starts (int32: -offset x the block's value sum), the nt
// scales dx (float), then the nt tokens' 32 values. 8 + 32 bytes a token
// and block, nb blocks.
FOLIO_INLINE void interleave_q8_0(const uint8_t* const* rows, int nt, int64_t nb, int offset, uint8_t* out) {
  const size_t stride = (8 + kQK) * static_cast<size_t>(nt);
  for (int64_t j = 0; j < nb; ++j) {
    uint8_t* o = out + static_cast<size_t>(j) * stride;
    for (int t = 0; t < nt; ++t) {
      const uint8_t* b = rows[t] + static_cast<size_t>(j) * sizeof(BlockQ8_0);
      const __m256i q = load256(b + 2);
      const __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1), q);
      __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
      h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
      h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
      const int32_t start = -offset * _mm_cvtsi128_si32(h);
      const float dx = half(b);
      std::memcpy(o + 4 * t, &start, 4);
      std::memcpy(o + 4 * (nt + t), &dx, 4);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 8 * nt + kQK * t), q);
    }
  }
}
