#include "kernels/argmax.h"

#include <cmath>

#include "base/cpu.h"
#include "kernels/avx512/argmax_avx512.h"

namespace folio {

int64_t argmax_ref(const float* x, int64_t n) {
  int64_t best = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isnan(x[i]) && (best < 0 || x[i] > x[best])) best = i;
  }
  return best < 0 ? 0 : best;
}

ArgmaxFn argmax_kernel() {
  static const ArgmaxFn fn = cpu_features().avx512f ? &avx512::argmax : &argmax_ref;
  return fn;
}

}  // namespace folio
