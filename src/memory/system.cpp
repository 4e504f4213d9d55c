#include "memory/system.h"

#include "memory/mapped_file.h"

#include <sys/resource.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

namespace folio {

namespace {

bool read_text(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

// "max" / huge values mean no limit.
uint64_t parse_limit(const std::string& s) {
  if (s.rfind("max", 0) == 0) return kUnlimited;
  const unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
  return v >= (1ull << 62) ? kUnlimited : v;
}

uint64_t stat_field(const std::string& stat, const std::string& key) {
  std::istringstream in(stat);
  std::string k;
  unsigned long long v;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

void probe_meminfo(SystemFacts& f) {
  std::string text;
  if (!read_text("/proc/meminfo", &text)) return;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    char key[64];
    unsigned long long kb;
    if (std::sscanf(line.c_str(), "%63[^:]: %llu", key, &kb) != 2) continue;
    const std::string k = key;
    if (k == "MemTotal") f.mem_total = kb * 1024;
    else if (k == "MemAvailable") f.mem_available = kb * 1024;
    else if (k == "SwapTotal") f.swap_total = kb * 1024;
    else if (k == "SwapFree") f.swap_free = kb * 1024;
    else if (k == "HugePages_Total") f.hugepages_total = kb;  // a count, not kB
    else if (k == "HugePages_Free") f.hugepages_free = kb;
    else if (k == "Hugepagesize") f.hugepage_size = kb * 1024;
  }
}

// Walks this process's memory cgroup and its ancestors; the lowest limit
// applies (v1: /sys/fs/cgroup/memory/<path>; v2: /sys/fs/cgroup/<path>).
void probe_cgroup(SystemFacts& f) {
  std::string text;
  if (!read_text("/proc/self/cgroup", &text)) return;
  std::istringstream in(text);
  std::string line, v1_path, v2_path;
  bool have_v2 = false;
  while (std::getline(in, line)) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    std::istringstream cs(controllers);
    std::string c;
    while (std::getline(cs, c, ',')) {
      if (c == "memory") v1_path = path;
    }
    if (controllers.empty()) {
      v2_path = path;
      have_v2 = true;
    }
  }
  auto walk = [&](const std::string& root, std::string path, const char* limit_file, int version) {
    for (;;) {
      const std::string dir = root + (path == "/" ? "" : path);
      std::string limit;
      if (read_text(dir + "/" + limit_file, &limit)) {
        f.cgroup_version = version;
        const uint64_t l = parse_limit(limit);
        if (l < f.cgroup_limit) {
          f.cgroup_limit = l;
          f.cgroup_path = dir;
          std::string stat;
          if (read_text(dir + "/memory.stat", &stat)) {
            f.cgroup_anon = version == 1 ? stat_field(stat, "total_rss") : stat_field(stat, "anon");
          }
        }
      }
      if (path.empty() || path == "/") break;
      const size_t slash = path.find_last_of('/');
      path = slash == 0 ? "/" : path.substr(0, slash);
    }
  };
  if (!v1_path.empty()) walk("/sys/fs/cgroup/memory", v1_path, "memory.limit_in_bytes", 1);
  if (have_v2 && f.cgroup_version == 0) walk("/sys/fs/cgroup", v2_path, "memory.max", 2);
}

void probe_limits(SystemFacts& f) {
  struct rlimit rl{};
  if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) f.memlock_limit = rl.rlim_cur == RLIM_INFINITY ? kUnlimited : rl.rlim_cur;
  // CAP_IPC_LOCK (bit 14) in the effective set lifts RLIMIT_MEMLOCK.
  std::string status;
  if (read_text("/proc/self/status", &status)) {
    const size_t at = status.find("CapEff:");
    if (at != std::string::npos) {
      const unsigned long long caps = std::strtoull(status.c_str() + at + 7, nullptr, 16);
      f.can_lock_any = (caps >> 14) & 1;
    }
  }
  std::string thp;
  if (read_text("/sys/kernel/mm/transparent_hugepage/enabled", &thp)) {
    const size_t a = thp.find('['), b = thp.find(']');
    if (a != std::string::npos && b > a) f.thp_mode = thp.substr(a + 1, b - a - 1);
  }
}

}  // namespace

uint64_t SystemFacts::anon_budget() const {
  const uint64_t cg = cgroup_limit == kUnlimited ? kUnlimited : (cgroup_limit > cgroup_anon ? cgroup_limit - cgroup_anon : 0);
  return std::min(mem_available, cg);
}

const char* SystemFacts::anon_limit_name() const {
  return cgroup_limit != kUnlimited && cgroup_limit - std::min(cgroup_limit, cgroup_anon) < mem_available
             ? "the cgroup memory limit"
             : "MemAvailable";
}

SystemFacts probe_system() {
  SystemFacts f;
  probe_meminfo(f);
  probe_cgroup(f);
  probe_limits(f);
  return f;
}

void probe_file(const std::string& path, SystemFacts& f) {
  struct statfs sfs{};
  if (::statfs(path.c_str(), &sfs) == 0) {
    switch (static_cast<unsigned long>(sfs.f_type)) {
      case 0xEF53: f.fs_type = "ext4"; break;
      case 0x58465342: f.fs_type = "xfs"; break;
      case 0x9123683E: f.fs_type = "btrfs"; break;
      case 0x01021994: f.fs_type = "tmpfs"; break;
      case 0x6969: f.fs_type = "nfs"; break;
      case 0xFF534D42: f.fs_type = "cifs"; break;
      case 0x65735546: f.fs_type = "fuse"; break;
      case 0x794C7630: f.fs_type = "overlayfs"; break;
      case 0x2FC12FC1: f.fs_type = "zfs"; break;
      case 0x5346544E: f.fs_type = "ntfs"; break;
      case 0x4D44: f.fs_type = "vfat"; break;
      case 0xF2F52010: f.fs_type = "f2fs"; break;
      default: f.fs_type = "other"; break;
    }
  }
  // Pages of the file already in the page cache.
  if (auto m = MappedFile::open(path); m.ok()) f.file_cached = m->resident_bytes();
}

}  // namespace folio
