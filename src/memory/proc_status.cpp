#include "memory/proc_status.h"

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

}  // namespace folio
