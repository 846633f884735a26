// Synchronous replication primitives, the parts TensorFlow's
// SyncReplicasOptimizer builds from ConditionalAccumulators and a FIFOQueue
// of tokens. All are resources on a device (a ps task):
//
// - a gradient accumulator per variable sums the gradients workers push for
//   its current step and drops the ones computed for an earlier step (stale:
//   from a slow or backup worker);
// - a barrier counts the workers that finished pushing for the current step
//   (stale arrivals are dropped and counted); the chief waits there for
//   `replicas_to_aggregate` of them, so that it then takes complete sums,
//   and a wait that times out consumes nothing;
// - a step notice: after its push a worker waits there until the chief has
//   published a step newer than the one it computed (its update is done),
//   and computes that step next. Unlike TensorFlow's queue of tokens, no
//   token is left over for a fast worker to run ahead with, and a backup
//   worker that fell behind jumps straight to the current step.
//
// - a staleness clock: bounded staleness (stale synchronous parallel, as in
//   ps-lite and Petuum) without any aggregation. Each replica counts the
//   steps it completed; after a step it advances its count and goes on only
//   while it is at most `max_staleness` steps ahead of the slowest replica
//   that has not finished (see train/bounded_staleness.h).
//
// Waits are bounded by `timeout_ms` (0: forever): a replica that never comes
// fails the step with DeadlineExceeded naming the missing replicas.
#pragma once

#include <string>

#include "braid/graph/scope.h"

namespace braid::ops {

// A float accumulator of gradients of `shape`, at step 0.
Output GradientAccumulator(const Scope& scope, const std::string& shared_name,
                           const TensorShape& shape);
// Adds `gradient`, computed at `local_step`, to the sum; drops it when
// `local_step` is older than the accumulator's step.
Node* AccumulatorApplyGradient(const Scope& scope, Input handle, Input local_step, Input gradient);
// The mean of the gradients summed for the current step (at least one must
// be there: take after the barrier); then an empty sum for the next step.
Output AccumulatorTakeGradient(const Scope& scope, Input handle);

// A barrier of `total_replicas` workers, at step 0.
Output SyncBarrier(const Scope& scope, const std::string& shared_name, int64_t total_replicas);
// Worker `replica` finished pushing its gradients of `local_step`.
Node* SyncBarrierArrive(const Scope& scope, Input handle, Input local_step, Input replica);
// Waits until `num_required` workers arrived for the current step, then
// moves to the next step and returns the closed one (int64).
Output SyncBarrierWait(const Scope& scope, Input handle, Input num_required, int64_t timeout_ms);
// Ends every wait on the barrier, now and later, with Cancelled: how the
// chief stops its update loop when the training is over.
Node* SyncBarrierClose(const Scope& scope, Input handle);
// Stale arrivals dropped so far (int64).
Output SyncBarrierNumDropped(const Scope& scope, Input handle);

// The newest sync step the chief has published (0 at first).
Output SyncStepNotice(const Scope& scope, const std::string& shared_name);
Node* SyncStepPublish(const Scope& scope, Input handle, Input step);
// Waits until the published step is newer than `local_step` and returns it;
// OutOfRange once the notice is closed and nothing newer will come.
Output SyncStepWaitNewer(const Scope& scope, Input handle, Input local_step, int64_t timeout_ms);
// Ends the training: waits for a newer step fail with OutOfRange.
Node* SyncStepClose(const Scope& scope, Input handle);

// The completed-step counts ("clocks") of `num_replicas` replicas, all 0 at
// first. Kept on its device across sessions, so a worker that restarts goes
// on from its count; one table per shared name, every user must agree on
// `num_replicas` (a mismatch fails with InvalidArgument).
Output StalenessClock(const Scope& scope, const std::string& shared_name, int64_t num_replicas);
// Replica `replica` (int32) completed a step: adds one to its clock (marking
// it unfinished again if it had finished), then waits until its clock is at
// most `max_staleness` ahead of every unfinished replica's. Returns that
// lead (int64, in [0, max_staleness]) as it was when the wait ended.
// DeadlineExceeded after `timeout_ms` (0: never) naming the replicas behind;
// Cancelled once the table is closed (the step still counts).
Output StalenessClockAdvance(const Scope& scope, Input handle, Input replica, int64_t max_staleness,
                             int64_t timeout_ms);
// Replica `replica` ended its training: nobody waits for it any more.
Node* StalenessClockFinish(const Scope& scope, Input handle, Input replica);
// Ends every wait on the table, now and later, with Cancelled: for a task
// that shuts down while others may be waiting.
Node* StalenessClockClose(const Scope& scope, Input handle);
// Every replica's clock (int64 [num_replicas]).
Output StalenessClockValues(const Scope& scope, Input handle);

}  // namespace braid::ops
