#include "braid/serving/batching_parameters.h"

#include "absl/strings/str_cat.h"
#include "braid/base/env.h"
#include "braid/base/thread_pool.h"
#include "braid/serving/text_proto.h"
#include "tensorflow_serving/servables/tensorflow/session_bundle_config.pb.h"

namespace braid::serving {

absl::StatusOr<BatchingOptions> ParseBatchingParameters(const std::string& text) {
  tensorflow::serving::BatchingParameters p;
  if (absl::Status s = ParseTextProto(text, "the batching parameters", &p); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        s.message(), " (fields: max_batch_size, batch_timeout_micros, max_enqueued_batches, "
        "num_batch_threads, allowed_batch_sizes, pad_variable_length_inputs; e.g. "
        "max_batch_size { value: 64 })"));
  }
  BatchingOptions o;
  o.num_batch_threads = NumSchedulableCores();
  if (p.has_max_batch_size()) o.max_batch_size = p.max_batch_size().value();
  if (p.has_batch_timeout_micros()) o.batch_timeout_micros = p.batch_timeout_micros().value();
  if (p.has_max_enqueued_batches()) o.max_enqueued_batches = p.max_enqueued_batches().value();
  if (p.has_num_batch_threads()) o.num_batch_threads = p.num_batch_threads().value();
  o.allowed_batch_sizes.assign(p.allowed_batch_sizes().begin(), p.allowed_batch_sizes().end());
  o.pad_variable_length_inputs = p.pad_variable_length_inputs();
  if (absl::Status s = ValidateBatchingOptions(o); !s.ok()) return s;
  return o;
}

absl::StatusOr<BatchingOptions> ReadBatchingParametersFile(const std::string& path) {
  if (path.empty()) return ParseBatchingParameters("");
  absl::StatusOr<std::string> text = Env::Default()->ReadFile(path);
  if (!text.ok()) {
    return absl::NotFoundError(
        absl::StrCat("--batching_parameters_file: ", text.status().message()));
  }
  absl::StatusOr<BatchingOptions> o = ParseBatchingParameters(*text);
  if (!o.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", o.status().message()));
  return o;
}

}  // namespace braid::serving
