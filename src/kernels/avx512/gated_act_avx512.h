// AVX-512 gated activations (see kernels/gated_act.h).
#pragma once

#include <cstdint>

namespace folio::avx512 {

void silu_mul(float* gate, const float* up, int64_t n);
void gelu_mul(float* gate, const float* up, int64_t n);

}  // namespace folio::avx512
