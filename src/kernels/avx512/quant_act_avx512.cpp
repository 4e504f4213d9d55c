// Q8_K for the K-quant dot products, byte for byte the reference
// (tensor/quant_k.cpp): the scale from the first value of largest
// magnitude, products rounded to nearest even under the default MXCSR
// mode, the 16-value sums of the result.
#include <cstddef>
#include <cstring>

#include "kernels/avx512/quant_act_avx512.h"
#include "tensor/blocks.h"

#define FOLIO_TARGET "avx512f,avx512bw,avx512vl,avx512dq"
#include "kernels/target_begin.h"
#include <immintrin.h>

namespace folio::avx512 {

void quantize_act_q8_k(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K, out += sizeof(BlockQ8_K)) {
    __m512 v[16];
    __m512 amax = _mm512_setzero_ps();
    for (int k = 0; k < 16; ++k) {
      v[k] = _mm512_loadu_ps(x + 16 * k);
      amax = _mm512_max_ps(amax, _mm512_abs_ps(v[k]));
    }
    const float mx = _mm512_reduce_max_ps(amax);
    BlockQ8_K b;
    if (mx == 0) {
      std::memset(&b, 0, sizeof b);
      std::memcpy(out, &b, sizeof b);
      continue;
    }
    float vmax = 0;
    for (int k = 0; k < 16; ++k) {  // the first value of magnitude mx, with its sign
      const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(v[k]), _mm512_set1_ps(mx), _CMP_EQ_OQ);
      if (hit != 0) {
        vmax = x[16 * k + __builtin_ctz(hit)];
        break;
      }
    }
    const float iscale = -127.f / vmax;
    const __m512 is = _mm512_set1_ps(iscale);
    for (int k = 0; k < 16; ++k) {
      const __m512i q = _mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(is, v[k])), _mm512_set1_epi32(127));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(b.qs + 16 * k), _mm512_cvtsepi32_epi8(q));
      b.bsums[k] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
    b.d = 1 / iscale;
    std::memcpy(out, &b, sizeof b);
  }
}

}  // namespace folio::avx512

#include "kernels/target_end.h"
