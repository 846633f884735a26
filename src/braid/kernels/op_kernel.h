// The kernel interface. A kernel is one op's computation for one device type
// (and dtype), created once per node when an executor is built and then run
// every step. Kernels report errors on their context and must be thread-safe:
// steps may overlap.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "braid/graph/graph.h"
#include "braid/kernels/rendezvous.h"
#include "braid/kernels/resource_mgr.h"
#include "braid/tensor/tensor.h"

namespace dnnl {
struct engine;
}

namespace braid {

class OpStats;  // kernels/op_stats.h; only the executor records into it

// What a kernel knows of the device it runs on.
class DeviceBase {
 public:
  virtual ~DeviceBase() = default;
  // Full name, e.g. /job:localhost/replica:0/task:0/device:CPU:0.
  virtual const std::string& name() const = 0;
  virtual const std::string& device_type() const = 0;  // "CPU"
  virtual ResourceMgr* resource_mgr() = 0;
  // The oneDNN engine of a CPU device.
  virtual dnnl::engine& dnnl_engine() = 0;
  // Distinguishes this process's device from an earlier incarnation of it.
  virtual uint64_t incarnation() const = 0;
};

// Feeds given to and fetches returned from one step; filled by _Feed/_Fetch.
class CallFrame {
 public:
  CallFrame(std::vector<Tensor> feeds, size_t num_fetches)
      : feeds_(std::move(feeds)), fetches_(num_fetches) {}
  const Tensor& feed(size_t i) const { return feeds_[i]; }
  size_t num_feeds() const { return feeds_.size(); }
  void set_fetch(size_t i, Tensor t) {
    std::lock_guard<std::mutex> lock(mu_);
    fetches_[i] = std::move(t);
  }
  size_t num_fetches() const { return fetches_.size(); }
  std::vector<Tensor> TakeFetches() { return std::move(fetches_); }

 private:
  std::vector<Tensor> feeds_;
  std::mutex mu_;
  std::vector<Tensor> fetches_;  // protected by mu_
};

class OpKernelConstruction {
 public:
  OpKernelConstruction(const Node& node, DeviceBase* device) : node_(node), device_(device) {}
  const Node& node() const { return node_; }
  DeviceBase* device() const { return device_; }
  template <typename T>
  absl::StatusOr<T> GetAttr(const std::string& name) const {
    absl::StatusOr<T> v = braid::GetAttr<T>(node_.attrs(), name);
    if (!v.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("node ", node_.DebugName(), ": ", v.status().message()));
    }
    return v;
  }
  void SetStatus(const absl::Status& s) {
    if (status_.ok()) status_ = s;
  }
  const absl::Status& status() const { return status_; }

 private:
  const Node& node_;
  DeviceBase* device_;
  absl::Status status_;
};

// Per-step services every kernel invocation sees.
struct StepContext {
  int64_t step_id = 0;
  Rendezvous* rendezvous = nullptr;
  CallFrame* call_frame = nullptr;
  // When set, the executor times every kernel into it (profiling).
  OpStats* op_stats = nullptr;
};

class OpKernelContext {
 public:
  OpKernelContext(const Node& node, DeviceBase* device, const StepContext* step,
                  std::vector<Tensor>* inputs)
      : node_(node), device_(device), step_(step), inputs_(inputs),
        outputs_(node.num_outputs()) {}

  const Node& node() const { return node_; }
  DeviceBase* device() const { return device_; }
  const StepContext& step() const { return *step_; }
  int num_inputs() const { return static_cast<int>(inputs_->size()); }
  const Tensor& input(int i) const { return (*inputs_)[i]; }
  // Moves input i out (the kernel then owns the only reference if nobody
  // else holds one).
  Tensor release_input(int i) { return std::move((*inputs_)[i]); }

  void set_output(int i, Tensor t) { outputs_[i] = std::move(t); }
  Tensor* allocate_output(int i, const TensorShape& shape) {
    outputs_[i] = Tensor(node_.output_dtype(i), shape);
    return &outputs_[i];
  }
  // Reuses input `in`'s buffer for output `out` when this kernel holds the only
  // reference and dtype and size agree; allocates otherwise.
  Tensor* forward_input_or_allocate_output(int in, int out, const TensorShape& shape);
  std::vector<Tensor>& outputs() { return outputs_; }

  void SetStatus(const absl::Status& s) {
    if (status_.ok()) status_ = s;
  }
  const absl::Status& status() const { return status_; }
  // An InvalidArgument error (the node name is added by the executor).
  void Fail(absl::string_view message) { SetStatus(absl::InvalidArgumentError(message)); }

 private:
  const Node& node_;
  DeviceBase* device_;
  const StepContext* step_;
  std::vector<Tensor>* inputs_;
  std::vector<Tensor> outputs_;
  absl::Status status_;
};

