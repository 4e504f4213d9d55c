#include "template/value.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace folio::tmpl {

namespace {

const std::vector<Value> kNoItems;
const std::vector<Entry> kNoEntries;

// Shortest round-trip digits of f and its decimal exponent: f = 0.d1d2... * 10^exp10.
void shortest_digits(double f, std::string* digits, int* exp10) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string s(buf, r.ptr);  // d.ddde[+-]XX
  const size_t e = s.find('e');
  int exp = std::atoi(s.c_str() + e + 1);
  std::string d;
  for (size_t i = 0; i < e; ++i) {
    if (s[i] != '.' && s[i] != '-') d += s[i];
  }
  *digits = d;
  *exp10 = exp + 1;
}

// Formats the shortest digits either plainly or as d.ddde±XX.
std::string format_float(double f, bool exponent, int min_exp_digits) {
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  if (std::isnan(f)) return "NaN";  // as Go prints them
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  std::string digits;
  int exp10 = 0;
  shortest_digits(std::fabs(f), &digits, &exp10);
  std::string out = std::signbit(f) ? "-" : "";
  if (exponent) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    const int e = exp10 - 1;
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%0*d", e < 0 ? '-' : '+', min_exp_digits, std::abs(e));
    return out + eb;
  }
  if (exp10 <= 0) return out + "0." + std::string(static_cast<size_t>(-exp10), '0') + digits;
  if (static_cast<size_t>(exp10) >= digits.size()) {
    return out + digits + std::string(static_cast<size_t>(exp10) - digits.size(), '0');
  }
  return out + digits.substr(0, static_cast<size_t>(exp10)) + "." + digits.substr(static_cast<size_t>(exp10));
}

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 if invalid.
size_t utf8_len(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) {
    const auto d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

bool empty_for_json(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNil: return true;
    case Value::Kind::kBool: return !v.as_bool();
    case Value::Kind::kInt: return v.as_int() == 0;
    case Value::Kind::kFloat: return v.as_float() == 0;
    case Value::Kind::kString: return v.as_string().empty();
    case Value::Kind::kList: return v.items().empty();
    case Value::Kind::kMap: return v.entries().empty();
    case Value::Kind::kStruct: return false;
  }
  return false;
}

Value from_json(const nlohmann::json& j) {
  if (j.is_null()) return Value();
  if (j.is_boolean()) return Value::boolean(j.get<bool>());
  if (j.is_number()) return Value::number(j.get<double>());  // Go decodes numbers as float64
  if (j.is_string()) return Value::string(j.get<std::string>());
  if (j.is_array()) {
    std::vector<Value> items;
    for (const auto& x : j) items.push_back(from_json(x));
    return Value::list(std::move(items));
  }
  std::vector<std::pair<std::string, Value>> items;
  for (const auto& [k, v] : j.items()) items.emplace_back(k, from_json(v));
  return Value::map(std::move(items));
}

}  // namespace

std::string format_float_v(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  if (f == 0) return format_float(f, false, 2);
  std::string digits;
  int exp10 = 0;
  shortest_digits(std::fabs(f), &digits, &exp10);
  // strconv's 'g' with the shortest digits decides at precision 6.
  const int x = exp10 - 1;
  return format_float(f, x < -4 || x >= 6, 2);
}

std::string format_float_json(double f) {
  if (f == 0) return "0";
  const double a = std::fabs(f);
  return format_float(f, a < 1e-6 || a >= 1e21, 1);
}

