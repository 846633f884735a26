// Synchronous data-parallel training, as TensorFlow's SyncReplicasOptimizer:
// every worker pushes its gradients to accumulators beside the variables and
// waits; the chief averages `replicas_to_aggregate` workers' gradients per
// step, applies them once (the global step advances once per aggregated
// step), and publishes the next step, which releases the workers. With more workers than
// `replicas_to_aggregate`, the slowest ones are backups: their gradients
// arrive for a step already taken, are dropped, and are counted.
//
//   SyncReplicasOptions o{.total_num_replicas = 3, .replicas_to_aggregate = 2,
//                         .replica_index = i, .local_device = "/job:worker/task:1"};
//   ASSIGN_OR_RETURN(SyncReplicasOps sync, BuildSyncReplicas(root, &adam, loss, o));
//   session.Run(sync.local_init_op);           // every worker, once
//   chief: a thread running sync.chief_update_op until the training ends,
//          then sync.close_op
//   every worker, every step: session.Run(sync.train_op)
//
// Steps here are sync steps (0, 1, ...), counted by the barrier, not the
// global step: a worker that joins late starts at 0, its first push is
// dropped as stale, and the step notice brings it to the current step.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "braid/graph/scope.h"
#include "braid/train/optimizer.h"

namespace braid {

struct SyncReplicasOptions {
  int total_num_replicas = 1;
  int replicas_to_aggregate = 0;  // 0: all of them
  int replica_index = 0;          // this worker, in [0, total_num_replicas)
  // Where this worker's local step lives, e.g. "/job:worker/task:1" (never
  // on a ps: each worker has its own). Empty: the session's default device.
  std::string local_device;
  // Bound on a wait for the other workers or the chief (0: forever).
  int64_t timeout_ms = 45000;
};

struct SyncReplicasOps {
  Node* train_op = nullptr;         // every worker, every step
  Node* chief_update_op = nullptr;  // the chief, in a loop of its own
  // The chief, when its training ends: ends its update loop (Cancelled) and
  // the other workers' training (their next step fails with OutOfRange).
  Node* close_op = nullptr;
  Node* local_init_op = nullptr;  // every worker, once, before training
  Output dropped;                 // stale gradients dropped so far (int64)
};

// InvalidArgument for counts out of range (naming them).
absl::StatusOr<SyncReplicasOps> BuildSyncReplicas(const Scope& scope, Optimizer* optimizer,
                                                  Output loss, const SyncReplicasOptions& options);

}  // namespace braid
