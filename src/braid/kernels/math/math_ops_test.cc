// Math ops beyond the op table: build-time and run-time errors, gradients
// built when shapes are only known at run time, and the random ops.
#include "braid/graph/ops/math_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "braid/graph/gradients.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/random_ops.h"
#include "braid/kernels/math/op_test_util.h"
#include "braid/runtime/session.h"

namespace braid {
namespace {

using op_test::Make;
using testing::Evaluate;
using ::testing::HasSubstr;

void ExpectTensor(const Tensor& got, const Tensor& want, double tol = 1e-5) {
  ASSERT_EQ(got.shape(), want.shape()) << got.DebugString() << " vs " << want.DebugString();
  for (int64_t i = 0; i < want.NumElements(); ++i) {
    EXPECT_NEAR(op_test::At(got, i), op_test::At(want, i), tol) << "element " << i;
  }
}

TEST(MathOpErrors, BadReductionAxisAtBuildTimeNamesTheNode) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat, {2, 3});
  ops::Sum(root.WithOpName("total"), x, 3);
  ASSERT_FALSE(root.ok());
  EXPECT_THAT(root.status().message(), HasSubstr("'total'"));
  EXPECT_THAT(root.status().message(), HasSubstr("axis 3 is out of range"));
  EXPECT_THAT(root.status().message(), HasSubstr("[2,3]"));
}

TEST(MathOpErrors, BadReductionAxisAtRunTime) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat);
  Output axes = ops::Placeholder(root, DType::kInt32);
  Output sum = ops::Sum(root.WithOpName("total"), x, axes);
  ASSERT_TRUE(root.ok()) << root.status();
  absl::StatusOr<std::vector<Tensor>> out =
      Evaluate(root, {{x, op_test::Uniform({2, 3}, 1)}, {axes, op_test::I32({-3})}}, {sum});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("total"));
  EXPECT_THAT(out.status().message(), HasSubstr("reduction axis -3 is out of range"));
}

TEST(MathOpErrors, IncompatibleBroadcast) {
  Scope root = Scope::NewRootScope();
  ops::Add(root.WithOpName("plus"), ops::Placeholder(root, DType::kFloat, {2, 3}),
           ops::Placeholder(root, DType::kFloat, {4}));
  ASSERT_FALSE(root.ok());
  EXPECT_THAT(root.status().message(), HasSubstr("'plus'"));
  EXPECT_THAT(root.status().message(), HasSubstr("[2,3] and [4]"));

  Scope run = Scope::NewRootScope();
  Output x = ops::Placeholder(run, DType::kFloat);
  Output y = ops::Placeholder(run, DType::kFloat);
  Output z = ops::Mul(run, x, y);
  absl::StatusOr<std::vector<Tensor>> out =
      Evaluate(run, {{x, op_test::Uniform({2, 3}, 1)}, {y, op_test::Uniform({2}, 2)}}, {z});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("incompatible shapes for broadcasting"));
}

TEST(MathOpErrors, IntegerDivisionByZero) {
  Scope root = Scope::NewRootScope();
  Output q = ops::Div(root, op_test::I32({4, 5}), op_test::I32({2, 0}));
  absl::StatusOr<std::vector<Tensor>> out = Evaluate(root, {}, {q});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("integer division by zero"));
}

TEST(MathOpErrors, UnsupportedDType) {
  Scope root = Scope::NewRootScope();
  ops::Sqrt(root, op_test::I32({4}));
  ASSERT_FALSE(root.ok());
  EXPECT_THAT(root.status().message(), HasSubstr("int32 is not supported"));
}

// Operands whose shapes are unknown until run time take the
// BroadcastGradientArgs path of ReduceGradToShape.
TEST(MathDynamicGradients, BroadcastWithUnknownShapes) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat);
  Output y = ops::Placeholder(root, DType::kFloat);
  Output z = ops::Mul(root, x, y);
  std::vector<Output> grads;
  ASSERT_TRUE(AddGradients(root, {z}, {x, y}, {}, &grads).ok());
  const Tensor xv = Make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor yv = Make<float>({3}, {10, 20, 30});
  absl::StatusOr<std::vector<Tensor>> out = Evaluate(root, {{x, xv}, {y, yv}}, grads);
  ASSERT_TRUE(out.ok()) << out.status();
  ExpectTensor((*out)[0], Make<float>({2, 3}, {10, 20, 30, 10, 20, 30}));
  ExpectTensor((*out)[1], Make<float>({3}, {5, 7, 9}));
}

