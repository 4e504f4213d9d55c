// general.architecture = "qwen2": Qwen2 and Qwen2.5 (ref: llama.cpp
// llm_build_qwen2; Qwen2 technical report). Llama's decoder with biases on
// the Q, K and V projections and NEOX rope (rotates x[i] with
// x[i + n_rot/2]); tied embeddings in the small models.
#include "engine/arch/registry.h"
#include "engine/decoder.h"

namespace folio {

Result<std::unique_ptr<Model>> load_qwen2(const ModelFile& file, const Hparams& hp) {
  auto m = std::make_unique<DecoderModel>(file, hp);
  FOLIO_TRY(bind_llama_tensors(*m));
  for (const DecoderLayer& L : m->layers) {
    if (L.bq == nullptr || L.bk == nullptr || L.bv == nullptr) {
      return make_error("qwen2 model lacks the attention biases (attn_q/k/v.bias); the file is not a Qwen2 model");
    }
  }
  m->set_defaults(/*neox_rope=*/true);
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace folio
