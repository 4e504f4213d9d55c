// Elementwise and row operations of the forward pass, scalar reference
// (ref: llama.cpp ggml-cpu ops; RMSNorm per Zhang & Sennrich 2019, RoPE per
// Su et al. 2021). Numerics follow ggml's where it matters for parity:
// f32 everywhere, sums of squares in double.
#pragma once

#include <cmath>
#include <cstdint>

namespace folio::ops {

// y = x / sqrt(mean(x^2) + eps) * w   (w may be null: no scale)
void rms_norm(const float* x, const float* w, float eps, int64_t n, float* y);

// In-place rotary embedding of one head vector x[0..head_dim) at position
// pos, rotating the first n_rot dims. Pair i (i < n_rot/2) is
// (x[2i], x[2i+1]) for `adjacent` (GGUF llama, "NORM") or (x[i], x[i+n_rot/2])
// for NEOX. theta_i = pos * freq_scale * base^(-2i/n_rot) / factors[i].
struct RopeParams {
  int n_rot = 0;
  float freq_base = 10000.f;
  float freq_scale = 1.f;
  const float* factors = nullptr;  // rope_freqs.weight (n_rot/2), or null
  bool adjacent = true;
  // YaRN (ext_factor > 0): pairs below corr_low keep their frequency
  // (extrapolation), pairs above corr_high are interpolated (freq_scale),
  // a linear ramp between; cos/sin are multiplied by
  // attn_factor * (1 + 0.1 ln(1 / freq_scale)), as ggml_rope_ext does.
  float ext_factor = 0.f;
  float corr_low = 0.f, corr_high = 0.f;
  float attn_factor = 1.f;
};
// YaRN's correction range for n_rot dimensions trained at n_ctx_orig
// positions (ggml_rope_yarn_corr_dims; beta_fast 32, beta_slow 1).
void yarn_corr_dims(int n_rot, int64_t n_ctx_orig, float freq_base, float beta_fast, float beta_slow, float* low,
                    float* high);
// cos/sin for one position: cs[2i] = cos(theta_i), cs[2i+1] = sin(theta_i).
void rope_cache(const RopeParams& p, int64_t pos, float* cs);
void rope_apply(const RopeParams& p, const float* cs, float* x);

// In-place softmax over n values.
void softmax(float* x, int64_t n);

inline float silu(float x) { return x / (1.f + __builtin_expf(-x)); }
// GELU, tanh approximation (gemma's gelu_pytorch_tanh; ggml_gelu).
inline float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * x * (1.f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

}  // namespace folio::ops
