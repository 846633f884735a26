// Array ops beyond the op table: build-time errors that name the node,
// run-time errors that name the bad value, and gradients whose shapes are
// only known at run time (the dynamic paths of the gradient functions).
#include "braid/graph/ops/array_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "braid/graph/gradients.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/kernels/math/op_test_util.h"

namespace braid {
namespace {

using op_test::I32;
using op_test::Make;
using testing::Evaluate;
using ::testing::HasSubstr;

void ExpectBuildError(const Scope& root, const std::string& node, const std::string& what) {
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(root.status().message(), HasSubstr("'" + node + "'"));
  EXPECT_THAT(root.status().message(), HasSubstr(what));
}

TEST(ArrayOpErrors, ReshapeAtBuildTime) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat, {2, 3});
  ops::Reshape(root.WithOpName("flat"), x, {4, -1});
  ExpectBuildError(root, "flat", "cannot reshape [2,3] (6 elements) into [4,?]");

  Scope two = Scope::NewRootScope();
  ops::Reshape(two.WithOpName("r"), ops::Placeholder(two, DType::kFloat), {-1, -1});
  ExpectBuildError(two, "r", "more than one -1");
}

TEST(ArrayOpErrors, ReshapeAtRunTime) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat);
  Output shape = ops::Placeholder(root, DType::kInt32);
  Output y = ops::Reshape(root.WithOpName("reshaped"), x, shape);
  absl::StatusOr<std::vector<Tensor>> out =
      Evaluate(root, {{x, op_test::Uniform({2, 3}, 1)}, {shape, I32({4, 5})}}, {y});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("reshaped"));
  EXPECT_THAT(out.status().message(), HasSubstr("cannot reshape [2,3] (6 elements) into [4,5]"));
}

TEST(ArrayOpErrors, GatherIndexOutOfRange) {
  Scope root = Scope::NewRootScope();
  Output params = ops::Placeholder(root, DType::kFloat, {5, 2});
  Output g = ops::GatherV2(root.WithOpName("lookup"), params,
                           ops::Const(root, Make<int32_t>({2, 2}, {0, 1, 4, 7})), 0);
  ASSERT_TRUE(root.ok()) << root.status();
  absl::StatusOr<std::vector<Tensor>> out =
      Evaluate(root, {{params, op_test::Uniform({5, 2}, 2)}}, {g});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("lookup"));
  EXPECT_THAT(out.status().message(), HasSubstr("indices[1,1] = 7 is not in [0, 5)"));
}

TEST(ArrayOpErrors, ShapeFunctionsRejectBadValues) {
  {
    Scope root = Scope::NewRootScope();
    ops::Transpose(root.WithOpName("t"), ops::Placeholder(root, DType::kFloat, {2, 3}), {0, 0});
    ExpectBuildError(root, "t", "is not a permutation");
  }
  {
    Scope root = Scope::NewRootScope();
    ops::Concat(root.WithOpName("c"),
                {ops::Placeholder(root, DType::kFloat, {2, 3}),
                 ops::Placeholder(root, DType::kFloat, {3, 3})},
                1);
    ExpectBuildError(root, "c", "only axis 1 may differ");
  }
  {
    Scope root = Scope::NewRootScope();
    ops::Slice(root.WithOpName("s"), ops::Placeholder(root, DType::kFloat, {2, 3}), {1, 1}, {1, 3});
    ExpectBuildError(root, "s", "does not fit in input [2,3]");
  }
  {
    Scope root = Scope::NewRootScope();
    ops::Split(root.WithOpName("sp"), 1, ops::Placeholder(root, DType::kFloat, {2, 5}), 2);
    ExpectBuildError(root, "sp", "not divisible into 2 equal pieces");
  }
  {
    Scope root = Scope::NewRootScope();
    ops::Squeeze(root.WithOpName("sq"), ops::Placeholder(root, DType::kFloat, {2, 3}), {1});
    ExpectBuildError(root, "sq", "its size is 3, not 1");
  }
  {
    Scope root = Scope::NewRootScope();
    ops::BroadcastTo(root.WithOpName("b"), ops::Placeholder(root, DType::kFloat, {2, 3}), {3, 3});
    ExpectBuildError(root, "b", "cannot broadcast [2,3] to [3,3]");
  }
  {
    Scope root = Scope::NewRootScope();
    ops::GatherV2(root.WithOpName("g"), ops::Placeholder(root, DType::kFloat, {2, 3}), 0, 2);
    ExpectBuildError(root, "g", "axis 2 is out of range for rank 2");
  }
}

