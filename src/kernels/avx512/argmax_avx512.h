// AVX-512 argmax (see kernels/argmax.h).
#pragma once

#include <cstdint>

namespace folio::avx512 {

int64_t argmax(const float* x, int64_t n);

}  // namespace folio::avx512
