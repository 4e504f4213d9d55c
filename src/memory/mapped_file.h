// MappedFile: the only place in folio that calls mmap, madvise and mlock.
//
// kMmap maps the file read-only and shared: pages come from the page cache on
// first touch and cost no anonymous memory. kRead copies the file into an
// anonymous read-only mapping (use_mmap=false): the whole size counts as
// process memory. Either can be mlock'ed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/result.h"

namespace folio {

enum class LoadMode { kMmap, kRead };

const char* load_mode_name(LoadMode mode);

// Page kind of anonymous memory: normal, from the hugetlbfs pool, or
// marked for transparent huge pages.
enum class AnonPageKind { kNormal, kHugetlb, kTransparent };

struct MapOptions {
  LoadMode mode = LoadMode::kMmap;
  bool lock = false;  // mlock the bytes (use_mlock)
  AnonPageKind pages = AnonPageKind::kNormal;  // for kRead: the anonymous copy's pages
  size_t hugepage_size = 2u << 20;
};

// A read-only view of a whole file. Non-copyable, movable; the address of
// bytes() is stable for the object's lifetime (moves keep it).
// Thread-safe for concurrent reads.
class MappedFile {
 public:
  // Opens and maps (or reads) path. Errors name the path, the cause and
  // the remedy (e.g. RLIMIT_MEMLOCK for a failed lock).
  static Result<MappedFile> open(const std::string& path, const MapOptions& options = {});

  // A zero-filled, writable anonymous region of bytes, backed by the
  // hugetlbfs pool (hugetlb) or marked for transparent huge pages (thp)
  // when asked; the pages are touched only when written. Errors name the
  // size and the cause.
  using Pages = AnonPageKind;
  // hugepage_size: the pool's page size (Hugepagesize), for kHugetlb.
  static Result<MappedFile> anonymous(size_t bytes, Pages pages = Pages::kNormal, size_t hugepage_size = 2u << 20);
  uint8_t* writable_data() const { return writable_ ? static_cast<uint8_t*>(addr_) : nullptr; }

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {static_cast<const uint8_t*>(addr_), size_}; }
  const uint8_t* data() const { return static_cast<const uint8_t*>(addr_); }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  LoadMode mode() const { return mode_; }
  bool locked() const { return locked_; }

  // Hints for the kernel's read-ahead on [offset, offset+len) (page-rounded,
  // clamped to the file). No-ops in kRead mode. Best effort: never fail.
  void advise_willneed(uint64_t offset, uint64_t len) const;
  void advise_random() const;
  void advise_sequential() const;

  // Transparent huge pages for a kMmap mapping whose file fits in RAM: marks
  // the mapping MADV_HUGEPAGE, so faults and read-ahead fill the page cache
  // in 2 MiB folios mapped by one page-table entry each (fewer TLB misses:
  // matrix-vector products read 8-11% faster on the development VM). Pages
  // the cache already holds in small folios cannot be mapped that way; when
  // most of the file is cached like that, the mapping is replaced in place
  // (same address, same file) and those cached pages that no process maps
  // are dropped, so they are read again as huge folios. Best effort: returns
  // false when the kernel refuses (THP off) and never changes the contents.
  // kAlways replaces the mapping and drops the cache whatever it holds (tests).
  enum class Recache { kWhenSmall, kAlways };
  bool use_huge_pages(Recache recache = Recache::kWhenSmall) const;
  // Bytes of this mapping now mapped by huge page-table entries
  // (/proc/self/smaps: FilePmdMapped for files, AnonHugePages otherwise).
  uint64_t huge_mapped_bytes() const;

  // Bytes of the mapping now resident in RAM (mincore; for kRead mode the
  // whole size). Does not touch the pages.
  uint64_t resident_bytes() const { return resident_bytes(0, size_); }
  // The same for [offset, offset+len) (clamped to the file; whole pages
  // counted, at most len).
  uint64_t resident_bytes(uint64_t offset, uint64_t len) const;

 private:
  void reset();

  void* addr_ = nullptr;
  size_t size_ = 0;
  std::string path_;
  LoadMode mode_ = LoadMode::kMmap;
  bool locked_ = false;
  bool writable_ = false;
  size_t map_len_ = 0;  // bytes mapped (the size rounded up to the huge page size for hugetlb)
  uint64_t dev_ = 0, ino_ = 0;  // the file's identity, to reopen it for use_huge_pages
};

// Advice on n bytes at p inside any mapping (rounded out to whole pages);
// best effort, never fails. willneed: start reading them now
// (asynchronously); random: no read-around on their faults (a fault reads
// its page, not the read_ahead_kb around it).
void advise_range_willneed(const uint8_t* p, size_t n);
void advise_range_random(const uint8_t* p, size_t n);
// Gives back the whole pages inside [p, p+n) of a mapping whose bytes are
// no longer read (weights repacked elsewhere): a file mapping unmaps them
// (the page cache keeps them while memory allows), an anonymous copy frees
// them (reading them again would give zeros). Never partial pages, so the
// bytes around the range stay. Best effort (a hugetlbfs mapping keeps its
// pages), never fails.
void release_range(const uint8_t* p, size_t n);

// The huge-page bytes of the mappings that start in [begin, end) in a
// /proc/PID/smaps text (FilePmdMapped + AnonHugePages + ShmemPmdMapped).
uint64_t smaps_huge_bytes(const std::string& smaps, uintptr_t begin, uintptr_t end);

}  // namespace folio
