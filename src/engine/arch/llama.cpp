// general.architecture = "llama": Llama 1/2/3/3.1/3.2, Mistral, TinyLlama,
// SmolLM and the like (ref: llama.cpp llm_build_llama; Touvron et al. 2023).
// Pre-norm decoder: RMSNorm, attention with GQA and NORM rope (adjacent
// pairs, as GGUF stores llama's Q/K), SwiGLU FFN; tied embeddings when the
// file has no output.weight; Llama 3.1 rope_freqs factors when present.
// With expert_count > 0, Mixtral: the FFN is a mixture of experts (softmax
// over the router logits, top expert_used_count, weights renormalized).
#include "engine/arch/registry.h"
#include "engine/decoder.h"

namespace folio {

Result<std::unique_ptr<Model>> load_llama(const ModelFile& file, const Hparams& hp) {
  auto m = std::make_unique<DecoderModel>(file, hp);
  FOLIO_TRY(bind_llama_tensors(*m));
  m->set_defaults(/*neox_rope=*/false);
  FOLIO_ASSIGN_OR_RETURN(m->spec.rope.factors, m->weights().optional_vector("rope_freqs.weight", hp.n_rot / 2));
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace folio
