// Focused nn tests beyond the op table: partial shape inference, build-time
// and run-time errors, Dropout, and one kernel instance shared by concurrent
// Compute calls (its primitive cache).
#include "braid/graph/ops/nn_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "braid/graph/ops/core_ops.h"
#include "braid/kernels/nn/nn_test_util.h"
#include "braid/kernels/op_kernel.h"
#include "braid/runtime/device.h"

namespace braid {
namespace {

using nn_test::Random;
using ::testing::HasSubstr;

Output FloatInput(const Scope& s, const TensorShape& shape) {
  return ops::Placeholder(s, DType::kFloat, shape);
}

TEST(NnShapeFns, PartialShapesPropagate) {
  Scope root = Scope::NewRootScope();
  Output x = FloatInput(root, {-1, 5, 5, 3});
  Output f = FloatInput(root, {3, 3, 3, 4});
  Output conv = ops::Conv2D(root, x, f, {1, 2, 2, 1}, "SAME");
  Output pool = ops::MaxPool(root, conv, {1, 2, 2, 1}, {1, 2, 2, 1}, "VALID");
  Output unknown = FloatInput(root, TensorShape::UnknownRank());
  Output mm = ops::MatMul(root, unknown, FloatInput(root, {7, 2}), false, true);
  Output bias = ops::BiasAdd(root, FloatInput(root, {-1, 4}), FloatInput(root, {-1}));
  ops::SoftmaxCrossEntropy xent = ops::SparseSoftmaxCrossEntropyWithLogits(
      root, FloatInput(root, {-1, 10}), ops::Placeholder(root, DType::kInt32, {8}));
  ops::FusedBatchNormOutputs bn =
      ops::FusedBatchNorm(root, FloatInput(root, {-1, 4, 4, -1}), FloatInput(root, {6}),
                          FloatInput(root, {6}), FloatInput(root, {0}), FloatInput(root, {0}));
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(conv.shape().DebugString(), "[?,3,3,4]");
  EXPECT_EQ(pool.shape().DebugString(), "[?,1,1,4]");
  EXPECT_EQ(mm.shape().DebugString(), "[?,7]");
  EXPECT_EQ(bias.shape().DebugString(), "[?,4]");
  EXPECT_EQ(xent.loss.shape().DebugString(), "[8]");
  EXPECT_EQ(xent.backprop.shape().DebugString(), "[8,10]");
  EXPECT_EQ(bn.y.shape().DebugString(), "[?,4,4,6]");
  EXPECT_EQ(bn.batch_mean.shape().DebugString(), "[6]");
  EXPECT_EQ(bn.reserve_space_3.shape().DebugString(), "[0]");
}

TEST(NnShapeFns, ConvBackpropShapesComeFromTheirShapeInputs) {
  Scope root = Scope::NewRootScope();
  Output f = FloatInput(root, {3, 3, 2, 4});
  Output dy = FloatInput(root, {-1, 3, 3, 4});
  Output dx = ops::Conv2DBackpropInput(root, Tensor::FromVector<int32_t>({5, 6, 6, 2}), f, dy,
                                       {1, 2, 2, 1}, "SAME");
  Output sizes = ops::Placeholder(root, DType::kInt32, {4});
  Output dx_unknown = ops::Conv2DBackpropInput(root, sizes, f, dy, {1, 2, 2, 1}, "SAME");
  Output df = ops::Conv2DBackpropFilter(root, FloatInput(root, {-1, 6, 6, 2}), sizes, dy,
                                        {1, 2, 2, 1}, "SAME");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(dx.shape().DebugString(), "[5,6,6,2]");
  EXPECT_EQ(dx_unknown.shape().DebugString(), "[?,?,?,2]");
  EXPECT_EQ(df.shape().DebugString(), "[?,?,2,4]");
}

absl::Status BuildError(const std::function<void(const Scope&)>& build) {
  Scope root = Scope::NewRootScope();
  build(root);
  return root.status();
}

TEST(NnErrors, BuildTimeErrorsNameTheValues) {
  absl::Status s = BuildError([](const Scope& r) {
    ops::MatMul(r, FloatInput(r, {128, 784}), FloatInput(r, {256, 10}));
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("inner dimensions differ: a is [128,784], b is [256,10]"));

  s = BuildError([](const Scope& r) {
    ops::Conv2D(r, FloatInput(r, {1, 5, 5, 3}), FloatInput(r, {3, 3, 2, 4}), {1, 1, 1, 1}, "SAME");
  });
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("input depth 3 must equal the filter's in_channels 2"));

  s = BuildError([](const Scope& r) {
    ops::Conv2D(r, FloatInput(r, {1, 5, 5, 3}), FloatInput(r, {3, 3, 3, 4}), {1, 1, 1}, "SAME");
  });
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("strides must have 4 entries (NHWC), got [1,1,1]"));

  s = BuildError([](const Scope& r) {
    ops::MaxPool(r, FloatInput(r, {1, 5, 5, 3}), {1, 2, 2, 1}, {1, 2, 2, 1}, "FULL");
  });
  EXPECT_THAT(std::string(s.message()), HasSubstr("got 'FULL'"));

  s = BuildError([](const Scope& r) {
    ops::AvgPool(r, FloatInput(r, {1, 2, 2, 3}), {1, 4, 4, 1}, {1, 1, 1, 1}, "VALID");
  });
  EXPECT_THAT(std::string(s.message()), HasSubstr("computed output size would be negative"));

