#include "braid/graph/fuse_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "braid/graph/gradients.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/nn_ops.h"

namespace braid {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const char kCpu0[] = "/job:localhost/replica:0/task:0/device:CPU:0";
const char kCpu1[] = "/job:localhost/replica:0/task:0/device:CPU:1";

// Places every node on `device`, as the placer would on a one-device session.
void PlaceAllOn(Graph* g, const std::string& device) {
  for (Node* n : g->nodes()) n->set_assigned_device(device);
}

std::vector<std::string> OpsOf(const Graph& g) {
  std::vector<std::string> ops;
  for (Node* n : g.nodes()) ops.push_back(n->op());
  return ops;
}

std::vector<std::string> InputNames(const Node& n) {
  std::vector<std::string> names;
  for (const Output& in : n.inputs()) names.push_back(in.name());
  return names;
}

struct ConvLayer {
  Output x, w, b, conv, biased, relu;
};

ConvLayer BuildConvLayer(const Scope& root) {
  ConvLayer l;
  l.x = ops::Placeholder(root.WithOpName("x"), DType::kFloat, {2, 5, 5, 3});
  l.w = ops::Placeholder(root.WithOpName("w"), DType::kFloat, {3, 3, 3, 4});
  l.b = ops::Placeholder(root.WithOpName("b"), DType::kFloat, {4});
  l.conv = ops::Conv2D(root.WithOpName("conv"), l.x, l.w, {1, 1, 1, 1}, "SAME");
  l.biased = ops::BiasAdd(root.WithOpName("biased"), l.conv, l.b);
  l.relu = ops::Relu(root.WithOpName("relu"), l.biased);
  return l;
}

TEST(FuseOpsTest, ConvBiasReluBecomesOneFusedConvNamedAfterTheRelu) {
  Scope root = Scope::NewRootScope();
  ConvLayer l = BuildConvLayer(root);
  ops::Identity(root.WithOpName("out"), l.relu);
  ASSERT_TRUE(root.ok()) << root.status();
  PlaceAllOn(root.graph(), kCpu0);

  absl::StatusOr<std::unique_ptr<Graph>> fused = FuseOps(*root.graph());
  ASSERT_TRUE(fused.ok()) << fused.status();
  EXPECT_THAT(OpsOf(**fused),
              ElementsAre("Placeholder", "Placeholder", "Placeholder", "_FusedConv2D", "Identity"));
  Node* f = (*fused)->FindNode("relu");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->op(), "_FusedConv2D");
  EXPECT_THAT(InputNames(*f), ElementsAre("x:0", "w:0", "b:0"));
  EXPECT_THAT(f->attr<std::vector<std::string>>("fused_ops"), ElementsAre("BiasAdd", "Relu"));
  EXPECT_EQ(f->attr<std::string>("padding"), "SAME");
  EXPECT_EQ(f->assigned_device(), kCpu0);
  EXPECT_EQ(f->output_shape(0).DebugString(), "[2,5,5,4]");
  EXPECT_THAT(InputNames(*(*fused)->FindNode("out")), ElementsAre("relu:0"));
}

TEST(FuseOpsTest, MatMulBiasWithoutReluFusesUpToTheBias) {
  Scope root = Scope::NewRootScope();
  Output a = ops::Placeholder(root.WithOpName("a"), DType::kFloat, {8, 3});
  Output b = ops::Placeholder(root.WithOpName("b"), DType::kFloat, {5, 3});
  Output bias = ops::Placeholder(root.WithOpName("bias"), DType::kFloat, {5});
  Output logits =
      ops::BiasAdd(root.WithOpName("logits"), ops::MatMul(root, a, b, false, true), bias);
  ops::Softmax(root.WithOpName("probs"), logits);
  ASSERT_TRUE(root.ok()) << root.status();
  PlaceAllOn(root.graph(), kCpu0);

  absl::StatusOr<std::unique_ptr<Graph>> fused = FuseOps(*root.graph());
  ASSERT_TRUE(fused.ok()) << fused.status();
  Node* f = (*fused)->FindNode("logits");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->op(), "_FusedMatMul");
  EXPECT_THAT(f->attr<std::vector<std::string>>("fused_ops"), ElementsAre("BiasAdd"));
  EXPECT_TRUE(f->attr<bool>("transpose_b"));
  EXPECT_THAT(InputNames(*f), ElementsAre("a:0", "b:0", "bias:0"));
  EXPECT_EQ((*fused)->FindNode("probs")->op(), "Softmax");
}

