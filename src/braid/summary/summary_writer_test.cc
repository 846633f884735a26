#include "braid/summary/summary_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/graph/ops/summary_ops.h"
#include "braid/kernels/summary/png_test_util.h"
#include "braid/runtime/session.h"
#include "braid/summary/event_test_util.h"
#include "tensorflow/core/framework/graph.pb.h"
#include "tensorflow/core/util/event.pb.h"

namespace braid::summary {
namespace {

using testing::FreshDir;
using ::testing::HasSubstr;
using testing::ReadEvents;

// The events after the file_version record, read after Close.
std::vector<tensorflow::Event> ClosedEvents(SummaryWriter& writer) {
  EXPECT_TRUE(writer.Close().ok());
  testing::EventFileContents file = ReadEvents(writer.path());
  EXPECT_TRUE(file.damage.ok()) << file.damage;
  if (file.events.empty()) return {};
  EXPECT_EQ(file.events[0].file_version(), "brain.Event:2");
  return {file.events.begin() + 1, file.events.end()};
}

TEST(SummaryWriter, CreatesTheRunDirectory) {
  const std::string logdir = FreshDir("root") + "/runs/a";
  auto writer = SummaryWriter::Create(logdir);
  ASSERT_TRUE(writer.ok()) << writer.status();
  EXPECT_TRUE(std::filesystem::is_directory(logdir));
  EXPECT_EQ(testing::EventFiles(logdir), std::vector<std::string>{(*writer)->path()});
}

TEST(SummaryWriter, OneWriterPerRunDirectory) {
  const std::string logdir = FreshDir("one");
  auto first = SummaryWriter::Create(logdir);
  ASSERT_TRUE(first.ok()) << first.status();
  // The same directory spelled differently is the same run.
  auto second = SummaryWriter::Create(logdir + "/./");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("one writer per run directory"));
  EXPECT_THAT(second.status().message(), HasSubstr(logdir));
  // Another run directory is fine; so is this one once the first is closed.
  EXPECT_TRUE(SummaryWriter::Create(logdir + "/other").ok());
  ASSERT_TRUE((*first)->Close().ok());
  auto third = SummaryWriter::Create(logdir);
  ASSERT_TRUE(third.ok()) << third.status();
  third->reset();
  EXPECT_TRUE(SummaryWriter::Create(logdir).ok());
}

TEST(SummaryWriter, ScalarHistogramImageText) {
  auto writer = SummaryWriter::Create(FreshDir("values"));
  ASSERT_TRUE(writer.ok()) << writer.status();
  SummaryWriter& w = **writer;
  ASSERT_TRUE(w.Scalar("loss", 3, 0.125).ok());
  ASSERT_TRUE(w.Histogram("w", 4, Tensor::FromVector<double>({-1, 0, 0.5, 2, 2})).ok());
  Tensor image(DType::kUInt8, {2, 3, 3});
  for (int64_t i = 0; i < image.NumElements(); ++i) image.data<uint8_t>()[i] = uint8_t(i * 10);
  ASSERT_TRUE(w.Image("img", 5, image).ok());
  ASSERT_TRUE(w.Text("notes", 6, "# run\nlr = 0.1").ok());
  std::vector<tensorflow::Event> events = ClosedEvents(w);
  ASSERT_EQ(events.size(), 4u);

  EXPECT_EQ(events[0].step(), 3);
  EXPECT_EQ(events[0].summary().value(0).tag(), "loss");
  EXPECT_EQ(events[0].summary().value(0).simple_value(), 0.125f);

  const tensorflow::HistogramProto& h = events[1].summary().value(0).histo();
  EXPECT_EQ(events[1].step(), 4);
  EXPECT_EQ(h.num(), 5);
  EXPECT_EQ(h.min(), -1);
  EXPECT_EQ(h.max(), 2);
  EXPECT_EQ(h.sum(), 3.5);
  double total = 0;
  for (double c : h.bucket()) total += c;
  EXPECT_EQ(total, 5);

  const tensorflow::Summary::Value& img = events[2].summary().value(0);
  EXPECT_EQ(img.tag(), "img/image/0");
  EXPECT_EQ(img.image().width(), 3);
  EXPECT_EQ(img.image().height(), 2);
  braid::testing::DecodedPng png = braid::testing::DecodePng(img.image().encoded_image_string());
  ASSERT_TRUE(png.ok) << png.error;
  EXPECT_EQ(png.pixels, std::vector<uint8_t>(image.data<uint8_t>(), image.data<uint8_t>() + 18));

  const tensorflow::Summary::Value& text = events[3].summary().value(0);
  EXPECT_EQ(text.metadata().plugin_data().plugin_name(), "text");
  EXPECT_EQ(text.tensor().string_val(0), "# run\nlr = 0.1");
}

TEST(SummaryWriter, SerializedSummariesFromASession) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat, TensorShape{});
  Output merged =
      ops::MergeSummary(root, {ops::ScalarSummary(root, "x", x),
                               ops::ScalarSummary(root, "twice_x", ops::Mul(root, x, 2.f))});
  ClientSession session(root);
  auto writer = SummaryWriter::Create(FreshDir("session"));
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (int step = 0; step < 3; ++step) {
    std::vector<Tensor> out;
    ASSERT_TRUE(session.Run({{x, Tensor::Scalar(float(step))}}, {merged}, &out).ok());
    ASSERT_TRUE((*writer)->WriteSerializedSummary(step, out[0].data<std::string>()[0]).ok());
  }
  absl::Status bad = (*writer)->WriteSerializedSummary(9, "\x0a\xff");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("not a serialized tensorflow.Summary"));
  std::vector<tensorflow::Event> events = ClosedEvents(**writer);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].step(), 2);
  EXPECT_EQ(events[2].summary().value(1).tag(), "twice_x");
  EXPECT_EQ(events[2].summary().value(1).simple_value(), 4.f);
}

