// MaxPool, AvgPool and their gradients through oneDNN pooling primitives over
// NHWC tensors in place; MaxPoolGrad and MaxPoolGradGrad are plain loops over
// the windows (below), and the training graph's pair _MaxPoolWithWorkspace /
// _MaxPoolGradWithWorkspace is oneDNN's forward and backward passes. AvgPool excludes
// padding from each average, which is TensorFlow's SAME semantics.
#include <algorithm>
#include <limits>

#include "braid/graph/ops/nn_op_util.h"
#include "braid/kernels/nn/dnnl_util.h"
#include "braid/kernels/op_kernel.h"
#include "braid/kernels/vector_loop.h"

namespace braid::nn {
namespace {

struct PoolGeometry {
  int64_t batch, in_h, in_w, channels;
  int64_t out_h, out_w;
  memory::dims strides, kernel, pad_l, pad_r;

  TensorShape input_shape() const { return TensorShape{batch, in_h, in_w, channels}; }
  TensorShape output_shape() const { return TensorShape{batch, out_h, out_w, channels}; }
  std::vector<int64_t> key() const { return {batch, in_h, in_w, channels}; }
  memory::desc src() const { return F32Nhwc(batch, channels, in_h, in_w); }
  memory::desc dst() const { return F32Nhwc(batch, channels, out_h, out_w); }
};

class PoolKernel : public OpKernel {
 public:
  explicit PoolKernel(OpKernelConstruction* ctx) : OpKernel(ctx) {
    absl::StatusOr<Window2DAttrs> attrs = ParsePool2DAttrs(ctx->node().attrs());
    if (!attrs.ok()) {
      ctx->SetStatus(attrs.status());
      return;
    }
    attrs_ = *attrs;
  }

 protected:
  absl::StatusOr<PoolGeometry> Geometry(const TensorShape& input) const {
    if (input.rank() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("input must be 4-D (NHWC), got ", input.DebugString()));
    }
    absl::StatusOr<Window2D> w =
        ComputeWindow2D(attrs_, input.dim(1), input.dim(2), attrs_.window[0], attrs_.window[1]);
    if (!w.ok()) return w.status();
    PoolGeometry g;
    g.batch = input.dim(0);
    g.in_h = input.dim(1);
    g.in_w = input.dim(2);
    g.channels = input.dim(3);
    g.out_h = w->h.out;
    g.out_w = w->w.out;
    g.strides = {attrs_.strides[0], attrs_.strides[1]};
    g.kernel = {attrs_.window[0], attrs_.window[1]};
    g.pad_l = {w->h.pad_before, w->w.pad_before};
    g.pad_r = {w->h.pad_after, w->w.pad_after};
    return g;
  }

  static dnnl::pooling_forward::primitive_desc ForwardPd(const PoolGeometry& g,
                                                         dnnl::prop_kind prop, dnnl::algorithm alg,
                                                         const dnnl::engine& engine) {
    return dnnl::pooling_forward::primitive_desc(
        dnnl::pooling_forward::desc(prop, alg, g.src(), g.dst(), g.strides, g.kernel, g.pad_l,
                                    g.pad_r),
        CachedPrimitiveAttr(), engine);
  }

  static dnnl::pooling_backward::primitive_desc BackwardPd(
      const PoolGeometry& g, dnnl::algorithm alg, const dnnl::engine& engine,
      const dnnl::pooling_forward::primitive_desc& hint) {
    return dnnl::pooling_backward::primitive_desc(
        dnnl::pooling_backward::desc(alg, g.src(), g.dst(), g.strides, g.kernel, g.pad_l, g.pad_r),
        CachedPrimitiveAttr(), engine, hint);
  }

  static absl::Status CheckPooledShape(const Tensor& t, const char* name, const PoolGeometry& g) {
    if (t.shape() != g.output_shape()) {
      return absl::InvalidArgumentError(absl::StrCat(name, " has shape ", ShapeString(t),
                                                     " but pooling ", g.input_shape().DebugString(),
                                                     " gives ", g.output_shape().DebugString()));
    }
    return absl::OkStatus();
  }

