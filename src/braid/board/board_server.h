// `braid board`'s server: a logdir watcher filling a RunStore, the JSON data
// API over it and the web page (compiled in), served over HTTP by
// cpp-httplib.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "braid/base/env.h"
#include "braid/board/board_api.h"
#include "braid/board/logdir_watcher.h"
#include "braid/board/run_store.h"

namespace httplib {
class Server;
}

namespace braid::board {

struct BoardOptions {
  std::string logdir;
  std::string host = "127.0.0.1";
  int port = 6006;  // 0: a free port the kernel picks
  absl::Duration reload_interval = absl::Seconds(2);
  SamplingLimits limits;
  int load_threads = 0;  // runs read in parallel; 0: one per core
};

class BoardServer {
 public:
  // Checks the logdir, binds the port, starts following the logdir and
  // serving. NotFound for a logdir that does not exist (or is no directory),
  // Unavailable for a port that cannot be bound (taken, or a host that is not
  // an address of this machine). `env` must outlive the server.
  static absl::StatusOr<std::unique_ptr<BoardServer>> Start(const BoardOptions& options,
                                                            Env* env = Env::Default());
  // Stops serving and watching.
  ~BoardServer();
  BoardServer(const BoardServer&) = delete;
  BoardServer& operator=(const BoardServer&) = delete;

  // The port bound (the chosen one when options.port was 0).
  int port() const { return port_; }
  // http://host:port/
  std::string url() const;
  const RunStore& store() const { return store_; }
  // Stops the HTTP listener and the watcher; idempotent.
  void Stop();

 private:
  BoardServer(const BoardOptions& options, Env* env);
  void Route();

  const BoardOptions options_;
  RunStore store_;
  LogdirWatcher watcher_;
  BoardApi api_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
  std::thread listener_;
  std::atomic<bool> listener_done_{false};
};

}  // namespace braid::board
