// Byte-level GGUF builder for tests: every field explicit, so a test can
// write exactly the malformed file it wants.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace folio::testing {

struct RawKv {
  std::string key;
  uint32_t type;                // GGUF value type
  std::vector<uint8_t> payload; // encoded value (without the type)
};

struct RawTensor {
  std::string name;
  std::vector<uint64_t> dims;
  uint32_t type;
  uint64_t offset;
};

inline void put_u32(std::vector<uint8_t>& b, uint32_t v) {
  const size_t at = b.size();
  b.resize(at + 4);
  std::memcpy(b.data() + at, &v, 4);
}
inline void put_u64(std::vector<uint8_t>& b, uint64_t v) {
  const size_t at = b.size();
  b.resize(at + 8);
  std::memcpy(b.data() + at, &v, 8);
}
inline void put_str(std::vector<uint8_t>& b, const std::string& s) {
  put_u64(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}

inline std::vector<uint8_t> payload_u32(uint32_t v) {
  std::vector<uint8_t> b;
  put_u32(b, v);
  return b;
}
inline std::vector<uint8_t> payload_str(const std::string& s) {
  std::vector<uint8_t> b;
  put_str(b, s);
  return b;
}

struct RawGguf {
  std::string magic = "GGUF";
  uint32_t version = 3;
  std::optional<uint64_t> n_tensors;  // overrides the real counts
  std::optional<uint64_t> n_kv;
  std::vector<RawKv> kvs;
  std::vector<RawTensor> tensors;
  uint64_t alignment = 32;
  uint64_t data_bytes = 0;            // size of the data section written

  // A valid file: three metadata entries and two tensors
  // ('a': F32 [8, 2] at 0, 'b': Q4_0 [32, 2] at 64).
  static RawGguf valid() {
    RawGguf g;
    g.kvs.push_back({"general.architecture", 8, payload_str("llama")});
    g.kvs.push_back({"llama.block_count", 4, payload_u32(1)});
    std::vector<uint8_t> arr;
    put_u32(arr, 8);
    put_u64(arr, 2);
    put_str(arr, "x");
    put_str(arr, "yz");
    g.kvs.push_back({"tokenizer.ggml.tokens", 9, arr});
    g.tensors.push_back({"a", {8, 2}, 0, 0});
    g.tensors.push_back({"b", {32, 2}, 2, 64});
    g.data_bytes = 64 + 36;
    return g;
  }

  std::vector<uint8_t> head() const {
    std::vector<uint8_t> b(magic.begin(), magic.end());
    put_u32(b, version);
    put_u64(b, n_tensors.value_or(tensors.size()));
    put_u64(b, n_kv.value_or(kvs.size()));
    for (const auto& kv : kvs) {
      put_str(b, kv.key);
      put_u32(b, kv.type);
      b.insert(b.end(), kv.payload.begin(), kv.payload.end());
    }
    for (const auto& t : tensors) {
      put_str(b, t.name);
      put_u32(b, static_cast<uint32_t>(t.dims.size()));
      for (uint64_t d : t.dims) put_u64(b, d);
      put_u32(b, t.type);
      put_u64(b, t.offset);
    }
    return b;
  }

  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> b = head();
    b.resize((b.size() + alignment - 1) / alignment * alignment, 0);
    for (uint64_t i = 0; i < data_bytes; ++i) b.push_back(static_cast<uint8_t>(i * 7));
    return b;
  }
};

}  // namespace folio::testing
