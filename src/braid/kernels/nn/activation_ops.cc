// BiasAdd, Relu and ReluGrad through oneDNN's binary and eltwise primitives,
// which vectorize and use the intra-op threads; BiasAddGrad is a plain
// column sum (see there). Channels-last tensors are viewed as
// [rows, channels] (or flat for Relu).
#include <algorithm>
#include <vector>

#include "braid/kernels/nn/dnnl_util.h"
#include "braid/kernels/op_kernel.h"
#include "braid/kernels/vector_loop.h"

namespace braid::nn {
namespace {

// Every dimension but the last folded into rows.
struct RowsCols {
  int64_t rows = 0;
  int64_t cols = 0;
};
RowsCols AsMatrix(const Tensor& t) {
  RowsCols rc;
  rc.cols = t.dim(t.rank() - 1);
  rc.rows = rc.cols == 0 ? 0 : t.NumElements() / rc.cols;
  return rc;
}

absl::Status CheckChannelsLast(OpKernelConstruction* ctx) {
  absl::StatusOr<std::string> format = ctx->GetAttr<std::string>("data_format");
  if (!format.ok()) return format.status();
  if (*format != "NHWC" && *format != "NDHWC") {
    return absl::InvalidArgumentError(
        absl::StrCat("data_format '", *format, "' is not supported on CPU; use NHWC"));
  }
  return absl::OkStatus();
}

class BiasAddOp : public OpKernel {
 public:
  explicit BiasAddOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    ctx->SetStatus(CheckChannelsLast(ctx));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& value = ctx->input(0);
    const Tensor& bias = ctx->input(1);
    OP_REQUIRES(ctx, value.rank() >= 2,
                absl::InvalidArgumentError(absl::StrCat(
                    "BiasAdd needs value of rank at least 2, got ", ShapeString(value))));
    OP_REQUIRES(
        ctx, bias.rank() == 1 && bias.dim(0) == value.dim(value.rank() - 1),
        absl::InvalidArgumentError(absl::StrCat(
            "bias ", ShapeString(bias), " must be a vector as long as the last dimension of value ",
            ShapeString(value))));
    const RowsCols m = AsMatrix(value);
    Tensor* out = ctx->forward_input_or_allocate_output(0, 0, value.shape());
    if (out->NumElements() == 0) return;
    // A plain loop, in place when the input is not shared: oneDNN's
    // broadcasting binary (jit:uni) took 2.4 ms on the CNN's first
    // activations (128x28x28x32) where this takes ~0.4 (docs/performance.md).
    const float* in = value.data<float>();
    const float* b = bias.data<float>();
    float* o = out->data<float>();
    const int64_t cols = m.cols;
    ForEachRange(
        m.rows,
        [&](int64_t begin, int64_t end) BRAID_VECTOR_BODY {
          for (int64_t r = begin; r < end; ++r) {
            const float* row_in = in + r * cols;
            float* row_out = o + r * cols;
#pragma omp simd
            for (int64_t c = 0; c < cols; ++c) row_out[c] = row_in[c] + b[c];
          }
        },
        cols);
  }
};

// Column sums of [rows, C]. oneDNN 2.6 has only its reference implementation
// for a reduction over the outer dimension (measured ~100x slower than this
// loop, which the compiler vectorizes over the contiguous channels and which
// runs at memory bandwidth). Rows are summed in blocks so that float rounding
// error grows with the block size, not with the row count.
class BiasAddGradOp : public OpKernel {
 public:
  explicit BiasAddGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    ctx->SetStatus(CheckChannelsLast(ctx));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& grad = ctx->input(0);
    OP_REQUIRES(ctx, grad.rank() >= 2,
                absl::InvalidArgumentError(absl::StrCat(
                    "BiasAddGrad needs out_backprop of rank at least 2, got ", ShapeString(grad))));
    const RowsCols m = AsMatrix(grad);
    Tensor* out = ctx->allocate_output(0, TensorShape{m.cols});
    float* total = out->data<float>();
    std::fill_n(total, m.cols, 0.f);
    // Each block's sum on its own (blocks spread over the intra-op threads),
    // then the blocks in order: the same sums, in the same order, whatever the
    // thread count.
    constexpr int64_t kBlockRows = 256;
    const int64_t cols = m.cols;
    const int64_t rows = m.rows;
    const int64_t blocks = (rows + kBlockRows - 1) / kBlockRows;
    std::vector<float> block_sums(static_cast<size_t>(blocks * cols), 0.f);
    const float* g = grad.data<float>();
    float* sums = block_sums.data();
    ForEachRange(
        blocks,
        [&](int64_t first, int64_t last) BRAID_VECTOR_BODY {
          for (int64_t b = first; b < last; ++b) {
            float* __restrict acc = sums + b * cols;
            const int64_t end = std::min((b + 1) * kBlockRows, rows);
            for (int64_t r = b * kBlockRows; r < end; ++r) {
              const float* __restrict row = g + r * cols;
#pragma omp simd
              for (int64_t c = 0; c < cols; ++c) acc[c] += row[c];
            }
          }
        },
        kBlockRows * cols);
    for (int64_t b = 0; b < blocks; ++b) {
      for (int64_t c = 0; c < cols; ++c) total[c] += sums[b * cols + c];
    }
  }
};

