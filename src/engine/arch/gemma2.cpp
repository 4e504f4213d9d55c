// general.architecture = "gemma2": Gemma 2 2B/9B/27B (ref: llama.cpp
// llm_build_gemma2; Gemma Team 2024). Pre-norm decoder with post-norms
// after attention and after the FFN, embeddings scaled by sqrt(n_embd),
// NEOX rope, attention-score and final-logit soft-capping, sliding-window
// attention in the even layers, GeGLU FFN (GELU, tanh approximation);
// always tied embeddings. The norm weights are used as stored (GGUF holds
// 1 + w). Queries are scaled by 1/sqrt(head_dim), by 1/sqrt(n_embd/n_head)
// for the 27B (46 layers), as gemma_pytorch does.
#include <cmath>

#include "engine/arch/registry.h"
#include "engine/decoder.h"

namespace folio {

Result<std::unique_ptr<Model>> load_gemma2(const ModelFile& file, const Hparams& hp) {
  auto m = std::make_unique<DecoderModel>(file, hp);
  const Hparams& h = hp;
  FOLIO_TRY(bind_gemma_tensors(*m, /*qk_norms=*/false));
  for (int64_t l = 0; l < h.n_layer; ++l) m->layers[static_cast<size_t>(l)].window = l % 2 == 0 ? h.sliding_window : 0;
  m->set_defaults(/*neox_rope=*/true);
  if (h.n_layer == 46) m->spec.attn.scale = 1.0f / std::sqrt(static_cast<float>(h.n_embd / h.n_head));
  m->spec.attn.softcap = h.attn_softcap;
  m->spec.final_softcap = h.final_softcap;
  m->spec.embd_scale = std::sqrt(static_cast<float>(h.n_embd));
  m->spec.act = FfnActivation::kGeluTanh;
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace folio
