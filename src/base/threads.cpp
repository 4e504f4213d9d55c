#include "base/threads.h"

#include <sched.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace folio {

int available_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? static_cast<int>(hc) : 1;
}

void parallel_for(int64_t n, int n_threads, int64_t min_chunk,
                  const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  min_chunk = std::max<int64_t>(1, min_chunk);
  int64_t max_threads = (n + min_chunk - 1) / min_chunk;
  int t = static_cast<int>(std::min<int64_t>(std::max(1, n_threads), max_threads));
  if (t <= 1) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(t - 1));
  auto bounds = [&](int i) { return n * i / t; };
  for (int i = 1; i < t; ++i) workers.emplace_back(fn, bounds(i), bounds(i + 1));
  fn(0, bounds(1));
  for (auto& w : workers) w.join();
}

}  // namespace folio
