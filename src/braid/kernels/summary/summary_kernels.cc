// Kernels of the summary ops (graph/ops/summary_ops.h): each builds a
// tensorflow.Summary from its inputs (summary_values.h) and outputs it
// serialized, as a string scalar.
#include "absl/strings/str_cat.h"
#include "braid/kernels/op_kernel.h"
#include "braid/kernels/summary/summary_values.h"
#include "tensorflow/core/framework/summary.pb.h"

namespace braid {
namespace {

void SetSummaryOutput(OpKernelContext* ctx, const tensorflow::Summary& summary) {
  ctx->set_output(0, Tensor::Scalar(summary.SerializeAsString()));
}

class ScalarSummaryOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    tensorflow::Summary summary;
    OP_REQUIRES_OK(ctx, AddScalarValues(ctx->input(0), ctx->input(1), &summary));
    SetSummaryOutput(ctx, summary);
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("ScalarSummary"), ScalarSummaryOp);

class HistogramSummaryOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    absl::StatusOr<std::string> tag = ScalarString(ctx->input(0), "the tag");
    OP_REQUIRES_OK(ctx, tag.status());
    tensorflow::Summary summary;
    OP_REQUIRES_OK(ctx, AddHistogramValue(*tag, ctx->input(1), &summary));
    SetSummaryOutput(ctx, summary);
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("HistogramSummary"), HistogramSummaryOp);

class ImageSummaryOp : public OpKernel {
 public:
  explicit ImageSummaryOp(OpKernelConstruction* c) : OpKernel(c) {
    OP_ATTR(c, int64_t, "max_images", max_images_);
  }
  void Compute(OpKernelContext* ctx) override {
    absl::StatusOr<std::string> tag = ScalarString(ctx->input(0), "the tag");
    OP_REQUIRES_OK(ctx, tag.status());
    tensorflow::Summary summary;
    OP_REQUIRES_OK(ctx, AddImageValues(*tag, ctx->input(1), max_images_, &summary));
    SetSummaryOutput(ctx, summary);
  }

 private:
  int64_t max_images_ = 3;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("ImageSummary"), ImageSummaryOp);

class TextSummaryOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    absl::StatusOr<std::string> tag = ScalarString(ctx->input(0), "the tag");
    OP_REQUIRES_OK(ctx, tag.status());
    tensorflow::Summary summary;
    OP_REQUIRES_OK(ctx, AddTextValue(*tag, ctx->input(1), &summary));
    SetSummaryOutput(ctx, summary);
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("TextSummary"), TextSummaryOp);

class MergeSummaryOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    tensorflow::Summary merged;
    for (int i = 0; i < ctx->num_inputs(); ++i) {
      const Tensor& in = ctx->input(i);
      const std::string* serialized = in.data<std::string>();
      for (int64_t j = 0; j < in.NumElements(); ++j) {
        OP_REQUIRES_OK(ctx, AddSerializedSummary(
                                serialized[j], absl::StrCat("input ", i, " element ", j), &merged));
      }
    }
    OP_REQUIRES_OK(ctx, CheckUniqueTags(merged));
    SetSummaryOutput(ctx, merged);
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("MergeSummary"), MergeSummaryOp);

}  // namespace
}  // namespace braid
