// The HTTP front end of RestApi (cpp-httplib), plus /healthz (the process is
// up), /readyz (every model has an available version: 200, else 503) and
// /monitoring/prometheus/metrics (Metrics(), Prometheus' text format).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "braid/serving/rest_api.h"

namespace httplib {
class Server;
}

namespace braid::serving {

struct RestServerOptions {
  std::string host = "0.0.0.0";
  int port = 8501;  // 0: any free port (see RestServer::port)
  // Larger request bodies are refused with 413 and a JSON error.
  size_t max_body_bytes = 64 << 20;
  // A request that takes longer gets 504 DEADLINE_EXCEEDED instead of its
  // answer (the run is not interrupted); also bounds reading and writing.
  // 0: no deadline.
  int timeout_ms = 30000;
  // Threads serving connections, one connection each at a time: the most
  // concurrent connections answered without waiting.
  size_t num_threads = 64;
};

class RestServer {
 public:
  RestServer(const RestApi* api, RestServerOptions options);
  ~RestServer();  // Stop()

  // Binds and starts serving on a thread of its own. Unavailable when the
  // port cannot be bound.
  absl::Status Start();
  int port() const { return port_; }
  // Stops accepting connections and returns once the requests in flight have
  // been answered.
  void Stop();

 private:
  void Route();

  const RestApi* api_;
  const RestServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  int listen_fd_ = -1;  // the listening socket, once bound
};

}  // namespace braid::serving