  Window2DAttrs attrs_;
};

// MaxPool (kAlg = pooling_max) and AvgPool (pooling_avg_exclude_padding).
template <dnnl::algorithm kAlg>
class PoolOp : public PoolKernel {
 public:
  using PoolKernel::PoolKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& input = ctx->input(0);
    absl::StatusOr<PoolGeometry> g = Geometry(input.shape());
    OP_REQUIRES_OK(ctx, g.status());
    Tensor* out = ctx->allocate_output(0, g->output_shape());
    if (out->NumElements() == 0) return;
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    auto entry = cache_.Get(g->key(), [&] {
      return MakePrimitive<dnnl::pooling_forward>(
          ForwardPd(*g, dnnl::prop_kind::forward_inference, kAlg, engine));
    });
    OP_REQUIRES_OK(ctx, entry.status());
    OP_REQUIRES_OK(ctx, Execute(engine, **entry,
                                {{DNNL_ARG_SRC, Wrap(g->src(), engine, input)},
                                 {DNNL_ARG_DST, Wrap(g->dst(), engine, *out)}}));
  }

 private:
  PrimitiveCache<DnnlPrimitive> cache_;
};

// Routes each gradient to the first maximum of its window in orig_input, found
// by comparing with orig_output: the forward pass already computed the maxima,
// so no second forward pass is needed for the argmax positions (oneDNN's
// backward pass wants them in a workspace only its own forward pass writes;
// recomputing it cost as much as the backward pass itself, docs/performance.md).
// Ties go to the first position in row-major window order, as in
// MaxPoolGradGrad. Images are independent, so the batch is split across the
// intra-op threads.
//
// _FusedMaxPoolGradReluGrad is this followed by ReluGrad(·, orig_input): a
// gradient reaches its window's maximum only where that maximum is positive
// (the same result as the two ops, in one pass).
class MaxPoolGradOp : public PoolKernel {
 public:
  explicit MaxPoolGradOp(OpKernelConstruction* ctx)
      : PoolKernel(ctx), relu_grad_(ctx->node().op() == "_FusedMaxPoolGradReluGrad") {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& orig_input = ctx->input(0);
    const Tensor& orig_output = ctx->input(1);
    const Tensor& grad = ctx->input(2);
    absl::StatusOr<PoolGeometry> g = Geometry(orig_input.shape());
    OP_REQUIRES_OK(ctx, g.status());
    OP_REQUIRES_OK(ctx, CheckPooledShape(orig_output, "orig_output", *g));
    OP_REQUIRES_OK(ctx, CheckPooledShape(grad, "grad", *g));
    Tensor* out = ctx->allocate_output(0, orig_input.shape());
    if (out->NumElements() == 0) return;
    const PoolGeometry& geo = *g;
    // Windows that tile the input exactly (stride = window, no padding) write
    // every input position once, so nothing needs zeroing first.
    const bool tiles = geo.strides == geo.kernel && geo.pad_l == memory::dims{0, 0} &&
                       geo.out_h * geo.strides[0] == geo.in_h &&
                       geo.out_w * geo.strides[1] == geo.in_w;
    if (!tiles) std::fill_n(out->data<float>(), out->NumElements(), 0.f);
    const int64_t C = geo.channels;
    const float* in = orig_input.data<float>();
    const float* pooled = orig_output.data<float>();
    const float* gr = grad.data<float>();
    float* o = out->data<float>();
    const int64_t image = geo.in_h * geo.in_w * C;
    // With the ReluGrad fused, a gradient routed to a non-positive maximum is
    // dropped: the relu's output is zero there.
    const bool keep_all = !relu_grad_;
    ForEachRange(
        geo.batch,
        [&](int64_t first, int64_t last) BRAID_VECTOR_BODY {
          // Per window: which channels' maxima were found already, and the
          // gradient to route (zero where the fused ReluGrad drops it). Both
          // are 32-bit, like the data, so the channel loops vectorize (with
          // a char array they compiled to scalar compares and branches:
          // 14% of a CNN step, docs/performance.md).
          std::vector<int32_t> found_buf(C);
          std::vector<float> route_buf(C);
          int32_t* __restrict found = found_buf.data();
          float* __restrict route = route_buf.data();
          for (int64_t n = first; n < last; ++n) {
            for (int64_t oh = 0; oh < geo.out_h; ++oh) {
              for (int64_t ow = 0; ow < geo.out_w; ++ow) {
                const int64_t at = ((n * geo.out_h + oh) * geo.out_w + ow) * C;
                const float* __restrict want = pooled + at;
                const float* __restrict gv = gr + at;
#pragma omp simd
                for (int64_t c = 0; c < C; ++c) {
                  found[c] = 0;
                  route[c] = keep_all || want[c] > 0.f ? gv[c] : 0.f;
                }
                for (int64_t kh = 0; kh < geo.kernel[0]; ++kh) {
                  const int64_t ih = oh * geo.strides[0] - geo.pad_l[0] + kh;
                  if (ih < 0 || ih >= geo.in_h) continue;
                  for (int64_t kw = 0; kw < geo.kernel[1]; ++kw) {
                    const int64_t iw = ow * geo.strides[1] - geo.pad_l[1] + kw;
                    if (iw < 0 || iw >= geo.in_w) continue;
                    const int64_t pos = n * image + (ih * geo.in_w + iw) * C;
                    const float* __restrict ip = in + pos;
                    float* __restrict op = o + pos;
                    if (tiles) {
#pragma omp simd
                      for (int64_t c = 0; c < C; ++c) {
                        const int32_t hit = (found[c] == 0) & (ip[c] == want[c]);
                        op[c] = hit ? route[c] : 0.f;
                        found[c] |= hit;
                      }
                    } else {
#pragma omp simd
                      for (int64_t c = 0; c < C; ++c) {
                        const int32_t hit = (found[c] == 0) & (ip[c] == want[c]);
                        op[c] += hit ? route[c] : 0.f;
                        found[c] |= hit;
                      }
                    }
                  }
                }
              }
            }
          }
        },
        image);
  }

