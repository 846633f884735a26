// Conv2D (and _FusedConv2D, which adds the bias and applies ReLU inside the
// same primitive) and its two gradients through oneDNN convolution
// primitives. braid
// keeps activations NHWC and filters HWIO. Each primitive is first created
// with the activations in NHWC, which oneDNN's brgemm kernels (brgconv, on
// AVX-512 machines) read and write directly; when oneDNN has no direct kernel
// for NHWC it falls back to im2col + gemm (2-3x slower on the AVX2 VM), and
// the primitive is then created with format_tag::any, so that oneDNN picks
// blocked layouts and its direct JIT kernels, and ExecuteWithLayouts reorders
// at the boundary (see PreferNhwc). Padding is TensorFlow's (nn_op_util.h).
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "braid/graph/ops/nn_op_util.h"
#include "braid/kernels/nn/dnnl_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid::nn {
namespace {

// One convolution's sizes, validated, and oneDNN's view of it.
struct ConvGeometry {
  int64_t batch, in_h, in_w, in_c;
  int64_t k_h, k_w, out_c;
  int64_t out_h, out_w;
  memory::dims strides, dilates, pad_l, pad_r;

  TensorShape input_shape() const { return TensorShape{batch, in_h, in_w, in_c}; }
  TensorShape filter_shape() const { return TensorShape{k_h, k_w, in_c, out_c}; }
  TensorShape output_shape() const { return TensorShape{batch, out_h, out_w, out_c}; }
  std::vector<int64_t> key() const { return {batch, in_h, in_w, in_c, k_h, k_w, out_c}; }
  memory::desc src() const { return F32Nhwc(batch, in_c, in_h, in_w); }
  memory::desc weights() const { return F32Hwio(out_c, in_c, k_h, k_w); }
  memory::desc dst() const { return F32Nhwc(batch, out_c, out_h, out_w); }
};

class ConvKernel : public OpKernel {
 public:
  explicit ConvKernel(OpKernelConstruction* ctx) : OpKernel(ctx) {
    absl::StatusOr<Window2DAttrs> attrs = ParseConv2DAttrs(ctx->node().attrs());
    if (!attrs.ok()) {
      ctx->SetStatus(attrs.status());
      return;
    }
    attrs_ = *attrs;
  }

 protected:
  absl::StatusOr<ConvGeometry> Geometry(const TensorShape& input, const TensorShape& filter) const {
    if (input.rank() != 4 || filter.rank() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("input must be 4-D (NHWC) and filter 4-D (HWIO), got input ",
                       input.DebugString(), " and filter ", filter.DebugString()));
    }
    if (input.dim(3) != filter.dim(2)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input depth ", input.dim(3), " must equal the filter's in_channels ", filter.dim(2),
          ": input is ", input.DebugString(), ", filter is ", filter.DebugString()));
    }
    if (filter.dim(0) < 1 || filter.dim(1) < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter must have a non-empty window, got ", filter.DebugString()));
    }
    absl::StatusOr<Window2D> w =
        ComputeWindow2D(attrs_, input.dim(1), input.dim(2), filter.dim(0), filter.dim(1));
    if (!w.ok()) return w.status();
    ConvGeometry g;
    g.batch = input.dim(0);
    g.in_h = input.dim(1);
    g.in_w = input.dim(2);
    g.in_c = input.dim(3);
    g.k_h = filter.dim(0);
    g.k_w = filter.dim(1);
    g.out_c = filter.dim(3);
    g.out_h = w->h.out;
    g.out_w = w->w.out;
    g.strides = {attrs_.strides[0], attrs_.strides[1]};
    // oneDNN counts dilation from 0 (no dilation), TensorFlow from 1.
    g.dilates = {attrs_.dilations[0] - 1, attrs_.dilations[1] - 1};
    g.pad_l = {w->h.pad_before, w->w.pad_before};
    g.pad_r = {w->h.pad_after, w->w.pad_after};
    return g;
  }

  // The activations' layout for a primitive: braid's NHWC, or oneDNN's choice.
  static memory::desc Activations(const memory::desc& nhwc, bool plain) {
    return plain ? nhwc : AnyLayout(nhwc);
  }

  // make(true) creates a primitive descriptor with the activations in NHWC,
  // make(false) with format_tag::any. The NHWC one is kept when oneDNN runs it
  // with a direct kernel: its activations then need no reorder in or out.
  template <typename Make>
  static auto PreferNhwc(Make make) {
    auto pd = make(true);
    const std::string impl = pd.impl_info_str();
    if (impl.find("gemm") == std::string::npos && impl.find("ref") == std::string::npos) {
      return pd;
    }
    return make(false);
  }

  static dnnl::convolution_forward::primitive_desc ForwardPd(const ConvGeometry& g,
                                                             dnnl::prop_kind prop,
                                                             const dnnl::engine& engine,
                                                             bool nhwc) {
    return dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_direct,
                                        Activations(g.src(), nhwc), AnyLayout(g.weights()),
                                        Activations(g.dst(), nhwc), g.strides, g.dilates, g.pad_l,
                                        g.pad_r),
        CachedPrimitiveAttr(), engine);
  }

  // The forward convolution that also adds `bias` and, with `relu`, applies
  // ReLU as it writes its output (_FusedConv2D).
  static dnnl::convolution_forward::primitive_desc FusedForwardPd(const ConvGeometry& g,
                                                                  const dnnl::engine& engine,
                                                                  bool relu, bool nhwc) {
    return dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(
            dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
            Activations(g.src(), nhwc), AnyLayout(g.weights()), F32RowMajor({g.out_c}),
            Activations(g.dst(), nhwc), g.strides, g.dilates, g.pad_l, g.pad_r),
        CachedPrimitiveAttr(relu), engine);
  }

  // A shape given as an int32 vector input of 4 non-negative sizes.
  static absl::StatusOr<TensorShape> ShapeFromInput(const Tensor& t, const char* name) {
    if (t.dtype() != DType::kInt32 || t.rank() != 1 || t.NumElements() != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " must be an int32 vector of 4 sizes, got ", t.DebugString()));
    }
    std::vector<int64_t> dims(t.data<int32_t>(), t.data<int32_t>() + 4);
    absl::StatusOr<TensorShape> s = MakeFullShape(dims);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": ", s.status().message()));
    }
    return s;
  }

  static absl::Status CheckOutBackprop(const Tensor& out_backprop, const ConvGeometry& g) {
    if (out_backprop.shape() != g.output_shape()) {
      return absl::InvalidArgumentError(
          absl::StrCat("out_backprop has shape ", ShapeString(out_backprop),
                       " but convolving input ", g.input_shape().DebugString(), " with filter ",
                       g.filter_shape().DebugString(), " gives ", g.output_shape().DebugString()));
    }
    return absl::OkStatus();
  }

  // A primitive and the layouts it chose for (src, weights, dst).
  struct Entry {
    DnnlPrimitive prim;
    memory::desc src, weights, dst;
  };
  Window2DAttrs attrs_;
  PrimitiveCache<Entry> cache_;
};

