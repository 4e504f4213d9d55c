#include "memory/proc_status.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace folio {

ProcMemory read_proc_memory() {
  ProcMemory m;
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return m;
  char line[256];
  while (std::fgets(line, sizeof line, f)) {
    unsigned long long kb = 0;
    if (std::sscanf(line, "RssAnon: %llu kB", &kb) == 1) m.rss_anon = kb * 1024;
    else if (std::sscanf(line, "RssFile: %llu kB", &kb) == 1) m.rss_file = kb * 1024;
    else if (std::sscanf(line, "RssShmem: %llu kB", &kb) == 1) m.rss_shmem = kb * 1024;
    else if (std::sscanf(line, "VmLck: %llu kB", &kb) == 1) m.vm_lck = kb * 1024;
  }
  std::fclose(f);
  return m;
}

uint64_t major_faults() {
  struct rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_majflt);
}

uint64_t storage_read_bytes() {
  FILE* f = std::fopen("/proc/self/io", "r");
  if (f == nullptr) return 0;
  char line[128];
  unsigned long long v = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "read_bytes: %llu", &v) == 1) break;
  }
  std::fclose(f);
  return v;
}

void PeakMemory::sample() {
  const ProcMemory m = read_proc_memory();
  anon_ = std::max(anon_, m.rss_anon);
  file_ = std::max(file_, m.rss_file);
}

}  // namespace folio
