// FusedBatchNormV3 and FusedBatchNormGradV3 through oneDNN batch
// normalization. Channels are the last dimension, so x is viewed as [rows, C]
// whatever its rank.
#include <algorithm>
#include <limits>

#include "braid/kernels/nn/dnnl_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid::nn {
namespace {

using dnnl::normalization_flags;

absl::Status CheckChannelsLast(OpKernelConstruction* ctx) {
  absl::StatusOr<std::string> format = ctx->GetAttr<std::string>("data_format");
  if (!format.ok()) return format.status();
  if (*format != "NHWC" && *format != "NDHWC") {
    return absl::InvalidArgumentError(
        absl::StrCat("data_format '", *format, "' is not supported on CPU; use NHWC"));
  }
  return absl::OkStatus();
}

// x as [rows, channels]; an error unless x has rank >= 2.
absl::StatusOr<std::pair<int64_t, int64_t>> RowsAndChannels(const Tensor& x) {
  if (x.rank() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("x must have rank at least 2 (channels last), got ", ShapeString(x)));
  }
  const int64_t channels = x.dim(x.rank() - 1);
  return std::make_pair(channels == 0 ? 0 : x.NumElements() / channels, channels);
}

absl::Status CheckVector(const Tensor& t, const char* name, int64_t channels, const Tensor& x) {
  if (t.rank() != 1 || t.dim(0) != channels) {
    return absl::InvalidArgumentError(absl::StrCat(name, " must be [", channels,
                                                   "] (one value per channel of x ", ShapeString(x),
                                                   "), got ", ShapeString(t)));
  }
  return absl::OkStatus();
}

// x as `rows` samples of `channels` channels and 1x1 spatial size, in NHWC.
// The statistics equal those of an "nc" [rows, C] matrix, but oneDNN 2.6
// picks its vectorized channels-last kernels only for 4-D NHWC descriptors
// (for "nc" it runs a strided loop per channel).
memory::desc ChannelsLastDesc(int64_t rows, int64_t channels) {
  return memory::desc({rows, channels, 1, 1}, memory::data_type::f32, memory::format_tag::nhwc);
}

normalization_flags Flags(bool training) {
  normalization_flags f = normalization_flags::use_scale | normalization_flags::use_shift;
  return training ? f : f | normalization_flags::use_global_stats;
}

dnnl::batch_normalization_forward::primitive_desc ForwardPd(const memory::desc& data,
                                                            dnnl::prop_kind prop, float epsilon,
                                                            bool training,
                                                            const dnnl::engine& engine) {
  return dnnl::batch_normalization_forward::primitive_desc(
      dnnl::batch_normalization_forward::desc(prop, data, epsilon, Flags(training)),
      CachedPrimitiveAttr(), engine);
}

// Descriptors of one [rows, C] problem, as the primitive wants them.
struct BatchNormEntry {
  memory::desc data, scale, stats;
  DnnlPrimitive prim;
};

