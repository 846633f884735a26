// --batching_parameters_file: TF Serving's BatchingParameters in protobuf text
// format, e.g.
//   max_batch_size { value: 64 }  batch_timeout_micros { value: 2000 }
//   num_batch_threads { value: 2 }  allowed_batch_sizes: [8, 32, 64]
// Unset fields keep TF Serving's defaults (max_batch_size 1000, no timeout,
// 100 enqueued batches, one batch thread per core).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "braid/serving/batching_session.h"

namespace braid::serving {

// InvalidArgument with the parser's position, or naming a field whose value
// ValidateBatchingOptions refuses.
absl::StatusOr<BatchingOptions> ParseBatchingParameters(const std::string& text);
// "" reads nothing and returns the defaults; NotFound for an unreadable file.
absl::StatusOr<BatchingOptions> ReadBatchingParametersFile(const std::string& path);

}  // namespace braid::serving
