#include "engine/options.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "base/strings.h"

namespace folio {

namespace {

const std::vector<OptionInfo> kOptions = {
    {"num_ctx", OptionType::kInt, true},          {"num_batch", OptionType::kInt, true},
    {"num_thread", OptionType::kInt, true},       {"use_mmap", OptionType::kBool, true},
    {"use_mlock", OptionType::kBool, true},       {"num_keep", OptionType::kInt, false},
    {"seed", OptionType::kInt, false},            {"num_predict", OptionType::kInt, false},
    {"top_k", OptionType::kInt, false},           {"top_p", OptionType::kFloat, false},
    {"min_p", OptionType::kFloat, false},         {"typical_p", OptionType::kFloat, false},
    {"repeat_last_n", OptionType::kInt, false},   {"temperature", OptionType::kFloat, false},
    {"repeat_penalty", OptionType::kFloat, false}, {"presence_penalty", OptionType::kFloat, false},
    {"frequency_penalty", OptionType::kFloat, false}, {"stop", OptionType::kStringList, false},
    // Accepted for Ollama compatibility and ignored: folio runs on the CPU.
    {"num_gpu", OptionType::kInt, false},         {"main_gpu", OptionType::kInt, false},
};

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

Result<int64_t> parse_int(std::string_view name, std::string_view v) {
  const std::string s(v);
  char* end = nullptr;
  errno = 0;
  const long long r = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE) {
    return make_error("option %s expects an integer, got '%s'", std::string(name).c_str(), s.c_str());
  }
  return static_cast<int64_t>(r);
}

Result<float> parse_float(std::string_view name, std::string_view v) {
  const std::string s(v);
  char* end = nullptr;
  const float r = std::strtof(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(r)) {
    return make_error("option %s expects a number, got '%s'", std::string(name).c_str(), s.c_str());
  }
  return r;
}

Result<bool> parse_bool(std::string_view name, std::string_view v) {
  const std::string s = to_lower(v);
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  return make_error("option %s expects true or false, got '%s'", std::string(name).c_str(), std::string(v).c_str());
}

Result<void> at_least(std::string_view name, double v, double lo) {
  if (v < lo) return make_error("option %s must be at least %g, got %g", std::string(name).c_str(), lo, v);
  return {};
}

Result<void> in_range(std::string_view name, int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi) {
    return make_error("option %s must be between %lld and %lld, got %lld", std::string(name).c_str(),
                      static_cast<long long>(lo), static_cast<long long>(hi), static_cast<long long>(v));
  }
  return {};
}

}  // namespace

const std::vector<OptionInfo>& option_table() { return kOptions; }

const OptionInfo* find_option(std::string_view name) {
  for (const OptionInfo& o : kOptions) {
    if (name == o.name) return &o;
  }
  return nullptr;
}

Result<void> set_option(Options& o, std::string_view name, std::string_view value) {
  const OptionInfo* info = find_option(name);
  if (info == nullptr) {
    const OptionInfo* best = &kOptions[0];
    for (const OptionInfo& k : kOptions) {
      if (edit_distance(name, k.name) < edit_distance(name, best->name)) best = &k;
    }
    return make_error("unknown option '%s' (did you mean %s?)", std::string(name).c_str(), best->name);
  }
  const std::string n(name);
  if (info->type == OptionType::kInt) {
    FOLIO_ASSIGN_OR_RETURN(int64_t v, parse_int(name, value));
    if (n == "num_ctx") { FOLIO_TRY(in_range(name, v, 1, kMaxNumCtx)); o.num_ctx = v; }
    else if (n == "num_batch") { FOLIO_TRY(in_range(name, v, 1, int64_t{1} << 30)); o.num_batch = v; }
    else if (n == "num_thread") { FOLIO_TRY(in_range(name, v, 0, 1024)); o.num_thread = v; }
    else if (n == "num_keep") o.num_keep = v;
    else if (n == "seed") o.seed = v;
    else if (n == "num_predict") { FOLIO_TRY(in_range(name, v, -2, kMaxNumCtx)); o.num_predict = v; }
    else if (n == "top_k") o.top_k = v;
    else if (n == "repeat_last_n") { FOLIO_TRY(at_least(name, double(v), -1)); o.repeat_last_n = v; }
  } else if (info->type == OptionType::kFloat) {
    FOLIO_ASSIGN_OR_RETURN(float v, parse_float(name, value));
    if (n == "temperature") { FOLIO_TRY(at_least(name, v, 0)); o.temperature = v; }
    else if (n == "top_p") o.top_p = v;
    else if (n == "min_p") o.min_p = v;
    else if (n == "typical_p") o.typical_p = v;
    else if (n == "repeat_penalty") o.repeat_penalty = v;
    else if (n == "presence_penalty") o.presence_penalty = v;
    else if (n == "frequency_penalty") o.frequency_penalty = v;
  } else if (info->type == OptionType::kBool) {
    FOLIO_ASSIGN_OR_RETURN(bool v, parse_bool(name, value));
    if (n == "use_mmap") o.use_mmap = v;
    else if (n == "use_mlock") o.use_mlock = v;
  } else {
    o.stop.emplace_back(value);
  }
  return {};
}

Result<void> set_option_assignment(Options& o, std::string_view assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return make_error("expected NAME=VALUE, got '%s'", std::string(assignment).c_str());
  }
  return set_option(o, assignment.substr(0, eq), assignment.substr(eq + 1));
}

}  // namespace folio
