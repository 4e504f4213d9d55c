// Whether the client of a request is still connected, for a request that
// waits (queued for a slot, or generating with stream:false) without
// writing anything that would find out. httplib 0.11.4 gives a handler no
// hold on its connection, so the connection is found among the process's
// descriptors by its two addresses (local and remote: unique for a TCP
// connection, and the descriptor stays open until the handler returns),
// then polled for the peer's hang-up (POLLRDHUP/POLLHUP/POLLERR), as Go's
// server cancels a request's context when its connection reads EOF.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <httplib.h>

namespace folio {

class PeerWatch {
 public:
  PeerWatch(std::string local_addr, int local_port, std::string remote_addr, int remote_port)
      : local_addr_(std::move(local_addr)),
        remote_addr_(std::move(remote_addr)),
        local_port_(local_port),
        remote_port_(remote_port) {}

  // True once the client has closed or reset the connection. Cheap after
  // the first call (one poll); false when the connection cannot be found.
  bool gone();

 private:
  int find() const;

  std::string local_addr_, remote_addr_;
  int local_port_, remote_port_;
  int fd_ = -2;  // -2: not looked for yet; -1: not found
  bool gone_ = false;
};

// A callback that says whether req's client has gone (for
// Scheduler::acquire and the generation loop).
inline std::function<bool()> client_gone(const httplib::Request& req) {
  auto w = std::make_shared<PeerWatch>(req.local_addr, req.local_port, req.remote_addr, req.remote_port);
  return [w] { return w->gone(); };
}

}  // namespace folio