std::string json_quote(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        (out += '\\') += static_cast<char>(c);
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const size_t n = utf8_len(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (n == 3 && c == 0xe2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xa8 || static_cast<unsigned char>(s[i + 2]) == 0xa9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xa8 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out + "\"";
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}

Value Value::number(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.f_ = f;
  return v;
}

Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.s_ = std::move(s);
  return v;
}

Value Value::nil_list() {
  Value v;
  v.kind_ = Kind::kList;
  return v;
}

Value Value::list(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kList;
  v.list_ = std::make_shared<const std::vector<Value>>(std::move(items));
  return v;
}

Value Value::map(std::vector<std::pair<std::string, Value>> items) {
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Entry> entries;
  for (auto& [k, x] : items) entries.push_back({k, "", false, std::move(x)});
  Value v;
  v.kind_ = Kind::kMap;
  v.entries_ = std::make_shared<const std::vector<Entry>>(std::move(entries));
  return v;
}

Value Value::nil_map() {
  Value v;
  v.kind_ = Kind::kMap;
  return v;
}

Value Value::structure(std::vector<Entry> fields) {
  Value v;
  v.kind_ = Kind::kStruct;
  v.entries_ = std::make_shared<const std::vector<Entry>>(std::move(fields));
  return v;
}

Value Value::with_string(std::string s) const {
  Value v = *this;
  v.stringer_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

Value Value::with_json(std::string s) const {
  Value v = *this;
  v.marshaler_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

bool Value::is_nil() const {
  return kind_ == Kind::kNil || (kind_ == Kind::kList && !list_) || (kind_ == Kind::kMap && !entries_);
}

const std::vector<Value>& Value::items() const { return list_ ? *list_ : kNoItems; }

const std::vector<Entry>& Value::entries() const { return entries_ ? *entries_ : kNoEntries; }

Value Value::field(std::string_view name, bool* found) const {
  *found = kind_ == Kind::kMap;  // a missing map key is the zero value
  for (const Entry& e : entries()) {
    if (e.name == name) {
      *found = true;
      return e.value;
    }
  }
  return Value();
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kNil: return false;
    case Kind::kBool: return b_;
    case Kind::kInt: return i_ != 0;
    case Kind::kFloat: return f_ != 0;
    case Kind::kString: return !s_.empty();
    case Kind::kList: return !items().empty();
    case Kind::kMap: return !entries().empty();
    case Kind::kStruct: return true;
  }
  return false;
}

size_t Value::length() const {
  switch (kind_) {
    case Kind::kString: return s_.size();
    case Kind::kList: return items().size();
    case Kind::kMap: return entries().size();
    default: return 0;
  }
}

std::string Value::print() const {
  if (stringer_) return *stringer_;
  switch (kind_) {
    case Kind::kNil: return "<no value>";
    case Kind::kBool: return b_ ? "true" : "false";
    case Kind::kInt: return std::to_string(i_);
    case Kind::kFloat: return format_float_v(f_);
    case Kind::kString: return s_;
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < items().size(); ++i) {
        const Value& x = items()[i];
        out += (i ? " " : "") + (x.kind() == Kind::kNil ? std::string("<nil>") : x.print());
      }
      return out + "]";
    }
    case Kind::kMap: {
      std::string out = "map[";
      for (size_t i = 0; i < entries().size(); ++i) {
        const Entry& e = entries()[i];
        out += (i ? " " : "") + e.name + ":" + (e.value.kind() == Kind::kNil ? std::string("<nil>") : e.value.print());
      }
      return out + "]";
    }
    case Kind::kStruct: {
      std::string out = "{";
      for (size_t i = 0; i < entries().size(); ++i) {
        const Value& x = entries()[i].value;
        out += (i ? " " : "") + (x.kind() == Kind::kNil ? std::string("<nil>") : x.print());
      }
      return out + "}";
    }
  }
  return "";
}

std::string Value::json() const {
  if (marshaler_) return *marshaler_;
  switch (kind_) {
    case Kind::kNil: return "null";
    case Kind::kBool: return b_ ? "true" : "false";
    case Kind::kInt: return std::to_string(i_);
    case Kind::kFloat: return format_float_json(f_);
    case Kind::kString: return json_quote(s_);
    case Kind::kList: {
      if (!list_) return "null";
      std::string out = "[";
      for (size_t i = 0; i < list_->size(); ++i) out += (i ? "," : "") + (*list_)[i].json();
      return out + "]";
    }
    case Kind::kMap:
    case Kind::kStruct: {
      if (!entries_) return "null";
      std::string out = "{";
      bool first = true;
      for (const Entry& e : *entries_) {
        const std::string& key = e.json_name.empty() ? e.name : e.json_name;
        if (key == "-" || (e.omitempty && empty_for_json(e.value))) continue;
        out += (first ? "" : ",") + json_quote(key) + ":" + e.value.json();
        first = false;
      }
      return out + "}";
    }
  }
  return "null";
}

Result<Value> value_from_json(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error("not valid JSON");
  return from_json(j);
}

}  // namespace folio::tmpl
