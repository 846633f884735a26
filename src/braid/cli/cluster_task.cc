#include "braid/cli/cluster_task.h"

#include <cstdio>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "braid/cli/stop_signal.h"
#include "braid/distributed/cluster_resolver.h"
#include "braid/distributed/master_session.h"
#include "braid/train/replica_device_setter.h"

namespace braid::cli {
namespace {

using distributed::TaskConfig;

std::string TaskName(const std::string& job, int index) {
  return absl::StrCat("/job:", job, "/replica:0/task:", index);
}

// Every task whose end a ps waits for: the workers and the chief.
std::set<std::string> TrainingTasks(const distributed::ClusterSpec& cluster) {
  std::set<std::string> tasks;
  for (const char* job : {"chief", "worker"})
    for (int i = 0; i < cluster.NumTasks(job); ++i) tasks.insert(TaskName(job, i));
  return tasks;
}

// Which tasks are gone: a task that does not answer may be restarting (braid
// launch --restart_on_failure), so it counts as gone only after kGoneAfter
// of not answering.
class GoneTasks {
 public:
  explicit GoneTasks(distributed::WorkerCache* workers) : workers_(workers) {}
  bool Gone(const std::string& task) {
    constexpr absl::Duration kGoneAfter = absl::Seconds(15);
    absl::StatusOr<distributed::WorkerInterface*> w = workers_->GetWorker(task);
    rpc::GetStatusResponse ignored;
    if (!w.ok() || !absl::IsUnavailable((*w)->GetStatus({}, &ignored))) {
      down_since_.erase(task);
      return false;
    }
    return absl::Now() - down_since_.try_emplace(task, absl::Now()).first->second > kGoneAfter;
  }

 private:
  distributed::WorkerCache* const workers_;
  std::map<std::string, absl::Time> down_since_;
};

}  // namespace

void AddClusterFlags(CLI::App* cmd, ClusterFlags* flags) {
  cmd->add_option("--cluster_resolver", flags->cluster_resolver,
                  "how this task learns the cluster and its place in it: tf_config "
                  "(--cluster_spec/--job_name/--task_index, else the TF_CONFIG environment "
                  "variable), slurm (the variables srun sets: start every task with srun) or mpi "
                  "(the variables Open MPI's mpirun sets; the ranks exchange their addresses "
                  "through --cluster_resolver_dir). With slurm and mpi the first --num_ps ranks "
                  "are ps tasks and the others workers, worker 0 (rank num_ps) the chief")
      ->check(CLI::IsMember({"tf_config", "slurm", "mpi"}))
      ->capture_default_str();
  cmd->add_option("--num_ps", flags->num_ps,
                  "slurm, mpi: how many ranks (the first ones) are ps tasks (default 1)")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--resolver_port_base", flags->resolver_port_base,
                  "slurm, mpi: a task listens on this port + its index among the tasks of its "
                  "machine (default 2222); 0 with mpi: every rank picks a free port")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--cluster_resolver_dir", flags->cluster_resolver_dir,
                  "mpi: a directory every rank can read and write, where the ranks exchange "
                  "their addresses (in a subdirectory per job, removed once read; default: "
                  "$TMPDIR, else /tmp, which serves ranks on one machine only: on several "
                  "machines name a shared filesystem)");
  cmd->add_option("--resolver_timeout_s", flags->resolver_timeout_s,
                  "mpi: how long a rank waits for every other rank's address")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  cmd->add_option("--cluster_spec", flags->cluster_spec,
                  "the cluster, as JSON {\"ps\": [\"host:port\", ...], \"worker\": [...]} or "
                  "@FILE holding it; without it, the TF_CONFIG environment variable is read");
  cmd->add_option("--job_name", flags->job_name,
                  "this task's job with --cluster_spec: ps, worker, chief, ...");
  cmd->add_option("--task_index", flags->task_index, "this task's index in its job")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--operation_timeout_ms", flags->operation_timeout_ms,
                  "bound on every call between tasks; a task that does not answer in time "
                  "fails the step with DeadlineExceeded naming it")
      ->check(CLI::Range(int64_t{1}, int64_t{86400000}))
      ->capture_default_str();
  cmd->add_option("--ps_strategy", flags->ps_strategy,
                  "how variables are spread over ps tasks: greedy (by bytes, largest first) or "
                  "round_robin (TensorFlow's default)")
      ->check(CLI::IsMember({"greedy", "round_robin"}))
      ->capture_default_str();
}

