#include "braid/train/bounded_staleness.h"

#include "absl/strings/str_cat.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/sync_ops.h"

namespace braid {

absl::StatusOr<BoundedStalenessOps> BuildBoundedStaleness(const Scope& scope, Node* train_op,
                                                          const BoundedStalenessOptions& options) {
  const int n = options.num_replicas;
  if (n < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bounded staleness: num_replicas ", n, " must be at least 1"));
  }
  if (options.replica_index < 0 || options.replica_index >= n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bounded staleness: replica_index ", options.replica_index, " is outside [0, ", n, ")"));
  }
  if (options.max_staleness < 0) {
    return absl::InvalidArgumentError(absl::StrCat("bounded staleness: max_staleness ",
                                                   options.max_staleness,
                                                   " must be >= 0 (0: lock-step)"));
  }
  if (options.timeout_ms < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bounded staleness: timeout_ms ", options.timeout_ms, " must be >= 0 (0: forever)"));
  }
  if (train_op == nullptr) {
    return absl::InvalidArgumentError("bounded staleness: train_op is null");
  }

  Scope s = scope.NewSubScope("bounded_staleness");
  Scope table_scope = options.device.empty() ? s : s.WithDevice(options.device);
  Output table =
      ops::StalenessClock(table_scope.WithOpName("clocks"), "bounded_staleness_clocks", n);
  Scope beside_table = s.ColocateWith(table);
  const int replica = options.replica_index;

  BoundedStalenessOps out;
  out.lead = ops::StalenessClockAdvance(
      beside_table.WithOpName("advance").WithControlDependencies(std::vector<Node*>{train_op}),
      table, replica, options.max_staleness, options.timeout_ms);
  out.train_op = ops::Group(s.WithOpName("train_op"), std::vector<Output>{out.lead});
  out.finish_op = ops::StalenessClockFinish(beside_table.WithOpName("finish"), table, replica);
  out.close_op = ops::StalenessClockClose(beside_table.WithOpName("close"), table);
  out.clocks = ops::StalenessClockValues(beside_table.WithOpName("clock_values"), table);
  if (!scope.status().ok()) return scope.status();
  return out;
}

}  // namespace braid
