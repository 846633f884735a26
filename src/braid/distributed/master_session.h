// MasterSession: a Session whose graph runs on the tasks of a cluster. It
// places the graph over the cluster's devices (one CPU device per task),
// partitions it per task, registers each partition with its task's worker,
// and drives every step by running the partitions in parallel; Send/Recv
// pairs carry tensors between tasks through their RecvTensor calls.
//
// Only tasks the graph is placed on are ever contacted (device filtering by
// construction): an unrelated task that is down never blocks a session.
// A step that fails on one task is aborted on the others, and the error
// names the task; nothing waits longer than `operation_timeout`.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "braid/distributed/cluster_spec.h"
#include "braid/distributed/worker_interface.h"
#include "braid/runtime/client_graph.h"
#include "braid/runtime/session.h"

namespace braid::distributed {

struct MasterSessionOptions {
  ClusterSpec cluster;
  // Where ops without a device request go, e.g. "/job:worker/replica:0/task:1".
  std::string default_device = "/job:worker/replica:0/task:0/device:CPU:0";
  // Bound on every call to a worker, and so on one step.
  absl::Duration operation_timeout = absl::Seconds(60);
};

class MasterSession : public Session {
 public:
  // `workers` must outlive the session.
  static absl::StatusOr<std::unique_ptr<MasterSession>> Create(MasterSessionOptions options,
                                                               WorkerCache* workers,
                                                               std::shared_ptr<Graph> graph);
  ~MasterSession() override;

  absl::Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                   const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
                   std::vector<Tensor>* outputs) override;
  Graph* graph() override { return graph_.get(); }
  // A remote client's graph grew: `graph` holds every node again (placements
  // of stateful nodes carry over by name).
  void ReplaceGraph(std::shared_ptr<Graph> graph);

 private:
  struct TaskPlan {
    std::string task;
    WorkerInterface* worker = nullptr;
    std::string graph_handle;
    std::vector<int> feeds;  // indices of the Run's feeds this partition reads
  };
  struct Plan {
    std::vector<TaskPlan> tasks;
    int num_nodes = 0;
  };

  MasterSession(MasterSessionOptions options, WorkerCache* workers, std::shared_ptr<Graph> graph,
                PlacerOptions placer_options);
  absl::StatusOr<std::shared_ptr<Plan>> BuildPlan(const std::vector<std::string>& feed_names,
                                                  const std::vector<std::string>& fetches,
                                                  const std::vector<std::string>& targets);
  // Incarnation of every device of `tasks`, asked of the tasks not yet known.
  absl::Status LearnIncarnations(const std::set<std::string>& tasks);
  // Drops what a restarted or vanished task invalidated; the next Run
  // re-registers its partitions.
  void ForgetRegistrations();
  void ForgetRegistrationsLocked();  // REQUIRES: mu_ held
  void AbortStep(const Plan& plan, int64_t step_id, const absl::Status& status);
  // For a step that timed out: DeadlineExceeded naming the tasks that do not
  // answer at all, or `fallback` when every one does.
  absl::Status BlameSilentTasks(const Plan& plan, const std::vector<absl::Status>& statuses,
                                const absl::Status& fallback);

  const MasterSessionOptions options_;
  WorkerCache* const workers_;
  const std::string handle_;

  std::mutex mu_;
  std::shared_ptr<Graph> graph_;                        // protected by mu_
  IncrementalPlacer placer_;                            // protected by mu_
  std::map<std::string, std::shared_ptr<Plan>> plans_;  // protected by mu_
  std::map<std::string, uint64_t> incarnations_;        // device -> incarnation; mu_
  std::set<std::string> sessions_created_;              // tasks; protected by mu_
  std::mutex abort_mu_;
  std::vector<std::thread> abort_threads_;  // CleanupStep calls in flight; abort_mu_
};

}  // namespace braid::distributed