TEST(MathDynamicGradients, ReductionsWithRunTimeAxes) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat);
  Output axes = ops::Placeholder(root, DType::kInt32);
  Output mean = ops::Mean(root, x, axes);
  Output max = ops::Max(root, x, axes);
  Output prod = ops::Prod(root, x, axes, /*keep_dims=*/true);
  std::vector<Output> grads;
  ASSERT_TRUE(AddGradients(root, {mean}, {x}, {}, &grads).ok());
  std::vector<Output> max_grads;
  ASSERT_TRUE(AddGradients(root, {max}, {x}, {}, &max_grads).ok());
  std::vector<Output> prod_grads;
  ASSERT_TRUE(AddGradients(root, {prod}, {x}, {}, &prod_grads).ok());
  const Tensor xv = Make<float>({2, 3}, {1, 6, 2, 4, 3, 5});
  absl::StatusOr<std::vector<Tensor>> out = Evaluate(root, {{x, xv}, {axes, op_test::I32({-1})}},
                                                     {mean, grads[0], max_grads[0], prod_grads[0]});
  ASSERT_TRUE(out.ok()) << out.status();
  ExpectTensor((*out)[0], Make<float>({2}, {3, 4}));
  ExpectTensor((*out)[1],
               Make<float>({2, 3}, {1 / 3.f, 1 / 3.f, 1 / 3.f, 1 / 3.f, 1 / 3.f, 1 / 3.f}));
  ExpectTensor((*out)[2], Make<float>({2, 3}, {0, 1, 0, 0, 0, 1}));
  ExpectTensor((*out)[3], Make<float>({2, 3}, {12, 2, 6, 15, 20, 12}));
}

// Runs the three random ops of a graph built with `seed` twice in one session.
std::vector<std::vector<Tensor>> RunRandomGraph(std::optional<int64_t> graph_seed, int64_t op_seed,
                                                DType dtype = DType::kFloat) {
  Scope root = Scope::NewRootScope();
  if (graph_seed) root.graph()->set_seed(*graph_seed);
  std::vector<Output> outs = {ops::RandomUniform(root, {2000}, dtype, op_seed),
                              ops::RandomNormal(root, {2000}, dtype, op_seed),
                              ops::TruncatedNormal(root, {2000}, dtype, op_seed)};
  EXPECT_TRUE(root.ok()) << root.status();
  ClientSession session(root);
  std::vector<std::vector<Tensor>> runs(2);
  for (auto& r : runs) EXPECT_TRUE(session.Run(outs, &r).ok());
  return runs;
}

TEST(MathRandomOps, SeededProgramsRepeatAndRunsAdvance) {
  for (auto [graph_seed, op_seed] :
       std::vector<std::pair<std::optional<int64_t>, int64_t>>{{42, 0}, {42, 5}, {{}, 7}}) {
    auto a = RunRandomGraph(graph_seed, op_seed);
    auto b = RunRandomGraph(graph_seed, op_seed);
    for (int k = 0; k < 3; ++k) {
      EXPECT_TRUE(TensorsEqual(a[0][k], b[0][k])) << "op " << k << " first run";
      EXPECT_TRUE(TensorsEqual(a[1][k], b[1][k])) << "op " << k << " second run";
      EXPECT_FALSE(TensorsEqual(a[0][k], a[1][k])) << "op " << k << " did not advance";
    }
  }
  // Different seeds, and no seeds at all, give different values.
  EXPECT_FALSE(TensorsEqual(RunRandomGraph(42, 0)[0][0], RunRandomGraph(43, 0)[0][0]));
  EXPECT_FALSE(TensorsEqual(RunRandomGraph({}, 0)[0][0], RunRandomGraph({}, 0)[0][0]));
}

TEST(MathRandomOps, Distributions) {
  for (DType dtype : {DType::kFloat, DType::kDouble}) {
    auto runs = RunRandomGraph(1, 0, dtype);
    for (int k = 0; k < 3; ++k) {
      const Tensor& t = runs[0][k];
      ASSERT_EQ(t.dtype(), dtype);
      ASSERT_EQ(t.shape(), TensorShape({2000}));
      double sum = 0, sq = 0, lo = 1e9, hi = -1e9;
      for (int64_t i = 0; i < t.NumElements(); ++i) {
        const double v = op_test::At(t, i);
        sum += v;
        sq += v * v;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      const double mean = sum / t.NumElements();
      const double stddev = std::sqrt(sq / t.NumElements() - mean * mean);
      if (k == 0) {
        EXPECT_GE(lo, 0.0);
        EXPECT_LT(hi, 1.0);
        EXPECT_NEAR(mean, 0.5, 0.03);
      } else if (k == 1) {
        EXPECT_NEAR(mean, 0.0, 0.1);
        EXPECT_NEAR(stddev, 1.0, 0.07);
        EXPECT_GT(hi, 2.0);  // the tails are there
      } else {
        EXPECT_GE(lo, -2.0);
        EXPECT_LE(hi, 2.0);
        EXPECT_NEAR(mean, 0.0, 0.1);
        EXPECT_NEAR(stddev, 0.88, 0.06);  // sd of a normal truncated at 2 sd
      }
    }
  }
}

TEST(MathRandomOps, ShapeFunctionAndBadShape) {
  Scope root = Scope::NewRootScope();
  Output u = ops::RandomUniform(root, {2, 3});
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(u.shape(), TensorShape({2, 3}));
  Output dynamic =
      ops::RandomNormal(root, ops::Shape(root, ops::Placeholder(root, DType::kFloat, {-1, 4})));
  EXPECT_EQ(dynamic.shape().DebugString(), "[?,4]");
  ops::TruncatedNormal(root, {2, -3});
  EXPECT_FALSE(root.ok());
  EXPECT_THAT(root.status().message(), HasSubstr("negative"));
}

}  // namespace
}  // namespace braid
