// Bounded staleness (stale synchronous parallel, as in ps-lite and Petuum):
// between asynchronous training, where a fast worker may run arbitrarily far
// ahead on parameters the slow ones have not yet touched, and synchronous
// training, where every step waits for the slowest worker.
//
// Each of the `num_replicas` workers trains on its own, but counts the steps
// it completed (its clock) in a table on the ps. After every step a worker
// advances its clock and goes on only while it is at most `max_staleness`
// steps ahead of the slowest worker still training: it may begin step t once
// every such worker has finished step t - max_staleness - 1. With
// max_staleness 0 the workers move in lock-step; the gradients are still
// applied one worker at a time, as in asynchronous training.
//
// A worker that ends its training marks itself finished, and nobody waits
// for it any more; one that restarts goes on from the clock stored in the
// table (the table outlives the worker, not the ps task: a restarted ps
// starts every clock at 0 again). A wait is bounded by `timeout_ms` and then
// fails the step with DeadlineExceeded naming the replicas behind and their
// steps; closing the table ends every wait with Cancelled.
//
//   BoundedStalenessOptions o{.num_replicas = 3, .replica_index = i,
//                             .max_staleness = 2, .device = "/job:ps/task:0"};
//   ASSIGN_OR_RETURN(BoundedStalenessOps gate, BuildBoundedStaleness(root, train_op, o));
//   every step:            session.Run(fetches {gate.lead}, targets {gate.train_op})
//   when training ends:    session.Run(targets {gate.finish_op})
//   to release waiters:    session.Run(targets {gate.close_op})  (e.g. on shutdown)
//
// Note: the gate comes after the step, as one Run both trains and waits. A
// worker whose wait failed and that restarts therefore trains one step
// before it next waits, and may run one step further ahead than the bound.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "braid/graph/scope.h"

namespace braid {

struct BoundedStalenessOptions {
  int num_replicas = 1;   // workers sharing the clock table, >= 1
  int replica_index = 0;  // this worker, in [0, num_replicas)
  int max_staleness = 0;  // steps a worker may run ahead of the slowest, >= 0
  // Bound on one wait for the slower workers (0: forever).
  int64_t timeout_ms = 45000;
  // Where the clock table lives, e.g. "/job:ps/task:0": every worker must
  // name the same task. Empty: the scope's device (one process only).
  std::string device;
};

struct BoundedStalenessOps {
  // The given train op, then this worker's advance and wait.
  Node* train_op = nullptr;
  // How many steps this worker was ahead of the slowest unfinished one when
  // the gate let it go on (int64, in [0, max_staleness]); runs train_op.
  Output lead;
  // This worker ended its training: nobody waits for it any more.
  Node* finish_op = nullptr;
  // Ends every wait on the table, now and later, with Cancelled.
  Node* close_op = nullptr;
  // Every worker's completed steps (int64 [num_replicas]).
  Output clocks;
};

// The clock table is shared by name ("bounded_staleness_clocks") on its
// device, so every worker's graph, and a restarted worker's, reaches the
// same one. InvalidArgument naming the value for num_replicas < 1,
// replica_index outside [0, num_replicas), max_staleness < 0,
// timeout_ms < 0 or a null train_op.
absl::StatusOr<BoundedStalenessOps> BuildBoundedStaleness(const Scope& scope, Node* train_op,
                                                          const BoundedStalenessOptions& options);

}  // namespace braid
