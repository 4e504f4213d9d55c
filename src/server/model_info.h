// GGUF metadata as JSON, as Ollama's /api/show returns it in model_info
// (large arrays such as the vocabulary only when verbose).
#pragma once

#include <nlohmann/json.hpp>

#include "gguf/reader.h"
#include "gguf/summary.h"

namespace folio {

nlohmann::json value_json(const gguf::Value& v, bool full);
nlohmann::json model_info_json(const gguf::File& meta, const gguf::ModelSummary& s, bool verbose);
nlohmann::json details_json(const gguf::ModelSummary& s);
nlohmann::json tensors_json(const std::vector<gguf::TensorInfo>& tensors);

}  // namespace folio
