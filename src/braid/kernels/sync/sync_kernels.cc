// Kernels of the synchronous replication primitives and of the staleness
// clock (graph/ops/sync_ops.h).
// Waiting kernels are asynchronous: a waiter thread of their own blocks on
// the resource's condition variable, so executor threads never do.
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

class GradientAccumulatorResource : public ResourceBase {
 public:
  std::string DebugString() const override { return "gradient accumulator"; }
  std::mutex mu;
  int64_t step = 0;   // protected by mu
  Tensor sum;         // protected by mu; uninitialized while empty
  int64_t count = 0;  // protected by mu
};

// A resource others wait on, until a close op ends every wait.
class WaitableResource : public ResourceBase {
 public:
  std::mutex mu;
  std::condition_variable cv;
  bool closed = false;  // protected by mu
};

class SyncBarrierResource : public WaitableResource {
 public:
  explicit SyncBarrierResource(int64_t total) : total_replicas(total) {}
  std::string DebugString() const override { return "sync barrier"; }
  const int64_t total_replicas;
  int64_t step = 0;           // protected by mu
  std::set<int32_t> arrived;  // this step's replicas; protected by mu
  int64_t count = 0;          // arrivals this step (a replica may come twice); mu
  int64_t dropped = 0;        // stale arrivals; protected by mu
};

class SyncStepNoticeResource : public WaitableResource {
 public:
  std::string DebugString() const override { return "sync step notice"; }
  int64_t published = 0;  // protected by mu
};

// The handle op of resource type T: creates it on first run.
template <typename T>
class ResourceHandleOp : public OpKernel {
 public:
  explicit ResourceHandleOp(OpKernelConstruction* c) : OpKernel(c) {
    std::string shared_name;
    OP_ATTR(c, std::string, "shared_name", shared_name);
    if constexpr (std::is_same_v<T, SyncBarrierResource>) {
      OP_ATTR(c, int64_t, "total_replicas", total_replicas_);
    }
    handle_ = Tensor(DType::kResource, TensorShape{});
    handle_.data<ResourceHandle>()[0] = ResourceHandle{
        c->device()->name(), "", shared_name.empty() ? c->node().name() : shared_name};
  }
  void Compute(OpKernelContext* ctx) override {
    const ResourceHandle& h = handle_.data<ResourceHandle>()[0];
    auto made = ctx->device()->resource_mgr()->LookupOrCreate<T>(h.container, h.name, [&] {
      if constexpr (std::is_same_v<T, SyncBarrierResource>) {
        return std::make_shared<T>(total_replicas_);
      } else {
        return std::make_shared<T>();
      }
    });
    OP_REQUIRES_OK(ctx, made.status());
    ctx->set_output(0, handle_);
  }
  bool IsExpensive() const override { return false; }

 private:
  Tensor handle_;
  int64_t total_replicas_ = 1;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("GradientAccumulator"),
                      ResourceHandleOp<GradientAccumulatorResource>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("SyncBarrier"), ResourceHandleOp<SyncBarrierResource>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("SyncStepNotice"), ResourceHandleOp<SyncStepNoticeResource>);

template <typename T>
absl::StatusOr<std::shared_ptr<T>> Lookup(OpKernelContext* ctx) {
  const Tensor& t = ctx->input(0);
  if (t.dtype() != DType::kResource || t.NumElements() != 1) {
    return absl::InvalidArgumentError("expected a scalar resource handle");
  }
  const ResourceHandle& h = t.data<ResourceHandle>()[0];
  return ctx->device()->resource_mgr()->Lookup<T>(h.container, h.name);
}

const std::string& HandleName(OpKernelContext* ctx) {
  return ctx->input(0).data<ResourceHandle>()[0].name;
}

class AccumulatorApplyGradientOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    auto acc = Lookup<GradientAccumulatorResource>(ctx);
    OP_REQUIRES_OK(ctx, acc.status());
    const int64_t local_step = ctx->input(1).data<int64_t>()[0];
    const Tensor& grad = ctx->input(2);
    std::lock_guard<std::mutex> lock((*acc)->mu);
    GradientAccumulatorResource& a = **acc;
    if (local_step < a.step) return;  // stale: the barrier counts the drop
    if (a.count == 0) {
      a.sum = grad.DeepCopy();
    } else {
      OP_REQUIRES(ctx, a.sum.shape() == grad.shape(),
                  absl::InvalidArgumentError(absl::StrCat(
                      "accumulator '", HandleName(ctx), "' sums gradients of shape ",
                      a.sum.shape().DebugString(), ", got ", grad.shape().DebugString())));
      float* dst = a.sum.data<float>();
      const float* src = grad.data<float>();
      for (int64_t i = 0; i < grad.NumElements(); ++i) dst[i] += src[i];
    }
    ++a.count;
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("AccumulatorApplyGradient"), AccumulatorApplyGradientOp);

class AccumulatorTakeGradientOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    auto acc = Lookup<GradientAccumulatorResource>(ctx);
    OP_REQUIRES_OK(ctx, acc.status());
    GradientAccumulatorResource& a = **acc;
    std::lock_guard<std::mutex> lock(a.mu);
    OP_REQUIRES(ctx, a.count > 0,
                absl::FailedPreconditionError(absl::StrCat("accumulator '", HandleName(ctx),
                                                           "' holds no gradient for step ", a.step,
                                                           " (take only after the sync barrier)")));
    Tensor mean = std::move(a.sum);
    const float scale = 1.0f / static_cast<float>(a.count);
    float* m = mean.data<float>();
    for (int64_t i = 0; i < mean.NumElements(); ++i) m[i] *= scale;
    a.sum = Tensor();
    a.count = 0;
    ++a.step;
    ctx->set_output(0, std::move(mean));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("AccumulatorTakeGradient"), AccumulatorTakeGradientOp);

class SyncBarrierArriveOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    auto barrier = Lookup<SyncBarrierResource>(ctx);
    OP_REQUIRES_OK(ctx, barrier.status());
    const int64_t local_step = ctx->input(1).data<int64_t>()[0];
    const int32_t replica = ctx->input(2).data<int32_t>()[0];
    SyncBarrierResource& b = **barrier;
    {
      std::lock_guard<std::mutex> lock(b.mu);
      if (local_step < b.step) {
        ++b.dropped;
        return;
      }
      b.arrived.insert(replica);
      ++b.count;
    }
    b.cv.notify_all();
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("SyncBarrierArrive"), SyncBarrierArriveOp);

// Runs `wait` (which blocks) on a thread of its own and completes the kernel
// with what it returns.
void WaitOffThread(OpKernelContext* ctx, std::function<void()> done,
                   std::function<absl::StatusOr<Tensor>()> wait) {
  std::thread([ctx, done = std::move(done), wait = std::move(wait)] {
    absl::StatusOr<Tensor> value = wait();
    if (value.ok()) {
      ctx->set_output(0, *std::move(value));
    } else {
      ctx->SetStatus(value.status());
    }
    done();
  }).detach();
}

template <typename Pred>
bool WaitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, int64_t timeout_ms,
             Pred ready) {
  if (timeout_ms <= 0) {
    cv.wait(lock, ready);
    return true;
  }
  return cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready);
}

class SyncBarrierWaitOp : public AsyncOpKernel {
 public:
  explicit SyncBarrierWaitOp(OpKernelConstruction* c) : AsyncOpKernel(c) {
    OP_ATTR(c, int64_t, "timeout_ms", timeout_ms_);
  }
  void ComputeAsync(OpKernelContext* ctx, std::function<void()> done) override {
    auto barrier = Lookup<SyncBarrierResource>(ctx);
    if (!barrier.ok()) {
      ctx->SetStatus(barrier.status());
      done();
      return;
    }
    const int64_t required = ctx->input(1).data<int32_t>()[0];
    const std::string name = HandleName(ctx);
    WaitOffThread(
        ctx, std::move(done),
        [b = *barrier, required, name, timeout = timeout_ms_]() -> absl::StatusOr<Tensor> {
          std::unique_lock<std::mutex> lock(b->mu);
          if (!WaitFor(b->cv, lock, timeout, [&] { return b->closed || b->count >= required; })) {
            std::vector<int32_t> missing;
            for (int32_t r = 0; r < b->total_replicas; ++r)
              if (!b->arrived.count(r)) missing.push_back(r);
            return absl::DeadlineExceededError(
                absl::StrCat("sync barrier '", name, "': ", b->count, " of the ", required,
                             " gradients needed for step ", b->step, " arrived within ", timeout,
                             " ms; nothing yet from replica(s) ", absl::StrJoin(missing, ", "),
                             " (worker task indices; is a worker down?)"));
          }
          if (b->closed)
            return absl::CancelledError(absl::StrCat("sync barrier '", name, "' closed"));
          Tensor closed = Tensor::Scalar<int64_t>(b->step);
          ++b->step;
          b->count = 0;
          b->arrived.clear();
          return closed;
        });
  }

