#include "braid/train/optimizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "braid/graph/ops/core_ops.h"
#include "braid/runtime/session.h"

namespace braid {
namespace {

using ::testing::HasSubstr;

// loss = sum(w * w), so the gradient is 2w.
struct Quadratic {
  Scope root = Scope::NewRootScope();
  Variable w;
  Output loss;
  Quadratic(std::vector<float> init) {
    w = ops::MakeVariable(root, "w", TensorShape{static_cast<int64_t>(init.size())},
                          DType::kFloat, Initializer::Zeros());
    loss = root.AddOp("Sum", {root.AddOp("Mul", {w.value, w.value}), Input(0)});
    ops::AssignVariableOp(root.WithOpName("set_w"), w.handle, Tensor::FromVector(init));
  }
};

std::vector<float> Values(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.NumElements()}; }

// Runs `steps` updates of `opt` from w = init and returns w.
std::vector<float> Train(Optimizer& opt, std::vector<float> init, int steps) {
  Quadratic q(init);
  auto train = opt.Minimize(q.root, q.loss);
  EXPECT_TRUE(train.ok()) << train.status();
  Node* init_op = ops::GlobalVariablesInitializer(q.root);
  ClientSession session(q.root);
  std::vector<Tensor> out;
  EXPECT_TRUE(session.Run({}, {}, {init_op}, &out).ok());
  EXPECT_TRUE(session.Run({}, {}, {q.root.graph()->FindNode("set_w")}, &out).ok());
  for (int i = 0; i < steps; ++i) {
    absl::Status s = session.Run({}, {}, {*train}, &out);
    EXPECT_TRUE(s.ok()) << s;
  }
  EXPECT_TRUE(session.Run({q.w.value}, &out).ok());
  return Values(out[0]);
}

TEST(OptimizerTest, GradientDescentStepsAgainstTheGradient) {
  GradientDescentOptimizer sgd(ConstantLearningRate(0.1f));
  auto w = Train(sgd, {1, 2}, 1);
  EXPECT_FLOAT_EQ(w[0], 0.8f);
  EXPECT_FLOAT_EQ(w[1], 1.6f);
}

TEST(OptimizerTest, MomentumAccumulates) {
  // Step 1: accum = g = 2; w = 1 - 0.1*2 = 0.8.
  // Step 2: g = 1.6; accum = 0.9*2 + 1.6 = 3.4; w = 0.8 - 0.34 = 0.46.
  MomentumOptimizer m(ConstantLearningRate(0.1f), 0.9f);
  EXPECT_NEAR(Train(m, {1}, 2)[0], 0.46f, 1e-6);
  // Nesterov, step 1: accum = 2; w = 1 - (0.1*2 + 0.1*0.9*2) = 0.62.
  MomentumOptimizer n(ConstantLearningRate(0.1f), 0.9f, /*use_nesterov=*/true);
  EXPECT_NEAR(Train(n, {1}, 1)[0], 0.62f, 1e-6);
}

TEST(OptimizerTest, AdamMatchesItsUpdateRule) {
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
  double w = 1.5, m = 0, v = 0;
  for (int t = 1; t <= 3; ++t) {
    double g = 2 * w;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    double lr_t = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    w -= lr_t * m / (std::sqrt(v) + eps);
  }
  AdamOptimizer adam(ConstantLearningRate(0.01f));
  EXPECT_NEAR(Train(adam, {1.5f}, 3)[0], w, 1e-6);
}

TEST(OptimizerTest, AdagradAndRMSPropMatchTheirUpdateRules) {
  // Adagrad: accum = 0.1 + 4 = 4.1; w = 1 - 0.5 * 2 / sqrt(4.1).
  AdagradOptimizer ada(ConstantLearningRate(0.5f));
  EXPECT_NEAR(Train(ada, {1}, 1)[0], 1 - 0.5 * 2 / (std::sqrt(4.1) + 1e-7), 1e-6);
  // RMSProp: ms = 0.1 * 4 = 0.4; mom = 0.01 * 2 / sqrt(0.4); w = 1 - mom.
  RMSPropOptimizer rms(ConstantLearningRate(0.01f));
  EXPECT_NEAR(Train(rms, {1}, 1)[0], 1 - 0.01 * 2 / std::sqrt(0.4 + 1e-7), 1e-6);
}

TEST(OptimizerTest, GlobalStepCountsUpdates) {
  Quadratic q({1});
  GradientDescentOptimizer sgd(ConstantLearningRate(0.1f));
  auto train = sgd.Minimize(q.root, q.loss);
  ASSERT_TRUE(train.ok());
  Variable step = GetOrCreateGlobalStep(q.root);
  Node* init = ops::GlobalVariablesInitializer(q.root);
  ClientSession session(q.root);
  std::vector<Tensor> out;
  ASSERT_TRUE(session.Run({}, {}, {init}, &out).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(session.Run({}, {}, {*train}, &out).ok());
  ASSERT_TRUE(session.Run({step.value}, &out).ok());
  EXPECT_EQ(out[0].data<int64_t>()[0], 5);
}

TEST(OptimizerTest, ClippingByGlobalNormScalesAllGradients) {
  Scope root = Scope::NewRootScope();
  Output a = ops::Const(root, {3.f});
  Output b = ops::Const(root, {0.f, 4.f});
  auto [clipped, norm] = ClipByGlobalNorm(root, {a, b}, 1.f);
  std::vector<Tensor> out;
  ClientSession session(root);
  ASSERT_TRUE(session.Run({clipped[0], clipped[1], norm}, &out).ok());
  EXPECT_FLOAT_EQ(out[0].data<float>()[0], 0.6f);
  EXPECT_FLOAT_EQ(out[1].data<float>()[1], 0.8f);
  EXPECT_FLOAT_EQ(out[2].data<float>()[0], 5.f);
}

TEST(OptimizerTest, LearningRateSchedules) {
  Scope root = Scope::NewRootScope();
  Output step = ops::Placeholder(root, DType::kInt64, TensorShape{});
  Output exp = ExponentialDecay(1.f, 10, 0.5f)(root, step);
  Output stairs = ExponentialDecay(1.f, 10, 0.5f, /*staircase=*/true)(root, step);
  Output piece = PiecewiseConstant({10, 20}, {1.f, 0.5f, 0.1f})(root, step);
  Output cosine = CosineDecay(2.f, 100)(root, step);
  ClientSession session(root);
  auto at = [&](int64_t s) {
    std::vector<Tensor> out;
    EXPECT_TRUE(session.Run({{step, Tensor::Scalar<int64_t>(s)}}, {exp, stairs, piece, cosine},
                            &out).ok());
    std::vector<float> v;
    for (const Tensor& t : out) v.push_back(t.data<float>()[0]);
    return v;
  };
  auto s15 = at(15);
  EXPECT_NEAR(s15[0], std::pow(0.5, 1.5), 1e-6);
  EXPECT_NEAR(s15[1], 0.5, 1e-6);
  EXPECT_NEAR(s15[2], 0.5, 1e-6);
  EXPECT_NEAR(at(10)[2], 1.0, 1e-6);
  EXPECT_NEAR(at(21)[2], 0.1, 1e-6);
  EXPECT_NEAR(at(50)[3], 1.0, 1e-5);   // half way: 2 * 0.5 * (1 + cos(pi/2))
  EXPECT_NEAR(at(500)[3], 0.0, 1e-6);  // past the end: alpha = 0
}

TEST(OptimizerTest, ReadingAnUninitializedVariableFailsClearly) {
  Scope root = Scope::NewRootScope();
  Variable v = ops::MakeVariable(root, "weights", TensorShape{2});
  ClientSession session(root);
  std::vector<Tensor> out;
  absl::Status s = session.Run({v.value}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("variable 'weights' is not initialized"));
  ASSERT_TRUE(session.Run({}, {}, {ops::GlobalVariablesInitializer(root)}, &out).ok());
  ASSERT_TRUE(session.Run({v.value}, &out).ok());
  EXPECT_EQ(out[0].shape().DebugString(), "[2]");
  // Assigning the wrong shape is caught when the graph is built.
  ops::AssignVariableOp(root.WithOpName("bad_assign"), v.handle, Tensor::FromVector<float>({1, 2, 3}));
  EXPECT_THAT(std::string(root.status().message()),
              HasSubstr("value of shape [3] cannot be assigned to variable 'weights' of shape [2]"));
}

TEST(OptimizerTest, AssignAddAndSubUpdateInPlaceWithoutTouchingSnapshots) {
  Scope root = Scope::NewRootScope();
  Variable v = ops::MakeVariable(root, "v", TensorShape{2}, DType::kFloat, Initializer::Ones());
  ClientSession session(root);
  std::vector<Tensor> out;
  ASSERT_TRUE(session.Run({}, {}, {ops::GlobalVariablesInitializer(root)}, &out).ok());
  ASSERT_TRUE(session.Run({v.value}, &out).ok());
  Tensor snapshot = out[0];
  Output added = ops::AssignAdd(root, v, Tensor::FromVector<float>({1, 2}));
  Output subbed = ops::AssignSub(root, v, Tensor::FromVector<float>({0.5f, 0.5f}));
  ASSERT_TRUE(session.Run({added}, &out).ok());
  EXPECT_EQ(Values(out[0]), (std::vector<float>{2, 3}));
  ASSERT_TRUE(session.Run({subbed}, &out).ok());
  EXPECT_EQ(Values(out[0]), (std::vector<float>{1.5f, 2.5f}));
  EXPECT_EQ(Values(snapshot), (std::vector<float>{1, 1}));  // copy-on-write kept it
}

}  // namespace
}  // namespace braid
