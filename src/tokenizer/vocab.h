// A tokenizer vocabulary read from GGUF metadata (tokenizer.ggml.*), with
// llama.cpp's defaults per tokenizer model and pre-tokenizer so the same
// file tokenizes the same way in both.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "gguf/reader.h"

namespace folio {

enum class VocabType { kSpm, kBpe, kWpm };

// Token attributes (bit flags; ref: llama.h llama_token_attr).
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1 << 0,
  kAttrUnused = 1 << 1,
  kAttrNormal = 1 << 2,
  kAttrControl = 1 << 3,
  kAttrUserDefined = 1 << 4,
  kAttrByte = 1 << 5,
  kAttrLstrip = 1 << 7,
  kAttrRstrip = 1 << 8,
};

struct Vocab {
  VocabType type = VocabType::kSpm;
  std::string model;                    // tokenizer.ggml.model
  std::string pre;                      // tokenizer.ggml.pre
  std::vector<std::string> text;        // by id
  std::vector<float> score;
  std::vector<uint32_t> attr;
  std::unordered_map<std::string_view, int32_t> id_of;  // views into text
  size_t max_token_len = 0;

  int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, sep = -1, pad = -1, mask = -1;
  bool add_bos = false, add_eos = false;
  bool add_space_prefix = false;
  bool clean_spaces = false;
  bool ignore_merges = false;
  std::set<int32_t> eog;                // end-of-generation tokens

  // Tokens matched whole in text before tokenizing (control, user-defined,
  // unknown), longest first.
  std::vector<int32_t> special;

  // BPE
  std::unordered_map<std::string, int32_t> merge_rank;  // "left right" -> rank
  std::vector<std::string> regexes;     // the pre-tokenizer, applied in order

  int64_t size() const { return static_cast<int64_t>(text.size()); }
  int32_t find(std::string_view s) const {
    auto it = id_of.find(s);
    return it == id_of.end() ? -1 : it->second;
  }
};

// Errors: no or unknown tokenizer model ("t5", "rwkv" not supported yet),
// unknown pre-tokenizer, malformed arrays, duplicate tokens.
Result<Vocab> load_vocab(const gguf::File& meta);

}  // namespace folio