TEST(FuseOpsTest, AnInnerTensorWithAnotherConsumerIsNotFusedAway) {
  Scope root = Scope::NewRootScope();
  ConvLayer l = BuildConvLayer(root);
  // The pre-activation is read elsewhere: Conv2D + BiasAdd still fuse, the
  // Relu stays on its own.
  ops::Identity(root.WithOpName("pre"), l.biased);
  // A second conv whose raw output is read twice fuses nothing.
  Output conv2 = ops::Conv2D(root.WithOpName("conv2"), l.x, l.w, {1, 1, 1, 1}, "SAME");
  ops::BiasAdd(root.WithOpName("biased2"), conv2, l.b);
  ops::Identity(root.WithOpName("raw2"), conv2);
  ASSERT_TRUE(root.ok()) << root.status();
  PlaceAllOn(root.graph(), kCpu0);

  absl::StatusOr<std::unique_ptr<Graph>> fused = FuseOps(*root.graph());
  ASSERT_TRUE(fused.ok()) << fused.status();
  EXPECT_EQ((*fused)->FindNode("conv"), nullptr);
  EXPECT_EQ((*fused)->FindNode("biased")->op(), "_FusedConv2D");
  EXPECT_THAT((*fused)->FindNode("biased")->attr<std::vector<std::string>>("fused_ops"),
              ElementsAre("BiasAdd"));
  EXPECT_EQ((*fused)->FindNode("relu")->op(), "Relu");
  EXPECT_EQ((*fused)->FindNode("conv2")->op(), "Conv2D");
  EXPECT_EQ((*fused)->FindNode("biased2")->op(), "BiasAdd");
}

TEST(FuseOpsTest, ChainsAcrossDevicesOrWithControlSuccessorsStayApart) {
  Scope root = Scope::NewRootScope();
  ConvLayer l = BuildConvLayer(root);
  Output x2 = ops::Placeholder(root.WithOpName("x2"), DType::kFloat, {4, 3});
  Output w2 = ops::Placeholder(root.WithOpName("w2"), DType::kFloat, {3, 4});
  Output mm = ops::MatMul(root.WithOpName("mm"), x2, w2);
  Output biased2 = ops::BiasAdd(root.WithOpName("biased2"), mm, l.b);
  Output after = ops::Identity(root.WithOpName("after"), biased2);
  ASSERT_TRUE(root.graph()->AddControlEdge(mm.node, after.node).ok());
  ASSERT_TRUE(root.ok()) << root.status();
  PlaceAllOn(root.graph(), kCpu0);
  l.relu.node->set_assigned_device(kCpu1);

  absl::StatusOr<std::unique_ptr<Graph>> fused = FuseOps(*root.graph());
  ASSERT_TRUE(fused.ok()) << fused.status();
  // The Relu runs elsewhere: only Conv2D + BiasAdd fuse.
  EXPECT_EQ((*fused)->FindNode("biased")->op(), "_FusedConv2D");
  EXPECT_EQ((*fused)->FindNode("relu")->op(), "Relu");
  // Something waits on the MatMul itself: it must stay a node of its own.
  EXPECT_EQ((*fused)->FindNode("mm")->op(), "MatMul");
  EXPECT_EQ((*fused)->FindNode("biased2")->op(), "BiasAdd");
}

TEST(FuseOpsTest, ControlInputsOfTheChainMoveToTheFusedNode) {
  Scope root = Scope::NewRootScope();
  Output first = ops::Placeholder(root.WithOpName("first"), DType::kFloat, {1});
  ConvLayer l = BuildConvLayer(root);
  ASSERT_TRUE(root.graph()->AddControlEdge(first.node, l.conv.node).ok());
  ASSERT_TRUE(root.ok()) << root.status();
  PlaceAllOn(root.graph(), kCpu0);

  absl::StatusOr<std::unique_ptr<Graph>> fused = FuseOps(*root.graph());
  ASSERT_TRUE(fused.ok()) << fused.status();
  Node* f = (*fused)->FindNode("relu");
  ASSERT_EQ(f->op(), "_FusedConv2D");
  ASSERT_EQ(f->control_inputs().size(), 1u);
  EXPECT_EQ(f->control_inputs()[0]->name(), "first");
}

