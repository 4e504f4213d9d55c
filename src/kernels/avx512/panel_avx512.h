// AVX-512 VNNI matrix-matrix kernels for batches of tokens (prompt
// processing): 16 weight rows are decoded once per chunk of tokens into a
// packed panel where each 32-bit lane holds 4 values of one row, so one
// vpdpbusd multiplies 4 values of 16 rows by 4 values of a token
// (broadcast from the activation row in place); F16/F32 rows become a
// float panel, one FMA per value of 16 rows and one token. The panel lives in a
// per-thread buffer of 16 bytes per input value; the weights stay in the
// mapping. Same signature and results as the tile kernels (TileFn).
#pragma once

#include <cstddef>
#include <cstdint>

namespace folio::avx512 {

#define FOLIO_PANEL_FN(name)                                                                                    \
  void name(int64_t n, const uint8_t* w, size_t w_stride, int nr, const uint8_t* x, size_t x_stride, int nt, \
            float* y, size_t y_stride)

FOLIO_PANEL_FN(panel_q4_0_q8_0);
FOLIO_PANEL_FN(panel_q8_0_q8_0);
FOLIO_PANEL_FN(panel_q5_0_q8_0);
FOLIO_PANEL_FN(panel_q4_1_q8_1);
FOLIO_PANEL_FN(panel_q5_1_q8_1);
FOLIO_PANEL_FN(panel_q4_k_q8_k);
FOLIO_PANEL_FN(panel_q6_k_q8_k);
FOLIO_PANEL_FN(panel_q5_k_q8_k);
FOLIO_PANEL_FN(panel_q3_k_q8_k);
FOLIO_PANEL_FN(panel_q2_k_q8_k);
FOLIO_PANEL_FN(panel_f16_f16);
FOLIO_PANEL_FN(panel_bf16_bf16);
FOLIO_PANEL_FN(panel_f32_f32);
// On packed weights (kernels/packed.h: w the first panel, nr a multiple of 16).
FOLIO_PANEL_FN(panel_packed_q4_0_q8_0);
FOLIO_PANEL_FN(panel_packed_q8_0_q8_0);

#undef FOLIO_PANEL_FN

}  // namespace folio::avx512