 private:
  const bool relu_grad_;
};

// A max-pooling primitive with the workspace it writes (forward) or reads
// (backward): where each window's maximum is, in oneDNN's own format.
struct PoolWithWorkspace {
  DnnlPrimitive primitive;
  memory::desc workspace;
};

// _MaxPoolWithWorkspace: MaxPool that also outputs the workspace, as bytes,
// for _MaxPoolGradWithWorkspace (FuseOps pairs them in training graphs).
class MaxPoolWithWorkspaceOp : public PoolKernel {
 public:
  using PoolKernel::PoolKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& input = ctx->input(0);
    absl::StatusOr<PoolGeometry> g = Geometry(input.shape());
    OP_REQUIRES_OK(ctx, g.status());
    Tensor* out = ctx->allocate_output(0, g->output_shape());
    if (out->NumElements() == 0) {  // no windows, nothing to record
      ctx->allocate_output(1, TensorShape{0});
      return;
    }
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    auto entry = cache_.Get(g->key(), [&] {
      auto pd =
          ForwardPd(*g, dnnl::prop_kind::forward_training, dnnl::algorithm::pooling_max, engine);
      return PoolWithWorkspace{MakePrimitive<dnnl::pooling_forward>(pd), pd.workspace_desc()};
    });
    OP_REQUIRES_OK(ctx, entry.status());
    Tensor* workspace =
        ctx->allocate_output(1, TensorShape{static_cast<int64_t>((*entry)->workspace.get_size())});
    OP_REQUIRES_OK(ctx,
                   Execute(engine, (*entry)->primitive,
                           {{DNNL_ARG_SRC, Wrap(g->src(), engine, input)},
                            {DNNL_ARG_DST, Wrap(g->dst(), engine, *out)},
                            {DNNL_ARG_WORKSPACE, Wrap((*entry)->workspace, engine, *workspace)}}));
  }

 private:
  PrimitiveCache<PoolWithWorkspace> cache_;
};

