// Route handlers, free of HTTP plumbing: each takes the request's JSON body
// and returns a status and a JSON body (or streams NDJSON lines).
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "store/store.h"

namespace folio::api {

struct Reply {
  int status = 200;
  nlohmann::json body;
};

Reply error(int status, const std::string& message);

Reply tags(const Store& store);
Reply show(const Store& store, const nlohmann::json& req);
Reply copy(Store& store, const nlohmann::json& req);
Reply remove(Store& store, const nlohmann::json& req);

// What /api/create can refuse before any work: no or bad model name, no
// from or files. Status 200 when none applies.
Reply check_create_request(const nlohmann::json& req);
// POST /api/create: emits progress objects through `emit` (NDJSON lines
// when streaming) and returns the final reply ({"status":"success"} or an
// error).
Reply create(Store& store, const nlohmann::json& req, const std::function<void(const nlohmann::json&)>& emit);

// The Modelfile `show --modelfile` prints for a stored model.
std::string modelfile_text(const Store& store, const StoredModel& m);

// Ollama's "details" of a stored model, from its config blob.
nlohmann::json config_details(const Store& store, const StoredModel& m);

// Optional fields of a request object: fallback when absent or null; a
// value of another JSON type is an error naming the field (a 400).
Result<bool> bool_field(const nlohmann::json& obj, const char* name, bool fallback);
Result<std::string> string_field(const nlohmann::json& obj, const char* name, const std::string& fallback = "");

// The name field of a request: "model", or the older "name".
std::string request_model(const nlohmann::json& req);

}  // namespace folio::api
