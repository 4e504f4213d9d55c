// Embeddings: a sequence's final hidden states pooled into one vector, as
// llama.cpp computes them for Ollama's /api/embed (pooling by the model's
// pooling_type; decoders without one use the last token).
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "engine/context.h"
#include "engine/model.h"

namespace folio {

enum class Pooling { kLast, kMean, kFirst };

// The model's pooling: pooling_type 1 mean, 2 cls (first token), else last.
Pooling model_pooling(const Hparams& hp);

struct EmbedStats {
  int64_t prompt_eval_count = 0;
  double seconds = 0;
};

// Evaluates tokens from the start of ctx (its cache is overwritten) in
// batches of at most batch tokens and pools their hidden states into out
// (n_embd values, not normalized). Errors: no tokens, more tokens than the
// context holds, a token outside the vocabulary.
Result<EmbedStats> embed(const Model& model, Context& ctx, const std::vector<int32_t>& tokens, int64_t batch,
                         Pooling pooling, std::vector<float>* out);

// Scales v to unit length (a zero vector stays zero). Errors: NaN or Inf.
Result<void> normalize(std::vector<float>& v);

}  // namespace folio
