// `folio serve`: the HTTP API (Ollama's routes and JSON shapes) over the
// model store. JSON errors {"error": "..."} with Ollama's status codes,
// one log line per request, graceful stop.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "server/address.h"
#include "server/scheduler.h"
#include "store/store.h"

namespace folio {

class Server {
 public:
  // factory: the runners of loaded models (default: the engine).
  Server(std::string models_dir, HostPort address, SchedulerConfig cfg = {},
         std::unique_ptr<RunnerFactory> factory = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the address. Errors: the port is taken (names it and what to do).
  Result<void> bind();
  int port() const;  // the bound port (useful with port 0)
  // Serves until stop(); returns when stopped.
  void run();
  // Thread-safe: makes run() return after the requests in flight.
  void stop();
  // The one line per request on stderr (on by default).
  void set_request_log(bool on);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace folio
