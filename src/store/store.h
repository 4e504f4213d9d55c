// The model store in Ollama's layout (FOLIO_MODELS, default
// ~/.folio/models; point it at ~/.ollama/models to share Ollama's):
//   manifests/<host>/<namespace>/<model>/<tag>   the manifest (JSON)
//   blobs/sha256-<hex>                            content-addressed files
// Blobs and manifests appear atomically; nothing half-written is visible.
// Safe for concurrent readers; writers of the same name serialize through
// the file system (rename).
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/result.h"
#include "store/manifest.h"
#include "store/name.h"

namespace folio {

struct StoredModel {
  ModelName name;          // as stored (its case)
  std::string digest;      // sha256 of the manifest file: the ID `list` shows
  uint64_t size = 0;       // config + layers
  std::time_t modified = 0;
  Manifest manifest;
};

class Store {
 public:
  explicit Store(std::string root);
  // FOLIO_MODELS, else $HOME/.folio/models.
  static std::string default_root();
  const std::string& root() const { return root_; }

  // Errors for an invalid digest (never a path outside blobs/).
  Result<std::string> blob_path(const std::string& digest) const;
  bool has_blob(const std::string& digest) const;

  // A blob arriving in pieces (an HTTP upload): hashed while written,
  // unnamed until finish() names it by its digest.
  class BlobWriter {
   public:
    BlobWriter(BlobWriter&&) noexcept;
    ~BlobWriter();
    Result<void> write(const char* data, size_t n);
    // Verifies the expected digest (when given at start) and commits.
    Result<std::string> finish();

   private:
    friend class Store;
    BlobWriter(const Store* store, std::string expected, AtomicFile file);
    struct State;
    std::unique_ptr<State> s_;
  };
  Result<BlobWriter> start_blob(const std::string& expected = "");

  // Streams a blob in: read(buf, cap) returns bytes read (0 at the end).
  // Hashes while writing; when expected is set, a mismatch is an error and
  // nothing is kept. Returns the digest.
  Result<std::string> put_blob(const std::function<Result<size_t>(char*, size_t)>& read,
                               const std::string& expected = "");
  Result<std::string> put_blob_bytes(std::string_view bytes);
  // Copies a local file in (hash while copying). Returns its digest.
  Result<std::string> put_blob_file(const std::string& path);
  Result<std::string> read_blob_text(const std::string& digest, size_t max_bytes = 64u << 20) const;

  // The stored model matching name case-insensitively, or nullopt.
  Result<std::optional<StoredModel>> find(const ModelName& name) const;
  // Every model with a readable manifest, sorted by name.
  std::vector<StoredModel> list() const;
  // Writes (replaces) the manifest of name; every blob it names must exist.
  Result<void> put_manifest(const ModelName& name, const Manifest& m);
  // The same for a manifest's bytes as a registry sent them (kept byte for
  // byte, so its digest is the registry's); they must parse as a manifest.
  Result<void> put_manifest_raw(const ModelName& name, const std::string& bytes);
  // The bytes of a stored model's manifest file (what push sends).
  Result<std::string> manifest_bytes(const StoredModel& m) const;
  // Deletes a model and the blobs no other manifest uses.
  Result<void> remove(const ModelName& name);
  // Deletes every blob no manifest names (uploads of a create that failed,
  // leftovers of a crash) and returns how many bytes that freed. Deletes
  // nothing when some manifest cannot be read, since its blobs are unknown.
  // Only safe while nothing uploads: folio serve runs it at startup.
  // Blobs younger than min_age are kept (Ollama waits an hour).
  Result<uint64_t> prune(std::chrono::seconds min_age = std::chrono::hours(1));
  Result<void> copy(const ModelName& src, const ModelName& dst);
  // Deletes what writers killed mid-way left behind (a store written with
  // O_TMPFILE files leaves nothing, other file systems may): hidden
  // ".*.tmp-<pid>-*" files and ".quantize-<pid>-*" outputs, anywhere in the
  // store, whose process is gone. Returns how many. folio serve runs it at
  // startup (whatever FOLIO_NOPRUNE says).
  size_t remove_stale_temporaries() const;

 private:
  Result<StoredModel> load(const ModelName& stored, const std::string& path) const;
  // name with each part spelled as a directory on disk already spells it.
  ModelName canonical(const ModelName& name) const;
  Result<void> put_manifest_bytes(const ModelName& name, const std::string& bytes);
  // Deletes the blobs of old that no manifest names now.
  void delete_unused(const Manifest& old, const ModelName& name);
  void for_each_manifest_file(const std::function<bool(const ModelName&, const std::string&)>& fn) const;
  // The digests every manifest file names; an error if one is unreadable.
  Result<std::set<std::string>> referenced_blobs() const;
  std::string manifests_dir() const { return root_ + "/manifests"; }
  std::string blobs_dir() const { return root_ + "/blobs"; }

  std::string root_;
};

}  // namespace folio
