#include "engine/decoder.h"

#include <cmath>
#include <map>
#include <string>
#include <type_traits>

#include "base/threads.h"
#include "kernels/packed.h"

namespace folio {

DecoderModel::DecoderModel(const ModelFile& file, const Hparams& hp) : weights_(file) { hp_ = hp; }

void DecoderModel::set_defaults(bool neox_rope) {
  const Hparams& h = hp_;
  spec.rope.n_rot = static_cast<int>(h.n_rot);
  spec.rope.freq_base = h.rope_base;
  spec.rope.freq_scale = h.rope_freq_scale;
  spec.rope.adjacent = !neox_rope;
  // rope.scaling.type = yarn (Qwen2.5 long-context files, DeepSeek): as
  // llama.cpp applies it to every architecture (ext_factor 1, beta_fast 32,
  // beta_slow 1; cos/sin scaled by 1 + 0.1 ln(factor)). Without this the
  // factor would act as plain linear interpolation.
  if (h.rope_scaling == "yarn" && h.rope_freq_scale < 1.f) {
    spec.rope.ext_factor = 1.f;
    ops::yarn_corr_dims(static_cast<int>(h.n_rot), h.rope_n_ctx_orig, h.rope_base, 32.f, 1.f, &spec.rope.corr_low,
                        &spec.rope.corr_high);
  }
  spec.attn.n_head = h.n_head;
  spec.attn.n_head_kv = h.n_head_kv;
  spec.attn.head_dim_k = h.head_dim_k;
  spec.attn.head_dim_v = h.head_dim_v;
  spec.attn.scale = 1.0f / std::sqrt(static_cast<float>(h.head_dim_k));
}

WeightView row_range(const WeightView& w, int64_t first, int64_t count) {
  WeightView v = w;
  v.data = w.row(first);
  v.n_out = count;
  return v;
}

Result<void> bind_ends(DecoderModel& m) {
  const Hparams& h = m.hparams();
  Weights& w = m.weights();
  if (h.n_ff <= 0) return make_error("model metadata lacks %s.feed_forward_length", h.arch.c_str());
  FOLIO_ASSIGN_OR_RETURN(m.tok_embd, w.matrix("token_embd.weight", {h.n_embd, h.n_vocab}));
  FOLIO_ASSIGN_OR_RETURN(m.output_norm, w.vector("output_norm.weight", h.n_embd));
  FOLIO_ASSIGN_OR_RETURN(m.output, w.optional_matrix("output.weight", {h.n_embd, h.n_vocab}));
  m.layers.resize(static_cast<size_t>(h.n_layer));
  return {};
}

Result<void> bind_llama_tensors(DecoderModel& m) {
  const Hparams& h = m.hparams();
  Weights& w = m.weights();
  const int64_t qw = h.n_head * h.head_dim_k, kw = h.n_head_kv * h.head_dim_k, vw = h.n_head_kv * h.head_dim_v;
  FOLIO_TRY(bind_ends(m));
  for (int64_t l = 0; l < h.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    DecoderLayer& L = m.layers[static_cast<size_t>(l)];
    FOLIO_ASSIGN_OR_RETURN(L.attn_norm, w.vector(b + "attn_norm.weight", h.n_embd));
    FOLIO_ASSIGN_OR_RETURN(L.wq, w.matrix(b + "attn_q.weight", {h.n_embd, qw}));
    FOLIO_ASSIGN_OR_RETURN(L.wk, w.matrix(b + "attn_k.weight", {h.n_embd, kw}));
    FOLIO_ASSIGN_OR_RETURN(L.wv, w.matrix(b + "attn_v.weight", {h.n_embd, vw}));
    FOLIO_ASSIGN_OR_RETURN(L.wo, w.matrix(b + "attn_output.weight", {h.n_head * h.head_dim_v, h.n_embd}));
    FOLIO_ASSIGN_OR_RETURN(L.bq, w.optional_vector(b + "attn_q.bias", qw));
    FOLIO_ASSIGN_OR_RETURN(L.bk, w.optional_vector(b + "attn_k.bias", kw));
    FOLIO_ASSIGN_OR_RETURN(L.bv, w.optional_vector(b + "attn_v.bias", vw));
    FOLIO_ASSIGN_OR_RETURN(L.ffn_norm, w.vector(b + "ffn_norm.weight", h.n_embd));
    if (h.n_expert > 0) {
      FOLIO_TRY(bind_experts(m, b, h.n_ff_exp > 0 ? h.n_ff_exp : h.n_ff, L.moe));
      continue;
    }
    FOLIO_ASSIGN_OR_RETURN(L.ffn.gate, w.matrix(b + "ffn_gate.weight", {h.n_embd, h.n_ff}));
    FOLIO_ASSIGN_OR_RETURN(L.ffn.up, w.matrix(b + "ffn_up.weight", {h.n_embd, h.n_ff}));
    FOLIO_ASSIGN_OR_RETURN(L.ffn.down, w.matrix(b + "ffn_down.weight", {h.n_ff, h.n_embd}));
  }
  return {};
}

Result<void> bind_gemma_tensors(DecoderModel& m, bool qk_norms) {
  const Hparams& h = m.hparams();
  Weights& w = m.weights();
  FOLIO_TRY(bind_llama_tensors(m));
  if (m.output.data != nullptr) {
    return make_error("%s model has an output.weight; %s ties it to the embedding", h.arch.c_str(), h.arch.c_str());
  }
  for (int64_t l = 0; l < h.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    DecoderLayer& L = m.layers[static_cast<size_t>(l)];
    FOLIO_ASSIGN_OR_RETURN(L.post_attn_norm, w.vector(b + "post_attention_norm.weight", h.n_embd));
    FOLIO_ASSIGN_OR_RETURN(L.post_ffn_norm, w.vector(b + "post_ffw_norm.weight", h.n_embd));
    if (qk_norms) {
      FOLIO_ASSIGN_OR_RETURN(L.q_norm, w.vector(b + "attn_q_norm.weight", h.head_dim_k));
      FOLIO_ASSIGN_OR_RETURN(L.k_norm, w.vector(b + "attn_k_norm.weight", h.head_dim_k));
    }
  }
  return {};
}

Result<void> bind_experts(DecoderModel& m, const std::string& b, int64_t n_ff_exp, MoeWeights& moe) {
  const Hparams& h = m.hparams();
  Weights& w = m.weights();
  if (h.n_expert_used <= 0 || h.n_expert_used > h.n_expert) {
    return make_error("model metadata %s.expert_used_count is %lld with %lld experts; the file is damaged", h.arch.c_str(),
                      static_cast<long long>(h.n_expert_used), static_cast<long long>(h.n_expert));
  }
  if (!w.has(b + "ffn_gate_exps.weight") && w.has(b + "ffn_gate.0.weight")) {
    return make_error("this file stores each expert as its own tensor (an old Mixtral conversion); convert it again with a "
                      "current llama.cpp convert_hf_to_gguf.py");
  }
  FOLIO_ASSIGN_OR_RETURN(moe.router, w.matrix(b + "ffn_gate_inp.weight", {h.n_embd, h.n_expert}));
  FOLIO_ASSIGN_OR_RETURN(moe.experts.gate, w.matrix(b + "ffn_gate_exps.weight", {h.n_embd, n_ff_exp, h.n_expert}));
  FOLIO_ASSIGN_OR_RETURN(moe.experts.up, w.matrix(b + "ffn_up_exps.weight", {h.n_embd, n_ff_exp, h.n_expert}));
  FOLIO_ASSIGN_OR_RETURN(moe.experts.down, w.matrix(b + "ffn_down_exps.weight", {n_ff_exp, h.n_embd, h.n_expert}));
  m.spec.moe.n_used = h.n_expert_used;
  return {};
}

void DecoderModel::forward(Context& ctx, const int32_t* tokens, int64_t n, bool all_logits, float* logits) const {
  const int64_t pos0 = ctx.n_past();
  const std::vector<RowPlace> rows = rows_in(ctx, pos0, n);
  const float* x = trunk(ctx, tokens, n, rows.data());
  logits_of(ctx, x, all_logits ? 0 : n - 1, n, logits);
  ctx.set_n_past(pos0 + n);
}

void DecoderModel::decode(Context* const* ctxs, const int32_t* tokens, int64_t n, float* logits) const {
  std::vector<RowPlace> rows(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) rows[static_cast<size_t>(i)] = {&ctxs[i]->kv(), ctxs[i]->n_past()};
  Context& ctx = *ctxs[0];
  const float* x = trunk(ctx, tokens, n, rows.data());
  logits_of(ctx, x, 0, n, logits);
  for (int64_t i = 0; i < n; ++i) ctxs[i]->set_n_past(ctxs[i]->n_past() + 1);
}

void DecoderModel::hidden(Context& ctx, const int32_t* tokens, int64_t n, float* out) const {
  const Hparams& h = hp_;
  const int64_t pos0 = ctx.n_past();
  const std::vector<RowPlace> rows = rows_in(ctx, pos0, n);
  const float* x = trunk(ctx, tokens, n, rows.data());
  for (int64_t t = 0; t < n; ++t) ops::rms_norm(x + t * h.n_embd, output_norm, h.norm_eps, h.n_embd, out + t * h.n_embd);
  ctx.set_n_past(pos0 + n);
}

// Logits of rows first .. n - 1 of the residual stream x.
void DecoderModel::logits_of(Context& ctx, const float* x, int64_t first, int64_t n, float* logits) const {
  const Hparams& h = hp_;
  float* xn = ctx.buffer(1, static_cast<size_t>(n * h.n_embd));
  for (int64_t t = first; t < n; ++t) {
    ops::rms_norm(x + t * h.n_embd, output_norm, h.norm_eps, h.n_embd, xn + (t - first) * h.n_embd);
  }
  prefetch_layer(layers[0]);  // for the next token
  const WeightView& out = out_matrix();
  linear(ctx, out, nullptr, xn, n - first, logits);
  if (spec.final_softcap > 0) {
    const float cap = spec.final_softcap;
    for (int64_t i = 0; i < (n - first) * out.n_out; ++i) logits[i] = cap * std::tanh(logits[i] / cap);
  }
}

// The blocks over n tokens placed at rows[i] (cache, position): returns the
// residual stream (n rows of n_embd, in ctx's buffer 0); the caches hold
// their keys and values; no n_past is advanced.
const float* DecoderModel::self_attention(Context& ctx, int64_t l, const float* xn, int64_t n,
                                          const RowPlace* rows) const {
  const Hparams& h = hp_;
  const DecoderLayer& L = layers[static_cast<size_t>(l)];
  const int64_t qw = h.n_head * h.head_dim_k, kw = h.n_head_kv * h.head_dim_k, vw = h.n_head_kv * h.head_dim_v;
  float* q = ctx.buffer(2, static_cast<size_t>(n * qw));  // (n, n_head * head_dim)
  float* k = ctx.buffer(3, static_cast<size_t>(n * kw));  // (n, n_head_kv * head_dim)
  float* v = ctx.buffer(4, static_cast<size_t>(n * vw));
  float* att = ctx.buffer(5, static_cast<size_t>(n * h.n_head * h.head_dim_v));
  float* o = ctx.buffer(7, static_cast<size_t>(n * h.n_embd));
  const LinearOut qkv[3] = {{&L.wq, L.bq, q}, {&L.wk, L.bk, k}, {&L.wv, L.bv, v}};
  linear_group(ctx, qkv, 3, xn, n);
  if (L.q_norm != nullptr) {
    for (int64_t i = 0; i < n * h.n_head; ++i) ops::rms_norm(q + i * h.head_dim_k, L.q_norm, h.norm_eps, h.head_dim_k, q + i * h.head_dim_k);
    for (int64_t i = 0; i < n * h.n_head_kv; ++i) ops::rms_norm(k + i * h.head_dim_k, L.k_norm, h.norm_eps, h.head_dim_k, k + i * h.head_dim_k);
  }
  rope_qk(ctx, L.local_rope ? spec.rope_local : spec.rope, spec.attn, q, k, n, rows);
  AttentionShape shape = spec.attn;
  shape.window = L.window;
  attention(ctx, l, shape, q, k, v, n, rows, att);
  linear(ctx, L.wo, nullptr, att, n, o);
  return o;
}

const float* DecoderModel::trunk(Context& ctx, const int32_t* tokens, int64_t n, const RowPlace* rows) const {
  const Hparams& h = hp_;
  float* x = ctx.buffer(0, static_cast<size_t>(n * h.n_embd));    // (n, n_embd) residual stream
  float* xn = ctx.buffer(1, static_cast<size_t>(n * h.n_embd));   // (n, n_embd) normed
  float* tmp = ctx.buffer(6, static_cast<size_t>(n * h.n_embd));
  for (int64_t t = 0; t < n; ++t) dequantize_row(tok_embd, tokens[t], x + t * h.n_embd);
  if (spec.embd_scale != 1.f) {
    for (int64_t i = 0; i < n * h.n_embd; ++i) x[i] *= spec.embd_scale;
  }
  // Adds y (n, n_embd), through the optional post-norm, to the stream.
  auto residual = [&](const float* y, const float* post_norm) {
    if (post_norm != nullptr) {
      for (int64_t t = 0; t < n; ++t) ops::rms_norm(y + t * h.n_embd, post_norm, h.norm_eps, h.n_embd, tmp + t * h.n_embd);
      y = tmp;
    }
    for (int64_t i = 0; i < n * h.n_embd; ++i) x[i] += y[i];
  };
  for (int64_t l = 0; l < h.n_layer; ++l) {
    const DecoderLayer& L = layers[static_cast<size_t>(l)];
    if (l + 1 < h.n_layer) prefetch_layer(layers[static_cast<size_t>(l + 1)]);
    else prefetch(out_matrix());
    for (int64_t t = 0; t < n; ++t) ops::rms_norm(x + t * h.n_embd, L.attn_norm, h.norm_eps, h.n_embd, xn + t * h.n_embd);
    residual(self_attention(ctx, l, xn, n, rows), L.post_attn_norm);
    for (int64_t t = 0; t < n; ++t) ops::rms_norm(x + t * h.n_embd, L.ffn_norm, h.norm_eps, h.n_embd, xn + t * h.n_embd);
    const float* y = L.moe.router.data != nullptr ? moe_ffn(ctx, L.moe, spec.moe, spec.act, xn, n, paged_)
                                                   : ffn_gated(ctx, L.ffn, spec.act, xn, n);
    residual(y, L.post_ffn_norm);
  }
  return x;
}

void DecoderModel::set_paged(bool paged) {
  Model::set_paged(paged);
  if (!paged) return;
  for (const DecoderLayer& L : layers) {
    for (const WeightView* w : {&L.moe.experts.gate, &L.moe.experts.up, &L.moe.experts.down}) {
      if (w->data != nullptr) advise_range_random(w->data, static_cast<size_t>(w->n_out * w->n_mat) * w->row_bytes);
    }
  }
}

namespace {

// The views pack_weights would pack, grouped by tensor (views that share
// their bytes are packed together when they agree on type and shape, else
// left alone). M: DecoderModel or const DecoderModel.
template <class M>
auto packable_tensors(M& m) {
  using View = std::remove_reference_t<decltype((m.tok_embd))>;  // const for a const model
  std::map<const uint8_t*, std::vector<View*>> by_data;
  auto add = [&](View& w) {
    if (w.data != nullptr && !w.packed) by_data[w.data].push_back(&w);
  };
  add(m.tok_embd);
  add(m.output);
  for (auto& L : m.layers) {
    for (View* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn.gate, &L.ffn.up, &L.ffn.down}) add(*w);
  }
  std::vector<std::vector<View*>> out;
  for (auto& [data, views] : by_data) {
    const WeightView& w = *views[0];
    bool ok = w.n_mat == 1 && can_pack(w.type, w.n_in, w.n_out);
    for (const WeightView* v : views) ok = ok && v->type == w.type && v->n_in == w.n_in && v->n_out == w.n_out;
    if (ok) out.push_back(std::move(views));
  }
  return out;
}

uint64_t tensor_bytes(const WeightView& w) { return static_cast<uint64_t>(w.n_out) * w.row_bytes; }
uint64_t padded(uint64_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

uint64_t DecoderModel::packable_bytes() const {
  uint64_t n = 0;
  for (const auto& views : packable_tensors(*this)) n += tensor_bytes(*views[0]);
  return n;
}

Result<void> DecoderModel::pack_weights() {
  const auto tensors = packable_tensors(*this);
  if (tensors.empty()) return {};
  uint64_t total = 0;
  for (const auto& views : tensors) total += padded(tensor_bytes(*views[0]));
  FOLIO_ASSIGN_OR_RETURN(packed_, MappedFile::anonymous(total, MappedFile::Pages::kTransparent));
  uint8_t* out = packed_.writable_data();
  for (const auto& views : tensors) {
    const WeightView& w = *views[0];
    const uint64_t bytes = tensor_bytes(w);
    // Panels spread over the CPUs (the load waits for this; 1.05 GB of
    // Q8_0 took 0.6-1.5 s on one thread here), then the mapped bytes given
    // back.
    parallel_for(w.n_out / kPackRows, available_cpus(), 64, [&](int64_t b, int64_t e) {
      const size_t at = static_cast<size_t>(b) * kPackRows * w.row_bytes;
      pack_rows(w.type, w.n_in, (e - b) * kPackRows, w.data + at, w.row_bytes, out + at);
    });
    release_range(w.data, bytes);
    packed_sources_.push_back({w.data, bytes});
    for (WeightView* v : views) {
      v->data = out;
      v->packed = true;
    }
    out += padded(bytes);
  }
  return {};
}

// Experts are not read ahead: a token touches only the ones it is routed to.
void DecoderModel::prefetch_layer(const DecoderLayer& L) const {
  for (const WeightView* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn.gate, &L.ffn.up, &L.ffn.down, &L.moe.router}) {
    if (w->data != nullptr) prefetch(*w);
  }
}

}  // namespace folio
