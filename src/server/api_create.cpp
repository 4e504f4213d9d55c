// POST /api/create: a model from a stored model (from) and/or an uploaded
// GGUF (files), with template, system, license, parameters, messages, and
// optional quantization (ref: ollama api/types.go CreateRequest).
#include <unistd.h>

#include "base/failpoint.h"
#include "base/fs.h"
#include "base/strings.h"
#include "engine/options.h"
#include "gguf/summary.h"
#include "memory/model_file.h"
#include "quantize/quantize_model.h"
#include "server/api.h"
#include "template/library.h"

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
// the option table; stop is a list, every other option one value.
Result<json> checked_params(const json& params) {
  json out = json::object();
  for (const auto& item : params.items()) {
    const std::string& k = item.key();
    const json& v = item.value();
    Options scratch;
    const auto text_of = [](const json& x) { return x.is_string() ? x.get<std::string>() : x.dump(); };
    const auto check = [&](const json& x) -> Result<void> {
      if (x.is_array() || x.is_object() || x.is_null()) return make_error("option %s expects a single value", k.c_str());
      return set_option(scratch, k, text_of(x));
    };
    if (v.is_array()) {
      for (const auto& x : v) FOLIO_TRY(check(x));
    } else {
      FOLIO_TRY(check(v));
    }
    const OptionInfo* info = find_option(k);
    if (info->type == OptionType::kStringList) {
      json list = json::array();
      for (const auto& x : v.is_array() ? v : json::array({v})) list.push_back(text_of(x));
      out[k] = list;
      continue;
    }
    if (v.is_array()) return make_error("option %s expects a single value, got a list", k.c_str());
    if (info->type == OptionType::kBool) {
      const std::string t = to_lower(text_of(v));
      out[k] = v.is_boolean() ? v.get<bool>() : (t == "true" || t == "1");
    } else if (info->type == OptionType::kInt) {
      out[k] = v.is_number() ? v.get<int64_t>() : std::stoll(v.get<std::string>());
    } else {
      out[k] = v.is_number() ? v.get<double>() : std::stod(v.get<std::string>());
    }
  }
  return out;
}

bool is_text(const json& req, const char* field) {
  return req.contains(field) && req[field].is_string() && !req[field].get<std::string>().empty();
}

// What a GGUF sent in files is, by its metadata (as Ollama classifies them).
const char* media_of(const ModelFile& f) {
  const std::string type(f.meta().get_string("general.type").value_or(""));
  if (type == "adapter") return kMediaAdapter;
  if (type == "mmproj" || type == "projector" || f.meta().find("clip.projector_type") != nullptr) return kMediaProjector;
  return kMediaModel;
}

// A {"name": "sha256:..."} object of uploaded blobs: each must be stored.
Reply check_files(const Store& store, const json& req, const char* field) {
  if (!req.contains(field) || req[field].is_null()) return {200, nullptr};
  if (!req[field].is_object()) return error(400, std::string(field) + " must be an object of file names to digests");
  for (const auto& [file_name, digest] : req[field].items()) {
    if (!digest.is_string() || !is_valid_digest(digest.get<std::string>())) {
      return error(400, "invalid digest for " + std::string(field) + " '" + escape_for_display(file_name) + "'");
    }
    if (!store.has_blob(digest)) {
      return error(400, "blob " + digest.get<std::string>() + " not found; upload it with POST /api/blobs/" +
                            digest.get<std::string>());
    }
  }
  return {200, nullptr};
}

}  // namespace

