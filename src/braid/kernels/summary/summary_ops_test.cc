// The summary ops run in a local session: the Summary protos they output,
// and the errors for bad input (at build time from the shape functions, at
// run time from the kernels, naming the node).
#include "braid/graph/ops/summary_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cfloat>

#include "braid/graph/ops/core_ops.h"
#include "braid/kernels/summary/png_test_util.h"
#include "braid/runtime/session.h"
#include "braid/testing/op_test_harness.h"
#include "tensorflow/core/framework/summary.pb.h"

namespace braid {
namespace {

using testing::Evaluate;
using ::testing::HasSubstr;

// Runs `summary` and parses its output.
absl::StatusOr<tensorflow::Summary> RunSummary(
    const Scope& root, Output summary, const std::vector<std::pair<Output, Tensor>>& feeds = {}) {
  absl::StatusOr<std::vector<Tensor>> out = Evaluate(root, feeds, {summary});
  if (!out.ok()) return out.status();
  const Tensor& t = (*out)[0];
  if (t.dtype() != DType::kString || t.rank() != 0) {
    return absl::InternalError("summary output is not a string scalar: " + t.DebugString());
  }
  tensorflow::Summary parsed;
  if (!parsed.ParseFromString(t.data<std::string>()[0])) {
    return absl::InternalError("summary output does not parse");
  }
  return parsed;
}

Tensor Strings(const std::vector<std::string>& v, const TensorShape& shape) {
  return Tensor::FromVector(v, shape);
}

TEST(ScalarSummary, OneSimpleValuePerTag) {
  Scope root = Scope::NewRootScope();
  Output loss = ops::Placeholder(root, DType::kDouble, TensorShape{});
  Output one = ops::ScalarSummary(root, "loss", loss);
  Output two = ops::ScalarSummary(root, ops::Const(root, Strings({"a", "b"}, {2})),
                                  ops::Const(root, Tensor::FromVector<int64_t>({7, -3})));
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(one.shape(), TensorShape{});
  EXPECT_EQ(one.dtype(), DType::kString);

  absl::StatusOr<tensorflow::Summary> s = RunSummary(root, one, {{loss, Tensor::Scalar(0.25)}});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->value_size(), 1);
  EXPECT_EQ(s->value(0).tag(), "loss");
  EXPECT_EQ(s->value(0).simple_value(), 0.25f);

  s = RunSummary(root, two);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->value_size(), 2);
  EXPECT_EQ(s->value(1).tag(), "b");
  EXPECT_EQ(s->value(1).simple_value(), -3.0f);
}

TEST(ScalarSummary, TagsAndValuesOfDifferentShapes) {
  Scope root = Scope::NewRootScope();
  ops::ScalarSummary(root.WithOpName("mismatch"), ops::Const(root, Strings({"a", "b"}, {2})),
                     ops::Const(root, Tensor::FromVector<float>({1, 2, 3})));
  ASSERT_FALSE(root.ok());
  EXPECT_THAT(root.status().message(), HasSubstr("mismatch"));
  EXPECT_THAT(root.status().message(), HasSubstr("tags [2] and values [3]"));

  // Unknown at build time: the kernel says it.
  Scope late = Scope::NewRootScope();
  Output tags = ops::Placeholder(late, DType::kString);
  Output values = ops::Placeholder(late, DType::kFloat);
  Output s = ops::ScalarSummary(late.WithOpName("late"), tags, values);
  absl::StatusOr<tensorflow::Summary> out = RunSummary(
      late, s, {{tags, Strings({"a"}, {1})}, {values, Tensor::FromVector<float>({1, 2})}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("late"));
  EXPECT_THAT(out.status().message(), HasSubstr("tags [1], values [2]"));
}

TEST(HistogramSummary, BucketsSumToNum) {
  Scope root = Scope::NewRootScope();
  Tensor values = testing::RandomTensor({40, 25}, 11, -3.f, 5.f);
  Output h = ops::HistogramSummary(root, "weights", ops::Const(root, values));
  absl::StatusOr<tensorflow::Summary> s = RunSummary(root, h);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->value_size(), 1);
  EXPECT_EQ(s->value(0).tag(), "weights");
  const tensorflow::HistogramProto& histo = s->value(0).histo();
  EXPECT_EQ(histo.num(), 1000);
  double total = 0;
  for (double c : histo.bucket()) total += c;
  EXPECT_EQ(total, 1000);
  float lo = FLT_MAX, hi = -FLT_MAX;
  for (float v : values.flat<float>()) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_EQ(histo.min(), lo);
  EXPECT_EQ(histo.max(), hi);
}

