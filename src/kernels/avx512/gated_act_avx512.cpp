// Both activations are x * sigmoid(a) (a = x for SiLU, 2u for GELU-tanh),
// computed as x * (a >= 0 ? 1 : e) / (1 + e) with e = exp(-|a|) <= 1: no
// overflow for any x, and no cancellation in GELU's 1 + tanh(u) where u is
// very negative (the reference loses bits there, this does not).
#include <cstdint>
#include <cstring>

#include "kernels/avx512/gated_act_avx512.h"

#define FOLIO_TARGET "avx512f,avx512dq,fma,f16c"
#include "kernels/target_begin.h"
#include <immintrin.h>

namespace folio::avx512 {

namespace {

#include "kernels/avx512/common.h"

// x * sigmoid(a).
FOLIO_INLINE __m512 times_sigmoid(__m512 x, __m512 a) {
  const __m512 e = exp_neg(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(a)));
  const __mmask16 neg = _mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_LT_OQ);
  const __m512 num = _mm512_mask_blend_ps(neg, _mm512_set1_ps(1.f), e);
  return _mm512_mul_ps(x, _mm512_div_ps(num, _mm512_add_ps(_mm512_set1_ps(1.f), e)));
}

// SiLU: x * sigmoid(x); GELU-tanh: x * sigmoid(2u), 2u = 2 sqrt(2/pi) (x +
// 0.044715 x^3).
template <bool kGelu>
FOLIO_INLINE __m512 activate(__m512 x) {
  if constexpr (!kGelu) return times_sigmoid(x, x);
  const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  const __m512 inner = _mm512_fmadd_ps(x3, _mm512_set1_ps(0.044715f), x);
  return times_sigmoid(x, _mm512_mul_ps(inner, _mm512_set1_ps(2.f * 0.7978845608028654f)));
}

template <bool kGelu>
void apply(float* gate, const float* up, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(gate + i);
    _mm512_storeu_ps(gate + i, _mm512_mul_ps(activate<kGelu>(x), _mm512_loadu_ps(up + i)));
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 x = _mm512_maskz_loadu_ps(m, gate + i);
    _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(activate<kGelu>(x), _mm512_maskz_loadu_ps(m, up + i)));
  }
}

}  // namespace

void silu_mul(float* gate, const float* up, int64_t n) { apply<false>(gate, up, n); }
void gelu_mul(float* gate, const float* up, int64_t n) { apply<true>(gate, up, n); }

}  // namespace folio::avx512

#include "kernels/target_end.h"