// _MaxPoolGradWithWorkspace(orig_input, orig_output, grad, workspace): the
// MaxPoolGrad of a _MaxPoolWithWorkspace, routed by its workspace; orig_input
// gives only the shape. With relu_grad, gradients of non-positive maxima are
// dropped first (the pooled Relu's gradient, as in _FusedMaxPoolGradReluGrad).
class MaxPoolGradWithWorkspaceOp : public PoolKernel {
 public:
  explicit MaxPoolGradWithWorkspaceOp(OpKernelConstruction* ctx)
      : PoolKernel(ctx), relu_grad_(GetAttrOr<bool>(ctx->node().attrs(), "relu_grad", false)) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& orig_input = ctx->input(0);
    const Tensor& orig_output = ctx->input(1);
    const Tensor& grad = ctx->input(2);
    const Tensor& workspace = ctx->input(3);
    absl::StatusOr<PoolGeometry> g = Geometry(orig_input.shape());
    OP_REQUIRES_OK(ctx, g.status());
    OP_REQUIRES_OK(ctx, CheckPooledShape(orig_output, "orig_output", *g));
    OP_REQUIRES_OK(ctx, CheckPooledShape(grad, "grad", *g));
    Tensor* out = ctx->allocate_output(0, orig_input.shape());
    if (out->NumElements() == 0) return;
    if (grad.NumElements() == 0) {  // no windows: nothing routed anywhere
      std::fill_n(out->data<float>(), out->NumElements(), 0.f);
      return;
    }
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    auto entry = cache_.Get(g->key(), [&] {
      const auto alg = dnnl::algorithm::pooling_max;
      auto fwd = ForwardPd(*g, dnnl::prop_kind::forward_training, alg, engine);
      return PoolWithWorkspace{
          MakePrimitive<dnnl::pooling_backward>(BackwardPd(*g, alg, engine, fwd)),
          fwd.workspace_desc()};
    });
    OP_REQUIRES_OK(ctx, entry.status());
    const size_t want = (*entry)->workspace.get_size();
    OP_REQUIRES(ctx, static_cast<size_t>(workspace.NumElements()) == want,
                absl::InvalidArgumentError(
                    absl::StrCat("workspace has ", workspace.NumElements(), " bytes but pooling ",
                                 g->input_shape().DebugString(), " needs ", want,
                                 " (it must come from the _MaxPoolWithWorkspace of orig_input)")));
    const Tensor* routed = &grad;
    Tensor masked;
    if (relu_grad_) {
      masked = Tensor(DType::kFloat, grad.shape());
      ForEachRange(grad.NumElements(), [&](int64_t begin, int64_t end) BRAID_VECTOR_BODY {
        // Restrict-qualified here, in the vectorized clone, and both loaded
        // unconditionally: otherwise the loop compiles to scalar branches.
        const float* __restrict y = orig_output.data<float>();
        const float* __restrict gv = grad.data<float>();
        float* __restrict m = masked.data<float>();
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) {
          const float g = gv[i];
          m[i] = y[i] > 0.f ? g : 0.f;
        }
      });
      routed = &masked;
    }
    OP_REQUIRES_OK(ctx, Execute(engine, (*entry)->primitive,
                                {{DNNL_ARG_DIFF_DST, Wrap(g->dst(), engine, *routed)},
                                 {DNNL_ARG_WORKSPACE, Wrap((*entry)->workspace, engine, workspace)},
                                 {DNNL_ARG_DIFF_SRC, Wrap(g->src(), engine, *out)}}));
  }

 private:
  const bool relu_grad_;
  PrimitiveCache<PoolWithWorkspace> cache_;
};

// Picks, for each pooling window, grad's element at the window's (first)
// maximum of orig_input. oneDNN has no gather-by-argmax, and this op only
// appears in second-order gradients, so it is a plain loop over the windows
// with the channel loop innermost (contiguous in NHWC).
class MaxPoolGradGradOp : public PoolKernel {
 public:
  using PoolKernel::PoolKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& orig_input = ctx->input(0);
    const Tensor& orig_output = ctx->input(1);
    const Tensor& grad = ctx->input(2);
    absl::StatusOr<PoolGeometry> g = Geometry(orig_input.shape());
    OP_REQUIRES_OK(ctx, g.status());
    OP_REQUIRES_OK(ctx, CheckPooledShape(orig_output, "orig_output", *g));
    OP_REQUIRES(
        ctx, grad.shape() == orig_input.shape(),
        absl::InvalidArgumentError(absl::StrCat("grad has shape ", ShapeString(grad),
                                                " but orig_input has ", ShapeString(orig_input))));
    Tensor* out = ctx->allocate_output(0, g->output_shape());
    if (out->NumElements() == 0) return;
    const int64_t C = g->channels;
    const float* in = orig_input.data<float>();
    const float* gr = grad.data<float>();
    float* o = out->data<float>();
    std::vector<float> best(C);
    for (int64_t n = 0; n < g->batch; ++n) {
      for (int64_t oh = 0; oh < g->out_h; ++oh) {
        const int64_t h0 = oh * g->strides[0] - g->pad_l[0];
        const int64_t h_begin = std::max<int64_t>(h0, 0);
        const int64_t h_end = std::min<int64_t>(h0 + g->kernel[0], g->in_h);
        for (int64_t ow = 0; ow < g->out_w; ++ow) {
          const int64_t w0 = ow * g->strides[1] - g->pad_l[1];
          const int64_t w_begin = std::max<int64_t>(w0, 0);
          const int64_t w_end = std::min<int64_t>(w0 + g->kernel[1], g->in_w);
          float* dst = o + ((n * g->out_h + oh) * g->out_w + ow) * C;
          std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
          std::fill_n(dst, C, 0.f);
          for (int64_t h = h_begin; h < h_end; ++h) {
            for (int64_t w = w_begin; w < w_end; ++w) {
              const int64_t base = ((n * g->in_h + h) * g->in_w + w) * C;
              for (int64_t c = 0; c < C; ++c) {
                if (in[base + c] > best[c]) {
                  best[c] = in[base + c];
                  dst[c] = gr[base + c];
                }
              }
            }
          }
        }
      }
    }
  }
};

