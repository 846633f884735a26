// Checkpoint ops. Each SaveShard writes the variables whose handles it takes
// to one shard file on the device that owns them (the handles colocate it
// there); RestoreShard reads them back. The file prefix is an input, so one
// graph saves checkpoints under any name. train/saver.h builds these.
#pragma once

#include <string>
#include <vector>

#include "braid/graph/scope.h"

namespace braid::ops {

// Writes `<prefix>.shard-<shard>-of-<num_shards>` holding the variables
// (named `names`) and outputs that file name.
Output SaveShard(const Scope& scope, Input prefix, const std::vector<Output>& handles,
                 const std::vector<std::string>& names, int64_t shard, int64_t num_shards);
// Assigns each variable its value from the shard file; dtype and shape must
// match the variable's, or the error names the variable and both shapes.
Node* RestoreShard(const Scope& scope, Input prefix, const std::vector<Output>& handles,
                   const std::vector<std::string>& names, int64_t shard, int64_t num_shards);

// "<prefix>.shard-00001-of-00004".
std::string ShardFileName(const std::string& prefix, int64_t shard, int64_t num_shards);

}  // namespace braid::ops
