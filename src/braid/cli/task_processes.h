// The processes of `braid launch`: one per cluster task, each in its own
// process group with its TF_CONFIG and its output piped through a
// LinePrefixer; the launcher's signals, turned into events of one poll loop;
// and stopping them all, so that no task outlives the launch.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "braid/cli/launch_output.h"

namespace braid::cli {

// The read end of a task's stdout or stderr pipe, and where its lines go.
struct TaskPipe {
  int fd = -1;  // read end of the child's pipe; -1 once closed
  LinePrefixer lines;
};

// A task of the cluster and the process that runs it.
struct Task {
  std::string type;
  int index = 0;
  std::string name;  // "worker:1"
  std::string tf_config;
  pid_t pid = -1;  // also its process group id
  bool running = false;
  int wait_status = 0;  // waitpid()'s, once it is no longer running
  TaskPipe out, err;
};

// Runs the processes of a launch's tasks. While it lives, this process handles
// SIGINT, SIGTERM, SIGHUP and SIGCHLD, ignores SIGPIPE and is a child
// subreaper; its destructor restores the old handlers. Not thread-safe; one at
// a time per process.
class TaskProcesses {
 public:
  using Clock = std::chrono::steady_clock;

  // `command`: what every task runs, COMMAND ARGS... ("braid": this binary).
  // REQUIRES: `command` is not empty; every task's name, tf_config and
  // out/err lines are set.
  TaskProcesses(std::vector<std::string> command, std::vector<Task> tasks);
  ~TaskProcesses();
  TaskProcesses(const TaskProcesses&) = delete;
  TaskProcesses& operator=(const TaskProcesses&) = delete;

  // Installs the signal handlers and makes this process a child subreaper.
  // An error ("cannot set up: ...") leaves no task started.
  absl::Status Start();

  // Starts the tasks in order, each with stdin from /dev/null and its
  // TF_CONFIG in the environment, and stops at the first that fails:
  // NotFound if the command cannot be run, ResourceExhausted if no process
  // could be made. The tasks started until then still run: StopAll() stops
  // them. REQUIRES: Start() succeeded.
  absl::Status SpawnAll();

  // Starts task `index` again as SpawnAll() did: the same command and
  // TF_CONFIG, its output through the same LinePrefixers. First kills what is
  // left of its previous process group (what the task started) and closes its
  // previous pipes, after writing what they hold. Errors as SpawnAll()'s.
  // REQUIRES: SpawnAll() succeeded; the task is not running.
  absl::Status Respawn(size_t index);

  // Waits until output, a signal, or `deadline` (none: no limit); writes the
  // output that came, records the signals and reaps the children that exited.
  void Pump(std::optional<Clock::time_point> deadline);

  // The indices of the tasks reaped since the last call, in the order they
  // were reaped; their last output has been written.
  std::vector<size_t> TakeExited();

  // The first SIGINT, SIGTERM or SIGHUP received before StopAll(); 0 if none.
  int signal() const { return signal_; }

  bool AnyRunning() const;
  const std::vector<Task>& tasks() const { return tasks_; }

  // Stops what still runs: SIGTERM to every task's process group (the task
  // and whatever it started), SIGKILL to what is left 5 s later (at once after
  // a second signal, or any during the stop), saying which tasks had to be
  // killed; then collects the last output, waiting at most 5 s more for the
  // tasks to be reaped and 1 s for their pipes to close.
  void StopAll();

 private:
  // The launcher handles these; children get them back at their defaults.
  static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE};

  // NotFound if the command cannot be run.
  absl::Status Spawn(Task& t);
  void Reap();

  const std::vector<std::string> command_;
  std::vector<Task> tasks_;
  int signal_pipe_[2] = {-1, -1};
  struct sigaction old_[std::size(kSignals)] = {};
  int devnull_ = -1;
  std::vector<size_t> exited_;  // tasks reaped since the main loop last looked
  int signal_ = 0;              // SIGINT/SIGTERM/SIGHUP received
  bool stopping_ = false;
  bool hurry_ = false;  // a second signal: SIGKILL without waiting
};

}  // namespace braid::cli
