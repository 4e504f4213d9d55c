// AVX-512 activation quantizers; the same bytes as the reference.
#pragma once

#include <cstdint>

namespace folio::avx512 {

void quantize_act_q8_k(const float* x, void* dst, int64_t n);

}  // namespace folio::avx512
