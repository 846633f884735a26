// braid launch: runs a whole cluster (chief, workers, ps, evaluator) as local
// processes, each with its TF_CONFIG; prefixes their output with the task name
// and stops them together, so that no task outlives the launch.
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "braid/base/free_ports.h"
#include "braid/cli/commands.h"
#include "braid/cli/launch_output.h"
#include "braid/cli/launch_supervisor.h"
#include "braid/cli/task_processes.h"
#include "nlohmann/json.hpp"

namespace braid::cli {
namespace {

constexpr int kMaxTasks = 1024;
constexpr int kMaxRestarts = 1000000;

struct LaunchFlags {
  int ps = 0;
  int workers = 1;
  bool chief = false;
  bool evaluator = false;
  int port_base = 0;
  std::string host = "127.0.0.1";
  double grace_seconds = 30;
  std::string restart_on_failure;  // "": not given; else the count, "3" when given bare
  std::vector<std::string> command;
};

// The command as a shell would need it, so the log line can be copied and run.
std::string ShellQuote(const std::vector<std::string>& args) {
  constexpr char kPlain[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,/:@%";
  std::vector<std::string> quoted;
  for (const std::string& a : args) {
    if (!a.empty() && a.find_first_not_of(kPlain) == std::string::npos) {
      quoted.push_back(a);
    } else {
      quoted.push_back(absl::StrCat("'", absl::StrReplaceAll(a, {{"'", "'\\''"}}), "'"));
    }
  }
  return absl::StrJoin(quoted, " ");
}

// Picks one port per cluster task: consecutive from port_base, or free ones
// from the system (closed right before the tasks start and bind them).
absl::StatusOr<std::vector<int>> PickPorts(const std::string& host, int n, int port_base) {
  if (port_base == 0) {
    absl::StatusOr<std::vector<int>> free = FreePorts(host, n);
    if (absl::IsInvalidArgument(free.status())) {  // "'HOST' is not an address ..."
      return absl::InvalidArgumentError(absl::StrCat("--host ", free.status().message()));
    }
    return free;
  }
  std::vector<int> ports;
  for (int i = 0; i < n; ++i) ports.push_back(port_base + i);
  return ports;
}

// Returns the exit code of the launch, or 1 after saying what was wrong.
int RunLaunch(const LaunchFlags& f) {
  if (f.command.empty()) {
    return Fail("launch",
                "no command to run: give it after --, e.g. braid launch --workers 2 -- "
                "braid train");
  }
  if (f.host.empty()) return Fail("launch", "--host is empty: give an address such as 127.0.0.1");
  if (f.ps < 0) return Fail("launch", absl::StrCat("--ps must be 0 or more, got ", f.ps));
  if (f.workers < 0) {
    return Fail("launch", absl::StrCat("--workers must be 0 or more, got ", f.workers));
  }
  if (f.workers == 0 && !f.chief) {
    return Fail("launch",
                "--workers 0 without --chief leaves no task to lead the training: "
                "give --workers 1 or more, or --chief");
  }
  if (!(f.grace_seconds >= 0) || !std::isfinite(f.grace_seconds)) {
    return Fail("launch", absl::StrCat("--grace_seconds must be 0 or more, got ",
                                       absl::StrFormat("%g", f.grace_seconds)));
  }
  SuperviseOptions supervise{.grace_seconds = f.grace_seconds};
  if (!f.restart_on_failure.empty() &&
      (!absl::SimpleAtoi(f.restart_on_failure, &supervise.max_restarts) ||
       supervise.max_restarts < 0 || supervise.max_restarts > kMaxRestarts)) {
    return Fail("launch", absl::StrCat("--restart_on_failure=", f.restart_on_failure,
                                       ": give the restarts per task as a number from 0 to ",
                                       kMaxRestarts, ", e.g. --restart_on_failure=3"));
  }
  // "--restart_on_failure 5 -- CMD" would run "5": the count must be attached.
  if (!f.restart_on_failure.empty() &&
      f.command[0].find_first_not_of("0123456789") == std::string::npos) {
    return Fail("launch", absl::StrCat("'", f.command[0],
                                       "' as the command: give the count of restarts as "
                                       "--restart_on_failure=",
                                       f.command[0]));
  }
  const int64_t n = int64_t{f.chief} + f.workers + f.ps;  // tasks with a port
  if (n + f.evaluator > kMaxTasks) {
    return Fail("launch",
                absl::StrCat("--ps ", f.ps, " and --workers ", f.workers, " make ", n + f.evaluator,
                             " tasks; at most ", kMaxTasks, " run on one machine"));
  }
  if (f.port_base != 0 && (f.port_base < 1 || f.port_base + n - 1 > 65535)) {
    return Fail("launch", absl::StrCat("--port_base ", f.port_base, " is out of range for ", n,
                                       " tasks: use 1..", 65536 - n, " (or 0 for free ports)"));
  }
  absl::StatusOr<std::vector<int>> ports = PickPorts(f.host, static_cast<int>(n), f.port_base);
  if (!ports.ok()) return Fail("launch", std::string(ports.status().message()));

  // Ports in cluster order: chief, then workers, then ps.
  const std::string host = f.host.find(':') != std::string::npos && f.host[0] != '['
                               ? absl::StrCat("[", f.host, "]")
                               : f.host;
  nlohmann::ordered_json cluster = nlohmann::ordered_json::object();
  std::vector<Task> tasks;
  size_t next_port = 0;
  const std::vector<std::pair<std::string, int>> jobs = {
      {"chief", f.chief ? 1 : 0}, {"worker", f.workers}, {"ps", f.ps}};
  for (const auto& [type, count] : jobs) {
    for (int i = 0; i < count; ++i) {
      cluster[type].push_back(absl::StrCat(host, ":", (*ports)[next_port++]));
      tasks.push_back(Task{.type = type, .index = i});
    }
  }
  // TensorFlow's rule: the evaluator is outside the cluster.
  if (f.evaluator) tasks.push_back(Task{.type = "evaluator", .index = 0});
  size_t primary = 0;  // chief:0 if any, else worker:0: both come first
  for (Task& t : tasks) {
    t.name = absl::StrCat(t.type, ":", t.index);
    t.tf_config = nlohmann::ordered_json{
        {"cluster", cluster},
        {"task", {{"type", t.type}, {"index", t.index}}},
        {"rpc_layer",
         "grpc"}}.dump();
    t.out.lines = LinePrefixer(absl::StrCat("[", t.name, "] "), STDOUT_FILENO);
    t.err.lines = LinePrefixer(absl::StrCat("[", t.name, "] "), STDERR_FILENO);
  }
  Say(absl::StrCat("cluster ", cluster.dump(), f.evaluator ? " plus evaluator:0" : "",
                   ", running: ", ShellQuote(f.command)));
  return Supervise(supervise, f.command, std::move(tasks), primary);
}

}  // namespace

void RegisterLaunch(CLI::App& app) {
  auto flags = std::make_shared<LaunchFlags>();
  CLI::App* cmd = app.add_subcommand(
      "launch", "run a whole cluster (ps, workers, chief, evaluator) as local processes");
  cmd->add_option("--ps", flags->ps, "parameter-server tasks (may be 0)")->capture_default_str();
  cmd->add_option("--workers", flags->workers, "worker tasks (0 only with --chief)")
      ->capture_default_str();
  cmd->add_flag("--chief", flags->chief, "add a chief task, which then leads instead of worker 0");
  cmd->add_flag("--evaluator", flags->evaluator,
                "add an evaluator task (not part of the cluster, stopped after the others)");
  cmd->add_option("--port_base", flags->port_base,
                  "consecutive ports from here, chief first, then workers, then ps "
                  "(0: free ports picked by the system)")
      ->capture_default_str();
  cmd->add_option("--host", flags->host, "address of every task")->capture_default_str();
  cmd->add_option("--grace_seconds", flags->grace_seconds,
                  "after the leader exits, how long the others may take to exit by themselves "
                  "before SIGTERM (then SIGKILL 5 s later)")
      ->capture_default_str();
  cmd->add_flag("--restart_on_failure{3}", flags->restart_on_failure,
                "[=N] start a task other than the leader again when it fails (non-zero exit or "
                "a signal), at most N times per task (3 without =N), with the same TF_CONFIG, "
                "port and command, 0.5 s later; the other tasks keep running")
      ->type_name("");
  cmd->add_option("command", flags->command,
                  "COMMAND ARGS..., after --: what every task runs ('braid': this braid binary)");
  cmd->footer(R"(Every task runs COMMAND ARGS... with stdin from /dev/null and the environment
variable TF_CONFIG, e.g. for the second of two workers with one ps:
  {"cluster": {"worker": ["127.0.0.1:41001", "127.0.0.1:41002"], "ps": ["127.0.0.1:41003"]},
   "task": {"type": "worker", "index": 1}, "rpc_layer": "grpc"}
Jobs: "chief" (with --chief), "worker", "ps"; jobs without tasks are left out. The evaluator
gets {"type": "evaluator", "index": 0} and, as in TensorFlow, is not listed in "cluster".

Each line a task writes (or ends with \r) is written to the launcher's stdout or stderr, as
the task wrote it, prefixed with the task name: "[worker:1] loss 0.31".

The leader is the chief, or worker 0 without --chief; the launch exits with its exit code.
If it fails, or any other task fails before it, all tasks are stopped and the launch exits
with the failed task's code (128+N for signal N; 127 if the command cannot be run).
With --restart_on_failure[=N] a failed task other than the leader (a worker, ps or the
evaluator) is instead started again, up to N times (default 3), while the leader runs:
  braid launch: worker:1 was killed by signal 9 (Killed); restarting it (1 of 3)
Its output keeps its prefix. A failure beyond N, or of the leader, stops all tasks as above;
a task that exits with 0 is never restarted.
SIGINT/SIGTERM stop all tasks (exit 130/143); a second one kills them at once.

Example:
  braid launch --ps 1 --workers 2 -- braid train --model cnn --epochs 3)");
  cmd->callback([flags] {
    const int code = RunLaunch(*flags);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace braid::cli
