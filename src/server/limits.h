// What a request may ask of the server, checked before any work: body
// size, JSON nesting, number of chat messages. Each limit refused is a 400
// (413 for the body) naming the limit. Option values have their own ranges
// (engine/options.cpp: num_ctx, num_predict, ...).
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace folio::api {

// A JSON request body (blob uploads are streamed to disk and not bounded).
inline constexpr size_t kMaxBodyBytes = size_t{32} << 20;
// Arrays and objects inside one another: deep enough for any JSON schema
// or tool definition, shallow enough that code walking a request (schema
// to grammar, tools to template values) cannot exhaust its stack.
inline constexpr int kMaxJsonDepth = 100;
// Messages of one chat request.
inline constexpr size_t kMaxMessages = 10000;

// Parses a request body: a JSON object nested at most kMaxJsonDepth deep.
// Errors are the client's (400): "invalid request body: ..." or
// "request body nests deeper than 100 levels".
Result<nlohmann::json> parse_request_json(std::string_view body);

}  // namespace folio::api
