// general.architecture = "deepseek2": DeepSeek-V2, V2-Lite, V2.5, V3 and R1
// (ref: llama.cpp llm_build_deepseek2; DeepSeek-AI 2024). The shared
// decoder with multi-head latent attention and a mixture of experts:
//   q = q_b(rmsnorm(q_a(x)))            (or attn_q when q_lora_rank is 0)
//   [kv_c | k_pe] = kv_a_mqa(x); [k_nope | v] = kv_b(rmsnorm(kv_c)) per head
//   q = [q_nope | rope(q_pe)], k = [k_nope | rope(k_pe)] (k_pe shared by
//   the heads), NORM rope on the last n_rot dims with YaRN when the file
//   says so; scores scaled by mscale^2 / sqrt(head_dim_k) with mscale =
//   1 + yarn_log_multiplier * ln(factor).
// The first leading_dense_block_count layers have a dense SwiGLU FFN; the
// others route each token to expert_used_count experts (softmax gating for
// V2, sigmoid with the exp_probs_b selection bias for V3; weights
// normalized when expert_weights_norm, times expert_weights_scale) plus the
// shared experts. The KV cache holds the full per-head K and V (no latent
// cache yet).
#include <algorithm>
#include <cmath>
#include <string>

#include "engine/arch/registry.h"
#include "engine/decoder.h"

namespace folio {

namespace {

struct MlaLayer {
  WeightView wq;                         // q_lora_rank == 0
  WeightView wq_a, wq_b;                 // else
  const float* q_a_norm = nullptr;
  WeightView wkv_a, wk_pe;               // the two row ranges of attn_kv_a_mqa
  const float* kv_a_norm = nullptr;
  WeightView wkv_b;
};

class DeepSeek2Model : public DecoderModel {
 public:
  using DecoderModel::DecoderModel;

  Result<void> bind() {
    const Hparams& h = hparams();
    Weights& w = weights();
    if (h.kv_lora_rank <= 0) return make_error("deepseek2 model metadata lacks attention.kv_lora_rank");
    if (h.n_head_kv != h.n_head) {
      return make_error("deepseek2 model metadata: head_count_kv %lld differs from head_count %lld",
                        static_cast<long long>(h.n_head_kv), static_cast<long long>(h.n_head));
    }
    const int64_t nope = h.head_dim_k - h.n_rot;
    if (nope <= 0) return make_error("deepseek2 model metadata: key_length must exceed rope.dimension_count");
    FOLIO_TRY(bind_ends(*this));
    if (output.data == nullptr) return make_error("deepseek2 model lacks output.weight; the file is incomplete");
    mla_.resize(static_cast<size_t>(h.n_layer));
    for (int64_t l = 0; l < h.n_layer; ++l) {
      const std::string b = "blk." + std::to_string(l) + ".";
      DecoderLayer& L = layers[static_cast<size_t>(l)];
      MlaLayer& M = mla_[static_cast<size_t>(l)];
      FOLIO_ASSIGN_OR_RETURN(L.attn_norm, w.vector(b + "attn_norm.weight", h.n_embd));
      if (h.q_lora_rank > 0) {
        FOLIO_ASSIGN_OR_RETURN(M.wq_a, w.matrix(b + "attn_q_a.weight", {h.n_embd, h.q_lora_rank}));
        FOLIO_ASSIGN_OR_RETURN(M.q_a_norm, w.vector(b + "attn_q_a_norm.weight", h.q_lora_rank));
        FOLIO_ASSIGN_OR_RETURN(M.wq_b, w.matrix(b + "attn_q_b.weight", {h.q_lora_rank, h.n_head * h.head_dim_k}));
      } else {
        FOLIO_ASSIGN_OR_RETURN(M.wq, w.matrix(b + "attn_q.weight", {h.n_embd, h.n_head * h.head_dim_k}));
      }
      FOLIO_ASSIGN_OR_RETURN(const WeightView kv_a, w.matrix(b + "attn_kv_a_mqa.weight", {h.n_embd, h.kv_lora_rank + h.n_rot}));
      M.wkv_a = row_range(kv_a, 0, h.kv_lora_rank);
      M.wk_pe = row_range(kv_a, h.kv_lora_rank, h.n_rot);
      FOLIO_ASSIGN_OR_RETURN(M.kv_a_norm, w.vector(b + "attn_kv_a_norm.weight", h.kv_lora_rank));
      FOLIO_ASSIGN_OR_RETURN(M.wkv_b, w.matrix(b + "attn_kv_b.weight", {h.kv_lora_rank, h.n_head * (nope + h.head_dim_v)}));
      FOLIO_ASSIGN_OR_RETURN(L.wo, w.matrix(b + "attn_output.weight", {h.n_head * h.head_dim_v, h.n_embd}));
      FOLIO_ASSIGN_OR_RETURN(L.ffn_norm, w.vector(b + "ffn_norm.weight", h.n_embd));
      if (l < h.n_layer_dense_lead || h.n_expert == 0) {
        FOLIO_ASSIGN_OR_RETURN(L.ffn.gate, w.matrix(b + "ffn_gate.weight", {h.n_embd, h.n_ff}));
        FOLIO_ASSIGN_OR_RETURN(L.ffn.up, w.matrix(b + "ffn_up.weight", {h.n_embd, h.n_ff}));
        FOLIO_ASSIGN_OR_RETURN(L.ffn.down, w.matrix(b + "ffn_down.weight", {h.n_ff, h.n_embd}));
        continue;
      }
      if (h.n_ff_exp <= 0) return make_error("deepseek2 model metadata lacks expert_feed_forward_length");
      FOLIO_TRY(bind_experts(*this, b, h.n_ff_exp, L.moe));
      FOLIO_ASSIGN_OR_RETURN(L.moe.selection_bias, w.optional_vector(b + "exp_probs_b.bias", h.n_expert));
      if (h.n_expert_shared > 0) {
        const int64_t ws = h.n_ff_exp * h.n_expert_shared;
        FOLIO_ASSIGN_OR_RETURN(L.moe.shared.gate, w.matrix(b + "ffn_gate_shexp.weight", {h.n_embd, ws}));
        FOLIO_ASSIGN_OR_RETURN(L.moe.shared.up, w.matrix(b + "ffn_up_shexp.weight", {h.n_embd, ws}));
        FOLIO_ASSIGN_OR_RETURN(L.moe.shared.down, w.matrix(b + "ffn_down_shexp.weight", {ws, h.n_embd}));
      }
    }
    set_defaults(/*neox_rope=*/false);
    spec.moe.gating = h.expert_gating == 2 ? MoeGating::kSigmoid : MoeGating::kSoftmax;
    spec.moe.normalize = h.expert_weights_norm;
    spec.moe.scale = h.expert_weights_scale;
    // YaRN (set up by set_defaults) as llama.cpp's deepseek2 graph applies
    // it: the rope's magnitude correction cancels, the scores take mscale^2.
    float mscale = 1.f;
    if (spec.rope.ext_factor != 0.f) {
      spec.rope.attn_factor = 1.f / (1.f + 0.1f * std::log(1.f / h.rope_freq_scale));
      mscale = 1.f + h.rope_yarn_log_mul * std::log(1.f / h.rope_freq_scale);
    }
    spec.attn.scale = mscale * mscale / std::sqrt(static_cast<float>(h.head_dim_k));
    return {};
  }

