// general.architecture = "phi3": Phi-3 and Phi-3.5 mini/medium (ref:
// llama.cpp llm_build_phi3; Abdin et al. 2024). Llama's decoder with fused
// matrices: attn_qkv holds Q, K and V as consecutive row ranges, ffn_up the
// gate rows then the up rows (bound as zero-copy row ranges); NEOX rope;
// an output matrix of its own; sliding-window attention in every layer when
// the file sets attention.sliding_window (as llama.cpp does).
#include <string>

#include "engine/arch/registry.h"
#include "engine/decoder.h"

namespace folio {

Result<std::unique_ptr<Model>> load_phi3(const ModelFile& file, const Hparams& hp) {
  auto m = std::make_unique<DecoderModel>(file, hp);
  Weights& w = m->weights();
  const Hparams& h = hp;
  if (w.has("rope_factors_long.weight") || w.has("rope_factors_short.weight")) {
    return make_error("phi3 with LongRoPE factors (the 128k-context variants) is not supported yet; use a 4k-context model");
  }
  const int64_t qw = h.n_head * h.head_dim_k, kw = h.n_head_kv * h.head_dim_k, vw = h.n_head_kv * h.head_dim_v;
  FOLIO_TRY(bind_ends(*m));
  if (m->output.data == nullptr) return make_error("phi3 model lacks output.weight; the file is incomplete");
  for (int64_t l = 0; l < h.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    DecoderLayer& L = m->layers[static_cast<size_t>(l)];
    FOLIO_ASSIGN_OR_RETURN(L.attn_norm, w.vector(b + "attn_norm.weight", h.n_embd));
    FOLIO_ASSIGN_OR_RETURN(const WeightView qkv, w.matrix(b + "attn_qkv.weight", {h.n_embd, qw + kw + vw}));
    L.wq = row_range(qkv, 0, qw);
    L.wk = row_range(qkv, qw, kw);
    L.wv = row_range(qkv, qw + kw, vw);
    FOLIO_ASSIGN_OR_RETURN(L.wo, w.matrix(b + "attn_output.weight", {h.n_head * h.head_dim_v, h.n_embd}));
    FOLIO_ASSIGN_OR_RETURN(L.ffn_norm, w.vector(b + "ffn_norm.weight", h.n_embd));
    FOLIO_ASSIGN_OR_RETURN(const WeightView gate_up, w.matrix(b + "ffn_up.weight", {h.n_embd, 2 * h.n_ff}));
    L.ffn.gate = row_range(gate_up, 0, h.n_ff);
    L.ffn.up = row_range(gate_up, h.n_ff, h.n_ff);
    FOLIO_ASSIGN_OR_RETURN(L.ffn.down, w.matrix(b + "ffn_down.weight", {h.n_ff, h.n_embd}));
    L.window = h.sliding_window;
  }
  m->set_defaults(/*neox_rope=*/true);
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace folio
