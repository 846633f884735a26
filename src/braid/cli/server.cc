// braid server: one task of a cluster, serving until stopped (or, with
// --until_training_ends, until every worker and the chief are done), as
// TensorFlow's tf.distribute.Server(...).join() but able to end.
#include "absl/strings/str_cat.h"
#include "braid/cli/cluster_task.h"
#include "braid/cli/commands.h"

namespace braid::cli {
namespace {

struct ServerFlags {
  ClusterFlags cluster;
  int inter_op_threads = 0;
  int intra_op_threads = 0;
  bool until_training_ends = false;
};

absl::Status RunServer(const ServerFlags& f) {
  absl::StatusOr<std::optional<distributed::TaskConfig>> task = ResolveTask(f.cluster);
  if (!task.ok()) return task.status();
  if (!*task) {
    return absl::InvalidArgumentError(
        "no task given: pass --cluster_spec, --job_name and --task_index, or set TF_CONFIG");
  }
  distributed::ServerOptions options;
  options.inter_op_threads = f.inter_op_threads;
  options.intra_op_threads = f.intra_op_threads;
  options.operation_timeout = absl::Milliseconds(f.cluster.operation_timeout_ms);
  return ServeTask(**task, options, f.until_training_ends);
}

}  // namespace

void RegisterServer(CLI::App& app) {
  auto flags = std::make_shared<ServerFlags>();
  CLI::App* cmd = app.add_subcommand(
      "server", "run one task of a cluster (a gRPC server hosting the worker and master services)");
  cmd->footer(
      "Example, a cluster of one ps and two workers on this machine:\n"
      "  braid server --cluster_spec '{\"ps\": [\"localhost:2222\"], \"worker\": "
      "[\"localhost:2223\", \"localhost:2224\"]}' --job_name ps --task_index 0\n"
      "or, with TF_CONFIG='{\"cluster\": {...}, \"task\": {\"type\": \"ps\", \"index\": 0}}':\n"
      "  braid server\n"
      "Device of task T of job J: /job:J/replica:0/task:T/device:CPU:0. Stops on SIGINT or "
      "SIGTERM.");
  AddClusterFlags(cmd, &flags->cluster);
  AddThreadFlags(cmd, &flags->inter_op_threads, &flags->intra_op_threads);
  cmd->add_flag("--until_training_ends", flags->until_training_ends,
                "exit once every worker and chief task has reported the end of its training "
                "(what a ps started by hand should do)");
  cmd->callback([flags] {
    absl::Status s = RunServer(*flags);
    if (!s.ok()) throw CLI::RuntimeError(Fail("server", std::string(s.message())));
  });
}

}  // namespace braid::cli
