// general.architecture = "llama": Llama 1/2/3/3.1/3.2, Mistral, TinyLlama,
// SmolLM and the like (ref: llama.cpp llm_build_llama; Touvron et al. 2023).
// Pre-norm decoder: RMSNorm, attention with GQA and NORM rope (adjacent
// pairs, as GGUF stores llama's Q/K), SwiGLU FFN; tied embeddings when the
// file has no output.weight; Llama 3.1 rope_freqs factors when present.
#include <cmath>
#include <string>
#include <vector>

#include "engine/arch/registry.h"
#include "engine/blocks.h"
#include "engine/weights.h"

namespace folio {

namespace {

struct Layer {
  const float* attn_norm;
  WeightView wq, wk, wv, wo;
  const float *bq, *bk, *bv;  // optional biases
  const float* ffn_norm;
  FfnWeights ffn;
};

class LlamaModel : public Model {
 public:
  LlamaModel(const ModelFile& file, const Hparams& hp) : weights_(file) { hp_ = hp; }

  Result<void> bind() {
    const Hparams& h = hp_;
    const int64_t qw = h.n_head * h.head_dim_k, kw = h.n_head_kv * h.head_dim_k, vw = h.n_head_kv * h.head_dim_v;
    if (h.n_expert > 0) return make_error("llama models with experts (Mixtral) are not supported yet");
    if (h.n_ff <= 0) return make_error("model metadata lacks %s.feed_forward_length", h.arch.c_str());
    FOLIO_ASSIGN_OR_RETURN(tok_embd_, weights_.matrix("token_embd.weight", {h.n_embd, h.n_vocab}));
    FOLIO_ASSIGN_OR_RETURN(output_norm_, weights_.vector("output_norm.weight", h.n_embd));
    FOLIO_ASSIGN_OR_RETURN(output_, weights_.optional_matrix("output.weight", {h.n_embd, h.n_vocab}));
    if (output_.data == nullptr) output_ = tok_embd_;  // tied embeddings
    FOLIO_ASSIGN_OR_RETURN(rope_freqs_, weights_.optional_vector("rope_freqs.weight", h.n_rot / 2));
    layers_.resize(static_cast<size_t>(h.n_layer));
    for (int64_t l = 0; l < h.n_layer; ++l) {
      const std::string b = "blk." + std::to_string(l) + ".";
      Layer& L = layers_[static_cast<size_t>(l)];
      FOLIO_ASSIGN_OR_RETURN(L.attn_norm, weights_.vector(b + "attn_norm.weight", h.n_embd));
      FOLIO_ASSIGN_OR_RETURN(L.wq, weights_.matrix(b + "attn_q.weight", {h.n_embd, qw}));
      FOLIO_ASSIGN_OR_RETURN(L.wk, weights_.matrix(b + "attn_k.weight", {h.n_embd, kw}));
      FOLIO_ASSIGN_OR_RETURN(L.wv, weights_.matrix(b + "attn_v.weight", {h.n_embd, vw}));
      FOLIO_ASSIGN_OR_RETURN(L.wo, weights_.matrix(b + "attn_output.weight", {h.n_head * h.head_dim_v, h.n_embd}));
      FOLIO_ASSIGN_OR_RETURN(L.bq, weights_.optional_vector(b + "attn_q.bias", qw));
      FOLIO_ASSIGN_OR_RETURN(L.bk, weights_.optional_vector(b + "attn_k.bias", kw));
      FOLIO_ASSIGN_OR_RETURN(L.bv, weights_.optional_vector(b + "attn_v.bias", vw));
      FOLIO_ASSIGN_OR_RETURN(L.ffn_norm, weights_.vector(b + "ffn_norm.weight", h.n_embd));
      FOLIO_ASSIGN_OR_RETURN(L.ffn.gate, weights_.matrix(b + "ffn_gate.weight", {h.n_embd, h.n_ff}));
      FOLIO_ASSIGN_OR_RETURN(L.ffn.up, weights_.matrix(b + "ffn_up.weight", {h.n_embd, h.n_ff}));
      FOLIO_ASSIGN_OR_RETURN(L.ffn.down, weights_.matrix(b + "ffn_down.weight", {h.n_ff, h.n_embd}));
    }
    rope_.n_rot = static_cast<int>(h.n_rot);
    rope_.freq_base = h.rope_base;
    rope_.freq_scale = h.rope_freq_scale;
    rope_.factors = rope_freqs_;
    rope_.adjacent = true;
    attn_.n_head = h.n_head;
    attn_.n_head_kv = h.n_head_kv;
    attn_.head_dim_k = h.head_dim_k;
    attn_.head_dim_v = h.head_dim_v;
    attn_.scale = 1.0f / std::sqrt(static_cast<float>(h.head_dim_k));
    return {};
  }

  void forward(Context& ctx, const int32_t* tokens, int64_t n, bool all_logits, float* logits) const override {
    const int64_t pos0 = ctx.n_past();
    const std::vector<RowPlace> rows = rows_in(ctx, pos0, n);
    const float* x = trunk(ctx, tokens, n, rows.data());
    logits_of(ctx, x, all_logits ? 0 : n - 1, n, logits);
    ctx.set_n_past(pos0 + n);
  }

