#include "gguf/value.h"

#include <cstring>
#include <limits>

#include "base/result.h"
#include "base/strings.h"

namespace folio::gguf {

const char* value_type_name(ValueType t) {
  static const char* const names[kValueTypeCount] = {"uint8",  "int8",   "uint16", "int16",  "uint32",
                                                     "int32",  "float32", "bool",  "string", "array",
                                                     "uint64", "int64",  "float64"};
  const auto i = static_cast<uint32_t>(t);
  return i < kValueTypeCount ? names[i] : "unknown";
}

size_t value_type_size(ValueType t) {
  switch (t) {
    case ValueType::kU8: case ValueType::kI8: case ValueType::kBool: return 1;
    case ValueType::kU16: case ValueType::kI16: return 2;
    case ValueType::kU32: case ValueType::kI32: case ValueType::kF32: return 4;
    case ValueType::kU64: case ValueType::kI64: case ValueType::kF64: return 8;
    case ValueType::kString: case ValueType::kArray: return 0;
  }
  return 0;
}

bool is_integer_type(ValueType t) {
  switch (t) {
    case ValueType::kU8: case ValueType::kI8: case ValueType::kU16: case ValueType::kI16:
    case ValueType::kU32: case ValueType::kI32: case ValueType::kU64: case ValueType::kI64:
      return true;
    default:
      return false;
  }
}

namespace {
template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
}  // namespace

double Array::number_at(uint64_t idx) const {
  const uint8_t* p = data + idx * value_type_size(type);
  switch (type) {
    case ValueType::kU8: return load<uint8_t>(p);
    case ValueType::kI8: return load<int8_t>(p);
    case ValueType::kU16: return load<uint16_t>(p);
    case ValueType::kI16: return load<int16_t>(p);
    case ValueType::kU32: return load<uint32_t>(p);
    case ValueType::kI32: return load<int32_t>(p);
    case ValueType::kF32: return load<float>(p);
    case ValueType::kBool: return load<uint8_t>(p) != 0;
    case ValueType::kU64: return static_cast<double>(load<uint64_t>(p));
    case ValueType::kI64: return static_cast<double>(load<int64_t>(p));
    case ValueType::kF64: return load<double>(p);
    default: FOLIO_CHECK(false && "not a numeric array");
  }
  return 0;
}

int64_t Array::int_at(uint64_t idx) const {
  const uint8_t* p = data + idx * value_type_size(type);
  switch (type) {
    case ValueType::kU64: return static_cast<int64_t>(load<uint64_t>(p));
    case ValueType::kI64: return load<int64_t>(p);
    default: return static_cast<int64_t>(number_at(idx));
  }
}

std::optional<int64_t> Value::as_int() const {
  switch (type) {
    case ValueType::kU8: case ValueType::kU16: case ValueType::kU32: case ValueType::kU64:
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(u);
    case ValueType::kI8: case ValueType::kI16: case ValueType::kI32: case ValueType::kI64:
      return i;
    default:
      return std::nullopt;
  }
}

std::optional<double> Value::as_number() const {
  if (type == ValueType::kF32 || type == ValueType::kF64) return f;
  if (type == ValueType::kU64) return static_cast<double>(u);
  if (auto v = as_int()) return static_cast<double>(*v);
  return std::nullopt;
}

std::optional<bool> Value::as_bool() const {
  if (type == ValueType::kBool) return u != 0;
  return std::nullopt;
}

std::optional<std::string_view> Value::as_string() const {
  if (type == ValueType::kString) return str;
  return std::nullopt;
}

namespace {
std::string number_string(ValueType t, double f, uint64_t u, int64_t i) {
  switch (t) {
    case ValueType::kF32: case ValueType::kF64: return strfmt("%g", f);
    case ValueType::kBool: return u ? "true" : "false";
    case ValueType::kU8: case ValueType::kU16: case ValueType::kU32: case ValueType::kU64:
      return strfmt("%llu", static_cast<unsigned long long>(u));
    default: return strfmt("%lld", static_cast<long long>(i));
  }
}
}  // namespace

std::string Value::to_display(size_t max_items) const {
  if (type == ValueType::kString) return "\"" + escape_for_display(str) + "\"";
  if (type != ValueType::kArray) return number_string(type, f, u, i);
  const Array& a = *array;
  std::string out = "[";
  const uint64_t shown = a.size < max_items ? a.size : max_items;
  for (uint64_t k = 0; k < shown; ++k) {
    if (k) out += ", ";
    if (a.type == ValueType::kString) {
      out += "\"" + escape_for_display(a.strings[k], 40) + "\"";
    } else if (a.type == ValueType::kArray) {
      out += a.arrays[k].to_display(max_items);
    } else if (a.type == ValueType::kF32 || a.type == ValueType::kF64) {
      out += strfmt("%g", a.number_at(k));
    } else if (a.type == ValueType::kBool) {
      out += a.int_at(k) ? "true" : "false";
    } else if (a.type == ValueType::kU64) {
      out += strfmt("%llu", static_cast<unsigned long long>(a.int_at(k)));
    } else {
      out += strfmt("%lld", static_cast<long long>(a.int_at(k)));
    }
  }
  if (shown < a.size) out += strfmt(", ... (%llu items)", static_cast<unsigned long long>(a.size));
  return out + "]";
}

}  // namespace folio::gguf
