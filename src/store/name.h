// Model names as Ollama writes them: [host/][namespace/]model[:tag], with
// the defaults registry.ollama.ai, library and latest (ref: ollama
// types/model/name.go). Parts keep their case; comparisons ignore it.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace folio {

inline constexpr const char* kDefaultHost = "registry.ollama.ai";
inline constexpr const char* kDefaultNamespace = "library";
inline constexpr const char* kDefaultTag = "latest";

struct ModelName {
  std::string host, ns, model, tag;

  // "llama3.2:latest", "user/model:tag", "host/ns/model:tag": the default
  // host and namespace left out, the tag always shown (as `ollama list`).
  std::string display() const;
  // Path under the store's manifests/ directory: host/ns/model/tag.
  std::string manifest_path() const;
  bool equal_fold(const ModelName& o) const;
};

// Parses and validates; errors say which part is invalid and why. A part
// starts with a letter, digit or '_' and holds letters, digits, '_', '-'
// and '.' (not '.' in the namespace; ':' only in the host, for a port);
// parts are at most 80 characters (the host 350). Path tricks such as ".."
// can therefore never form a part.
Result<ModelName> parse_model_name(std::string_view s);

}  // namespace folio