// Runs d(sum(z * w))/d(x) with x fed `x_value` and extra feeds.
Tensor Grad(const Scope& root, Output z, Output x, const Tensor& w,
            std::vector<std::pair<Output, Tensor>> feeds) {
  std::vector<Output> grads;
  absl::Status s = AddGradients(root, {z}, {x}, {ops::Const(root, w)}, &grads);
  EXPECT_TRUE(s.ok()) << s;
  if (!s.ok()) return Tensor();
  absl::StatusOr<std::vector<Tensor>> out = Evaluate(root, feeds, {grads[0]});
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? (*out)[0] : Tensor();
}

void ExpectEq(const Tensor& got, const Tensor& want) {
  EXPECT_TRUE(TensorsEqual(got, want))
      << "got " << got.DebugString() << ", want " << want.DebugString();
}

TEST(ArrayDynamicGradients, ConcatWithUnknownShapes) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat);
  Output y = ops::Placeholder(root, DType::kFloat);
  Output z = ops::Concat(root, {x, y}, -1);
  const Tensor w = Make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor xv = op_test::Uniform({2, 2}, 1), yv = op_test::Uniform({2, 1}, 2);
  ExpectEq(Grad(root, z, x, w, {{x, xv}, {y, yv}}), Make<float>({2, 2}, {1, 2, 4, 5}));
  ExpectEq(Grad(root, z, y, w, {{x, xv}, {y, yv}}), Make<float>({2, 1}, {3, 6}));
}

TEST(ArrayDynamicGradients, SliceWithRunTimeBegin) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat, {3, 4});
  Output begin = ops::Placeholder(root, DType::kInt32, {2});
  Output z = ops::Slice(root, x, begin, {2, 2});
  ExpectEq(Grad(root, z, x, Make<float>({2, 2}, {1, 2, 3, 4}),
                {{x, op_test::Uniform({3, 4}, 3)}, {begin, I32({1, 1})}}),
           Make<float>({3, 4}, {0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0}));
}

TEST(ArrayDynamicGradients, TileTransposeGatherPad) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat);
  const Tensor xv = op_test::Uniform({2, 1}, 4);
  const Tensor w = Make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  ExpectEq(Grad(root, ops::Tile(root, x, {1, 3}), x, w, {{x, xv}}), Make<float>({2, 1}, {6, 15}));

  Output perm = ops::Placeholder(root, DType::kInt32);
  ExpectEq(Grad(root, ops::Transpose(root, x, perm), x, Make<float>({3, 2}, {1, 2, 3, 4, 5, 6}),
                {{x, op_test::Uniform({2, 3}, 5)}, {perm, I32({1, 0})}}),
           Make<float>({2, 3}, {1, 3, 5, 2, 4, 6}));

  Output rows = ops::Placeholder(root, DType::kFloat, {-1, 3});
  ExpectEq(Grad(root, ops::GatherV2(root, rows, {2, 0, 2}, 0), rows,
                Tensor::Filled<float>({3, 3}, 1), {{rows, op_test::Uniform({3, 3}, 6)}}),
           Make<float>({3, 3}, {1, 1, 1, 0, 0, 0, 2, 2, 2}));
  Output cols = ops::Placeholder(root, DType::kFloat, {2, -1});
  ExpectEq(Grad(root, ops::GatherV2(root, cols, {2, 2, 1}, 1), cols,
                Tensor::Filled<float>({2, 3}, 1), {{cols, op_test::Uniform({2, 3}, 7)}}),
           Make<float>({2, 3}, {0, 1, 2, 0, 1, 2}));

  Output p = ops::Placeholder(root, DType::kFloat);
  Output pads = ops::Const(root, op_test::Make<int64_t>({2, 2}, {1, 0, 0, 1}));
  ExpectEq(Grad(root, ops::Pad(root, p, pads), p, Make<float>({3, 2}, {1, 2, 3, 4, 5, 6}),
                {{p, op_test::Uniform({2, 1}, 8)}}),
           Make<float>({2, 1}, {3, 5}));
}

}  // namespace
}  // namespace braid
