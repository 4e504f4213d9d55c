// Who may talk to the server, as Ollama decides it (server/routes.go
// allowedHostsMiddleware, envconfig.AllowedOrigins):
// - DNS-rebinding guard: when folio listens on a loopback address, a request
//   whose Host header names anything but a local host (localhost, *.localhost,
//   *.local, *.internal, this machine's hostname, a loopback, private,
//   unspecified or local interface address) is refused with 403, so a web page
//   that rebinds its own name to 127.0.0.1 cannot reach the API.
// - CORS: a browser Origin is allowed when it matches FOLIO_ORIGINS
//   (comma-separated, '*' wildcards) or the defaults (http(s)://localhost,
//   127.0.0.1 and 0.0.0.0 on any port, app://, file://, tauri://,
//   vscode-webview://, vscode-file://, browser extensions); a request from
//   another origin is refused with 403.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace folio {

// Whether a request with this Host header may be served by a server bound
// to bind_host (an address or name, as in FOLIO_HOST).
bool host_allowed(std::string_view host_header, std::string_view bind_host);

class OriginPolicy {
 public:
  // origins_env: FOLIO_ORIGINS' value (may be empty).
  explicit OriginPolicy(std::string_view origins_env);
  bool allowed(std::string_view origin) const;
  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  std::vector<std::string> patterns_;
};

}  // namespace folio
