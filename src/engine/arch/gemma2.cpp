// general.architecture = "gemma2": Gemma 2 2B/9B/27B (ref: llama.cpp
// llm_build_gemma2; Gemma Team 2024). Pre-norm decoder with post-norms
// after attention and after the FFN, embeddings scaled by sqrt(n_embd),
// NEOX rope, attention-score and final-logit soft-capping, sliding-window
// attention in the even layers, GeGLU FFN (GELU, tanh approximation);
// always tied embeddings. The norm weights are used as stored (GGUF holds
// 1 + w). Queries are scaled by 1/sqrt(head_dim), by 1/sqrt(n_embd/n_head)
// for the 27B (46 layers), as gemma_pytorch does.
#include <cmath>
#include <string>

#include "engine/arch/registry.h"
#include "engine/decoder.h"

namespace folio {

Result<std::unique_ptr<Model>> load_gemma2(const ModelFile& file, const Hparams& hp) {
  auto m = std::make_unique<DecoderModel>(file, hp);
  Weights& w = m->weights();
  const Hparams& h = hp;
  const int64_t qw = h.n_head * h.head_dim_k, kw = h.n_head_kv * h.head_dim_k, vw = h.n_head_kv * h.head_dim_v;
  FOLIO_TRY(bind_ends(*m));
  if (m->output.data != nullptr) return make_error("gemma2 model has an output.weight; gemma2 ties it to the embedding");
  for (int64_t l = 0; l < h.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    DecoderLayer& L = m->layers[static_cast<size_t>(l)];
    FOLIO_ASSIGN_OR_RETURN(L.attn_norm, w.vector(b + "attn_norm.weight", h.n_embd));
    FOLIO_ASSIGN_OR_RETURN(L.wq, w.matrix(b + "attn_q.weight", {h.n_embd, qw}));
    FOLIO_ASSIGN_OR_RETURN(L.wk, w.matrix(b + "attn_k.weight", {h.n_embd, kw}));
    FOLIO_ASSIGN_OR_RETURN(L.wv, w.matrix(b + "attn_v.weight", {h.n_embd, vw}));
    FOLIO_ASSIGN_OR_RETURN(L.wo, w.matrix(b + "attn_output.weight", {h.n_head * h.head_dim_v, h.n_embd}));
    FOLIO_ASSIGN_OR_RETURN(L.post_attn_norm, w.vector(b + "post_attention_norm.weight", h.n_embd));
    FOLIO_ASSIGN_OR_RETURN(L.ffn_norm, w.vector(b + "ffn_norm.weight", h.n_embd));
    FOLIO_ASSIGN_OR_RETURN(L.ffn.gate, w.matrix(b + "ffn_gate.weight", {h.n_embd, h.n_ff}));
    FOLIO_ASSIGN_OR_RETURN(L.ffn.up, w.matrix(b + "ffn_up.weight", {h.n_embd, h.n_ff}));
    FOLIO_ASSIGN_OR_RETURN(L.ffn.down, w.matrix(b + "ffn_down.weight", {h.n_ff, h.n_embd}));
    FOLIO_ASSIGN_OR_RETURN(L.post_ffn_norm, w.vector(b + "post_ffw_norm.weight", h.n_embd));
    L.window = l % 2 == 0 ? h.sliding_window : 0;
  }
  m->set_defaults(/*neox_rope=*/true);
  if (h.n_layer == 46) m->spec.attn.scale = 1.0f / std::sqrt(static_cast<float>(h.n_embd / h.n_head));
  m->spec.attn.softcap = h.attn_softcap;
  m->spec.final_softcap = h.final_softcap;
  m->spec.embd_scale = std::sqrt(static_cast<float>(h.n_embd));
  m->spec.act = FfnActivation::kGeluTanh;
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace folio
