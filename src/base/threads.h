// Simple fork-join parallelism for tools (synth, quantize). The engine's
// persistent low-latency pool is a separate piece.
#pragma once

#include <cstdint>
#include <functional>

namespace folio {

// Returns the number of CPUs this process may run on (sched affinity).
int available_cpus();

// Splits [0, n) into contiguous chunks of at least min_chunk items and runs
// fn(begin, end) on up to n_threads threads (the caller's thread included).
// Returns when all chunks are done.
void parallel_for(int64_t n, int n_threads, int64_t min_chunk,
                  const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace folio
