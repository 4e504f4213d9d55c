// Facts about this machine's memory that decide whether a load fits,
// probed in one place (/proc, /sys, getrlimit, statfs, mincore) and
// injectable in tests: the planner never reads the system itself.
#pragma once

#include <cstdint>
#include <string>

namespace folio {

inline constexpr uint64_t kUnlimited = UINT64_MAX;

struct SystemFacts {
  uint64_t mem_total = 0;        // /proc/meminfo MemTotal
  uint64_t mem_available = 0;    // MemAvailable: free + reclaimable page cache
  uint64_t swap_total = 0;
  uint64_t swap_free = 0;

  // The tightest memory cgroup limit on this process's path (v1
  // memory.limit_in_bytes or v2 memory.max), kUnlimited when none.
  int cgroup_version = 0;        // 0: no memory controller found
  std::string cgroup_path;       // the directory holding the limit
  uint64_t cgroup_limit = kUnlimited;
  uint64_t cgroup_anon = 0;      // anonymous memory charged to it (v1 total_rss, v2 anon)

  uint64_t memlock_limit = kUnlimited;  // RLIMIT_MEMLOCK soft limit
  bool can_lock_any = false;            // CAP_IPC_LOCK (root): the limit does not apply

  uint64_t hugepage_size = 2u << 20;
  uint64_t hugepages_total = 0;   // the hugetlbfs pool
  uint64_t hugepages_free = 0;
  std::string thp_mode;           // "always", "madvise" or "never"

  // About the model file (probe_file): its file system and how much of it
  // is already in the page cache.
  std::string fs_type;
  uint64_t file_cached = 0;

  // Bytes of anonymous memory a new load can take: MemAvailable, less what
  // the cgroup still allows (limit - anonymous usage) when that is lower.
  uint64_t anon_budget() const;
  // Which of the two sets anon_budget(): "MemAvailable" or "the cgroup memory limit".
  const char* anon_limit_name() const;
};

// Reads the facts of this process's machine. Never fails: unknown facts
// stay at their defaults (no cgroup limit, no hugepages...).
SystemFacts probe_system();

// Adds the facts about one model file (file system type, bytes cached).
void probe_file(const std::string& path, SystemFacts& facts);

}  // namespace folio
