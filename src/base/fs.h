// File helpers: atomic creation (temp file + fsync + rename) so that no
// half-written file is ever visible under its final name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace folio {

// A file being written that appears under its final path only when
// complete. It is written as an unnamed file in the target directory
// (O_TMPFILE), so a process killed at any point, even by SIGKILL, leaves
// nothing behind; where the file system has no O_TMPFILE, under a hidden
// temporary name removed on destruction. commit() fsyncs, names it and
// renames it into place. Not copyable; not thread-safe.
class AtomicFile {
 public:
  static Result<AtomicFile> create(const std::string& final_path);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  ~AtomicFile();

  // Appends bytes (buffered). Errors name the path and the cause (ENOSPC...).
  Result<void> write(const void* data, size_t n);
  Result<void> write_zeros(size_t n);
  uint64_t bytes_written() const { return written_; }
  Result<void> commit();
  // Commits under another final path in the same directory (for files
  // named by their content, known only once written).
  Result<void> commit_as(const std::string& final_path);
  const std::string& temp_path() const { return temp_path_; }

 private:
  AtomicFile(int fd, std::string final_path, std::string temp_path);
  // Gives the unnamed file a hidden name in its directory.
  Result<void> link_unnamed();
  Result<void> flush();

  int fd_ = -1;
  std::string final_path_;
  std::string temp_path_;
  std::string buf_;
  uint64_t written_ = 0;
  bool committed_ = false;
};

// The hidden name (mkstemp template) an AtomicFile for final_path uses when
// it needs one: ".<base>.tmp-<pid>-XXXXXX", so whoever finds one left by a
// killed process can tell whose it was.
std::string temp_template(const std::string& final_path);
// For a name made from temp_template: the pid that made it; 0 for a
// temporary name without a pid; -1 for any other name.
int temp_owner(std::string_view name);

// Returns the size of a regular file, or an error naming the path.
Result<uint64_t> file_size(const std::string& path);

// Returns the directory of path ("." when it has none).
std::string dir_name(const std::string& path);
// Returns the last component of path.
std::string base_name(const std::string& path);

}  // namespace folio