absl::StatusOr<std::optional<TaskConfig>> ResolveTask(const ClusterFlags& flags) {
  const std::string& resolver = flags.cluster_resolver;
  if (resolver == "tf_config") {
    // A flag that would be ignored is an error, not a silent surprise.
    for (const auto& [given, flag] :
         {std::pair{flags.num_ps.has_value(), "--num_ps"},
          {flags.resolver_port_base.has_value(), "--resolver_port_base"},
          {!flags.cluster_resolver_dir.empty(), "--cluster_resolver_dir"}}) {
      if (given) {
        return absl::InvalidArgumentError(
            absl::StrCat(flag,
                         " applies with --cluster_resolver slurm or mpi only; with "
                         "tf_config the cluster is given whole (--cluster_spec or TF_CONFIG)"));
      }
    }
    return distributed::ResolveTaskConfig(flags.cluster_spec, flags.job_name, flags.task_index);
  }
  if (!flags.cluster_spec.empty() || !flags.job_name.empty() || flags.task_index != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--cluster_spec, --job_name and --task_index name the task by hand, but with "
                     "--cluster_resolver ",
                     resolver, " it comes from ", resolver == "slurm" ? "srun" : "mpirun",
                     "'s environment; give one or the other"));
  }
  const int num_ps = flags.num_ps.value_or(1);
  const int port_base = flags.resolver_port_base.value_or(2222);
  absl::StatusOr<TaskConfig> task;
  if (resolver == "slurm") {
    if (!flags.cluster_resolver_dir.empty()) {
      return absl::InvalidArgumentError(
          "--cluster_resolver_dir applies with --cluster_resolver mpi only: Slurm tasks derive "
          "each other's addresses from the node list");
    }
    task = distributed::ResolveSlurm(distributed::ProcessEnv(), num_ps, port_base);
  } else if (resolver == "mpi") {
    distributed::MpiExchangeOptions options;
    options.dir = flags.cluster_resolver_dir;
    options.timeout = absl::Seconds(flags.resolver_timeout_s);
    task = distributed::ResolveMpi(distributed::ProcessEnv(), num_ps, port_base, options);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--cluster_resolver '", resolver, "' is none of tf_config, slurm, mpi"));
  }
  if (!task.ok()) {
    return absl::Status(task.status().code(), absl::StrCat("--cluster_resolver ", resolver, ": ",
                                                           task.status().message()));
  }
  std::fprintf(stderr, "braid: --cluster_resolver %s: this is %s of the cluster %s\n",
               resolver.c_str(), TaskName(task->job, task->index).c_str(),
               task->cluster.ToJson().c_str());
  return std::optional<TaskConfig>(*std::move(task));
}

