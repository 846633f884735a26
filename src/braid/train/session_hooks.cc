#include "braid/train/session_hooks.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "braid/base/status_macros.h"
#include "braid/train/saver.h"

namespace braid {
namespace {

void Print(const HookLog& log, const std::string& line) {
  if (log) {
    log(line);
  } else {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
}

// The global step after a step whose run read `read` (before its increment).
absl::StatusOr<int64_t> StepAfter(const Tensor& read) {
  if (read.dtype() != DType::kInt64 || read.NumElements() != 1) {
    return absl::InvalidArgumentError("the global step tensor is not an int64 scalar");
  }
  return read.data<int64_t>()[0] + 1;
}

absl::StatusOr<double> ScalarValue(const Tensor& t, const std::string& name) {
  if (t.NumElements() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "' is not a scalar (", t.shape().DebugString(), ")"));
  }
  switch (t.dtype()) {
    case DType::kFloat:
      return t.data<float>()[0];
    case DType::kDouble:
      return t.data<double>()[0];
    case DType::kInt32:
      return t.data<int32_t>()[0];
    case DType::kInt64:
      return static_cast<double>(t.data<int64_t>()[0]);
    default:
      return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not a number"));
  }
}

}  // namespace

absl::Status StopAtStepHook::AfterRun(const std::vector<Tensor>& values,
                                      SessionRunContext* context) {
  ASSIGN_OR_RETURN(int64_t step, StepAfter(values[0]));
  if (step >= last_step_) context->RequestStop();
  return absl::OkStatus();
}

CheckpointSaverHook::CheckpointSaverHook(Saver* saver, std::string global_step_tensor,
                                         Options options)
    : saver_(saver), global_step_(std::move(global_step_tensor)), options_(std::move(options)) {}

absl::Status CheckpointSaverHook::AfterCreateSession(Session* session) {
  // Counting starts from the newest checkpoint there is (a restored one).
  ASSIGN_OR_RETURN(std::optional<std::string> latest, Saver::LatestCheckpoint(options_.dir));
  if (latest) {
    int64_t step = 0;
    RETURN_IF_ERROR(Saver::ListVariables(*latest, &step).status());
    last_saved_ = step;
  }
  last_time_ = std::chrono::steady_clock::now();
  return absl::OkStatus();
}

absl::Status CheckpointSaverHook::Save(Session* session, int64_t step) {
  RETURN_IF_ERROR(saver_->Save(session, options_.dir, step).status());
  last_saved_ = step;
  last_time_ = std::chrono::steady_clock::now();
  return absl::OkStatus();
}

absl::Status CheckpointSaverHook::AfterRun(const std::vector<Tensor>& values,
                                           SessionRunContext* context) {
  ASSIGN_OR_RETURN(last_step_seen_, StepAfter(values[0]));
  const int64_t since = last_step_seen_ - last_saved_.value_or(0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - last_time_).count();
  // ">=", not "%": other workers advance the global step too.
  if ((options_.every_steps > 0 && since >= options_.every_steps) ||
      (options_.every_seconds > 0 && seconds >= options_.every_seconds && since > 0)) {
    return Save(context->session(), last_step_seen_);
  }
  return absl::OkStatus();
}

absl::Status CheckpointSaverHook::End(Session* session) {
  // The final step, read afresh: other workers may have gone on.
  std::vector<Tensor> out;
  RETURN_IF_ERROR(session->Run({}, {global_step_}, {}, &out));
  const int64_t step = out[0].data<int64_t>()[0];
  if (last_saved_ && *last_saved_ == step) return absl::OkStatus();
  if (step == 0) return absl::OkStatus();  // nothing trained
  return Save(session, step);
}

StepCounterHook::StepCounterHook(std::string global_step_tensor, int64_t every_steps,
                                 int64_t examples_per_step, HookLog log)
    : global_step_(std::move(global_step_tensor)),
      every_steps_(every_steps),
      examples_per_step_(examples_per_step),
      log_(std::move(log)) {}

absl::Status StepCounterHook::AfterRun(const std::vector<Tensor>& values,
                                       SessionRunContext* context) {
  ASSIGN_OR_RETURN(int64_t step, StepAfter(values[0]));
  const auto now = std::chrono::steady_clock::now();
  if (last_step_ < 0 || step < last_step_) {  // the first step, or a restore
    last_step_ = step;
    last_time_ = now;
    return absl::OkStatus();
  }
  if (step - last_step_ < every_steps_) return absl::OkStatus();
  const double seconds = std::chrono::duration<double>(now - last_time_).count();
  if (seconds <= 0) return absl::OkStatus();
  steps_per_second_ = static_cast<double>(step - last_step_) / seconds;
  Print(log_, absl::StrFormat("global step %d: %.1f global steps/s, %.0f examples/s", step,
                              steps_per_second_,
                              steps_per_second_ * static_cast<double>(examples_per_step_)));
  last_step_ = step;
  last_time_ = now;
  return absl::OkStatus();
}

LoggingHook::LoggingHook(std::vector<std::pair<std::string, std::string>> tensors,
                         int64_t every_steps, HookLog log)
    : tensors_(std::move(tensors)), every_steps_(every_steps), log_(std::move(log)) {}

std::vector<std::string> LoggingHook::BeforeRun() {
  std::vector<std::string> names;
  for (const auto& t : tensors_) names.push_back(t.second);
  return names;
}

absl::Status LoggingHook::AfterRun(const std::vector<Tensor>& values, SessionRunContext* context) {
  ++steps_;
  if (every_steps_ <= 0 || steps_ % every_steps_ != 0) return absl::OkStatus();
  std::string line = absl::StrCat("step ", steps_, ":");
  for (size_t i = 0; i < tensors_.size(); ++i) {
    ASSIGN_OR_RETURN(double v, ScalarValue(values[i], tensors_[i].second));
    absl::StrAppend(&line, " ", tensors_[i].first, " = ", absl::StrFormat("%.6g", v));
  }
  Print(log_, line);
  return absl::OkStatus();
}

absl::Status NanLossHook::AfterRun(const std::vector<Tensor>& values, SessionRunContext* context) {
  ++steps_;
  ASSIGN_OR_RETURN(double loss, ScalarValue(values[0], loss_));
  if (!std::isfinite(loss)) {
    return absl::InvalidArgumentError(absl::StrCat("the loss is ", loss, " at step ", steps_,
                                                   " of this worker: the training diverged (try a "
                                                   "lower learning rate)"));
  }
  return absl::OkStatus();
}

}  // namespace braid
