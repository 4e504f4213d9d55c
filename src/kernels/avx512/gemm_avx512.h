// AVX-512 (F, BW, VL, DQ, VNNI) tile kernels: a tile of up to 4 weight rows
// x 4 activation rows per inner loop, so each decoded weight block serves
// every token of the tile and each activation block every row. Call only
// when the CPU has these features (kernels/dot.cpp checks once).
#pragma once

#include <cstddef>
#include <cstdint>

namespace folio::avx512 {

// y[t * y_stride + r] = dot(weight row r, activation row t), r < nr, t < nt;
// rows of W are w_stride bytes apart, activation rows x_stride.
#define FOLIO_TILE_FN(name)                                                                                     \
  void name(int64_t n, const uint8_t* w, size_t w_stride, int nr, const uint8_t* x, size_t x_stride, int nt, \
            float* y, size_t y_stride)

FOLIO_TILE_FN(tile_q4_0_q8_0);
FOLIO_TILE_FN(tile_q8_0_q8_0);
FOLIO_TILE_FN(tile_q5_0_q8_0);
FOLIO_TILE_FN(tile_q4_1_q8_1);
FOLIO_TILE_FN(tile_q5_1_q8_1);
FOLIO_TILE_FN(tile_q4_k_q8_k);
FOLIO_TILE_FN(tile_q6_k_q8_k);
FOLIO_TILE_FN(tile_q5_k_q8_k);
FOLIO_TILE_FN(tile_q3_k_q8_k);
FOLIO_TILE_FN(tile_q2_k_q8_k);
FOLIO_TILE_FN(tile_f16_f16);
FOLIO_TILE_FN(tile_bf16_bf16);
FOLIO_TILE_FN(tile_f32_f32);

#undef FOLIO_TILE_FN

}  // namespace folio::avx512
