// A loaded model: hyperparameters, bound weights and a forward pass. One
// implementation per architecture (engine/arch/<arch>.cpp), found through a
// registry keyed by general.architecture.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/context.h"
#include "engine/hparams.h"
#include "kernels/matmul.h"
#include "memory/model_file.h"

namespace folio {

class Model {
 public:
  virtual ~Model() = default;
  const Hparams& hparams() const { return hp_; }

  // Evaluates n tokens at positions ctx.n_past() .. + n - 1, appends their
  // keys/values to the cache and advances n_past. Writes logits for every
  // token (all_logits: n rows of n_vocab) or for the last one. The caller
  // checks that the tokens fit the context and are < n_vocab.
  virtual void forward(Context& ctx, const int32_t* tokens, int64_t n, bool all_logits, float* logits) const = 0;

  // One decode step for several sequences at once: token i at position
  // ctxs[i]->n_past() of its own cache, so the weights are read once for
  // all of them; writes n rows of logits and advances each n_past. The
  // threads and scratch of ctxs[0] do the work. The caller checks that
  // every sequence has room. The default runs forward() per sequence.
  virtual void decode(Context* const* ctxs, const int32_t* tokens, int64_t n, float* logits) const;

  // As forward, but writes the final normed hidden state of every token
  // (n rows of n_embd: the input of the output projection) instead of
  // logits. Embeddings are pooled from these.
  virtual void hidden(Context& ctx, const int32_t* tokens, int64_t n, float* out) const = 0;

  // When the weights do not fit in RAM (the plan says "paged"), read the
  // next layer's weights ahead while the current one computes, so disk
  // reads overlap with compute; null turns it off. The ReadAhead must
  // outlive the model's use.
  void set_readahead(class ReadAhead* readahead) { readahead_ = readahead; }

  // The plan says the weights are paged from disk: weights read in pieces
  // (experts) get no read-around, and the pieces a step needs are asked
  // for as soon as they are known.
  virtual void set_paged(bool paged) { paged_ = paged; }

  // Matrices the CPU's kernels read faster repacked (kernels/packed.h):
  // their bytes, for the memory plan (0: none here, or none on this CPU).
  virtual uint64_t packable_bytes() const { return 0; }
  // Repacks them into process memory (transparent huge pages) and releases
  // their bytes from the mapping. All or nothing: on an error (the
  // allocation) the model is unchanged.
  virtual Result<void> pack_weights() { return {}; }
  // The mapped byte ranges the packed copies replaced (their bytes are the
  // copies' size): resident accounting counts the copies instead.
  struct Span {
    const uint8_t* data;
    uint64_t bytes;
  };
  const std::vector<Span>& packed_sources() const { return packed_sources_; }

 protected:
  // Reads the bytes of w ahead when readahead is on.
  void prefetch(const WeightView& w) const;

  Hparams hp_;
  std::vector<Span> packed_sources_;
  class ReadAhead* readahead_ = nullptr;
  bool paged_ = false;
};

using ModelFactory = Result<std::unique_ptr<Model>> (*)(const ModelFile& file, const Hparams& hp);

// Architectures folio can run, by general.architecture.
std::vector<std::string> supported_architectures();

// Reads hyperparameters and binds the weights of file's architecture. The
// file must outlive the model. Errors: unknown architecture (listing the
// supported ones), missing or misshaped tensors, unsupported tensor types.
Result<std::unique_ptr<Model>> load_model(const ModelFile& file);

}  // namespace folio
