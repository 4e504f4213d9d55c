#include "base/cpu.h"

#include <cpuid.h>
#include <sched.h>

#include <cstdio>
#include <set>
#include <string>

namespace folio {

int physical_cores() {
  static const int n = [] {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    std::set<std::string> cores;
    int cpus = 0;
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (!CPU_ISSET(c, &set)) continue;
      ++cpus;
      // One key per physical core: its (package, core) pair.
      const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(c) + "/topology/";
      std::string key;
      for (const char* f : {"physical_package_id", "core_id"}) {
        if (FILE* fp = std::fopen((base + f).c_str(), "r")) {
          char buf[32] = {};
          if (std::fgets(buf, sizeof buf, fp)) key += std::string(buf) + "/";
          std::fclose(fp);
        }
      }
      cores.insert(key.empty() ? std::to_string(c) : key);
    }
    const int physical = static_cast<int>(cores.size());
    return physical > 0 ? physical : (cpus > 0 ? cpus : 1);
  }();
  return n;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = [] {
    CpuFeatures r;
    __builtin_cpu_init();
    r.avx2 = __builtin_cpu_supports("avx2");
    r.fma = __builtin_cpu_supports("fma");
    // (clang's __builtin_cpu_supports does not know "f16c": CPUID leaf 1.)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    r.f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
    r.avx512f = __builtin_cpu_supports("avx512f");
    r.avx512bw = __builtin_cpu_supports("avx512bw");
    r.avx512dq = __builtin_cpu_supports("avx512dq");
    r.avx512vl = __builtin_cpu_supports("avx512vl");
    r.avx512vnni = __builtin_cpu_supports("avx512vnni");
    r.avx512bf16 = __builtin_cpu_supports("avx512bf16");
    return r;
  }();
  return f;
}

}  // namespace folio
