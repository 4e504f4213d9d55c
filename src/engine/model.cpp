#include "engine/model.h"

#include "base/strings.h"
#include "engine/arch/registry.h"
#include "kernels/matmul.h"
#include "memory/readahead.h"

namespace folio {

void Model::prefetch(const WeightView& w) const {
  if (readahead_ != nullptr && w.data != nullptr) {
    readahead_->request(w.data, static_cast<uint64_t>(w.n_out * w.n_mat) * w.row_bytes);
  }
}

void Model::decode(Context* const* ctxs, const int32_t* tokens, int64_t n, float* logits) const {
  for (int64_t i = 0; i < n; ++i) forward(*ctxs[i], tokens + i, 1, false, logits + i * hp_.n_vocab);
}

Result<std::unique_ptr<Model>> load_model(const ModelFile& file) {
  auto arch = file.meta().get_string("general.architecture");
  if (!arch) return make_error("model metadata lacks general.architecture; this is not a model file (a vocabulary only?)");
  ModelFactory factory = find_architecture(std::string(*arch));
  if (factory == nullptr) {
    std::string names;
    for (const auto& n : supported_architectures()) names += (names.empty() ? "" : ", ") + n;
    return make_error("unsupported architecture '%s'; folio runs: %s", escape_for_display(*arch).c_str(), names.c_str());
  }
  FOLIO_ASSIGN_OR_RETURN(Hparams hp, read_hparams(file.meta(), std::string(*arch)));
  if (static_cast<uint64_t>(hp.n_layer) > file.tensors().size()) {
    return make_error("model metadata %s.block_count is %lld but the file holds only %zu tensors; the file is damaged",
                      hp.arch.c_str(), static_cast<long long>(hp.n_layer), file.tensors().size());
  }
  if (hp.n_vocab <= 0) return make_error("model has no vocabulary (tokenizer.ggml.tokens)");
  return factory(file, hp);
}

}  // namespace folio
