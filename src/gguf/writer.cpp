#include "gguf/writer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include "base/strings.h"

namespace folio::gguf {

namespace {

constexpr uint64_t kChunkBytes = 64u << 20;  // tensor data is produced in chunks of about this size

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof v);
  std::memcpy(out.data() + at, &v, sizeof v);
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

template <typename T>
std::vector<uint8_t> scalar(ValueType type, T v) {
  std::vector<uint8_t> out;
  put<uint32_t>(out, static_cast<uint32_t>(type));
  put<T>(out, v);
  return out;
}

// Encodes the payload of v (without its leading type tag).
void put_value_payload(std::vector<uint8_t>& out, const Value& v) {
  switch (v.type) {
    case ValueType::kU8: put<uint8_t>(out, static_cast<uint8_t>(v.u)); break;
    case ValueType::kU16: put<uint16_t>(out, static_cast<uint16_t>(v.u)); break;
    case ValueType::kU32: put<uint32_t>(out, static_cast<uint32_t>(v.u)); break;
    case ValueType::kU64: put<uint64_t>(out, v.u); break;
    case ValueType::kBool: put<uint8_t>(out, v.u ? 1 : 0); break;
    case ValueType::kI8: put<int8_t>(out, static_cast<int8_t>(v.i)); break;
    case ValueType::kI16: put<int16_t>(out, static_cast<int16_t>(v.i)); break;
    case ValueType::kI32: put<int32_t>(out, static_cast<int32_t>(v.i)); break;
    case ValueType::kI64: put<int64_t>(out, v.i); break;
    case ValueType::kF32: put<float>(out, static_cast<float>(v.f)); break;
    case ValueType::kF64: put<double>(out, v.f); break;
    case ValueType::kString: put_string(out, v.str); break;
    case ValueType::kArray: {
      const Array& a = *v.array;
      put<uint32_t>(out, static_cast<uint32_t>(a.type));
      put<uint64_t>(out, a.size);
      if (a.type == ValueType::kString) {
        for (std::string_view s : a.strings) put_string(out, s);
      } else if (a.type == ValueType::kArray) {
        for (const Value& e : a.arrays) put_value_payload(out, e);
      } else {
        out.insert(out.end(), a.data, a.data + a.size * value_type_size(a.type));
      }
      break;
    }
  }
}

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

int64_t TensorSpec::n_rows() const {
  int64_t r = 1;
  for (size_t d = 1; d < shape.size(); ++d) r *= shape[d];
  return r;
}

uint64_t TensorSpec::nbytes() const {
  return static_cast<uint64_t>(n_rows()) * row_bytes(type, shape[0]);
}

Writer::Writer(uint32_t alignment) : alignment_(alignment) {
  FOLIO_CHECK(alignment > 0 && (alignment & (alignment - 1)) == 0);
  if (alignment != kDefaultAlignment) set_u32("general.alignment", alignment);
}

void Writer::set_encoded(std::string_view key, std::vector<uint8_t> bytes) {
  for (auto& kv : kvs_) {
    if (kv.first == key) {
      kv.second = std::move(bytes);
      return;
    }
  }
  kvs_.emplace_back(std::string(key), std::move(bytes));
}

void Writer::set_u8(std::string_view k, uint8_t v) { set_encoded(k, scalar(ValueType::kU8, v)); }
void Writer::set_i8(std::string_view k, int8_t v) { set_encoded(k, scalar(ValueType::kI8, v)); }
void Writer::set_u16(std::string_view k, uint16_t v) { set_encoded(k, scalar(ValueType::kU16, v)); }
void Writer::set_i16(std::string_view k, int16_t v) { set_encoded(k, scalar(ValueType::kI16, v)); }
void Writer::set_u32(std::string_view k, uint32_t v) { set_encoded(k, scalar(ValueType::kU32, v)); }
void Writer::set_i32(std::string_view k, int32_t v) { set_encoded(k, scalar(ValueType::kI32, v)); }
void Writer::set_u64(std::string_view k, uint64_t v) { set_encoded(k, scalar(ValueType::kU64, v)); }
void Writer::set_i64(std::string_view k, int64_t v) { set_encoded(k, scalar(ValueType::kI64, v)); }
void Writer::set_f32(std::string_view k, float v) { set_encoded(k, scalar(ValueType::kF32, v)); }
void Writer::set_f64(std::string_view k, double v) { set_encoded(k, scalar(ValueType::kF64, v)); }
void Writer::set_bool(std::string_view k, bool v) { set_encoded(k, scalar<uint8_t>(ValueType::kBool, v ? 1 : 0)); }

void Writer::set_string(std::string_view k, std::string_view v) {
  std::vector<uint8_t> out;
  put<uint32_t>(out, static_cast<uint32_t>(ValueType::kString));
  put_string(out, v);
  set_encoded(k, std::move(out));
}

void Writer::set_array_strings(std::string_view k, const std::vector<std::string_view>& v) {
  std::vector<uint8_t> out;
  put<uint32_t>(out, static_cast<uint32_t>(ValueType::kArray));
  put<uint32_t>(out, static_cast<uint32_t>(ValueType::kString));
  put<uint64_t>(out, v.size());
  for (std::string_view s : v) put_string(out, s);
  set_encoded(k, std::move(out));
}

void Writer::set_array_f32(std::string_view k, std::span<const float> v) {
  std::vector<uint8_t> out;
  put<uint32_t>(out, static_cast<uint32_t>(ValueType::kArray));
  put<uint32_t>(out, static_cast<uint32_t>(ValueType::kF32));
  put<uint64_t>(out, v.size());
  const auto* p = reinterpret_cast<const uint8_t*>(v.data());
  out.insert(out.end(), p, p + v.size_bytes());
  set_encoded(k, std::move(out));
}

void Writer::set_array_i32(std::string_view k, std::span<const int32_t> v) {
  std::vector<uint8_t> out;
  put<uint32_t>(out, static_cast<uint32_t>(ValueType::kArray));
  put<uint32_t>(out, static_cast<uint32_t>(ValueType::kI32));
  put<uint64_t>(out, v.size());
  const auto* p = reinterpret_cast<const uint8_t*>(v.data());
  out.insert(out.end(), p, p + v.size_bytes());
  set_encoded(k, std::move(out));
}

void Writer::set_value(std::string_view k, const Value& v) {
  std::vector<uint8_t> out;
  put<uint32_t>(out, static_cast<uint32_t>(v.type));
  put_value_payload(out, v);
  set_encoded(k, std::move(out));
}

void Writer::set_raw_entry(std::string_view k, std::vector<uint8_t> encoded) { set_encoded(k, std::move(encoded)); }

void Writer::remove(std::string_view key) {
  kvs_.erase(std::remove_if(kvs_.begin(), kvs_.end(), [&](const auto& kv) { return kv.first == key; }), kvs_.end());
}

bool Writer::has(std::string_view key) const {
  return std::any_of(kvs_.begin(), kvs_.end(), [&](const auto& kv) { return kv.first == key; });
}

Result<void> Writer::add_tensor(TensorSpec spec) {
  if (spec.name.empty() || spec.name.size() > kMaxTensorName) {
    return make_error("tensor name '%s' must be 1 to %zu bytes long", spec.name.c_str(), kMaxTensorName);
  }
  for (const auto& t : tensors_) {
    if (t.name == spec.name) return make_error("duplicate tensor name '%s'", spec.name.c_str());
  }
  if (spec.shape.empty() || spec.shape.size() > kMaxDims) {
    return make_error("tensor '%s' must have 1 to %u dimensions", spec.name.c_str(), kMaxDims);
  }
  for (int64_t d : spec.shape) {
    if (d <= 0) return make_error("tensor '%s' has a dimension of %lld", spec.name.c_str(), static_cast<long long>(d));
  }
  const TypeTraits& tr = type_traits(spec.type);
  if (!is_known_type(static_cast<uint32_t>(spec.type))) {
    return make_error("tensor '%s' has an unknown type", spec.name.c_str());
  }
  if (spec.shape[0] % tr.block_size != 0) {
    return make_error("tensor '%s': row length %lld is not a multiple of the %s block size %lld", spec.name.c_str(),
                      static_cast<long long>(spec.shape[0]), tr.name, static_cast<long long>(tr.block_size));
  }
  if (!spec.source) return make_error("tensor '%s' has no data source", spec.name.c_str());
  tensors_.push_back(std::move(spec));
  return {};
}

std::vector<uint8_t> Writer::encode_head(const std::vector<const TensorSpec*>& tensors,
                                         const std::vector<std::pair<std::string, std::vector<uint8_t>>>& kvs) const {
  std::vector<uint8_t> out;
  out = {'G', 'G', 'U', 'F'};
  put<uint32_t>(out, 3);
  put<uint64_t>(out, tensors.size());
  put<uint64_t>(out, kvs.size());
  for (const auto& [key, bytes] : kvs) {
    put_string(out, key);
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  uint64_t offset = 0;
  for (const TensorSpec* t : tensors) {
    put_string(out, t->name);
    put<uint32_t>(out, static_cast<uint32_t>(t->shape.size()));
    for (int64_t d : t->shape) put<uint64_t>(out, static_cast<uint64_t>(d));
    put<uint32_t>(out, static_cast<uint32_t>(t->type));
    put<uint64_t>(out, offset);
    offset = align_up(offset + t->nbytes(), alignment_);
  }
  out.resize(align_up(out.size(), alignment_), 0);
  return out;
}

Result<AtomicFile> Writer::write_part(const std::string& path, const std::vector<const TensorSpec*>& tensors,
                                      const std::vector<std::pair<std::string, std::vector<uint8_t>>>& kvs) const {
  FOLIO_ASSIGN_OR_RETURN(AtomicFile f, AtomicFile::create(path));
  const std::vector<uint8_t> head = encode_head(tensors, kvs);
  FOLIO_TRY(f.write(head.data(), head.size()));
  std::vector<uint8_t> buf;
  for (const TensorSpec* t : tensors) {
    const uint64_t rb = row_bytes(t->type, t->shape[0]);
    const int64_t rows = t->n_rows();
    const int64_t chunk_rows = std::max<int64_t>(1, static_cast<int64_t>(kChunkBytes / rb));
    for (int64_t r = 0; r < rows; r += chunk_rows) {
      const int64_t n = std::min(chunk_rows, rows - r);
      buf.resize(static_cast<size_t>(n) * rb);
      Result<void> filled = t->source(r, n, buf.data());
      if (!filled.ok()) {
        return make_error("writing tensor '%s' of %s: %s", t->name.c_str(), path.c_str(),
                          filled.error().message.c_str());
      }
      FOLIO_TRY(f.write(buf.data(), buf.size()));
    }
    const uint64_t nbytes = t->nbytes();
    FOLIO_TRY(f.write_zeros(align_up(nbytes, alignment_) - nbytes));
  }
  return f;
}

Result<void> Writer::write(const std::string& path) const {
  std::vector<const TensorSpec*> all;
  for (const auto& t : tensors_) all.push_back(&t);
  FOLIO_ASSIGN_OR_RETURN(AtomicFile f, write_part(path, all, kvs_));
  return f.commit();
}

Result<std::vector<std::string>> Writer::write_split(const std::string& path_prefix, uint64_t max_part_bytes) const {
  // Greedy packing in tensor order; every part holds at least one tensor.
  std::vector<std::vector<const TensorSpec*>> parts(1);
  uint64_t used = 0;
  for (const auto& t : tensors_) {
    const uint64_t n = align_up(t.nbytes(), alignment_);
    if (!parts.back().empty() && used + n > max_part_bytes) {
      parts.emplace_back();
      used = 0;
    }
    parts.back().push_back(&t);
    used += n;
  }
  const int count = static_cast<int>(parts.size());
  if (count > 9999) return make_error("a split into %d parts is too many (at most 9999); raise the part size", count);
  std::vector<AtomicFile> pending;
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) {
    Writer keys;  // part 1: all metadata; later parts: alignment and split keys only
    if (i == 0) keys.kvs_ = kvs_;
    else if (alignment_ != kDefaultAlignment) keys.set_u32("general.alignment", alignment_);
    keys.set_u16("split.no", static_cast<uint16_t>(i));
    keys.set_u16("split.count", static_cast<uint16_t>(count));
    keys.set_i32("split.tensors.count", static_cast<int32_t>(tensors_.size()));
    const auto& kvs = keys.kvs_;
    const std::string path = path_prefix + strfmt("-%05d-of-%05d.gguf", i + 1, count);
    FOLIO_ASSIGN_OR_RETURN(AtomicFile f, write_part(path, parts[i], kvs));
    pending.push_back(std::move(f));
    paths.push_back(path);
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    Result<void> committed = pending[i].commit();
    if (!committed.ok()) {
      for (size_t j = 0; j < i; ++j) std::remove(paths[j].c_str());  // all parts or none
      return committed.take_error();
    }
  }
  return paths;
}

}  // namespace folio::gguf
