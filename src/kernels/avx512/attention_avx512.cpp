// Scores 4 keys at a time (independent FMA chains), a vectorized exp for the
// softmax, values accumulated in registers. Same roundings as the reference
// (q and p to F16, round to nearest even); sums in another order.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/avx512/attention_avx512.h"

#define FOLIO_TARGET "avx512f,avx512bw,avx512vl,avx512dq,fma,f16c"
#include "kernels/target_begin.h"
#include <immintrin.h>

namespace folio::avx512 {

namespace {

#include "kernels/avx512/common.h"

inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
}

inline __m512 load_f16(const uint16_t* p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }

// Rounds to F16 and back (nearest even), as the reference's f32_to_fp16.
inline __m512 round_f16(__m512 x) { return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)); }

// out = sum_i scores[i] * v_i for head_dim_v = 16 * NV, in registers.
template <int NV>
void weighted_sum(const AttendArgs& a, float* out) {
  __m512 acc[NV];
  for (int c = 0; c < NV; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t i = 0; i < a.n_keys; ++i) {
    const __m512 p = _mm512_set1_ps(a.scores[i]);
    const uint16_t* vr = a.v + static_cast<size_t>(i) * a.v_stride;
    for (int c = 0; c < NV; ++c) {
      acc[c] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(vr + 16 * c))), p, acc[c]);
    }
  }
  for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + 16 * c, acc[c]);
}

}  // namespace

void attend(const AttendArgs& a) {
  const int64_t hk = a.head_dim_k, hv = a.head_dim_v, nk = a.n_keys;
  float* q16 = a.scores + nk;
  for (int64_t d = 0; d < hk; d += 16) {
    const __mmask16 m = tail_mask(hk - d);
    _mm512_mask_storeu_ps(q16 + d, m, round_f16(_mm512_maskz_loadu_ps(m, a.q + d)));
  }
  // scores, four keys per pass
  int64_t j = 0;
  for (; j + 4 <= nk; j += 4) {
    const uint16_t* k0 = a.k + static_cast<size_t>(j) * a.k_stride;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (int64_t d = 0; d < hk; d += 16) {
      const __mmask16 m = tail_mask(hk - d);
      const __m512 qv = _mm512_maskz_loadu_ps(m, q16 + d);
      s0 = _mm512_fmadd_ps(load_f16(k0 + d, m), qv, s0);
      s1 = _mm512_fmadd_ps(load_f16(k0 + a.k_stride + d, m), qv, s1);
      s2 = _mm512_fmadd_ps(load_f16(k0 + 2 * a.k_stride + d, m), qv, s2);
      s3 = _mm512_fmadd_ps(load_f16(k0 + 3 * a.k_stride + d, m), qv, s3);
    }
    a.scores[j] = _mm512_reduce_add_ps(s0) * a.scale;
    a.scores[j + 1] = _mm512_reduce_add_ps(s1) * a.scale;
    a.scores[j + 2] = _mm512_reduce_add_ps(s2) * a.scale;
    a.scores[j + 3] = _mm512_reduce_add_ps(s3) * a.scale;
  }
  for (; j < nk; ++j) {
    const uint16_t* kr = a.k + static_cast<size_t>(j) * a.k_stride;
    __m512 s = _mm512_setzero_ps();
    for (int64_t d = 0; d < hk; d += 16) {
      const __mmask16 m = tail_mask(hk - d);
      s = _mm512_fmadd_ps(load_f16(kr + d, m), _mm512_maskz_loadu_ps(m, q16 + d), s);
    }
    a.scores[j] = _mm512_reduce_add_ps(s) * a.scale;
  }
  if (a.softcap > 0) {
    for (int64_t i = 0; i < nk; ++i) a.scores[i] = a.softcap * std::tanh(a.scores[i] / a.softcap);
  }
  // softmax, then the probabilities rounded to F16
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int64_t i = 0; i < nk; i += 16) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(mx, tail_mask(nk - i), a.scores + i));
  const __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
  __m512 sum = _mm512_setzero_ps();
  for (int64_t i = 0; i < nk; i += 16) {
    const __mmask16 m = tail_mask(nk - i);
    const __m512 e = _mm512_maskz_mov_ps(m, exp_neg(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, a.scores + i), vmax)));
    _mm512_mask_storeu_ps(a.scores + i, m, e);
    sum = _mm512_add_ps(sum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.f / _mm512_reduce_add_ps(sum));
  for (int64_t i = 0; i < nk; i += 16) {
    const __mmask16 m = tail_mask(nk - i);
    _mm512_mask_storeu_ps(a.scores + i, m, round_f16(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, a.scores + i), inv)));
  }
  // out = sum_j p_j v_j
  if (hv == 64) {
    weighted_sum<4>(a, a.out);
  } else if (hv == 128) {
    weighted_sum<8>(a, a.out);
  } else {
    for (int64_t d = 0; d < hv; ++d) a.out[d] = 0;
    for (int64_t i = 0; i < nk; ++i) {
      const __m512 p = _mm512_set1_ps(a.scores[i]);
      const uint16_t* vr = a.v + static_cast<size_t>(i) * a.v_stride;
      for (int64_t d = 0; d < hv; d += 16) {
        const __mmask16 m = tail_mask(hv - d);
        _mm512_mask_storeu_ps(a.out + d, m, _mm512_fmadd_ps(load_f16(vr + d, m), p, _mm512_maskz_loadu_ps(m, a.out + d)));
      }
    }
  }
}

}  // namespace folio::avx512

#include "kernels/target_end.h"
