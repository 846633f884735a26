// A task of a cluster: a gRPC server on the task's port hosting the
// WorkerService (partitions, steps, RecvTensor) and the MasterService (for
// remote clients: grpc://host:port sessions). In-process clients of the task
// (braid train as a worker) use worker_cache() and the MasterSession
// directly.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "braid/distributed/cluster_spec.h"
#include "braid/distributed/worker.h"

namespace braid::distributed {

struct ServerOptions {
  int inter_op_threads = 0;  // 0: one per core
  int intra_op_threads = 0;  // 0: one per core
  absl::Duration operation_timeout = absl::Seconds(60);
};

class GrpcServer {
 public:
  // Starts serving on the port of `task`'s address (on every interface).
  // Fails when the port cannot be bound, naming it.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const TaskConfig& task,
                                                           const ServerOptions& options);
  ~GrpcServer();

  const TaskConfig& task() const { return task_; }
  // "grpc://host:port"
  std::string target() const;
  Worker* worker();
  WorkerCache* worker_cache();
  // Stops accepting calls, lets running ones finish within `grace`.
  void Shutdown(absl::Duration grace = absl::Seconds(2));

  class Impl;

 private:
  GrpcServer(TaskConfig task, std::unique_ptr<Impl> impl);
  const TaskConfig task_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace braid::distributed
