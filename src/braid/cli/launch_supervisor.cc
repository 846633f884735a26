#include "braid/cli/launch_supervisor.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "braid/cli/launch_output.h"

namespace braid::cli {
namespace {

using Clock = TaskProcesses::Clock;

bool Failed(int wait_status) { return !WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0; }

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  return 128 + WTERMSIG(wait_status);
}

std::string Describe(const Task& t) {
  if (WIFEXITED(t.wait_status)) {
    return absl::StrCat(t.name, " exited with status ", WEXITSTATUS(t.wait_status));
  }
  const int sig = WTERMSIG(t.wait_status);
  return absl::StrFormat("%s was killed by signal %d (%s)", t.name, sig, strsignal(sig));
}

const char* SignalName(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
}

Clock::time_point After(double seconds) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

}  // namespace

int Supervise(const SuperviseOptions& options, std::vector<std::string> command,
              std::vector<Task> all_tasks, size_t leader) {
  TaskProcesses processes(std::move(command), std::move(all_tasks));
  auto finish = [&processes](int code) {
    processes.StopAll();
    return code;
  };
  auto start_failed = [&finish](const absl::Status& s) {
    Say(s.message());
    return finish(absl::IsNotFound(s) ? 127 : 1);
  };
  if (absl::Status s = processes.Start(); !s.ok()) {
    Say(s.message());
    return 1;
  }
  if (absl::Status s = processes.SpawnAll(); !s.ok()) return start_failed(s);
  const std::vector<Task>& tasks = processes.tasks();
  const bool restarting = options.max_restarts > 0;
  std::vector<int> restarts(tasks.size(), 0);  // restarts so far, per task
  std::vector<std::optional<Clock::time_point>> restart_at(tasks.size());  // pending ones
  std::optional<Clock::time_point> grace_end;  // set once the leader is done
  int code = 0;
  while (true) {
    for (size_t i : processes.TakeExited()) {
      const Task& t = tasks[i];
      if (i == leader) {
        code = ExitCode(t.wait_status);
        // Without its leader the cluster has nothing left to do: no grace.
        if (Failed(t.wait_status)) {
          Say(absl::StrCat(
              Describe(t),
              restarting ? "; the leader is not restarted: stopping the other tasks" : ""));
          return finish(code);
        }
        grace_end = After(options.grace_seconds);
        // Nobody is left to train with a task restarted now.
        for (size_t j = 0; j < tasks.size(); ++j) {
          if (restart_at[j])
            Say(absl::StrCat("not restarting ", tasks[j].name, ": ", t.name, " is done"));
          restart_at[j].reset();
        }
      } else if (!Failed(t.wait_status)) {
        continue;  // a task that succeeded is never restarted
      } else if (grace_end) {
        Say(Describe(t));
      } else if (restarts[i] < options.max_restarts) {
        ++restarts[i];
        Say(absl::StrFormat("%s; restarting it (%d of %d)", Describe(t), restarts[i],
                            options.max_restarts));
        restart_at[i] = After(kRestartPauseSeconds);
      } else {
        Say(absl::StrCat(
            Describe(t),
            restarting ? absl::StrFormat("; no restarts left (%d used)", restarts[i]) : "",
            "; stopping the other tasks"));
        return finish(ExitCode(t.wait_status));
      }
    }
    if (processes.signal() != 0) {
      Say(absl::StrCat("got ", SignalName(processes.signal()), "; stopping all tasks"));
      return finish(128 + processes.signal());
    }
    std::optional<Clock::time_point> wake = grace_end;
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (!restart_at[i]) continue;
      if (Clock::now() < *restart_at[i]) {
        wake = std::min(wake.value_or(*restart_at[i]), *restart_at[i]);
        continue;
      }
      restart_at[i].reset();
      if (absl::Status s = processes.Respawn(i); !s.ok()) return start_failed(s);
    }
    if (grace_end) {
      if (!processes.AnyRunning()) return finish(code);
      if (Clock::now() >= *grace_end) {
        std::vector<std::string> left;
        for (const Task& t : tasks)
          if (t.running) left.push_back(t.name);
        Say(absl::StrFormat("stopped %s (still running %g s after %s exited)",
                            absl::StrJoin(left, ", "), options.grace_seconds, tasks[leader].name));
        return finish(code);
      }
    }
    processes.Pump(wake);
  }
}

}  // namespace braid::cli
