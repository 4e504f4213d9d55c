// Per-sequence state of a loaded model: the KV cache (F16, as llama.cpp's
// default), the thread pool and scratch buffers. One Context per concurrent
// sequence; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/thread_pool.h"
#include "engine/hparams.h"
#include "kernels/matmul.h"
#include "memory/mapped_file.h"

namespace folio {

class KvCache {
 public:
  // k_width/v_width: values per position per layer (n_head_kv * head_dim).
  // The memory is mapped, not touched: pages become resident as positions
  // fill.
  static Result<KvCache> create(int64_t n_layer, int64_t n_ctx, int64_t k_width, int64_t v_width,
                                MappedFile::Pages pages, size_t hugepage_size = 2u << 20);

  int64_t n_ctx() const { return n_ctx_; }
  uint64_t bytes() const { return static_cast<uint64_t>(n_layer_ * n_ctx_ * (k_width_ + v_width_)) * 2; }
  // F16 rows: (n_ctx, k_width) per layer.
  uint16_t* k(int64_t layer, int64_t pos) { return k_base() + (layer * n_ctx_ + pos) * k_width_; }
  uint16_t* v(int64_t layer, int64_t pos) { return v_base() + (layer * n_ctx_ + pos) * v_width_; }

 private:
  KvCache() = default;
  uint16_t* k_base() { return reinterpret_cast<uint16_t*>(k_.writable_data()); }
  uint16_t* v_base() { return reinterpret_cast<uint16_t*>(v_.writable_data()); }

  int64_t n_layer_ = 0, n_ctx_ = 0, k_width_ = 0, v_width_ = 0;
  MappedFile k_, v_;
};

class Context {
 public:
  // Errors: the KV cache cannot be allocated (names the size and cause).
  // pool: threads shared with other contexts of the same model (the
  // server's slots; their passes never overlap); null: a pool of its own.
  static Result<std::unique_ptr<Context>> create(const Hparams& hp, int64_t n_ctx, int n_threads,
                                                 MappedFile::Pages pages = MappedFile::Pages::kNormal,
                                                 size_t hugepage_size = 2u << 20,
                                                 std::shared_ptr<ThreadPool> pool = nullptr);
  // For tests and tools with small contexts: aborts if the cache cannot be
  // allocated.
  Context(const Hparams& hp, int64_t n_ctx, int n_threads);

  int64_t n_ctx() const { return kv_.n_ctx(); }
  int64_t n_past() const { return n_past_; }
  void set_n_past(int64_t n) { n_past_ = n; }  // rewinds (or advances after a forward)
  KvCache& kv() { return kv_; }
  ThreadPool& pool() { return *pool_; }
  MatmulScratch& matmul_scratch() { return matmul_; }
  // Scratch buffer i resized to n floats (contents unspecified).
  float* buffer(size_t i, size_t n);

 private:
  Context(KvCache kv, std::shared_ptr<ThreadPool> pool);

  KvCache kv_;
  std::shared_ptr<ThreadPool> pool_;
  MatmulScratch matmul_;
  std::vector<std::vector<float>> buffers_;
  int64_t n_past_ = 0;
};

}  // namespace folio
