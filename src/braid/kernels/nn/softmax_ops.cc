// Softmax, LogSoftmax and SparseSoftmaxCrossEntropyWithLogits over the last
// axis, through oneDNN's (max-subtracting) softmax and logsoftmax primitives.
#include "braid/kernels/nn/dnnl_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid::nn {
namespace {

// Softmax (log = false) or LogSoftmax (log = true) over axis 1 of [rows, cols].
DnnlPrimitive MakeSoftmax(bool log, const memory::desc& md, const dnnl::engine& engine) {
  const auto prop = dnnl::prop_kind::forward_inference;
  if (log) {
    return MakePrimitive<dnnl::logsoftmax_forward>(dnnl::logsoftmax_forward::primitive_desc(
        dnnl::logsoftmax_forward::desc(prop, md, 1), CachedPrimitiveAttr(), engine));
  }
  return MakePrimitive<dnnl::softmax_forward>(dnnl::softmax_forward::primitive_desc(
      dnnl::softmax_forward::desc(prop, md, 1), CachedPrimitiveAttr(), engine));
}

template <bool kLog>
class SoftmaxOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& logits = ctx->input(0);
    OP_REQUIRES(ctx, logits.rank() >= 1,
                absl::InvalidArgumentError(
                    absl::StrCat("logits must have rank at least 1, got ", ShapeString(logits))));
    const int64_t cols = logits.dim(logits.rank() - 1);
    const int64_t rows = cols == 0 ? 0 : logits.NumElements() / cols;
    Tensor* out = ctx->forward_input_or_allocate_output(0, 0, logits.shape());
    if (out->NumElements() == 0) return;
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    auto entry = cache_.Get({rows, cols}, [&] {
      Entry e;
      e.md = F32RowMajor({rows, cols});
      e.prim = MakeSoftmax(kLog, e.md, engine);
      return e;
    });
    OP_REQUIRES_OK(ctx, entry.status());
    const Entry& e = **entry;
    OP_REQUIRES_OK(ctx, Execute(engine, e.prim,
                                {{DNNL_ARG_SRC, Wrap(e.md, engine, logits)},
                                 {DNNL_ARG_DST, Wrap(e.md, engine, *out)}}));
  }

 private:
  struct Entry {
    memory::desc md;
    DnnlPrimitive prim;
  };
  PrimitiveCache<Entry> cache_;
};

// loss[i] = -log_softmax(features)[i, label[i]] and
// backprop = softmax(features) - one_hot(labels): one logsoftmax, then exp in
// place.
template <typename Label>
class SparseSoftmaxXentOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& features = ctx->input(0);
    const Tensor& labels = ctx->input(1);
    OP_REQUIRES(ctx, features.rank() == 2 && labels.rank() == 1 && labels.dim(0) == features.dim(0),
                absl::InvalidArgumentError(absl::StrCat(
                    "features must be [batch, classes] and labels [batch], got features ",
                    ShapeString(features), " and labels ", ShapeString(labels))));
    const int64_t batch = features.dim(0);
    const int64_t classes = features.dim(1);
    const Label* label = labels.data<Label>();
    for (int64_t i = 0; i < batch; ++i) {
      OP_REQUIRES(ctx, label[i] >= 0 && label[i] < classes,
                  absl::InvalidArgumentError(absl::StrCat("label ", label[i], " at row ", i,
                                                          " is outside the valid range [0, ",
                                                          classes, ")")));
    }
    Tensor* loss = ctx->allocate_output(0, TensorShape{batch});
    Tensor* backprop = ctx->allocate_output(1, TensorShape{batch, classes});
    if (batch == 0) return;
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    auto entry = cache_.Get({batch, classes}, [&] {
      Entry e;
      e.md = F32RowMajor({batch, classes});
      e.flat = F32RowMajor({batch * classes});
      e.log_softmax = MakeSoftmax(/*log=*/true, e.md, engine);
      e.exp = MakePrimitive<dnnl::eltwise_forward>(dnnl::eltwise_forward::primitive_desc(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::eltwise_exp, e.flat, 0.f, 0.f),
          CachedPrimitiveAttr(), engine));
      return e;
    });
    OP_REQUIRES_OK(ctx, entry.status());
    const Entry& e = **entry;
    OP_REQUIRES_OK(ctx, Execute(engine, e.log_softmax,
                                {{DNNL_ARG_SRC, Wrap(e.md, engine, features)},
                                 {DNNL_ARG_DST, Wrap(e.md, engine, *backprop)}}));
    float* bp = backprop->data<float>();
    float* l = loss->data<float>();
    for (int64_t i = 0; i < batch; ++i) l[i] = -bp[i * classes + label[i]];
    memory flat = Wrap(e.flat, engine, *backprop);
    OP_REQUIRES_OK(ctx, Execute(engine, e.exp, {{DNNL_ARG_SRC, flat}, {DNNL_ARG_DST, flat}}));
    for (int64_t i = 0; i < batch; ++i) bp[i * classes + label[i]] -= 1.f;
  }

 private:
  struct Entry {
    memory::desc md, flat;
    DnnlPrimitive log_softmax, exp;
  };
  PrimitiveCache<Entry> cache_;
};

BRAID_REGISTER_KERNEL(KernelDefBuilder("Softmax").TypeConstraint<float>("T"), SoftmaxOp<false>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("LogSoftmax").TypeConstraint<float>("T"), SoftmaxOp<true>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("SparseSoftmaxCrossEntropyWithLogits")
                          .TypeConstraint<float>("T")
                          .TypeConstraint<int32_t>("Tlabels"),
                      SparseSoftmaxXentOp<int32_t>);
BRAID_REGISTER_KERNEL(KernelDefBuilder("SparseSoftmaxCrossEntropyWithLogits")
                          .TypeConstraint<float>("T")
                          .TypeConstraint<int64_t>("Tlabels"),
                      SparseSoftmaxXentOp<int64_t>);

}  // namespace
}  // namespace braid::nn
