// Checkpoints: save and restore variables (and the global step) in a
// directory; see proto/braid/checkpoint.proto for the format.
//
// Saving writes one shard per device that owns variables (each shard is
// written by an op on that device, atomically), then the manifest (the commit
// point), then the index file "checkpoint"; older checkpoints beyond
// max_to_keep are then deleted. A crash at any point leaves the previous
// checkpoint readable. Restoring checks every variable's dtype and shape
// against the manifest before touching any of them.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/graph/scope.h"
#include "braid/runtime/session.h"

namespace braid {

struct SaverOptions {
  int max_to_keep = 5;
  std::string basename = "ckpt";
  // Testing: runs after the shards are written, before the manifest commits
  // the checkpoint (a crash test kills the process here).
  std::function<void()> before_commit;
};

// One variable as the manifest records it.
struct CheckpointVariable {
  std::string name;
  DType dtype;
  TensorShape shape;
  std::string shard_file;
};

class Saver {
 public:
  // Adds save and restore ops for `variables` (VarHandleOp nodes; empty: the
  // graph's "variables" collection) to the scope's graph, one shard per
  // distinct device request.
  static absl::StatusOr<std::unique_ptr<Saver>> Create(const Scope& scope,
                                                       std::vector<Node*> variables = {},
                                                       SaverOptions options = {});

  // Saves into `dir` (created if missing) as <basename>-<global_step>;
  // returns the checkpoint's path prefix.
  absl::StatusOr<std::string> Save(Session* session, const std::string& dir, int64_t global_step);
  // Restores from a checkpoint path prefix (as Save returned it, or as
  // LatestCheckpoint finds it).
  absl::Status Restore(Session* session, const std::string& checkpoint);

  // The newest committed checkpoint in `dir`, or nullopt when there is none.
  static absl::StatusOr<std::optional<std::string>> LatestCheckpoint(const std::string& dir);
  // What a checkpoint holds (validated: manifest CRC and shard presence).
  static absl::StatusOr<std::vector<CheckpointVariable>> ListVariables(
      const std::string& checkpoint, int64_t* global_step = nullptr);

 private:
  Saver() = default;
  SaverOptions options_;
  Output prefix_;                   // string placeholder fed with the path prefix
  std::vector<Output> save_files_;  // one SaveShard output per shard
  std::vector<Node*> restore_ops_;
  std::vector<std::vector<CheckpointVariable>> shard_vars_;  // names, dtypes, shapes
};

}  // namespace braid