TEST(FuseOpsTest, TrainingGraphsFuseBecauseReluGradReadsTheReluOutput) {
  Scope root = Scope::NewRootScope();
  ConvLayer l = BuildConvLayer(root);
  Output loss = ops::Sum(root.WithOpName("loss"), l.relu, Input({0, 1, 2, 3}));
  std::vector<Output> grads;
  absl::Status s = AddGradients(root, {loss}, {l.w, l.b}, {}, &grads);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(root.ok()) << root.status();
  PlaceAllOn(root.graph(), kCpu0);

  absl::StatusOr<std::unique_ptr<Graph>> fused = FuseOps(*root.graph());
  ASSERT_TRUE(fused.ok()) << fused.status();
  EXPECT_EQ((*fused)->FindNode("relu")->op(), "_FusedConv2D");
  EXPECT_EQ((*fused)->FindNode("conv"), nullptr);
  EXPECT_EQ((*fused)->FindNode("biased"), nullptr);
  for (Node* n : (*fused)->nodes()) {
    if (n->op() == "ReluGrad") {
      EXPECT_EQ(n->input(1).name(), "relu:0");
    }
  }
  // Nothing in the original graph was changed.
  EXPECT_EQ(root.graph()->FindNode("conv")->op(), "Conv2D");
}

TEST(FuseOpsTest, TheReluMaxPoolGradientRoutesByTheWorkspaceOfItsMaxPool) {
  Scope root = Scope::NewRootScope();
  ConvLayer l = BuildConvLayer(root);
  Output pool = ops::MaxPool(root.WithOpName("pool"), l.relu, {1, 2, 2, 1}, {1, 2, 2, 1}, "SAME");
  Output loss = ops::Sum(root.WithOpName("loss"), pool, Input({0, 1, 2, 3}));
  std::vector<Output> grads;
  absl::Status s = AddGradients(root, {loss}, {l.w}, {}, &grads);
  ASSERT_TRUE(s.ok()) << s;
  // A ReluGrad that reads another tensor than the pooling's input stays apart;
  // the MaxPoolGrad before it still routes by the workspace.
  Output g = ops::Placeholder(root.WithOpName("g"), DType::kFloat, {2, 3, 3, 4});
  Output other = ops::MaxPoolGrad(root.WithOpName("other_pool_grad"), l.relu, pool, g, {1, 2, 2, 1},
                                  {1, 2, 2, 1}, "SAME");
  Output h = ops::Placeholder(root.WithOpName("h"), DType::kFloat, {2, 5, 5, 4});
  ops::ReluGrad(root.WithOpName("other_relu_grad"), other, h);
  ASSERT_TRUE(root.ok()) << root.status();
  PlaceAllOn(root.graph(), kCpu0);

  absl::StatusOr<std::unique_ptr<Graph>> fused = FuseOps(*root.graph());
  ASSERT_TRUE(fused.ok()) << fused.status();
  EXPECT_EQ((*fused)->FindNode("pool")->op(), "_MaxPoolWithWorkspace");
  int with_relu = 0, without_relu = 0;
  for (Node* n : (*fused)->nodes()) {
    EXPECT_NE(n->op(), "MaxPoolGrad");
    EXPECT_NE(n->op(), "_FusedMaxPoolGradReluGrad");
    if (n->op() != "_MaxPoolGradWithWorkspace") continue;
    EXPECT_THAT(InputNames(*n)[0], "relu:0");
    EXPECT_THAT(InputNames(*n)[1], "pool:0");
    EXPECT_THAT(InputNames(*n)[3], "pool:1");
    EXPECT_EQ(n->attr<std::string>("padding"), "SAME");
    if (n->attr<bool>("relu_grad")) {
      ++with_relu;
    } else {
      ++without_relu;
      EXPECT_EQ(n->name(), "other_pool_grad");
    }
  }
  EXPECT_EQ(with_relu, 1);
  EXPECT_EQ(without_relu, 1);
  EXPECT_EQ((*fused)->FindNode("other_relu_grad")->op(), "ReluGrad");
}