Reply check_create_request(const json& req) {
  const std::string name_text = request_model(req);
  if (name_text.empty()) return error(400, "model is required");
  if (auto name = parse_model_name(name_text); !name.ok()) return error(400, name.error().message);
  for (const char* field : {"from", "template", "system", "quantize", "requires", "renderer", "parser"}) {
    if (req.contains(field) && !req[field].is_null() && !req[field].is_string()) {
      return error(400, std::string(field) + " must be a string");
    }
  }
  for (const char* field : {"files", "adapters", "parameters"}) {
    if (req.contains(field) && !req[field].is_null() && !req[field].is_object()) {
      return error(400, std::string(field) + " must be an object");
    }
  }
  if (req.contains("license") && !req["license"].is_null() && !req["license"].is_string()) {
    if (!req["license"].is_array()) return error(400, "license must be a string or a list of strings");
    for (const auto& l : req["license"]) {
      if (!l.is_string()) return error(400, "license must be a string or a list of strings");
    }
  }
  if (req.contains("messages") && !req["messages"].is_null()) {
    if (!req["messages"].is_array()) return error(400, "messages must be a list");
    for (const auto& m : req["messages"]) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
          (m.contains("content") && !m["content"].is_string())) {
        return error(400, "each message needs a role and a content, both strings");
      }
      const std::string role = m["role"];
      if (role != "system" && role != "user" && role != "assistant" && role != "tool") {
        return error(400, "message role '" + escape_for_display(role) + "' is not one of system, user, assistant, tool");
      }
    }
  }
  const bool has_files = req.contains("files") && req["files"].is_object() && !req["files"].empty();
  if (!is_text(req, "from") && !has_files) return error(400, "neither from nor files names a model");
  return {200, nullptr};
}

