#include "registry/target.h"

#include "base/strings.h"

namespace folio {

bool is_loopback_host(const std::string& host_port) {
  std::string host = to_lower(host_port);
  if (!host.empty() && host[0] == '[') {
    const size_t close = host.find(']');
    return close != std::string::npos && host.substr(1, close - 1) == "::1";
  }
  if (const size_t colon = host.find(':'); colon != std::string::npos) host.resize(colon);
  if (host == "localhost" || (host.size() > 10 && host.compare(host.size() - 10, 10, ".localhost") == 0)) return true;
  return host.rfind("127.", 0) == 0;
}

RegistryTarget registry_target(const ModelName& name, bool insecure) {
  RegistryTarget t;
  t.host = name.host;
  t.scheme = insecure || is_loopback_host(name.host) ? "http" : "https";
  t.repository = name.ns + "/" + name.model;
  t.tag = name.tag;
  return t;
}

}  // namespace folio
