// Partitioned variables (TensorFlow's tf.compat.v1.get_variable with a
// partitioner): one logical variable stored as several shards split along
// axis 0, each an ordinary variable, so that AssignVariablesToPs can spread a
// large embedding or softmax matrix over several ps tasks.
//
//   ASSIGN_OR_RETURN(PartitionedVariable emb,
//                    MakePartitionedVariable(root, "emb", TensorShape{100000, 64},
//                                            DType::kFloat, Partitioner{.num_shards = 4}));
//   Output logits = ops::MatMul(root, h, emb.value);
//
// `value` concatenates the shards' reads, so gradients reach each shard
// through the concat's gradient and an optimizer updates every shard on its
// own ps task.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/graph/ops/state_ops.h"
#include "braid/graph/scope.h"

namespace braid {

// How many shards. Exactly one of num_shards and min_shard_bytes is used.
struct Partitioner {
  // A fixed number of shards, if > 0 (TensorFlow's fixed_size_partitioner);
  // capped at the number of rows.
  int num_shards = 0;
  // Otherwise: as many shards as keep every shard at least this large
  // (TensorFlow's min_max_variable_partitioner, which divides the total size
  // instead and so may leave a shard a row short of it); one shard when the
  // whole variable is smaller.
  int64_t min_shard_bytes = 0;
  // Caps the min_shard_bytes count when > 0.
  int max_shards = 0;
};

struct PartitionedVariable {
  std::string name;
  TensorShape shape;             // the full shape
  std::vector<Variable> shards;  // "name/part_0", ... in row order
  Output value;                  // the shards' reads concatenated along axis 0
  bool valid() const { return value.valid(); }
};

// Rows of each shard of `shape` split along axis 0: the first rows % n shards
// get one row more than the others, as in TensorFlow. InvalidArgument for a
// scalar or partly unknown shape, no rows, negative fields, neither
// num_shards nor min_shard_bytes set, or min_shard_bytes with a dtype that
// has no fixed size.
absl::StatusOr<std::vector<int64_t>> PartitionRows(const TensorShape& shape, DType dtype,
                                                   const Partitioner& partitioner);

// Creates the shards "name/part_0", "name/part_1", ... under `scope` with
// ops::MakeVariable (so they join the "variables", "trainable_variables" and
// "initializers" collections) and the concatenation of their reads.
//
// Each shard is initialized by `init` for its own shape: fan-based
// initializers (Glorot, He) compute their fans from the shard, not the full
// shape, and an explicit seed s becomes s + i for shard i so that shards do
// not repeat each other's values. Assign the full value shard by shard when
// the exact initial value matters.
absl::StatusOr<PartitionedVariable> MakePartitionedVariable(
    const Scope& scope, const std::string& name, const TensorShape& shape, DType dtype,
    const Partitioner& partitioner, const Initializer& init = Initializer::GlorotUniform(),
    bool trainable = true);

}  // namespace braid
