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

// Major page faults of this process so far (pages read from disk).
uint64_t major_faults();

// Bytes this process has caused to be read from storage so far
// (/proc/self/io read_bytes: page faults and read-ahead on mapped weights
// included; 0 where the kernel does not account I/O).
uint64_t storage_read_bytes();

// The largest anonymous and file-backed RSS seen over a run's samples.
class PeakMemory {
 public:
  void sample();
  uint64_t anon() const { return anon_; }
  uint64_t file() const { return file_; }

 private:
  uint64_t anon_ = 0, file_ = 0;
};

}  // namespace folio
