#include "braid/graph/graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "braid/graph/device_name.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/scope.h"
#include "tensorflow/core/framework/graph.pb.h"

namespace braid {
namespace {

using ::testing::HasSubstr;

TEST(GraphTest, ValidatesInputsAgainstTheOpDef) {
  Graph g;
  auto c = g.AddNode({"c", "Const", {}, {}, {{"value", Tensor::Scalar(1.f)}, {"dtype", DType::kFloat}}});
  ASSERT_TRUE(c.ok());
  auto i = g.AddNode({"i", "Const", {}, {}, {{"value", Tensor::Scalar(1)}, {"dtype", DType::kInt32}}});
  ASSERT_TRUE(i.ok());
  // AddN's inputs share one type T.
  auto bad = g.AddNode({"sum", "AddN", {Output(*c, 0), Output(*i, 0)}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("node 'sum' (AddN): input 'inputs' (i:0) has dtype int32 but T is float32"));
  EXPECT_THAT(std::string(g.AddNode({"x", "Identity", {}}).status().message()),
              HasSubstr("expects 1 inputs, got 0"));
  EXPECT_THAT(std::string(g.AddNode({"x", "NoSuchOp", {}}).status().message()),
              HasSubstr("op is not registered"));
  EXPECT_THAT(std::string(g.AddNode({"c", "NoOp", {}}).status().message()),
              HasSubstr("already exists"));
  EXPECT_THAT(std::string(g.AddNode({"p", "Placeholder", {}}).status().message()),
              HasSubstr("required attr 'dtype' is missing"));
  EXPECT_THAT(
      std::string(g.AddNode({"p", "Placeholder", {}, {}, {{"dtype", DType::kFloat}, {"bogus", 1.f}}})
                      .status()
                      .message()),
      HasSubstr("unknown attr 'bogus'"));
  EXPECT_THAT(std::string(g.AddNode({"p", "Placeholder", {}, {}, {{"dtype", DType::kFloat},
                                                                   {"shape", int64_t{3}}}})
                              .status()
                              .message()),
              HasSubstr("attr 'shape' must be shape, got int"));
  // Failed additions leave nothing behind.
  EXPECT_EQ(g.num_nodes(), 2);
}

TEST(GraphTest, ScopesNameUniquelyAndMergeDevices) {
  Scope root = Scope::NewRootScope();
  Scope layer = root.NewSubScope("dense").WithDevice("/job:ps/task:1");
  Output a = ops::Const(layer, 1.f);
  Output b = ops::Const(layer, 2.f);
  Output c = ops::Const(layer.WithDevice("/device:CPU:3").WithOpName("c"), 3.f);
  Scope other = root.NewSubScope("dense");
  Output d = ops::Const(other, 4.f);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(a.node->name(), "dense/Const");
  EXPECT_EQ(b.node->name(), "dense/Const_1");
  EXPECT_EQ(c.node->name(), "dense/c");
  EXPECT_EQ(d.node->name(), "dense_1/Const");
  EXPECT_EQ(a.node->requested_device(), "/job:ps/task:1");
  EXPECT_EQ(c.node->requested_device(), "/job:ps/task:1/device:CPU:3");
  Scope broken = root.WithDevice("job:ps");
  EXPECT_FALSE(broken.ok());
  EXPECT_THAT(std::string(broken.status().message()), HasSubstr("must start with '/'"));
}

TEST(GraphTest, FirstBuildErrorStaysInTheScope) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Const(root, 1.f);
  Output y = ops::Const(root, 1);
  Output bad = ops::AddN(root.WithOpName("bad"), {x, y});
  EXPECT_FALSE(bad.valid());
  Output later = ops::Identity(root, bad);  // no-op once the scope failed
  EXPECT_FALSE(later.valid());
  EXPECT_THAT(std::string(root.status().message()), HasSubstr("node 'bad' (AddN)"));
}

TEST(GraphTest, LiteralsTakeTheDtypeTheOpNeeds) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kDouble);
  Output s = root.AddOp("AddN", {x, 2});
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(s.dtype(), DType::kDouble);
  EXPECT_EQ(s.node->input(1).node->attr<Tensor>("value").data<double>()[0], 2.0);
  root.AddOp("AddN", {x, 2.5f});
  ASSERT_TRUE(root.ok());
  Output i = ops::Placeholder(root, DType::kInt32);
  root.AddOp("AddN", {i, 2.5f});
  EXPECT_THAT(std::string(root.status().message()), HasSubstr("cannot be converted to int32"));
}

