// A monitored session, as TensorFlow's MonitoredTrainingSession: a session
// that makes its variables ready when it starts, runs hooks around every
// training step, and survives the loss of a task.
//
// Readiness: `prepare` runs once the session exists (the chief initializes
// the variables or restores a checkpoint; other workers wait for the chief).
//
// Hooks: a run whose targets include `train_op` is a training step. Each
// hook may add tensors to fetch with it and sees their values afterwards; a
// hook may ask the training to stop (ShouldStop) or fail it. Other runs
// (evaluation, bookkeeping, checkpoints) do not call the hooks.
//
// Recovery: Unavailable and Aborted mean a task of the cluster went away or
// restarted. The session is then created again, `prepare` runs again (so the
// chief restores the newest checkpoint onto a restarted ps), and the failed
// run is retried; until `recovery_timeout` is over, failed attempts are
// retried every `retry_pause`. Any other error is returned as it is.
//
//   MonitoredSessionOptions o;
//   o.create = [&] { return worker->MakeSession(graph); };
//   o.prepare = [&](Session* s) { return chief ? RestoreOrInit(s) : WaitUntilReady(s); };
//   ASSIGN_OR_RETURN(auto session, MonitoredSession::Create(std::move(o)));
//   session->set_train_op(train_op->name());
//   session->AddHook(std::make_unique<StopAtStepHook>(...));
//   RETURN_IF_ERROR(session->Prepare());
//   while (!session->ShouldStop()) RETURN_IF_ERROR(session->Run(feeds, {}, {train_op}, &out));
//   RETURN_IF_ERROR(session->End());
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "braid/runtime/session.h"
#include "braid/train/session_hooks.h"

namespace braid {

struct MonitoredSessionOptions {
  // Creates the underlying session (again after a task was lost).
  std::function<absl::StatusOr<std::unique_ptr<Session>>()> create;
  // Makes the variables ready on a new session. Runs go through the
  // monitored session (without recovery while it runs). May be empty.
  std::function<absl::Status()> prepare;
  absl::Duration recovery_timeout = absl::Minutes(5);
  absl::Duration retry_pause = absl::Seconds(1);
  // Where recovery is reported (default: stderr).
  std::function<void(const std::string&)> log;
};

// Whether an error means a task was lost (and a new session may succeed).
bool IsPreemption(const absl::Status& status);

class MonitoredSession : public Session {
 public:
  static absl::StatusOr<std::unique_ptr<MonitoredSession>> Create(MonitoredSessionOptions options);

  // Before Prepare.
  void set_train_op(std::string name) { train_op_ = std::move(name); }
  void AddHook(std::unique_ptr<SessionRunHook> hook) { hooks_.push_back(std::move(hook)); }

  // Runs `prepare` (with recovery) and the hooks' AfterCreateSession.
  absl::Status Prepare();

  // Thread-safe; hooks run only for training steps, which one thread runs.
  absl::Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                   const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
                   std::vector<Tensor>* outputs) override;
  Graph* graph() override { return graph_; }

  // A hook asked the training to stop.
  bool ShouldStop() const { return should_stop_; }
  // The hooks' End, once, when the training is over without error.
  absl::Status End();
  // How often the session was created again after losing a task.
  int recoveries() const;

 private:
  explicit MonitoredSession(MonitoredSessionOptions options) : options_(std::move(options)) {}
  absl::Status RunWithRecovery(const std::vector<std::pair<std::string, Tensor>>& feeds,
                               const std::vector<std::string>& fetches,
                               const std::vector<std::string>& targets,
                               std::vector<Tensor>* outputs);
  // Makes a new session ready after `cause` ended the one of `generation`,
  // by `give_up`; nothing when another thread did already.
  absl::Status Recover(uint64_t generation, const absl::Status& cause, absl::Time give_up);
  absl::Status GiveUp(const absl::Status& last, const absl::Status& cause) const;
  absl::Status PrepareOnce();
  void Log(const std::string& message) const;

  const MonitoredSessionOptions options_;
  std::string train_op_;
  std::vector<std::unique_ptr<SessionRunHook>> hooks_;
  bool should_stop_ = false;
  bool ended_ = false;

  mutable std::mutex mu_;  // guards the fields below
  std::shared_ptr<Session> session_;
  Graph* graph_ = nullptr;
  uint64_t generation_ = 0;  // bumped by every successful recovery
  int recoveries_ = 0;

  std::mutex recover_mu_;  // one recovery at a time
};

}  // namespace braid
