// A loaded model serving requests: the scheduler's view of it. The real
// runner wraps the engine (a LoadedModel and one KV cache per parallel
// slot); tests give the scheduler fakes through the factory.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/generate.h"
#include "engine/options.h"

namespace folio {

// What to load: a model file with the options that shape the load.
struct LoadSpec {
  std::string name;        // the model's display name ("stories:latest")
  std::string path;        // the GGUF
  std::string digest;      // the model blob's digest (identity across renames)
  Options options;         // num_ctx, num_batch, num_thread, use_mmap, use_mlock matter
  int num_parallel = 1;    // KV caches (slots)

  // True when a runner loaded for `other` can serve this spec as it is.
  bool same_load(const LoadSpec& other) const;
};

struct RunnerInfo {
  uint64_t size = 0;            // weights + KV caches + scratch, as planned
  uint64_t weights = 0;
  uint64_t kv_cache = 0;
  std::string load_mode;        // "mmap", "read", "mlock", ...
  std::string verdict;          // "fits in RAM", "paged from disk"
  int64_t n_ctx = 0;
};

struct EmbedResult {
  std::vector<float> values;  // pooled, not normalized
  int64_t tokens = 0;
  double seconds = 0;
};

class Runner {
 public:
  virtual ~Runner() = default;
  // Completes prompt text on a slot (0 .. num_parallel-1). on_text as in
  // generate(); returning false cancels and frees the slot.
  // logprobs: as generate()'s (may be null).
  virtual Result<GenerateStats> complete(int slot, const std::string& prompt, const Options& opts,
                                         const std::function<bool(std::string_view)>& on_text,
                                         std::vector<TokenLogprob>* logprobs) = 0;
  // Token ids of text, with BOS/EOS as the vocabulary asks when add_special.
  virtual Result<std::vector<int32_t>> tokenize(const std::string& text, bool add_special) = 0;
  virtual std::string detokenize(const std::vector<int32_t>& ids) = 0;
  // The model's pooled hidden state for tokens (evaluated on slot, whose
  // cached prompt is dropped). Errors: empty or longer than the context.
  virtual Result<EmbedResult> embed(int slot, const std::vector<int32_t>& tokens) = 0;
  virtual RunnerInfo info() const = 0;
  // Bytes of the weights resident in RAM now (mincore on the mapping).
  virtual uint64_t resident_bytes() const = 0;
};

// Whether a model fits next to what is loaded, and the planner's words if not.
struct Fit {
  bool fits = true;
  std::string reason;  // the planner's refusal: cause, numbers, remedies
};

class RunnerFactory {
 public:
  virtual ~RunnerFactory() = default;
  // Plans without loading. Errors: the file cannot be read.
  virtual Result<Fit> fit(const LoadSpec& spec) = 0;
  virtual Result<std::unique_ptr<Runner>> load(const LoadSpec& spec) = 0;
};

// The engine: load_for_inference + one Context per slot, with each slot's
// cached tokens reused as a prefix of its next prompt.
std::unique_ptr<RunnerFactory> make_engine_runner_factory();

}  // namespace folio
