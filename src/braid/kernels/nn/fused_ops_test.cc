// The fused kernels (_FusedConv2D, _FusedMatMul) against the chains they
// replace: the same graph run by a session that fuses (the default) and by
// one that runs every op as built, forward and through the gradients.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "braid/graph/gradients.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/kernels/nn/nn_test_util.h"
#include "braid/runtime/session.h"

namespace braid {
namespace {

using nn_test::Random;
using ::testing::HasSubstr;

std::vector<Tensor> RunWith(const Scope& root, bool fuse, const std::vector<Output>& fetches) {
  SessionOptions options;
  options.fuse_ops = fuse;
  options.intra_op_threads = 2;
  ClientSession session(root, options);
  std::vector<Tensor> out;
  absl::Status s = session.Run({}, fetches, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// Fused and unfused runs agree to float rounding (oneDNN may add the bias
// before or after the sum of products).
void ExpectSameResults(const Scope& root, const std::vector<Output>& fetches) {
  ASSERT_TRUE(root.ok()) << root.status();
  std::vector<Tensor> fused = RunWith(root, true, fetches);
  std::vector<Tensor> plain = RunWith(root, false, fetches);
  ASSERT_EQ(fused.size(), fetches.size());
  ASSERT_EQ(plain.size(), fetches.size());
  for (size_t i = 0; i < fetches.size(); ++i) {
    SCOPED_TRACE(fetches[i].name());
    ASSERT_EQ(fused[i].shape(), plain[i].shape());
    const float* f = fused[i].data<float>();
    const float* p = plain[i].data<float>();
    for (int64_t j = 0; j < fused[i].NumElements(); ++j) {
      ASSERT_NEAR(f[j], p[j], 1e-4f * (1.f + std::abs(p[j]))) << "element " << j;
    }
  }
}

// Loss = sum(layer * weights) so that every output element gets its own
// gradient, and the gradients of the loss with respect to the parameters.
std::vector<Output> LossAndGradients(const Scope& root, Output layer,
                                     const std::vector<Output>& params, uint64_t seed) {
  Output weights = ops::Const(root, Random(layer.shape(), seed));
  std::vector<int32_t> axes;
  for (int i = 0; i < layer.shape().rank(); ++i) axes.push_back(i);
  Output loss = ops::Sum(root, ops::Mul(root, layer, weights),
                         ops::Const(root, Tensor::FromVector<int32_t>(axes)));
  std::vector<Output> grads;
  absl::Status s = AddGradients(root, {loss}, params, {}, &grads);
  EXPECT_TRUE(s.ok()) << s;
  std::vector<Output> fetches = {layer, loss};
  fetches.insert(fetches.end(), grads.begin(), grads.end());
  return fetches;
}

TEST(FusedKernelsTest, ConvBiasReluMatchesTheChainForwardAndBackward) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Const(root, Random({3, 9, 9, 5}, 1));
  Output w = ops::Const(root, Random({3, 3, 5, 8}, 2));
  Output b = ops::Const(root, Random({8}, 3));
  Output relu =
      ops::Relu(root, ops::BiasAdd(root, ops::Conv2D(root, x, w, {1, 2, 2, 1}, "SAME"), b));
  ExpectSameResults(root, LossAndGradients(root, relu, {x, w, b}, 4));
}

TEST(FusedKernelsTest, ReluMaxPoolBackwardMatchesTheChainForTilingAndOverlappingWindows) {
  struct Pool {
    std::vector<int64_t> ksize, strides;
    const char* padding;
  };
  // 2x2/2 tiles the 8x8 activations; 3x3/2 SAME overlaps and pads.
  for (const Pool& p :
       {Pool{{1, 2, 2, 1}, {1, 2, 2, 1}, "VALID"}, Pool{{1, 3, 3, 1}, {1, 2, 2, 1}, "SAME"}}) {
    SCOPED_TRACE(absl::StrCat("ksize ", p.ksize[1], " padding ", p.padding));
    Scope root = Scope::NewRootScope();
    Output x = ops::Const(root, Random({2, 8, 8, 3}, 20));
    Output w = ops::Const(root, Random({3, 3, 3, 16}, 21));
    // A negative bias makes many windows' maxima non-positive.
    Output b = ops::Const(root, Random({16}, 22, -1.5f, 0.5f));
    Output relu =
        ops::Relu(root, ops::BiasAdd(root, ops::Conv2D(root, x, w, {1, 1, 1, 1}, "SAME"), b));
    Output pool = ops::MaxPool(root, relu, p.ksize, p.strides, p.padding);
    ExpectSameResults(root, LossAndGradients(root, pool, {x, w, b}, 23));
  }
}

TEST(FusedKernelsTest, MaxPoolBackwardByWorkspaceMatchesTheSearchForTilingOverlapAndNoWindow) {
  struct Pool {
    std::vector<int64_t> ksize, strides;
    const char* padding;
  };
  // The last window is larger than the 8x8 input: VALID pools nothing.
  for (const Pool& p :
       {Pool{{1, 2, 2, 1}, {1, 2, 2, 1}, "VALID"}, Pool{{1, 3, 3, 1}, {1, 2, 2, 1}, "SAME"},
        Pool{{1, 9, 9, 1}, {1, 1, 1, 1}, "VALID"}}) {
    SCOPED_TRACE(absl::StrCat("ksize ", p.ksize[1], " padding ", p.padding));
    Scope root = Scope::NewRootScope();
    Output x = ops::Const(root, Random({2, 8, 8, 3}, 30));
    Output pool = ops::MaxPool(root, ops::Mul(root, x, x), p.ksize, p.strides, p.padding);
    ExpectSameResults(root, LossAndGradients(root, pool, {x}, 31));
  }
}

TEST(FusedKernelsTest, AWorkspaceOfAnotherPoolingFailsNamingIt) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Const(root, Random({1, 4, 4, 2}, 32));
  Output g = ops::Const(root, Random({1, 2, 2, 2}, 33));
  NodeSpec spec;
  spec.name = "pool_grad";
  spec.op = "_MaxPoolGradWithWorkspace";
  spec.inputs = {x, ops::MaxPool(root, x, {1, 2, 2, 1}, {1, 2, 2, 1}, "VALID"), g,
                 ops::Const(root, Tensor::FromVector<uint8_t>({1, 2, 3}))};
  spec.attrs = {{"ksize", std::vector<int64_t>{1, 2, 2, 1}},
                {"strides", std::vector<int64_t>{1, 2, 2, 1}},
                {"padding", std::string("VALID")}};
  absl::StatusOr<Node*> node = root.graph()->AddNode(spec);
  ASSERT_TRUE(node.ok()) << node.status();
  ClientSession session(root);
  std::vector<Tensor> out;
  absl::Status s = session.Run({Output(*node, 0)}, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("workspace has 3 bytes"));
  EXPECT_THAT(s.message(), HasSubstr("pool_grad"));
}

TEST(FusedKernelsTest, ConvBiasWithoutReluMatchesTheChain) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Const(root, Random({2, 7, 6, 3}, 5));
  Output w = ops::Const(root, Random({2, 3, 3, 4}, 6));
  Output b = ops::Const(root, Random({4}, 7));
  Output biased = ops::BiasAdd(root, ops::Conv2D(root, x, w, {1, 1, 1, 1}, "VALID"), b);
  ExpectSameResults(root, LossAndGradients(root, biased, {x, w, b}, 8));
}

TEST(FusedKernelsTest, MatMulBiasReluMatchesTheChainForEveryTransposition) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      SCOPED_TRACE(absl::StrCat("transpose_a=", ta, " transpose_b=", tb));
      Scope root = Scope::NewRootScope();
      Output a = ops::Const(root, Random(ta ? TensorShape{6, 5} : TensorShape{5, 6}, 9));
      Output bm = ops::Const(root, Random(tb ? TensorShape{7, 6} : TensorShape{6, 7}, 10));
      Output bias = ops::Const(root, Random({7}, 11));
      Output relu = ops::Relu(root, ops::BiasAdd(root, ops::MatMul(root, a, bm, ta, tb), bias));
      ExpectSameResults(root, LossAndGradients(root, relu, {a, bm, bias}, 12));
    }
  }
}

