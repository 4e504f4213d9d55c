// AVX-512 VNNI kernels on packed weights (kernels/packed.h): the TileFn
// contract with w the first row's panel and nr a multiple of 16. Up to 15
// tokens: a column kernel over two panels at a time (lane = row), four
// tokens a pass; more: the panel GEMM (panel_avx512.h) fed from the packed
// panels. Call only when the CPU has these features (kernels/packed.cpp
// checks once).
#pragma once

#include <cstddef>
#include <cstdint>

namespace folio::avx512 {

void packed_q4_0_q8_0(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
                      size_t ys);
void packed_q8_0_q8_0(int64_t n, const uint8_t* w, size_t ws, int nr, const uint8_t* x, size_t xs, int nt, float* y,
                      size_t ys);

}  // namespace folio::avx512
