// Runner and sampling options under Ollama's names, types and defaults
// (ref: ollama api/types.go Options/Runner, DefaultOptions). One table
// serves the CLI (--param NAME=VALUE), the API's "options" and Modelfile
// PARAMETER lines, so names and type checks agree everywhere.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace folio {

// The largest num_ctx (and num_predict) accepted: 16M tokens, past every
// model's trained context; a larger value is an error naming the range.
inline constexpr int64_t kMaxNumCtx = int64_t{1} << 24;

struct Options {
  // Sampling
  int64_t seed = -1;              // -1: a random seed per request
  int64_t num_predict = -1;       // -1: until end of sequence or context; -2: fill the context
  int64_t num_keep = 4;
  int64_t top_k = 40;             // <= 0: all tokens
  float top_p = 0.9f;
  float min_p = 0.0f;
  float typical_p = 1.0f;
  int64_t repeat_last_n = 64;     // 0: off, -1: whole context
  float temperature = 0.8f;       // 0: greedy
  float repeat_penalty = 1.1f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::vector<std::string> stop;
  // Runner
  int64_t num_ctx = 4096;
  int64_t num_batch = 512;
  int64_t num_thread = 0;         // 0: physical cores
  std::optional<bool> use_mmap;   // unset: automatic
  bool use_mlock = false;
  // The request's `format` ("json" or a JSON schema): output constrained to
  // it. Not an option by name; set by the API.
  std::shared_ptr<const class JsonGrammar> format;
  // The request's logprobs / top_logprobs (0..20): set by the API.
  bool logprobs = false;
  int64_t top_logprobs = 0;
};

enum class OptionType { kInt, kFloat, kBool, kStringList };

struct OptionInfo {
  const char* name;
  OptionType type;
  bool load;  // changes how the model is loaded (a reload when it differs)
};

// The known options, in documentation order.
const std::vector<OptionInfo>& option_table();
const OptionInfo* find_option(std::string_view name);

// Sets one option from text ("0.7", "true", "42"). Repeating "stop" adds to
// the list. Errors: unknown name (names the closest known one), value of
// the wrong type or out of range.
Result<void> set_option(Options& o, std::string_view name, std::string_view value);

// Parses "NAME=VALUE" and applies it.
Result<void> set_option_assignment(Options& o, std::string_view assignment);

}  // namespace folio