  s = BuildError([](const Scope& r) {
    ops::BiasAdd(r, FloatInput(r, {2, 3}), FloatInput(r, {4}));
  });
  EXPECT_THAT(std::string(s.message()), HasSubstr("bias [4] must match the last dimension"));

  s = BuildError([](const Scope& r) {
    ops::FusedBatchNorm(r, FloatInput(r, {2, 2, 2, 3}), FloatInput(r, {4}), FloatInput(r, {3}),
                        FloatInput(r, {0}), FloatInput(r, {0}));
  });
  EXPECT_THAT(std::string(s.message()), HasSubstr("one value per channel"));

  s = BuildError([](const Scope& r) { ops::Dropout(r, FloatInput(r, {2, 3}), 1.0f); });
  EXPECT_THAT(std::string(s.message()), HasSubstr("Dropout rate must be in [0, 1), got 1"));
}

TEST(NnErrors, LabelOutOfRangeFailsAtRunTime) {
  Scope root = Scope::NewRootScope();
  Output features = FloatInput(root, {3, 4});
  Output labels = ops::Placeholder(root, DType::kInt32, {3});
  ops::SoftmaxCrossEntropy x = ops::SparseSoftmaxCrossEntropyWithLogits(root, features, labels);
  absl::StatusOr<std::vector<Tensor>> out = testing::Evaluate(
      root, {{features, Random({3, 4}, 1)}, {labels, nn_test::Int32s({0, 7, 1})}}, {x.loss});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("label 7 at row 1 is outside the valid range [0, 4)"));
}

TEST(NnErrors, MismatchedRunTimeShapesAreReported) {
  // Unknown static shapes let a mismatch through to the kernel.
  Scope root = Scope::NewRootScope();
  Output a = FloatInput(root, TensorShape::UnknownRank());
  Output b = FloatInput(root, TensorShape::UnknownRank());
  Output mm = ops::MatMul(root, a, b);
  absl::StatusOr<std::vector<Tensor>> out =
      testing::Evaluate(root, {{a, Random({2, 3}, 1)}, {b, Random({4, 2}, 2)}}, {mm});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("inner dimensions differ: a is [2,3], b is [4,2]"));
}

TEST(NnDropout, RateZeroIsIdentity) {
  Scope root = Scope::NewRootScope();
  Output y = ops::Dropout(root, FloatInput(root, {2, 3}), 0.f);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(y.node->op(), "Identity");
}

TEST(NnDropout, KeepsScaledElementsWithProbabilityOneMinusRate) {
  const TensorShape shape{100, 100};
  const Tensor x = Random(shape, 3, 0.5f, 1.5f);
  auto run = [&](int64_t seed) {
    Scope root = Scope::NewRootScope();
    Output in = FloatInput(root, shape);
    Output y = ops::Dropout(root, in, 0.25f, seed);
    absl::StatusOr<std::vector<Tensor>> out = testing::Evaluate(root, {{in, x}}, {y});
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? (*out)[0] : Tensor();
  };
  Tensor y = run(7);
  ASSERT_TRUE(y.initialized());
  int64_t dropped = 0;
  for (int64_t i = 0; i < y.NumElements(); ++i) {
    const float got = y.data<float>()[i], kept = x.data<float>()[i] / 0.75f;
    if (got == 0.f) {
      ++dropped;
    } else {
      EXPECT_NEAR(got, kept, 1e-6f * kept) << "element " << i;
    }
  }
  // 10000 Bernoulli(0.25) draws: 2500 +- 43 (one standard deviation).
  EXPECT_NEAR(static_cast<double>(dropped), 2500.0, 250.0);
  // A fixed seed gives the same mask in a new session.
  EXPECT_TRUE(TensorsEqual(run(7), y));
}

// One kernel instance, many threads, two shapes: the primitive cache must
// serve both without races (see Note [oneDNN primitives under concurrent
// steps]).
TEST(NnKernelConcurrency, SharedMatMulKernel) {
  Scope root = Scope::NewRootScope();
  Output a = FloatInput(root, TensorShape::UnknownRank());
  Output b = FloatInput(root, TensorShape::UnknownRank());
  Output mm = ops::MatMul(root, a, b);
  ASSERT_TRUE(root.ok());
  std::vector<std::unique_ptr<DeviceBase>> devices = CreateCpuDevices("localhost", 0, 1);
  absl::StatusOr<std::unique_ptr<OpKernel>> kernel =
      KernelRegistry::Global()->CreateKernel(*mm.node, devices[0].get());
  ASSERT_TRUE(kernel.ok()) << kernel.status();

  const std::vector<std::vector<Tensor>> problems = {{Random({16, 32}, 1), Random({32, 8}, 2)},
                                                     {Random({5, 7}, 3), Random({7, 9}, 4)}};
  std::vector<Tensor> want;
  for (const auto& p : problems) want.push_back(nn_test::MatMulRef(p[0], p[1], false, false));

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      StepContext step;
      for (int iter = 0; iter < 50; ++iter) {
        const size_t k = (t + iter) % problems.size();
        std::vector<Tensor> inputs = problems[k];
        OpKernelContext ctx(*mm.node, devices[0].get(), &step, &inputs);
        (*kernel)->Compute(&ctx);
        if (!ctx.status().ok()) {
          ++failures;
          continue;
        }
        const Tensor& got = ctx.outputs()[0];
        for (int64_t i = 0; i < got.NumElements(); ++i) {
          if (std::abs(got.data<float>()[i] - want[k].data<float>()[i]) > 1e-4f) {
            ++failures;
            break;
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace braid
