#include "braid/train/replica_device_setter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/graph/placer.h"
#include "braid/runtime/session.h"
#include "braid/train/optimizer.h"
#include "braid/train/partitioned_variable.h"

namespace braid {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Strategy = ReplicaDeviceSetterOptions::Strategy;

const char kPs0[] = "/job:ps/replica:0/task:0/device:CPU:0";
const char kPs1[] = "/job:ps/replica:0/task:1/device:CPU:0";
const char kWorker0[] = "/job:worker/replica:0/task:0/device:CPU:0";
const char kWorker1[] = "/job:worker/replica:0/task:1/device:CPU:0";

ReplicaDeviceSetterOptions TwoPs(Strategy strategy = Strategy::kGreedyByBytes) {
  ReplicaDeviceSetterOptions o;
  o.num_ps_tasks = 2;
  o.strategy = strategy;
  o.worker_device = "/job:worker/task:1";
  return o;
}

PlacerOptions Cluster(const std::string& default_device = kWorker1) {
  PlacerOptions o;
  o.devices = {kPs0, kPs1, kWorker0, kWorker1};
  o.default_device = default_device;
  return o;
}

// Variables v0..v4 of 4 MB, 40 B, 4 MB, 1 MB and 40 B.
Scope UnevenVariables() {
  Scope root = Scope::NewRootScope();
  const std::vector<TensorShape> shapes = {{1000, 1000}, {10}, {1000, 1000}, {500, 500}, {10}};
  for (size_t i = 0; i < shapes.size(); ++i)
    ops::MakeVariable(root, "v" + std::to_string(i), shapes[i], DType::kFloat,
                      Initializer::Zeros());
  return root;
}

std::string RequestOf(const Scope& root, const std::string& name) {
  Node* n = root.graph()->FindNode(name);
  return n == nullptr ? "<missing " + name + ">" : n->requested_device();
}

double MaxOverMin(const PlacementReport& r) {
  auto [lo, hi] = std::minmax_element(
      r.tasks.begin(), r.tasks.end(),
      [](const PsTaskLoad& a, const PsTaskLoad& b) { return a.bytes < b.bytes; });
  return static_cast<double>(hi->bytes) / static_cast<double>(lo->bytes);
}

TEST(ReplicaDeviceSetterTest, GreedyByBytesBalancesBetterThanRoundRobin) {
  Scope rr = UnevenVariables();
  auto rr_report = AssignVariablesToPs(rr.graph(), TwoPs(Strategy::kRoundRobin));
  ASSERT_TRUE(rr_report.ok()) << rr_report.status();
  // Graph order, alternating: both 4 MB variables land on task 0.
  EXPECT_THAT(rr_report->tasks[0].variables, ElementsAre("v0", "v2", "v4"));
  EXPECT_THAT(rr_report->tasks[1].variables, ElementsAre("v1", "v3"));
  EXPECT_EQ(rr_report->tasks[0].bytes, 8'000'040);
  EXPECT_EQ(rr_report->tasks[1].bytes, 1'000'040);
  EXPECT_EQ(RequestOf(rr, "v2"), "/job:ps/task:0");
  EXPECT_EQ(RequestOf(rr, "v3"), "/job:ps/task:1");
  EXPECT_GT(MaxOverMin(*rr_report), 7.9);

  Scope greedy = UnevenVariables();
  auto report = AssignVariablesToPs(greedy.graph(), TwoPs());
  ASSERT_TRUE(report.ok()) << report.status();
  // Largest first: v0 -> 0, v2 -> 1, v3 -> 0, then the small ones to task 1.
  EXPECT_THAT(report->tasks[0].variables, ElementsAre("v0", "v3"));
  EXPECT_THAT(report->tasks[1].variables, ElementsAre("v1", "v2", "v4"));
  EXPECT_EQ(report->tasks[0].bytes, 5'000'000);
  EXPECT_EQ(report->tasks[1].bytes, 4'000'080);
  EXPECT_EQ(RequestOf(greedy, "v0"), "/job:ps/task:0");
  EXPECT_EQ(RequestOf(greedy, "v1"), "/job:ps/task:1");
  EXPECT_EQ(RequestOf(greedy, "v2"), "/job:ps/task:1");
  EXPECT_EQ(RequestOf(greedy, "v3"), "/job:ps/task:0");
  EXPECT_EQ(RequestOf(greedy, "v4"), "/job:ps/task:1");
  EXPECT_LT(MaxOverMin(*report), 1.26);
  EXPECT_EQ(report->ToString(), "ps:0  2 variables  5.00 MB\nps:1  3 variables  4.00 MB");
}

TEST(ReplicaDeviceSetterTest, VariablesAndEveryOpOnThemLandOnTheirPsTask) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root.WithOpName("x"), DType::kFloat, TensorShape{-1, 8});
  Output y = ops::Placeholder(root.WithOpName("y"), DType::kFloat, TensorShape{-1, 2});
  Variable w1 = ops::MakeVariable(root, "w1", TensorShape{8, 16});
  Variable b1 = ops::MakeVariable(root, "b1", TensorShape{16}, DType::kFloat, Initializer::Zeros());
  Variable w2 = ops::MakeVariable(root, "w2", TensorShape{16, 2});
  Variable b2 = ops::MakeVariable(root, "b2", TensorShape{2}, DType::kFloat, Initializer::Zeros());
  Output h = ops::Relu(root, ops::BiasAdd(root, ops::MatMul(root, x, w1.value), b1.value));
  Output out = ops::BiasAdd(root, ops::MatMul(root, h, w2.value), b2.value);
  Output loss = ops::Mean(root, ops::Square(root, ops::Sub(root, out, y)), {0, 1});
  AdamOptimizer adam(ConstantLearningRate(1e-3f));
  auto train = adam.Minimize(root, loss);
  ASSERT_TRUE(train.ok()) << train.status();
  ops::GlobalVariablesInitializer(root);
  ASSERT_TRUE(root.ok()) << root.status();

  auto report = AssignVariablesToPs(root.graph(), TwoPs());
  ASSERT_TRUE(report.ok()) << report.status();
  // 4 variables, their 8 Adam slots and global_step, spread over both tasks.
  EXPECT_EQ(report->tasks[0].variables.size() + report->tasks[1].variables.size(), 13u);
  EXPECT_FALSE(report->tasks[0].variables.empty());
  EXPECT_FALSE(report->tasks[1].variables.empty());
  ASSERT_TRUE(PlaceGraph(root.graph(), Cluster()).ok());

  std::map<std::string, std::string> task_of;  // variable -> device, from the report
  for (int t = 0; t < 2; ++t)
    for (const std::string& v : report->tasks[t].variables) task_of[v] = t == 0 ? kPs0 : kPs1;
  // A slot lives with its variable.
  EXPECT_EQ(task_of.at("w1/Adam_m"), task_of.at("w1"));
  EXPECT_EQ(task_of.at("b2/Adam_v"), task_of.at("b2"));

  std::map<std::string, int> ops_on_variables;
  for (Node* node : root.graph()->nodes()) {
    if (node->op() == "VarHandleOp") {
      EXPECT_EQ(node->assigned_device(), task_of.at(node->name())) << node->DebugName();
    }
    bool takes_a_handle = false;
    for (const Output& in : node->inputs()) {
      if (in.dtype() != DType::kResource) continue;
      takes_a_handle = true;
      EXPECT_EQ(node->assigned_device(), task_of.at(in.node->name())) << node->DebugName();
    }
    if (takes_a_handle) ++ops_on_variables[node->op()];
    if (node->op() == "MatMul" || node->op() == "Placeholder") {
      EXPECT_EQ(node->assigned_device(), kWorker1) << node->DebugName();
    }
  }
  EXPECT_GE(ops_on_variables["ReadVariableOp"], 13);
  EXPECT_EQ(ops_on_variables["ResourceApplyAdam"], 4);
  EXPECT_EQ(ops_on_variables["AssignAddVariableOp"], 1);  // global_step += 1
  EXPECT_EQ(ops_on_variables["AssignVariableOp"], 13);    // initializers
}

