#include "braid/distributed/master_session.h"

#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "braid/graph/device_name.h"
#include "braid/graph/fuse_ops.h"
#include "braid/graph/partition.h"
#include "braid/kernels/op_kernel.h"
#include "braid/tensor/tensor_proto.h"
#include "tensorflow/core/framework/graph.pb.h"

namespace braid::distributed {
namespace {

// Step ids are drawn at random: the masters of between-graph replication run
// steps on the same ps at once, and their ids must not collide.
int64_t RandomId() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  return static_cast<int64_t>(rng() >> 1);
}

std::string TaskOf(const std::string& device) {
  absl::StatusOr<DeviceName> d = DeviceName::Parse(device);
  return d.ok() && d->IsFull() ? d->TaskName() : device;
}

// Runs fn(i) for i in [0, n) at once (the last on this thread) and waits.
void ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  std::vector<std::thread> threads;
  for (size_t i = 0; i + 1 < n; ++i) threads.emplace_back(fn, i);
  if (n > 0) fn(n - 1);
  for (auto& t : threads) t.join();
}

bool IsPeerLoss(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsAborted(s) || absl::IsDeadlineExceeded(s);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MasterSession>> MasterSession::Create(MasterSessionOptions options,
                                                                     WorkerCache* workers,
                                                                     std::shared_ptr<Graph> graph) {
  if (graph == nullptr) return absl::InvalidArgumentError("MasterSession: graph is null");
  PlacerOptions placer;
  for (const auto& [job, addresses] : options.cluster.jobs()) {
    if (job == "evaluator") continue;  // evaluators run graphs of their own
    for (size_t t = 0; t < addresses.size(); ++t)
      placer.devices.push_back(absl::StrCat("/job:", job, "/replica:0/task:", t, "/device:CPU:0"));
  }
  if (placer.devices.empty()) {
    return absl::InvalidArgumentError("MasterSession: the cluster has no task to run graphs on");
  }
  RETURN_IF_ERROR(DeviceName::Parse(options.default_device).status());
  placer.default_device = options.default_device;
  placer.supports = [](const Node& n, const std::string& type) {
    return KernelRegistry::Global()->Supports(n, type);
  };
  return std::unique_ptr<MasterSession>(
      new MasterSession(std::move(options), workers, std::move(graph), std::move(placer)));
}

MasterSession::MasterSession(MasterSessionOptions options, WorkerCache* workers,
                             std::shared_ptr<Graph> graph, PlacerOptions placer_options)
    : options_(std::move(options)),
      workers_(workers),
      handle_(absl::StrCat("session_", absl::Hex(RandomId(), absl::kZeroPad16))),
      graph_(std::move(graph)),
      placer_(std::move(placer_options)) {}

MasterSession::~MasterSession() {
  {
    std::lock_guard<std::mutex> lock(abort_mu_);
    for (std::thread& t : abort_threads_) t.join();
  }
  std::vector<std::string> tasks(sessions_created_.begin(), sessions_created_.end());
  ParallelFor(tasks.size(), [&](size_t i) {
    absl::StatusOr<WorkerInterface*> w = workers_->GetWorker(tasks[i]);
    rpc::DeleteWorkerSessionRequest req;
    req.set_session_handle(handle_);
    if (w.ok()) (*w)->DeleteWorkerSession(req).IgnoreError();  // best effort: it may be gone
  });
}

void MasterSession::ReplaceGraph(std::shared_ptr<Graph> graph) {
  std::lock_guard<std::mutex> lock(mu_);
  graph_ = std::move(graph);
  plans_.clear();
  placer_.Reset();
}

absl::Status MasterSession::LearnIncarnations(const std::set<std::string>& tasks) {
  for (const std::string& task : tasks) {
    if (sessions_created_.count(task)) continue;
    ASSIGN_OR_RETURN(WorkerInterface * worker, workers_->GetWorker(task));
    // Tasks start in any order: one that does not listen yet is waited for,
    // within the operation timeout.
    rpc::GetStatusResponse status;
    const absl::Time give_up = absl::Now() + options_.operation_timeout;
    absl::Status s;
    while (absl::IsUnavailable(s = worker->GetStatus({}, &status)) && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(200));
    }
    RETURN_IF_ERROR(s);
    for (const rpc::DeviceAttributes& d : status.device())
      incarnations_[d.name()] = d.incarnation();
    rpc::CreateWorkerSessionRequest req;
    req.set_session_handle(handle_);
    RETURN_IF_ERROR(worker->CreateWorkerSession(req));
    sessions_created_.insert(task);
  }
  return absl::OkStatus();
}

