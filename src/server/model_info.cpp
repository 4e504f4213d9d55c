#include "server/model_info.h"

#include "base/strings.h"

namespace folio {

nlohmann::json value_json(const gguf::Value& v, bool full) {
  using gguf::ValueType;
  switch (v.type) {
    case ValueType::kString: return std::string(v.str);
    case ValueType::kBool: return v.u != 0;
    case ValueType::kF32: case ValueType::kF64: return v.f;
    case ValueType::kU8: case ValueType::kU16: case ValueType::kU32: case ValueType::kU64: return v.u;
    case ValueType::kArray: {
      const gguf::Array& a = *v.array;
      if (!full) return nullptr;  // as Ollama: arrays only when verbose
      nlohmann::json out = nlohmann::json::array();
      for (uint64_t i = 0; i < a.size; ++i) {
        if (a.type == ValueType::kString) out.push_back(std::string(a.strings[i]));
        else if (a.type == ValueType::kArray) out.push_back(value_json(a.arrays[i], full));
        else if (a.type == ValueType::kF32 || a.type == ValueType::kF64) out.push_back(a.number_at(i));
        else if (a.type == ValueType::kBool) out.push_back(a.int_at(i) != 0);
        else if (a.type == ValueType::kU64) out.push_back(static_cast<uint64_t>(a.int_at(i)));
        else out.push_back(a.int_at(i));
      }
      return out;
    }
    default: return v.i;
  }
}

nlohmann::json model_info_json(const gguf::File& meta, const gguf::ModelSummary& s, bool verbose) {
  nlohmann::json info = nlohmann::json::object();
  for (const auto& kv : meta.kvs()) info[std::string(kv.key)] = value_json(kv.value, verbose);
  info["general.parameter_count"] = s.n_params;
  return info;
}

nlohmann::json details_json(const gguf::ModelSummary& s) {
  return {{"parent_model", ""},
          {"format", "gguf"},
          {"family", s.architecture},
          {"families", nlohmann::json::array({s.architecture})},
          {"parameter_size", human_count(s.n_params)},
          {"quantization_level", s.file_type}};
}

nlohmann::json tensors_json(const std::vector<gguf::TensorInfo>& tensors) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : tensors) {
    nlohmann::json shape = nlohmann::json::array();
    for (uint32_t d = 0; d < t.n_dims; ++d) shape.push_back(t.ne[d]);
    out.push_back({{"name", std::string(t.name)}, {"type", type_name(t.type)}, {"shape", shape}});
  }
  return out;
}

}  // namespace folio
