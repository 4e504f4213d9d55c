// HTTP to one registry (ref: the OCI distribution spec, Docker's token
// authentication): requests to the target's origin or to absolute URLs the
// registry hands out (upload locations, blob redirects, which are followed),
// a bearer token fetched when the registry answers 401 with
// `WWW-Authenticate: Bearer realm=...,service=...,scope=...`, and the
// registry's own error messages. Thread-safe: each call makes its own
// connection, the token is shared.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "registry/target.h"

namespace folio {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct RegistryResponse {
  int status = 0;
  std::string body;                          // empty for a download's 2xx
  std::map<std::string, std::string> headers;  // lower-case names
  std::string header(const std::string& lower_name) const;
};

class RegistryClient {
 public:
  explicit RegistryClient(RegistryTarget target);
  const RegistryTarget& target() const { return target_; }

  // method: GET, HEAD, DELETE, POST, PUT (with body). path_or_url: a path
  // on the registry or an absolute URL. Errors: the registry cannot be
  // reached (names it and why).
  Result<RegistryResponse> request(const std::string& method, const std::string& path_or_url, const HeaderList& headers = {},
                                   const std::string& body = "", const std::string& content_type = "");
  // GET whose 2xx body goes to on_data (false stops it: an error).
  Result<RegistryResponse> download(const std::string& path_or_url, const HeaderList& headers,
                                    const std::function<bool(const char*, size_t)>& on_data);
  // PUT of size bytes read from fd at offset 0; progress gets bytes sent.
  Result<RegistryResponse> upload(const std::string& path_or_url, int fd, uint64_t size,
                                  const std::function<void(uint64_t)>& progress);

 private:
  // Runs attempt with the current token; on a 401 with a bearer challenge,
  // fetches a token for it and runs attempt once more.
  Result<RegistryResponse> authorized(const std::function<Result<RegistryResponse>(const HeaderList&)>& attempt);
  Result<void> fetch_token(const std::string& challenge);
  // (origin, path) of a path on this registry or an absolute URL.
  std::pair<std::string, std::string> locate(const std::string& path_or_url) const;

  RegistryTarget target_;
  std::mutex mu_;
  std::string token_;
};

// What a failed response says, as the registry put it: the first of its
// {"errors": [{"code", "message", "detail"}]} as "message (CODE)", else
// "HTTP <status>" with the start of the body.
std::string registry_error(const RegistryResponse& r);

// Splits "scheme://host[:port]/path?query" into origin and path ("" origin
// for a path alone).
std::pair<std::string, std::string> split_url(const std::string& url);

}  // namespace folio
