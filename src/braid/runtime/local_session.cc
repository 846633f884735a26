// LocalSession: runs a graph on the devices of this process.
#include <condition_variable>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/graph/fuse_ops.h"
#include "braid/graph/partition.h"
#include "braid/runtime/client_graph.h"
#include "braid/runtime/device.h"
#include "braid/runtime/executor.h"
#include "braid/runtime/local_rendezvous.h"
#include "braid/runtime/session.h"
#include "tensorflow/core/framework/graph.pb.h"

namespace braid {
namespace {

// Everything needed to run one (feeds, fetches, targets) signature.
struct RunPlan {
  std::vector<std::unique_ptr<Executor>> executors;
};

class LocalSession : public Session {
 public:
  LocalSession(const SessionOptions& options, std::shared_ptr<Graph> graph)
      : options_(options),
        graph_(std::move(graph)),
        devices_(CreateCpuDevices("localhost", 0, std::max(1, options.num_cpu_devices))),
        placer_(MakePlacerOptions(options, devices_)) {
    pool_ = std::make_unique<ThreadPool>(
        ResolveInterOpThreads(options.inter_op_threads, options.intra_op_threads));
    SetIntraOpThreads(options.intra_op_threads);
  }

  Graph* graph() override { return graph_.get(); }

  absl::Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                   const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
                   std::vector<Tensor>* outputs) override {
    std::vector<std::string> feed_names;
    for (const auto& f : feeds) feed_names.push_back(f.first);
    std::string key = SignatureKey(feed_names, fetches, targets);
    std::shared_ptr<RunPlan> plan;
    {
      std::lock_guard<std::mutex> lock(mu_);
      RETURN_IF_ERROR(placer_.PlaceIfGrown(graph_.get()));
      auto it = plans_.find(key);
      if (it == plans_.end() || it->second.num_nodes != graph_->num_nodes()) {
        // A grown graph invalidates nothing already planned, but a name may
        // now resolve differently; plans are cheap to rebuild.
        ASSIGN_OR_RETURN(std::unique_ptr<RunPlan> p, BuildPlan(feed_names, fetches, targets));
        plans_[key] = CachedPlan{std::move(p), graph_->num_nodes()};
        it = plans_.find(key);
      }
      plan = it->second.plan;
      RETURN_IF_ERROR(CheckFeeds(*graph_, feeds));
    }

    std::vector<Tensor> feed_values;
    for (const auto& f : feeds) feed_values.push_back(f.second);
    CallFrame frame(std::move(feed_values), fetches.size());
    LocalRendezvous rendezvous;
    StepContext step;
    step.step_id = next_step_id_.fetch_add(1);
    step.rendezvous = &rendezvous;
    step.call_frame = &frame;
    step.op_stats = options_.op_stats;

    std::mutex mu;
    std::condition_variable cv;
    size_t remaining = plan->executors.size();
    absl::Status status;
    for (auto& ex : plan->executors) {
      ex->RunAsync(step, [&](absl::Status s) {
        std::lock_guard<std::mutex> lock(mu);
        if (status.ok() && !s.ok()) status = s;
        if (--remaining == 0) cv.notify_all();
      });
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return remaining == 0; });
    }
    RETURN_IF_ERROR(status);
    *outputs = frame.TakeFetches();
    return absl::OkStatus();
  }

 private:
  struct CachedPlan {
    std::shared_ptr<RunPlan> plan;  // shared: a running step keeps its plan alive
    int num_nodes;
  };

  static PlacerOptions MakePlacerOptions(const SessionOptions& options,
                                         const std::vector<std::unique_ptr<DeviceBase>>& devices) {
    PlacerOptions opts;
    for (const auto& d : devices) opts.devices.push_back(d->name());
    opts.default_device = options.default_device;
    opts.supports = [](const Node& n, const std::string& type) {
      return KernelRegistry::Global()->Supports(n, type);
    };
    return opts;
  }

  // The client graph of the signature, partitioned by device, one executor
  // per partition.
  absl::StatusOr<std::unique_ptr<RunPlan>> BuildPlan(const std::vector<std::string>& feed_names,
                                                     const std::vector<std::string>& fetches,
                                                     const std::vector<std::string>& targets) {
    ASSIGN_OR_RETURN(std::unique_ptr<Graph> client,
                     BuildClientGraph(*graph_, feed_names, fetches, targets));
    if (options_.fuse_ops) {
      ASSIGN_OR_RETURN(client, FuseOps(*client));
    }
    PartitionOptions popts;
    popts.incarnation = [this](const std::string& name) {
      for (const auto& d : devices_)
        if (d->name() == name) return d->incarnation();
      return uint64_t{0};
    };
    ASSIGN_OR_RETURN(auto partitions, PartitionGraph(*client, popts));
    auto plan = std::make_unique<RunPlan>();
    for (auto& [device_name, partition] : partitions) {
      DeviceBase* device = nullptr;
      for (const auto& d : devices_)
        if (d->name() == device_name) device = d.get();
      if (device == nullptr) {
        return absl::InternalError(absl::StrCat("partition for unknown device ", device_name));
      }
      ASSIGN_OR_RETURN(auto ex, Executor::Create(std::move(partition), device, pool_.get()));
      plan->executors.push_back(std::move(ex));
    }
    return plan;
  }

  const SessionOptions options_;
  std::shared_ptr<Graph> graph_;
  std::vector<std::unique_ptr<DeviceBase>> devices_;
  std::unique_ptr<ThreadPool> pool_;
  std::atomic<int64_t> next_step_id_{1};

  std::mutex mu_;
  IncrementalPlacer placer_;                 // protected by mu_
  std::map<std::string, CachedPlan> plans_;  // protected by mu_
};

}  // namespace

absl::StatusOr<std::unique_ptr<Session>> NewSession(const SessionOptions& options,
                                                    std::shared_ptr<Graph> graph) {
  if (graph == nullptr) return absl::InvalidArgumentError("NewSession: graph is null");
  if (options.num_cpu_devices < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_cpu_devices is ", options.num_cpu_devices, "; it must be >= 1"));
  }
  return std::unique_ptr<Session>(new LocalSession(options, std::move(graph)));
}

absl::StatusOr<std::unique_ptr<Session>> NewSession(const SessionOptions& options,
                                                    const tensorflow::GraphDef& graph_def) {
  ASSIGN_OR_RETURN(std::unique_ptr<Graph> graph, Graph::FromGraphDef(graph_def));
  return NewSession(options, std::shared_ptr<Graph>(std::move(graph)));
}

}  // namespace braid
