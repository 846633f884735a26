// What `braid server` and `braid train` do as tasks of a cluster: the flags
// that say which task this process is, a ps that serves until the training
// is over, and a worker that runs its own client against the cluster
// (between-graph replication).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "braid/distributed/cluster_spec.h"
#include "braid/distributed/rpc/grpc_server.h"
#include "braid/runtime/session.h"

namespace braid::cli {

struct ClusterFlags {
  // Who says which task this process is: "tf_config" (the flags below, else
  // TF_CONFIG), "slurm" (srun's variables) or "mpi" (Open MPI's mpirun).
  std::string cluster_resolver = "tf_config";
  std::string cluster_spec;  // JSON or @FILE; empty: TF_CONFIG, if set
  std::string job_name;
  int task_index = 0;
  // For slurm and mpi only (an error with tf_config); unset: the defaults.
  std::optional<int> num_ps;              // default 1
  std::optional<int> resolver_port_base;  // default 2222; 0 (mpi): a free port
  std::string cluster_resolver_dir;       // mpi: where ranks exchange addresses
  int resolver_timeout_s = 60;            // mpi: how long to wait for every rank
  int64_t operation_timeout_ms = 60000;
  std::string ps_strategy = "greedy";  // or "round_robin"
};
void AddClusterFlags(CLI::App* cmd, ClusterFlags* flags);

// The task from the flags or TF_CONFIG, or from Slurm's or Open MPI's
// environment (--cluster_resolver); nullopt when tf_config names none. A
// resolved slurm or mpi task is printed on stderr.
absl::StatusOr<std::optional<distributed::TaskConfig>> ResolveTask(const ClusterFlags& flags);

// Serves `task` until SIGINT/SIGTERM or, when `until_training_ends`, until
// every worker and chief task has reported the end of its work (so a ps
// exits by itself when the training is over).
absl::Status ServeTask(const distributed::TaskConfig& task,
                       const distributed::ServerOptions& options, bool until_training_ends);

// A worker or chief task: its server, and sessions whose variables live on
// the ps tasks.
class ClusterWorker {
 public:
  static absl::StatusOr<std::unique_ptr<ClusterWorker>> Start(
      const distributed::TaskConfig& task, const distributed::ServerOptions& options,
      const std::string& ps_strategy);

  const distributed::TaskConfig& task() const { return server_->task(); }
  // Places the graph's variables on the ps tasks (printing where), the rest
  // on this worker, and returns a MasterSession over it. Without
  // `place_variables` (a session created again over a placed graph) only the
  // latter.
  absl::StatusOr<std::unique_ptr<Session>> MakeSession(std::shared_ptr<Graph> graph,
                                                       bool place_variables = true);
  // The chief waits (bounded) for the other workers to finish, so that its
  // final evaluation sees everyone's updates. A worker that is gone is not
  // waited for.
  absl::Status WaitForOtherWorkers(absl::Duration timeout);
  // Tells every ps task that this task is done; they exit once all are.
  void ReportDone();

 private:
  ClusterWorker(std::unique_ptr<distributed::GrpcServer> server, std::string ps_strategy,
                absl::Duration timeout)
      : server_(std::move(server)), ps_strategy_(std::move(ps_strategy)), timeout_(timeout) {}
  std::unique_ptr<distributed::GrpcServer> server_;
  const std::string ps_strategy_;
  const absl::Duration timeout_;
};

}  // namespace braid::cli