TEST(FusedKernelsTest, MatMulBiasWithoutReluMatchesTheChain) {
  Scope root = Scope::NewRootScope();
  Output a = ops::Const(root, Random({4, 3}, 13));
  Output bm = ops::Const(root, Random({3, 10}, 14));
  Output bias = ops::Const(root, Random({10}, 15));
  Output logits = ops::BiasAdd(root, ops::MatMul(root, a, bm), bias);
  ExpectSameResults(root, LossAndGradients(root, logits, {a, bm, bias}, 16));
}

TEST(FusedKernelsTest, AnEmptyProductGivesTheBiasThroughTheRelu) {
  Scope root = Scope::NewRootScope();
  Output a = ops::Const(root, Tensor(DType::kFloat, TensorShape{2, 0}));
  Output bm = ops::Const(root, Tensor(DType::kFloat, TensorShape{0, 3}));
  Output bias = ops::Const(root, Tensor::FromVector<float>({-1.f, 0.5f, 2.f}));
  Output relu = ops::Relu(root, ops::BiasAdd(root, ops::MatMul(root, a, bm), bias));
  ASSERT_TRUE(root.ok()) << root.status();
  std::vector<Tensor> out = RunWith(root, true, {relu});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(out[0].flat<float>(), ::testing::ElementsAre(0.f, 0.5f, 2.f, 0.f, 0.5f, 2.f));
}

TEST(FusedKernelsTest, AFusedOpWithAWrongBiasFailsAtRunTimeNamingIt) {
  // A bias of unknown shape passes graph construction; the kernel checks it.
  Scope root = Scope::NewRootScope();
  Output x = ops::Const(root, Random({1, 4, 4, 2}, 17));
  Output w = ops::Const(root, Random({3, 3, 2, 6}, 18));
  Output bias = ops::Placeholder(root, DType::kFloat, TensorShape::UnknownRank());
  NodeSpec spec;
  spec.name = "fused";
  spec.op = "_FusedConv2D";
  spec.inputs = {x, w, bias};
  spec.attrs = {{"strides", std::vector<int64_t>{1, 1, 1, 1}},
                {"padding", std::string("SAME")},
                {"num_args", int64_t{1}},
                {"fused_ops", std::vector<std::string>{"BiasAdd", "Relu"}}};
  absl::StatusOr<Node*> fused = root.graph()->AddNode(spec);
  ASSERT_TRUE(fused.ok()) << fused.status();
  ClientSession session(root);
  std::vector<Tensor> out;
  absl::Status s = session.Run({{bias, Random({5}, 19)}}, {Output(*fused, 0)}, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("bias must be a vector of 6"));
}

}  // namespace
}  // namespace braid
