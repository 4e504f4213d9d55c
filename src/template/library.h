// Ollama's library of named chat templates (data/templates, compiled in) and
// how Ollama picks one for a GGUF: the index entry whose jinja
// tokenizer.chat_template is closest (Levenshtein distance over code points,
// first best, under 100).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace folio::tmpl {

struct EmbeddedFile {
  const char* name;
  const char* data;
};
extern const EmbeddedFile kEmbeddedFiles[];
extern const size_t kEmbeddedFileCount;

struct NamedTemplate {
  std::string name;
  std::string text;               // Go template
  std::vector<std::string> stop;  // default stop parameters
};

// The templates of index.json, in its order (a name may appear more than
// once there; each entry carries its jinja text).
struct IndexEntry {
  std::string jinja;
  const NamedTemplate* tmpl;
};
const std::vector<IndexEntry>& template_index();
const NamedTemplate* find_named_template(std::string_view name);

// Ollama's template.Named: the closest index entry to a GGUF's jinja chat
// template, or nullptr when none is within distance 100.
const NamedTemplate* match_chat_template(std::string_view jinja);

// Edit distance between a and b counted in Unicode code points, or
// limit + 1 when it is larger than limit.
size_t levenshtein_bounded(std::string_view a, std::string_view b, size_t limit);

}  // namespace folio::tmpl