TEST(HistogramSummary, NonFiniteValuesAreRejected) {
  Scope root = Scope::NewRootScope();
  Output h = ops::HistogramSummary(root.WithOpName("hist"), "w",
                                   ops::Const(root, Tensor::FromVector<float>({1, NAN, 2})));
  absl::StatusOr<tensorflow::Summary> s = RunSummary(root, h);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("hist"));
  EXPECT_THAT(s.status().message(), HasSubstr("histogram 'w' has the non-finite value nan"));
  EXPECT_THAT(s.status().message(), HasSubstr("element 1"));
}

TEST(ImageSummary, Uint8ImagesAreEncodedAsTheyAre) {
  Scope root = Scope::NewRootScope();
  Tensor images(DType::kUInt8, {2, 3, 5, 4});
  for (int64_t i = 0; i < images.NumElements(); ++i) {
    images.data<uint8_t>()[i] = static_cast<uint8_t>(i * 7);
  }
  Output s3 = ops::ImageSummary(root, "input", ops::Const(root, images));
  Output s1 = ops::ImageSummary(root, "one", ops::Const(root, images), /*max_images=*/1);
  absl::StatusOr<tensorflow::Summary> s = RunSummary(root, s3);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->value_size(), 2);
  for (int i = 0; i < 2; ++i) {
    const tensorflow::Summary::Value& v = s->value(i);
    EXPECT_EQ(v.tag(), "input/image/" + std::to_string(i));
    EXPECT_EQ(v.image().height(), 3);
    EXPECT_EQ(v.image().width(), 5);
    EXPECT_EQ(v.image().colorspace(), 4);
    testing::DecodedPng png = testing::DecodePng(v.image().encoded_image_string());
    ASSERT_TRUE(png.ok) << png.error;
    EXPECT_EQ(png.channels, 4);
    const uint8_t* want = images.data<uint8_t>() + i * 60;
    EXPECT_EQ(png.pixels, std::vector<uint8_t>(want, want + 60));
  }
  s = RunSummary(root, s1);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->value_size(), 1);
  EXPECT_EQ(s->value(0).tag(), "one/image");
}

TEST(ImageSummary, FloatImagesAreRescaledAsTensorFlowDoes) {
  Scope root = Scope::NewRootScope();
  // Image 0 in [0, 1]: times 255. Image 1 with negatives: 128 + 127 v / max|v|,
  // and a NaN pixel painted red.
  Tensor images =
      Tensor::FromVector<float>({0.f, 0.5f, 1.f, 0.25f, -2.f, 1.f, 2.f, NAN}, {2, 2, 2, 1});
  Output out = ops::ImageSummary(root, "f", ops::Const(root, images));
  absl::StatusOr<tensorflow::Summary> s = RunSummary(root, out);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->value_size(), 2);
  testing::DecodedPng a = testing::DecodePng(s->value(0).image().encoded_image_string());
  testing::DecodedPng b = testing::DecodePng(s->value(1).image().encoded_image_string());
  ASSERT_TRUE(a.ok && b.ok);
  EXPECT_EQ(a.pixels, (std::vector<uint8_t>{0, 127, 255, 63}));
  EXPECT_EQ(b.pixels, (std::vector<uint8_t>{1, 191, 255, 255}));
  EXPECT_EQ(s->value(1).image().colorspace(), 1);
}

TEST(ImageSummary, BadShapes) {
  Scope root = Scope::NewRootScope();
  ops::ImageSummary(root.WithOpName("img"), "x",
                    ops::Const(root, Tensor::Filled<float>({2, 4, 4, 2}, 0.f)));
  ASSERT_FALSE(root.ok());
  EXPECT_THAT(root.status().message(), HasSubstr("img"));
  EXPECT_THAT(root.status().message(), HasSubstr("1, 3 or 4 channels, got shape [2,4,4,2]"));

  Scope late = Scope::NewRootScope();
  Output images = ops::Placeholder(late, DType::kFloat);
  Output s = ops::ImageSummary(late.WithOpName("img"), "x", images);
  absl::StatusOr<tensorflow::Summary> out =
      RunSummary(late, s, {{images, Tensor::Filled<float>({4, 4, 3}, 0.f)}});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("img"));
  EXPECT_THAT(out.status().message(), HasSubstr("not [4,4,3]"));
}

