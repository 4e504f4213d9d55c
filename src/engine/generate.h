// The generation loop: evaluates a prompt in batches, then samples and
// streams text until an end-of-generation token, num_predict, the end of
// the context or a stop string.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/context.h"
#include "engine/model.h"
#include "engine/options.h"
#include "tokenizer/tokenizer.h"

namespace folio {

// A generated token's log probability under the model (log-softmax of the
// raw logits, before penalties and sampling), with the most likely
// alternatives when asked.
struct TokenLogprob {
  std::string token;  // its text (bytes; may be part of a UTF-8 character)
  float logprob = 0;
  std::vector<std::pair<std::string, float>> top;  // most likely first
};

struct GenerateStats {
  int64_t prompt_eval_count = 0;
  double prompt_eval_seconds = 0;
  int64_t eval_count = 0;          // tokens generated
  double eval_seconds = 0;
  double first_token_seconds = 0;  // from the start of prompt evaluation to the first sampled token
  std::string done_reason;         // "stop" (end token or stop string) or "length"
  std::vector<int32_t> tokens;     // the generated ids
  std::vector<int32_t> prompt_tokens;  // the prompt's ids, as evaluated
};

// on_text receives text as it becomes safe to show (whole UTF-8
// characters, nothing of a stop string); returning false cancels (e.g. the
// client went away). The prompt is evaluated from position `reuse` of
// ctx: its first `reuse` tokens are already in the KV cache (a previous
// turn's prefix); at least the last prompt token is always evaluated.
// After the call ctx.n_past() tokens of prompt + stats.tokens are cached.
// Errors: empty prompt, prompt longer than the context.
// With opts.logprobs, each generated token's TokenLogprob (opts.top_logprobs
// alternatives) is appended to *logprobs before its text reaches on_text.
// With a batcher, the prompt is evaluated alone and each decode step joins
// those of the other sequences decoding through it (one pass for all).
Result<GenerateStats> generate(const Model& model, Context& ctx, const Tokenizer& tok, const std::vector<int32_t>& prompt,
                               const Options& opts, const std::function<bool(std::string_view)>& on_text,
                               int64_t reuse = 0, std::vector<TokenLogprob>* logprobs = nullptr,
                               class DecodeBatcher* batcher = nullptr);

}  // namespace folio
