// The facts about a model that `show`, the store's config blob and the
// memory planner need, computed once from its metadata and tensor table.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gguf/reader.h"

namespace folio::gguf {

struct TypeCount {
  uint64_t tensors = 0;
  uint64_t bytes = 0;
  uint64_t params = 0;
};

struct ModelSummary {
  std::string architecture;     // general.architecture ("" when absent)
  std::string name;             // general.name
  uint64_t n_params = 0;        // sum of tensor elements
  int64_t context_length = 0;   // <arch>.context_length, 0 when absent
  int64_t embedding_length = 0; // <arch>.embedding_length, 0 when absent
  int64_t block_count = 0;      // <arch>.block_count
  int64_t expert_count = 0;     // <arch>.expert_count
  std::string file_type;        // "Q4_K_M": general.file_type, else guessed from the weights
  bool file_type_guessed = false;
  uint64_t file_bytes = 0;      // all shard files
  uint64_t tensor_bytes = 0;    // tensor data only
  uint64_t n_tensors = 0;
  std::map<TensorType, TypeCount> by_type;
  std::string tokenizer;        // tokenizer.ggml.model
  uint64_t vocab_size = 0;      // tokenizer.ggml.tokens length
};

// meta: the model's (first shard's) metadata; tensors: all tensors.
ModelSummary summarize(const File& meta, const std::vector<TensorInfo>& tensors, uint64_t file_bytes);

}  // namespace folio::gguf
