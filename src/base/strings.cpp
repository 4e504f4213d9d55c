#include "base/strings.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "base/result.h"

namespace folio {

namespace {
std::string trim_decimals(double v, int decimals, const char* suffix) {
  if (v == std::floor(v)) decimals = 0;
  return strfmt("%.*f%s", decimals, v, suffix);
}
}  // namespace

std::string human_count(uint64_t n) {
  const double v = static_cast<double>(n);
  if (n >= 1000000000ull) return trim_decimals(v / 1e9, 1, "B");
  if (n >= 1000000ull) return trim_decimals(v / 1e6, 2, "M");
  if (n >= 1000ull) return strfmt("%.0fK", v / 1e3);
  return strfmt("%llu", static_cast<unsigned long long>(n));
}

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000.0 && u < 5) {
    v /= 1000.0;
    ++u;
  }
  if (u == 0) return strfmt("%llu B", static_cast<unsigned long long>(n));
  if (v >= 10.0) return strfmt("%d %s", static_cast<int>(v), units[u]);
  return strfmt("%.1f %s", v, units[u]);
}

std::optional<uint64_t> parse_size(std::string_view s) {
  std::string str(s);
  if (str.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(str.c_str(), &end);
  if (end == str.c_str() || !(v >= 0) || !std::isfinite(v)) return std::nullopt;
  std::string unit = to_lower(std::string_view(end));
  double mult = 1;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb") mult = 1e3;
  else if (unit == "m" || unit == "mb") mult = 1e6;
  else if (unit == "g" || unit == "gb") mult = 1e9;
  else if (unit == "t" || unit == "tb") mult = 1e12;
  else if (unit == "kib") mult = 1024.0;
  else if (unit == "mib") mult = 1024.0 * 1024;
  else if (unit == "gib") mult = 1024.0 * 1024 * 1024;
  else if (unit == "tib") mult = 1024.0 * 1024 * 1024 * 1024;
  else return std::nullopt;
  double bytes = v * mult;
  if (bytes > 1.8e19) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

std::string trim_space(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  size_t b = 0, e = s.size();
  while (b < e && space(s[b])) ++b;
  while (e > b && space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string escape_for_display(std::string_view s, size_t max_len) {
  std::string out;
  for (unsigned char c : s) {
    if (out.size() >= max_len) {
      out += "...";
      break;
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7f) out += strfmt("\\x%02x", c);
        else out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace folio
