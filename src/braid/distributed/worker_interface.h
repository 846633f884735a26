// How one task talks to another, whatever the transport: the calls of
// braid.rpc.WorkerService. The gRPC client (rpc/grpc_remote_worker) is the
// implementation used between processes; tests may supply others.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "braid/tensor/tensor.h"
#include "braid/worker_service.pb.h"

namespace braid::distributed {

// Every call is synchronous, fails at once when the task does not listen, is
// bounded by the interface's deadline, and fails with Unavailable (the task
// is gone), DeadlineExceeded, or the remote error; messages name the task.
class WorkerInterface {
 public:
  virtual ~WorkerInterface() = default;
  virtual absl::Status GetStatus(const rpc::GetStatusRequest& req,
                                 rpc::GetStatusResponse* resp) = 0;
  virtual absl::Status CreateWorkerSession(const rpc::CreateWorkerSessionRequest& req) = 0;
  virtual absl::Status DeleteWorkerSession(const rpc::DeleteWorkerSessionRequest& req) = 0;
  virtual absl::Status RegisterGraph(const rpc::RegisterGraphRequest& req,
                                     rpc::RegisterGraphResponse* resp) = 0;
  virtual absl::Status DeregisterGraph(const rpc::DeregisterGraphRequest& req) = 0;
  virtual absl::Status RunGraph(const rpc::RunGraphRequest& req, rpc::RunGraphResponse* resp) = 0;
  virtual absl::Status CleanupStep(const rpc::CleanupStepRequest& req) = 0;
  virtual absl::Status ReportTaskDone(const rpc::ReportTaskDoneRequest& req) = 0;
  // The tensor a _Send of step `step_id` left under `key` on that task,
  // streamed in chunks (no size limit).
  virtual absl::StatusOr<Tensor> RecvTensor(int64_t step_id, const std::string& key) = 0;
};

// The workers of a cluster, by task name ("/job:ps/replica:0/task:0").
class WorkerCache {
 public:
  virtual ~WorkerCache() = default;
  // NotFound for a task outside the cluster. The pointer lives as long as
  // the cache.
  virtual absl::StatusOr<WorkerInterface*> GetWorker(const std::string& task) = 0;
};

}  // namespace braid::distributed
