#include "store/store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include "base/failpoint.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/sha256.h"
#include "base/strings.h"

namespace folio {

namespace {

// Large enough for safetensors-based manifests with thousands of layers.
constexpr size_t kMaxManifest = 64u << 20;

std::vector<std::string> dir_entries(const std::string& dir, bool hidden = false) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != ".." && (hidden || n[0] != '.')) out.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<void> make_dirs(const std::string& path) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && !is_dir(cur) && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        return make_error("cannot create %s: %s", cur.c_str(), std::strerror(errno));
      }
    }
    if (i < path.size()) cur += path[i];
  }
  return {};
}

// The entries of dir equal to name ignoring case, an exact match first.
std::vector<std::string> fold_matches(const std::string& dir, const std::string& name) {
  const std::string lower = to_lower(name);
  std::vector<std::string> out;
  for (const std::string& e : dir_entries(dir)) {
    if (e == name) out.insert(out.begin(), e);
    else if (to_lower(e) == lower) out.push_back(e);
  }
  return out;
}

Result<std::string> read_all(const std::string& path, size_t max) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return make_error("cannot open %s: %s", path.c_str(), std::strerror(errno));
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    out.append(buf, n);
    if (out.size() > max) {
      std::fclose(f);
      return make_error("%s is larger than %zu bytes", path.c_str(), max);
    }
  }
  std::fclose(f);
  return out;
}

}  // namespace