TEST(ReplicaDeviceSetterTest, WorkerDeviceKeepsTheRestOfTheGraphOnTheWorker) {
  Scope root = Scope::NewRootScope();
  Variable w = ops::MakeVariable(root, "w", TensorShape{4, 4});
  Output x = ops::Placeholder(root.WithOpName("x"), DType::kFloat, TensorShape{-1, 4});
  Output y = ops::MatMul(root.WithOpName("y"), x, w.value);
  Output z = ops::Relu(root.WithDevice("/device:CPU:0").WithOpName("z"), y);
  Output elsewhere = ops::Relu(root.WithDevice("/job:worker/task:0").WithOpName("elsewhere"), y);
  ASSERT_TRUE(root.ok()) << root.status();
  ASSERT_TRUE(AssignVariablesToPs(root.graph(), TwoPs()).ok());
  EXPECT_EQ(y.node->requested_device(), "/job:worker/task:1");
  EXPECT_EQ(z.node->requested_device(), "/job:worker/task:1/device:CPU:0");
  EXPECT_EQ(elsewhere.node->requested_device(), "/job:worker/task:0");
  // The read has no request of its own: it follows the variable.
  EXPECT_EQ(w.value.node->requested_device(), "");

  // Without the pass these would follow the default device to worker 0.
  ASSERT_TRUE(PlaceGraph(root.graph(), Cluster(kWorker0)).ok());
  EXPECT_EQ(w.handle.node->assigned_device(), kPs0);
  EXPECT_EQ(w.value.node->assigned_device(), kPs0);
  EXPECT_EQ(y.node->assigned_device(), kWorker1);
  EXPECT_EQ(z.node->assigned_device(), kWorker1);
  EXPECT_EQ(elsewhere.node->assigned_device(), kWorker0);
}

