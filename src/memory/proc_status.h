// Reads this process's memory counters from /proc/self/status.
#pragma once

#include <cstdint>

namespace folio {

struct ProcMemory {
  uint64_t rss_anon = 0;   // RssAnon: anonymous resident bytes
  uint64_t rss_file = 0;   // RssFile: resident file-backed bytes (mapped weights)
  uint64_t rss_shmem = 0;  // RssShmem
  uint64_t vm_lck = 0;     // VmLck: locked bytes
};

// Returns the current counters (zeros where the kernel does not report them).
ProcMemory read_proc_memory();

}  // namespace folio
