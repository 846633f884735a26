#include "braid/train/sync_replicas.h"

#include "absl/strings/str_cat.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/state_ops.h"
#include "braid/graph/ops/sync_ops.h"

namespace braid {

absl::StatusOr<SyncReplicasOps> BuildSyncReplicas(const Scope& scope, Optimizer* optimizer,
                                                  Output loss, const SyncReplicasOptions& options) {
  const int total = options.total_num_replicas;
  const int aggregate = options.replicas_to_aggregate > 0 ? options.replicas_to_aggregate : total;
  if (total < 1 || aggregate > total) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sync replicas: replicas_to_aggregate (", aggregate,
        ") must be in [1, total_num_replicas] and total_num_replicas (", total, ") >= 1"));
  }
  if (options.replica_index < 0 || options.replica_index >= total) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sync replicas: replica_index ", options.replica_index, " is outside [0, ", total, ")"));
  }
  Scope s = scope.NewSubScope("sync_replicas");
  std::vector<GradAndVar> grads;
  {
    auto computed = optimizer->ComputeGradients(scope, loss);
    if (!computed.ok()) return computed.status();
    grads = *std::move(computed);
  }
  Variable global_step = GetOrCreateGlobalStep(scope);

  // This worker's sync step, beside its own ops (not a model variable: not
  // in "variables", so nobody else initializes or waits for it).
  Scope local = options.local_device.empty() ? s : s.WithDevice(options.local_device);
  Output local_step_handle =
      ops::VarHandleOp(local.WithOpName("local_step"), DType::kInt64, TensorShape{}, "");
  Output local_step = ops::ReadVariableOp(local, local_step_handle, DType::kInt64);
  SyncReplicasOps out;
  out.local_init_op = ops::AssignVariableOp(local, local_step_handle, int64_t{0});

  // The barrier and the step notice live with the global step; each
  // accumulator with its variable.
  Scope beside_step = s.ColocateWith(global_step.handle);
  Output barrier = ops::SyncBarrier(beside_step.WithOpName("barrier"), "", total);
  Output notice = ops::SyncStepNotice(beside_step.WithOpName("step_notice"), "");
  out.dropped = ops::SyncBarrierNumDropped(beside_step, barrier);
  out.close_op = ops::Group(s.WithOpName("close"),
                            std::vector<Node*>{ops::SyncBarrierClose(beside_step, barrier),
                                               ops::SyncStepClose(beside_step, notice)});

  // Worker: push every gradient, arrive, wait for the chief's update.
  std::vector<Node*> pushes;
  std::vector<std::pair<Output, Variable>> accumulators;
  for (const auto& [grad, var] : grads) {
    Scope beside_var = s.ColocateWith(var.handle);
    Output acc = ops::GradientAccumulator(
        beside_var.WithOpName(absl::StrCat(var.handle.node->name(), "/accumulator")), "",
        var.handle.node->attr<TensorShape>("shape"));
    accumulators.emplace_back(acc, var);
    pushes.push_back(ops::AccumulatorApplyGradient(beside_var, acc, local_step, grad));
  }
  Node* arrive = ops::SyncBarrierArrive(beside_step.WithControlDependencies(pushes), barrier,
                                        local_step, options.replica_index);
  Output next_step =
      ops::SyncStepWaitNewer(beside_step.WithControlDependencies(std::vector<Node*>{arrive}),
                             notice, local_step, options.timeout_ms);
  out.train_op = ops::Group(s.WithOpName("train_op"),
                            {ops::AssignVariableOp(local, local_step_handle, next_step)});

  // Chief: wait for enough workers, take the means, apply once, publish the
  // next step.
  Output closed = ops::SyncBarrierWait(beside_step, barrier, aggregate, options.timeout_ms);
  std::vector<GradAndVar> means;
  for (const auto& [acc, var] : accumulators) {
    Scope beside_var =
        s.ColocateWith(var.handle).WithControlDependencies(std::vector<Output>{closed});
    means.emplace_back(ops::AccumulatorTakeGradient(beside_var, acc), var);
  }
  auto apply = optimizer->ApplyGradients(s, means);
  if (!apply.ok()) return apply.status();
  Scope after_apply = beside_step.WithControlDependencies(std::vector<Node*>{*apply});
  Node* publish =
      ops::SyncStepPublish(after_apply, notice, ops::Add(after_apply, closed, int64_t{1}));
  out.chief_update_op = ops::Group(s.WithOpName("chief_update"), std::vector<Node*>{publish});
  if (!scope.status().ok()) return scope.status();
  return out;
}

}  // namespace braid
