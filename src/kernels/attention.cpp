#include "kernels/attention.h"

#include "base/cpu.h"
#include "kernels/avx512/attention_avx512.h"
#include "kernels/dot.h"

namespace folio {

AttendFn attend_kernel() {
  static const AttendFn fn = [] {
    const CpuFeatures& f = cpu_features();
    if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.fma && f.f16c) return &avx512::attend;
    return &attend_ref;
  }();
  return fn;
}

void store_f16(const float* x, uint16_t* y, int64_t n) {
  static const ActQuantizeFn fn = dot_kernel(TensorType::kF16).quantize_act;
  fn(x, y, n);
}

}  // namespace folio
