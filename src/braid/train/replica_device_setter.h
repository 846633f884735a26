// Variable placement for replicated training: a graph pass that puts every
// variable on a parameter-server task and the rest of the graph on a worker,
// as TensorFlow's tf.compat.v1.train.replica_device_setter does, but applied
// to a built graph, so it sees every variable whichever API created it
// (layers, optimizer slots, global_step, partitioned variables).
//
//   Scope root = Scope::NewRootScope();
//   ... build the model, opt.Minimize(root, loss) ...
//   ReplicaDeviceSetterOptions ps{.num_ps_tasks = 2, .worker_device = "/job:worker/task:1"};
//   ASSIGN_OR_RETURN(PlacementReport report, AssignVariablesToPs(root.graph(), ps));
//   LOG(INFO) << report.ToString();
//
// The pass only edits requested devices; the placer then completes them (and
// moves every op that takes a variable's handle to the variable's task).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/graph/graph.h"

namespace braid {

struct ReplicaDeviceSetterOptions {
  int num_ps_tasks = 0;
  std::string ps_job = "ps";
  enum class Strategy {
    // Variables in graph order, task 0, 1, ..., 0, 1, ... (TensorFlow's default);
    // unbalanced when variable sizes differ.
    kRoundRobin,
    // Largest variable first, each to the task holding the fewest bytes so far.
    kGreedyByBytes,
  };
  Strategy strategy = Strategy::kGreedyByBytes;
  // Merged under the request of every other node whose request names no job
  // (the node's own parts win), e.g. "/job:worker/task:1". Empty: such nodes
  // are left to the session's default device.
  std::string worker_device;
};

// The variables on one ps task after the pass, including those placed there
// before it (by an earlier run of the pass, a user request or a placement).
struct PsTaskLoad {
  std::vector<std::string> variables;  // VarHandleOp names, in graph order
  int64_t bytes = 0;
};

struct PlacementReport {
  std::string ps_job;
  std::vector<PsTaskLoad> tasks;  // indexed by task

  // One line per task for logs: "ps:0  3 variables  1.23 MB".
  std::string ToString() const;
};

// Requests "/job:<ps_job>/task:K" for every variable that has no job yet, keeping
// the other parts of its request (a device type, say), and merges
// `worker_device` into every other node that names no job.
//
// Variables joined by a colocation constraint (an optimizer's slot variables
// are colocated with their variable) move together and are balanced as one
// unit of their summed size. A unit is left where it is when one of its nodes
// has been placed already (non-empty assigned_device) or requests a job with
// a task or another job; its bytes still count toward the load of the ps task
// it is on, so running the pass again after the graph grew balances the new
// variables against the old. A request of just "/job:<ps_job>" gets a task, as in
// TensorFlow. Sizes come from the VarHandleOp's "shape" and "dtype" attrs; a
// variable of partly unknown shape counts as 0 bytes. Round-robin continues
// counting after the units already on ps tasks.
//
// Errors: InvalidArgument for num_ps_tasks < 1, an empty ps_job, or a
// malformed device name (naming the node or option).
absl::StatusOr<PlacementReport> AssignVariablesToPs(Graph* graph,
                                                    const ReplicaDeviceSetterOptions& options);

}  // namespace braid
