// POST /api/create: a model from a stored model (from) and/or an uploaded
// GGUF (files), with template, system, license, parameters, messages, and
// optional quantization (ref: ollama api/types.go CreateRequest).
#include <unistd.h>

#include "base/fs.h"
#include "base/strings.h"
#include "engine/options.h"
#include "gguf/summary.h"
#include "memory/model_file.h"
#include "quantize/quantize_model.h"
#include "server/api.h"

namespace folio::api {

using nlohmann::json;

namespace {

// The layer list being assembled: one layer per media type, except licenses.
struct Layers {
  std::vector<Layer> list;
  void set(const Layer& l) {
    for (Layer& x : list) {
      if (x.media_type == l.media_type) {
        x = l;
        return;
      }
    }
    list.push_back(l);
  }
  void drop(const char* media) {
    std::erase_if(list, [&](const Layer& x) { return x.media_type == media; });
  }
  const Layer* find(const char* media) const {
    for (const Layer& x : list) {
      if (x.media_type == media) return &x;
    }
    return nullptr;
  }
};

Result<Layer> text_layer(Store& store, const char* media, const std::string& text) {
  FOLIO_ASSIGN_OR_RETURN(std::string digest, store.put_blob_bytes(text));
  return Layer{media, digest, text.size(), ""};
}

// Request parameters -> the params layer JSON, each value checked against
// the option table; stop is a list.
Result<json> checked_params(const json& params) {
  json out = json::object();
  for (const auto& [k, v] : params.items()) {
    Options scratch;
    const auto check = [&](const json& x) -> Result<void> {
      const std::string text = x.is_string() ? x.get<std::string>() : x.dump();
      return set_option(scratch, k, text);
    };
    if (v.is_array()) {
      for (const auto& x : v) FOLIO_TRY(check(x));
    } else {
      FOLIO_TRY(check(v));
    }
    const OptionInfo* info = find_option(k);
    if (info->type == OptionType::kStringList) {
      json list = json::array();
      for (const auto& x : v.is_array() ? v : json::array({v})) list.push_back(x.is_string() ? x.get<std::string>() : x.dump());
      out[k] = list;
    } else if (info->type == OptionType::kBool) {
      out[k] = v.is_boolean() ? v.get<bool>() : (to_lower(v.is_string() ? v.get<std::string>() : v.dump()) == "true");
    } else if (info->type == OptionType::kInt) {
      out[k] = v.is_number() ? v.get<int64_t>() : std::stoll(v.get<std::string>());
    } else {
      out[k] = v.is_number() ? v.get<double>() : std::stod(v.get<std::string>());
    }
  }
  return out;
}

}  // namespace

Reply create(Store& store, const json& req, const std::function<void(const json&)>& emit) {
  const std::string name_text = request_model(req);
  if (name_text.empty()) return error(400, "model is required");
  auto name = parse_model_name(name_text);
  if (!name.ok()) return error(400, name.error().message);

  Layers layers;
  if (req.contains("from") && req["from"].is_string() && !req["from"].get<std::string>().empty()) {
    auto from = parse_model_name(req["from"].get<std::string>());
    if (!from.ok()) return error(400, from.error().message);
    auto base = store.find(*from);
    if (!base.ok()) return error(500, base.error().message);
    if (!base->has_value()) return error(404, "base model '" + from->display() + "' not found");
    for (const Layer& l : (*base)->manifest.layers) layers.list.push_back(l);
    emit({{"status", "using base model " + (*base)->name.display()}});
  }
  if (req.contains("files") && req["files"].is_object() && !req["files"].empty()) {
    if (req["files"].size() != 1) return error(400, "create takes one GGUF file (got " + std::to_string(req["files"].size()) + ")");
    const std::string digest = req["files"].begin().value().get<std::string>();
    if (!is_valid_digest(digest)) return error(400, "invalid digest '" + escape_for_display(digest) + "'");
    if (!store.has_blob(digest)) return error(400, "blob " + digest + " not found; upload it with POST /api/blobs/" + digest);
    auto path = store.blob_path(digest);
    auto size = file_size(*path);
    layers.drop(kMediaAdapter);
    layers.set({kMediaModel, digest, size.ok() ? *size : 0, ""});
  }
  const Layer* model_layer = layers.find(kMediaModel);
  if (model_layer == nullptr) return error(400, "neither from nor files names a model");

  // The model must be a GGUF folio can read.
  const std::string model_path = *store.blob_path(model_layer->digest);
  auto file = ModelFile::open(model_path);
  if (!file.ok()) return error(400, file.error().message);
  gguf::ModelSummary summary = gguf::summarize(file->meta(), file->tensors(), file->file_bytes());

  if (req.contains("quantize") && req["quantize"].is_string() && !req["quantize"].get<std::string>().empty()) {
    auto recipe = parse_recipe(req["quantize"].get<std::string>());
    if (!recipe.ok()) return error(400, recipe.error().message);
    const std::string src_type = summary.file_type;
    if (src_type != "F32" && src_type != "F16" && src_type != "BF16") {
      return error(400, "quantization is only supported for F32, F16 and BF16 models, this one is " + src_type);
    }
    emit({{"status", "quantizing " + src_type + " model to " + recipe->name}});
    const std::string tmp = store.root() + "/blobs/.quantize-" + std::to_string(::getpid()) + "-" + recipe->name + ".gguf";
    auto q = quantize_model(*file, *recipe, tmp);
    if (!q.ok()) {
      ::unlink(tmp.c_str());
      return error(500, q.error().message);
    }
    auto digest = store.put_blob_file(tmp);
    ::unlink(tmp.c_str());
    if (!digest.ok()) return error(500, digest.error().message);
    auto qfile = ModelFile::open(*store.blob_path(*digest));
    if (!qfile.ok()) return error(500, qfile.error().message);
    summary = gguf::summarize(qfile->meta(), qfile->tensors(), qfile->file_bytes());
    layers.set({kMediaModel, *digest, qfile->file_bytes(), ""});
  }

  auto add_text = [&](const char* field, const char* media) -> Result<void> {
    if (!req.contains(field) || !req[field].is_string()) return {};
    FOLIO_ASSIGN_OR_RETURN(Layer l, text_layer(store, media, req[field].get<std::string>()));
    layers.set(l);
    return {};
  };
  for (auto [field, media] : {std::pair{"template", kMediaTemplate}, std::pair{"system", kMediaSystem}}) {
    if (auto r = add_text(field, media); !r.ok()) return error(500, r.error().message);
  }
  if (req.contains("license")) {
    layers.drop(kMediaLicense);
    const json lic = req["license"].is_array() ? req["license"] : json::array({req["license"]});
    for (const auto& text : lic) {
      if (!text.is_string()) return error(400, "license must be a string or a list of strings");
      auto l = text_layer(store, kMediaLicense, text.get<std::string>());
      if (!l.ok()) return error(500, l.error().message);
      layers.list.push_back(*l);
    }
  }
  if (req.contains("parameters") && req["parameters"].is_object()) {
    auto params = checked_params(req["parameters"]);
    if (!params.ok()) return error(400, params.error().message);
    auto l = text_layer(store, kMediaParams, params->dump());
    if (!l.ok()) return error(500, l.error().message);
    layers.set(*l);
  }
  if (req.contains("messages") && req["messages"].is_array()) {
    json msgs = json::array();
    for (const auto& m : req["messages"]) {
      if (!m.contains("role") || !m.contains("content")) return error(400, "each message needs a role and content");
      msgs.push_back({{"role", m["role"]}, {"content", m["content"]}});
    }
    auto l = text_layer(store, kMediaMessages, msgs.dump());
    if (!l.ok()) return error(500, l.error().message);
    layers.set(*l);
  }

  ModelConfig config;
  config.model_family = summary.architecture;
  config.model_families = {summary.architecture};
  config.model_type = human_count(summary.n_params);
  config.file_type = summary.file_type;
  for (const Layer& l : layers.list) {
    config.diff_ids.push_back(l.digest);
    emit({{"status", "using layer " + l.digest}});
  }
  const std::string config_json = config.to_json();
  auto config_digest = store.put_blob_bytes(config_json);
  if (!config_digest.ok()) return error(500, config_digest.error().message);
  Manifest m;
  m.config = {kMediaConfig, *config_digest, config_json.size(), ""};
  m.layers = layers.list;
  emit({{"status", "writing manifest"}});
  auto r = store.put_manifest(*name, m);
  if (!r.ok()) return error(500, r.error().message);
  return {200, json{{"status", "success"}}};
}

}  // namespace folio::api