class FusedBatchNormOp : public OpKernel {
 public:
  explicit FusedBatchNormOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_ATTR(ctx, float, "epsilon", epsilon_);
    OP_ATTR(ctx, float, "exponential_avg_factor", avg_factor_);
    OP_ATTR(ctx, bool, "is_training", training_);
    ctx->SetStatus(CheckChannelsLast(ctx));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& scale = ctx->input(1);
    const Tensor& offset = ctx->input(2);
    const Tensor& mean = ctx->input(3);
    const Tensor& variance = ctx->input(4);
    absl::StatusOr<std::pair<int64_t, int64_t>> rc = RowsAndChannels(x);
    OP_REQUIRES_OK(ctx, rc.status());
    const auto [rows, channels] = *rc;
    OP_REQUIRES_OK(ctx, CheckVector(scale, "scale", channels, x));
    OP_REQUIRES_OK(ctx, CheckVector(offset, "offset", channels, x));
    // Training with a factor of 1 ignores mean and variance (they may be empty).
    const bool need_stats = !training_ || avg_factor_ != 1.f;
    if (need_stats) {
      OP_REQUIRES_OK(ctx, CheckVector(mean, "mean", channels, x));
      OP_REQUIRES_OK(ctx, CheckVector(variance, "variance", channels, x));
    }
    Tensor* y = ctx->allocate_output(0, x.shape());
    if (!training_) {
      ctx->set_output(1, mean);
      ctx->set_output(2, variance);
      ctx->set_output(3, mean);
      ctx->set_output(4, variance);
    }
    ctx->allocate_output(5, TensorShape{0});
    const TensorShape stat_shape{channels};
    Tensor* saved_mean = training_ ? ctx->allocate_output(3, stat_shape) : nullptr;
    Tensor* saved_var = training_ ? ctx->allocate_output(4, stat_shape) : nullptr;
    if (channels == 0) {
      if (training_) {
        ctx->allocate_output(1, stat_shape);
        ctx->allocate_output(2, stat_shape);
      }
      return;
    }
    if (rows == 0) {
      // No data: the batch statistics are undefined, as in TensorFlow.
      if (training_) {
        const float nan = std::numeric_limits<float>::quiet_NaN();
        for (int i = 1; i <= 4; ++i) {
          std::fill_n(ctx->allocate_output(i, stat_shape)->data<float>(), channels, nan);
        }
      }
      return;
    }
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    auto entry = cache_.Get({rows, channels}, [&] {
      BatchNormEntry e;
      e.data = ChannelsLastDesc(rows, channels);
      auto pd = ForwardPd(
          e.data,
          training_ ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
          epsilon_, training_, engine);
      e.scale = pd.weights_desc();
      e.stats = pd.mean_desc();
      e.prim = MakePrimitive<dnnl::batch_normalization_forward>(pd);
      return e;
    });
    OP_REQUIRES_OK(ctx, entry.status());
    const BatchNormEntry& e = **entry;
    OP_REQUIRES_OK(
        ctx,
        Execute(engine, e.prim,
                {{DNNL_ARG_SRC, Wrap(e.data, engine, x)},
                 {DNNL_ARG_DST, Wrap(e.data, engine, *y)},
                 {DNNL_ARG_SCALE, Wrap(e.scale, engine, scale)},
                 {DNNL_ARG_SHIFT, Wrap(e.scale, engine, offset)},
                 {DNNL_ARG_MEAN, Wrap(e.stats, engine, training_ ? *saved_mean : mean)},
                 {DNNL_ARG_VARIANCE, Wrap(e.stats, engine, training_ ? *saved_var : variance)}}));
    if (!training_) return;
    // The reported variance is Bessel-corrected (an unbiased estimate for the
    // running average); normalization used the biased one, kept for the
    // gradient in reserve_space_2.
    const float bessel = rows > 1 ? static_cast<float>(rows) / static_cast<float>(rows - 1) : 1.f;
    const float f = avg_factor_;
    float* batch_mean = ctx->allocate_output(1, stat_shape)->data<float>();
    float* batch_var = ctx->allocate_output(2, stat_shape)->data<float>();
    const float* m = saved_mean->data<float>();
    const float* v = saved_var->data<float>();
    for (int64_t c = 0; c < channels; ++c) {
      batch_mean[c] = m[c];
      batch_var[c] = v[c] * bessel;
      if (f != 1.f) {
        batch_mean[c] = (1.f - f) * mean.data<float>()[c] + f * batch_mean[c];
        batch_var[c] = (1.f - f) * variance.data<float>()[c] + f * batch_var[c];
      }
    }
  }

 private:
  float epsilon_ = 1e-3f;
  float avg_factor_ = 1.f;
  bool training_ = true;
  PrimitiveCache<BatchNormEntry> cache_;
};

