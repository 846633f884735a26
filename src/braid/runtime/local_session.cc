// LocalSession: runs a graph on the devices of this process.
#include <condition_variable>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "braid/graph/partition.h"
#include "braid/graph/placer.h"
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
      : options_(options), graph_(std::move(graph)) {
    devices_ = CreateCpuDevices("localhost", 0, std::max(1, options.num_cpu_devices));
    int inter = options.inter_op_threads > 0 ? options.inter_op_threads : NumSchedulableCores();
    pool_ = std::make_unique<ThreadPool>(inter);
    SetIntraOpThreads(options.intra_op_threads);
  }

  Graph* graph() override { return graph_.get(); }

  absl::Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                   const std::vector<std::string>& fetches,
                   const std::vector<std::string>& targets,
                   std::vector<Tensor>* outputs) override {
    std::string key = absl::StrCat(
        absl::StrJoin(feeds, ",", [](std::string* o, const auto& f) { o->append(f.first); }), "|",
        absl::StrJoin(fetches, ","), "|", absl::StrJoin(targets, ","));
    std::shared_ptr<RunPlan> plan;
    {
      std::lock_guard<std::mutex> lock(mu_);
      RETURN_IF_ERROR(PlaceIfGrown());
      auto it = plans_.find(key);
      if (it == plans_.end() || it->second.num_nodes != graph_->num_nodes()) {
        // A grown graph invalidates nothing already planned, but a name may
        // now resolve differently; plans are cheap to rebuild.
        ASSIGN_OR_RETURN(std::unique_ptr<RunPlan> p, BuildPlan(feeds, fetches, targets));
        plans_[key] = CachedPlan{std::move(p), graph_->num_nodes()};
        it = plans_.find(key);
      }
      plan = it->second.plan;
      RETURN_IF_ERROR(CheckFeeds(feeds));
    }

    std::vector<Tensor> feed_values;
    for (const auto& f : feeds) feed_values.push_back(f.second);
    CallFrame frame(std::move(feed_values), fetches.size());
    LocalRendezvous rendezvous;
    StepContext step;
    step.step_id = next_step_id_.fetch_add(1);
    step.rendezvous = &rendezvous;
    step.call_frame = &frame;

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

  // Places the whole graph when it has grown; stateful nodes keep the devices
  // they had (their state lives there).
  absl::Status PlaceIfGrown() {
    if (placed_nodes_ == graph_->num_nodes()) return absl::OkStatus();
    PlacerOptions opts;
    for (const auto& d : devices_) opts.devices.push_back(d->name());
    opts.default_device = options_.default_device;
    opts.supports = [](const Node& n, const std::string& type) {
      return KernelRegistry::Global()->Supports(n, type);
    };
    opts.pinned = pinned_;
    RETURN_IF_ERROR(PlaceGraph(graph_.get(), opts));
    for (Node* n : graph_->nodes())
      if (n->op_def().is_stateful) pinned_[n->name()] = n->assigned_device();
    placed_nodes_ = graph_->num_nodes();
    return absl::OkStatus();
  }

  absl::Status CheckFeeds(const std::vector<std::pair<std::string, Tensor>>& feeds) {
    for (const auto& [name, value] : feeds) {
      ASSIGN_OR_RETURN(Output out, graph_->FindOutput(name));
      if (!value.initialized()) {
        return absl::InvalidArgumentError(absl::StrCat("feed '", name, "' is an empty tensor"));
      }
      if (value.dtype() != out.dtype()) {
        return absl::InvalidArgumentError(absl::StrCat("feed '", name, "' has dtype ",
                                                       DTypeName(value.dtype()),
                                                       " but the graph expects ",
                                                       DTypeName(out.dtype())));
      }
      if (!out.shape().IsCompatibleWith(value.shape())) {
        return absl::InvalidArgumentError(absl::StrCat("feed '", name, "' has shape ",
                                                       value.shape().DebugString(),
                                                       " but the graph expects ",
                                                       out.shape().DebugString()));
      }
    }
    return absl::OkStatus();
  }

  // Prunes the graph to what the fetches and targets need, replaces fed
  // tensors by _Feed and fetched ones by _Fetch, partitions by device and
  // builds one executor per partition.
  absl::StatusOr<std::unique_ptr<RunPlan>> BuildPlan(
      const std::vector<std::pair<std::string, Tensor>>& feeds,
      const std::vector<std::string>& fetches, const std::vector<std::string>& targets) {
    absl::flat_hash_map<Output, int> fed;
    for (size_t i = 0; i < feeds.size(); ++i) {
      ASSIGN_OR_RETURN(Output out, graph_->FindOutput(feeds[i].first));
      if (!fed.emplace(out, static_cast<int>(i)).second) {
        return absl::InvalidArgumentError(absl::StrCat("'", feeds[i].first, "' is fed twice"));
      }
    }
    std::vector<Output> fetch_outputs;
    for (const std::string& f : fetches) {
      ASSIGN_OR_RETURN(Output out, graph_->FindOutput(f));
      fetch_outputs.push_back(out);
    }
    std::vector<Node*> target_nodes;
    for (const std::string& t : targets) {
      Node* n = graph_->FindNode(t);
      if (n == nullptr) {
        return absl::NotFoundError(absl::StrCat("target '", t, "': no node of that name"));
      }
      target_nodes.push_back(n);
    }

    // Backward reachability, not crossing fed tensors.
    std::vector<bool> needed(graph_->num_nodes(), false);
    std::vector<Node*> stack;
    for (const Output& o : fetch_outputs)
      if (!fed.contains(o)) stack.push_back(o.node);
    for (Node* n : target_nodes) stack.push_back(n);
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      if (needed[n->id()]) continue;
      needed[n->id()] = true;
      if (n->op() == "Placeholder") {
        return absl::InvalidArgumentError(absl::StrCat(
            "placeholder '", n->name(), "' must be fed: the fetches or targets depend on it"));
      }
      for (const Output& in : n->inputs())
        if (!fed.contains(in)) stack.push_back(in.node);
      for (Node* c : n->control_inputs()) stack.push_back(c);
    }

    Graph client;
    absl::flat_hash_map<const Node*, Node*> copy;
    std::vector<Node*> feed_nodes(feeds.size(), nullptr);
    auto feed_node = [&](const Output& o, int index) -> absl::StatusOr<Node*> {
      if (feed_nodes[index] != nullptr) return feed_nodes[index];
      NodeSpec spec;
      spec.name = client.UniqueName(absl::StrCat("_feed_", index));
      spec.op = "_Feed";
      spec.attrs = {{"T", o.dtype()}, {"index", int64_t{index}}, {"shape", o.shape()}};
      ASSIGN_OR_RETURN(Node * n, client.AddNode(std::move(spec)));
      n->set_assigned_device(o.node->assigned_device());
      feed_nodes[index] = n;
      return n;
    };
    for (Node* n : graph_->nodes()) {
      if (!needed[n->id()]) continue;
      std::vector<Output> inputs;
      for (const Output& in : n->inputs()) {
        auto f = fed.find(in);
        if (f != fed.end()) {
          ASSIGN_OR_RETURN(Node * fn, feed_node(in, f->second));
          inputs.push_back(Output(fn, 0));
        } else {
          inputs.push_back(Output(copy.at(in.node), in.index));
        }
      }
      std::vector<Node*> controls;
      for (Node* c : n->control_inputs()) controls.push_back(copy.at(c));
      ASSIGN_OR_RETURN(Node * c, client.AddNode(CopyNodeSpec(*n, inputs, controls)));
      c->set_assigned_device(n->assigned_device());
      copy[n] = c;
    }
    for (size_t i = 0; i < fetch_outputs.size(); ++i) {
      const Output& o = fetch_outputs[i];
      Output src;
      auto f = fed.find(o);
      if (f != fed.end()) {
        ASSIGN_OR_RETURN(Node * fn, feed_node(o, f->second));
        src = Output(fn, 0);
      } else {
        src = Output(copy.at(o.node), o.index);
      }
      NodeSpec spec;
      spec.name = client.UniqueName(absl::StrCat("_fetch_", i));
      spec.op = "_Fetch";
      spec.inputs = {src};
      spec.attrs = {{"index", static_cast<int64_t>(i)}};
      ASSIGN_OR_RETURN(Node * n, client.AddNode(std::move(spec)));
      n->set_assigned_device(src.node->assigned_device());
    }

    PartitionOptions popts;
    popts.incarnation = [this](const std::string& name) {
      for (const auto& d : devices_)
        if (d->name() == name) return d->incarnation();
      return uint64_t{0};
    };
    ASSIGN_OR_RETURN(auto partitions, PartitionGraph(client, popts));
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
  int placed_nodes_ = 0;                                     // protected by mu_
  std::map<std::string, std::string> pinned_;                // protected by mu_
  std::map<std::string, CachedPlan> plans_;                  // protected by mu_
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
