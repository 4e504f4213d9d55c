#include "kernels/gated_act.h"

#include "base/cpu.h"
#include "kernels/avx512/gated_act_avx512.h"
#include "kernels/ops.h"

namespace folio {

namespace {

void silu_mul_ref(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gate[i] = ops::silu(gate[i]) * up[i];
}

void gelu_mul_ref(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gate[i] = ops::gelu_tanh(gate[i]) * up[i];
}

bool has_avx512() {
  const CpuFeatures& f = cpu_features();
  return f.avx512f && f.avx512dq && f.fma && f.f16c;
}

}  // namespace

GatedActFn gated_act_ref(GatedAct act) { return act == GatedAct::kSilu ? &silu_mul_ref : &gelu_mul_ref; }

GatedActFn gated_act_kernel(GatedAct act) {
  static const bool avx512 = has_avx512();
  if (!avx512) return gated_act_ref(act);
  return act == GatedAct::kSilu ? &avx512::silu_mul : &avx512::gelu_mul;
}

}  // namespace folio