TEST(ReplicaDeviceSetterTest, KeepsOtherRequestPartsAndExplicitJobs) {
  Scope root = Scope::NewRootScope();
  ops::MakeVariable(root.WithDevice("/job:ps/task:1"), "fixed", TensorShape{100}, DType::kFloat,
                    Initializer::Zeros());
  ops::MakeVariable(root.WithDevice("/job:worker/task:0"), "local", TensorShape{1000},
                    DType::kFloat, Initializer::Zeros());
  ops::MakeVariable(root.WithDevice("/device:CPU:0"), "typed", TensorShape{10}, DType::kFloat,
                    Initializer::Zeros());
  ops::MakeVariable(root.WithDevice("/job:ps"), "any_ps", TensorShape{10}, DType::kFloat,
                    Initializer::Zeros());
  ASSERT_TRUE(root.ok()) << root.status();
  auto report = AssignVariablesToPs(root.graph(), TwoPs());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(RequestOf(root, "fixed"), "/job:ps/task:1");
  EXPECT_EQ(RequestOf(root, "local"), "/job:worker/task:0");
  // "fixed" (400 B) already loads task 1, so both free variables go to task 0.
  EXPECT_EQ(RequestOf(root, "typed"), "/job:ps/task:0/device:CPU:0");
  EXPECT_EQ(RequestOf(root, "any_ps"), "/job:ps/task:0");
  EXPECT_THAT(report->tasks[0].variables, ElementsAre("typed", "any_ps"));
  EXPECT_THAT(report->tasks[1].variables, ElementsAre("fixed"));
  EXPECT_EQ(report->ToString(), "ps:0  2 variables  80 B\nps:1  1 variable  400 B");
}