 private:
  int64_t timeout_ms_ = 0;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("SyncBarrierWait"), SyncBarrierWaitOp);

template <typename T>
class CloseOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    auto resource = Lookup<T>(ctx);
    OP_REQUIRES_OK(ctx, resource.status());
    {
      std::lock_guard<std::mutex> lock((*resource)->mu);
      (*resource)->closed = true;
    }
    (*resource)->cv.notify_all();
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("SyncBarrierClose"), CloseOp<SyncBarrierResource>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("SyncStepClose"), CloseOp<SyncStepNoticeResource>);

class SyncBarrierNumDroppedOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    auto barrier = Lookup<SyncBarrierResource>(ctx);
    OP_REQUIRES_OK(ctx, barrier.status());
    std::lock_guard<std::mutex> lock((*barrier)->mu);
    ctx->set_output(0, Tensor::Scalar<int64_t>((*barrier)->dropped));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("SyncBarrierNumDropped"), SyncBarrierNumDroppedOp);

class SyncStepPublishOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    auto notice = Lookup<SyncStepNoticeResource>(ctx);
    OP_REQUIRES_OK(ctx, notice.status());
    {
      std::lock_guard<std::mutex> lock((*notice)->mu);
      (*notice)->published = std::max((*notice)->published, ctx->input(1).data<int64_t>()[0]);
    }
    (*notice)->cv.notify_all();
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("SyncStepPublish"), SyncStepPublishOp);

class SyncStepWaitNewerOp : public AsyncOpKernel {
 public:
  explicit SyncStepWaitNewerOp(OpKernelConstruction* c) : AsyncOpKernel(c) {
    OP_ATTR(c, int64_t, "timeout_ms", timeout_ms_);
  }
  void ComputeAsync(OpKernelContext* ctx, std::function<void()> done) override {
    auto notice = Lookup<SyncStepNoticeResource>(ctx);
    if (!notice.ok()) {
      ctx->SetStatus(notice.status());
      done();
      return;
    }
    const int64_t local_step = ctx->input(1).data<int64_t>()[0];
    WaitOffThread(ctx, std::move(done),
                  [n = *notice, local_step, timeout = timeout_ms_]() -> absl::StatusOr<Tensor> {
                    std::unique_lock<std::mutex> lock(n->mu);
                    if (!WaitFor(n->cv, lock, timeout,
                                 [&] { return n->closed || n->published > local_step; })) {
                      return absl::DeadlineExceededError(
                          absl::StrCat("no update of sync step ", local_step, " within ", timeout,
                                       " ms: is the chief, or another worker it waits for, down?"));
                    }
                    if (n->published <= local_step) {
                      return absl::OutOfRangeError(absl::StrCat(
                          "the chief ended the synchronous training at sync step ", n->published));
                    }
                    return Tensor::Scalar<int64_t>(n->published);
                  });
  }

 private:
  int64_t timeout_ms_ = 0;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("SyncStepWaitNewer"), SyncStepWaitNewerOp);

