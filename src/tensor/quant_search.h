// Scale searches shared by the reference quantizers. Each fits a group of n
// values with small integers, minimizing a weighted squared (or absolute)
// error. They implement the published k-quant fitting procedures (ref:
// llama.cpp PR #1684 "k-quants" and ggml-quants.c make_qx_quants,
// make_q3_quants, make_qkx2_quants) so our files carry the same error.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace folio {

// Round half to even, as the reference quantizers do. Adding 1.5 * 2^23
// leaves the rounded integer in the low mantissa bits (valid for
// |v| < 2^22; the quantizers' arguments are far smaller). Unlike lrintf
// this needs no libm call.
inline int round_even(float v) {
  const float biased = v + 12582912.f;
  int32_t bits;
  std::memcpy(&bits, &biased, 4);
  return (bits & 0x007fffff) - 0x00400000;
}

// A float cast to int8 (truncating, as C's cast), defined for every input:
// NaN is 0 and values outside the int8 range saturate. A model with NaN or
// huge values must not make quantization (of weights or activations)
// undefined behaviour; callers round first as their reference does.
inline int8_t sat_i8(float v) {
  if (!(v == v)) return 0;
  return static_cast<int8_t>(std::fmin(std::fmax(v, -128.f), 127.f));
}

// Symmetric fit x ~= scale * (L - nmax), L in [0, 2*nmax), with weights w:
// starts from the max-magnitude scale and tries 18 nearby scales, keeping
// the best weighted least-squares one. Returns the scale (0 for an all-zero
// group, with L = nmax).
float fit_symmetric(int n, int nmax, const float* x, const float* w, uint8_t* L);

// Symmetric fit for 3-bit groups: like fit_symmetric but refines the
// integers one at a time (coordinate descent, up to 5 sweeps) with weights
// x^2. L in [0, 2*nmax).
float fit_symmetric_refine(int n, int nmax, const float* x, uint8_t* L);

// Affine fit x ~= scale * L - neg_min, L in [0, nmax], min <= 0, weights w.
// Tries nstep+1 scales (nmax + rmin + rdelta*i)/(max - min), solving the
// weighted least squares for (scale, min) at each; use_abs measures error
// as |diff| instead of diff^2. Returns scale; *neg_min receives -min >= 0.
float fit_affine(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_min,
                 float rmin, float rdelta, int nstep, bool use_abs);

}  // namespace folio
