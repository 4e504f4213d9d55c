// ModelFile: a GGUF model opened for use, one or more mapped shards
// (`name-00001-of-00003.gguf` splits open as one model). Tensors are views
// into the mappings: with LoadMode::kMmap opening costs no anonymous memory
// whatever the model's size.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "gguf/reader.h"
#include "memory/mapped_file.h"

namespace folio {

// Split-model metadata keys (ref: llama.cpp gguf-split).
inline constexpr const char* kKeySplitNo = "split.no";
inline constexpr const char* kKeySplitCount = "split.count";
inline constexpr const char* kKeySplitTensors = "split.tensors.count";

// "-00002-of-00003.gguf" for shard index 1 of 3.
std::string split_suffix(int index, int count);

// Non-copyable, movable. Thread-safe for reads.
class ModelFile {
 public:
  // Maps and validates path; when its metadata says it is one shard of a
  // split model, maps and validates every shard. Errors start with the path
  // of the file at fault.
  static Result<ModelFile> open(const std::string& path, const MapOptions& options = {});

  ModelFile(ModelFile&&) noexcept = default;
  ModelFile& operator=(ModelFile&&) noexcept = default;
  ModelFile(const ModelFile&) = delete;
  ModelFile& operator=(const ModelFile&) = delete;

  // Metadata of the first shard (the model's metadata).
  const gguf::File& meta() const { return shards_[0].gguf; }
  // Every tensor of every shard, in file order.
  const std::vector<gguf::TensorInfo>& tensors() const { return tensors_; }
  const gguf::TensorInfo* find_tensor(std::string_view name) const;

  size_t n_shards() const { return shards_.size(); }
  const MappedFile& mapping(size_t shard) const { return shards_[shard].map; }
  const gguf::File& shard(size_t i) const { return shards_[i].gguf; }
  // Total bytes of all shard files.
  uint64_t file_bytes() const;
  // Bytes of tensor data (the weights).
  uint64_t tensor_bytes() const;
  uint64_t n_params() const;

  // Asks the kernel to read [p, p+len) of a mapping ahead (asynchronously);
  // p must point into one of the shards. No-op for read mode.
  void advise_willneed(const uint8_t* p, uint64_t len) const;

 private:
  struct Shard {
    MappedFile map;
    gguf::File gguf;
  };
  ModelFile() = default;
  Result<void> index_tensors();

  std::vector<Shard> shards_;
  std::vector<gguf::TensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> index_;
};

}  // namespace folio
