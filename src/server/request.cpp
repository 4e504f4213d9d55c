#include "server/request.h"

#include <cmath>
#include <cstdint>
#include <ctime>

#include "base/log.h"
#include "base/strings.h"

namespace folio::api {

using nlohmann::json;

std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() % 1000000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string frac = strfmt("%09lld", static_cast<long long>(ns));
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return std::string(buf) + (frac.empty() ? "" : "." + frac) + "Z";
}

int64_t nanos(double seconds) { return static_cast<int64_t>(seconds * 1e9); }


Reply find_record(const Store& store, const std::string& name_text, Record* out) {
  if (name_text.empty()) return error(400, "model is required");
  auto name = parse_model_name(name_text);
  if (!name.ok()) return error(400, name.error().message);
  auto found = store.find(*name);
  if (!found.ok()) return error(500, found.error().message);
  if (!found->has_value()) return error(404, "model '" + name_text + "' not found");
  out->stored = **found;
  const Manifest& m = out->stored.manifest;
  const Layer* model = m.find(kMediaModel);
  if (model == nullptr) return error(400, "model '" + name_text + "' has no model layer");
  out->path = *store.blob_path(model->digest);
  const auto text = [&](const char* media) -> std::string {
    const Layer* l = m.find(media);
    if (l == nullptr) return "";
    auto t = store.read_blob_text(l->digest);
    return t.ok() ? *t : "";
  };
  out->tmpl = m.find(kMediaTemplate) ? text(kMediaTemplate) : "{{ .Prompt }}";
  out->system = text(kMediaSystem);
  if (m.find(kMediaAdapter) != nullptr) {
    return error(400, "model '" + out->stored.name.display() +
                          "' uses a LoRA adapter (ADAPTER), which folio cannot apply yet; create a model without "
                          "ADAPTER to run its base");
  }
  const json params = json::parse(text(kMediaParams), nullptr, false);
  if (params.is_object()) out->params = params;
  const json msgs = json::parse(text(kMediaMessages), nullptr, false);
  if (msgs.is_array()) {
    for (const auto& x : msgs) {
      if (x.is_object() && x.contains("role") && x["role"].is_string()) {
        out->messages.emplace_back(x["role"].get<std::string>(), x.value("content", json("")).is_string() ? x.value("content", "") : "");
      }
    }
  }
  return {200, nullptr};
}

void apply_params(Options& o, const json& params) {
  for (const auto& [k, v] : params.items()) {
    if (find_option(k) == nullptr) continue;
    for (const auto& x : v.is_array() ? v : json::array({v})) {
      auto r = set_option(o, k, x.is_string() ? x.get<std::string>() : x.dump());
      if (!r.ok()) FOLIO_LOG_WARN("model parameter %s ignored: %s", k.c_str(), r.error().message.c_str());
    }
  }
}

Result<std::optional<KeepAlive>> keep_alive_of(const json& req) {
  if (!req.contains("keep_alive") || req["keep_alive"].is_null()) return std::optional<KeepAlive>();
  const json& k = req["keep_alive"];
  if (k.is_number()) {
    FOLIO_ASSIGN_OR_RETURN(KeepAlive v, parse_keep_alive_seconds(k.get<double>()));
    return std::optional<KeepAlive>(v);
  }
  if (k.is_string()) {
    auto v = parse_keep_alive_text(k.get<std::string>());
    if (!v.ok()) return make_error("invalid keep_alive: %s", v.error().message.c_str());
    return std::optional<KeepAlive>(*v);
  }
  return make_error("keep_alive must be a number of seconds or a duration string such as \"5m\"");
}

Result<void> apply_options(Options& opts, const json& options) {
  if (options.is_null()) return {};
  if (!options.is_object()) return make_error("options must be an object");
  for (const auto& item : options.items()) {
    const std::string& k = item.key();  // (named, not a structured binding: lambdas below use them)
    const json& v = item.value();
    const OptionInfo* info = find_option(k);
    if (info == nullptr) {
      FOLIO_LOG_WARN("invalid option provided: %s (ignored)", k.c_str());
      continue;
    }
    if (v.is_null()) continue;
    const auto bad = [&](const char* want) {
      return make_error("option \"%s\" must be of type %s, got %s", k.c_str(), want, v.type_name());
    };
    switch (info->type) {
      case OptionType::kInt: {
        if (!v.is_number()) return bad("integer");
        // Whole numbers only, in int64 range (a float such as 1e300 or an
        // unsigned past 2^63 is refused before any conversion).
        int64_t n = 0;
        if (v.is_number_unsigned()) {
          if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return make_error("option \"%s\" is out of range", k.c_str());
          n = static_cast<int64_t>(v.get<uint64_t>());
        } else if (v.is_number_integer()) {
          n = v.get<int64_t>();
        } else {
          const double d = v.get<double>();
          if (d != std::trunc(d)) return bad("integer");
          if (!(d >= -9.2e18 && d <= 9.2e18)) return make_error("option \"%s\" is out of range", k.c_str());
          n = static_cast<int64_t>(d);
        }
        FOLIO_TRY(set_option(opts, k, std::to_string(n)));
        break;
      }
      case OptionType::kFloat:
        if (!v.is_number()) return bad("number");
        FOLIO_TRY(set_option(opts, k, v.dump()));
        break;
      case OptionType::kBool:
        if (!v.is_boolean()) return bad("boolean");
        FOLIO_TRY(set_option(opts, k, v.get<bool>() ? "true" : "false"));
        break;
      case OptionType::kStringList: {
        if (!v.is_string() && !v.is_array()) return bad("array of strings");
        opts.stop.clear();  // the request's stop strings replace the model's
        for (const auto& s : v.is_array() ? v : json::array({v})) {
          if (!s.is_string()) return bad("array of strings");
          FOLIO_TRY(set_option(opts, k, s.get<std::string>()));
        }
        break;
      }
    }
  }
  return {};
}

Reply resolve(const Store& store, const Scheduler& sched, const json& req, Target* out) {
  // The request's own fields first: a bad keep_alive or option is a 400
  // whether or not the model exists.
  auto keep = keep_alive_of(req);
  if (!keep.ok()) return error(400, keep.error().message);
  Options scratch;
  if (auto r = apply_options(scratch, req.value("options", json())); !r.ok()) return error(400, r.error().message);
  if (Reply r = find_record(store, request_model(req), &out->rec); r.status != 200) return r;
  out->keep = *keep;
  apply_params(out->options, out->rec.params);
  if (auto r = apply_options(out->options, req.value("options", json())); !r.ok()) return error(400, r.error().message);
  out->spec.name = out->rec.stored.name.display();
  out->spec.path = out->rec.path;
  out->spec.digest = out->rec.stored.manifest.find(kMediaModel)->digest;
  out->spec.options = out->options;
  out->spec.num_parallel = sched.num_parallel();
  return {200, nullptr};
}

}  // namespace folio::api
