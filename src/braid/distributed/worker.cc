#include "braid/distributed/worker.h"

#include <future>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "braid/base/status_macros.h"
#include "braid/graph/device_name.h"
#include "braid/runtime/device.h"
#include "braid/tensor/tensor_proto.h"

namespace braid::distributed {
namespace {

// A master that vanished mid-step leaves its steps behind; they are dropped
// (and any Recv still waiting fails) after this long without use.
constexpr absl::Duration kStaleStepAge = absl::Minutes(10);
// An aborted step is kept for calls that come late for it (see CleanupStep):
// twice the default operation timeout, since none comes later than its
// deadline. Shorter than kStaleStepAge, so that a client whose steps keep
// failing does not pile them up.
constexpr absl::Duration kAbortedStepAge = absl::Minutes(2);
// The sweep walks every step; at most once this often.
constexpr absl::Duration kSweepInterval = absl::Seconds(1);

}  // namespace

Worker::Worker(const WorkerOptions& options, WorkerCache* peers)
    : task_name_(absl::StrCat("/job:", options.job, "/replica:0/task:", options.task_index)),
      peers_(peers) {
  device_ = std::move(CreateCpuDevices(options.job, options.task_index, 1).front());
  pool_ = std::make_unique<ThreadPool>(
      ResolveInterOpThreads(options.inter_op_threads, options.intra_op_threads));
  SetIntraOpThreads(options.intra_op_threads);
}

Worker::~Worker() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, step] : steps_)
    step.rendezvous->StartAbort(absl::CancelledError("the task is shutting down"));
}

void Worker::GetStatus(rpc::GetStatusResponse* resp) {
  rpc::DeviceAttributes* d = resp->add_device();
  d->set_name(device_->name());
  d->set_device_type(device_->device_type());
  d->set_incarnation(device_->incarnation());
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& t : done_tasks_) resp->add_done_task(t);
}

absl::Status Worker::CreateWorkerSession(const rpc::CreateWorkerSessionRequest& req) {
  if (req.session_handle().empty()) {
    return absl::InvalidArgumentError("CreateWorkerSession: the session handle is empty");
  }
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.try_emplace(req.session_handle());  // idempotent: a retried call is fine
  return absl::OkStatus();
}

absl::Status Worker::DeleteWorkerSession(const rpc::DeleteWorkerSessionRequest& req) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(req.session_handle());
  return absl::OkStatus();
}

absl::Status Worker::RegisterGraph(const rpc::RegisterGraphRequest& req,
                                   rpc::RegisterGraphResponse* resp) {
  ASSIGN_OR_RETURN(std::unique_ptr<Graph> graph, Graph::FromGraphDef(req.graph_def()));
  for (Node* n : graph->nodes()) {
    absl::StatusOr<DeviceName> d = DeviceName::Parse(n->requested_device());
    if (!d.ok() || !d->IsFull() || d->ToString() != device_->name()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "RegisterGraph: node '", n->name(), "' is placed on '", n->requested_device(),
          "', but this task's only device is ", device_->name()));
    }
    n->set_assigned_device(device_->name());
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Executor> executor,
                   Executor::Create(std::move(graph), device_.get(), pool_.get()));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(req.session_handle());
  if (it == sessions_.end()) {
    return absl::NotFoundError(
        absl::StrCat("RegisterGraph: no session '", req.session_handle(), "' on ", task_name_));
  }
  std::string handle = absl::StrCat("graph_", next_graph_id_++);
  it->second.graphs[handle] = std::move(executor);
  resp->set_graph_handle(handle);
  return absl::OkStatus();
}

absl::Status Worker::DeregisterGraph(const rpc::DeregisterGraphRequest& req) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(req.session_handle());
  if (it != sessions_.end()) it->second.graphs.erase(req.graph_handle());
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Executor>> Worker::FindGraph(const std::string& session,
                                                            const std::string& graph) {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = sessions_.find(session);
  if (s == sessions_.end()) {
    // A task that restarted has forgotten the sessions of its earlier self.
    return absl::AbortedError(
        absl::StrCat(task_name_, " has no session '", session, "' (the task may have restarted)"));
  }
  auto g = s->second.graphs.find(graph);
  if (g == s->second.graphs.end()) {
    return absl::AbortedError(
        absl::StrCat(task_name_, " has no graph '", graph, "' in session '", session, "'"));
  }
  return g->second;
}

std::shared_ptr<StepRendezvous> Worker::FindOrCreateStep(int64_t step_id, int add_running) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Time now = absl::Now();
  auto it = steps_.find(step_id);
  if (it == steps_.end()) {
    if (now - last_sweep_ > kSweepInterval) {
      // Sweep steps a vanished master left behind, and aborted ones.
      last_sweep_ = now;
      for (auto s = steps_.begin(); s != steps_.end();) {
        const absl::Duration age =
            s->second.rendezvous->Aborted() ? kAbortedStepAge : kStaleStepAge;
        if (now - s->second.last_used > age && s->second.running_graphs == 0) {
          s->second.rendezvous->StartAbort(
              absl::AbortedError(absl::StrCat("step ", s->first, " abandoned on ", task_name_)));
          steps_.erase(s++);
        } else {
          ++s;
        }
      }
    }
    it = steps_
             .emplace(step_id,
                      Step{std::make_shared<StepRendezvous>(step_id, task_name_, peers_), 0, now})
             .first;
  }
  it->second.last_used = now;
  it->second.running_graphs += add_running;
  return it->second.rendezvous;
}

