#include "tokenizer/vocab.h"

#include <algorithm>
#include <cctype>

#include "base/log.h"
#include "base/strings.h"
#include "tokenizer/pretokenizers.h"

namespace folio {

namespace {

// GGUF token_type values -> attributes (ref: llama.h llama_token_type).
uint32_t attr_of_type(int64_t t) {
  switch (t) {
    case 1: return kAttrNormal;
    case 2: return kAttrUnknown;
    case 3: return kAttrControl;
    case 4: return kAttrUserDefined;
    case 5: return kAttrUnused;
    case 6: return kAttrByte;
    default: return kAttrUndefined;
  }
}

Result<const gguf::Array*> array_of(const gguf::File& meta, const char* key, gguf::ValueType elem, bool required) {
  const gguf::Value* v = meta.find(key);
  if (v == nullptr) {
    if (required) return make_error("model metadata lacks %s", key);
    return static_cast<const gguf::Array*>(nullptr);
  }
  const gguf::Array* a = v->as_array();
  if (a == nullptr || (a->type != elem && !(gguf::is_integer_type(a->type) && gguf::is_integer_type(elem)))) {
    return make_error("model metadata %s must be an array of %s", key, gguf::value_type_name(elem));
  }
  return a;
}

void read_id(const gguf::File& meta, const char* key, int64_t n_vocab, int32_t* id) {
  if (auto v = meta.get_int(key)) {
    if (*v >= 0 && *v < n_vocab) *id = static_cast<int32_t>(*v);
    else FOLIO_LOG_DEBUG("ignoring %s = %lld: not a token id", key, static_cast<long long>(*v));
  }
}

// Special tokens some vocabularies name only by text (ref: llama.cpp
// llama_vocab::impl::load end-of-turn detection).
void detect_eog(Vocab& v) {
  static const char* const kEot[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
                                     "<\xEF\xBD\x9C\x65nd\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"};
  if (v.eot < 0) {
    for (const char* t : kEot) {
      if (int32_t id = v.find(t); id >= 0) {
        v.eot = id;
        break;
      }
    }
  }
  if (v.eom < 0) v.eom = v.find("<|eom_id|>");
  static const char* const kEog[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                     "<|eom_id|>", "<EOT>"};
  for (const char* t : kEog) {
    if (int32_t id = v.find(t); id >= 0) {
      v.eog.insert(id);
      if (!(v.attr[id] & kAttrControl)) v.attr[id] = kAttrControl;
    }
  }
  for (int32_t id : {v.eos, v.eot, v.eom}) {
    if (id >= 0) v.eog.insert(id);
  }
  if (v.eot >= 0 && !(v.attr[v.eot] & kAttrControl)) v.attr[v.eot] = kAttrControl;
}

}  // namespace

Result<Vocab> load_vocab(const gguf::File& meta) {
  Vocab v;
  auto model = meta.get_string("tokenizer.ggml.model");
  if (!model) return make_error("model metadata lacks tokenizer.ggml.model: the file has no tokenizer");
  v.model = std::string(*model);
  v.pre = std::string(meta.get_string("tokenizer.ggml.pre").value_or(""));
  PreTokenizer pre;
  if (v.model == "llama") {
    v.type = VocabType::kSpm;
    v.bos = 1, v.eos = 2, v.unk = 0;
    v.add_bos = true;
    v.add_space_prefix = true;
  } else if (v.model == "gpt2") {
    v.type = VocabType::kBpe;
    v.bos = 11, v.eos = 11;
    FOLIO_ASSIGN_OR_RETURN(pre, find_pretokenizer(v.pre.empty() ? "default" : v.pre));
    v.clean_spaces = pre.clean_spaces;
    v.ignore_merges = pre.ignore_merges;
    v.add_bos = pre.add_bos;
    v.regexes = pre.regexes;
  } else if (v.model == "bert") {
    v.type = VocabType::kWpm;
    v.bos = 101, v.unk = 100, v.sep = 102, v.pad = 0, v.mask = 103;
    v.add_bos = true;
    v.clean_spaces = true;
  } else {
    return make_error("tokenizer type '%s' is not supported (folio supports llama/SentencePiece, gpt2/BPE, bert/WordPiece)",
                      escape_for_display(v.model).c_str());
  }
  if (auto b = meta.get_bool("tokenizer.ggml.add_space_prefix")) v.add_space_prefix = *b;

  FOLIO_ASSIGN_OR_RETURN(const gguf::Array* tokens, array_of(meta, "tokenizer.ggml.tokens", gguf::ValueType::kString, true));
  FOLIO_ASSIGN_OR_RETURN(const gguf::Array* scores, array_of(meta, "tokenizer.ggml.scores", gguf::ValueType::kF32, false));
  FOLIO_ASSIGN_OR_RETURN(const gguf::Array* types, array_of(meta, "tokenizer.ggml.token_type", gguf::ValueType::kI32, false));
  const int64_t n = static_cast<int64_t>(tokens->size);
  if (n == 0) return make_error("the vocabulary (tokenizer.ggml.tokens) is empty");
  if ((scores && static_cast<int64_t>(scores->size) != n) || (types && static_cast<int64_t>(types->size) != n)) {
    return make_error("tokenizer.ggml.scores/token_type have a different length than tokenizer.ggml.tokens (%lld)",
                      static_cast<long long>(n));
  }
  v.text.resize(static_cast<size_t>(n));
  v.score.resize(static_cast<size_t>(n));
  v.attr.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    std::string t(tokens->strings[i]);
    if (t.empty()) t = "[EMPTY_" + std::to_string(i) + "]";
    v.text[i] = std::move(t);
    v.score[i] = scores ? static_cast<float>(scores->number_at(i)) : 0.f;
    v.attr[i] = types ? attr_of_type(types->int_at(i)) : kAttrNormal;
    v.max_token_len = std::max(v.max_token_len, v.text[i].size());
  }
  v.id_of.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto [it, inserted] = v.id_of.emplace(v.text[i], static_cast<int32_t>(i));
    if (!inserted) {
      return make_error("the vocabulary lists token \"%s\" twice (ids %d and %lld)", v.text[i].c_str(), it->second,
                        static_cast<long long>(i));
    }
  }

  if (v.type == VocabType::kBpe) {
    FOLIO_ASSIGN_OR_RETURN(const gguf::Array* merges,
                           array_of(meta, "tokenizer.ggml.merges", gguf::ValueType::kString, true));
    v.merge_rank.reserve(merges->size);
    for (uint64_t i = 0; i < merges->size; ++i) {
      const std::string_view m = merges->strings[i];
      const size_t sp = m.find(' ', 1);
      const std::string key = sp == std::string_view::npos ? std::string(" ") : std::string(m);
      v.merge_rank.emplace(key, static_cast<int32_t>(i));  // the first occurrence wins
    }
  }

  read_id(meta, "tokenizer.ggml.bos_token_id", n, &v.bos);
  read_id(meta, "tokenizer.ggml.eos_token_id", n, &v.eos);
  read_id(meta, "tokenizer.ggml.eot_token_id", n, &v.eot);
  read_id(meta, "tokenizer.ggml.eom_token_id", n, &v.eom);
  read_id(meta, "tokenizer.ggml.unknown_token_id", n, &v.unk);
  read_id(meta, "tokenizer.ggml.seperator_token_id", n, &v.sep);  // sic: the GGUF key is misspelled
  read_id(meta, "tokenizer.ggml.padding_token_id", n, &v.pad);
  read_id(meta, "tokenizer.ggml.mask_token_id", n, &v.mask);
  if (auto b = meta.get_bool("tokenizer.ggml.add_bos_token")) v.add_bos = *b;
  if (auto b = meta.get_bool("tokenizer.ggml.add_eos_token")) v.add_eos = *b;
  for (int32_t* id : {&v.bos, &v.eos, &v.unk, &v.sep, &v.pad, &v.mask}) {
    if (*id >= n) *id = -1;  // a default beyond a small vocabulary
  }
  detect_eog(v);

  for (int64_t i = 0; i < n; ++i) {
    if (v.attr[i] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) v.special.push_back(static_cast<int32_t>(i));
  }
  std::stable_sort(v.special.begin(), v.special.end(),
                   [&](int32_t a, int32_t b) { return v.text[a].size() > v.text[b].size(); });

  // Phi-3's special tokens swallow the whitespace after them (ref: llama.cpp,
  // per general.name).
  std::string name(meta.get_string("general.name").value_or(""));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (int32_t id : v.special) v.attr[id] |= kAttrRstrip;
    for (const char* t : {"</s>"}) {
      if (int32_t id = v.find(t); id >= 0) v.attr[id] |= kAttrRstrip;
    }
    for (const char* t : {"<unk>", "<s>", "<|endoftext|>"}) {
      if (int32_t id = v.find(t); id >= 0) v.attr[id] &= ~kAttrRstrip;
    }
  }
  return v;
}

}  // namespace folio