// Note [Staleness clock]
// The table holds each replica's completed steps and whether it finished.
// A replica's lead is its clock minus the smallest clock among the unfinished
// replicas and itself, so it is never negative and the slowest unfinished
// replica never waits: some replica can always make progress, and waits end
// only by others' progress, a finish, a close or the deadline. Every change of
// a clock or a finish wakes all waiters to look again (few replicas, rare
// waits: simpler than waking exactly the ones a change lets through).
class StalenessClockResource : public WaitableResource {
 public:
  explicit StalenessClockResource(int64_t n) : num_replicas(n), clocks(n, 0), finished(n, false) {}
  std::string DebugString() const override {
    return absl::StrCat("staleness clock of ", num_replicas, " replicas");
  }
  // REQUIRES: mu held.
  int64_t LeadLocked(int32_t replica) const {
    int64_t slowest = clocks[replica];
    for (int64_t r = 0; r < num_replicas; ++r)
      if (!finished[r]) slowest = std::min(slowest, clocks[r]);
    return clocks[replica] - slowest;
  }
  const int64_t num_replicas;
  std::vector<int64_t> clocks;  // steps each replica completed; protected by mu
  std::vector<bool> finished;   // replicas that ended their training; protected by mu
};

class StalenessClockOp : public OpKernel {
 public:
  explicit StalenessClockOp(OpKernelConstruction* c) : OpKernel(c) {
    std::string shared_name;
    OP_ATTR(c, std::string, "shared_name", shared_name);
    OP_ATTR(c, int64_t, "num_replicas", num_replicas_);
    if (num_replicas_ < 1) {
      c->SetStatus(absl::InvalidArgumentError(absl::StrCat(
          "staleness clock: num_replicas is ", num_replicas_, "; it must be at least 1")));
      return;
    }
    handle_ = Tensor(DType::kResource, TensorShape{});
    handle_.data<ResourceHandle>()[0] = ResourceHandle{
        c->device()->name(), "", shared_name.empty() ? c->node().name() : shared_name};
  }
  void Compute(OpKernelContext* ctx) override {
    const ResourceHandle& h = handle_.data<ResourceHandle>()[0];
    auto made = ctx->device()->resource_mgr()->LookupOrCreate<StalenessClockResource>(
        h.container, h.name,
        [&] { return std::make_shared<StalenessClockResource>(num_replicas_); });
    OP_REQUIRES_OK(ctx, made.status());
    OP_REQUIRES(ctx, (*made)->num_replicas == num_replicas_,
                absl::InvalidArgumentError(absl::StrCat(
                    "staleness clock '", h.name, "' keeps the clocks of ", (*made)->num_replicas,
                    " replicas, but this graph asks for ", num_replicas_,
                    " (every worker must be given the same number of replicas)")));
    ctx->set_output(0, handle_);
  }
  bool IsExpensive() const override { return false; }

 private:
  Tensor handle_;
  int64_t num_replicas_ = 1;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("StalenessClock"), StalenessClockOp);

// The table and the replica (input 1) of a clock op, range-checked.
absl::StatusOr<std::pair<std::shared_ptr<StalenessClockResource>, int32_t>> ClockAndReplica(
    OpKernelContext* ctx) {
  auto clock = Lookup<StalenessClockResource>(ctx);
  if (!clock.ok()) return clock.status();
  const int32_t replica = ctx->input(1).data<int32_t>()[0];
  if (replica < 0 || replica >= (*clock)->num_replicas) {
    return absl::InvalidArgumentError(absl::StrCat("staleness clock '", HandleName(ctx),
                                                   "': replica ", replica, " is outside [0, ",
                                                   (*clock)->num_replicas, ")"));
  }
  return std::make_pair(*std::move(clock), replica);
}

std::string FormatWait(int64_t ms) {
  if (ms < 1000) return absl::StrCat(ms, " ms");
  if (ms % 1000 == 0) return absl::StrCat(ms / 1000, " s");
  return absl::StrFormat("%.1f s", static_cast<double>(ms) / 1000.0);
}

// Names the unfinished replicas that hold `replica` back. REQUIRES: mu held.
std::string StalenessTimeoutMessage(const StalenessClockResource& c, int32_t replica,
                                    int64_t max_staleness, int64_t timeout_ms) {
  constexpr int kMaxNamed = 8;
  const int64_t mine = c.clocks[replica];
  std::vector<std::string> behind;
  int unnamed = 0;
  for (int64_t r = 0; r < c.num_replicas; ++r) {
    if (r == replica || c.finished[r] || mine - c.clocks[r] <= max_staleness) continue;
    if (behind.size() < kMaxNamed) {
      behind.push_back(absl::StrCat("replica ", r, " is at step ", c.clocks[r]));
    } else {
      ++unnamed;
    }
  }
  if (unnamed > 0) behind.push_back(absl::StrCat("and ", unnamed, " more"));
  return absl::StrCat("bounded staleness: replica ", replica, " is at step ", mine,
                      " and may run at most ", max_staleness,
                      max_staleness == 1 ? " step" : " steps", " ahead, but ",
                      absl::StrJoin(behind, ", "), "; waited ", FormatWait(timeout_ms),
                      " (is a worker down? a worker that ends its training must mark itself "
                      "finished)");
}

