#include "server/address.h"

#include <cstdlib>

#include "base/strings.h"

namespace folio {

std::string HostPort::url() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HostPort> parse_host(const std::string& in) {
  HostPort hp;
  std::string s = in;
  if (s.rfind("http://", 0) == 0) s = s.substr(7);
  else if (s.rfind("https://", 0) == 0) s = s.substr(8);
  while (!s.empty() && s.back() == '/') s.pop_back();
  if (s.empty()) return hp;
  std::string port;
  if (s[0] == '[') {
    const size_t close = s.find(']');
    if (close == std::string::npos) return make_error("FOLIO_HOST '%s': unclosed '['", escape_for_display(in).c_str());
    hp.host = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':') return make_error("FOLIO_HOST '%s': expected :port after ']'", escape_for_display(in).c_str());
      port = s.substr(close + 2);
    }
  } else if (const size_t colon = s.rfind(':'); colon != std::string::npos && s.find(':') == colon) {
    if (colon > 0) hp.host = s.substr(0, colon);
    port = s.substr(colon + 1);
  } else {
    hp.host = s;
  }
  if (!port.empty()) {
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (*end != '\0' || p < 0 || p > 65535) {
      return make_error("FOLIO_HOST '%s': '%s' is not a port (0-65535)", escape_for_display(in).c_str(),
                        escape_for_display(port).c_str());
    }
    hp.port = static_cast<int>(p);
  }
  return hp;
}

Result<HostPort> host_from_env() {
  const char* env = std::getenv("FOLIO_HOST");
  return parse_host(env ? env : "");
}

}  // namespace folio
