// Kernels of the runtime-inserted ops: _Feed/_Fetch (caller <-> step) and
// _Send/_Recv (device <-> device through the step's rendezvous).
#include "absl/strings/str_cat.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

class FeedOp : public OpKernel {
 public:
  explicit FeedOp(OpKernelConstruction* c) : OpKernel(c) { OP_ATTR(c, int64_t, "index", index_); }
  void Compute(OpKernelContext* ctx) override {
    CallFrame* frame = ctx->step().call_frame;
    OP_REQUIRES(ctx, frame != nullptr && index_ < static_cast<int64_t>(frame->num_feeds()),
                absl::InternalError(absl::StrCat("no feed ", index_, " in this step")));
    ctx->set_output(0, frame->feed(index_));
  }
  bool IsExpensive() const override { return false; }

 private:
  int64_t index_ = 0;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("_Feed"), FeedOp);

class FetchOp : public OpKernel {
 public:
  explicit FetchOp(OpKernelConstruction* c) : OpKernel(c) { OP_ATTR(c, int64_t, "index", index_); }
  void Compute(OpKernelContext* ctx) override {
    CallFrame* frame = ctx->step().call_frame;
    OP_REQUIRES(ctx, frame != nullptr && index_ < static_cast<int64_t>(frame->num_fetches()),
                absl::InternalError(absl::StrCat("no fetch slot ", index_, " in this step")));
    frame->set_fetch(index_, ctx->release_input(0));
  }
  bool IsExpensive() const override { return false; }

 private:
  int64_t index_ = 0;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("_Fetch"), FetchOp);

// The rendezvous key both ends of one edge compute from the same attrs.
std::string EdgeKey(OpKernelConstruction* c) {
  auto src = c->GetAttr<std::string>("send_device");
  auto inc = c->GetAttr<int64_t>("send_device_incarnation");
  auto dst = c->GetAttr<std::string>("recv_device");
  auto name = c->GetAttr<std::string>("tensor_name");
  for (const absl::Status& s : {src.status(), inc.status(), dst.status(), name.status()}) {
    if (!s.ok()) {
      c->SetStatus(s);
      return "";
    }
  }
  return Rendezvous::CreateKey(*src, static_cast<uint64_t>(*inc), *dst, *name);
}

class SendOp : public OpKernel {
 public:
  explicit SendOp(OpKernelConstruction* c) : OpKernel(c), key_(EdgeKey(c)) {}
  void Compute(OpKernelContext* ctx) override {
    Rendezvous* r = ctx->step().rendezvous;
    OP_REQUIRES(ctx, r != nullptr, absl::InternalError("_Send outside a step with a rendezvous"));
    OP_REQUIRES_OK(ctx, r->Send(key_, ctx->release_input(0)));
  }
  bool IsExpensive() const override { return false; }

 private:
  const std::string key_;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("_Send"), SendOp);

class RecvOp : public AsyncOpKernel {
 public:
  explicit RecvOp(OpKernelConstruction* c) : AsyncOpKernel(c), key_(EdgeKey(c)) {}
  void ComputeAsync(OpKernelContext* ctx, std::function<void()> done) override {
    Rendezvous* r = ctx->step().rendezvous;
    if (r == nullptr) {
      ctx->SetStatus(absl::InternalError("_Recv outside a step with a rendezvous"));
      done();
      return;
    }
    r->RecvAsync(key_, [ctx, done = std::move(done)](const absl::Status& s, const Tensor& t) {
      if (s.ok()) {
        ctx->set_output(0, t);
      } else {
        ctx->SetStatus(s);
      }
      done();
    });
  }

 private:
  const std::string key_;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("_Recv"), RecvOp);

}  // namespace
}  // namespace braid
