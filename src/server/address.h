// FOLIO_HOST parsing: "127.0.0.1:11434" (the default), "0.0.0.0",
// ":8080", "http://host:port", "[::1]:11434".
#pragma once

#include <string>

#include "base/result.h"

namespace folio {

inline constexpr int kDefaultPort = 11434;

struct HostPort {
  std::string host = "127.0.0.1";
  int port = kDefaultPort;
  std::string url() const;  // http://host:port (IPv6 in brackets)
};

Result<HostPort> parse_host(const std::string& s);
// FOLIO_HOST or the default.
Result<HostPort> host_from_env();

}  // namespace folio
