#include "braid/graph/ops/summary_ops.h"

#include "absl/strings/str_cat.h"
#include "braid/graph/op_def.h"
#include "braid/graph/ops/shape_fns.h"

namespace braid {
namespace {

std::vector<DType> RealTypes() {
  return {DType::kFloat, DType::kDouble, DType::kInt32, DType::kInt64};
}

// Input `i` (a tag) must be a scalar when its shape is known; output 0 is a
// scalar string.
absl::Status ScalarTagShape(InferenceContext& c, int i) {
  const TensorShape& s = c.input_shape(i);
  if (!s.unknown_rank() && s.rank() != 0) {
    return c.Error(absl::StrCat("the tag must be a scalar, got shape ", s.DebugString()));
  }
  return ScalarShape(c);
}

absl::Status ScalarSummaryShape(InferenceContext& c) {
  if (!c.input_shape(0).IsCompatibleWith(c.input_shape(1))) {
    return c.Error(absl::StrCat("tags and values must have the same shape, got tags ",
                                c.input_shape(0).DebugString(), " and values ",
                                c.input_shape(1).DebugString()));
  }
  return ScalarShape(c);
}

absl::Status ImageSummaryShape(InferenceContext& c) {
  const TensorShape& s = c.input_shape(1);
  if (!s.unknown_rank()) {
    const int64_t channels = s.rank() == 4 ? s.dim(3) : 0;
    if (s.rank() != 4 ||
        (channels != TensorShape::kUnknownDim && channels != 1 && channels != 3 && channels != 4)) {
      return c.Error(
          absl::StrCat("images must be [batch, height, width, channels] with 1, 3 or 4 "
                       "channels, got shape ",
                       s.DebugString()));
    }
  }
  if (c.attr<int64_t>("max_images") < 1) {
    return c.Error(
        absl::StrCat("max_images must be at least 1, got ", c.attr<int64_t>("max_images")));
  }
  return ScalarTagShape(c, 0);
}

absl::Status MergeSummaryShape(InferenceContext& c) {
  if (c.num_inputs() == 0) return c.Error("MergeSummary needs at least one input");
  return ScalarShape(c);
}

BRAID_REGISTER_OP(OpDefBuilder("ScalarSummary")
                      .Input("tags: string")
                      .Input("values: T")
                      .Output("summary: string")
                      .TypeAttr("T", RealTypes())
                      .SetShapeFn(ScalarSummaryShape)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("HistogramSummary")
                      .Input("tag: string")
                      .Input("values: T")
                      .Output("summary: string")
                      .TypeAttrWithDefault("T", DType::kFloat, RealTypes())
                      .SetShapeFn([](InferenceContext& c) { return ScalarTagShape(c, 0); })
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("ImageSummary")
                      .Input("tag: string")
                      .Input("tensor: T")
                      .Output("summary: string")
                      .Attr("max_images", int64_t{3})
                      .TypeAttrWithDefault("T", DType::kFloat,
                                           {DType::kUInt8, DType::kFloat, DType::kDouble})
                      .SetShapeFn(ImageSummaryShape)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("TextSummary")
                      .Input("tag: string")
                      .Input("text: string")
                      .Output("summary: string")
                      .SetShapeFn([](InferenceContext& c) { return ScalarTagShape(c, 0); })
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("MergeSummary")
                      .Input("inputs: N * string")
                      .Output("summary: string")
                      .Attr("N", int64_t{1})
                      .SetShapeFn(MergeSummaryShape)
                      .NoGradient());

Output StringConst(const Scope& scope, const std::string& s) {
  return scope.ToOutput(Input(Tensor::Scalar(s)));
}

}  // namespace

namespace ops {

Output ScalarSummary(const Scope& scope, Output tags, Input values) {
  return scope.AddOp("ScalarSummary", {tags, values});
}
Output ScalarSummary(const Scope& scope, const std::string& tag, Input value) {
  return ScalarSummary(scope, StringConst(scope, tag), value);
}

Output HistogramSummary(const Scope& scope, Output tag, Input values) {
  return scope.AddOp("HistogramSummary", {tag, values});
}
Output HistogramSummary(const Scope& scope, const std::string& tag, Input values) {
  return HistogramSummary(scope, StringConst(scope, tag), values);
}

Output ImageSummary(const Scope& scope, Output tag, Input images, int64_t max_images) {
  return scope.AddOp("ImageSummary", {tag, images}, {{"max_images", max_images}});
}
Output ImageSummary(const Scope& scope, const std::string& tag, Input images, int64_t max_images) {
  return ImageSummary(scope, StringConst(scope, tag), images, max_images);
}

Output TextSummary(const Scope& scope, Output tag, Output text) {
  return scope.AddOp("TextSummary", {tag, text});
}
Output TextSummary(const Scope& scope, const std::string& tag, Output text) {
  return TextSummary(scope, StringConst(scope, tag), text);
}
Output TextSummary(const Scope& scope, const std::string& tag, const std::string& text) {
  return TextSummary(scope, StringConst(scope, tag), StringConst(scope, text));
}

Output MergeSummary(const Scope& scope, const std::vector<Output>& inputs) {
  return scope.AddOp("MergeSummary", std::vector<Input>(inputs.begin(), inputs.end()));
}

}  // namespace ops
}  // namespace braid
