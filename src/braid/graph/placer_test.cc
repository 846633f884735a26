#include "braid/graph/placer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/state_ops.h"
#include "braid/graph/partition.h"

namespace braid {
namespace {

using ::testing::HasSubstr;

const char kPs0[] = "/job:ps/replica:0/task:0/device:CPU:0";
const char kPs1[] = "/job:ps/replica:0/task:1/device:CPU:0";
const char kWorker0[] = "/job:worker/replica:0/task:0/device:CPU:0";

PlacerOptions ClusterOptions() {
  PlacerOptions o;
  o.devices = {kWorker0, kPs0, kPs1};
  o.default_device = "/job:worker/task:0";
  return o;
}

TEST(PlacerTest, VariablesAndTheirUpdatesShareADevice) {
  Scope root = Scope::NewRootScope();
  Scope ps = root.WithDevice("/job:ps/task:1");
  Output handle = ops::VarHandleOp(ps.WithOpName("v"), DType::kFloat, TensorShape{2});
  // Reads and updates built without a device request follow the variable.
  Output read = ops::ReadVariableOp(root, handle, DType::kFloat);
  Node* assign = ops::AssignVariableOp(root, handle, ops::Const(root, {1.f, 2.f}));
  Output other = ops::Identity(root, read);
  ASSERT_TRUE(root.ok()) << root.status();
  ASSERT_TRUE(PlaceGraph(root.graph(), ClusterOptions()).ok());
  EXPECT_EQ(handle.node->assigned_device(), kPs1);
  EXPECT_EQ(read.node->assigned_device(), kPs1);
  EXPECT_EQ(assign->assigned_device(), kPs1);
  EXPECT_EQ(other.node->assigned_device(), kWorker0);
}

TEST(PlacerTest, ConflictingRequestsInOneGroupAreAnError) {
  Scope root = Scope::NewRootScope();
  Output handle = ops::VarHandleOp(root.WithDevice("/job:ps/task:0").WithOpName("v"),
                                   DType::kFloat, TensorShape{});
  ops::ReadVariableOp(root.WithDevice("/job:ps/task:1").WithOpName("r"), handle, DType::kFloat);
  absl::Status s = PlaceGraph(root.graph(), ClusterOptions());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot colocate node 'r' (ReadVariableOp)"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("'v' (VarHandleOp)"));
}

TEST(PlacerTest, ImpossiblePlacementNamesTheNodeAndTheDevices) {
  Scope root = Scope::NewRootScope();
  ops::Const(root.WithDevice("/job:ps/task:7").WithOpName("far"), 1.f);
  absl::Status s = PlaceGraph(root.graph(), ClusterOptions());
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot place node 'far' (Const)"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("no device matches '/job:ps/task:7'"));
  EXPECT_THAT(std::string(s.message()), HasSubstr(kPs1));
}

TEST(PlacerTest, PartialRequestsAreCompletedFromTheDefault) {
  Scope root = Scope::NewRootScope();
  Output a = ops::Const(root.WithDevice("/job:ps"), 1.f);
  Output b = ops::Const(root.WithDevice("/device:CPU:0"), 1.f);
  ASSERT_TRUE(PlaceGraph(root.graph(), ClusterOptions()).ok());
  EXPECT_EQ(a.node->assigned_device(), kPs0);
  EXPECT_EQ(b.node->assigned_device(), kWorker0);
}

TEST(PlacerTest, PinnedNodesKeepTheirDevice) {
  Scope root = Scope::NewRootScope();
  Output handle = ops::VarHandleOp(root.WithOpName("v"), DType::kFloat, TensorShape{});
  PlacerOptions o = ClusterOptions();
  o.pinned["v"] = kPs1;
  ASSERT_TRUE(PlaceGraph(root.graph(), o).ok());
  EXPECT_EQ(handle.node->assigned_device(), kPs1);
}

TEST(PlacerTest, ColocateWithJoinsGroups) {
  Scope root = Scope::NewRootScope();
  Output a = ops::Const(root.WithDevice("/job:ps/task:1").WithOpName("a"), 1.f);
  Output b = ops::Const(root.ColocateWith(a), 2.f);
  ASSERT_TRUE(PlaceGraph(root.graph(), ClusterOptions()).ok());
  EXPECT_EQ(b.node->assigned_device(), kPs1);
}

TEST(PartitionTest, CutEdgesBecomeOneSendRecvPairPerTensorAndDevice) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Const(root.WithDevice("/job:ps/task:0").WithOpName("x"), {1.f, 2.f});
  Scope w = root.WithDevice("/job:worker/task:0");
  Output a = ops::Identity(w.WithOpName("a"), x);
  ops::AddN(w.WithOpName("b"), {x, a});
  ops::NoOp(w.WithOpName("after").WithControlDependencies(std::vector<Output>{x}));
  ASSERT_TRUE(PlaceGraph(root.graph(), ClusterOptions()).ok());
  PartitionOptions po;
  po.incarnation = [](const std::string&) { return uint64_t{42}; };
  auto parts = PartitionGraph(*root.graph(), po);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 2u);
  const Graph& ps = *parts->at(kPs0);
  const Graph& worker = *parts->at(kWorker0);
  int sends = 0, recvs = 0;
  for (Node* n : ps.nodes()) sends += n->op() == "_Send";
  for (Node* n : worker.nodes()) recvs += n->op() == "_Recv";
  // One pair for x (shared by a and b), one for the control edge.
  EXPECT_EQ(sends, 2);
  EXPECT_EQ(recvs, 2);
  Node* b_copy = worker.FindNode("b");
  ASSERT_NE(b_copy, nullptr);
  EXPECT_EQ(b_copy->input(0).node->op(), "_Recv");
  EXPECT_EQ(b_copy->input(0).node->attr<std::string>("send_device"), kPs0);
  EXPECT_EQ(b_copy->input(0).node->attr<int64_t>("send_device_incarnation"), 42);
  EXPECT_EQ(b_copy->input(0).shape().DebugString(), "[2]");
  EXPECT_EQ(worker.FindNode("after")->control_inputs()[0]->op(), "_Recv");
}

}  // namespace
}  // namespace braid
