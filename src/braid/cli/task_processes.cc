#include "braid/cli/task_processes.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

extern char** environ;

namespace braid::cli {
namespace {

using Clock = TaskProcesses::Clock;
constexpr auto kKillAfter = std::chrono::seconds(5);  // SIGTERM → SIGKILL

int g_signal_fd = -1;  // write end of the self-pipe

void OnSignal(int sig) {
  const int saved = errno;
  const char c = static_cast<char>(sig);
  (void)!write(g_signal_fd, &c, 1);  // only write(): the poll loop does the work
  errno = saved;
}

void Drain(TaskPipe& s) {
  char buf[64 << 10];
  while (s.fd >= 0) {
    const ssize_t n = read(s.fd, buf, sizeof(buf));
    if (n > 0) {
      s.lines.Feed(absl::string_view(buf, static_cast<size_t>(n)));
    } else if (n < 0 && errno == EAGAIN) {
      return;  // the rest comes later (or a grandchild holds the pipe open)
    } else if (n == 0 || errno != EINTR) {
      s.lines.Finish();
      close(s.fd);
      s.fd = -1;
    }
  }
}

}  // namespace

TaskProcesses::TaskProcesses(std::vector<std::string> command, std::vector<Task> tasks)
    : command_(std::move(command)), tasks_(std::move(tasks)) {}

TaskProcesses::~TaskProcesses() {
  for (size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &old_[i], nullptr);
  g_signal_fd = -1;
  for (int fd : {signal_pipe_[0], signal_pipe_[1], devnull_})
    if (fd >= 0) close(fd);
}

absl::Status TaskProcesses::Start() {
  if (pipe2(signal_pipe_, O_CLOEXEC | O_NONBLOCK) != 0 ||
      (devnull_ = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
    return absl::InternalError(absl::StrCat("cannot set up: ", strerror(errno)));
  }
  g_signal_fd = signal_pipe_[1];
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  for (size_t i = 0; i < std::size(kSignals); ++i) {
    struct sigaction use = sa;
    if (kSignals[i] == SIGPIPE) use.sa_handler = SIG_IGN;  // a closed stdout is not our end
    sigaction(kSignals[i], &use, &old_[i]);
  }
  // Orphans of a task come to the launcher, which reaps them (no zombies left behind).
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  return absl::OkStatus();
}

absl::Status TaskProcesses::SpawnAll() {
  for (Task& t : tasks_) {
    if (absl::Status s = Spawn(t); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status TaskProcesses::Respawn(size_t index) {
  Task& t = tasks_[index];
  if (t.pid > 0) kill(-t.pid, SIGKILL);  // leftovers of its previous run
  for (TaskPipe* s : {&t.out, &t.err}) {
    Drain(*s);
    if (s->fd < 0) continue;  // closed: nothing escaped the group
    s->lines.Finish();
    close(s->fd);
    s->fd = -1;
  }
  return Spawn(t);
}

absl::Status TaskProcesses::Spawn(Task& t) {
  // Everything is prepared before fork(): the child only makes async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "TF_CONFIG=", 10) != 0) env_strings.emplace_back(*e);
  }
  env_strings.push_back("TF_CONFIG=" + t.tf_config);
  std::vector<char*> envp, argv;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = command_;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  const char* file = args[0] == "braid" ? "/proc/self/exe" : args[0].c_str();

  int out[2], err[2], exec_err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(exec_err, O_CLOEXEC) != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start ", t.name, ": ", strerror(errno)));
  }
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);  // no launcher handler may run in the child
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);  // its own group: a stop reaches whatever the task started
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : kSignals) sigaction(sig, &dfl, nullptr);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    dup2(devnull_, STDIN_FILENO);  // a background group reading the terminal would stop
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    execvpe(file, argv.data(), envp.data());
    const int e = errno;
    (void)!write(exec_err[1], &e, sizeof(e));
    _exit(127);
  }
  const int fork_errno = errno;
  if (pid > 0) setpgid(pid, pid);  // also here, so a kill(-pid) right away finds the group
  sigprocmask(SIG_SETMASK, &old, nullptr);
  for (int fd : {out[1], err[1], exec_err[1]}) close(fd);
  if (pid < 0) {
    for (int fd : {out[0], err[0], exec_err[0]}) close(fd);
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start ", t.name, ": fork: ", strerror(fork_errno)));
  }
  t.pid = pid;
  t.running = true;
  t.out.fd = out[0];
  t.err.fd = err[0];
  for (int fd : {out[0], err[0]}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  // The CLOEXEC pipe closes empty on a successful exec, or brings execvp's errno.
  int e = 0;
  ssize_t n;
  do n = read(exec_err[0], &e, sizeof(e));
  while (n < 0 && errno == EINTR);
  close(exec_err[0]);
  if (n != sizeof(e)) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("cannot run '", args[0], "': ", strerror(e)));
}

