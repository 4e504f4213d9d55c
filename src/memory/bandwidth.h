// Memory read bandwidth of this machine, measured: the bound token
// generation cannot beat (every weight byte is read once per token).
#pragma once

#include <cstddef>

#include "base/thread_pool.h"

namespace folio {

struct Bandwidth {
  double bytes_per_second = 0;  // best of the passes
  size_t buffer_bytes = 0;
};

// Reads a buffer of `bytes` (well past the last-level cache) with every
// thread of pool, each its own contiguous part, `passes` times after one
// warm-up pass; returns the best pass. Allocates and touches the buffer.
Bandwidth measure_read_bandwidth(ThreadPool& pool, size_t bytes = size_t{512} << 20, int passes = 5);

}  // namespace folio