void MasterSession::ForgetRegistrations() {
  std::lock_guard<std::mutex> lock(mu_);
  ForgetRegistrationsLocked();
}

void MasterSession::ForgetRegistrationsLocked() {
  plans_.clear();
  incarnations_.clear();
  sessions_created_.clear();
}

absl::StatusOr<std::shared_ptr<MasterSession::Plan>> MasterSession::BuildPlan(
    const std::vector<std::string>& feed_names, const std::vector<std::string>& fetches,
    const std::vector<std::string>& targets) {
  ASSIGN_OR_RETURN(std::unique_ptr<Graph> client,
                   BuildClientGraph(*graph_, feed_names, fetches, targets));
  ASSIGN_OR_RETURN(client, FuseOps(*client));
  std::set<std::string> tasks;
  for (Node* n : client->nodes()) tasks.insert(TaskOf(n->assigned_device()));
  RETURN_IF_ERROR(LearnIncarnations(tasks));
  PartitionOptions popts;
  popts.incarnation = [this](const std::string& device) {
    auto it = incarnations_.find(device);
    return it == incarnations_.end() ? uint64_t{0} : it->second;
  };
  ASSIGN_OR_RETURN(auto partitions, PartitionGraph(*client, popts));
  auto plan = std::make_shared<Plan>();
  plan->num_nodes = graph_->num_nodes();
  for (auto& [device, partition] : partitions) {
    TaskPlan tp;
    tp.task = TaskOf(device);
    ASSIGN_OR_RETURN(tp.worker, workers_->GetWorker(tp.task));
    for (Node* n : partition->nodes()) {
      if (n->op() != "_Feed") continue;
      absl::StatusOr<int64_t> index = GetAttr<int64_t>(n->attrs(), "index");
      RETURN_IF_ERROR(index.status());
      tp.feeds.push_back(static_cast<int>(*index));
    }
    rpc::RegisterGraphRequest req;
    req.set_session_handle(handle_);
    partition->ToGraphDef(req.mutable_graph_def());
    rpc::RegisterGraphResponse resp;
    RETURN_IF_ERROR(tp.worker->RegisterGraph(req, &resp));
    tp.graph_handle = resp.graph_handle();
    plan->tasks.push_back(std::move(tp));
  }
  return plan;
}