// Conv2D, and _FusedConv2D (Conv2D + BiasAdd [+ Relu], bias as input 2).
class Conv2DOp : public ConvKernel {
 public:
  explicit Conv2DOp(OpKernelConstruction* ctx) : ConvKernel(ctx) {
    if (ctx->node().op() != "_FusedConv2D") return;
    absl::StatusOr<FusedOps> fused = ParseFusedOps(ctx->node().attrs());
    if (!fused.ok()) {
      ctx->SetStatus(fused.status());
      return;
    }
    fused_ = *fused;
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& input = ctx->input(0);
    const Tensor& filter = ctx->input(1);
    absl::StatusOr<ConvGeometry> g = Geometry(input.shape(), filter.shape());
    OP_REQUIRES_OK(ctx, g.status());
    const Tensor* bias = fused_ ? &ctx->input(2) : nullptr;
    if (bias != nullptr) {
      OP_REQUIRES(ctx, bias->shape() == TensorShape{g->out_c},
                  absl::InvalidArgumentError(absl::StrCat("bias must be a vector of ", g->out_c,
                                                          " (the filter's out_channels), got ",
                                                          ShapeString(*bias))));
    }
    Tensor* out = ctx->allocate_output(0, g->output_shape());
    if (out->NumElements() == 0) return;
    if (input.NumElements() == 0 || filter.NumElements() == 0) {
      FillWithBias(bias, fused_ && fused_->relu, out);
      return;
    }
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    auto entry = cache_.Get(g->key(), [&] {
      auto pd = PreferNhwc([&](bool nhwc) {
        return fused_ ? FusedForwardPd(*g, engine, fused_->relu, nhwc)
                      : ForwardPd(*g, dnnl::prop_kind::forward_inference, engine, nhwc);
      });
      return Entry{MakePrimitive<dnnl::convolution_forward>(pd), pd.src_desc(), pd.weights_desc(),
                   pd.dst_desc()};
    });
    OP_REQUIRES_OK(ctx, entry.status());
    const Entry& e = **entry;
    std::vector<LayoutArg> args = {{DNNL_ARG_SRC, g->src(), e.src, &input},
                                   {DNNL_ARG_WEIGHTS, g->weights(), e.weights, &filter},
                                   {DNNL_ARG_DST, g->dst(), e.dst, out, true}};
    if (bias != nullptr) {
      const memory::desc bias_md = F32RowMajor({g->out_c});
      args.push_back({DNNL_ARG_BIAS, bias_md, bias_md, bias});
    }
    OP_REQUIRES_OK(ctx, ExecuteWithLayouts(engine, e.prim, args));
  }

 private:
  std::optional<FusedOps> fused_;  // set for _FusedConv2D
};

class Conv2DBackpropInputOp : public ConvKernel {
 public:
  using ConvKernel::ConvKernel;

