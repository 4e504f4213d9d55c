#include "engine/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "engine/batcher.h"
#include "engine/json_constraint.h"
#include "engine/sampler.h"
#include "engine/text_stream.h"

namespace folio {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TokenLogprob logprob_of(const std::vector<float>& logits, int32_t id, int64_t top_n, const Tokenizer& tok) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l - max));
  const float log_z = max + static_cast<float>(std::log(sum));
  TokenLogprob t;
  t.token = tok.piece(id, false);
  t.logprob = logits[static_cast<size_t>(id)] - log_z;
  if (top_n > 0) {
    std::vector<int32_t> ids(logits.size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
    const size_t k = std::min(ids.size(), static_cast<size_t>(top_n));
    std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(), [&](int32_t a, int32_t b) {
      return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)] ||
             (logits[static_cast<size_t>(a)] == logits[static_cast<size_t>(b)] && a < b);
    });
    for (size_t i = 0; i < k; ++i) t.top.emplace_back(tok.piece(ids[i], false), logits[static_cast<size_t>(ids[i])] - log_z);
  }
  return t;
}
}  // namespace

Result<GenerateStats> generate(const Model& model, Context& ctx, const Tokenizer& tok, const std::vector<int32_t>& prompt,
                               const Options& opts, const std::function<bool(std::string_view)>& on_text,
                               int64_t reuse, std::vector<TokenLogprob>* logprobs, DecodeBatcher* batcher) {
  const int64_t n_ctx = ctx.n_ctx(), n_vocab = model.hparams().n_vocab;
  const int64_t n_prompt = static_cast<int64_t>(prompt.size());
  if (n_prompt == 0) return make_error("the prompt is empty");
  if (n_prompt > n_ctx) {
    return make_error("the prompt is %lld tokens, more than the context of %lld (num_ctx); shorten it or raise num_ctx",
                      static_cast<long long>(n_prompt), static_cast<long long>(n_ctx));
  }
  for (int32_t id : prompt) {
    if (id < 0 || id >= n_vocab) return make_error("prompt token %d is not in the vocabulary", id);
  }
  GenerateStats st;
  st.prompt_tokens = prompt;
  std::vector<float> logits(static_cast<size_t>(n_vocab));
  reuse = std::clamp<int64_t>(reuse, 0, std::min(n_prompt - 1, ctx.n_past()));
  ctx.set_n_past(reuse);
  auto t0 = std::chrono::steady_clock::now();
  const auto t_prompt = t0;
  const int64_t batch = std::max<int64_t>(1, opts.num_batch);
  for (int64_t i = reuse; i < n_prompt; i += batch) {
    const int64_t n = std::min(batch, n_prompt - i);
    if (batcher != nullptr) {
      batcher->exclusive([&] { model.forward(ctx, prompt.data() + i, n, false, logits.data()); });
    } else {
      model.forward(ctx, prompt.data() + i, n, false, logits.data());
    }
  }
  st.prompt_eval_count = n_prompt - reuse;
  st.prompt_eval_seconds = seconds_since(t0);

  const DecodeBatcher::Session decoding(batcher);  // null-safe
  Sampler sampler(opts);
  Utf8Stream utf8;
  StopFilter stops(opts.stop);
  std::vector<int32_t> history = prompt;
  const int64_t limit = opts.num_predict >= 0 ? opts.num_predict : n_ctx;  // -1 and -2: until the context is full
  t0 = std::chrono::steady_clock::now();
  bool cancelled = false;
  st.done_reason = "length";
  // format: only tokens that keep the output a valid document, and the
  // end only once it is complete.
  std::optional<JsonConstraint> json;
  if (opts.format) json.emplace(opts.format);
  const auto allowed = [&](int32_t id) {
    if (tok.is_eog(id)) return json->done();
    const std::string piece = tok.piece(id, false);
    return !piece.empty() && json->accepts(piece);
  };
  while (st.eval_count < limit) {
    const int32_t id = json ? sampler.sample(logits.data(), n_vocab, history, allowed)
                            : sampler.sample(logits.data(), n_vocab, history);
    if (id < 0) {  // the constraint allows nothing more (cannot happen with a sane vocabulary)
      st.done_reason = "stop";
      break;
    }
    if (json && !tok.is_eog(id)) json->feed(tok.piece(id, false));
    if (st.first_token_seconds == 0) st.first_token_seconds = seconds_since(t_prompt);
    if (tok.is_eog(id)) {
      st.done_reason = "stop";
      break;
    }
    if (logprobs != nullptr && opts.logprobs) logprobs->push_back(logprob_of(logits, id, opts.top_logprobs, tok));
    ++st.eval_count;
    st.tokens.push_back(id);
    history.push_back(id);
    const std::string text = stops.push(utf8.push(tok.piece(id, false)));
    if (!text.empty() && !on_text(text)) {
      cancelled = true;
      break;
    }
    if (stops.stopped()) {
      st.done_reason = "stop";
      break;
    }
    if (ctx.n_past() >= n_ctx) break;  // no room to evaluate the token: "length"
    if (batcher != nullptr) {
      batcher->step(ctx, id, logits.data());
    } else {
      model.forward(ctx, &id, 1, false, logits.data());
    }
  }
  st.eval_seconds = seconds_since(t0);
  if (!cancelled && !stops.stopped()) {
    const std::string tail = stops.push(utf8.flush());
    const std::string rest = tail + stops.flush();
    if (!rest.empty()) on_text(rest);
  }
  return st;
}

}  // namespace folio
