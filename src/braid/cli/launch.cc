// braid launch: runs a whole cluster (chief, workers, ps, evaluator) as local
// processes, each with its TF_CONFIG; prefixes their output with the task name
// and stops them together, so that no task outlives the launch.
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "braid/cli/commands.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace braid::cli {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kKillAfter = std::chrono::seconds(5);  // SIGTERM → SIGKILL
constexpr int kMaxTasks = 1024;
constexpr size_t kMaxLine = 64 << 10;  // longer "lines" are cut, so memory stays bounded
// The launcher handles these; children get them back at their defaults.
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE};

struct LaunchFlags {
  int ps = 0;
  int workers = 1;
  bool chief = false;
  bool evaluator = false;
  int port_base = 0;
  std::string host = "127.0.0.1";
  double grace_seconds = 30;
  std::vector<std::string> command;
};

void WriteAll(int fd, absl::string_view s) {
  while (!s.empty()) {
    ssize_t n = write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed stdout must not stop the launcher from stopping its tasks
    s.remove_prefix(static_cast<size_t>(n));
  }
}

void Say(absl::string_view message) {
  WriteAll(STDERR_FILENO, absl::StrCat("braid launch: ", message, "\n"));
}

// Cuts a child's byte stream into whole lines, each written with one write()
// and prefixed with the task name, so lines of different tasks never mix. '\r'
// ends a line too: a progress bar becomes a series of lines instead of
// overwriting other tasks' output.
class LinePrefixer {
 public:
  LinePrefixer() = default;
  LinePrefixer(std::string prefix, int out_fd) : prefix_(std::move(prefix)), out_fd_(out_fd) {}

  void Feed(absl::string_view data) {
    std::string out;
    for (char c : data) {
      const bool crlf = c == '\n' && after_cr_;  // "\r\n" is one line end
      after_cr_ = c == '\r';
      if (crlf) continue;
      if (c == '\n' || (c == '\r' && !line_.empty())) {
        Emit(out);
      } else if (c != '\r') {
        line_ += c;
        if (line_.size() >= kMaxLine) Emit(out);
      }
    }
    WriteAll(out_fd_, out);
  }

  // Writes a last line that had no line end.
  void Finish() {
    if (line_.empty()) return;
    std::string out;
    Emit(out);
    WriteAll(out_fd_, out);
  }

 private:
  void Emit(std::string& out) {
    absl::StrAppend(&out, prefix_, line_, "\n");
    line_.clear();
  }

  std::string prefix_;
  int out_fd_ = -1;
  std::string line_;
  bool after_cr_ = false;
};

struct Stream {
  int fd = -1;  // read end of the child's pipe; -1 once closed
  LinePrefixer lines;
};

struct Task {
  std::string type;
  int index = 0;
  std::string name;  // "worker:1"
  std::string tf_config;
  pid_t pid = -1;  // also its process group id
  bool running = false;
  int wait_status = 0;
  Stream out, err;
};

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  return 128 + WTERMSIG(wait_status);
}

std::string Describe(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  const int sig = WTERMSIG(wait_status);
  return absl::StrFormat("was killed by signal %d (%s)", sig, strsignal(sig));
}

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

const char* SignalName(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
}

