#include "braid/testing/local_cluster.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "braid/base/free_ports.h"
#include "gtest/gtest.h"

namespace braid::distributed {
namespace {

// How often a cluster may start again on new ports after one of its tasks
// could not bind its own.
constexpr int kStartAttempts = 5;
// A server listens within a second or two; a sanitizer build is slower.
constexpr auto kListenDeadline = std::chrono::seconds(60);

// The inodes of the sockets listening on `port`, from /proc/net/tcp and
// tcp6, whose rows read "sl local_address(hex ip:hex port) rem_address st
// ... inode", st 0A being LISTEN.
std::set<std::string> ListeningSocketInodes(int port) {
  std::set<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream row(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      row >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      int local_port = 0;
      if (state == "0A" && absl::SimpleHexAtoi(local.substr(local.rfind(':') + 1), &local_port) &&
          local_port == port) {
        inodes.insert(inode);
      }
    }
  }
  return inodes;
}

// Whether process `pid` holds a socket listening on `port`: a port that
// listens may belong to another process.
bool ProcessListensOn(pid_t pid, int port) {
  std::set<std::string> inodes = ListeningSocketInodes(port);
  if (inodes.empty()) return false;
  // Error codes, not exceptions: the process may exit, and its files close,
  // while they are listed.
  std::error_code error;
  for (std::filesystem::directory_iterator fd(absl::StrCat("/proc/", pid, "/fd"), error), end;
       !error && fd != end; fd.increment(error)) {
    std::string target = std::filesystem::read_symlink(fd->path(), error).string();
    // "socket:[INODE]"
    if (target.starts_with("socket:[") &&
        inodes.contains(target.substr(8, target.size() - 9))) {
      return true;
    }
    error.clear();
  }
  return false;
}

}  // namespace

std::string LocalCluster::BraidBinary() {
  if (const char* env = std::getenv("BRAID_BINARY")) return env;
  // Tests live in <build>/src/braid/; the binary in <build>/bin/.
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  return (self.parent_path() / ".." / ".." / "bin" / "braid").lexically_normal().string();
}

LocalCluster::LocalCluster(const std::map<std::string, int>& jobs,
                           const std::vector<std::pair<std::string, int>>& not_started) {
  int total = 0;
  for (const auto& [job, n] : jobs) total += n;
  for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
    absl::StatusOr<std::vector<int>> free = FreePorts("127.0.0.1", total);
    if (!free.ok()) {
      ADD_FAILURE() << free.status();
      return;
    }
    std::map<std::string, std::vector<std::string>> addresses;
    int next = 0;
    for (const auto& [job, n] : jobs) {
      for (int i = 0; i < n; ++i) {
        addresses[job].push_back(absl::StrCat("localhost:", (*free)[next++]));
      }
    }
    absl::StatusOr<ClusterSpec> spec = ClusterSpec::Create(addresses);
    if (!spec.ok()) {
      ADD_FAILURE() << spec.status();
      return;
    }
    spec_ = *spec;
    for (const auto& [job, n] : jobs) {
      for (int i = 0; i < n; ++i) {
        bool down = false;
        for (const auto& t : not_started) down |= t.first == job && t.second == i;
        if (!down) Spawn(job, i);
      }
    }
    std::vector<std::pair<std::string, int>> started;
    for (const auto& [task, pid] : pids_) started.push_back(task);
    bool all_listen = true;
    for (const auto& [job, i] : started) all_listen = all_listen && AwaitListening(job, i);
    if (all_listen) return;
    KillAll();
  }
  ADD_FAILURE() << "no cluster of " << total << " tasks could listen on free ports in "
                << kStartAttempts << " attempts";
}

LocalCluster::~LocalCluster() { KillAll(); }

void LocalCluster::KillAll() {
  for (const auto& [task, pid] : pids_) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  pids_.clear();
}

void LocalCluster::Start(const std::string& job, int index) {
  Spawn(job, index);
  EXPECT_TRUE(AwaitListening(job, index))
      << "task /job:" << job << "/task:" << index << " did not listen on its port";
}

void LocalCluster::Spawn(const std::string& job, int index) {
  std::string binary = BraidBinary();
  std::string cluster = spec_.ToJson();
  std::string task = std::to_string(index);
  pid_t pid = fork();
  if (pid == 0) {
    // A test that crashes must not leave its cluster running.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // One thread each keeps a cluster of several tasks from oversubscribing
    // the test machine's cores.
    execl(binary.c_str(), binary.c_str(), "server", "--cluster_spec", cluster.c_str(), "--job_name",
          job.c_str(), "--task_index", task.c_str(), "--inter_op_threads", "2",
          "--intra_op_threads", "1", static_cast<char*>(nullptr));
    std::perror("exec braid");
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  pids_[{job, index}] = pid;
}

bool LocalCluster::AwaitListening(const std::string& job, int index) {
  const pid_t pid = pids_.at({job, index});
  absl::StatusOr<std::string> address = spec_.TaskAddress(job, index);
  int port = 0;
  if (!address.ok() || !absl::SimpleAtoi(address->substr(address->rfind(':') + 1), &port)) {
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + kListenDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ProcessListensOn(pid, port)) return true;
    if (waitpid(pid, nullptr, WNOHANG) == pid) {  // it exited, e.g. "port in use"
      pids_.erase({job, index});
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void LocalCluster::Kill(const std::string& job, int index) {
  auto it = pids_.find({job, index});
  ASSERT_NE(it, pids_.end());
  kill(it->second, SIGKILL);
  waitpid(it->second, nullptr, 0);
  pids_.erase(it);
}

void LocalCluster::Signal(const std::string& job, int index, int sig) {
  auto it = pids_.find({job, index});
  ASSERT_NE(it, pids_.end());
  kill(it->second, sig);
}

}  // namespace braid::distributed
