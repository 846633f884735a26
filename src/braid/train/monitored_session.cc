#include "braid/train/monitored_session.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"

namespace braid {
namespace {

// Set while this thread makes a session ready: its runs fail fast instead of
// starting a recovery of their own.
thread_local bool preparing_here = false;

struct PreparingScope {
  PreparingScope() { preparing_here = true; }
  ~PreparingScope() { preparing_here = false; }
};

}  // namespace

bool IsPreemption(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsAborted(status);
}

absl::StatusOr<std::unique_ptr<MonitoredSession>> MonitoredSession::Create(
    MonitoredSessionOptions options) {
  if (!options.create) return absl::InvalidArgumentError("MonitoredSession: no create function");
  std::unique_ptr<MonitoredSession> session(new MonitoredSession(std::move(options)));
  ASSIGN_OR_RETURN(std::unique_ptr<Session> inner, session->options_.create());
  session->graph_ = inner->graph();
  session->session_ = std::move(inner);
  return session;
}

void MonitoredSession::Log(const std::string& message) const {
  if (options_.log) {
    options_.log(message);
  } else {
    std::fprintf(stderr, "braid: %s\n", message.c_str());
  }
}

int MonitoredSession::recoveries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return recoveries_;
}

absl::Status MonitoredSession::PrepareOnce() {
  PreparingScope preparing;
  if (options_.prepare) RETURN_IF_ERROR(options_.prepare());
  for (auto& hook : hooks_) RETURN_IF_ERROR(hook->AfterCreateSession(this));
  return absl::OkStatus();
}

absl::Status MonitoredSession::Prepare() {
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation = generation_;
  }
  absl::Status s = PrepareOnce();
  if (!IsPreemption(s)) return s;
  return Recover(generation, s, absl::Now() + options_.recovery_timeout);
}

absl::Status MonitoredSession::GiveUp(const absl::Status& last, const absl::Status& cause) const {
  return absl::DeadlineExceededError(absl::StrCat(
      "could not recover the session within ", absl::FormatDuration(options_.recovery_timeout),
      "; last error: ", last.message(), " (first: ", cause.message(), ")"));
}

absl::Status MonitoredSession::Recover(uint64_t generation, const absl::Status& cause,
                                       absl::Time give_up) {
  std::lock_guard<std::mutex> recovering(recover_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (generation_ != generation) return absl::OkStatus();  // recovered meanwhile
  }
  Log(absl::StrCat("lost a task of the session (", cause.message(),
                   "); creating the session again"));
  const absl::Time start = absl::Now();
  absl::Status last = cause;
  bool created = false;
  for (;;) {
    absl::Status s;
    if (!created) {
      absl::StatusOr<std::unique_ptr<Session>> inner = options_.create();
      s = inner.status();
      if (inner.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        session_ = *std::move(inner);
        created = true;
      }
    }
    if (created) s = PrepareOnce();
    if (s.ok()) break;
    if (!IsPreemption(s)) return s;
    last = s;
    if (absl::Now() + options_.retry_pause > give_up) return GiveUp(last, cause);
    absl::SleepFor(options_.retry_pause);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
    ++recoveries_;
  }
  Log(absl::StrCat("session recovered after ", absl::FormatDuration(absl::Now() - start)));
  return absl::OkStatus();
}

absl::Status MonitoredSession::RunWithRecovery(
    const std::vector<std::pair<std::string, Tensor>>& feeds,
    const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
    std::vector<Tensor>* outputs) {
  // One deadline for the run, however many recoveries it takes: a session
  // that recovers but fails the run again (a task that comes and goes) ends
  // too.
  absl::Status first;
  absl::Time give_up;
  for (;;) {
    std::shared_ptr<Session> session;
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(mu_);
      session = session_;
      generation = generation_;
    }
    absl::Status s = session->Run(feeds, fetches, targets, outputs);
    if (!IsPreemption(s) || preparing_here) return s;
    if (first.ok()) {
      first = s;
      give_up = absl::Now() + options_.recovery_timeout;
    } else {
      if (absl::Now() + options_.retry_pause > give_up) return GiveUp(s, first);
      absl::SleepFor(options_.retry_pause);
    }
    RETURN_IF_ERROR(Recover(generation, s, give_up));
  }
}

absl::Status MonitoredSession::Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                                   const std::vector<std::string>& fetches,
                                   const std::vector<std::string>& targets,
                                   std::vector<Tensor>* outputs) {
  const bool step = !hooks_.empty() && !train_op_.empty() &&
                    std::find(targets.begin(), targets.end(), train_op_) != targets.end();
  if (!step) return RunWithRecovery(feeds, fetches, targets, outputs);

  // The hooks' tensors join the step's fetches, each name once.
  std::vector<std::string> all = fetches;
  std::vector<std::vector<size_t>> wanted(hooks_.size());
  for (size_t h = 0; h < hooks_.size(); ++h) {
    for (const std::string& name : hooks_[h]->BeforeRun()) {
      auto it =
          std::find(all.begin() + static_cast<std::ptrdiff_t>(fetches.size()), all.end(), name);
      wanted[h].push_back(static_cast<size_t>(it - all.begin()));
      if (it == all.end()) all.push_back(name);
    }
  }
  std::vector<Tensor> values;
  RETURN_IF_ERROR(RunWithRecovery(feeds, all, targets, &values));
  SessionRunContext context(this);
  for (size_t h = 0; h < hooks_.size(); ++h) {
    std::vector<Tensor> mine;
    for (size_t i : wanted[h]) mine.push_back(values[i]);
    RETURN_IF_ERROR(hooks_[h]->AfterRun(mine, &context));
  }
  if (context.stop_requested()) should_stop_ = true;
  values.resize(fetches.size());
  *outputs = std::move(values);
  return absl::OkStatus();
}

absl::Status MonitoredSession::End() {
  if (ended_) return absl::OkStatus();
  ended_ = true;
  for (auto& hook : hooks_) RETURN_IF_ERROR(hook->End(this));
  return absl::OkStatus();
}

}  // namespace braid