Store::Store(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string Store::default_root() {
  if (const char* env = std::getenv("FOLIO_MODELS"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.folio/models";
}

Result<std::string> Store::blob_path(const std::string& digest) const {
  if (!is_valid_digest(digest)) {
    return make_error("invalid digest '%s': expected sha256:<64 hex digits>", escape_for_display(digest).c_str());
  }
  return blobs_dir() + "/sha256-" + digest.substr(7);
}

bool Store::has_blob(const std::string& digest) const {
  auto p = blob_path(digest);
  return p.ok() && ::access(p->c_str(), R_OK) == 0;
}

struct Store::BlobWriter::State {
  State(const Store* st, std::string exp, AtomicFile f) : store(st), expected(std::move(exp)), file(std::move(f)) {}
  const Store* store;
  std::string expected;
  AtomicFile file;
  Sha256 hash;
};

Store::BlobWriter::BlobWriter(const Store* store, std::string expected, AtomicFile file)
    : s_(std::make_unique<State>(store, std::move(expected), std::move(file))) {}
Store::BlobWriter::BlobWriter(BlobWriter&&) noexcept = default;
Store::BlobWriter::~BlobWriter() = default;

Result<void> Store::BlobWriter::write(const char* data, size_t n) {
  s_->hash.update(data, n);
  return s_->file.write(data, n);
}

Result<std::string> Store::BlobWriter::finish() {
  const std::string digest = "sha256:" + s_->hash.hex();
  if (!s_->expected.empty() && digest != s_->expected) {
    return make_error("digest mismatch: the data hashes to %s, not %s", digest.c_str(), s_->expected.c_str());
  }
  FOLIO_ASSIGN_OR_RETURN(std::string path, s_->store->blob_path(digest));
  if (::access(path.c_str(), F_OK) == 0) return digest;  // already stored; the copy vanishes
  failpoint("blob-complete");
  FOLIO_TRY(s_->file.commit_as(path));
  return digest;
}

Result<Store::BlobWriter> Store::start_blob(const std::string& expected) {
  if (!expected.empty()) FOLIO_TRY(blob_path(expected));
  FOLIO_TRY(make_dirs(blobs_dir()));
  // Written unnamed in blobs/, named by its digest once complete.
  FOLIO_ASSIGN_OR_RETURN(AtomicFile f, AtomicFile::create(blobs_dir() + "/incoming"));
  return BlobWriter(this, expected, std::move(f));
}

Result<std::string> Store::put_blob(const std::function<Result<size_t>(char*, size_t)>& read,
                                    const std::string& expected) {
  FOLIO_ASSIGN_OR_RETURN(BlobWriter w, start_blob(expected));
  std::string buf(1 << 20, '\0');
  for (;;) {
    FOLIO_ASSIGN_OR_RETURN(size_t n, read(buf.data(), buf.size()));
    if (n == 0) break;
    FOLIO_TRY(w.write(buf.data(), n));
  }
  return w.finish();
}

Result<std::string> Store::put_blob_bytes(std::string_view bytes) {
  size_t pos = 0;
  return put_blob([&](char* buf, size_t cap) -> Result<size_t> {
    const size_t n = std::min(cap, bytes.size() - pos);
    std::memcpy(buf, bytes.data() + pos, n);
    pos += n;
    return n;
  });
}

Result<std::string> Store::put_blob_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return make_error("cannot open %s: %s", path.c_str(), std::strerror(errno));
  auto r = put_blob([&](char* buf, size_t cap) -> Result<size_t> {
    const size_t n = std::fread(buf, 1, cap, f);
    if (n == 0 && std::ferror(f)) return make_error("cannot read %s", path.c_str());
    return n;
  });
  std::fclose(f);
  return r;
}

Result<std::string> Store::read_blob_text(const std::string& digest, size_t max_bytes) const {
  FOLIO_ASSIGN_OR_RETURN(std::string path, blob_path(digest));
  return read_all(path, max_bytes);
}

Result<StoredModel> Store::load(const ModelName& stored, const std::string& path) const {
  FOLIO_ASSIGN_OR_RETURN(std::string text, read_all(path, kMaxManifest));
  auto m = Manifest::parse(text);
  if (!m.ok()) return make_error("%s: %s", path.c_str(), m.error().message.c_str());
  StoredModel s;
  s.name = stored;
  s.digest = sha256_hex(text);
  s.manifest = std::move(m).value();
  s.size = s.manifest.total_size();
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) s.modified = st.st_mtime;
  return s;
}

Result<std::optional<StoredModel>> Store::find(const ModelName& name) const {
  // Every spelling on disk that matches ignoring case is tried, the exact one
  // first: Foo/a and foo/b may both exist (Ollama matches each part alone).
  const std::string wanted[] = {name.host, name.ns, name.model, name.tag};
  std::string parts[4];
  std::function<std::optional<std::string>(int, const std::string&)> walk = [&](int level, const std::string& dir)
      -> std::optional<std::string> {
    if (level == 4) return ::access(dir.c_str(), R_OK) == 0 && !is_dir(dir) ? std::optional<std::string>(dir) : std::nullopt;
    for (const std::string& e : fold_matches(dir, wanted[level])) {
      parts[level] = e;
      if (auto found = walk(level + 1, dir + "/" + e)) return found;
    }
    return std::nullopt;
  };
  const std::optional<std::string> path = walk(0, manifests_dir());
  if (!path) return std::optional<StoredModel>();
  FOLIO_ASSIGN_OR_RETURN(StoredModel m, load(ModelName{parts[0], parts[1], parts[2], parts[3]}, *path));
  return std::optional<StoredModel>(std::move(m));
}

ModelName Store::canonical(const ModelName& name) const {
  const std::string wanted[] = {name.host, name.ns, name.model, name.tag};
  std::string parts[4];
  std::string dir = manifests_dir();
  for (int i = 0; i < 4; ++i) {
    const std::vector<std::string> m = fold_matches(dir, wanted[i]);
    parts[i] = m.empty() ? wanted[i] : m.front();
    dir += "/" + parts[i];
  }
  return ModelName{parts[0], parts[1], parts[2], parts[3]};
}

// Calls fn(name, path) for every file four levels under manifests/, until
// fn returns false.
void Store::for_each_manifest_file(const std::function<bool(const ModelName&, const std::string&)>& fn) const {
  const std::string base = manifests_dir();
  for (const std::string& host : dir_entries(base)) {
    for (const std::string& ns : dir_entries(base + "/" + host)) {
      for (const std::string& model : dir_entries(base + "/" + host + "/" + ns)) {
        const std::string mdir = base + "/" + host + "/" + ns + "/" + model;
        for (const std::string& tag : dir_entries(mdir)) {
          if (!fn(ModelName{host, ns, model, tag}, mdir + "/" + tag)) return;
        }
      }
    }
  }
}

std::vector<StoredModel> Store::list() const {
  std::vector<StoredModel> out;
  for_each_manifest_file([&](const ModelName& n, const std::string& path) {
    if (!parse_model_name(n.display()).ok()) return true;  // not a name folio or Ollama would write
    auto m = load(n, path);
    if (m.ok()) out.push_back(std::move(m).value());
    return true;
  });
  std::sort(out.begin(), out.end(), [](const StoredModel& a, const StoredModel& b) {
    return to_lower(a.name.display()) < to_lower(b.name.display());
  });
  return out;
}

// Every blob a manifest names is in the store.
static Result<void> blobs_present(const Store& store, const Manifest& m) {
  for (const Layer& l : m.blobs()) {
    if (!store.has_blob(l.digest)) return make_error("blob %s is missing from the store", l.digest.c_str());
  }
  return {};
}

Result<void> Store::put_manifest(const ModelName& name, const Manifest& m) {
  FOLIO_TRY(blobs_present(*this, m));
  return put_manifest_bytes(name, m.to_json());
}

Result<void> Store::put_manifest_raw(const ModelName& name, const std::string& bytes) {
  FOLIO_ASSIGN_OR_RETURN(Manifest m, Manifest::parse(bytes));
  FOLIO_TRY(blobs_present(*this, m));
  return put_manifest_bytes(name, bytes);
}

Result<std::string> Store::manifest_bytes(const StoredModel& m) const {
  return read_all(manifests_dir() + "/" + m.name.manifest_path(), kMaxManifest);
}

Result<void> Store::put_manifest_bytes(const ModelName& name, const std::string& bytes) {
  // Each part keeps the spelling it already has on disk, in any case.
  FOLIO_ASSIGN_OR_RETURN(std::optional<StoredModel> existing, find(name));
  const ModelName target = existing ? existing->name : canonical(name);
  const std::string path = manifests_dir() + "/" + target.manifest_path();
  FOLIO_TRY(make_dirs(dir_name(path)));
  FOLIO_ASSIGN_OR_RETURN(AtomicFile f, AtomicFile::create(path));
  FOLIO_TRY(f.write(bytes.data(), bytes.size()));
  failpoint("manifest-written");
  FOLIO_TRY(f.commit());
  // A replaced model's blobs that nothing uses any more go.
  failpoint("manifest-replaced");
  if (existing) delete_unused(existing->manifest, name);
  return {};
}

void Store::delete_unused(const Manifest& old, const ModelName& name) {
  auto used = referenced_blobs();
  if (!used.ok()) {
    FOLIO_LOG_WARN("keeping the blobs of %s: %s", name.display().c_str(), used.error().message.c_str());
    return;
  }
  std::vector<std::string> candidates{old.config.digest};
  for (const Layer& l : old.layers) candidates.push_back(l.digest);
  for (const std::string& d : candidates) {
    if (used->count(d)) continue;
    if (auto p = blob_path(d); p.ok()) ::unlink(p->c_str());
  }
}

Result<void> Store::remove(const ModelName& name) {
  FOLIO_ASSIGN_OR_RETURN(std::optional<StoredModel> found, find(name));
  if (!found) return make_error("model '%s' not found", name.display().c_str());
  const std::string path = manifests_dir() + "/" + found->name.manifest_path();
  if (::unlink(path.c_str()) != 0) return make_error("cannot delete %s: %s", path.c_str(), std::strerror(errno));
  // Empty directories up to manifests/ go too.
  std::string dir = dir_name(path);
  while (dir.size() > manifests_dir().size() && ::rmdir(dir.c_str()) == 0) dir = dir_name(dir);
  // Blobs that no remaining manifest names (all kept if one is unreadable).
  failpoint("manifest-removed");
  delete_unused(found->manifest, name);
  return {};
}

Result<std::set<std::string>> Store::referenced_blobs() const {
  std::set<std::string> used;
  Error failure;
  bool failed = false;
  for_each_manifest_file([&](const ModelName&, const std::string& path) {
    auto text = read_all(path, kMaxManifest);
    auto m = text.ok() ? Manifest::parse(*text) : Result<Manifest>(text.error());
    if (!m.ok()) {
      failure = make_error("%s: %s", path.c_str(), m.error().message.c_str());
      failed = true;
      return false;
    }
    used.insert(m->config.digest);
    for (const Layer& l : m->layers) used.insert(l.digest);
    return true;
  });
  if (failed) return failure;
  return used;
}

Result<uint64_t> Store::prune(std::chrono::seconds min_age) {
  FOLIO_ASSIGN_OR_RETURN(std::set<std::string> used, referenced_blobs());
  uint64_t freed = 0;
  const std::time_t now = std::time(nullptr);
  for (const std::string& entry : dir_entries(blobs_dir(), true)) {
    const std::string path = blobs_dir() + "/" + entry;
    // Complete blobs only: Ollama's "sha256-<hex>-partial*" files belong to
    // a pull in progress, and anything else is not ours.
    const bool blob = entry.size() == 7 + 64 && entry.rfind("sha256-", 0) == 0;
    if (blob && used.count("sha256:" + entry.substr(7))) continue;
    if (!blob && entry.rfind(".quantize-", 0) != 0) continue;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    // Maybe uploaded for a create about to come. (No age asked: no check; a
    // file's coarse timestamp can be a tick ahead of time() and would read
    // as not yet old enough.)
    if (min_age.count() > 0 && now - st.st_mtime < min_age.count()) continue;
    if (::unlink(path.c_str()) == 0) freed += static_cast<uint64_t>(st.st_size);
  }
  return freed;
}

size_t Store::remove_stale_temporaries() const {
  // The pid a leftover names: AtomicFile's hidden names, create's
  // quantization output. -1: not a temporary.
  const auto owner = [](const std::string& name) -> int {
    if (name.rfind(".quantize-", 0) == 0) {
      const int pid = std::atoi(name.c_str() + 10);
      return pid > 0 ? pid : 0;
    }
    return temp_owner(name);
  };
  const auto gone = [](int pid) { return pid == 0 || (::kill(pid, 0) != 0 && errno == ESRCH); };
  size_t removed = 0;
  std::error_code ec;
  namespace fs = std::filesystem;
  for (const std::string& top : {blobs_dir(), manifests_dir()}) {
    if (!fs::is_directory(top, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(top, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (it->is_symlink(ec) || !it->is_regular_file(ec)) continue;
      const int pid = owner(it->path().filename().string());
      if (pid < 0 || !gone(pid)) continue;
      if (::unlink(it->path().c_str()) == 0) ++removed;
    }
  }
  return removed;
}

Result<void> Store::copy(const ModelName& src, const ModelName& dst) {
  FOLIO_ASSIGN_OR_RETURN(std::optional<StoredModel> found, find(src));
  if (!found) return make_error("model '%s' not found", src.display().c_str());
  if (found->name.equal_fold(dst)) return {};  // copying onto itself
  // The manifest's bytes, as they are: the copy has the same ID, and fields
  // folio does not model survive.
  FOLIO_ASSIGN_OR_RETURN(std::string bytes, read_all(manifests_dir() + "/" + found->name.manifest_path(), kMaxManifest));
  return put_manifest_bytes(dst, bytes);
}

}  // namespace folio