Reply create(Store& store, const json& req, const std::function<void(const json&)>& emit) {
  if (Reply bad = check_create_request(req); bad.status != 200) return bad;
  auto name = parse_model_name(request_model(req));
  for (const char* field : {"files", "adapters"}) {
    if (Reply bad = check_files(store, req, field); bad.status != 200) return bad;
  }

  Layers layers;
  ModelConfig config;
  if (is_text(req, "from")) {
    auto from = parse_model_name(req["from"].get<std::string>());
    if (!from.ok()) return error(400, from.error().message);
    auto base = store.find(*from);
    if (!base.ok()) return error(500, base.error().message);
    if (!base->has_value()) return error(404, "base model '" + from->display() + "' not found");
    const StoredModel& b = **base;
    // Layers keep where they came from, as Ollama records it.
    for (Layer l : b.manifest.layers) {
      if (l.from.empty()) l.from = b.name.display();
      layers.list.push_back(l);
    }
    // What the base's config says beyond the model file stays: renderer,
    // parser, requires and keys folio does not know.
    if (auto text = store.read_blob_text(b.manifest.config.digest, 1 << 20); text.ok()) {
      if (auto c = ModelConfig::parse(*text); c.ok()) config = *c;
    }
    emit({{"status", "using base model " + b.name.display()}});
  }
  // Uploaded files: the model, adapters and projectors, by their metadata.
  std::vector<std::pair<std::string, std::string>> uploads;  // (file name, digest)
  for (const char* field : {"files", "adapters"}) {
    if (!req.contains(field) || !req[field].is_object()) continue;
    for (const auto& [file_name, digest] : req[field].items()) uploads.emplace_back(file_name, digest.get<std::string>());
  }
  std::vector<std::pair<std::string, Layer>> classified;  // model files first
  for (const auto& [file_name, digest] : uploads) {
    auto f = ModelFile::open(*store.blob_path(digest));
    if (!f.ok()) return error(400, escape_for_display(file_name) + ": " + f.error().message);
    const char* media = media_of(*f);
    const auto at = media == kMediaModel ? classified.begin() : classified.end();
    classified.insert(at, {file_name, Layer{media, digest, f->file_bytes(), ""}});
  }
  bool dropped_adapters = false, have_model_file = false;
  for (const auto& [file_name, l] : classified) {
    const std::string& media = l.media_type;
    if (media == kMediaModel) {
      if (have_model_file) {
        return error(400, "more than one model file (" + escape_for_display(file_name) +
                              "); split GGUF models must be merged into one file first");
      }
      have_model_file = true;
      if (!dropped_adapters) layers.drop(kMediaAdapter);  // the base's adapters were for the base's model
      dropped_adapters = true;
      layers.set(l);
      emit({{"status", "parsing GGUF"}});
    } else if (media == kMediaAdapter) {
      if (!dropped_adapters) layers.drop(kMediaAdapter);  // the request's adapters replace the base's
      dropped_adapters = true;
      layers.list.push_back(l);
    } else {
      layers.set(l);
    }
  }
  const Layer* model_layer = layers.find(kMediaModel);
  if (model_layer == nullptr) return error(400, "no model: from names none and files hold no model GGUF");
  // A new GGUF without a TEMPLATE in the request gets the library template
  // closest to its tokenizer.chat_template, with that template's stop
  // parameters, as Ollama does.
  if (have_model_file && !is_text(req, "template")) {
    if (auto f = ModelFile::open(*store.blob_path(model_layer->digest)); f.ok()) {
      const std::optional<std::string_view> jinja = f->meta().get_string("tokenizer.chat_template");
      if (const tmpl::NamedTemplate* t = jinja ? tmpl::match_chat_template(*jinja) : nullptr) {
        auto tl = text_layer(store, kMediaTemplate, t->text);
        if (!tl.ok()) return error(500, tl.error().message);
        layers.set(*tl);
        if (!t->stop.empty()) {
          auto pl = text_layer(store, kMediaParams, go_json(json{{"stop", t->stop}}.dump()));
          if (!pl.ok()) return error(500, pl.error().message);
          layers.set(*pl);
        }
        emit({{"status", "using autodetected template " + t->name}});
      }
    }
    model_layer = layers.find(kMediaModel);
  }

  // The model must be a GGUF folio can read.
  const std::string model_path = *store.blob_path(model_layer->digest);
  auto file = ModelFile::open(model_path);
  if (!file.ok()) return error(400, file.error().message);
  gguf::ModelSummary summary = gguf::summarize(file->meta(), file->tensors(), file->file_bytes());

  if (is_text(req, "quantize")) {
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
    failpoint("quantized");  // the output exists under its temporary name
    auto digest = store.put_blob_file(tmp);
    ::unlink(tmp.c_str());
    if (!digest.ok()) return error(500, digest.error().message);
    auto qfile = ModelFile::open(*store.blob_path(*digest));
    if (!qfile.ok()) return error(500, qfile.error().message);
    summary = gguf::summarize(qfile->meta(), qfile->tensors(), qfile->file_bytes());
    layers.set({kMediaModel, *digest, qfile->file_bytes(), ""});
  }

  // Empty strings are ignored, as Ollama ignores them.
  for (auto [field, media] : {std::pair{"template", kMediaTemplate}, std::pair{"system", kMediaSystem}}) {
    if (!is_text(req, field)) continue;
    auto l = text_layer(store, media, req[field].get<std::string>());
    if (!l.ok()) return error(500, l.error().message);
    layers.set(*l);
  }
  if (req.contains("license") && !req["license"].is_null()) {  // added to the base's licenses, as Ollama does
    for (const auto& text : req["license"].is_array() ? req["license"] : json::array({req["license"]})) {
      if (text.get<std::string>().empty()) continue;
      auto l = text_layer(store, kMediaLicense, text.get<std::string>());
      if (!l.ok()) return error(500, l.error().message);
      layers.list.push_back(*l);
    }
  }
  if (req.contains("parameters") && req["parameters"].is_object() && !req["parameters"].empty()) {
    auto params = checked_params(req["parameters"]);
    if (!params.ok()) return error(400, params.error().message);
    // The base's parameters stay unless the request sets the same name.
    if (const Layer* base = layers.find(kMediaParams)) {
      auto text = store.read_blob_text(base->digest);
      const json old = text.ok() ? json::parse(*text, nullptr, false) : json();
      if (old.is_object()) {
        for (const auto& [k, v] : old.items()) {
          if (!params->contains(k)) (*params)[k] = v;
        }
      }
    }
    auto l = text_layer(store, kMediaParams, go_json(params->dump()));
    if (!l.ok()) return error(500, l.error().message);
    layers.set(*l);
  }
  if (req.contains("messages") && req["messages"].is_array() && !req["messages"].empty()) {
    nlohmann::ordered_json msgs = nlohmann::ordered_json::array();
    for (const auto& m : req["messages"]) msgs.push_back({{"role", m["role"]}, {"content", m.value("content", "")}});
    auto l = text_layer(store, kMediaMessages, go_json(msgs.dump(-1, ' ', false, json::error_handler_t::replace)));
    if (!l.ok()) return error(500, l.error().message);
    layers.set(*l);
  }

  config.model_format = "gguf";
  config.model_family = summary.architecture;
  config.model_families = {summary.architecture};
  config.model_type = human_count(summary.n_params);
  config.file_type = summary.file_type;
  if (is_text(req, "requires")) config.requires_version = req["requires"];
  if (is_text(req, "renderer")) config.renderer = req["renderer"];
  if (is_text(req, "parser")) config.parser = req["parser"];
  config.diff_ids.clear();
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