TEST(ReplicaDeviceSetterTest, ReapplyingKeepsEarlierAssignmentsAndBalancesNewOnes) {
  Scope root = UnevenVariables();
  ASSERT_TRUE(AssignVariablesToPs(root.graph(), TwoPs()).ok());
  ASSERT_TRUE(PlaceGraph(root.graph(), Cluster()).ok());
  std::vector<std::string> before;
  for (int i = 0; i < 5; ++i) before.push_back(RequestOf(root, "v" + std::to_string(i)));

  // Loads are 5 MB and 4 MB: a 1 MB variable evens them, then a 40 B one goes
  // to the (now) lighter task 0.
  ops::MakeVariable(root, "v5", TensorShape{500, 500}, DType::kFloat, Initializer::Zeros());
  ops::MakeVariable(root, "v6", TensorShape{10}, DType::kFloat, Initializer::Zeros());
  auto report = AssignVariablesToPs(root.graph(), TwoPs());
  ASSERT_TRUE(report.ok()) << report.status();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(RequestOf(root, "v" + std::to_string(i)), before[i]);
  EXPECT_EQ(RequestOf(root, "v5"), "/job:ps/task:1");
  EXPECT_EQ(RequestOf(root, "v6"), "/job:ps/task:0");
  EXPECT_EQ(report->tasks[0].bytes, 5'000'040);
  EXPECT_EQ(report->tasks[1].bytes, 5'000'080);

  // A variable placed by an earlier run (no request, an assigned device)
  // stays and counts: the next one goes to the other task.
  Variable placed = ops::MakeVariable(root, "placed", TensorShape{1000, 1000}, DType::kFloat,
                                      Initializer::Zeros());
  placed.handle.node->set_assigned_device(kPs0);
  ops::MakeVariable(root, "v7", TensorShape{10}, DType::kFloat, Initializer::Zeros());
  report = AssignVariablesToPs(root.graph(), TwoPs());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(RequestOf(root, "placed"), "");
  EXPECT_EQ(RequestOf(root, "v7"), "/job:ps/task:1");
  EXPECT_EQ(report->tasks[0].bytes, 9'000'040);
  EXPECT_EQ(report->tasks[1].bytes, 5'000'120);
  // (A session pins the devices of stateful nodes it placed before.)
  PlacerOptions cluster = Cluster();
  cluster.pinned[placed.handle.node->name()] = kPs0;
  ASSERT_TRUE(PlaceGraph(root.graph(), cluster).ok());
  EXPECT_EQ(placed.value.node->assigned_device(), kPs0);
  EXPECT_EQ(root.graph()->FindNode("v7")->assigned_device(), kPs1);
}

TEST(ReplicaDeviceSetterTest, RejectsBadOptions) {
  Scope root = UnevenVariables();
  ReplicaDeviceSetterOptions options;
  options.num_ps_tasks = 0;
  auto report = AssignVariablesToPs(root.graph(), options);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(report.status().message()),
              HasSubstr("num_ps_tasks must be at least 1, got 0"));
  options.num_ps_tasks = 1;
  options.worker_device = "worker:1";
  report = AssignVariablesToPs(root.graph(), options);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(report.status().message()), HasSubstr("worker:1"));
  // Nothing was changed by the failed calls.
  EXPECT_EQ(RequestOf(root, "v0"), "");
}

TEST(PartitionedVariableTest, FixedShardCountSplitsRowsLikeTensorFlow) {
  Scope root = Scope::NewRootScope();
  auto pv = MakePartitionedVariable(root, "emb", TensorShape{10, 4}, DType::kFloat,
                                    Partitioner{.num_shards = 3});
  ASSERT_TRUE(pv.ok()) << pv.status();
  ASSERT_EQ(pv->shards.size(), 3u);
  EXPECT_EQ(pv->shards[0].value.shape(), (TensorShape{4, 4}));
  EXPECT_EQ(pv->shards[1].value.shape(), (TensorShape{3, 4}));
  EXPECT_EQ(pv->shards[2].value.shape(), (TensorShape{3, 4}));
  EXPECT_EQ(pv->shards[0].handle.node->name(), "emb/part_0");
  EXPECT_EQ(pv->shards[2].handle.node->name(), "emb/part_2");
  EXPECT_EQ(pv->value.shape(), (TensorShape{10, 4}));
  EXPECT_EQ(root.graph()->collection("trainable_variables").size(), 3u);
  EXPECT_EQ(root.graph()->collection("initializers").size(), 3u);
  // More shards than rows: one row each.
  EXPECT_THAT(*PartitionRows(TensorShape{2, 4}, DType::kFloat, {.num_shards = 5}),
              ElementsAre(1, 1));
}