absl::Status ServeTask(const TaskConfig& task, const distributed::ServerOptions& options,
                       bool until_training_ends) {
  ASSIGN_OR_RETURN(std::unique_ptr<distributed::GrpcServer> server,
                   distributed::GrpcServer::Start(task, options));
  CatchStopSignals();
  std::fprintf(stderr, "braid: %s serving at %s\n", TaskName(task.job, task.index).c_str(),
               server->target().c_str());
  const std::set<std::string> awaited = TrainingTasks(task.cluster);
  GoneTasks gone(server->worker_cache());
  while (StopSignal() == 0) {
    if (!until_training_ends) {
      absl::SleepFor(absl::Milliseconds(200));
      continue;
    }
    if (server->worker()->WaitForTasksDone(awaited, absl::Now() + absl::Seconds(1))) {
      std::fprintf(stderr, "braid: %s: every worker is done; exiting\n",
                   TaskName(task.job, task.index).c_str());
      break;
    }
    // Once the training has ended for some, a task that died and stays dead
    // would hold this ps forever: it is not waited for.
    rpc::GetStatusResponse status;
    server->worker()->GetStatus(&status);
    if (status.done_task_size() == 0) continue;
    std::set<std::string> missing = awaited;
    for (const std::string& t : status.done_task()) missing.erase(t);
    std::vector<std::string> gone_tasks;
    for (const std::string& t : missing)
      if (gone.Gone(t)) gone_tasks.push_back(t);
    if (!missing.empty() && gone_tasks.size() == missing.size()) {
      std::fprintf(stderr, "braid: %s: every worker is done but %s, which %s gone; exiting\n",
                   TaskName(task.job, task.index).c_str(), absl::StrJoin(gone_tasks, ", ").c_str(),
                   gone_tasks.size() == 1 ? "is" : "are");
      break;
    }
  }
  server->Shutdown();
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ClusterWorker>> ClusterWorker::Start(
    const TaskConfig& task, const distributed::ServerOptions& options,
    const std::string& ps_strategy) {
  ASSIGN_OR_RETURN(std::unique_ptr<distributed::GrpcServer> server,
                   distributed::GrpcServer::Start(task, options));
  std::fprintf(stderr, "braid: %s serving at %s\n", TaskName(task.job, task.index).c_str(),
               server->target().c_str());
  return std::unique_ptr<ClusterWorker>(
      new ClusterWorker(std::move(server), ps_strategy, options.operation_timeout));
}

absl::StatusOr<std::unique_ptr<Session>> ClusterWorker::MakeSession(std::shared_ptr<Graph> graph,
                                                                    bool place_variables) {
  const TaskConfig& t = task();
  const std::string device = absl::StrCat(TaskName(t.job, t.index), "/device:CPU:0");
  const int num_ps = t.cluster.NumTasks("ps");
  if (num_ps > 0 && place_variables) {
    ReplicaDeviceSetterOptions ps;
    ps.num_ps_tasks = num_ps;
    ps.strategy = ps_strategy_ == "round_robin"
                      ? ReplicaDeviceSetterOptions::Strategy::kRoundRobin
                      : ReplicaDeviceSetterOptions::Strategy::kGreedyByBytes;
    ASSIGN_OR_RETURN(PlacementReport report, AssignVariablesToPs(graph.get(), ps));
    std::string table = report.ToString();
    if (!table.empty() && table.back() != '\n') table += '\n';
    std::printf("variables on the ps tasks (%s):\n%s", ps_strategy_.c_str(), table.c_str());
  }
  distributed::MasterSessionOptions options;
  options.cluster = t.cluster;
  options.default_device = device;
  options.operation_timeout = timeout_;
  ASSIGN_OR_RETURN(
      std::unique_ptr<distributed::MasterSession> session,
      distributed::MasterSession::Create(options, server_->worker_cache(), std::move(graph)));
  return std::unique_ptr<Session>(std::move(session));
}

absl::Status ClusterWorker::WaitForOtherWorkers(absl::Duration timeout) {
  const TaskConfig& t = task();
  if (t.cluster.NumTasks("ps") == 0) return absl::OkStatus();
  std::set<std::string> others = TrainingTasks(t.cluster);
  others.erase(TaskName(t.job, t.index));
  ASSIGN_OR_RETURN(distributed::WorkerInterface * ps,
                   server_->worker_cache()->GetWorker(TaskName("ps", 0)));
  const absl::Time give_up = absl::Now() + timeout;
  GoneTasks gone(server_->worker_cache());
  bool said = false;
  while (!others.empty()) {
    rpc::GetStatusResponse status;
    RETURN_IF_ERROR(ps->GetStatus({}, &status));
    for (const std::string& done : status.done_task()) others.erase(done);
    // A worker that is gone will never report; do not wait for it.
    for (auto it = others.begin(); it != others.end();) {
      if (gone.Gone(*it)) {
        std::fprintf(stderr, "braid: %s is gone; not waiting for it\n", it->c_str());
        it = others.erase(it);
      } else {
        ++it;
      }
    }
    if (others.empty()) break;
    if (!said) {
      std::printf("waiting for %zu other worker(s) to finish\n", others.size());
      std::fflush(stdout);
      said = true;
    }
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(
          absl::StrCat("other workers still running after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(500));
  }
  return absl::OkStatus();
}

void ClusterWorker::ReportDone() {
  const TaskConfig& t = task();
  rpc::ReportTaskDoneRequest req;
  req.set_task(TaskName(t.job, t.index));
  for (int i = 0; i < t.cluster.NumTasks("ps"); ++i) {
    absl::StatusOr<distributed::WorkerInterface*> ps =
        server_->worker_cache()->GetWorker(TaskName("ps", i));
    if (ps.ok()) (*ps)->ReportTaskDone(req).IgnoreError();  // a ps that is gone needs no word
  }
}

}  // namespace braid::cli
