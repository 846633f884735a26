#include "braid/cli/train_summaries.h"

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/graph/ops/state_ops.h"
#include "braid/graph/ops/summary_ops.h"

namespace braid::cli {

absl::StatusOr<std::string> AddTrainingSummaries(layers::Sequential* model) {
  Scope s = model->scope().NewSubScope("summaries");
  std::vector<Output> parts;
  parts.push_back(ops::ScalarSummary(s, std::string("loss"), model->train_loss()));
  if (model->train_accuracy().node != nullptr) {
    parts.push_back(ops::ScalarSummary(s, std::string("accuracy"), model->train_accuracy()));
  }
  if (model->learning_rate().node != nullptr) {
    parts.push_back(ops::ScalarSummary(s, std::string("learning_rate"), model->learning_rate()));
  }
  for (Node* v : model->scope().graph()->collection("trainable_variables")) {
    ASSIGN_OR_RETURN(DType dtype, GetAttr<DType>(v->attrs(), "dtype"));
    // Read beside the variable (on its ps), so only the summary travels.
    Scope vs = s.ColocateWith(Output(v, 0));
    parts.push_back(
        ops::HistogramSummary(vs, v->name(), ops::ReadVariableOp(vs, Output(v, 0), dtype)));
  }
  Output merged = ops::MergeSummary(s.WithOpName("merged"), parts);
  RETURN_IF_ERROR(model->scope().status());
  return merged.name();
}

SummarySaverHook::SummarySaverHook(summary::SummaryWriter* writer, std::string merged,
                                   std::string global_step, int64_t every_steps,
                                   int64_t examples_per_step)
    : writer_(writer),
      merged_(std::move(merged)),
      global_step_(std::move(global_step)),
      every_steps_(every_steps),
      examples_per_step_(examples_per_step),
      last_time_(std::chrono::steady_clock::now()) {}

std::vector<std::string> SummarySaverHook::BeforeRun() {
  if (requested_) return {global_step_, merged_};
  return {global_step_};
}

absl::Status SummarySaverHook::AfterRun(const std::vector<Tensor>& values,
                                        SessionRunContext* context) {
  ++local_steps_;
  const int64_t step = values[0].data<int64_t>()[0] + 1;
  if (requested_) {
    RETURN_IF_ERROR(writer_->WriteSerializedSummary(step, values[1].data<std::string>()[0]));
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - last_time_).count();
    if (last_step_ >= 0 && seconds > 0) {
      const double examples =
          static_cast<double>((local_steps_ - local_steps_at_last_) * examples_per_step_);
      RETURN_IF_ERROR(writer_->Scalar("examples_per_second", step, examples / seconds));
      RETURN_IF_ERROR(writer_->Scalar("global_step/sec", step,
                                      static_cast<double>(step - last_step_) / seconds));
    }
    last_step_ = step;
    local_steps_at_last_ = local_steps_;
    last_time_ = now;
  }
  // ">=", not "%": other workers advance the global step too.
  requested_ = step + 1 - last_step_ >= every_steps_;
  return absl::OkStatus();
}

absl::Status SummarySaverHook::End(Session* session) { return writer_->Flush(); }

}  // namespace braid::cli
