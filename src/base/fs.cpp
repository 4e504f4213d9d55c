#include "base/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace folio {

namespace {
constexpr size_t kBufferBytes = 4 << 20;

Error io_error(const char* what, const std::string& path, int err) {
  std::string advice;
  if (err == ENOSPC || err == EDQUOT) advice = "; free some disk space and try again";
  if (err == EACCES || err == EPERM || err == EROFS) advice = "; check the directory's permissions";
  return make_error("cannot %s %s: %s%s", what, path.c_str(), std::strerror(err), advice.c_str());
}
}  // namespace

AtomicFile::AtomicFile(int fd, std::string final_path, std::string temp_path)
    : fd_(fd), final_path_(std::move(final_path)), temp_path_(std::move(temp_path)) {
  buf_.reserve(kBufferBytes);
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept
    : fd_(o.fd_),
      final_path_(std::move(o.final_path_)),
      temp_path_(std::move(o.temp_path_)),
      buf_(std::move(o.buf_)),
      written_(o.written_),
      committed_(o.committed_) {
  o.fd_ = -1;
  o.committed_ = true;  // the moved-from object owns nothing to clean up
}

std::string temp_template(const std::string& final_path) {
  return dir_name(final_path) + "/." + base_name(final_path) + ".tmp-" + std::to_string(::getpid()) + "-XXXXXX";
}

int temp_owner(std::string_view name) {
  const size_t at = name.rfind(".tmp-");
  if (name.empty() || name[0] != '.' || at == std::string_view::npos) return -1;
  int pid = 0;
  size_t i = at + 5;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && pid < 100000000; ++i) pid = pid * 10 + (name[i] - '0');
  return i < name.size() && name[i] == '-' && pid > 0 ? pid : 0;
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

Result<AtomicFile> AtomicFile::create(const std::string& final_path) {
  const std::string dir = dir_name(final_path);
  const int unnamed = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (unnamed >= 0) return AtomicFile(unnamed, final_path, "");
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return io_error("create a file in", dir, errno);
  std::string tmpl = temp_template(final_path);
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return io_error("create a file in", dir, errno);
  ::fchmod(fd, 0644);
  return AtomicFile(fd, final_path, tmpl);
}

Result<void> AtomicFile::link_unnamed() {
  // A unique hidden name: mkstemp reserves it, then the unnamed file takes
  // its place (linkat cannot replace an existing name).
  std::string tmpl = temp_template(final_path_);
  const int placeholder = ::mkstemp(tmpl.data());
  if (placeholder < 0) return io_error("create a file in", dir_name(final_path_), errno);
  ::close(placeholder);
  ::unlink(tmpl.c_str());
  const std::string proc = "/proc/self/fd/" + std::to_string(fd_);
  if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, tmpl.c_str(), AT_SYMLINK_FOLLOW) != 0 &&
      ::linkat(fd_, "", AT_FDCWD, tmpl.c_str(), AT_EMPTY_PATH) != 0) {
    return io_error("name", final_path_, errno);
  }
  temp_path_ = tmpl;
  return {};
}

Result<void> AtomicFile::flush() {
  const char* p = buf_.data();
  size_t left = buf_.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write", final_path_, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  buf_.clear();
  return {};
}

Result<void> AtomicFile::write(const void* data, size_t n) {
  FOLIO_CHECK(fd_ >= 0 && !committed_);
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    size_t room = kBufferBytes - buf_.size();
    size_t take = n < room ? n : room;
    buf_.append(p, take);
    p += take;
    n -= take;
    written_ += take;
    if (buf_.size() == kBufferBytes) FOLIO_TRY(flush());
  }
  return {};
}

Result<void> AtomicFile::write_zeros(size_t n) {
  static const char zeros[256] = {};
  while (n > 0) {
    size_t take = n < sizeof zeros ? n : sizeof zeros;
    FOLIO_TRY(write(zeros, take));
    n -= take;
  }
  return {};
}

Result<void> AtomicFile::commit() {
  FOLIO_TRY(flush());
  if (::fsync(fd_) != 0) return io_error("sync", final_path_, errno);
  if (temp_path_.empty()) FOLIO_TRY(link_unnamed());
  if (::close(fd_) != 0) {
    fd_ = -1;
    return io_error("close", final_path_, errno);
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    return io_error("rename into place", final_path_, errno);
  }
  committed_ = true;
  // Make the rename durable too.
  int dfd = ::open(dir_name(final_path_).c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<void> AtomicFile::commit_as(const std::string& final_path) {
  final_path_ = final_path;
  return commit();
}

Result<uint64_t> file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return make_error("%s: no such file", path.c_str());
    return io_error("stat", path, errno);
  }
  if (!S_ISREG(st.st_mode)) return make_error("%s: not a regular file", path.c_str());
  return static_cast<uint64_t>(st.st_size);
}

std::string dir_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace folio
