#include "store/manifest.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace folio {

namespace {

using Json = nlohmann::ordered_json;

Json layer_json(const Layer& l) {
  Json j;
  j["mediaType"] = l.media_type;
  j["digest"] = l.digest;
  j["size"] = l.size;
  if (!l.from.empty()) j["from"] = l.from;
  return j;
}

Result<Layer> layer_of(const Json& j, const char* where) {
  if (!j.is_object()) return make_error("manifest: %s is not an object", where);
  Layer l;
  if (!j.contains("mediaType") || !j["mediaType"].is_string()) return make_error("manifest: %s lacks mediaType", where);
  if (!j.contains("digest") || !j["digest"].is_string()) return make_error("manifest: %s lacks digest", where);
  l.media_type = j["mediaType"].get<std::string>();
  l.digest = j["digest"].get<std::string>();
  if (!is_valid_digest(l.digest)) return make_error("manifest: %s has an invalid digest", where);
  if (j.contains("size") && j["size"].is_number_unsigned()) l.size = j["size"].get<uint64_t>();
  if (j.contains("from") && j["from"].is_string()) l.from = j["from"].get<std::string>();
  return l;
}

}  // namespace

bool is_valid_digest(std::string_view d) {
  if (d.size() != 7 + 64 || d.substr(0, 7) != "sha256:") return false;
  for (char c : d.substr(7)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string go_json(const std::string& compact) {
  std::string out;
  out.reserve(compact.size() + 16);
  for (size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    if (c == '\\' && i + 1 < compact.size()) {
      const char e = compact[++i];
      if (e == 'b') out += "\\u0008";
      else if (e == 'f') out += "\\u000c";
      else (out += '\\') += e;
    } else if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < compact.size() && compact[i + 1] == '\x80' &&
               (compact[i + 2] == '\xA8' || compact[i + 2] == '\xA9')) {
      out += compact[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  out += '\n';
  return out;
}

std::string Manifest::to_json() const {
  Json j;
  j["schemaVersion"] = schema_version;
  j["mediaType"] = media_type;
  j["config"] = layer_json(config);
  j["layers"] = Json::array();
  for (const Layer& l : layers) j["layers"].push_back(layer_json(l));
  return go_json(j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

Result<Manifest> Manifest::parse(std::string_view text) {
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("manifest is not JSON");
  Manifest m;
  if (j.contains("schemaVersion") && j["schemaVersion"].is_number_integer()) m.schema_version = j["schemaVersion"];
  if (j.contains("mediaType") && j["mediaType"].is_string()) m.media_type = j["mediaType"];
  if (!j.contains("config")) return make_error("manifest lacks config");
  FOLIO_ASSIGN_OR_RETURN(m.config, layer_of(j["config"], "config"));
  if (!j.contains("layers") || !j["layers"].is_array()) return make_error("manifest lacks layers");
  for (size_t i = 0; i < j["layers"].size(); ++i) {
    const std::string where = "layer " + std::to_string(i);
    FOLIO_ASSIGN_OR_RETURN(Layer l, layer_of(j["layers"][i], where.c_str()));
    m.layers.push_back(std::move(l));
  }
  return m;
}

const Layer* Manifest::find(std::string_view media_type) const {
  for (const Layer& l : layers) {
    if (l.media_type == media_type) return &l;
  }
  return nullptr;
}

uint64_t Manifest::total_size() const {
  uint64_t n = config.size;
  for (const Layer& l : layers) n += l.size;
  return n;
}

std::vector<Layer> Manifest::blobs() const {
  std::vector<Layer> out{config};
  for (const Layer& l : layers) {
    if (std::none_of(out.begin(), out.end(), [&](const Layer& x) { return x.digest == l.digest; })) out.push_back(l);
  }
  return out;
}

std::string ModelConfig::to_json() const {
  Json j;
  j["model_format"] = model_format;
  j["model_family"] = model_family;
  j["model_families"] = model_families;
  j["model_type"] = model_type;
  j["file_type"] = file_type;
  if (!renderer.empty()) j["renderer"] = renderer;
  if (!parser.empty()) j["parser"] = parser;
  if (!requires_version.empty()) j["requires"] = requires_version;
  const Json extra = Json::parse(extra_json, nullptr, false);
  if (extra.is_object()) {
    for (const auto& [k, v] : extra.items()) {
      if (!j.contains(k)) j[k] = v;
    }
  }
  j["architecture"] = "amd64";
  j["os"] = "linux";
  j["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  return go_json(j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

Result<ModelConfig> ModelConfig::parse(std::string_view text) {
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("model config is not JSON");
  ModelConfig c;
  auto str = [&](const char* k, std::string& out) {
    if (j.contains(k) && j[k].is_string()) out = j[k].get<std::string>();
  };
  str("model_format", c.model_format);
  str("model_family", c.model_family);
  str("model_type", c.model_type);
  str("file_type", c.file_type);
  str("requires", c.requires_version);
  str("renderer", c.renderer);
  str("parser", c.parser);
  Json extra = Json::object();
  for (const auto& [k, v] : j.items()) {
    static const char* const kKnown[] = {"model_format", "model_family", "model_families", "model_type", "file_type",
                                         "renderer", "parser", "requires", "architecture", "os", "rootfs"};
    bool known = false;
    for (const char* n : kKnown) known |= k == n;
    if (!known) extra[k] = v;
  }
  c.extra_json = extra.dump();
  if (j.contains("model_families") && j["model_families"].is_array()) {
    for (const auto& f : j["model_families"]) {
      if (f.is_string()) c.model_families.push_back(f.get<std::string>());
    }
  }
  if (j.contains("rootfs") && j["rootfs"].is_object() && j["rootfs"].contains("diff_ids")) {
    for (const auto& d : j["rootfs"]["diff_ids"]) {
      if (d.is_string()) c.diff_ids.push_back(d.get<std::string>());
    }
  }
  return c;
}

}  // namespace folio
