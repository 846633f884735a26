#include "braid/runtime/executor.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/kernels/op_stats.h"
#include "braid/runtime/device.h"

namespace braid {

absl::StatusOr<std::unique_ptr<Executor>> Executor::Create(std::unique_ptr<Graph> graph,
                                                           DeviceBase* device, ThreadPool* pool) {
  std::unique_ptr<Executor> ex(new Executor(std::move(graph), device, pool));
  const int n = ex->graph_->num_nodes();
  ex->items_.resize(n);
  int slots = 0;
  for (Node* node : ex->graph_->nodes()) {
    Item& item = ex->items_[node->id()];
    item.node = node;
    ASSIGN_OR_RETURN(item.kernel, KernelRegistry::Global()->CreateKernel(*node, device));
    item.input_start = slots;
    slots += node->num_inputs();
    item.num_pending = node->num_inputs() + static_cast<int>(node->control_inputs().size());
    item.outputs.resize(node->num_outputs());
    for (int k = 0; k < node->num_outputs(); ++k)
      for (const InEdge& e : node->out_edges(k))
        item.outputs[k].emplace_back(e.dst->id(), e.dst_input);
    for (Node* c : node->control_outputs()) item.control_outputs.push_back(c->id());
    if (item.num_pending == 0) ex->roots_.push_back(node->id());
  }
  ex->num_slots_ = slots;
  return ex;
}

Executor::~Executor() = default;

// The state of one step: input slots, pending counts, the first error.
class Executor::Step {
 public:
  Step(Executor* ex, const StepContext& ctx, std::function<void(absl::Status)> done)
      : ex_(ex), ctx_(ctx), done_(std::move(done)), slots_(ex->num_slots_),
        pending_(ex->items_.size()) {
    for (size_t i = 0; i < ex->items_.size(); ++i)
      pending_[i].store(ex->items_[i].num_pending, std::memory_order_relaxed);
  }

  void Start() {
    const auto& roots = ex_->roots_;
    if (roots.empty()) {
      Finish();
      return;
    }
    outstanding_.store(static_cast<int>(roots.size()));
    RunFrom(Dispatch(roots));
  }

 private:
  // Runs the nodes of `inline_ready`, each followed by one ready successor
  // inline; the other successors go to the pool. `outstanding_` counts nodes
  // scheduled and not yet finished.
  void RunFrom(std::deque<int> inline_ready) {
    ApplyIntraOpThreads();
    while (!inline_ready.empty()) {
      int cur = inline_ready.front();
      inline_ready.pop_front();
      Item& item = ex_->items_[cur];
      if (item.kernel->IsAsync()) {
        RunAsyncItem(cur);
        continue;
      }
      std::vector<Tensor> inputs(std::make_move_iterator(slots_.begin() + item.input_start),
                                 std::make_move_iterator(slots_.begin() + item.input_start +
                                                         item.node->num_inputs()));
      OpKernelContext ctx(*item.node, ex_->device_, &ctx_, &inputs);
      if (ok()) {
        if (ctx_.op_stats != nullptr) {
          ComputeTimed(item, &ctx, inputs);
        } else {
          ComputeGuarded(item, &ctx);
        }
      }
      std::vector<int> ready;
      Complete(cur, &ctx, &ready);
      for (int next : Dispatch(ready)) inline_ready.push_back(next);
      if (FinishOne()) return;
    }
  }

  // Splits ready nodes between this thread and the pool: every cheap one
  // (!IsExpensive: constants, variable handles and reads, shapes, identities)
  // and the first expensive one stay here, the other expensive ones go to the
  // pool. Handing a cheap node to another thread costs more than running it,
  // and a small inference graph then runs without leaving the caller.
  // With a pool of one thread (one inter-op thread) every node stays here: a
  // step then runs one kernel at a time, so the kernels' own intra-op threads
  // (OpenMP) have the cores to themselves. Two threads each running a kernel
  // with its own OpenMP team oversubscribe the cores, and OpenMP's idle
  // threads then sleep at once instead of spinning: every parallel kernel
  // paid a thread wake-up (~60 µs on the CI VM; docs/performance.md).
  std::deque<int> Dispatch(const std::vector<int>& ready) {
    if (ex_->pool_->num_threads() == 1) return std::deque<int>(ready.begin(), ready.end());
    std::deque<int> here;
    bool expensive_kept = false;
    for (int next : ready) {
      const OpKernel& kernel = *ex_->items_[next].kernel;
      // An async kernel only starts here; its work happens elsewhere.
      const bool expensive = kernel.IsExpensive() && !kernel.IsAsync();
      if (expensive && expensive_kept) {
        ex_->pool_->Schedule([this, next] { RunFrom({next}); });
        continue;
      }
      expensive_kept |= expensive;
      here.push_back(next);
    }
    return here;
  }