class AvgPoolGradOp : public PoolKernel {
 public:
  using PoolKernel::PoolKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& shape = ctx->input(0);
    OP_REQUIRES(ctx, shape.rank() == 1 && shape.NumElements() == 4,
                absl::InvalidArgumentError(absl::StrCat(
                    "orig_input_shape must be a vector of 4 sizes, got ", shape.DebugString())));
    std::vector<int64_t> dims(shape.data<int32_t>(), shape.data<int32_t>() + 4);
    absl::StatusOr<TensorShape> input_shape = MakeFullShape(dims);
    OP_REQUIRES_OK(ctx, input_shape.status());
    const Tensor& grad = ctx->input(1);
    absl::StatusOr<PoolGeometry> g = Geometry(*input_shape);
    OP_REQUIRES_OK(ctx, g.status());
    OP_REQUIRES_OK(ctx, CheckPooledShape(grad, "grad", *g));
    Tensor* out = ctx->allocate_output(0, *input_shape);
    if (out->NumElements() == 0) return;
    if (grad.NumElements() == 0) {
      std::fill_n(out->data<float>(), out->NumElements(), 0.f);
      return;
    }
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    auto entry = cache_.Get(g->key(), [&] {
      const auto alg = dnnl::algorithm::pooling_avg_exclude_padding;
      auto fwd = ForwardPd(*g, dnnl::prop_kind::forward_training, alg, engine);
      return MakePrimitive<dnnl::pooling_backward>(BackwardPd(*g, alg, engine, fwd));
    });
    OP_REQUIRES_OK(ctx, entry.status());
    OP_REQUIRES_OK(ctx, Execute(engine, **entry,
                                {{DNNL_ARG_DIFF_DST, Wrap(g->dst(), engine, grad)},
                                 {DNNL_ARG_DIFF_SRC, Wrap(g->src(), engine, *out)}}));
  }

 private:
  PrimitiveCache<DnnlPrimitive> cache_;
};

using MaxPoolOp = PoolOp<dnnl::algorithm::pooling_max>;
using AvgPoolOp = PoolOp<dnnl::algorithm::pooling_avg_exclude_padding>;

BRAID_REGISTER_KERNEL(KernelDefBuilder("MaxPool").TypeConstraint<float>("T"), MaxPoolOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("AvgPool").TypeConstraint<float>("T"), AvgPoolOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("MaxPoolGrad").TypeConstraint<float>("T"), MaxPoolGradOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("_FusedMaxPoolGradReluGrad").TypeConstraint<float>("T"),
                      MaxPoolGradOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("_MaxPoolWithWorkspace").TypeConstraint<float>("T"),
                      MaxPoolWithWorkspaceOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("_MaxPoolGradWithWorkspace").TypeConstraint<float>("T"),
                      MaxPoolGradWithWorkspaceOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("MaxPoolGradGrad").TypeConstraint<float>("T"),
                      MaxPoolGradGradOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("AvgPoolGrad").TypeConstraint<float>("T"), AvgPoolGradOp);

}  // namespace
}  // namespace braid::nn