class OpKernel {
 public:
  explicit OpKernel(OpKernelConstruction* ctx) : node_(ctx->node()) {}
  virtual ~OpKernel() = default;
  virtual void Compute(OpKernelContext* ctx) = 0;
  virtual bool IsAsync() const { return false; }
  // Async kernels (Recv) call `done` when finished, on any thread.
  virtual void ComputeAsync(OpKernelContext* ctx, std::function<void()> done) {
    Compute(ctx);
    done();
  }
  // True when the kernel is cheap enough to run inline on the scheduling thread.
  virtual bool IsExpensive() const { return true; }
  const Node& node() const { return node_; }

 private:
  const Node& node_;
};

class AsyncOpKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  bool IsAsync() const final { return true; }
  void Compute(OpKernelContext*) final {}
  void ComputeAsync(OpKernelContext* ctx, std::function<void()> done) override = 0;
};

using KernelFactory = std::function<std::unique_ptr<OpKernel>(OpKernelConstruction*)>;

struct KernelDef {
  std::string op;
  std::string device_type = "CPU";
  // attr name -> required dtype
  std::vector<std::pair<std::string, DType>> type_constraints;
};

class KernelDefBuilder {
 public:
  explicit KernelDefBuilder(std::string op) { def_.op = std::move(op); }
  KernelDefBuilder& Device(std::string type) {
    def_.device_type = std::move(type);
    return *this;
  }
  template <typename T>
  KernelDefBuilder& TypeConstraint(const std::string& attr) {
    def_.type_constraints.emplace_back(attr, DTypeOf<T>::value);
    return *this;
  }
  KernelDefBuilder& TypeConstraint(const std::string& attr, DType t) {
    def_.type_constraints.emplace_back(attr, t);
    return *this;
  }
  KernelDef Build() && { return std::move(def_); }

 private:
  KernelDef def_;
};

class KernelRegistry {
 public:
  static KernelRegistry* Global();
  void Register(KernelDef def, KernelFactory factory);
  // True when some kernel for `node` exists on `device_type`.
  bool Supports(const Node& node, const std::string& device_type) const;
  // Creates the kernel for `node`; errors name the node and what no kernel
  // supports (op, device, dtype attrs), or the kernel's construction error.
  absl::StatusOr<std::unique_ptr<OpKernel>> CreateKernel(const Node& node,
                                                         DeviceBase* device) const;

 private:
  const KernelFactory* Find(const Node& node, const std::string& device_type) const;
  std::vector<std::pair<KernelDef, KernelFactory>> kernels_;
};

namespace internal {
struct KernelRegistrar {
  KernelRegistrar(KernelDefBuilder b, KernelFactory f) {
    KernelRegistry::Global()->Register(std::move(b).Build(), std::move(f));
  }
};
}  // namespace internal

// BRAID_REGISTER_KERNEL(KernelDefBuilder("Add").TypeConstraint<float>("T"), AddOp<float>);
#define BRAID_REGISTER_KERNEL(builder, ...) \
  BRAID_REGISTER_KERNEL_UNIQ(__COUNTER__, builder, __VA_ARGS__)
#define BRAID_REGISTER_KERNEL_UNIQ(ctr, builder, ...) \
  BRAID_REGISTER_KERNEL_UNIQ2(ctr, builder, __VA_ARGS__)
#define BRAID_REGISTER_KERNEL_UNIQ2(ctr, builder, ...)                                  \
  [[maybe_unused]] static ::braid::internal::KernelRegistrar braid_kernel_registrar_##ctr( \
      builder, [](::braid::OpKernelConstruction* c) -> std::unique_ptr<::braid::OpKernel> { \
        return std::make_unique<__VA_ARGS__>(c);                                        \
      })

// Kernel-side error checks: on failure set the status and return.
#define OP_REQUIRES(ctx, cond, status) \
  do {                                 \
    if (!(cond)) {                     \
      (ctx)->SetStatus(status);        \
      return;                          \
    }                                  \
  } while (0)
#define OP_REQUIRES_OK(ctx, expr)      \
  do {                                 \
    ::absl::Status braid_s_ = (expr);  \
    if (!braid_s_.ok()) {              \
      (ctx)->SetStatus(braid_s_);      \
      return;                          \
    }                                  \
  } while (0)
// Assigns an attr in a kernel constructor, or records the error and returns.
#define OP_ATTR(ctx, type, name, var)              \
  do {                                             \
    auto braid_v_ = (ctx)->GetAttr<type>(name);    \
    if (!braid_v_.ok()) {                          \
      (ctx)->SetStatus(braid_v_.status());         \
      return;                                      \
    }                                              \
    var = *braid_v_;                               \
  } while (0)

}  // namespace braid
