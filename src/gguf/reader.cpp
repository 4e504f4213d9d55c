#include "gguf/reader.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "base/strings.h"

namespace folio::gguf {

namespace {
// Smallest encodings, used to bound counts before any allocation:
// a KV is key length (8) + 1 key byte + type (4) + a 1-byte value;
// a tensor info is name length (8) + 1 name byte + n_dims (4) + one dim (8)
// + type (4) + offset (8).
constexpr uint64_t kMinKvBytes = 14;
constexpr uint64_t kMinTensorInfoBytes = 33;

bool add_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_add_overflow(a, b, out); }
bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }

std::string ull(uint64_t v) { return strfmt("%llu", static_cast<unsigned long long>(v)); }

uint64_t load_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
}  // namespace

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (uint32_t d = 0; d < n_dims; ++d) {
    if (d) s += ", ";
    s += strfmt("%lld", static_cast<long long>(ne[d]));
  }
  return s + "]";
}

// Sequential bounds-checked reads over the byte span.
class Parser {
 public:
  explicit Parser(std::span<const uint8_t> bytes) : p_(bytes.data()), size_(bytes.size()) {}

  Result<File> run();

 private:
  uint64_t left() const { return size_ - pos_; }

  Error truncated(const std::string& what, uint64_t need) const {
    return make_error("file ends inside %s at offset %s (needs %s more bytes, %s left); the file is "
                      "truncated or damaged: download it again",
                      what.c_str(), ull(pos_).c_str(), ull(need).c_str(), ull(left()).c_str());
  }

