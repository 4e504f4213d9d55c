#include "memory/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "base/strings.h"

namespace folio {

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

size_t page_size() {
  static const size_t p = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return p;
}

Error lock_error(const std::string& path, size_t size, int err) {
  struct rlimit rl{};
  ::getrlimit(RLIMIT_MEMLOCK, &rl);
  std::string limit = rl.rlim_cur == RLIM_INFINITY ? "unlimited" : human_bytes(rl.rlim_cur);
  return make_error(
      "cannot lock %s of %s in RAM: %s (RLIMIT_MEMLOCK is %s); raise it with "
      "`ulimit -l` (or LimitMEMLOCK= for a service), or load without use_mlock",
      human_bytes(size).c_str(), path.c_str(), std::strerror(err), limit.c_str());
}

// Copies the file into anonymous memory with pread (kRead mode).
Result<void*> read_into_anonymous(int fd, const std::string& path, size_t size, void* addr) {
  auto* p = static_cast<uint8_t*>(addr);
  size_t done = 0;
  constexpr size_t kChunk = 64u << 20;
  while (done < size) {
    size_t want = size - done < kChunk ? size - done : kChunk;
    ssize_t n = ::pread(fd, p + done, want, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : 0;
      if (err == 0) return make_error("%s shrank while it was being read (at byte %zu of %zu)", path.c_str(), done, size);
      return make_error("cannot read %s at byte %zu: %s", path.c_str(), done, std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  return addr;
}

}  // namespace

const char* load_mode_name(LoadMode mode) {
  return mode == LoadMode::kMmap ? "mmap" : "read";
}

Result<MappedFile> MappedFile::open(const std::string& path, const MapOptions& options) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    int err = errno;
    if (err == ENOENT) return make_error("%s: no such file", path.c_str());
    return make_error("cannot open %s: %s", path.c_str(), std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return make_error("cannot stat %s: %s", path.c_str(), std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return make_error("%s is not a regular file", path.c_str());

  MappedFile mf;
  mf.path_ = path;
  mf.dev_ = static_cast<uint64_t>(st.st_dev);
  mf.ino_ = static_cast<uint64_t>(st.st_ino);
  mf.size_ = static_cast<size_t>(st.st_size);
  mf.mode_ = options.mode;
  if (mf.size_ == 0) return mf;  // nothing to map; callers see an empty span

  if (options.mode == LoadMode::kMmap) {
    void* addr = ::mmap(nullptr, mf.size_, PROT_READ, MAP_SHARED, fd.get(), 0);
    if (addr == MAP_FAILED) {
      return make_error("cannot map %s: %s", path.c_str(), std::strerror(errno));
    }
    mf.addr_ = addr;
  } else {
    auto region = anonymous(mf.size_, options.pages, options.hugepage_size);
    if (!region.ok()) {
      return make_error("cannot hold %s of %s in memory: %s; load it with use_mmap=true instead",
                        human_bytes(mf.size_).c_str(), path.c_str(), region.error().message.c_str());
    }
    MappedFile anon = std::move(region).value();
    FOLIO_TRY(read_into_anonymous(fd.get(), path, mf.size_, anon.addr_));
    ::mprotect(anon.addr_, anon.map_len_, PROT_READ);
    mf.addr_ = anon.addr_;
    mf.map_len_ = anon.map_len_;
    anon.addr_ = nullptr;  // ownership moves to mf
    anon.size_ = 0;
  }

  if (options.lock) {
    if (::mlock(mf.addr_, mf.size_) != 0) return lock_error(path, mf.size_, errno);
    mf.locked_ = true;
  }
  return mf;
}

Result<MappedFile> MappedFile::anonymous(size_t bytes, Pages pages, size_t hugepage_size) {
  MappedFile mf;
  mf.path_ = "(anonymous)";
  mf.mode_ = LoadMode::kRead;
  mf.size_ = bytes;
  mf.writable_ = true;
  if (bytes == 0) return mf;
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
  size_t len = bytes;
  if (pages == Pages::kHugetlb) {
    // Reserved at mmap time (no MAP_NORESERVE): a short pool fails here,
    // not with SIGBUS at the first touch.
    const size_t huge = hugepage_size > 0 ? hugepage_size : (2u << 20);
    len = (bytes + huge - 1) / huge * huge;
    flags |= MAP_HUGETLB;
  } else {
    flags |= MAP_NORESERVE;  // untouched pages cost nothing
  }
  void* addr = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (addr == MAP_FAILED && pages == Pages::kHugetlb) {
    return make_error("cannot take %s from the hugetlbfs pool: %s; reserve more huge pages (/proc/sys/vm/nr_hugepages) "
                      "or set FOLIO_HUGEPAGES=off",
                      human_bytes(len).c_str(), std::strerror(errno));
  }
  if (addr == MAP_FAILED) return make_error("cannot allocate %s: %s", human_bytes(bytes).c_str(), std::strerror(errno));
  if (pages == Pages::kTransparent) ::madvise(addr, len, MADV_HUGEPAGE);
  mf.addr_ = addr;
  mf.map_len_ = len;
  return mf;
}

MappedFile::MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    reset();
    addr_ = o.addr_;
    size_ = o.size_;
    path_ = std::move(o.path_);
    mode_ = o.mode_;
    locked_ = o.locked_;
    writable_ = o.writable_;
    map_len_ = o.map_len_;
    dev_ = o.dev_;
    ino_ = o.ino_;
    o.addr_ = nullptr;
    o.size_ = 0;
    o.locked_ = false;
  }
  return *this;
}

MappedFile::~MappedFile() { reset(); }

void MappedFile::reset() {
  if (addr_ != nullptr) {
    if (locked_) ::munlock(addr_, size_);
    ::munmap(addr_, map_len_ ? map_len_ : size_);
  }
  addr_ = nullptr;
  size_ = 0;
  map_len_ = 0;
  locked_ = false;
  writable_ = false;
}

void MappedFile::advise_willneed(uint64_t offset, uint64_t len) const {
  if (addr_ == nullptr || mode_ != LoadMode::kMmap || offset >= size_) return;
  const size_t ps = page_size();
  uint64_t begin = offset / ps * ps;
  uint64_t end = len > size_ - offset ? size_ : offset + len;
  ::madvise(static_cast<uint8_t*>(addr_) + begin, end - begin, MADV_WILLNEED);
}

uint64_t MappedFile::resident_bytes(uint64_t offset, uint64_t len) const {
  if (addr_ == nullptr || offset >= size_) return 0;
  len = std::min<uint64_t>(len, size_ - offset);
  if (mode_ == LoadMode::kRead) return len;
  const size_t ps = page_size();
  const uint64_t begin = offset / ps * ps, end = offset + len;
  std::vector<unsigned char> vec((end - begin + ps - 1) / ps);
  if (::mincore(static_cast<uint8_t*>(addr_) + begin, end - begin, vec.data()) != 0) return 0;
  uint64_t pages = 0;
  for (unsigned char v : vec) pages += v & 1;
  return std::min<uint64_t>(pages * ps, len);
}

bool MappedFile::use_huge_pages(Recache recache) const {
  if (addr_ == nullptr || mode_ != LoadMode::kMmap || locked_) return false;
  if (::madvise(addr_, size_, MADV_HUGEPAGE) != 0) return false;
  constexpr uintptr_t kHuge = 2u << 20;
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr_);
  const uintptr_t begin = (a + kHuge - 1) / kHuge * kHuge, end = (a + size_) / kHuge * kHuge;
  const bool always = recache == Recache::kAlways;
  if (!always && (end <= begin || resident_bytes() == 0)) return true;  // nothing cached: faults read huge folios
  // Fault one byte of each cached 2 MiB piece: a piece cached as a huge folio
  // is then mapped whole; one cached in small folios is not.
  uint64_t cached_pieces = 0;
  volatile uint8_t sink = 0;
  for (uintptr_t p = begin; p < end; p += kHuge) {
    if (resident_bytes(p - a, kHuge) == 0) continue;
    ++cached_pieces;
    sink = sink + *reinterpret_cast<const volatile uint8_t*>(p);
  }
  if (!always && huge_mapped_bytes() >= cached_pieces * kHuge / 10 * 9) return true;
  // Small folios in more than a tenth: map the same file again at the same address (the
  // old page-table entries go), then drop the cached pages no process maps.
  // Their next faults read the file again, in huge folios.
  Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || static_cast<uint64_t>(st.st_dev) != dev_ ||
      static_cast<uint64_t>(st.st_ino) != ino_ || static_cast<size_t>(st.st_size) != size_) {
    return true;  // not the same file any more: keep the mapping as it is
  }
  // A fresh mapping moved over the old one: if any step fails, the old
  // mapping stays as it was.
  void* fresh = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd.get(), 0);
  if (fresh == MAP_FAILED) return true;
  if (::mremap(fresh, size_, size_, MREMAP_MAYMOVE | MREMAP_FIXED, addr_) == MAP_FAILED) {
    ::munmap(fresh, size_);
    return true;
  }
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
  ::madvise(addr_, size_, MADV_HUGEPAGE);
  return true;
}

