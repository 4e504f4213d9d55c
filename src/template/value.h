// The data a Go text/template sees: Go values as the template package
// reflects over them. Maps iterate in sorted key order; structs keep field
// order and have JSON names (encoding/json tags); a value may carry the
// result of its type's String() and MarshalJSON() methods, which is how
// Ollama's template types print as JSON.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace folio::tmpl {

struct Entry;

class Value {
 public:
  enum class Kind { kNil, kBool, kInt, kFloat, kString, kList, kMap, kStruct };

  Value() = default;  // nil (an empty interface)
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double f);
  static Value string(std::string s);
  // A nil slice (prints [], JSON null, false) unless items are given.
  static Value nil_list();
  static Value list(std::vector<Value> items);
  // A map: keys sorted, as Go's template and JSON packages order them.
  static Value map(std::vector<std::pair<std::string, Value>> items);
  static Value nil_map();
  // A struct: fields in declaration order.
  static Value structure(std::vector<Entry> fields);

  // Go's String() / MarshalJSON() results for this value's type.
  Value with_string(std::string s) const;
  Value with_json(std::string s) const;

  Kind kind() const { return kind_; }
  bool is_nil() const;  // nil interface, nil slice or nil map
  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  double as_float() const { return f_; }
  const std::string& as_string() const { return s_; }
  const std::vector<Value>& items() const;
  const std::vector<Entry>& entries() const;

  // .Name on a map or struct. found is false when a struct has no such field.
  Value field(std::string_view name, bool* found) const;
  // Go's truth: false, 0, "", nil and empty collections are false.
  bool truthy() const;
  size_t length() const;  // len(): strings in bytes

  // fmt.Sprint of the value as the template package prints it.
  std::string print() const;
  // encoding/json's Marshal (HTML-safe escaping, no trailing newline).
  std::string json() const;

 private:
  Kind kind_ = Kind::kNil;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<const std::vector<Value>> list_;
  std::shared_ptr<const std::vector<Entry>> entries_;
  std::shared_ptr<const std::string> stringer_, marshaler_;
};

struct Entry {
  std::string name;       // map key, or Go field name
  std::string json_name;  // structs: the JSON key ("" = name; "-" = never)
  bool omitempty = false;
  Value value;
};

// A Go float as fmt's %v prints it (shortest digits; exponent form below
// 1e-4 or from 1e6) and as encoding/json writes it (exponent below 1e-6 or
// from 1e21, "e-07" written "e-7").
std::string format_float_v(double f);
std::string format_float_json(double f);
// A JSON string literal as encoding/json writes it: <, >, & and U+2028/9
// escaped, invalid UTF-8 replaced by U+FFFD.
std::string json_quote(std::string_view s);

// Any JSON text as a Value of Go's decoded types (map[string]any, []any,
// float64, string, bool, nil), as Ollama holds tool arguments.
Result<Value> value_from_json(std::string_view json);

}  // namespace folio::tmpl