absl::Status MasterSession::Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                                const std::vector<std::string>& fetches,
                                const std::vector<std::string>& targets,
                                std::vector<Tensor>* outputs) {
  std::vector<std::string> feed_names;
  for (const auto& f : feeds) feed_names.push_back(f.first);
  std::string key = SignatureKey(feed_names, fetches, targets);
  std::shared_ptr<Plan> plan;
  {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(placer_.PlaceIfGrown(graph_.get()));
    auto it = plans_.find(key);
    if (it == plans_.end() || it->second->num_nodes != graph_->num_nodes()) {
      absl::StatusOr<std::shared_ptr<Plan>> built = BuildPlan(feed_names, fetches, targets);
      if (!built.ok()) {
        if (IsPeerLoss(built.status())) ForgetRegistrationsLocked();
        return built.status();
      }
      it = plans_.insert_or_assign(key, *std::move(built)).first;
    }
    plan = it->second;
    RETURN_IF_ERROR(CheckFeeds(*graph_, feeds));
  }

  const int64_t step_id = RandomId();
  std::vector<rpc::RunGraphResponse> responses(plan->tasks.size());
  std::vector<absl::Status> statuses(plan->tasks.size());
  std::mutex first_mu;
  int first_failure = -1;  // the task whose failure came first: the likely cause
  ParallelFor(plan->tasks.size(), [&](size_t i) {
    const TaskPlan& tp = plan->tasks[i];
    rpc::RunGraphRequest req;
    req.set_session_handle(handle_);
    req.set_graph_handle(tp.graph_handle);
    req.set_step_id(step_id);
    req.set_num_feeds(static_cast<int>(feeds.size()));
    req.set_num_fetches(static_cast<int>(fetches.size()));
    for (int f : tp.feeds) {
      rpc::IndexedTensor* t = req.add_feed();
      t->set_index(f);
      TensorToProto(feeds[f].second, t->mutable_tensor());
    }
    statuses[i] = tp.worker->RunGraph(req, &responses[i]);
    if (!statuses[i].ok()) {
      bool first = false;
      {
        std::lock_guard<std::mutex> lock(first_mu);
        if (first_failure < 0) first_failure = static_cast<int>(i), first = true;
      }
      // Release the other tasks at once: they may be waiting for this one.
      if (first) AbortStep(*plan, step_id, statuses[i]);
    }
  });
  if (first_failure >= 0) {
    absl::Status s = statuses[first_failure];
    if (absl::IsDeadlineExceeded(s)) s = BlameSilentTasks(*plan, statuses, s);
    if (IsPeerLoss(s)) ForgetRegistrations();
    return s;
  }
  outputs->assign(fetches.size(), Tensor());
  for (const rpc::RunGraphResponse& r : responses) {
    for (const rpc::IndexedTensor& t : r.fetch()) {
      if (t.index() < 0 || t.index() >= static_cast<int>(fetches.size())) {
        return absl::InternalError(absl::StrCat("a worker returned fetch index ", t.index()));
      }
      ASSIGN_OR_RETURN((*outputs)[t.index()], TensorFromProto(t.tensor()));
    }
  }
  return absl::OkStatus();
}

absl::Status MasterSession::BlameSilentTasks(const Plan& plan,
                                             const std::vector<absl::Status>& statuses,
                                             const absl::Status& fallback) {
  // A task waiting for a hung peer times out just like the hung task itself;
  // the one that does not even answer a status call is the one to name.
  std::vector<std::string> silent(plan.tasks.size());
  ParallelFor(plan.tasks.size(), [&](size_t i) {
    if (!absl::IsDeadlineExceeded(statuses[i])) return;
    rpc::GetStatusResponse ignored;
    if (!plan.tasks[i].worker->GetStatus({}, &ignored).ok()) silent[i] = plan.tasks[i].task;
  });
  std::vector<std::string> names;
  for (const std::string& t : silent)
    if (!t.empty()) names.push_back(t);
  if (names.empty()) return fallback;
  return absl::DeadlineExceededError(absl::StrCat(
      "the step did not finish within ", absl::FormatDuration(options_.operation_timeout), ": ",
      absl::StrJoin(names, ", "), names.size() == 1 ? " does" : " do", " not respond (",
      fallback.message(), ")"));
}

void MasterSession::AbortStep(const Plan& plan, int64_t step_id, const absl::Status& status) {
  rpc::CleanupStepRequest req;
  req.set_step_id(step_id);
  req.set_abort_code(static_cast<int>(status.code()));
  req.set_abort_message(std::string(status.message()));
  // Not waited for here: a task that is gone cannot be told, and the call to
  // it ends only at its deadline. The destructor joins these threads, since
  // they use the workers (which must outlive the session).
  std::lock_guard<std::mutex> lock(abort_mu_);
  for (const TaskPlan& tp : plan.tasks) {
    abort_threads_.emplace_back(
        [worker = tp.worker, req] { worker->CleanupStep(req).IgnoreError(); });
  }
}

}  // namespace braid::distributed
