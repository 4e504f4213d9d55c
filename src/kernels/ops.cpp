#include "kernels/ops.h"

#include <algorithm>
#include <cmath>

namespace folio::ops {

void rms_norm(const float* x, const float* w, float eps, int64_t n, float* y) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(sum / n) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * (w ? w[i] : 1.f);
}

void rope_cache(const RopeParams& p, int64_t pos, float* cs) {
  // theta advances by a constant factor per pair, as ggml computes it.
  const float theta_scale = std::pow(p.freq_base, -2.0f / static_cast<float>(p.n_rot));
  float theta = static_cast<float>(pos);
  float mscale = p.attn_factor;
  if (p.ext_factor != 0.f) mscale *= 1.0f + 0.1f * std::log(1.0f / p.freq_scale);
  for (int i = 0; i < p.n_rot / 2; ++i) {
    const float ff = p.factors ? p.factors[i] : 1.f;
    const float extrap = theta / ff;
    float t = p.freq_scale * extrap;
    if (p.ext_factor != 0.f) {
      const float y = (static_cast<float>(i) - p.corr_low) / std::max(0.001f, p.corr_high - p.corr_low);
      const float ramp = (1.f - std::min(1.f, std::max(0.f, y))) * p.ext_factor;
      t = t * (1.f - ramp) + extrap * ramp;
    }
    cs[2 * i] = std::cos(t) * mscale;
    cs[2 * i + 1] = std::sin(t) * mscale;
    theta *= theta_scale;
  }
}

void yarn_corr_dims(int n_rot, int64_t n_ctx_orig, float freq_base, float beta_fast, float beta_slow, float* low,
                    float* high) {
  const auto dim = [&](float n_turns) {
    return static_cast<float>(n_rot) * std::log(static_cast<float>(n_ctx_orig) / (n_turns * 2.f * 3.14159265358979f)) /
           (2.f * std::log(freq_base));
  };
  *low = std::max(0.f, std::floor(dim(beta_fast)));
  *high = std::min(static_cast<float>(n_rot - 1), std::ceil(dim(beta_slow)));
}

void rope_apply(const RopeParams& p, const float* cs, float* x) {
  const int half = p.n_rot / 2;
  for (int i = 0; i < half; ++i) {
    const int a = p.adjacent ? 2 * i : i;
    const int b = p.adjacent ? 2 * i + 1 : i + half;
    const float c = cs[2 * i], s = cs[2 * i + 1];
    const float x0 = x[a], x1 = x[b];
    x[a] = x0 * c - x1 * s;
    x[b] = x0 * s + x1 * c;
  }
}

void softmax(float* x, int64_t n) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = x[i] == -INFINITY ? 0.f : std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace folio::ops
