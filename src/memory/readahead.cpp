#include "memory/readahead.h"

#include <algorithm>

namespace folio {

ReadAhead::ReadAhead(const ModelFile& file) : file_(file), thread_(&ReadAhead::run, this) {}

ReadAhead::~ReadAhead() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ReadAhead::request(const uint8_t* p, uint64_t len) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::find(queue_.begin(), queue_.end(), std::make_pair(p, len)) != queue_.end()) return;
    queue_.emplace_back(p, len);
  }
  cv_.notify_one();
}

void ReadAhead::run() {
  for (;;) {
    std::pair<const uint8_t*, uint64_t> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = queue_.front();
      queue_.pop_front();
    }
    file_.advise_willneed(job.first, job.second);
  }
}

}  // namespace folio
