#include "braid/train/partitioned_variable.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/graph/ops/array_ops.h"

namespace braid {

absl::StatusOr<std::vector<int64_t>> PartitionRows(const TensorShape& shape, DType dtype,
                                                   const Partitioner& p) {
  if (shape.unknown_rank() || shape.rank() < 1 || !shape.IsFullyDefined()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a partitioned variable needs a fully defined shape of rank >= 1 to split along axis 0, "
        "got ",
        shape.DebugString()));
  }
  const int64_t rows = shape.dim(0);
  if (rows < 1) {
    return absl::InvalidArgumentError(absl::StrCat("cannot partition shape ", shape.DebugString(),
                                                   ": it has no rows along axis 0"));
  }
  if (p.num_shards < 0 || p.min_shard_bytes < 0 || p.max_shards < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("partitioner fields must not be negative, got num_shards=", p.num_shards,
                     " min_shard_bytes=", p.min_shard_bytes, " max_shards=", p.max_shards));
  }
  int64_t n;
  if (p.num_shards > 0) {
    n = std::min<int64_t>(p.num_shards, rows);
  } else if (p.min_shard_bytes > 0) {
    const int64_t row_bytes = shape.num_elements() / rows * static_cast<int64_t>(DTypeSize(dtype));
    if (row_bytes <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("min_shard_bytes needs rows of known byte size; shape ", shape.DebugString(),
                       " of dtype ", DTypeName(dtype), " has none (use num_shards)"));
    }
    // The smallest shard has floor(rows / n) rows, so n may grow while that
    // many rows still hold min_shard_bytes.
    const int64_t min_rows = (p.min_shard_bytes + row_bytes - 1) / row_bytes;
    n = std::max<int64_t>(1, rows / min_rows);
    if (p.max_shards > 0) n = std::min<int64_t>(n, p.max_shards);
  } else {
    return absl::InvalidArgumentError(
        "a partitioner needs num_shards > 0 or min_shard_bytes > 0; both are 0");
  }
  std::vector<int64_t> sizes(n, rows / n);
  for (int64_t i = 0; i < rows % n; ++i) ++sizes[i];
  return sizes;
}

absl::StatusOr<PartitionedVariable> MakePartitionedVariable(
    const Scope& scope, const std::string& name, const TensorShape& shape, DType dtype,
    const Partitioner& partitioner, const Initializer& init, bool trainable) {
  RETURN_IF_ERROR(scope.status());
  ASSIGN_OR_RETURN(std::vector<int64_t> rows, PartitionRows(shape, dtype, partitioner));
  PartitionedVariable pv;
  pv.name = scope.name_prefix() + name;
  pv.shape = shape;
  std::vector<Input> reads;
  for (size_t i = 0; i < rows.size(); ++i) {
    TensorShape shard_shape = shape;
    shard_shape.set_dim(0, rows[i]);
    Initializer shard_init = init;
    if (init.seed != 0) shard_init.seed = init.seed + static_cast<int64_t>(i);
    Variable shard = ops::MakeVariable(scope, absl::StrCat(name, "/part_", i), shard_shape, dtype,
                                       shard_init, trainable);
    RETURN_IF_ERROR(scope.status());
    pv.shards.push_back(shard);
    reads.push_back(shard.value);
  }
  pv.value = pv.shards.size() == 1
                 ? pv.shards[0].value
                 : ops::Concat(scope.WithOpName(name + "/concat"), reads, Input(0));
  RETURN_IF_ERROR(scope.status());
  return pv;
}

}  // namespace braid
