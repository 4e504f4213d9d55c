// GGUF metadata values (ref: GGUF spec, gguf.md "Metadata value types").
// Values read from a file are views into it: strings and numeric arrays
// are not copied, so they live as long as the bytes they were parsed from.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace folio::gguf {

enum class ValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};
inline constexpr uint32_t kValueTypeCount = 13;

// "uint32", "string", ... as the GGUF spec names them.
const char* value_type_name(ValueType t);
// Bytes of one scalar of type t; 0 for string and array.
size_t value_type_size(ValueType t);
bool is_integer_type(ValueType t);

struct Value;

// An array: numeric and bool elements stay packed in the file (data);
// strings and nested arrays are listed.
struct Array {
  ValueType type = ValueType::kU8;  // element type
  uint64_t size = 0;
  const uint8_t* data = nullptr;          // numeric/bool: size * value_type_size(type) bytes, little-endian
  std::vector<std::string_view> strings;  // type == kString
  std::vector<Value> arrays;              // type == kArray

  // Element i of a numeric/bool array converted to double / int64.
  double number_at(uint64_t i) const;
  int64_t int_at(uint64_t i) const;
};

struct Value {
  ValueType type = ValueType::kU8;
  uint64_t u = 0;         // unsigned integers and bool (0/1)
  int64_t i = 0;          // signed integers
  double f = 0;           // f32/f64
  std::string_view str;   // kString
  std::shared_ptr<const Array> array;  // kArray

  // Any integer type that fits; nullopt otherwise.
  std::optional<int64_t> as_int() const;
  // f32/f64 or any integer type.
  std::optional<double> as_number() const;
  std::optional<bool> as_bool() const;
  std::optional<std::string_view> as_string() const;
  const Array* as_array() const { return type == ValueType::kArray ? array.get() : nullptr; }

  // One-line rendering for `show --verbose`: numbers, quoted strings, and
  // arrays shortened to their first max_items elements.
  std::string to_display(size_t max_items = 8) const;
};

}  // namespace folio::gguf
