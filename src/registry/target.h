// Where a model lives in an OCI / Docker distribution registry (ref: the
// distribution spec, ollama server/images.go): a name without a host is
// registry.ollama.ai/library/NAME:latest, its manifest is
// GET /v2/<namespace>/<model>/manifests/<tag> and its blobs
// /v2/<namespace>/<model>/blobs/<digest>. https, unless --insecure or the
// registry is on this machine (localhost, 127.x, [::1]).
#pragma once

#include <string>

#include "store/name.h"

namespace folio {

struct RegistryTarget {
  std::string scheme;      // "https" or "http"
  std::string host;        // host[:port]
  std::string repository;  // namespace/model
  std::string tag;

  std::string origin() const { return scheme + "://" + host; }
  std::string manifest_path() const { return "/v2/" + repository + "/manifests/" + tag; }
  std::string blob_path(const std::string& digest) const { return "/v2/" + repository + "/blobs/" + digest; }
  std::string uploads_path() const { return "/v2/" + repository + "/blobs/uploads/"; }
  std::string manifest_url() const { return origin() + manifest_path(); }
};

RegistryTarget registry_target(const ModelName& name, bool insecure);

// localhost, *.localhost, 127.0.0.0/8 and [::1], with or without a port.
bool is_loopback_host(const std::string& host_port);

}  // namespace folio
