#include "server/limits.h"

namespace folio::api {

namespace {

struct TooDeep {};

}  // namespace

Result<nlohmann::json> parse_request_json(std::string_view body) {
  using nlohmann::json;
  if (body.empty()) return json::object();
  // The parser is iterative; the callback stops it at the first value
  // past the limit, before the deep part is built.
  const json::parser_callback_t limit = [](int depth, json::parse_event_t, json&) {
    if (depth >= kMaxJsonDepth) throw TooDeep{};  // (the outermost value is depth 0)
    return true;
  };
  json j;
  try {
    j = json::parse(body, limit, false);
  } catch (const TooDeep&) {
    return make_error("request body nests deeper than %d levels", kMaxJsonDepth);
  }
  if (j.is_discarded() || !j.is_object()) return make_error("invalid request body: expected a JSON object");
  return j;
}

}  // namespace folio::api
