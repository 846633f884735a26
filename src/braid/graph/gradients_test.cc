#include "braid/graph/gradients.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "braid/graph/op_def.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/shape_fns.h"

namespace braid {
namespace {

using ::testing::HasSubstr;

// An op with no gradient, registered for this test only.
BRAID_REGISTER_OP(OpDefBuilder("TestOpaque")
                      .Input("x: T")
                      .Output("y: T")
                      .TypeAttr("T")
                      .SetShapeFn(UnchangedShape));

TEST(GradientsTest, FanOutIsSummed) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat);
  Output y = ops::AddN(root, {x, ops::Identity(root, x), x});
  std::vector<Output> dx;
  ASSERT_TRUE(AddGradients(root, {y}, {x}, {}, &dx).ok());
  ASSERT_TRUE(dx[0].valid());
  // Three paths reach x: the sum of their contributions is an AddN.
  EXPECT_EQ(dx[0].node->op(), "AddN");
  EXPECT_EQ(dx[0].node->num_inputs(), 3);
  EXPECT_EQ(dx[0].node->name().rfind("gradients/", 0), 0u);
}

TEST(GradientsTest, UnreachableAndStoppedPathsGiveNoGradient) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat);
  Output z = ops::Placeholder(root, DType::kFloat);
  Output y = ops::AddN(root, {ops::StopGradient(root, x), ops::Identity(root, z)});
  std::vector<Output> d;
  ASSERT_TRUE(AddGradients(root, {y}, {x, z}, {}, &d).ok());
  EXPECT_FALSE(d[0].valid());  // only through StopGradient
  EXPECT_TRUE(d[1].valid());
  Output unrelated = ops::Placeholder(root, DType::kFloat);
  ASSERT_TRUE(AddGradients(root, {y}, {unrelated}, {}, &d).ok());
  EXPECT_FALSE(d[0].valid());
}

TEST(GradientsTest, NonFloatEdgesCarryNoGradient) {
  Scope root = Scope::NewRootScope();
  Output i = ops::Placeholder(root, DType::kInt32);
  Output y = ops::AddN(root, {i, i});
  std::vector<Output> d;
  ASSERT_TRUE(AddGradients(root, {y}, {i}, {}, &d).ok());
  EXPECT_FALSE(d[0].valid());
}

TEST(GradientsTest, MissingGradientFunctionIsAnErrorNamingTheOp) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat);
  Output y = root.WithOpName("opaque").AddOp("TestOpaque", {x});
  std::vector<Output> d;
  absl::Status s = AddGradients(root, {y}, {x}, {}, &d);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("no gradient is registered for op TestOpaque"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("'opaque'"));
}

TEST(GradientsTest, GradYsWeightTheOutputsAndMustMatchInCount) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat);
  Output y = ops::Identity(root, x);
  Output w = ops::Const(root, 3.f);
  std::vector<Output> d;
  ASSERT_TRUE(AddGradients(root, {y}, {x}, {w}, &d).ok());
  EXPECT_EQ(d[0], w);  // Identity passes the weight straight through
  EXPECT_FALSE(AddGradients(root, {y}, {x}, {w, w}, &d).ok());
}

}  // namespace
}  // namespace braid
