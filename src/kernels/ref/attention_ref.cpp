#include <cmath>

#include "kernels/attention.h"
#include "kernels/ops.h"
#include "tensor/fp16.h"

namespace folio {

void attend_ref(const AttendArgs& a) {
  float* q16 = a.scores + a.n_keys;
  for (int64_t d = 0; d < a.head_dim_k; ++d) q16[d] = fp16_to_f32(f32_to_fp16(a.q[d]));
  for (int64_t j = 0; j < a.n_keys; ++j) {
    const uint16_t* kr = a.k + static_cast<size_t>(j) * a.k_stride;
    float dot = 0;
    for (int64_t d = 0; d < a.head_dim_k; ++d) dot += fp16_to_f32(kr[d]) * q16[d];
    float s = dot * a.scale;
    if (a.softcap > 0) s = a.softcap * std::tanh(s / a.softcap);
    a.scores[j] = s;
  }
  ops::softmax(a.scores, a.n_keys);
  for (int64_t d = 0; d < a.head_dim_v; ++d) a.out[d] = 0;
  for (int64_t j = 0; j < a.n_keys; ++j) {
    const float p = fp16_to_f32(f32_to_fp16(a.scores[j]));
    const uint16_t* vr = a.v + static_cast<size_t>(j) * a.v_stride;
    for (int64_t d = 0; d < a.head_dim_v; ++d) a.out[d] += p * fp16_to_f32(vr[d]);
  }
}

}  // namespace folio