TEST(PartitionedVariableTest, MinShardBytesPicksTheCount) {
  const TensorShape shape{10, 4};  // rows of 16 bytes
  auto rows = [&](int64_t min_bytes, int max_shards = 0) {
    auto r = PartitionRows(shape, DType::kFloat,
                           {.min_shard_bytes = min_bytes, .max_shards = max_shards});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<int64_t>{};
  };
  EXPECT_THAT(rows(48), ElementsAre(4, 3, 3));  // 3 rows = 48 B each at least
  EXPECT_THAT(rows(50), ElementsAre(5, 5));     // 3 rows would be 2 B short
  EXPECT_THAT(rows(16), ElementsAre(1, 1, 1, 1, 1, 1, 1, 1, 1, 1));
  EXPECT_THAT(rows(16, 4), ElementsAre(3, 3, 2, 2));
  EXPECT_THAT(rows(1 << 20), ElementsAre(10));  // smaller than one shard

  Scope root = Scope::NewRootScope();
  auto pv = MakePartitionedVariable(root, "w", shape, DType::kFloat, {.min_shard_bytes = 50},
                                    Initializer::Zeros());
  ASSERT_TRUE(pv.ok()) << pv.status();
  EXPECT_EQ(pv->shards.size(), 2u);
}

TEST(PartitionedVariableTest, BadPartitionersAreRejected) {
  auto none = PartitionRows(TensorShape{10, 4}, DType::kFloat, {});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("num_shards > 0 or min_shard_bytes"));
  auto scalar = PartitionRows(TensorShape{}, DType::kFloat, {.num_shards = 2});
  EXPECT_EQ(scalar.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(scalar.status().message()), HasSubstr("got []"));
  auto negative = PartitionRows(TensorShape{10}, DType::kFloat, {.num_shards = -1});
  EXPECT_THAT(std::string(negative.status().message()), HasSubstr("num_shards=-1"));
}

TEST(PartitionedVariableTest, ShardsSpreadOverPsTasksAndTheConcatStaysOnTheWorker) {
  Scope root = Scope::NewRootScope();
  auto pv =
      MakePartitionedVariable(root, "emb", TensorShape{10, 4}, DType::kFloat, {.num_shards = 3});
  ASSERT_TRUE(pv.ok()) << pv.status();
  auto report = AssignVariablesToPs(root.graph(), TwoPs());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->tasks[0].variables, ElementsAre("emb/part_0"));
  EXPECT_THAT(report->tasks[1].variables, ElementsAre("emb/part_1", "emb/part_2"));
  ASSERT_TRUE(PlaceGraph(root.graph(), Cluster(kWorker0)).ok());
  EXPECT_EQ(pv->shards[0].value.node->assigned_device(), kPs0);
  EXPECT_EQ(pv->shards[2].value.node->assigned_device(), kPs1);
  EXPECT_EQ(pv->value.node->assigned_device(), kWorker1);
}

// A linear least-squares model trained with Adam through `w`, a [10, 4]
// variable set to `initial`; returns the loss of each step and the final w.
struct Trajectory {
  std::vector<float> losses;
  std::vector<float> final_w;
  std::vector<std::vector<float>> final_shards;
};

std::vector<float> Pattern(int64_t n, float scale, float shift) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = scale * static_cast<float>((i * 7) % 11) + shift;
  return v;
}

std::vector<float> Values(const Tensor& t) {
  return {t.data<float>(), t.data<float>() + t.NumElements()};
}