TEST(GraphTest, ControlEdgesCannotCloseACycle) {
  Scope root = Scope::NewRootScope();
  Output a = ops::Const(root, 1.f);
  Output b = ops::Identity(root, a);
  Output c = ops::Identity(root, b);
  auto s = root.graph()->AddControlEdge(c.node, a.node);
  EXPECT_THAT(std::string(s.message()), HasSubstr("would create a cycle"));
  EXPECT_TRUE(root.graph()->AddControlEdge(a.node, c.node).ok());
}

TEST(GraphTest, GraphDefRoundTripKeepsEverything) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root.WithOpName("x"), DType::kFloat, TensorShape{-1, 3});
  Output y = ops::AddN(root.WithOpName("y").WithDevice("/device:CPU:0"), {x, x});
  ops::Group(root.WithOpName("done"), {y});
  tensorflow::GraphDef def;
  root.graph()->ToGraphDef(&def);
  ASSERT_EQ(def.node_size(), 3);
  EXPECT_EQ(def.node(1).input(0), "x");
  EXPECT_EQ(def.node(2).input(0), "^y");
  EXPECT_EQ(def.node(1).device(), "/device:CPU:0");
  EXPECT_EQ(def.node(1).attr().at("_output_shapes").list().shape(0).dim(1).size(), 3);
  // Reversed node order still parses (nodes may come in any order).
  tensorflow::GraphDef reversed;
  for (int i = def.node_size() - 1; i >= 0; --i) *reversed.add_node() = def.node(i);
  auto g = Graph::FromGraphDef(reversed);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ((*g)->FindNode("y")->output_shape(0).DebugString(), "[?,3]");
  EXPECT_EQ((*g)->FindNode("done")->control_inputs()[0]->name(), "y");
  // A cycle and a dangling input are rejected with the nodes named.
  tensorflow::GraphDef cyclic = def;
  cyclic.mutable_node(0)->add_input("^done");
  EXPECT_THAT(std::string(Graph::FromGraphDef(cyclic).status().message()), HasSubstr("cycle"));
  tensorflow::GraphDef dangling = def;
  dangling.mutable_node(1)->set_input(0, "ghost:0");
  EXPECT_THAT(std::string(Graph::FromGraphDef(dangling).status().message()),
              HasSubstr("input 'ghost:0' naming a node that does not exist"));
}

TEST(DeviceNameTest, ParsesFullPartialAndLegacyForms) {
  auto full = DeviceName::Parse("/job:ps/replica:0/task:1/device:CPU:0");
  ASSERT_TRUE(full.ok());
  EXPECT_TRUE(full->IsFull());
  EXPECT_EQ(full->ToString(), "/job:ps/replica:0/task:1/device:CPU:0");
  auto partial = DeviceName::Parse("/job:ps/task:1");
  ASSERT_TRUE(partial.ok());
  EXPECT_TRUE(partial->Matches(*full));
  EXPECT_FALSE(DeviceName::Parse("/job:ps/task:2")->Matches(*full));
  EXPECT_EQ(DeviceName::Parse("/cpu:1")->ToString(), "/device:CPU:1");
  EXPECT_EQ(DeviceName::Parse("/device:cpu:*")->ToString(), "/device:CPU:*");
  EXPECT_THAT(std::string(DeviceName::Parse("/job:ps/tsk:1").status().message()),
              HasSubstr("unknown part 'tsk:1'"));
  EXPECT_THAT(std::string(DeviceName::Parse("/task:x").status().message()),
              HasSubstr("bad task index"));
  EXPECT_EQ(*MergeDeviceStrings("/job:ps/task:0", "/task:3/device:CPU:1"),
            "/job:ps/task:3/device:CPU:1");
}

}  // namespace
}  // namespace braid
