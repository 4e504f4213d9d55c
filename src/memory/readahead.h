// A background thread that asks the kernel to read mapped weights ahead
// (MADV_WILLNEED), so that the page-cache allocation and reclaim that a
// read-ahead triggers happen off the compute threads. Requests run in
// order; a new request for a range already queued is dropped.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "memory/model_file.h"

namespace folio {

class ReadAhead {
 public:
  explicit ReadAhead(const ModelFile& file);
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // Queues [p, p+len) (inside one of file's mappings). Returns at once.
  void request(const uint8_t* p, uint64_t len);

 private:
  void run();

  const ModelFile& file_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<const uint8_t*, uint64_t>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace folio
