#include "engine/context.h"

namespace folio {

KvCache::KvCache(int64_t n_layer, int64_t n_ctx, int64_t k_width, int64_t v_width)
    : n_layer_(n_layer),
      n_ctx_(n_ctx),
      k_width_(k_width),
      v_width_(v_width),
      k_(new uint16_t[static_cast<size_t>(n_layer * n_ctx * k_width)]),
      v_(new uint16_t[static_cast<size_t>(n_layer * n_ctx * v_width)]) {}

Context::Context(const Hparams& hp, int64_t n_ctx, int n_threads)
    : kv_(hp.n_layer, n_ctx, hp.n_head_kv * hp.head_dim_k, hp.n_head_kv * hp.head_dim_v), pool_(n_threads) {}

float* Context::buffer(size_t i, size_t n) {
  if (buffers_.size() <= i) buffers_.resize(i + 1);
  if (buffers_[i].size() < n) buffers_[i].resize(n);
  return buffers_[i].data();
}

}  // namespace folio
