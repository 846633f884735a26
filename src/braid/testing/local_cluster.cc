#include "braid/testing/local_cluster.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "braid/base/free_ports.h"
#include "gtest/gtest.h"

namespace braid::distributed {

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
  absl::StatusOr<std::vector<int>> free = FreePorts("127.0.0.1", total);
  EXPECT_TRUE(free.ok()) << free.status();
  std::vector<int> ports = free.value_or(std::vector<int>(total, 0));
  std::map<std::string, std::vector<std::string>> addresses;
  int next = 0;
  for (const auto& [job, n] : jobs)
    for (int i = 0; i < n; ++i) addresses[job].push_back(absl::StrCat("localhost:", ports[next++]));
  absl::StatusOr<ClusterSpec> spec = ClusterSpec::Create(addresses);
  EXPECT_TRUE(spec.ok()) << spec.status();
  spec_ = *spec;
  for (const auto& [job, n] : jobs) {
    for (int i = 0; i < n; ++i) {
      bool down = false;
      for (const auto& t : not_started) down |= t.first == job && t.second == i;
      if (!down) Start(job, i);
    }
  }
}

LocalCluster::~LocalCluster() {
  for (const auto& [task, pid] : pids_) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
}

void LocalCluster::Start(const std::string& job, int index) {
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