 protected:
  const float* self_attention(Context& ctx, int64_t l, const float* xn, int64_t n, const RowPlace* rows) const override {
    const Hparams& h = hparams();
    const MlaLayer& M = mla_[static_cast<size_t>(l)];
    const int64_t hk = h.head_dim_k, hv = h.head_dim_v, rot = h.n_rot, nope = hk - rot, nh = h.n_head;
    const int64_t qw = nh * hk, kvw = nh * (nope + hv);
    float* q = ctx.buffer(2, static_cast<size_t>(n * qw));
    float* k = ctx.buffer(3, static_cast<size_t>(n * qw));
    float* v = ctx.buffer(4, static_cast<size_t>(n * nh * hv));
    float* att = ctx.buffer(5, static_cast<size_t>(n * nh * hv));
    float* o = ctx.buffer(7, static_cast<size_t>(n * h.n_embd));
    float* lat = ctx.buffer(20, static_cast<size_t>(n * std::max(h.q_lora_rank, h.kv_lora_rank)));
    float* kvb = ctx.buffer(21, static_cast<size_t>(n * kvw));
    float* kpe = ctx.buffer(22, static_cast<size_t>(n * rot));
    auto norm_rows = [&](float* a, const float* w, int64_t width) {
      for (int64_t t = 0; t < n; ++t) ops::rms_norm(a + t * width, w, h.norm_eps, width, a + t * width);
    };
    if (h.q_lora_rank > 0) {
      linear(ctx, M.wq_a, nullptr, xn, n, lat);
      norm_rows(lat, M.q_a_norm, h.q_lora_rank);
      linear(ctx, M.wq_b, nullptr, lat, n, q);
    } else {
      linear(ctx, M.wq, nullptr, xn, n, q);
    }
    linear(ctx, M.wkv_a, nullptr, xn, n, lat);
    norm_rows(lat, M.kv_a_norm, h.kv_lora_rank);
    linear(ctx, M.wkv_b, nullptr, lat, n, kvb);
    linear(ctx, M.wk_pe, nullptr, xn, n, kpe);
    float* cs = ctx.buffer(23, static_cast<size_t>(rot));
    for (int64_t t = 0; t < n; ++t) {
      ops::rope_cache(spec.rope, rows[t].pos, cs);
      ops::rope_apply(spec.rope, cs, kpe + t * rot);
      for (int64_t hd = 0; hd < nh; ++hd) {
        float* qh = q + t * qw + hd * hk;
        ops::rope_apply(spec.rope, cs, qh + nope);
        const float* src = kvb + t * kvw + hd * (nope + hv);
        float* kh = k + t * qw + hd * hk;
        std::copy(src, src + nope, kh);
        std::copy(kpe + t * rot, kpe + (t + 1) * rot, kh + nope);
        std::copy(src + nope, src + nope + hv, v + (t * nh + hd) * hv);
      }
    }
    attention(ctx, l, spec.attn, q, k, v, n, rows, att);
    linear(ctx, layers[static_cast<size_t>(l)].wo, nullptr, att, n, o);
    return o;
  }

 private:
  std::vector<MlaLayer> mla_;
};

}  // namespace

Result<std::unique_ptr<Model>> load_deepseek2(const ModelFile& file, const Hparams& hp) {
  auto m = std::make_unique<DeepSeek2Model>(file, hp);
  FOLIO_TRY(m->bind());
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace folio
