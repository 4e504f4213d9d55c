// GGUF writer (version 3, little-endian). Metadata is encoded as it is set;
// tensor data is streamed from callbacks at write time, in row chunks, so a
// multi-GB model is written without holding it in memory. Files appear
// atomically (temp file + fsync + rename): never half-written.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/result.h"
#include "gguf/reader.h"
#include "gguf/types.h"
#include "gguf/value.h"

namespace folio::gguf {

// Fills rows [first_row, first_row + n_rows) of a tensor, in its storage
// type, into dst (n_rows * row bytes). May be called from one thread at a
// time, in increasing row order.
using RowSource = std::function<Result<void>(int64_t first_row, int64_t n_rows, uint8_t* dst)>;

struct TensorSpec {
  std::string name;
  TensorType type = TensorType::kF32;
  std::vector<int64_t> shape;  // ne: shape[0] is the row length
  RowSource source;

  int64_t n_rows() const;
  uint64_t nbytes() const;
};

// Not thread-safe.
class Writer {
 public:
  explicit Writer(uint32_t alignment = kDefaultAlignment);

  // Each setter adds key at the end, or replaces its value in place.
  void set_u8(std::string_view key, uint8_t v);
  void set_i8(std::string_view key, int8_t v);
  void set_u16(std::string_view key, uint16_t v);
  void set_i16(std::string_view key, int16_t v);
  void set_u32(std::string_view key, uint32_t v);
  void set_i32(std::string_view key, int32_t v);
  void set_u64(std::string_view key, uint64_t v);
  void set_i64(std::string_view key, int64_t v);
  void set_f32(std::string_view key, float v);
  void set_f64(std::string_view key, double v);
  void set_bool(std::string_view key, bool v);
  void set_string(std::string_view key, std::string_view v);
  void set_array_strings(std::string_view key, const std::vector<std::string_view>& v);
  void set_array_f32(std::string_view key, std::span<const float> v);
  void set_array_i32(std::string_view key, std::span<const int32_t> v);
  // Copies a value read from another file (any type, nested arrays too).
  void set_value(std::string_view key, const Value& v);
  void remove(std::string_view key);
  bool has(std::string_view key) const;
  // Raw key/value entry (key + type + value encoding), for tests that need
  // to build malformed files.
  void set_raw_entry(std::string_view key, std::vector<uint8_t> encoded_type_and_value);

  // Errors: duplicate name, bad shape, row length not a multiple of the
  // block size.
  Result<void> add_tensor(TensorSpec spec);
  const std::vector<TensorSpec>& tensors() const { return tensors_; }

  // Writes the whole file at path atomically.
  Result<void> write(const std::string& path) const;

  // Writes a split model: path_prefix + "-0000k-of-0000n.gguf", each part at
  // most max_part_bytes of tensor data (a tensor is never split). Part 1
  // holds all metadata, later parts only the split.* keys. Returns the
  // paths. All parts appear, or none.
  Result<std::vector<std::string>> write_split(const std::string& path_prefix, uint64_t max_part_bytes) const;

  // The header + metadata + tensor info bytes, padded to the alignment, for
  // the given tensors (offsets computed tightly, each aligned).
  std::vector<uint8_t> encode_head(const std::vector<const TensorSpec*>& tensors,
                                   const std::vector<std::pair<std::string, std::vector<uint8_t>>>& kvs) const;

 private:
  void set_encoded(std::string_view key, std::vector<uint8_t> bytes);
  // Writes one file's bytes under a temporary name; the caller commits.
  Result<AtomicFile> write_part(const std::string& path, const std::vector<const TensorSpec*>& tensors,
                                const std::vector<std::pair<std::string, std::vector<uint8_t>>>& kvs) const;

  uint32_t alignment_;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> kvs_;  // key -> type + value bytes
  std::vector<TensorSpec> tensors_;
};

}  // namespace folio::gguf
