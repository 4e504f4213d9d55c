// GGUF reader over a byte span (ref: GGUF spec, ggml/docs/gguf.md).
//
// parse() validates the whole structure before anything is used: every
// count, length, offset and size is checked against the span with
// overflow-safe arithmetic, so a hostile file yields an Error naming what is
// wrong and where, never a crash or a huge allocation. Tensors and strings
// are views into the span (zero-copy).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "gguf/value.h"
#include "gguf/types.h"

namespace folio::gguf {

inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr uint32_t kMaxDims = 4;
inline constexpr size_t kMaxTensorName = 63;  // as ggml (GGML_MAX_NAME - 1)
inline constexpr int kMaxArrayDepth = 8;

struct KeyValue {
  std::string_view key;
  Value value;
  uint64_t offset = 0;  // where the entry starts in the file
};

struct TensorInfo {
  std::string_view name;
  uint32_t n_dims = 0;
  int64_t ne[kMaxDims] = {1, 1, 1, 1};  // ne[0] is the contiguous row length
  TensorType type = TensorType::kF32;
  uint64_t offset = 0;       // from the start of its file's data section
  uint64_t nbytes = 0;
  uint64_t info_offset = 0;  // where its info record starts in the file
  const uint8_t* data = nullptr;  // into the parsed bytes
  uint32_t file = 0;         // index of the shard that holds it

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
  std::string shape_string() const;  // "[256, 512]"
};

// A parsed GGUF file. Holds views into the bytes it was parsed from; those
// must outlive it. Immutable after parse(); thread-safe for reads.
class File {
 public:
  // Parses and validates bytes. Errors start with what is wrong and give
  // the offset, key or tensor name ("tensor 'blk.0.attn_q.weight' (info at
  // offset 812): ...").
  static Result<File> parse(std::span<const uint8_t> bytes);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the data section
  uint64_t size() const { return size_; }

  const std::vector<KeyValue>& kvs() const { return kvs_; }
  const Value* find(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<double> get_number(std::string_view key) const;
  std::optional<std::string_view> get_string(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;

 private:
  friend class Parser;
  uint32_t version_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  uint64_t size_ = 0;
  std::vector<KeyValue> kvs_;
  std::unordered_map<std::string_view, size_t> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace folio::gguf
