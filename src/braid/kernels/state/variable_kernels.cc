#include "braid/kernels/state/variable_kernels.h"

#include "absl/strings/str_cat.h"

namespace braid {

absl::StatusOr<std::shared_ptr<VariableResource>> LookupVariable(OpKernelContext* ctx, int index) {
  const Tensor& t = ctx->input(index);
  if (t.dtype() != DType::kResource || t.NumElements() != 1) {
    return absl::InvalidArgumentError("expected a scalar resource handle");
  }
  const ResourceHandle& h = t.data<ResourceHandle>()[0];
  if (h.device != ctx->device()->name()) {
    return absl::InvalidArgumentError(absl::StrCat("variable '", h.name, "' lives on ", h.device,
                                                   " but this op runs on ",
                                                   ctx->device()->name()));
  }
  return ctx->device()->resource_mgr()->Lookup<VariableResource>(h.container, h.name);
}

absl::Status UninitializedError(const OpKernelContext* ctx, int index) {
  const ResourceHandle& h = ctx->input(index).data<ResourceHandle>()[0];
  return absl::FailedPreconditionError(absl::StrCat(
      "variable '", h.name, "' is not initialized; run its initializer first (e.g. the op from "
      "ops::GlobalVariablesInitializer)"));
}

namespace {

class VarHandleOp : public OpKernel {
 public:
  explicit VarHandleOp(OpKernelConstruction* c) : OpKernel(c) {
    OP_ATTR(c, DType, "dtype", dtype_);
    OP_ATTR(c, TensorShape, "shape", shape_);
    std::string shared_name, container;
    OP_ATTR(c, std::string, "shared_name", shared_name);
    OP_ATTR(c, std::string, "container", container);
    handle_ = Tensor(DType::kResource, TensorShape{});
    handle_.data<ResourceHandle>()[0] =
        ResourceHandle{c->device()->name(), container,
                       shared_name.empty() ? c->node().name() : shared_name};
  }
  void Compute(OpKernelContext* ctx) override {
    const ResourceHandle& h = handle_.data<ResourceHandle>()[0];
    auto var = ctx->device()->resource_mgr()->LookupOrCreate<VariableResource>(
        h.container, h.name, [&] { return std::make_shared<VariableResource>(dtype_, shape_); });
    OP_REQUIRES_OK(ctx, var.status());
    OP_REQUIRES(ctx, (*var)->dtype() == dtype_,
                absl::InvalidArgumentError(absl::StrCat(
                    "variable '", h.name, "' already exists with dtype ",
                    DTypeName((*var)->dtype()), ", this handle declares ", DTypeName(dtype_))));
    ctx->set_output(0, handle_);
  }
  bool IsExpensive() const override { return false; }

 private:
  DType dtype_ = DType::kInvalid;
  TensorShape shape_;
  Tensor handle_;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("VarHandleOp"), VarHandleOp);

class ReadVariableOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    auto var = LookupVariable(ctx, 0);
    OP_REQUIRES_OK(ctx, var.status());
    std::lock_guard<std::mutex> lock((*var)->mu());
    OP_REQUIRES(ctx, (*var)->initialized(), UninitializedError(ctx, 0));
    ctx->set_output(0, *(*var)->tensor());
  }
  bool IsExpensive() const override { return false; }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("ReadVariableOp"), ReadVariableOp);

class VarIsInitializedOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    auto var = LookupVariable(ctx, 0);
    bool initialized = false;
    if (var.ok()) {
      std::lock_guard<std::mutex> lock((*var)->mu());
      initialized = (*var)->initialized();
    }
    ctx->set_output(0, Tensor::Scalar(initialized));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("VarIsInitializedOp"), VarIsInitializedOp);

enum class AssignMode { kSet, kAdd, kSub };

template <AssignMode kMode>
class AssignVariableOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    auto var = LookupVariable(ctx, 0);
    OP_REQUIRES_OK(ctx, var.status());
    Tensor value = ctx->release_input(1);
    VariableResource& v = **var;
    const std::string& name = ctx->input(0).data<ResourceHandle>()[0].name;
    OP_REQUIRES(ctx, v.declared_shape().IsCompatibleWith(value.shape()),
                absl::InvalidArgumentError(absl::StrCat(
                    "cannot assign a value of shape ", value.shape().DebugString(),
                    " to variable '", name, "' of shape ", v.declared_shape().DebugString())));
    std::lock_guard<std::mutex> lock(v.mu());
    if constexpr (kMode == AssignMode::kSet) {
      *v.tensor() = std::move(value);
    } else {
      OP_REQUIRES(ctx, v.initialized(), UninitializedError(ctx, 0));
      Tensor* t = v.MutableTensor();
      OP_REQUIRES(ctx, t->shape() == value.shape(),
                  absl::InvalidArgumentError(absl::StrCat(
                      "variable '", name, "' has shape ", t->shape().DebugString(),
                      ", the update has shape ", value.shape().DebugString())));
      bool ok = DispatchDType<float, double, int32_t, int64_t>(t->dtype(), [&]<typename T>() {
        T* dst = t->data<T>();
        const T* src = value.data<T>();
        for (int64_t i = 0; i < t->NumElements(); ++i) {
          if constexpr (kMode == AssignMode::kAdd) dst[i] += src[i];
          else dst[i] -= src[i];
        }
      });
      OP_REQUIRES(ctx, ok, absl::InvalidArgumentError(absl::StrCat(
                               "cannot add to a variable of dtype ", DTypeName(t->dtype()))));
    }
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("AssignVariableOp"), AssignVariableOp<AssignMode::kSet>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("AssignAddVariableOp"), AssignVariableOp<AssignMode::kAdd>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("AssignSubVariableOp"), AssignVariableOp<AssignMode::kSub>);

}  // namespace
}  // namespace braid
