// Hooks around the training steps of a MonitoredSession, and the standard
// ones: StopAtStep, CheckpointSaver, StepCounter, Logging and NanLoss.
//
// Hooks that need the global step fetch `global_step_tensor` (the value the
// step read, which is before its own increment: the step after the run is
// that plus one, as TensorFlow's hooks count it).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "braid/runtime/session.h"
#include "braid/tensor/tensor.h"

namespace braid {

class Saver;

// What a hook sees of a finished training step.
class SessionRunContext {
 public:
  explicit SessionRunContext(Session* session) : session_(session) {}
  // Runs without hooks (with the monitored session's recovery).
  Session* session() const { return session_; }
  void RequestStop() { stop_requested_ = true; }
  bool stop_requested() const { return stop_requested_; }

 private:
  Session* session_;
  bool stop_requested_ = false;
};

class SessionRunHook {
 public:
  virtual ~SessionRunHook() = default;
  // After the session was created, or created again after a lost task, and
  // its variables are ready.
  virtual absl::Status AfterCreateSession(Session* session) { return absl::OkStatus(); }
  // Tensor names to fetch with the next training step.
  virtual std::vector<std::string> BeforeRun() { return {}; }
  // After the step: the values of BeforeRun's tensors, in order.
  virtual absl::Status AfterRun(const std::vector<Tensor>& values, SessionRunContext* context) {
    return absl::OkStatus();
  }
  // When the training ends without error.
  virtual absl::Status End(Session* session) { return absl::OkStatus(); }
};

// Where hooks print (default: stdout, one line each).
using HookLog = std::function<void(const std::string&)>;

// Stops the training once the global step reaches `last_step`.
class StopAtStepHook : public SessionRunHook {
 public:
  StopAtStepHook(std::string global_step_tensor, int64_t last_step)
      : global_step_(std::move(global_step_tensor)), last_step_(last_step) {}
  std::vector<std::string> BeforeRun() override { return {global_step_}; }
  absl::Status AfterRun(const std::vector<Tensor>& values, SessionRunContext* context) override;

 private:
  const std::string global_step_;
  const int64_t last_step_;
};

// Saves a checkpoint every `every_steps` global steps or `every_seconds`
// (whichever is set; 0: not by that measure), and at the end.
class CheckpointSaverHook : public SessionRunHook {
 public:
  struct Options {
    std::string dir;
    int64_t every_steps = 0;
    double every_seconds = 0;
  };
  CheckpointSaverHook(Saver* saver, std::string global_step_tensor, Options options);
  std::vector<std::string> BeforeRun() override { return {global_step_}; }
  absl::Status AfterCreateSession(Session* session) override;
  absl::Status AfterRun(const std::vector<Tensor>& values, SessionRunContext* context) override;
  absl::Status End(Session* session) override;
  // The global step of the newest checkpoint this hook wrote or found.
  std::optional<int64_t> last_saved_step() const { return last_saved_; }

 private:
  absl::Status Save(Session* session, int64_t step);
  Saver* const saver_;
  const std::string global_step_;
  const Options options_;
  std::optional<int64_t> last_saved_;
  int64_t last_step_seen_ = -1;
  std::chrono::steady_clock::time_point last_time_;
};

// Reports global steps/s and examples/s every `every_steps` global steps.
class StepCounterHook : public SessionRunHook {
 public:
  StepCounterHook(std::string global_step_tensor, int64_t every_steps, int64_t examples_per_step,
                  HookLog log = {});
  std::vector<std::string> BeforeRun() override { return {global_step_}; }
  absl::Status AfterRun(const std::vector<Tensor>& values, SessionRunContext* context) override;
  // The last rates reported (0 before the first report).
  double steps_per_second() const { return steps_per_second_; }

 private:
  const std::string global_step_;
  const int64_t every_steps_;
  const int64_t examples_per_step_;
  const HookLog log_;
  int64_t last_step_ = -1;
  std::chrono::steady_clock::time_point last_time_;
  double steps_per_second_ = 0;
};

// Prints the values of named scalar tensors every `every_steps` steps of
// this worker, e.g. {{"loss", "loss/value:0"}}.
class LoggingHook : public SessionRunHook {
 public:
  LoggingHook(std::vector<std::pair<std::string, std::string>> tensors, int64_t every_steps,
              HookLog log = {});
  std::vector<std::string> BeforeRun() override;
  absl::Status AfterRun(const std::vector<Tensor>& values, SessionRunContext* context) override;

 private:
  const std::vector<std::pair<std::string, std::string>> tensors_;  // label, tensor
  const int64_t every_steps_;
  const HookLog log_;
  int64_t steps_ = 0;
};

// Fails the training (InvalidArgument naming the step) when the loss is NaN
// or infinite, before a diverged model is checkpointed.
class NanLossHook : public SessionRunHook {
 public:
  explicit NanLossHook(std::string loss_tensor) : loss_(std::move(loss_tensor)) {}
  std::vector<std::string> BeforeRun() override { return {loss_}; }
  absl::Status AfterRun(const std::vector<Tensor>& values, SessionRunContext* context) override;

 private:
  const std::string loss_;
  int64_t steps_ = 0;
};

}  // namespace braid
