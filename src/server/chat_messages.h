// A chat request's messages and tools as Ollama's api.Message and api.Tool
// bind them: the checks that make a wrongly shaped field a 400 naming it.
#pragma once

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "template/chat.h"

namespace folio::api {

// One message: role, content, thinking, tool_name, tool_call_id and
// tool_calls (id, function name/index/arguments; arguments kept as JSON).
Result<tmpl::Message> message_from_json(const nlohmann::json& m);

// The request's tools: a list of objects whose function, when present, is
// an object with a string name and an object of parameters.
Result<void> check_tools(const nlohmann::json& tools);

}  // namespace folio::api