class FusedBatchNormGradOp : public OpKernel {
 public:
  explicit FusedBatchNormGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_ATTR(ctx, float, "epsilon", epsilon_);
    OP_ATTR(ctx, bool, "is_training", training_);
    ctx->SetStatus(CheckChannelsLast(ctx));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& dy = ctx->input(0);
    const Tensor& x = ctx->input(1);
    const Tensor& scale = ctx->input(2);
    const Tensor& saved_mean = ctx->input(3);
    const Tensor& saved_var = ctx->input(4);
    absl::StatusOr<std::pair<int64_t, int64_t>> rc = RowsAndChannels(x);
    OP_REQUIRES_OK(ctx, rc.status());
    const auto [rows, channels] = *rc;
    OP_REQUIRES(
        ctx, dy.shape() == x.shape(),
        absl::InvalidArgumentError(absl::StrCat("y_backprop ", ShapeString(dy), " and x ",
                                                ShapeString(x), " must have the same shape")));
    OP_REQUIRES_OK(ctx, CheckVector(scale, "scale", channels, x));
    OP_REQUIRES_OK(ctx, CheckVector(saved_mean, "reserve_space_1", channels, x));
    OP_REQUIRES_OK(ctx, CheckVector(saved_var, "reserve_space_2", channels, x));
    Tensor* dx = ctx->allocate_output(0, x.shape());
    Tensor* dscale = ctx->allocate_output(1, TensorShape{channels});
    Tensor* doffset = ctx->allocate_output(2, TensorShape{channels});
    ctx->allocate_output(3, TensorShape{0});
    ctx->allocate_output(4, TensorShape{0});
    if (channels == 0) return;
    if (rows == 0) {
      std::fill_n(dscale->data<float>(), channels, 0.f);
      std::fill_n(doffset->data<float>(), channels, 0.f);
      return;
    }
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    auto entry = cache_.Get({rows, channels}, [&] {
      BatchNormEntry e;
      e.data = ChannelsLastDesc(rows, channels);
      auto hint = ForwardPd(e.data, dnnl::prop_kind::forward_training, epsilon_, training_, engine);
      dnnl::batch_normalization_backward::primitive_desc pd(
          dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, e.data, e.data,
                                                   epsilon_, Flags(training_)),
          CachedPrimitiveAttr(), engine, hint);
      e.scale = pd.weights_desc();
      e.stats = pd.mean_desc();
      e.prim = MakePrimitive<dnnl::batch_normalization_backward>(pd);
      return e;
    });
    OP_REQUIRES_OK(ctx, entry.status());
    const BatchNormEntry& e = **entry;
    OP_REQUIRES_OK(ctx, Execute(engine, e.prim,
                                {{DNNL_ARG_SRC, Wrap(e.data, engine, x)},
                                 {DNNL_ARG_DIFF_DST, Wrap(e.data, engine, dy)},
                                 {DNNL_ARG_MEAN, Wrap(e.stats, engine, saved_mean)},
                                 {DNNL_ARG_VARIANCE, Wrap(e.stats, engine, saved_var)},
                                 {DNNL_ARG_SCALE, Wrap(e.scale, engine, scale)},
                                 // Required with use_shift, though the shift
                                 // does not enter any gradient; scale stands in.
                                 {DNNL_ARG_SHIFT, Wrap(e.scale, engine, scale)},
                                 {DNNL_ARG_DIFF_SRC, Wrap(e.data, engine, *dx)},
                                 {DNNL_ARG_DIFF_SCALE, Wrap(e.scale, engine, *dscale)},
                                 {DNNL_ARG_DIFF_SHIFT, Wrap(e.scale, engine, *doffset)}}));
  }

 private:
  float epsilon_ = 1e-3f;
  bool training_ = true;
  PrimitiveCache<BatchNormEntry> cache_;
};

BRAID_REGISTER_KERNEL(
    KernelDefBuilder("FusedBatchNormV3").TypeConstraint<float>("T").TypeConstraint<float>("U"),
    FusedBatchNormOp);
BRAID_REGISTER_KERNEL(
    KernelDefBuilder("FusedBatchNormGradV3").TypeConstraint<float>("T").TypeConstraint<float>("U"),
    FusedBatchNormGradOp);

}  // namespace
}  // namespace braid::nn