  void decode(Context* const* ctxs, const int32_t* tokens, int64_t n, float* logits) const override {
    std::vector<RowPlace> rows(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) rows[static_cast<size_t>(i)] = {&ctxs[i]->kv(), ctxs[i]->n_past()};
    Context& ctx = *ctxs[0];
    const float* x = trunk(ctx, tokens, n, rows.data());
    logits_of(ctx, x, 0, n, logits);
    for (int64_t i = 0; i < n; ++i) ctxs[i]->set_n_past(ctxs[i]->n_past() + 1);
  }

  void hidden(Context& ctx, const int32_t* tokens, int64_t n, float* out) const override {
    const Hparams& h = hp_;
    const int64_t pos0 = ctx.n_past();
    const std::vector<RowPlace> rows = rows_in(ctx, pos0, n);
    const float* x = trunk(ctx, tokens, n, rows.data());
    for (int64_t t = 0; t < n; ++t) ops::rms_norm(x + t * h.n_embd, output_norm_, h.norm_eps, h.n_embd, out + t * h.n_embd);
    ctx.set_n_past(pos0 + n);
  }

 private:
  // Logits of rows first .. n - 1 of the residual stream x.
  void logits_of(Context& ctx, const float* x, int64_t first, int64_t n, float* logits) const {
    const Hparams& h = hp_;
    float* xn = ctx.buffer(1, static_cast<size_t>(n * h.n_embd));
    for (int64_t t = first; t < n; ++t) {
      ops::rms_norm(x + t * h.n_embd, output_norm_, h.norm_eps, h.n_embd, xn + (t - first) * h.n_embd);
    }
    prefetch_layer(layers_[0]);  // for the next token
    linear(ctx, output_, nullptr, xn, n - first, logits);
  }

  // The blocks over n tokens placed at rows[i] (cache, position): returns
  // the residual stream (n rows of n_embd, in ctx's buffer 0); the caches
  // hold their keys and values; no n_past is advanced.
  const float* trunk(Context& ctx, const int32_t* tokens, int64_t n, const RowPlace* rows) const {
    const Hparams& h = hp_;
    const int64_t qw = h.n_head * h.head_dim_k, kw = h.n_head_kv * h.head_dim_k, vw = h.n_head_kv * h.head_dim_v;
    float* x = ctx.buffer(0, static_cast<size_t>(n * h.n_embd));    // (n, n_embd) residual stream
    float* xn = ctx.buffer(1, static_cast<size_t>(n * h.n_embd));   // (n, n_embd) normed
    float* q = ctx.buffer(2, static_cast<size_t>(n * qw));          // (n, n_head * head_dim)
    float* k = ctx.buffer(3, static_cast<size_t>(n * kw));          // (n, n_head_kv * head_dim)
    float* v = ctx.buffer(4, static_cast<size_t>(n * vw));
    float* att = ctx.buffer(5, static_cast<size_t>(n * h.n_head * h.head_dim_v));
    float* tmp = ctx.buffer(6, static_cast<size_t>(n * h.n_embd));
    for (int64_t t = 0; t < n; ++t) dequantize_row(tok_embd_, tokens[t], x + t * h.n_embd);
    for (int64_t l = 0; l < h.n_layer; ++l) {
      const Layer& L = layers_[static_cast<size_t>(l)];
      if (l + 1 < h.n_layer) prefetch_layer(layers_[static_cast<size_t>(l + 1)]);
      else prefetch(output_);
      for (int64_t t = 0; t < n; ++t) ops::rms_norm(x + t * h.n_embd, L.attn_norm, h.norm_eps, h.n_embd, xn + t * h.n_embd);
      linear(ctx, L.wq, L.bq, xn, n, q);
      linear(ctx, L.wk, L.bk, xn, n, k);
      linear(ctx, L.wv, L.bv, xn, n, v);
      rope_qk(ctx, rope_, attn_, q, k, n, rows);
      attention(ctx, l, attn_, q, k, v, n, rows, att);
      linear(ctx, L.wo, nullptr, att, n, tmp);
      for (int64_t i = 0; i < n * h.n_embd; ++i) x[i] += tmp[i];
      for (int64_t t = 0; t < n; ++t) ops::rms_norm(x + t * h.n_embd, L.ffn_norm, h.norm_eps, h.n_embd, xn + t * h.n_embd);
      ffn_swiglu(ctx, L.ffn, xn, n, x);
    }
    return x;
  }

  void prefetch_layer(const Layer& L) const {
    for (const WeightView* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn.gate, &L.ffn.up, &L.ffn.down}) prefetch(*w);
  }

  Weights weights_;
  WeightView tok_embd_, output_;
  const float* output_norm_ = nullptr;
  const float* rope_freqs_ = nullptr;
  std::vector<Layer> layers_;
  ops::RopeParams rope_;
  AttentionShape attn_;
};

}  // namespace

Result<std::unique_ptr<Model>> load_llama(const ModelFile& file, const Hparams& hp) {
  auto m = std::make_unique<LlamaModel>(file, hp);
  FOLIO_TRY(m->bind());
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace folio