// Picks one port per cluster task: consecutive from port_base, or free ones
// from the system. The probe sockets stay open until all are chosen, so the
// ports differ, and are closed right before the tasks start and bind them.
absl::StatusOr<std::vector<int>> PickPorts(const std::string& host, int n, int port_base) {
  std::vector<int> ports;
  if (port_base > 0) {
    for (int i = 0; i < n; ++i) ports.push_back(port_base + i);
    return ports;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* addr = nullptr;
  if (int rc = getaddrinfo(host.c_str(), "0", &hints, &addr); rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--host '", host, "' is not an address of this machine: ", gai_strerror(rc)));
  }
  std::vector<int> sockets;
  absl::Status status;
  for (int i = 0; i < n && status.ok(); ++i) {
    int fd = socket(addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    if (fd < 0 || bind(fd, addr->ai_addr, addr->ai_addrlen) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
      status = absl::UnavailableError(
          absl::StrCat("cannot find a free port on --host ", host, ": ", strerror(errno)));
      if (fd >= 0) close(fd);
      break;
    }
    sockets.push_back(fd);
    const in_port_t port = bound.ss_family == AF_INET6
                               ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                               : reinterpret_cast<sockaddr_in*>(&bound)->sin_port;
    ports.push_back(ntohs(port));
  }
  freeaddrinfo(addr);
  for (int fd : sockets) close(fd);
  if (!status.ok()) return status;
  return ports;
}

int g_signal_fd = -1;  // write end of the self-pipe

void OnSignal(int sig) {
  const int saved = errno;
  const char c = static_cast<char>(sig);
  (void)!write(g_signal_fd, &c, 1);  // only write(): the poll loop does the work
  errno = saved;
}

class Launcher {
 public:
  Launcher(const LaunchFlags& flags, std::vector<Task> tasks, size_t primary)
      : flags_(flags), tasks_(std::move(tasks)), primary_(primary) {}
  ~Launcher() {
    for (size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &old_[i], nullptr);
    g_signal_fd = -1;
    for (int fd : {signal_pipe_[0], signal_pipe_[1], devnull_})
      if (fd >= 0) close(fd);
  }

  int Run();

 private:
  // NotFound if the command cannot be run.
  absl::Status Spawn(Task& t);
  void Pump(std::optional<Clock::time_point> deadline);
  void Reap();
  void Drain(Stream& s);
  int Finish(int code);
  bool AnyRunning() const {
    for (const Task& t : tasks_)
      if (t.running) return true;
    return false;
  }

  const LaunchFlags& flags_;
  std::vector<Task> tasks_;
  const size_t primary_;  // the chief, or worker 0
  int signal_pipe_[2] = {-1, -1};
  struct sigaction old_[std::size(kSignals)] = {};
  int devnull_ = -1;
  std::vector<size_t> exited_;  // tasks reaped since the main loop last looked
  int signal_ = 0;              // SIGINT/SIGTERM/SIGHUP received
  bool stopping_ = false;
  bool hurry_ = false;  // a second signal: SIGKILL without waiting
};

absl::Status Launcher::Spawn(Task& t) {
  // Everything is prepared before fork(): the child only makes async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "TF_CONFIG=", 10) != 0) env_strings.emplace_back(*e);
  }
  env_strings.push_back("TF_CONFIG=" + t.tf_config);
  std::vector<char*> envp, argv;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = flags_.command;
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

void Launcher::Drain(Stream& s) {
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

void Launcher::Reap() {
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

void Launcher::Pump(std::optional<Clock::time_point> deadline) {
  std::vector<pollfd> fds = {{signal_pipe_[0], POLLIN, 0}};
  std::vector<Stream*> streams = {nullptr};
  for (Task& t : tasks_) {
    for (Stream* s : {&t.out, &t.err}) {
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

// Stops what still runs: SIGTERM to every task's process group (the task and
// whatever it started), SIGKILL to what is left 5 s later; then collects the
// last output. Returns code.
int Launcher::Finish(int code) {
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
    for (Stream* s : {&t.out, &t.err}) {
      if (s->fd < 0) continue;
      s->lines.Finish();
      close(s->fd);
      s->fd = -1;
    }
  }
  return code;
}

int Launcher::Run() {
  if (pipe2(signal_pipe_, O_CLOEXEC | O_NONBLOCK) != 0 ||
      (devnull_ = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
    Say(absl::StrCat("cannot set up: ", strerror(errno)));
    return 1;
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

  for (Task& t : tasks_) {
    if (absl::Status s = Spawn(t); !s.ok()) {
      Say(s.message());
      return Finish(absl::IsNotFound(s) ? 127 : 1);
    }
  }
  const Task& primary = tasks_[primary_];
  std::optional<Clock::time_point> grace_end;
  int code = 0;
  while (true) {
    for (size_t i : std::exchange(exited_, {})) {
      const Task& t = tasks_[i];
      const bool failed = !WIFEXITED(t.wait_status) || WEXITSTATUS(t.wait_status) != 0;
      if (i == primary_) {
        code = ExitCode(t.wait_status);
        // Without its leader the cluster has nothing left to do: no grace.
        if (failed) {
          Say(absl::StrCat(t.name, " ", Describe(t.wait_status)));
          return Finish(code);
        }
        grace_end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(flags_.grace_seconds));
      } else if (failed) {
        Say(absl::StrCat(t.name, " ", Describe(t.wait_status),
                         grace_end ? "" : "; stopping the other tasks"));
        if (!grace_end) return Finish(ExitCode(t.wait_status));
      }
    }
    if (signal_ != 0) {
      Say(absl::StrCat("got ", SignalName(signal_), "; stopping all tasks"));
      return Finish(128 + signal_);
    }
    if (grace_end) {
      if (!AnyRunning()) return Finish(code);
      if (Clock::now() >= *grace_end) {
        std::vector<std::string> left;
        for (const Task& t : tasks_)
          if (t.running) left.push_back(t.name);
        Say(absl::StrFormat("stopped %s (still running %g s after %s exited)",
                            absl::StrJoin(left, ", "), flags_.grace_seconds, primary.name));
        return Finish(code);
      }
    }
    Pump(grace_end);
  }
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
  Launcher launcher(f, std::move(tasks), primary);
  return launcher.Run();
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
SIGINT/SIGTERM stop all tasks (exit 130/143); a second one kills them at once.

Example:
  braid launch --ps 1 --workers 2 -- braid train --model cnn --epochs 3)");
  cmd->callback([flags] {
    const int code = RunLaunch(*flags);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace braid::cli