void Worker::MaybeEndStep(int64_t step_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = steps_.find(step_id);
  // An aborted step stays, so that what comes late for it fails at once (see
  // CleanupStep).
  if (it != steps_.end() && it->second.running_graphs == 0 && it->second.rendezvous->Idle() &&
      !it->second.rendezvous->Aborted()) {
    steps_.erase(it);
  }
}

absl::Status Worker::RunGraph(const rpc::RunGraphRequest& req, rpc::RunGraphResponse* resp) {
  ASSIGN_OR_RETURN(std::shared_ptr<Executor> executor,
                   FindGraph(req.session_handle(), req.graph_handle()));
  std::vector<Tensor> feeds(req.num_feeds());
  for (const rpc::IndexedTensor& f : req.feed()) {
    if (f.index() < 0 || f.index() >= req.num_feeds()) {
      return absl::InvalidArgumentError(
          absl::StrCat("RunGraph: feed index ", f.index(), " outside [0, ", req.num_feeds(), ")"));
    }
    ASSIGN_OR_RETURN(feeds[f.index()], TensorFromProto(f.tensor()));
  }
  std::shared_ptr<StepRendezvous> rendezvous = FindOrCreateStep(req.step_id(), 1);
  CallFrame frame(std::move(feeds), req.num_fetches());
  StepContext step;
  step.step_id = req.step_id();
  step.rendezvous = rendezvous.get();
  step.call_frame = &frame;
  absl::Status status = executor->Run(step);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = steps_.find(req.step_id());
    if (it != steps_.end()) --it->second.running_graphs;
  }
  if (!status.ok()) {
    rendezvous->StartAbort(status);
    return absl::Status(status.code(), absl::StrCat(task_name_, ": ", status.message()));
  }
  MaybeEndStep(req.step_id());
  std::vector<Tensor> fetches = frame.TakeFetches();
  for (size_t i = 0; i < fetches.size(); ++i) {
    if (!fetches[i].initialized()) continue;  // another task's fetch
    rpc::IndexedTensor* out = resp->add_fetch();
    out->set_index(static_cast<int>(i));
    TensorToProto(fetches[i], out->mutable_tensor());
  }
  return absl::OkStatus();
}

absl::Status Worker::CleanupStep(const rpc::CleanupStepRequest& req) {
  const absl::StatusCode code = static_cast<absl::StatusCode>(req.abort_code());
  if (code == absl::StatusCode::kOk) {  // the step ended
    std::shared_ptr<StepRendezvous> rendezvous;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = steps_.find(req.step_id());
      if (it == steps_.end()) return absl::OkStatus();
      rendezvous = it->second.rendezvous;
      steps_.erase(it);
    }
    rendezvous->StartAbort(absl::CancelledError(absl::StrCat("step ", req.step_id(), " ended")));
    return absl::OkStatus();
  }
  // An abort stays in the table, aborted, for kAbortedStepAge: the abort
  // races this task's own RunGraph and the RecvTensor calls of others
  // for the step. Dropped, or not yet known here, the step would be created
  // afresh by whichever comes later, which would then wait for a value that
  // no partition sends any more, until its deadline.
  FindOrCreateStep(req.step_id(), 0)->StartAbort(absl::Status(code, req.abort_message()));
  return absl::OkStatus();
}

absl::StatusOr<Tensor> Worker::WaitForTensor(int64_t step_id, const std::string& key,
                                             absl::Time deadline,
                                             const std::function<bool()>& cancelled) {
  // key = src_device;src_incarnation_hex;...: a key made for an earlier
  // incarnation of this task can never be satisfied here.
  std::vector<std::string> parts = absl::StrSplit(key, ';');
  if (parts.size() < 2 || parts[0] != device_->name()) {
    return absl::InvalidArgumentError(
        absl::StrCat("RecvTensor: key '", key, "' does not name a device of ", task_name_));
  }
  std::string incarnation = absl::StrCat(absl::Hex(device_->incarnation(), absl::kZeroPad16));
  if (parts[1] != incarnation) {
    return absl::AbortedError(absl::StrCat("RecvTensor: ", task_name_, " restarted (incarnation ",
                                           incarnation, ", the key names ", parts[1], ")"));
  }
  std::shared_ptr<StepRendezvous> rendezvous = FindOrCreateStep(step_id, 0);
  auto result = std::make_shared<std::promise<absl::StatusOr<Tensor>>>();
  std::future<absl::StatusOr<Tensor>> future = result->get_future();
  rendezvous->RecvLocalAsync(key, [result](const absl::Status& s, const Tensor& t) {
    if (s.ok()) {
      result->set_value(t);
    } else {
      result->set_value(s);
    }
  });
  while (future.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (cancelled()) return absl::CancelledError("RecvTensor: the caller went away");
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("RecvTensor: no value for '", key, "' on ", task_name_, " in time"));
    }
  }
  absl::StatusOr<Tensor> value = future.get();
  MaybeEndStep(step_id);
  return value;
}

void Worker::ReportTaskDone(const rpc::ReportTaskDoneRequest& req) {
  std::lock_guard<std::mutex> lock(mu_);
  done_tasks_.insert(req.task());
  done_cv_.notify_all();
}

bool Worker::WaitForTasksDone(const std::set<std::string>& tasks, absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  auto all_done = [&] {
    for (const std::string& t : tasks)
      if (!done_tasks_.count(t)) return false;
    return true;
  };
  while (!all_done()) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    done_cv_.wait_for(lock, absl::ToChronoMilliseconds(std::min(left, absl::Seconds(1))));
  }
  return true;
}

}  // namespace braid::distributed