uint64_t MappedFile::huge_mapped_bytes() const {
  if (addr_ == nullptr) return 0;
  std::ifstream in("/proc/self/smaps");
  if (!in) return 0;
  std::stringstream text;
  text << in.rdbuf();
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr_);
  return smaps_huge_bytes(text.str(), a, a + (map_len_ ? map_len_ : size_));
}

uint64_t smaps_huge_bytes(const std::string& smaps, uintptr_t begin, uintptr_t end) {
  uint64_t total = 0;
  bool inside = false;
  size_t pos = 0;
  while (pos < smaps.size()) {
    size_t eol = smaps.find('\n', pos);
    if (eol == std::string::npos) eol = smaps.size();
    const std::string line = smaps.substr(pos, eol - pos);
    pos = eol + 1;
    unsigned long long lo = 0, hi = 0, kb = 0;
    char key[64];
    if (std::sscanf(line.c_str(), "%llx-%llx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      inside = lo >= begin && lo < end;
    } else if (inside && std::sscanf(line.c_str(), "%63[A-Za-z]: %llu kB", key, &kb) == 2) {
      const std::string k = key;
      if (k == "FilePmdMapped" || k == "AnonHugePages" || k == "ShmemPmdMapped") total += kb * 1024;
    }
  }
  return total;
}

namespace {
void advise_range(const uint8_t* p, size_t n, int advice) {
  if (p == nullptr || n == 0) return;
  const uintptr_t ps = page_size();
  const uintptr_t a = reinterpret_cast<uintptr_t>(p) / ps * ps;
  const uintptr_t e = (reinterpret_cast<uintptr_t>(p) + n + ps - 1) / ps * ps;
  ::madvise(reinterpret_cast<void*>(a), e - a, advice);
}
}  // namespace

void advise_range_willneed(const uint8_t* p, size_t n) { advise_range(p, n, MADV_WILLNEED); }
void advise_range_random(const uint8_t* p, size_t n) { advise_range(p, n, MADV_RANDOM); }

void release_range(const uint8_t* p, size_t n) {
  if (p == nullptr || n == 0) return;
  const uintptr_t ps = page_size();
  const uintptr_t a = (reinterpret_cast<uintptr_t>(p) + ps - 1) / ps * ps;
  const uintptr_t e = (reinterpret_cast<uintptr_t>(p) + n) / ps * ps;
  if (e > a) ::madvise(reinterpret_cast<void*>(a), e - a, MADV_DONTNEED);
}

void MappedFile::advise_random() const {
  if (addr_ != nullptr && mode_ == LoadMode::kMmap) ::madvise(addr_, size_, MADV_RANDOM);
}

void MappedFile::advise_sequential() const {
  if (addr_ != nullptr && mode_ == LoadMode::kMmap) ::madvise(addr_, size_, MADV_SEQUENTIAL);
}

}  // namespace folio