Trajectory TrainLinear(int num_shards, const std::vector<float>& initial) {
  Scope root = Scope::NewRootScope();
  const TensorShape shape{10, 4};
  std::vector<Variable> parts;
  Output w;
  if (num_shards > 0) {
    auto pv = MakePartitionedVariable(root, "w", shape, DType::kFloat, {.num_shards = num_shards},
                                      Initializer::Zeros());
    EXPECT_TRUE(pv.ok()) << pv.status();
    if (!pv.ok()) return {};
    parts = pv->shards;
    w = pv->value;
  } else {
    parts = {ops::MakeVariable(root, "w", shape, DType::kFloat, Initializer::Zeros())};
    w = parts[0].value;
  }
  // The same initial value, row block by row block.
  std::vector<Node*> set;
  int64_t row = 0;
  for (const Variable& p : parts) {
    const int64_t rows = p.value.shape().dim(0);
    std::vector<float> block(initial.begin() + row * 4, initial.begin() + (row + rows) * 4);
    set.push_back(
        ops::AssignVariableOp(root, p.handle, Tensor::FromVector(block, TensorShape{rows, 4})));
    row += rows;
  }
  Output x = ops::Const(root, Tensor::FromVector(Pattern(60, 0.1f, -0.5f), TensorShape{6, 10}));
  Output y = ops::Const(root, Tensor::FromVector(Pattern(24, 0.2f, -1.f), TensorShape{6, 4}));
  Output loss =
      ops::Mean(root, ops::Square(root, ops::Sub(root, ops::MatMul(root, x, w), y)), {0, 1});
  AdamOptimizer adam(ConstantLearningRate(0.05f));
  auto train = adam.Minimize(root, loss);
  EXPECT_TRUE(train.ok()) << train.status();
  Node* init = ops::GlobalVariablesInitializer(root);

  SessionOptions options;
  options.num_cpu_devices = 1;
  options.inter_op_threads = 1;
  options.intra_op_threads = 1;
  ClientSession session(root, options);
  std::vector<Tensor> out;
  absl::Status s = session.Run({}, {}, {init}, &out);
  EXPECT_TRUE(s.ok()) << s;
  s = session.Run({}, {}, set, &out);
  EXPECT_TRUE(s.ok()) << s;
  Trajectory t;
  for (int step = 0; step < 5; ++step) {
    s = session.Run({}, {loss}, {*train}, &out);
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) return t;
    t.losses.push_back(out[0].data<float>()[0]);
  }
  EXPECT_TRUE(session.Run({w}, &out).ok());
  t.final_w = Values(out[0]);
  for (const Variable& p : parts) {
    EXPECT_TRUE(session.Run({p.value}, &out).ok());
    t.final_shards.push_back(Values(out[0]));
  }
  return t;
}

TEST(PartitionedVariableTest, TrainsLikeTheUnpartitionedVariable) {
  const std::vector<float> initial = Pattern(40, 0.05f, -0.25f);
  Trajectory whole = TrainLinear(0, initial);
  Trajectory sharded = TrainLinear(3, initial);
  ASSERT_EQ(whole.losses.size(), 5u);
  ASSERT_EQ(sharded.losses.size(), 5u);
  for (size_t i = 0; i < whole.losses.size(); ++i)
    EXPECT_FLOAT_EQ(sharded.losses[i], whole.losses[i]) << "step " << i;
  EXPECT_LT(whole.losses.back(), whole.losses.front());
  ASSERT_EQ(sharded.final_w.size(), whole.final_w.size());
  for (size_t i = 0; i < whole.final_w.size(); ++i)
    EXPECT_FLOAT_EQ(sharded.final_w[i], whole.final_w[i]) << "element " << i;
  // Every shard moved away from its initial rows: its gradient reached it.
  ASSERT_EQ(sharded.final_shards.size(), 3u);
  int64_t row = 0;
  for (const std::vector<float>& shard : sharded.final_shards) {
    std::vector<float> start(initial.begin() + row * 4, initial.begin() + row * 4 + shard.size());
    EXPECT_NE(shard, start) << "shard starting at row " << row;
    row += static_cast<int64_t>(shard.size()) / 4;
  }
}

}  // namespace
}  // namespace braid