  // `prefix + what` names the field in errors; built only on failure.
  template <typename T>
  Result<T> read(const char* prefix, const std::string& what) {
    if (left() < sizeof(T)) return truncated(prefix + what, sizeof(T));
    T v;
    std::memcpy(&v, p_ + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }

  Result<std::string_view> read_string(const std::string& what) {
    const uint64_t at = pos_;
    FOLIO_ASSIGN_OR_RETURN(uint64_t len, read<uint64_t>("the length of ", what));
    if (len > left()) {
      return make_error("%s at offset %s has length %s, past the end of the file (%s bytes left)", what.c_str(),
                        ull(at).c_str(), ull(len).c_str(), ull(left()).c_str());
    }
    std::string_view s(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return s;
  }

  Result<ValueType> read_value_type(const std::string& what) {
    const uint64_t at = pos_;
    FOLIO_ASSIGN_OR_RETURN(uint32_t t, read<uint32_t>("the type of ", what));
    if (t >= kValueTypeCount) {
      return make_error("%s at offset %s has unknown value type %u (valid: 0..12)", what.c_str(), ull(at).c_str(), t);
    }
    return static_cast<ValueType>(t);
  }

  Result<Value> read_value(ValueType type, const std::string& what, int depth);
  Result<std::shared_ptr<const Array>> read_array(const std::string& what, int depth);
  Result<void> read_header(File& f, uint64_t* n_tensors, uint64_t* n_kv);
  Result<void> read_kvs(File& f, uint64_t n_kv);
  Result<void> read_alignment(File& f);
  Result<void> read_tensor_infos(File& f, uint64_t n_tensors);
  Result<void> check_tensor_data(File& f);

  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

Result<Value> Parser::read_value(ValueType type, const std::string& what, int depth) {
  Value v;
  v.type = type;
  switch (type) {
    case ValueType::kU8: { FOLIO_ASSIGN_OR_RETURN(v.u, read<uint8_t>("", what)); break; }
    case ValueType::kU16: { FOLIO_ASSIGN_OR_RETURN(v.u, read<uint16_t>("", what)); break; }
    case ValueType::kU32: { FOLIO_ASSIGN_OR_RETURN(v.u, read<uint32_t>("", what)); break; }
    case ValueType::kU64: { FOLIO_ASSIGN_OR_RETURN(v.u, read<uint64_t>("", what)); break; }
    case ValueType::kI8: { FOLIO_ASSIGN_OR_RETURN(v.i, read<int8_t>("", what)); break; }
    case ValueType::kI16: { FOLIO_ASSIGN_OR_RETURN(v.i, read<int16_t>("", what)); break; }
    case ValueType::kI32: { FOLIO_ASSIGN_OR_RETURN(v.i, read<int32_t>("", what)); break; }
    case ValueType::kI64: { FOLIO_ASSIGN_OR_RETURN(v.i, read<int64_t>("", what)); break; }
    case ValueType::kF32: { FOLIO_ASSIGN_OR_RETURN(v.f, read<float>("", what)); break; }
    case ValueType::kF64: { FOLIO_ASSIGN_OR_RETURN(v.f, read<double>("", what)); break; }
    case ValueType::kBool: {  // any nonzero byte is true, as ggml reads it
      FOLIO_ASSIGN_OR_RETURN(uint8_t b, read<uint8_t>("", what));
      v.u = b != 0;
      break;
    }
    case ValueType::kString: { FOLIO_ASSIGN_OR_RETURN(v.str, read_string(what)); break; }
    case ValueType::kArray: { FOLIO_ASSIGN_OR_RETURN(v.array, read_array(what, depth)); break; }
  }
  return v;
}

Result<std::shared_ptr<const Array>> Parser::read_array(const std::string& what, int depth) {
  if (depth >= kMaxArrayDepth) {
    return make_error("%s at offset %s nests arrays deeper than %d levels", what.c_str(), ull(pos_).c_str(), kMaxArrayDepth);
  }
  auto a = std::make_shared<Array>();
  FOLIO_ASSIGN_OR_RETURN(a->type, read_value_type("the element type of " + what));
  const uint64_t count_at = pos_;
  FOLIO_ASSIGN_OR_RETURN(a->size, read<uint64_t>("the element count of ", what));
  auto too_many = [&]() {
    return make_error("%s at offset %s claims %s elements, more than the %s bytes left in the file can hold",
                      what.c_str(), ull(count_at).c_str(), ull(a->size).c_str(), ull(left()).c_str());
  };
  if (a->type == ValueType::kString) {
    if (a->size > left() / 8) return too_many();
    a->strings.reserve(a->size);
    for (uint64_t k = 0; k < a->size; ++k) {
      // Inline length check: vocabularies have 150k+ strings.
      if (left() < 8 || load_u64(p_ + pos_) > left() - 8) {
        return read_string(what + "[" + ull(k) + "]").take_error();
      }
      const uint64_t len = load_u64(p_ + pos_);
      a->strings.emplace_back(reinterpret_cast<const char*>(p_ + pos_ + 8), len);
      pos_ += 8 + len;
    }
  } else if (a->type == ValueType::kArray) {
    if (a->size > left() / 12) return too_many();
    a->arrays.reserve(a->size);
    for (uint64_t k = 0; k < a->size; ++k) {
      FOLIO_ASSIGN_OR_RETURN(Value v, read_value(ValueType::kArray, what + "[" + ull(k) + "]", depth + 1));
      a->arrays.push_back(std::move(v));
    }
  } else {
    uint64_t nbytes;
    if (mul_overflows(a->size, value_type_size(a->type), &nbytes) || nbytes > left()) return too_many();
    a->data = p_ + pos_;
    pos_ += nbytes;
  }
  return std::shared_ptr<const Array>(std::move(a));
}

Result<void> Parser::read_header(File& f, uint64_t* n_tensors, uint64_t* n_kv) {
  if (size_ < 4) return make_error("not a GGUF file: only %s bytes long", ull(size_).c_str());
  char magic[5] = {};
  std::memcpy(magic, p_, 4);
  if (std::memcmp(magic, "GGUF", 4) != 0) {
    if (!std::memcmp(magic, "lmgg", 4) || !std::memcmp(magic, "fmgg", 4) || !std::memcmp(magic, "tjgg", 4) ||
        !std::memcmp(magic, "algg", 4)) {
      return make_error("legacy GGML/GGJT file, not GGUF; convert it to GGUF with a current llama.cpp converter");
    }
    static constexpr char kLfs[] = "version https://git-lfs";
    if (size_ >= sizeof kLfs - 1 && std::memcmp(p_, kLfs, sizeof kLfs - 1) == 0) {
      return make_error("this is a Git LFS pointer, not the model; fetch the real file (git lfs pull)");
    }
    // Text where a model should be: an HTML error page saved by a download,
    // or a link stored as a file.
    const size_t head = size_ < 64 ? size_ : 64;
    bool text = true;
    for (size_t i = 0; i < head && text; ++i) {
      text = (p_[i] >= 0x20 && p_[i] < 0x7f) || p_[i] == '\n' || p_[i] == '\r' || p_[i] == '\t';
    }
    if (text) {
      return make_error("not a GGUF file: it holds text (\"%s\"), perhaps an error page or a link saved in "
                        "its place; download the model again",
                        escape_for_display(std::string_view(reinterpret_cast<const char*>(p_), head), 40).c_str());
    }
    return make_error("not a GGUF file: magic at offset 0 is \"%s\", expected \"GGUF\"",
                      escape_for_display(std::string_view(magic, 4)).c_str());
  }
  pos_ = 4;
  FOLIO_ASSIGN_OR_RETURN(f.version_, read<uint32_t>("the header (version)", ""));
  if (f.version_ == 1) {
    return make_error("GGUF version 1 is not supported (only versions 2 and 3); convert the model again with a "
                      "current converter");
  }
  if ((f.version_ & 0xFFFF) == 0 && (f.version_ >> 16) != 0) {
    return make_error("GGUF version field is 0x%08x: a big-endian file, which is not supported", f.version_);
  }
  if (f.version_ == 0 || f.version_ > 3) {
    return make_error("unsupported GGUF version %u at offset 4 (supported: 2 and 3)", f.version_);
  }
  const uint64_t tensors_at = pos_;
  FOLIO_ASSIGN_OR_RETURN(*n_tensors, read<uint64_t>("the header (tensor count)", ""));
  const uint64_t kv_at = pos_;
  FOLIO_ASSIGN_OR_RETURN(*n_kv, read<uint64_t>("the header (metadata count)", ""));
  if (*n_kv > left() / kMinKvBytes) {
    return make_error("metadata count %s at offset %s is more than the %s bytes after the header could hold; "
                      "the file is damaged or truncated",
                      ull(*n_kv).c_str(), ull(kv_at).c_str(), ull(left()).c_str());
  }
  if (*n_tensors > left() / kMinTensorInfoBytes) {
    return make_error("tensor count %s at offset %s is more than the %s bytes after the header could hold; "
                      "the file is damaged or truncated",
                      ull(*n_tensors).c_str(), ull(tensors_at).c_str(), ull(left()).c_str());
  }
  return {};
}

Result<void> Parser::read_kvs(File& f, uint64_t n_kv) {
  f.kvs_.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    const uint64_t at = pos_;
    const std::string entry = "metadata entry #" + ull(k);
    FOLIO_ASSIGN_OR_RETURN(std::string_view key, read_string("the key of " + entry));
    if (key.empty()) return make_error("%s at offset %s has an empty key", entry.c_str(), ull(at).c_str());
    const std::string what = "metadata key '" + escape_for_display(key) + "'";
    if (auto it = f.kv_index_.find(key); it != f.kv_index_.end()) {
      return make_error("duplicate %s at offset %s (first at offset %s)", what.c_str(), ull(at).c_str(),
                        ull(f.kvs_[it->second].offset).c_str());
    }
    FOLIO_ASSIGN_OR_RETURN(ValueType type, read_value_type(what));
    FOLIO_ASSIGN_OR_RETURN(Value v, read_value(type, what, 0));
    f.kv_index_.emplace(key, f.kvs_.size());
    f.kvs_.push_back(KeyValue{key, std::move(v), at});
  }
  return {};
}

Result<void> Parser::read_alignment(File& f) {
  const Value* v = f.find("general.alignment");
  if (v == nullptr) return {};
  std::optional<int64_t> a = v->as_int();
  if (!a) {
    return make_error("metadata key 'general.alignment' has type %s, expected an unsigned integer",
                      value_type_name(v->type));
  }
  if (*a <= 0 || (*a & (*a - 1)) != 0 || *a > (1 << 30)) {
    return make_error("metadata key 'general.alignment' is %lld; it must be a power of two (default 32)",
                      static_cast<long long>(*a));
  }
  f.alignment_ = static_cast<uint64_t>(*a);
  return {};
}

Result<void> Parser::read_tensor_infos(File& f, uint64_t n_tensors) {
  f.tensors_.reserve(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorInfo t;
    t.info_offset = pos_;
    const std::string entry = "tensor info #" + ull(k);
    FOLIO_ASSIGN_OR_RETURN(t.name, read_string("the name of " + entry));
    const std::string where = strfmt("(info at offset %s)", ull(t.info_offset).c_str());
    if (t.name.empty()) return make_error("%s %s has an empty name", entry.c_str(), where.c_str());
    const std::string what = "tensor '" + escape_for_display(t.name) + "'";
    if (t.name.size() > kMaxTensorName) {
      return make_error("%s %s: name is %zu bytes long; GGUF allows at most %zu", what.c_str(), where.c_str(),
                        t.name.size(), kMaxTensorName);
    }
    if (auto it = f.tensor_index_.find(t.name); it != f.tensor_index_.end()) {
      return make_error("duplicate %s %s (first at offset %s)", what.c_str(), where.c_str(),
                        ull(f.tensors_[it->second].info_offset).c_str());
    }
    FOLIO_ASSIGN_OR_RETURN(t.n_dims, read<uint32_t>("the dimension count of ", what));
    if (t.n_dims == 0 || t.n_dims > kMaxDims) {
      return make_error("%s %s has %u dimensions (must be 1 to %u)", what.c_str(), where.c_str(), t.n_dims, kMaxDims);
    }
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < t.n_dims; ++d) {
      FOLIO_ASSIGN_OR_RETURN(uint64_t ne, read<uint64_t>("the dimensions of ", what));
      if (ne == 0) return make_error("%s %s: dimension %u is 0", what.c_str(), where.c_str(), d);
      if (ne > static_cast<uint64_t>(INT64_MAX) || mul_overflows(n_elements, ne, &n_elements) ||
          n_elements > static_cast<uint64_t>(INT64_MAX)) {
        return make_error("%s %s: dimension %u (%s) makes the element count overflow", what.c_str(), where.c_str(),
                          d, ull(ne).c_str());
      }
      t.ne[d] = static_cast<int64_t>(ne);
    }
    FOLIO_ASSIGN_OR_RETURN(uint32_t raw_type, read<uint32_t>("the type of ", what));
    const TypeTraits& tr = type_traits(raw_type);
    if (tr.removed != nullptr) {
      return make_error("%s %s has type %u, %s", what.c_str(), where.c_str(), raw_type, tr.removed);
    }
    if (tr.name == nullptr) {
      return make_error("%s %s has unknown type %u; the file may need a newer folio", what.c_str(), where.c_str(),
                        raw_type);
    }
    t.type = static_cast<TensorType>(raw_type);
    if (t.ne[0] % tr.block_size != 0) {
      return make_error("%s %s: row length %lld is not a multiple of the %s block size %lld", what.c_str(),
                        where.c_str(), static_cast<long long>(t.ne[0]), tr.name,
                        static_cast<long long>(tr.block_size));
    }
    t.nbytes = n_elements / static_cast<uint64_t>(tr.block_size) * tr.block_bytes;  // <= n_elements * 292: no overflow
    if (t.nbytes / tr.block_bytes != n_elements / static_cast<uint64_t>(tr.block_size)) {
      return make_error("%s %s: byte size overflows", what.c_str(), where.c_str());
    }
    FOLIO_ASSIGN_OR_RETURN(t.offset, read<uint64_t>("the data offset of ", what));
    if (t.offset % f.alignment_ != 0) {
      return make_error("%s %s: data offset %s is not a multiple of the alignment %s", what.c_str(), where.c_str(),
                        ull(t.offset).c_str(), ull(f.alignment_).c_str());
    }
    f.tensor_index_.emplace(t.name, f.tensors_.size());
    f.tensors_.push_back(t);
  }
  return {};
}

Result<void> Parser::check_tensor_data(File& f) {
  // The data section starts at the next multiple of the alignment. A file
  // with no tensors (a vocabulary-only GGUF) may end before it.
  uint64_t start;
  if (add_overflows(pos_, f.alignment_ - 1, &start)) return make_error("data section offset overflows");
  start -= start % f.alignment_;
  f.data_offset_ = start;
  if (f.tensors_.empty()) return {};
  if (start > size_) {
    return make_error("the data section would start at offset %s, past the end of the file (%s bytes); the file is "
                      "truncated: download it again",
                      ull(start).c_str(), ull(size_).c_str());
  }
  const uint64_t data_size = size_ - start;
  for (TensorInfo& t : f.tensors_) {
    uint64_t end;
    if (add_overflows(t.offset, t.nbytes, &end) || end > data_size) {
      return make_error("tensor '%s' (info at offset %s): data [%s, %s) of the data section runs past its end (%s "
                        "bytes); the file is truncated or damaged: download it again",
                        escape_for_display(t.name).c_str(), ull(t.info_offset).c_str(), ull(t.offset).c_str(),
                        add_overflows(t.offset, t.nbytes, &end) ? "overflow" : ull(end).c_str(),
                        ull(data_size).c_str());
    }
    t.data = p_ + start + t.offset;
  }
  std::vector<size_t> order(f.tensors_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return f.tensors_[a].offset < f.tensors_[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo& prev = f.tensors_[order[k - 1]];
    const TensorInfo& cur = f.tensors_[order[k]];
    if (cur.offset < prev.offset + prev.nbytes) {
      return make_error("tensor '%s' (data offset %s) overlaps tensor '%s' (data [%s, %s))",
                        escape_for_display(cur.name).c_str(), ull(cur.offset).c_str(),
                        escape_for_display(prev.name).c_str(), ull(prev.offset).c_str(),
                        ull(prev.offset + prev.nbytes).c_str());
    }
  }
  return {};
}

Result<File> Parser::run() {
  File f;
  f.size_ = size_;
  uint64_t n_tensors = 0, n_kv = 0;
  FOLIO_TRY(read_header(f, &n_tensors, &n_kv));
  FOLIO_TRY(read_kvs(f, n_kv));
  FOLIO_TRY(read_alignment(f));
  FOLIO_TRY(read_tensor_infos(f, n_tensors));
  FOLIO_TRY(check_tensor_data(f));
  return f;
}

Result<File> File::parse(std::span<const uint8_t> bytes) { return Parser(bytes).run(); }

const Value* File::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

std::optional<int64_t> File::get_int(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_int() : std::nullopt;
}

std::optional<double> File::get_number(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_number() : std::nullopt;
}

std::optional<std::string_view> File::get_string(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_string() : std::nullopt;
}

std::optional<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_bool() : std::nullopt;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace folio::gguf
