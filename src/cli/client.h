// The CLI's HTTP client of a folio (or Ollama) server at FOLIO_HOST.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "server/address.h"

namespace folio::cli {

class ApiClient {
 public:
  // Errors: a bad FOLIO_HOST.
  static Result<ApiClient> from_env();
  static ApiClient at(HostPort address) { return ApiClient(std::move(address)); }
  const HostPort& address() const;
  ApiClient(ApiClient&&) noexcept;
  ~ApiClient();

  // A JSON request; a non-2xx status becomes an Error with the server's
  // {"error": ...} message. No server: an error saying how to start one.
  Result<nlohmann::json> call(const std::string& method, const std::string& path, const nlohmann::json& body);
  // POST with an NDJSON response: on_line gets each object; an {"error"}
  // line ends it with that error.
  Result<void> stream(const std::string& path, const nlohmann::json& body,
                      const std::function<void(const nlohmann::json&)>& on_line);
  // The same, but on_line returning false hangs up (the server stops
  // generating); returns whether it did.
  Result<bool> stream_until(const std::string& path, const nlohmann::json& body,
                            const std::function<bool(const nlohmann::json&)>& on_line);
  // HEAD: the status code.
  Result<int> head(const std::string& path);
  // POST a local file as the request body; progress (if set) gets the bytes
  // sent so far and the total as they go.
  Result<void> upload(const std::string& path, const std::string& file,
                      const std::function<void(uint64_t, uint64_t)>& progress = nullptr);

 private:
  explicit ApiClient(HostPort address);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace folio::cli