TEST(SummaryWriter, GraphWithScopesAndShapes) {
  Scope root = Scope::NewRootScope();
  Scope dense = root.NewSubScope("dense");
  Output x = ops::Placeholder(root.WithOpName("x"), DType::kFloat, TensorShape{-1, 3});
  Output w = ops::Const(dense.WithOpName("kernel"), Tensor::Filled<float>({3, 2}, 0.5f));
  ops::MatMul(dense, x, w);
  ASSERT_TRUE(root.ok()) << root.status();
  auto writer = SummaryWriter::Create(FreshDir("graph"));
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Graph(*root.graph()).ok());
  std::vector<tensorflow::Event> events = ClosedEvents(**writer);
  ASSERT_EQ(events.size(), 1u);
  tensorflow::GraphDef def;
  ASSERT_TRUE(def.ParseFromString(events[0].graph_def()));
  std::map<std::string, const tensorflow::NodeDef*> nodes;
  for (const auto& n : def.node()) nodes[n.name()] = &n;
  ASSERT_TRUE(nodes.count("dense/MatMul"));
  ASSERT_TRUE(nodes.count("dense/kernel"));
  const tensorflow::NodeDef& matmul = *nodes["dense/MatMul"];
  EXPECT_EQ(matmul.op(), "MatMul");
  EXPECT_THAT(matmul.input(), ::testing::ElementsAre("x", "dense/kernel"));
  const auto& shapes = matmul.attr().at("_output_shapes").list().shape();
  ASSERT_EQ(shapes.size(), 1);
  ASSERT_EQ(shapes[0].dim_size(), 2);
  EXPECT_EQ(shapes[0].dim(0).size(), -1);
  EXPECT_EQ(shapes[0].dim(1).size(), 2);
}

TEST(SummaryWriter, BadInputsNameTheTag) {
  auto writer = SummaryWriter::Create(FreshDir("bad"));
  ASSERT_TRUE(writer.ok()) << writer.status();
  absl::Status s = (*writer)->Histogram("weights", 1, Tensor::FromVector<float>({1, INFINITY}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("histogram 'weights' has the non-finite value inf"));
  s = (*writer)->Image("pic", 1, Tensor::Filled<float>({4, 4}, 0.f));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("image summary 'pic'"));
  s = (*writer)->Image("pic", 1, Tensor::Filled<int32_t>({4, 4, 3}, 0));
  EXPECT_THAT(s.message(), HasSubstr("dtype int32"));
  // Nothing was written for them.
  EXPECT_TRUE(ClosedEvents(**writer).empty());
  s = (*writer)->Scalar("late", 1, 1.0);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace braid::summary