void TaskProcesses::Reap() {
  int status;
  pid_t pid;
  // waitpid(-1): as child subreaper the launcher also reaps orphaned grandchildren.
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (size_t i = 0; i < tasks_.size(); ++i) {
      Task& t = tasks_[i];
      if (t.pid != pid || !t.running) continue;
      t.running = false;
      t.wait_status = status;
      // Its last words first, so they come before what the launcher says about it.
      Drain(t.out);
      Drain(t.err);
      exited_.push_back(i);
    }
  }
}

void TaskProcesses::Pump(std::optional<Clock::time_point> deadline) {
  std::vector<pollfd> fds = {{signal_pipe_[0], POLLIN, 0}};
  std::vector<TaskPipe*> streams = {nullptr};
  for (Task& t : tasks_) {
    for (TaskPipe* s : {&t.out, &t.err}) {
      if (s->fd < 0) continue;
      fds.push_back({s->fd, POLLIN, 0});
      streams.push_back(s);
    }
  }
  int timeout = -1;
  if (deadline) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
    timeout = static_cast<int>(std::max<int64_t>(0, left.count()));
  }
  if (poll(fds.data(), fds.size(), timeout) > 0) {
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents != 0) Drain(*streams[i]);
    }
  }
  char sigs[64];
  ssize_t n;
  while ((n = read(signal_pipe_[0], sigs, sizeof(sigs))) > 0) {
    for (ssize_t i = 0; i < n; ++i) {
      if (sigs[i] == SIGCHLD) continue;
      if (signal_ == 0 && !stopping_) {
        signal_ = sigs[i];
      } else {
        hurry_ = true;
      }
    }
  }
  Reap();
}

std::vector<size_t> TaskProcesses::TakeExited() { return std::exchange(exited_, {}); }

bool TaskProcesses::AnyRunning() const {
  for (const Task& t : tasks_)
    if (t.running) return true;
  return false;
}

void TaskProcesses::StopAll() {
  stopping_ = true;
  auto alive = [](const Task& t) { return t.running || (t.pid > 0 && kill(-t.pid, 0) == 0); };
  auto any_alive = [&] {
    for (const Task& t : tasks_)
      if (alive(t)) return true;
    return false;
  };
  for (const Task& t : tasks_)
    if (t.pid > 0) kill(-t.pid, SIGTERM);
  auto until = [](Clock::duration d) { return Clock::now() + d; };
  for (auto end = until(kKillAfter); any_alive() && !hurry_ && Clock::now() < end;) {
    Pump(std::min(end, until(std::chrono::milliseconds(50))));  // group members send no SIGCHLD
  }
  std::vector<std::string> killed;
  for (const Task& t : tasks_) {
    if (!alive(t)) continue;
    if (t.running) killed.push_back(t.name);
    kill(-t.pid, SIGKILL);
  }
  if (!killed.empty() && !hurry_) {
    Say(absl::StrCat("killed ", absl::StrJoin(killed, ", "), " (still running 5 s after SIGTERM)"));
  }
  for (auto end = until(kKillAfter); AnyRunning() && Clock::now() < end;) Pump(end);
  // Output still buffered in the pipes; bounded, in case something escaped its group.
  for (auto end = until(std::chrono::seconds(1)); Clock::now() < end;) {
    bool open = false;
    for (const Task& t : tasks_) open = open || t.out.fd >= 0 || t.err.fd >= 0;
    if (!open) break;
    Pump(end);
  }
  for (Task& t : tasks_) {
    for (TaskPipe* s : {&t.out, &t.err}) {
      if (s->fd < 0) continue;
      s->lines.Finish();
      close(s->fd);
      s->fd = -1;
    }
  }
}

}  // namespace braid::cli