  // Kernels report errors on their context; an exception escaping one (from
  // oneDNN or the allocator) becomes that node's error instead of a crash.
  static void ComputeGuarded(Item& item, OpKernelContext* ctx) {
    try {
      item.kernel->Compute(ctx);
    } catch (const std::exception& e) {
      ctx->SetStatus(absl::InternalError(absl::StrCat("kernel threw: ", e.what())));
    }
  }

  // ComputeGuarded, timed into the step's OpStats under the op's type and
  // its first input's shape.
  void ComputeTimed(Item& item, OpKernelContext* ctx, const std::vector<Tensor>& inputs) {
    std::string shape;
    if (!inputs.empty() && inputs[0].initialized()) shape = inputs[0].shape().DebugString();
    const auto start = std::chrono::steady_clock::now();
    ComputeGuarded(item, ctx);
    ctx_.op_stats->Record(item.node->op(), shape, std::chrono::steady_clock::now() - start);
  }

  void RunAsyncItem(int id) {
    Item& item = ex_->items_[id];
    auto inputs = std::make_shared<std::vector<Tensor>>(
        std::make_move_iterator(slots_.begin() + item.input_start),
        std::make_move_iterator(slots_.begin() + item.input_start + item.node->num_inputs()));
    auto ctx = std::make_shared<OpKernelContext>(*item.node, ex_->device_, &ctx_, inputs.get());
    if (!ok()) {
      AfterAsync(id, ctx.get());
      return;
    }
    item.kernel->ComputeAsync(ctx.get(), [this, id, ctx, inputs] {
      // Continue on the pool: the callback may run inside a Send.
      ex_->pool_->Schedule([this, id, ctx, inputs] { AfterAsync(id, ctx.get()); });
    });
  }

  void AfterAsync(int id, OpKernelContext* ctx) {
    ApplyIntraOpThreads();
    std::vector<int> ready;
    Complete(id, ctx, &ready);
    for (int next : ready) ex_->pool_->Schedule([this, next] { RunFrom({next}); });
    FinishOne();
  }

  // Records the node's outputs into its consumers' slots and collects the
  // consumers that became ready (none once the step has failed).
  void Complete(int id, OpKernelContext* ctx, std::vector<int>* ready) {
    Item& item = ex_->items_[id];
    if (!ctx->status().ok()) {
      absl::Status s = ctx->status();
      Fail(absl::Status(s.code(), absl::StrCat("node ", item.node->DebugName(), ": ",
                                               s.message())));
      return;
    }
    if (!ok()) return;
    std::vector<Tensor>& outs = ctx->outputs();
    for (size_t k = 0; k < item.outputs.size(); ++k) {
      if (!outs[k].initialized()) {
        Fail(absl::InternalError(absl::StrCat("node ", item.node->DebugName(),
                                              " did not produce output ", k)));
        return;
      }
      const auto& consumers = item.outputs[k];
      for (size_t c = 0; c < consumers.size(); ++c) {
        auto [dst, slot] = consumers[c];
        Tensor& target = slots_[ex_->items_[dst].input_start + slot];
        // The last consumer takes the tensor itself, so a sole consumer can
        // reuse its buffer in place.
        target = (c + 1 == consumers.size()) ? std::move(outs[k]) : outs[k];
      }
    }
    auto release = [&](int dst) {
      if (pending_[dst].fetch_sub(1, std::memory_order_acq_rel) == 1) ready->push_back(dst);
    };
    for (const auto& consumers : item.outputs)
      for (auto [dst, slot] : consumers) release(dst);
    for (int dst : item.control_outputs) release(dst);
    outstanding_.fetch_add(static_cast<int>(ready->size()), std::memory_order_acq_rel);
  }

  // Returns true when this was the last node of the step (the step object is
  // then gone).
  bool FinishOne() {
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      Finish();
      return true;
    }
    return false;
  }

  void Fail(absl::Status s) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!status_.ok()) return;
      status_ = s;
      failed_.store(true, std::memory_order_release);
    }
    if (ctx_.rendezvous != nullptr) ctx_.rendezvous->StartAbort(s);
  }

  bool ok() const { return !failed_.load(std::memory_order_acquire); }

  void Finish() {
    absl::Status s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      s = status_;
    }
    auto done = std::move(done_);
    delete this;
    done(s);
  }

  Executor* ex_;
  StepContext ctx_;
  std::function<void(absl::Status)> done_;
  std::vector<Tensor> slots_;
  std::vector<std::atomic<int>> pending_;
  std::atomic<int> outstanding_{0};
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  absl::Status status_;  // protected by mu_
};

void Executor::RunAsync(const StepContext& step, std::function<void(absl::Status)> done) {
  (new Step(this, step, std::move(done)))->Start();
}

absl::Status Executor::Run(const StepContext& step) {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  absl::Status result;
  RunAsync(step, [&](absl::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    result = std::move(s);
    finished = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return finished; });
  return result;
}

}  // namespace braid
