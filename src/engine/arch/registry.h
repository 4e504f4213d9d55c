// The architectures folio runs: one loader per engine/arch/<arch>.cpp,
// listed in registry.cpp by general.architecture.
#pragma once

#include <memory>

#include "engine/model.h"

namespace folio {

Result<std::unique_ptr<Model>> load_llama(const ModelFile& file, const Hparams& hp);
Result<std::unique_ptr<Model>> load_qwen2(const ModelFile& file, const Hparams& hp);
Result<std::unique_ptr<Model>> load_phi3(const ModelFile& file, const Hparams& hp);
Result<std::unique_ptr<Model>> load_gemma2(const ModelFile& file, const Hparams& hp);
Result<std::unique_ptr<Model>> load_deepseek2(const ModelFile& file, const Hparams& hp);
Result<std::unique_ptr<Model>> load_qwen3(const ModelFile& file, const Hparams& hp);
Result<std::unique_ptr<Model>> load_qwen3moe(const ModelFile& file, const Hparams& hp);
Result<std::unique_ptr<Model>> load_qwen2moe(const ModelFile& file, const Hparams& hp);
Result<std::unique_ptr<Model>> load_gemma3(const ModelFile& file, const Hparams& hp);

// The loader for arch, or nullptr.
ModelFactory find_architecture(const std::string& arch);

}  // namespace folio