  void Compute(OpKernelContext* ctx) override {
    absl::StatusOr<TensorShape> input_shape = ShapeFromInput(ctx->input(0), "input_sizes");
    OP_REQUIRES_OK(ctx, input_shape.status());
    const Tensor& filter = ctx->input(1);
    const Tensor& out_backprop = ctx->input(2);
    absl::StatusOr<ConvGeometry> g = Geometry(*input_shape, filter.shape());
    OP_REQUIRES_OK(ctx, g.status());
    OP_REQUIRES_OK(ctx, CheckOutBackprop(out_backprop, *g));
    Tensor* out = ctx->allocate_output(0, *input_shape);
    if (out->NumElements() == 0) return;
    if (out_backprop.NumElements() == 0 || filter.NumElements() == 0) {
      std::fill_n(out->data<float>(), out->NumElements(), 0.f);
      return;
    }
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    auto entry = cache_.Get(g->key(), [&] {
      auto pd = PreferNhwc([&](bool nhwc) {
        auto hint = ForwardPd(*g, dnnl::prop_kind::forward_training, engine, nhwc);
        return dnnl::convolution_backward_data::primitive_desc(
            dnnl::convolution_backward_data::desc(
                dnnl::algorithm::convolution_direct, Activations(g->src(), nhwc),
                AnyLayout(g->weights()), Activations(g->dst(), nhwc), g->strides, g->dilates,
                g->pad_l, g->pad_r),
            CachedPrimitiveAttr(), engine, hint);
      });
      return Entry{MakePrimitive<dnnl::convolution_backward_data>(pd), pd.diff_src_desc(),
                   pd.weights_desc(), pd.diff_dst_desc()};
    });
    OP_REQUIRES_OK(ctx, entry.status());
    const Entry& e = **entry;
    OP_REQUIRES_OK(ctx, ExecuteWithLayouts(engine, e.prim,
                                           {{DNNL_ARG_DIFF_DST, g->dst(), e.dst, &out_backprop},
                                            {DNNL_ARG_WEIGHTS, g->weights(), e.weights, &filter},
                                            {DNNL_ARG_DIFF_SRC, g->src(), e.src, out, true}}));
  }
};

class Conv2DBackpropFilterOp : public ConvKernel {
 public:
  using ConvKernel::ConvKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& input = ctx->input(0);
    absl::StatusOr<TensorShape> filter_shape = ShapeFromInput(ctx->input(1), "filter_sizes");
    OP_REQUIRES_OK(ctx, filter_shape.status());
    const Tensor& out_backprop = ctx->input(2);
    absl::StatusOr<ConvGeometry> g = Geometry(input.shape(), *filter_shape);
    OP_REQUIRES_OK(ctx, g.status());
    OP_REQUIRES_OK(ctx, CheckOutBackprop(out_backprop, *g));
    Tensor* out = ctx->allocate_output(0, *filter_shape);
    if (out->NumElements() == 0) return;
    if (out_backprop.NumElements() == 0 || input.NumElements() == 0) {
      std::fill_n(out->data<float>(), out->NumElements(), 0.f);
      return;
    }
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    auto entry = cache_.Get(g->key(), [&] {
      auto pd = PreferNhwc([&](bool nhwc) {
        auto hint = ForwardPd(*g, dnnl::prop_kind::forward_training, engine, nhwc);
        return dnnl::convolution_backward_weights::primitive_desc(
            dnnl::convolution_backward_weights::desc(
                dnnl::algorithm::convolution_direct, Activations(g->src(), nhwc),
                AnyLayout(g->weights()), Activations(g->dst(), nhwc), g->strides, g->dilates,
                g->pad_l, g->pad_r),
            CachedPrimitiveAttr(), engine, hint);
      });
      return Entry{MakePrimitive<dnnl::convolution_backward_weights>(pd), pd.src_desc(),
                   pd.diff_weights_desc(), pd.diff_dst_desc()};
    });
    OP_REQUIRES_OK(ctx, entry.status());
    const Entry& e = **entry;
    OP_REQUIRES_OK(
        ctx, ExecuteWithLayouts(engine, e.prim,
                                {{DNNL_ARG_SRC, g->src(), e.src, &input},
                                 {DNNL_ARG_DIFF_DST, g->dst(), e.dst, &out_backprop},
                                 {DNNL_ARG_DIFF_WEIGHTS, g->weights(), e.weights, out, true}}));
  }
};

BRAID_REGISTER_KERNEL(KernelDefBuilder("Conv2D").TypeConstraint<float>("T"), Conv2DOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("_FusedConv2D").TypeConstraint<float>("T"), Conv2DOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("Conv2DBackpropInput").TypeConstraint<float>("T"),
                      Conv2DBackpropInputOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("Conv2DBackpropFilter").TypeConstraint<float>("T"),
                      Conv2DBackpropFilterOp);

}  // namespace
}  // namespace braid::nn
