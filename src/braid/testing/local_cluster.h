// Test support: a cluster of real `braid server` processes on loopback, one
// per task, on free ports. Tasks can be killed, stopped and restarted; every
// process still running is killed when the cluster goes out of scope.
//
// A free port is only free until someone binds it: another test running at
// the same time may take one between FreePorts and the task's bind. So every
// task started is awaited until it listens, and a cluster whose task could not
// listen starts again on other ports.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "braid/distributed/cluster_spec.h"

namespace braid::distributed {

class LocalCluster {
 public:
  // jobs: name -> number of tasks. Tasks in `not_started` get an address but
  // no process (a task that is down). The others listen when this returns.
  explicit LocalCluster(const std::map<std::string, int>& jobs,
                        const std::vector<std::pair<std::string, int>>& not_started = {});
  ~LocalCluster();

  const ClusterSpec& spec() const { return spec_; }
  // Starts the task's process and waits until it listens on its port (a
  // test failure if it exits first). Call it from a thread that outlives the
  // task: the task is killed when the thread that started it ends
  // (PR_SET_PDEATHSIG).
  void Start(const std::string& job, int index);
  void Kill(const std::string& job, int index);  // SIGKILL, and reap
  void Signal(const std::string& job, int index, int sig);

  // The braid binary: $BRAID_BINARY, else bin/braid of this build tree.
  static std::string BraidBinary();

 private:
  void Spawn(const std::string& job, int index);
  // True once the task's process listens on its port; false if it exits
  // (or runs past a deadline) without listening.
  bool AwaitListening(const std::string& job, int index);
  void KillAll();

  ClusterSpec spec_;
  std::map<std::pair<std::string, int>, pid_t> pids_;
};

}  // namespace braid::distributed