absl::Status StalenessClosedError(int32_t replica, int64_t clock) {
  return absl::CancelledError(absl::StrCat(
      "bounded staleness: the clock table was closed (replica ", replica, " at step ", clock, ")"));
}

class StalenessClockAdvanceOp : public AsyncOpKernel {
 public:
  explicit StalenessClockAdvanceOp(OpKernelConstruction* c) : AsyncOpKernel(c) {
    OP_ATTR(c, int64_t, "max_staleness", max_staleness_);
    OP_ATTR(c, int64_t, "timeout_ms", timeout_ms_);
    if (max_staleness_ < 0) {
      c->SetStatus(absl::InvalidArgumentError(
          absl::StrCat("staleness clock: max_staleness is ", max_staleness_, "; it must be >= 0")));
    }
  }
  void ComputeAsync(OpKernelContext* ctx, std::function<void()> done) override {
    auto found = ClockAndReplica(ctx);
    if (!found.ok()) {
      ctx->SetStatus(found.status());
      done();
      return;
    }
    std::shared_ptr<StalenessClockResource> c = std::move(found->first);
    const int32_t replica = found->second;
    // Usually nobody is that far behind: answer here without a waiter thread.
    std::optional<absl::StatusOr<Tensor>> now;
    {
      std::lock_guard<std::mutex> lock(c->mu);
      ++c->clocks[replica];
      c->finished[replica] = false;  // a finished worker that came back
      if (c->closed) {
        now = StalenessClosedError(replica, c->clocks[replica]);
      } else if (int64_t lead = c->LeadLocked(replica); lead <= max_staleness_) {
        now = Tensor::Scalar<int64_t>(lead);
      }
    }
    c->cv.notify_all();  // this advance may let others through
    if (now.has_value()) {
      if (now->ok()) {
        ctx->set_output(0, **std::move(now));
      } else {
        ctx->SetStatus(now->status());
      }
      done();
      return;
    }
    WaitOffThread(ctx, std::move(done),
                  [c, replica, max_staleness = max_staleness_,
                   timeout = timeout_ms_]() -> absl::StatusOr<Tensor> {
                    std::unique_lock<std::mutex> lock(c->mu);
                    if (!WaitFor(c->cv, lock, timeout, [&] {
                          return c->closed || c->LeadLocked(replica) <= max_staleness;
                        })) {
                      return absl::DeadlineExceededError(
                          StalenessTimeoutMessage(*c, replica, max_staleness, timeout));
                    }
                    if (c->closed) return StalenessClosedError(replica, c->clocks[replica]);
                    return Tensor::Scalar<int64_t>(c->LeadLocked(replica));
                  });
  }

 private:
  int64_t max_staleness_ = 0;
  int64_t timeout_ms_ = 0;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("StalenessClockAdvance"), StalenessClockAdvanceOp);

class StalenessClockFinishOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    auto found = ClockAndReplica(ctx);
    OP_REQUIRES_OK(ctx, found.status());
    StalenessClockResource& c = *found->first;
    {
      std::lock_guard<std::mutex> lock(c.mu);
      c.finished[found->second] = true;
    }
    c.cv.notify_all();
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("StalenessClockFinish"), StalenessClockFinishOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("StalenessClockClose"), CloseOp<StalenessClockResource>);

class StalenessClockValuesOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    auto clock = Lookup<StalenessClockResource>(ctx);
    OP_REQUIRES_OK(ctx, clock.status());
    std::lock_guard<std::mutex> lock((*clock)->mu);
    ctx->set_output(0, Tensor::FromVector((*clock)->clocks));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("StalenessClockValues"), StalenessClockValuesOp);

}  // namespace
}  // namespace braid
