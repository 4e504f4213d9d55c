#include "gguf/summary.h"

#include "gguf/file_type.h"

namespace folio::gguf {

namespace {

// When general.file_type is missing, name the model after the type that
// holds most of its weight bytes (2-D and larger tensors), as llama.cpp's
// guess does.
std::string guess_file_type(const std::map<TensorType, TypeCount>& weights) {
  TensorType best = TensorType::kF32;
  uint64_t best_bytes = 0;
  for (const auto& [type, c] : weights) {
    if (c.bytes > best_bytes) {
      best = type;
      best_bytes = c.bytes;
    }
  }
  return type_name(best);
}

}  // namespace

ModelSummary summarize(const File& meta, const std::vector<TensorInfo>& tensors, uint64_t file_bytes) {
  ModelSummary s;
  s.architecture = std::string(meta.get_string("general.architecture").value_or(""));
  s.name = std::string(meta.get_string("general.name").value_or(""));
  const std::string a = s.architecture;
  s.context_length = meta.get_int(a + ".context_length").value_or(0);
  s.embedding_length = meta.get_int(a + ".embedding_length").value_or(0);
  s.block_count = meta.get_int(a + ".block_count").value_or(0);
  s.expert_count = meta.get_int(a + ".expert_count").value_or(0);
  s.file_bytes = file_bytes;
  s.n_tensors = tensors.size();
  std::map<TensorType, TypeCount> weights;
  for (const TensorInfo& t : tensors) {
    TypeCount& c = s.by_type[t.type];
    c.tensors += 1;
    c.bytes += t.nbytes;
    c.params += static_cast<uint64_t>(t.n_elements());
    s.n_params += static_cast<uint64_t>(t.n_elements());
    s.tensor_bytes += t.nbytes;
    if (t.n_dims >= 2) weights[t.type].bytes += t.nbytes;
  }
  if (auto ft = meta.get_int("general.file_type"); ft && *ft >= 0) {
    s.file_type = file_type_name(static_cast<uint32_t>(*ft));
  } else if (!weights.empty()) {
    s.file_type = guess_file_type(weights);
    s.file_type_guessed = true;
  }
  s.tokenizer = std::string(meta.get_string("tokenizer.ggml.model").value_or(""));
  if (const Value* v = meta.find("tokenizer.ggml.tokens"); v && v->as_array()) s.vocab_size = v->as_array()->size;
  return s;
}

}  // namespace folio::gguf
