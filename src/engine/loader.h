// Loading a model for inference through the memory planner: the file is
// mapped (which costs no memory) to read its metadata, the plan is made
// from what the model needs, the options and the machine's facts, and only
// then are the weights read (use_mmap=false), locked or prefetched, and the
// KV cache allocated. A load that cannot fit is refused here, before any
// large allocation.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "engine/context.h"
#include "engine/model.h"
#include "engine/options.h"
#include "memory/planner.h"
#include "memory/system.h"
#include "tokenizer/tokenizer.h"

namespace folio {

// What a model of these hyperparameters needs besides its weights: KV cache
// per position and scratch for one batch of num_batch tokens (the buffers
// engine/blocks and the architectures allocate), logits for one row.
ModelNeeds estimate_needs(const Hparams& hp, uint64_t weight_bytes, int64_t num_batch, int64_t num_ctx, int n_threads);

// The plan request for opts: use_mmap from the options, else FOLIO_MMAP
// (auto|on|off); hugepages from FOLIO_HUGEPAGES (off|auto|on). Errors name
// a bad environment value.
Result<PlanRequest> plan_request(const Options& opts, int64_t num_ctx);

struct LoadedModel {
  std::unique_ptr<ModelFile> file;
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<class ReadAhead> readahead;  // when the plan is "paged"
  SystemFacts facts;
  PlanRequest request;
  Plan plan;
  int64_t n_ctx = 0;      // num_ctx capped at the model's training context
  int n_threads = 1;

  LoadedModel();
  LoadedModel(LoadedModel&&) noexcept;
  LoadedModel& operator=(LoadedModel&&) noexcept;
  ~LoadedModel();

  // A context (KV cache) as planned. Contexts of one LoadedModel share its
  // thread pool (their forward passes must not overlap: the server runs
  // them through one DecodeBatcher).
  Result<std::unique_ptr<Context>> new_context() const;
  // Bytes of the weights in RAM now: the tensor data of each shard the page
  // cache holds (or all, read into memory), where repacked copies count
  // instead of the mapped bytes they replaced.
  uint64_t weights_resident() const;
  mutable std::shared_ptr<ThreadPool> pool;
};

// FOLIO_READAHEAD=layers: when the weights are paged, read each next
// layer ahead from a helper thread (off by default).
bool readahead_enabled();

// Plans without loading (folio plan): the model file is mapped and parsed
// only. num_parallel: KV caches the server will create (one per slot).
Result<LoadedModel> plan_model(const std::string& path, const Options& opts, int64_t num_parallel = 1);

// Plans, then loads as planned. A refusal is an Error whose message is the
// plan's (the cause with numbers and the remedies).
Result<LoadedModel> load_for_inference(const std::string& path, const Options& opts, int64_t num_parallel = 1);
// The loading half of load_for_inference, for a plan_model result (so a
// caller that planned first, e.g. to decide evictions, does not plan twice).
Result<LoadedModel> load_planned(LoadedModel planned);

}  // namespace folio
