// general.architecture = "gemma3": Gemma 3 1B/4B/12B/27B, the text model
// (ref: llama.cpp llm_build_gemma3; transformers' Gemma3TextModel). As
// gemma2 (post-norms, sqrt(n_embd) embedding scale, NEOX rope, GeGLU, tied
// embeddings) with an RMSNorm over each head of q and k, no soft-capping,
// and five sliding-window layers for each global one (layer l is global
// when l % 6 == 5): the sliding layers rope with base 10000 and no
// scaling, the global ones with rope.freq_base and the file's scaling.
// Queries are scaled by 1/sqrt(head_dim), by 1/sqrt(n_embd/n_head) for
// the 27B (62 layers). Vision towers (mmproj) are not loaded.
#include <cmath>

#include "engine/arch/registry.h"
#include "engine/decoder.h"

namespace folio {

Result<std::unique_ptr<Model>> load_gemma3(const ModelFile& file, const Hparams& hp) {
  auto m = std::make_unique<DecoderModel>(file, hp);
  const Hparams& h = hp;
  FOLIO_TRY(bind_gemma_tensors(*m, /*qk_norms=*/true));
  for (int64_t l = 0; l < h.n_layer; ++l) {
    DecoderLayer& L = m->layers[static_cast<size_t>(l)];
    const bool sliding = l % 6 < 5;
    L.window = sliding ? h.sliding_window : 0;
    L.local_rope = sliding;
  }
  m->set_defaults(/*neox_rope=*/true);
  m->spec.rope_local = m->spec.rope;
  m->spec.rope_local.freq_base = 10000.f;
  m->spec.rope_local.freq_scale = 1.f;
  m->spec.rope_local.ext_factor = 0.f;
  if (h.n_layer == 62) m->spec.attn.scale = 1.0f / std::sqrt(static_cast<float>(h.n_embd / h.n_head));
  m->spec.embd_scale = std::sqrt(static_cast<float>(h.n_embd));
  m->spec.act = FfnActivation::kGeluTanh;
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace folio