TEST(TextSummary, TensorForTheTextPlugin) {
  Scope root = Scope::NewRootScope();
  Output t = ops::TextSummary(root, "notes", "**hello** braid");
  absl::StatusOr<tensorflow::Summary> s = RunSummary(root, t);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->value_size(), 1);
  const tensorflow::Summary::Value& v = s->value(0);
  EXPECT_EQ(v.tag(), "notes");
  EXPECT_EQ(v.metadata().plugin_data().plugin_name(), "text");
  EXPECT_EQ(v.tensor().dtype(), tensorflow::DT_STRING);
  EXPECT_EQ(v.tensor().tensor_shape().dim_size(), 0);
  ASSERT_EQ(v.tensor().string_val_size(), 1);
  EXPECT_EQ(v.tensor().string_val(0), "**hello** braid");
}

TEST(MergeSummary, UnionOfInputs) {
  Scope root = Scope::NewRootScope();
  Output a = ops::ScalarSummary(root, "a", 1.f);
  Output b = ops::ScalarSummary(root, ops::Const(root, Strings({"b", "c"}, {2})),
                                ops::Const(root, Tensor::FromVector<float>({2, 3})));
  Output t = ops::TextSummary(root, "t", "x");
  Output merged = ops::MergeSummary(root, {a, b, t});
  absl::StatusOr<tensorflow::Summary> s = RunSummary(root, merged);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->value_size(), 4);
  EXPECT_EQ(s->value(0).tag(), "a");
  EXPECT_EQ(s->value(2).tag(), "c");
  EXPECT_EQ(s->value(3).tag(), "t");
}

TEST(MergeSummary, DuplicateTagsAreAnError) {
  Scope root = Scope::NewRootScope();
  Output a = ops::ScalarSummary(root, "loss", 1.f);
  Output b = ops::ScalarSummary(root, "loss", 2.f);
  Output merged = ops::MergeSummary(root.WithOpName("merge"), {a, b});
  absl::StatusOr<tensorflow::Summary> s = RunSummary(root, merged);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("merge"));
  EXPECT_THAT(s.status().message(), HasSubstr("duplicate tag 'loss'"));
}

TEST(MergeSummary, InputsThatAreNotSummaries) {
  Scope root = Scope::NewRootScope();
  Output junk = ops::Const(root, Strings({"\xff\xff\xff"}, {1}));
  Output merged =
      ops::MergeSummary(root.WithOpName("merge"), {ops::ScalarSummary(root, "a", 1.f), junk});
  absl::StatusOr<tensorflow::Summary> s = RunSummary(root, merged);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(),
              HasSubstr("input 1 element 0 (3 bytes) is not a serialized tensorflow.Summary"));
}

TEST(SummaryOps, TagMustBeAScalar) {
  Scope root = Scope::NewRootScope();
  ops::HistogramSummary(root.WithOpName("h"), ops::Const(root, Strings({"a", "b"}, {2})),
                        ops::Const(root, Tensor::FromVector<float>({1, 2})));
  ASSERT_FALSE(root.ok());
  EXPECT_THAT(root.status().message(), HasSubstr("the tag must be a scalar, got shape [2]"));
}

TEST(SummaryOps, ReachedThroughNewSession) {
  Scope root = Scope::NewRootScope();
  ops::ScalarSummary(root.WithOpName("acc"), "accuracy", 0.5f);
  absl::StatusOr<std::unique_ptr<Session>> session = NewSession({}, root.graph_ptr());
  ASSERT_TRUE(session.ok()) << session.status();
  std::vector<Tensor> out;
  ASSERT_TRUE((*session)->Run({}, {"acc:0"}, {}, &out).ok());
  tensorflow::Summary s;
  ASSERT_TRUE(s.ParseFromString(out[0].data<std::string>()[0]));
  EXPECT_EQ(s.value(0).tag(), "accuracy");
}

}  // namespace
}  // namespace braid
