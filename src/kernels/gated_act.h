// The gated FFN's activation, in place: gate[i] = act(gate[i]) * up[i],
// act SiLU (x * sigmoid(x)) or GELU with the tanh approximation
// (0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3)).
// The scalar reference (ops::silu, ops::gelu_tanh: libm's expf and tanhf)
// is the specification; the AVX-512 version is tested against it.
#pragma once

#include <cstdint>

namespace folio {

enum class GatedAct { kSilu, kGeluTanh };

using GatedActFn = void (*)(float* gate, const float* up, int64_t n);

// The implementation in use for `act` (chosen once for the CPU).
GatedActFn gated_act_kernel(GatedAct act);
GatedActFn gated_act_ref(GatedAct act);

}  // namespace folio
