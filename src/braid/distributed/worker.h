// The worker side of a task: what braid.rpc.WorkerService does, apart from
// the transport. A task owns one CPU device; its resources (variables) are
// shared by every session that registers graphs here, which is how the
// workers of between-graph replication share the variables on a ps.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "braid/base/thread_pool.h"
#include "braid/distributed/step_rendezvous.h"
#include "braid/distributed/worker_interface.h"
#include "braid/runtime/executor.h"

namespace braid::distributed {

struct WorkerOptions {
  std::string job;
  int task_index = 0;
  int inter_op_threads = 0;  // 0: one per core
  int intra_op_threads = 0;  // 0: one per core
};

class Worker {
 public:
  // `peers` reaches the other tasks (for Recvs of values they send).
  Worker(const WorkerOptions& options, WorkerCache* peers);
  ~Worker();

  const std::string& task_name() const { return task_name_; }
  DeviceBase* device() const { return device_.get(); }

  void GetStatus(rpc::GetStatusResponse* resp);
  absl::Status CreateWorkerSession(const rpc::CreateWorkerSessionRequest& req);
  absl::Status DeleteWorkerSession(const rpc::DeleteWorkerSessionRequest& req);
  absl::Status RegisterGraph(const rpc::RegisterGraphRequest& req,
                             rpc::RegisterGraphResponse* resp);
  absl::Status DeregisterGraph(const rpc::DeregisterGraphRequest& req);
  // Runs one partition for one step and waits for it.
  absl::Status RunGraph(const rpc::RunGraphRequest& req, rpc::RunGraphResponse* resp);
  // Ends a step here. With an abort code the step stays aborted, even one
  // this task has not seen yet, for two minutes: whatever comes late for it
  // (its RunGraph, another task's RecvTensor) fails at once.
  absl::Status CleanupStep(const rpc::CleanupStepRequest& req);
  // Waits for the value a partition of this task sends under `key` in step
  // `step_id`; gives up when `cancelled()` turns true (polled) or at
  // `deadline`. Aborted when the key names an earlier incarnation of this
  // task.
  absl::StatusOr<Tensor> WaitForTensor(int64_t step_id, const std::string& key, absl::Time deadline,
                                       const std::function<bool()>& cancelled);
  void ReportTaskDone(const rpc::ReportTaskDoneRequest& req);
  // Blocks until every task in `tasks` has reported done, or `deadline`.
  bool WaitForTasksDone(const std::set<std::string>& tasks, absl::Time deadline);

 private:
  struct Step {
    std::shared_ptr<StepRendezvous> rendezvous;
    int running_graphs = 0;
    absl::Time last_used;
  };
  struct Session {
    std::map<std::string, std::shared_ptr<Executor>> graphs;
  };

  // `add_running`: 1 when a partition starts running the step here.
  std::shared_ptr<StepRendezvous> FindOrCreateStep(int64_t step_id, int add_running);
  // Drops the step once nothing here needs it any more (not an aborted one).
  void MaybeEndStep(int64_t step_id);
  absl::StatusOr<std::shared_ptr<Executor>> FindGraph(const std::string& session,
                                                      const std::string& graph);

  const std::string task_name_;
  WorkerCache* const peers_;
  std::unique_ptr<DeviceBase> device_;
  std::unique_ptr<ThreadPool> pool_;

  std::mutex mu_;
  std::condition_variable done_cv_;
  std::map<std::string, Session> sessions_;   // protected by mu_
  absl::flat_hash_map<int64_t, Step> steps_;  // protected by mu_
  std::set<std::string> done_tasks_;          // protected by mu_
  int64_t next_graph_id_ = 1;                 // protected by mu_
  absl::Time last_sweep_ = absl::InfinitePast();  // of steps_; protected by mu_
};

}  // namespace braid::distributed