TEST(FuseOpsTest, AMaxPoolGradNotOfItsOwnMaxPoolKeepsSearchingTheInput) {
  Scope root = Scope::NewRootScope();
  ConvLayer l = BuildConvLayer(root);
  Output pool = ops::MaxPool(root.WithOpName("pool"), l.relu, {1, 2, 2, 1}, {1, 2, 2, 1}, "SAME");
  Output g = ops::Placeholder(root.WithOpName("g"), DType::kFloat, {2, 3, 3, 4});
  Output y = ops::Placeholder(root.WithOpName("y"), DType::kFloat, {2, 3, 3, 4});
  // Its orig_output is fed, not pooled; another window; another input.
  ops::MaxPoolGrad(root.WithOpName("fed_output"), l.relu, y, g, {1, 2, 2, 1}, {1, 2, 2, 1}, "SAME");
  ops::MaxPoolGrad(root.WithOpName("other_window"), l.relu, pool, g, {1, 3, 3, 1}, {1, 2, 2, 1},
                   "SAME");
  ops::MaxPoolGrad(root.WithOpName("other_input"), l.biased, pool, g, {1, 2, 2, 1}, {1, 2, 2, 1},
                   "SAME");
  ASSERT_TRUE(root.ok()) << root.status();
  PlaceAllOn(root.graph(), kCpu0);

  absl::StatusOr<std::unique_ptr<Graph>> fused = FuseOps(*root.graph());
  ASSERT_TRUE(fused.ok()) << fused.status();
  EXPECT_EQ((*fused)->FindNode("pool")->op(), "MaxPool");
  for (const char* name : {"fed_output", "other_window", "other_input"}) {
    EXPECT_EQ((*fused)->FindNode(name)->op(), "MaxPoolGrad") << name;
  }
}

TEST(FuseOpsTest, UnsupportedFusionsAreRejectedByName) {
  Scope root = Scope::NewRootScope();
  ConvLayer l = BuildConvLayer(root);
  NodeSpec spec;
  spec.name = "elu";
  spec.op = "_FusedConv2D";
  spec.inputs = {l.x, l.w, l.b};
  spec.attrs = {{"strides", std::vector<int64_t>{1, 1, 1, 1}},
                {"padding", std::string("SAME")},
                {"num_args", int64_t{1}},
                {"fused_ops", std::vector<std::string>{"BiasAdd", "Elu"}}};
  absl::StatusOr<Node*> n = root.graph()->AddNode(spec);
  ASSERT_FALSE(n.ok());
  EXPECT_THAT(n.status().message(), ::testing::HasSubstr("[BiasAdd, Elu] is not supported"));

  spec.name = "bad_bias";
  spec.attrs["fused_ops"] = std::vector<std::string>{"BiasAdd"};
  spec.inputs = {l.x, l.w, l.x};
  n = root.graph()->AddNode(spec);
  ASSERT_FALSE(n.ok());
  EXPECT_THAT(n.status().message(), ::testing::HasSubstr("bias must be a vector of 4"));
}

TEST(FuseOpsTest, GraphsWithoutChainsAreCopiedUnchanged) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root.WithOpName("x"), DType::kFloat, {2});
  ops::Relu(root.WithOpName("r"), ops::Add(root, x, x));
  ASSERT_TRUE(root.ok()) << root.status();
  PlaceAllOn(root.graph(), kCpu0);
  absl::StatusOr<std::unique_ptr<Graph>> fused = FuseOps(*root.graph());
  ASSERT_TRUE(fused.ok()) << fused.status();
  EXPECT_THAT(OpsOf(**fused), ElementsAre("Placeholder", "Add", "Relu"));
  EXPECT_THAT((*fused)->FindNode("r")->control_inputs(), IsEmpty());
}

}  // namespace
}  // namespace braid
