#include "engine/embed.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace folio {

Pooling model_pooling(const Hparams& hp) {
  switch (hp.pooling) {
    case 1: return Pooling::kMean;
    case 2: return Pooling::kFirst;
    default: return Pooling::kLast;
  }
}

Result<EmbedStats> embed(const Model& model, Context& ctx, const std::vector<int32_t>& tokens, int64_t batch,
                         Pooling pooling, std::vector<float>* out) {
  const Hparams& hp = model.hparams();
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) return make_error("nothing to embed: the input has no tokens");
  if (n > ctx.n_ctx()) {
    return make_error("the input is %lld tokens, more than the context of %lld (num_ctx)", static_cast<long long>(n),
                      static_cast<long long>(ctx.n_ctx()));
  }
  for (int32_t id : tokens) {
    if (id < 0 || id >= hp.n_vocab) return make_error("token id %d is outside the vocabulary", id);
  }
  const auto start = std::chrono::steady_clock::now();
  batch = std::max<int64_t>(1, batch);
  out->assign(static_cast<size_t>(hp.n_embd), 0.f);
  std::vector<float> h;
  ctx.set_n_past(0);
  for (int64_t i = 0; i < n; i += batch) {
    const int64_t m = std::min(batch, n - i);
    h.resize(static_cast<size_t>(m * hp.n_embd));
    model.hidden(ctx, tokens.data() + i, m, h.data());
    for (int64_t t = 0; t < m; ++t) {
      const float* row = h.data() + t * hp.n_embd;
      const int64_t pos = i + t;
      const bool take = pooling == Pooling::kMean || (pooling == Pooling::kFirst && pos == 0) ||
                        (pooling == Pooling::kLast && pos == n - 1);
      if (!take) continue;
      for (int64_t j = 0; j < hp.n_embd; ++j) (*out)[static_cast<size_t>(j)] += row[j];
    }
  }
  if (pooling == Pooling::kMean) {
    for (float& v : *out) v /= static_cast<float>(n);
  }
  EmbedStats st;
  st.prompt_eval_count = n;
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return st;
}

Result<void> normalize(std::vector<float>& v) {
  double sum = 0;
  for (float x : v) {
    if (!std::isfinite(x)) return make_error("embedding contains NaN or Inf values");
    sum += static_cast<double>(x) * x;
  }
  const double scale = 1.0 / std::max(std::sqrt(sum), 1e-12);
  for (float& x : v) x = static_cast<float>(x * scale);
  return {};
}

}  // namespace folio
