// What every model request shares (generate, chat, embed, the OpenAI
// routes): the stored model found with its template, system, parameters and
// messages; options merged in Ollama's order; keep_alive parsed; the
// LoadSpec the scheduler needs; timestamps and durations as Ollama writes
// them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/options.h"
#include "server/api.h"
#include "server/scheduler.h"
#include "store/store.h"
#include "template/chat.h"

namespace folio::api {

// A stored model as a request uses it.
struct Record {
  StoredModel stored;
  std::string path, tmpl, system;
  nlohmann::json params = nlohmann::json::object();
  std::vector<tmpl::Message> messages;
};

// 400 no or bad name, 404 unknown model, 400 adapters (not supported).
Reply find_record(const Store& store, const std::string& name_text, Record* out);

// A stored params layer over opts: unknown names are ignored.
void apply_params(Options& opts, const nlohmann::json& params);

// Request "options" over opts: unknown names are ignored (logged, as
// Ollama does), values of the wrong JSON type are errors.
Result<void> apply_options(Options& opts, const nlohmann::json& options);

// The request's keep_alive (unset: the server's default).
Result<std::optional<KeepAlive>> keep_alive_of(const nlohmann::json& req);

// A request's model and settings resolved: record, options (defaults <
// PARAMETER < request), keep_alive and the load it needs.
struct Target {
  Record rec;
  Options options;
  std::optional<KeepAlive> keep;
  LoadSpec spec;
};
Reply resolve(const Store& store, const Scheduler& sched, const nlohmann::json& req, Target* out);

// Go's RFC3339Nano in UTC, as Ollama's created_at.
std::string now_rfc3339();
int64_t nanos(double seconds);

}  // namespace folio::api
