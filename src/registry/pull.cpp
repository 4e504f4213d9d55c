#include "registry/pull.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "base/failpoint.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "registry/client.h"
#include "registry/target.h"
#include "store/manifest.h"

namespace folio {

namespace {

using nlohmann::json;

constexpr const char* kManifestAccept =
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";
constexpr uint64_t kMinPart = 256u << 10;  // parts of a blob: at least this large
constexpr uint64_t kMaxParts = 8;          // and at most this many, downloaded at once
constexpr uint64_t kSaveEvery = 4u << 20;  // a part's progress is saved every this many bytes

// "pulling 8eeb52dfb3bb": Ollama shows the first 12 hex digits.
std::string short_digest(const std::string& d) { return d.substr(7, 12); }

struct Part {
  uint64_t offset = 0, size = 0;
  std::atomic<uint64_t> done{0};
  Part() = default;
  Part(uint64_t o, uint64_t s, uint64_t d) : offset(o), size(s), done(d) {}
  Part(const Part& p) : offset(p.offset), size(p.size), done(p.done.load()) {}
  Part& operator=(const Part& p) {
    offset = p.offset;
    size = p.size;
    done = p.done.load();
    return *this;
  }
};

std::vector<Part> plan_parts(uint64_t total) {
  const uint64_t n = std::clamp<uint64_t>(total / kMinPart, 1, kMaxParts);
  std::vector<Part> parts;
  const uint64_t each = (total + n - 1) / n;
  for (uint64_t at = 0; at < total || parts.empty(); at += each) parts.emplace_back(at, std::min(each, total - at), 0);
  return parts;
}

// The parts file: "offset size done" per line; parts that tile [0, total).
std::vector<Part> read_parts(const std::string& path, uint64_t total) {
  std::ifstream in(path);
  std::vector<Part> parts;
  uint64_t o, s, d, expect = 0;
  while (in >> o >> s >> d) {
    if (o != expect || d > s) return {};
    parts.emplace_back(o, s, d);
    expect = o + s;
  }
  if (expect != total || parts.empty()) return {};
  return parts;
}

Result<void> write_parts(const std::string& path, const std::vector<Part>& parts) {
  std::string text;
  for (const Part& p : parts) {
    text += std::to_string(p.offset) + " " + std::to_string(p.size) + " " + std::to_string(p.done.load()) + "\n";
  }
  FOLIO_ASSIGN_OR_RETURN(AtomicFile f, AtomicFile::create(path));
  FOLIO_TRY(f.write(text.data(), text.size()));
  return f.commit();
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// One blob into the store: resumed from its partial file, verified, named.
Result<void> fetch_blob(RegistryClient& client, Store& store, const Layer& layer, const Progress& progress) {
  FOLIO_ASSIGN_OR_RETURN(std::string final_path, store.blob_path(layer.digest));
  const std::string partial = final_path + "-partial", parts_path = partial + ".parts";
  const std::string status = "pulling " + short_digest(layer.digest);
  std::error_code ec;
  std::filesystem::create_directories(dir_name(final_path), ec);
  Fd f;
  f.fd = ::open(partial.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (f.fd < 0) return make_error("cannot write %s: %s", partial.c_str(), std::strerror(errno));
  // One pull of a blob at a time; a second one finds it done.
  ::flock(f.fd, LOCK_EX);
  if (store.has_blob(layer.digest)) {
    progress({{"status", status}, {"digest", layer.digest}, {"total", layer.size}, {"completed", layer.size}});
    return {};
  }
  struct stat st;
  if (::fstat(f.fd, &st) != 0) return make_error("cannot read %s: %s", partial.c_str(), std::strerror(errno));
  std::vector<Part> parts = static_cast<uint64_t>(st.st_size) == layer.size ? read_parts(parts_path, layer.size)
                                                                          : std::vector<Part>{};
  if (parts.empty()) {
    if (::ftruncate(f.fd, static_cast<off_t>(layer.size)) != 0) {
      return make_error("cannot make room for %s (%s): %s", layer.digest.c_str(), human_bytes(layer.size).c_str(),
                        std::strerror(errno));
    }
    parts = plan_parts(layer.size);
    FOLIO_TRY(write_parts(parts_path, parts));
  }
  const auto completed = [&] {
    uint64_t n = 0;
    for (const Part& p : parts) n += p.done.load();
    return n;
  };
  progress({{"status", status}, {"digest", layer.digest}, {"total", layer.size}, {"completed", completed()}});

  std::mutex mu;  // the parts file and the first error
  Error failure;
  bool failed = false;
  std::atomic<bool> no_ranges{false};
  std::atomic<int> running{0};
  std::condition_variable cv;
  const auto fetch_part = [&](Part& p) {
    uint64_t since_save = 0;
    const uint64_t from = p.offset + p.done.load(), to = p.offset + p.size - 1;
    auto r = client.download(client.target().blob_path(layer.digest),
                             {{"Range", "bytes=" + std::to_string(from) + "-" + std::to_string(to)}},
                             [&](const char* data, size_t n) {
                               if (no_ranges) return false;
                               const uint64_t at = p.offset + p.done.load();
                               n = static_cast<size_t>(std::min<uint64_t>(n, p.offset + p.size - at));
                               if (::pwrite(f.fd, data, n, static_cast<off_t>(at)) != static_cast<ssize_t>(n)) return false;
                               p.done += n;
                               failpoint("pulling");  // some of a blob written
                               if ((since_save += n) >= kSaveEvery) {
                                 since_save = 0;
                                 std::lock_guard<std::mutex> lock(mu);
                                 (void)write_parts(parts_path, parts);
                               }
                               return p.done.load() < p.size;
                             });
    std::lock_guard<std::mutex> lock(mu);
    if (p.done.load() >= p.size) {
      // all of it (the receiver stops at the end of the part)
    } else if (r.ok() && r->status == 200 && from != 0) {
      no_ranges = true;  // a registry that ignores Range: one whole download instead
    } else if (!failed) {
      failed = true;
      failure = !r.ok() ? make_error("the download of %s stopped after %s of %s (%s); pull again to continue where it "
                                     "stopped",
                                     layer.digest.c_str(), human_bytes(completed()).c_str(), human_bytes(layer.size).c_str(),
                                     r.error().message.c_str())
                        : r->status >= 300 ? make_error("the registry refused %s: %s", layer.digest.c_str(),
                                                        registry_error(*r).c_str())
                                           : make_error("the registry sent %s short (%s of %s)", layer.digest.c_str(),
                                                        human_bytes(p.done.load()).c_str(), human_bytes(p.size).c_str());
    }
    --running;
    cv.notify_all();
  };
  std::vector<std::thread> threads;
  for (Part& p : parts) {
    if (p.done.load() >= p.size) continue;
    ++running;
    threads.emplace_back(fetch_part, std::ref(p));
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    while (running > 0) {
      cv.wait_for(lock, std::chrono::milliseconds(200));
      const uint64_t c = completed();
      lock.unlock();
      progress({{"status", status}, {"digest", layer.digest}, {"total", layer.size}, {"completed", c}});
      lock.lock();
    }
  }
  for (auto& t : threads) t.join();
  if (no_ranges && !failed) {
    // Whole, from the start, as one part.
    parts = {Part(0, layer.size, 0)};
    ++running;
    fetch_part(parts[0]);
  }
  (void)write_parts(parts_path, parts);
  if (failed) return failure;
  progress({{"status", status}, {"digest", layer.digest}, {"total", layer.size}, {"completed", layer.size}});

  // Verified before it is named; a blob that is not what the manifest says
  // is not kept, nor its partial file.
  progress({{"status", "verifying sha256 digest"}, {"digest", layer.digest}});
  if (::fsync(f.fd) != 0) return make_error("cannot write %s: %s", partial.c_str(), std::strerror(errno));
  FOLIO_ASSIGN_OR_RETURN(std::string hex, sha256_file(partial));
  if ("sha256:" + hex != layer.digest) {
    ::unlink(partial.c_str());
    ::unlink(parts_path.c_str());
    return make_error("digest mismatch: %s from the registry hashes to sha256:%s; nothing was kept, pull again",
                      layer.digest.c_str(), hex.c_str());
  }
  failpoint("pulled");  // verified, not yet named
  if (::rename(partial.c_str(), final_path.c_str()) != 0) {
    return make_error("cannot name %s: %s", final_path.c_str(), std::strerror(errno));
  }
  ::unlink(parts_path.c_str());
  return {};
}

}  // namespace

Result<void> pull_model(Store& store, const ModelName& name, const RegistryOptions& opts, const Progress& progress) {
  RegistryClient client(registry_target(name, opts.insecure));
  progress({{"status", "pulling manifest"}});
  FOLIO_ASSIGN_OR_RETURN(RegistryResponse r,
                         client.request("GET", client.target().manifest_path(), {{"Accept", kManifestAccept}}));
  if (r.status == 404) {
    return make_error("pull model manifest: %s is not in the registry at %s (%s)", name.display().c_str(),
                      client.target().origin().c_str(), registry_error(r).c_str());
  }
  if (r.status != 200) return make_error("pull model manifest: %s", registry_error(r).c_str());
  auto manifest = Manifest::parse(r.body);
  if (!manifest.ok()) {
    return make_error("pull model manifest: the registry sent a manifest folio cannot read: %s",
                      manifest.error().message.c_str());
  }
  const std::vector<Layer> blobs = manifest->blobs();
  for (const Layer& l : blobs) {
    if (!is_valid_digest(l.digest)) return make_error("pull model manifest: invalid digest '%s'", l.digest.c_str());
  }
  // Room for what is missing, checked before anything is fetched.
  uint64_t missing = 0;
  for (const Layer& l : blobs) missing += store.has_blob(l.digest) ? 0 : l.size;
  std::error_code ec;
  std::filesystem::create_directories(store.root() + "/blobs", ec);
  struct statvfs fs;
  if (missing > 0 && ::statvfs((store.root() + "/blobs").c_str(), &fs) == 0) {
    const uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (free_bytes < missing) {
      return make_error("not enough disk space for %s: it needs %s more and %s has %s free", name.display().c_str(),
                        human_bytes(missing).c_str(), store.root().c_str(), human_bytes(free_bytes).c_str());
    }
  }
  for (const Layer& l : blobs) FOLIO_TRY(fetch_blob(client, store, l, progress));
  progress({{"status", "writing manifest"}});
  {
    std::unique_lock<std::mutex> lock;
    if (opts.store_mu != nullptr) lock = std::unique_lock<std::mutex>(*opts.store_mu);
    FOLIO_TRY(store.put_manifest_raw(name, r.body));
  }
  progress({{"status", "success"}});
  return {};
}

Result<void> push_model(const Store& store, const ModelName& name, const RegistryOptions& opts, const Progress& progress) {
  progress({{"status", "retrieving manifest"}});
  FOLIO_ASSIGN_OR_RETURN(std::optional<StoredModel> found, store.find(name));
  if (!found) return make_error("model '%s' not found", name.display().c_str());
  FOLIO_ASSIGN_OR_RETURN(std::string bytes, store.manifest_bytes(*found));
  RegistryClient client(registry_target(name, opts.insecure));
  const RegistryTarget& t = client.target();
  for (const Layer& l : found->manifest.blobs()) {
    const std::string status = "pushing " + short_digest(l.digest);
    FOLIO_ASSIGN_OR_RETURN(RegistryResponse head, client.request("HEAD", t.blob_path(l.digest)));
    if (head.status == 200) {
      progress({{"status", status}, {"digest", l.digest}, {"total", l.size}, {"completed", l.size}});
      continue;
    }
    FOLIO_ASSIGN_OR_RETURN(RegistryResponse start, client.request("POST", t.uploads_path()));
    const std::string location = start.header("location");
    if (start.status != 202 || location.empty()) {
      return make_error("push %s: the registry did not start an upload: %s", l.digest.c_str(), registry_error(start).c_str());
    }
    FOLIO_ASSIGN_OR_RETURN(std::string path, store.blob_path(l.digest));
    Fd f;
    f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f.fd < 0) return make_error("cannot read %s: %s", path.c_str(), std::strerror(errno));
    auto last = std::chrono::steady_clock::now();
    const std::string url = location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + l.digest;
    FOLIO_ASSIGN_OR_RETURN(RegistryResponse put, client.upload(url, f.fd, l.size, [&](uint64_t sent) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::milliseconds(200) && sent < l.size) return;
      last = now;
      progress({{"status", status}, {"digest", l.digest}, {"total", l.size}, {"completed", sent}});
    }));
    if (put.status != 201) return make_error("push %s: %s", l.digest.c_str(), registry_error(put).c_str());
    progress({{"status", status}, {"digest", l.digest}, {"total", l.size}, {"completed", l.size}});
  }
  progress({{"status", "pushing manifest"}});
  FOLIO_ASSIGN_OR_RETURN(RegistryResponse put, client.request("PUT", t.manifest_path(), {}, bytes,
                                                              found->manifest.media_type.empty() ? kMediaManifest
                                                                                                 : found->manifest.media_type));
  if (put.status != 201 && put.status != 200) return make_error("push manifest: %s", registry_error(put).c_str());
  progress({{"status", "success"}});
  return {};
}

}  // namespace folio