dnnl::eltwise_forward::primitive_desc ReluForwardPd(const memory::desc& md, dnnl::prop_kind prop,
                                                    const dnnl::engine& engine) {
  return dnnl::eltwise_forward::primitive_desc(
      dnnl::eltwise_forward::desc(prop, dnnl::algorithm::eltwise_relu, md, 0.f, 0.f),
      CachedPrimitiveAttr(), engine);
}

class ReluOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const int64_t n = x.NumElements();
    // In place when nobody else holds x (eltwise supports src == dst).
    Tensor* y = ctx->forward_input_or_allocate_output(0, 0, x.shape());
    if (n == 0) return;
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    auto entry = cache_.Get({n}, [&] {
      Entry e;
      e.md = F32RowMajor({n});
      e.prim = MakePrimitive<dnnl::eltwise_forward>(
          ReluForwardPd(e.md, dnnl::prop_kind::forward_inference, engine));
      return e;
    });
    OP_REQUIRES_OK(ctx, entry.status());
    const Entry& e = **entry;
    OP_REQUIRES_OK(ctx, Execute(engine, e.prim,
                                {{DNNL_ARG_SRC, Wrap(e.md, engine, x)},
                                 {DNNL_ARG_DST, Wrap(e.md, engine, *y)}}));
  }

 private:
  struct Entry {
    memory::desc md;
    DnnlPrimitive prim;
  };
  PrimitiveCache<Entry> cache_;
};

class ReluGradOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& gradients = ctx->input(0);
    const Tensor& features = ctx->input(1);
    OP_REQUIRES(ctx, gradients.shape() == features.shape(),
                absl::InvalidArgumentError(absl::StrCat("gradients ", ShapeString(gradients),
                                                        " and features ", ShapeString(features),
                                                        " must have the same shape")));
    const int64_t n = gradients.NumElements();
    Tensor* out = ctx->forward_input_or_allocate_output(0, 0, gradients.shape());
    if (n == 0) return;
    dnnl::engine& engine = ctx->device()->dnnl_engine();
    auto entry = cache_.Get({n}, [&] {
      Entry e;
      e.md = F32RowMajor({n});
      auto hint = ReluForwardPd(e.md, dnnl::prop_kind::forward_training, engine);
      dnnl::eltwise_backward::primitive_desc pd(
          dnnl::eltwise_backward::desc(dnnl::algorithm::eltwise_relu, e.md, e.md, 0.f, 0.f),
          CachedPrimitiveAttr(), engine, hint);
      e.prim = MakePrimitive<dnnl::eltwise_backward>(pd);
      return e;
    });
    OP_REQUIRES_OK(ctx, entry.status());
    const Entry& e = **entry;
    OP_REQUIRES_OK(ctx, Execute(engine, e.prim,
                                {{DNNL_ARG_SRC, Wrap(e.md, engine, features)},
                                 {DNNL_ARG_DIFF_DST, Wrap(e.md, engine, gradients)},
                                 {DNNL_ARG_DIFF_SRC, Wrap(e.md, engine, *out)}}));
  }

 private:
  struct Entry {
    memory::desc md;
    DnnlPrimitive prim;
  };
  PrimitiveCache<Entry> cache_;
};

BRAID_REGISTER_KERNEL(KernelDefBuilder("BiasAdd").TypeConstraint<float>("T"), BiasAddOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("BiasAddGrad").TypeConstraint<float>("T"), BiasAddGradOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("Relu").TypeConstraint<float>("T"), ReluOp);
BRAID_REGISTER_KERNEL(KernelDefBuilder("ReluGrad").TypeConstraint<float>("T"), ReluGradOp);

}  // namespace
}  // namespace braid::nn
