// `folio pull` / POST /api/pull and `folio push` / POST /api/push (ref:
// ollama server/images.go PullModel, PushModel; server/download.go; the
// distribution spec). Progress is reported as Ollama's NDJSON objects.
//
// Pull: the manifest (Docker v2 schema-2 Accept headers), then each blob
// the store lacks, in parallel ranged parts written into
// blobs/sha256-<hex>-partial with their progress in
// blobs/sha256-<hex>-partial.parts, so an interrupted pull (registry gone,
// client killed) continues where it stopped; each blob is verified by
// sha256 before it is named, and the manifest is written (byte for byte as
// the registry sent it) only when every blob is in. A blob that does not
// hash to its digest is deleted with its partial file: nothing is written.
//
// Push: each blob the registry does not have (HEAD) through an upload
// session (POST /v2/<repo>/blobs/uploads/, then PUT <location>&digest=),
// then the manifest's bytes.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "store/store.h"

namespace folio {

struct RegistryOptions {
  bool insecure = false;          // http, whatever the host
  std::mutex* store_mu = nullptr;  // held while the manifest is written (the server's write lock)
};

using Progress = std::function<void(const nlohmann::json&)>;

Result<void> pull_model(Store& store, const ModelName& name, const RegistryOptions& opts, const Progress& progress);
Result<void> push_model(const Store& store, const ModelName& name, const RegistryOptions& opts, const Progress& progress);

}  // namespace folio
