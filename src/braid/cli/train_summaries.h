// braid train's TensorBoard summaries: the training scalars (loss, accuracy,
// learning rate) and a histogram of every trainable variable, merged into one
// summary op the chief's hook fetches every N steps; examples/s beside them;
// the graph once; test metrics in <logdir>/eval.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "braid/layers/sequential.h"
#include "braid/summary/summary_writer.h"
#include "braid/train/session_hooks.h"

namespace braid::cli {

// Adds the summary ops to the model's graph (after Compile) and returns the
// name of the merged summary tensor.
absl::StatusOr<std::string> AddTrainingSummaries(layers::Sequential* model);

// Writes the merged summary, and examples/s, at the first step and then
// every `every_steps` global steps.
class SummarySaverHook : public SessionRunHook {
 public:
  SummarySaverHook(summary::SummaryWriter* writer, std::string merged, std::string global_step,
                   int64_t every_steps, int64_t examples_per_step);
  std::vector<std::string> BeforeRun() override;
  absl::Status AfterRun(const std::vector<Tensor>& values, SessionRunContext* context) override;
  absl::Status End(Session* session) override;

 private:
  summary::SummaryWriter* const writer_;
  const std::string merged_, global_step_;
  const int64_t every_steps_, examples_per_step_;
  bool requested_ = true;  // the merged summary comes with the next step
  int64_t last_step_ = -1;
  int64_t local_steps_ = 0, local_steps_at_last_ = 0;  // this worker's, for examples/s
  std::chrono::steady_clock::time_point last_time_;
};

}  // namespace braid::cli
