// Two passes: the largest value (vmaxps returns its second operand when the
// first is NaN, so NaNs never win), then the first lane equal to it. The
// logits (128256 floats for llama 3) stay in L2 between the passes.
#include "kernels/avx512/argmax_avx512.h"

#define FOLIO_TARGET "avx512f"
#include "kernels/target_begin.h"
#include <immintrin.h>

namespace folio::avx512 {

int64_t argmax(const float* x, int64_t n) {
  __m512 m = _mm512_set1_ps(-__builtin_inff());
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) m = _mm512_max_ps(_mm512_loadu_ps(x + i), m);
  if (i < n) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1);
    m = _mm512_mask_max_ps(m, tail, _mm512_maskz_loadu_ps(tail, x + i), m);
  }
  const __m512 best = _mm512_set1_ps(_mm512_reduce_max_ps(m));
  for (i = 0; i + 16 <= n; i += 16) {
    const __mmask16 eq = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), best, _CMP_EQ_OQ);
    if (eq != 0) return i + __builtin_ctz(eq);
  }
  if (i < n) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __mmask16 eq = _mm512_mask_cmp_ps_mask(tail, _mm512_maskz_loadu_ps(tail, x + i), best, _CMP_EQ_OQ);
    if (eq != 0) return i + __builtin_ctz(eq);
  }
  return 0;  // nothing but NaNs
}

}  // namespace folio::avx512

#include "kernels/target_end.h"
