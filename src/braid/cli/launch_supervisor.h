// The main loop of `braid launch`: watches the tasks until the launch is
// over, restarts the ones that fail (with --restart_on_failure), and decides
// the exit code of the launch.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "braid/cli/task_processes.h"

namespace braid::cli {

struct SuperviseOptions {
  // After the leader exits, how long the others may take to exit by themselves.
  double grace_seconds = 30;
  // How often each task other than the leader is started again after it
  // failed (a non-zero exit or a signal); 0: a failed task ends the launch.
  int max_restarts = 0;
};

// Pause between a task's failure and its restart.
inline constexpr double kRestartPauseSeconds = 0.5;

// Starts `tasks`, each running `command`, and runs them until the leader
// (`tasks[leader]`: the chief, or else worker 0) is done and the others had
// their grace, a task fails for good, or a signal comes; then stops them all.
// A task other than the leader that fails while the leader runs is restarted
// with the same TF_CONFIG, port and command after kRestartPauseSeconds, as
// long as it has restarts left; the other tasks keep running meanwhile.
// Returns the exit code of the launch: the leader's, or else the failed
// task's (128+N for signal N; 127 if the command cannot be run; 1 if the
// launcher cannot start a process).
// REQUIRES: as TaskProcesses' constructor; leader < tasks.size().
int Supervise(const SuperviseOptions& options, std::vector<std::string> command,
              std::vector<Task> tasks, size_t leader);

}  // namespace braid::cli
