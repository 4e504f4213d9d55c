#include "engine/context.h"

#include "base/checked.h"

namespace folio {

Result<KvCache> KvCache::create(int64_t n_layer, int64_t n_ctx, int64_t k_width, int64_t v_width,
                                MappedFile::Pages pages, size_t hugepage_size) {
  const uint64_t k_bytes = sat_mul(sat_mul(sat_mul(static_cast<uint64_t>(n_layer), static_cast<uint64_t>(n_ctx)),
                                           static_cast<uint64_t>(k_width)), 2);
  const uint64_t v_bytes = sat_mul(sat_mul(sat_mul(static_cast<uint64_t>(n_layer), static_cast<uint64_t>(n_ctx)),
                                           static_cast<uint64_t>(v_width)), 2);
  if (k_bytes > (uint64_t{1} << 50) || v_bytes > (uint64_t{1} << 50)) {
    return make_error("a KV cache of %lld layers x %lld positions is too large; lower num_ctx",
                      static_cast<long long>(n_layer), static_cast<long long>(n_ctx));
  }
  KvCache c;
  c.n_layer_ = n_layer;
  c.n_ctx_ = n_ctx;
  c.k_width_ = k_width;
  c.v_width_ = v_width;
  auto k = MappedFile::anonymous(static_cast<size_t>(k_bytes), pages, hugepage_size);
  if (!k.ok()) return make_error("KV cache: %s", k.error().message.c_str());
  auto v = MappedFile::anonymous(static_cast<size_t>(v_bytes), pages, hugepage_size);
  if (!v.ok()) return make_error("KV cache: %s", v.error().message.c_str());
  c.k_ = std::move(k).value();
  c.v_ = std::move(v).value();
  return c;
}

Result<std::unique_ptr<Context>> Context::create(const Hparams& hp, int64_t n_ctx, int n_threads,
                                                 MappedFile::Pages pages, size_t hugepage_size,
                                                 std::shared_ptr<ThreadPool> pool) {
  FOLIO_ASSIGN_OR_RETURN(KvCache kv, KvCache::create(hp.n_layer, n_ctx, hp.n_head_kv * hp.head_dim_k,
                                                      hp.n_head_kv * hp.head_dim_v, pages, hugepage_size));
  if (pool == nullptr) pool = std::make_shared<ThreadPool>(n_threads);
  return std::unique_ptr<Context>(new Context(std::move(kv), std::move(pool)));
}

Context::Context(KvCache kv, std::shared_ptr<ThreadPool> pool) : kv_(std::move(kv)), pool_(std::move(pool)) {}

Context::Context(const Hparams& hp, int64_t n_ctx, int n_threads)
    : Context(std::move(KvCache::create(hp.n_layer, n_ctx, hp.n_head_kv * hp.head_dim_k, hp.n_head_kv * hp.head_dim_v,
                                        MappedFile::Pages::kNormal)
                            .value()),
              std::make_shared<ThreadPool>(n_threads)) {}

float* Context::buffer(size_t i, size_t n) {
  if (buffers_.size() <= i) buffers_.resize(i + 1);
  if (buffers_[i].size() < n) buffers_[i].resize(n);
  return buffers_[i].data();
}

}  // namespace folio
