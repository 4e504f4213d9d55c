// general.architecture = "qwen3" and "qwen3moe": Qwen3 dense (0.6B..32B)
// and Qwen3 MoE (30B-A3B, 235B-A22B) (ref: llama.cpp llm_build_qwen3 /
// llm_build_qwen3moe; the Qwen3 modeling code in transformers). Llama's
// decoder without biases, with an RMSNorm over each head of q and of k
// (attn_q_norm / attn_k_norm, head_dim wide) before NEOX rope. The MoE
// variant routes each token to expert_used_count experts of width
// expert_feed_forward_length: softmax over the router logits, the top-k
// renormalized (norm_topk_prob), no shared expert.
//
// general.architecture = "qwen2moe": Qwen1.5-MoE and Qwen2-57B-A14B (ref:
// llama.cpp llm_build_qwen2moe): qwen2's attention (QKV biases, NEOX),
// softmax routing without renormalization, plus a shared expert of width
// expert_shared_feed_forward_length whose output is gated per token by
// sigmoid(ffn_gate_inp_shexp . x).
#include <string>

#include "engine/arch/registry.h"
#include "engine/decoder.h"

namespace folio {

namespace {

Result<void> bind_qk_norms(DecoderModel& m) {
  const Hparams& h = m.hparams();
  for (int64_t l = 0; l < h.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    DecoderLayer& L = m.layers[static_cast<size_t>(l)];
    FOLIO_ASSIGN_OR_RETURN(L.q_norm, m.weights().vector(b + "attn_q_norm.weight", h.head_dim_k));
    FOLIO_ASSIGN_OR_RETURN(L.k_norm, m.weights().vector(b + "attn_k_norm.weight", h.head_dim_k));
  }
  return {};
}

Result<std::unique_ptr<Model>> load_qwen3_family(const ModelFile& file, const Hparams& hp, bool moe) {
  if (moe != (hp.n_expert > 0)) {
    return make_error(moe ? "qwen3moe model metadata lacks expert_count" : "qwen3 model has experts; its architecture should be qwen3moe");
  }
  auto m = std::make_unique<DecoderModel>(file, hp);
  FOLIO_TRY(bind_llama_tensors(*m));
  FOLIO_TRY(bind_qk_norms(*m));
  m->set_defaults(/*neox_rope=*/true);
  m->spec.moe.normalize = true;
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace

Result<std::unique_ptr<Model>> load_qwen3(const ModelFile& file, const Hparams& hp) {
  return load_qwen3_family(file, hp, false);
}

Result<std::unique_ptr<Model>> load_qwen3moe(const ModelFile& file, const Hparams& hp) {
  return load_qwen3_family(file, hp, true);
}

Result<std::unique_ptr<Model>> load_qwen2moe(const ModelFile& file, const Hparams& hp) {
  if (hp.n_expert <= 0) return make_error("qwen2moe model metadata lacks expert_count");
  auto m = std::make_unique<DecoderModel>(file, hp);
  FOLIO_TRY(bind_llama_tensors(*m));
  const int64_t ws = hp.n_ff_shexp > 0 ? hp.n_ff_shexp : hp.n_ff;
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    MoeWeights& e = m->layers[static_cast<size_t>(l)].moe;
    Weights& w = m->weights();
    FOLIO_ASSIGN_OR_RETURN(e.shared.gate, w.matrix(b + "ffn_gate_shexp.weight", {hp.n_embd, ws}));
    FOLIO_ASSIGN_OR_RETURN(e.shared.up, w.matrix(b + "ffn_up_shexp.weight", {hp.n_embd, ws}));
    FOLIO_ASSIGN_OR_RETURN(e.shared.down, w.matrix(b + "ffn_down_shexp.weight", {ws, hp.n_embd}));
    FOLIO_ASSIGN_OR_RETURN(e.shared_gate, w.vector(b + "ffn_gate_inp_shexp.weight", hp.n_embd));
  }
  m->set_defaults(/*neox_rope=*/true);
  m->spec.moe.normalize = false;
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace folio
