// Docker v2 schema-2 manifests and the config blob, as Ollama writes them
// (ref: ollama server/manifest.go, server/images.go ConfigV2): field names,
// order and compact JSON match, so stores are interchangeable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace folio {

inline constexpr const char* kMediaManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kMediaConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* kMediaModel = "application/vnd.ollama.image.model";
inline constexpr const char* kMediaTemplate = "application/vnd.ollama.image.template";
inline constexpr const char* kMediaSystem = "application/vnd.ollama.image.system";
inline constexpr const char* kMediaParams = "application/vnd.ollama.image.params";
inline constexpr const char* kMediaMessages = "application/vnd.ollama.image.messages";
inline constexpr const char* kMediaLicense = "application/vnd.ollama.image.license";
inline constexpr const char* kMediaAdapter = "application/vnd.ollama.image.adapter";
inline constexpr const char* kMediaProjector = "application/vnd.ollama.image.projector";

struct Layer {
  std::string media_type;
  std::string digest;   // "sha256:<64 hex>"
  uint64_t size = 0;
  std::string from;     // optional
};

struct Manifest {
  int schema_version = 2;
  std::string media_type = kMediaManifest;
  Layer config;
  std::vector<Layer> layers;

  // Compact JSON in Ollama's field order.
  std::string to_json() const;
  // Errors name the missing or mistyped field.
  static Result<Manifest> parse(std::string_view json);
  // The first layer of a media type, or nullptr.
  const Layer* find(std::string_view media_type) const;
  // config + layers, as `ollama list` reports a model's size.
  uint64_t total_size() const;
  // The config and the layers, each digest once: the blobs the model needs.
  std::vector<Layer> blobs() const;
};

struct ModelConfig {
  std::string model_format = "gguf";
  std::string model_family;
  std::vector<std::string> model_families;
  std::string model_type;  // parameter size, e.g. "1.2B"
  std::string file_type;   // e.g. "Q4_K_M"
  std::string renderer, parser;  // the Modelfile's RENDERER / PARSER, empty if none
  std::string requires_version;  // "requires": the Modelfile's REQUIRES, empty if none
  std::vector<std::string> diff_ids;  // digests of the layers
  // Keys folio does not model (capabilities, remote_host, ... of newer
  // Ollama versions), kept as a JSON object so a derived model keeps them.
  std::string extra_json = "{}";

  std::string to_json() const;
  static Result<ModelConfig> parse(std::string_view json);
};

// JSON as Go's json.Encoder writes it (Ollama writes manifests, configs,
// params and messages so): <, >, &, U+2028, U+2029 escaped as \u00XX /
// \u20XX, \b and \f as \u0008 / \u000c, and a final newline. compact is
// the output of nlohmann's dump(). The same bytes give the same digest.
std::string go_json(const std::string& compact);

// True for "sha256:" followed by 64 lower-case hex digits.
bool is_valid_digest(std::string_view digest);

}  // namespace folio
