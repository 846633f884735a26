// The layout of an exported model version (docs/serving.md):
//
//   BASE/<version>/graph.pb          tensorflow.GraphDef: the inference graph,
//                                    its variables and their restore op
//   BASE/<version>/variables/variables.shard-00000-of-00001
//                                    the variables' values (braid checkpoint
//                                    shard: TFRecord-framed CheckpointEntry)
//   BASE/<version>/signatures.json   {"format", "signature_def", "restore"}
//
// A version is built in BASE/.tmp-<version>-<pid> and renamed into place, so a
// directory named by a number is always complete.
#pragma once

namespace braid::serving {

inline constexpr char kExportFormat[] = "braid-export/1";
inline constexpr char kGraphFile[] = "graph.pb";
inline constexpr char kSignaturesFile[] = "signatures.json";
// Relative to the version directory; ops::ShardFileName adds the shard suffix.
inline constexpr char kVariablesPrefix[] = "variables/variables";
// The restore subgraph: feed the prefix (absolute path of kVariablesPrefix)
// and run the op.
inline constexpr char kRestorePrefixNode[] = "save/prefix";
inline constexpr char kRestoreOpNode[] = "save/restore_all";
inline constexpr char kTempDirPrefix[] = ".tmp-";

}  // namespace braid::serving
