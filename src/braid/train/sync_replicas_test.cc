// Synchronous replicas across real processes: one ps and two worker tasks
// (`braid server`), each worker's client a MasterSession of its own graph, as
// in between-graph replication.
#include "braid/train/sync_replicas.h"

#include <future>
#include <thread>

#include "braid/distributed/master_session.h"
#include "braid/distributed/rpc/grpc_worker_cache.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/state_ops.h"
#include "braid/testing/local_cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace braid {
namespace {

using distributed::GrpcWorkerCache;
using distributed::LocalCluster;
using distributed::MasterSession;
using ::testing::HasSubstr;

// One worker's view: loss = sum(w * x), so the gradient of w is x, and SGD
// with rate 1 moves w by minus the mean of the aggregated x's.
struct Replica {
  Scope root = Scope::NewRootScope();
  Output x, w, global_step;
  SyncReplicasOps sync;
  Node* init = nullptr;
  std::unique_ptr<MasterSession> session;

  Replica(const LocalCluster& cluster, GrpcWorkerCache* workers, int index, int total,
          int aggregate, int64_t timeout_ms) {
    const std::string device = "/job:worker/task:" + std::to_string(index);
    Scope ps = root.WithDevice("/job:ps/task:0");
    Variable var = ops::MakeVariable(ps, "w", TensorShape{4}, DType::kFloat, Initializer::Zeros());
    w = var.value;
    global_step = GetOrCreateGlobalStep(ps).value;
    Scope here = root.WithDevice(device);
    x = ops::Placeholder(here.WithOpName("x"), DType::kFloat, TensorShape{4});
    Output loss = ops::Sum(here, ops::Mul(here, var.value, x), {0});
    GradientDescentOptimizer sgd(ConstantLearningRate(1.0f));
    SyncReplicasOptions options;
    options.total_num_replicas = total;
    options.replicas_to_aggregate = aggregate;
    options.replica_index = index;
    options.local_device = device;
    options.timeout_ms = timeout_ms;
    auto built = BuildSyncReplicas(here, &sgd, loss, options);
    EXPECT_TRUE(built.ok()) << built.status();
    sync = *built;
    init = ops::GlobalVariablesInitializer(root);
    EXPECT_TRUE(root.status().ok()) << root.status();
    distributed::MasterSessionOptions o;
    o.cluster = cluster.spec();
    o.default_device = device + "/device:CPU:0";
    o.operation_timeout = absl::Seconds(30);
    auto s = MasterSession::Create(o, workers, root.graph_ptr());
    EXPECT_TRUE(s.ok()) << s.status();
    session = *std::move(s);
  }

  absl::Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                   const std::vector<Output>& fetches, const std::vector<Node*>& targets,
                   std::vector<Tensor>* out) {
    std::vector<std::string> f, t;
    for (const Output& o : fetches) f.push_back(o.name());
    for (Node* n : targets) t.push_back(n->name());
    return session->Run(feeds, f, t, out);
  }
  absl::Status Step(float value) {
    std::vector<Tensor> out;
    return Run({{x.name(), Tensor::Filled<float>(TensorShape{4}, value)}}, {}, {sync.train_op},
               &out);
  }
  float W() {
    std::vector<Tensor> out;
    EXPECT_TRUE(Run({}, {w}, {}, &out).ok());
    return out.empty() ? NAN : out[0].data<float>()[0];
  }
  int64_t Fetch(Output o) {
    std::vector<Tensor> out;
    EXPECT_TRUE(Run({}, {o}, {}, &out).ok());
    return out.empty() ? -1 : out[0].data<int64_t>()[0];
  }
};

// The chief's update loop, as braid train runs it: until the barrier closes.
std::future<absl::Status> StartUpdates(Replica* chief) {
  return std::async(std::launch::async, [chief] {
    while (true) {
      std::vector<Tensor> out;
      absl::Status s = chief->Run({}, {}, {chief->sync.chief_update_op}, &out);
      if (absl::IsCancelled(s)) return absl::OkStatus();  // closed: training over
      if (!s.ok()) return s;
    }
  });
}

void Initialize(Replica* chief, Replica* other) {
  std::vector<Tensor> out;
  ASSERT_TRUE(chief->Run({}, {}, {chief->init, chief->sync.local_init_op}, &out).ok());
  ASSERT_TRUE(other->Run({}, {}, {other->sync.local_init_op}, &out).ok());
}

TEST(SyncReplicasTest, EachStepAppliesTheMeanOfBothWorkersOnce) {
  LocalCluster cluster({{"ps", 1}, {"worker", 2}});
  GrpcWorkerCache workers(cluster.spec(), absl::Seconds(30));
  Replica a(cluster, &workers, 0, 2, 2, 20000), b(cluster, &workers, 1, 2, 2, 20000);
  Initialize(&a, &b);
  std::future<absl::Status> updates = StartUpdates(&a);
  for (int step = 0; step < 3; ++step) {
    // Each waits for the other: run them at once.
    auto other = std::async(std::launch::async, [&] { return b.Step(3.0f); });
    ASSERT_TRUE(a.Step(1.0f).ok());
    ASSERT_TRUE(other.get().ok());
    // One aggregated update per step: w moved by -(1 + 3) / 2.
    EXPECT_FLOAT_EQ(a.W(), -2.0f * (step + 1));
    EXPECT_EQ(a.Fetch(a.global_step), step + 1);
  }
  EXPECT_EQ(a.Fetch(a.sync.dropped), 0);
  std::vector<Tensor> out;
  ASSERT_TRUE(a.Run({}, {}, {a.sync.close_op}, &out).ok());
  EXPECT_TRUE(updates.get().ok());
  // Closed: a worker's next step ends its training instead of waiting.
  absl::Status after = b.Step(3.0f);
  EXPECT_TRUE(absl::IsOutOfRange(after)) << after;
  EXPECT_THAT(std::string(after.message()), HasSubstr("ended the synchronous training"));
}

TEST(SyncReplicasTest, BackupWorkerGradientsAreDroppedAndCounted) {
  LocalCluster cluster({{"ps", 1}, {"worker", 2}});
  GrpcWorkerCache workers(cluster.spec(), absl::Seconds(30));
  // Two workers, one gradient per step: the slower worker is a backup.
  Replica a(cluster, &workers, 0, 2, 1, 20000), b(cluster, &workers, 1, 2, 1, 20000);
  Initialize(&a, &b);
  std::future<absl::Status> updates = StartUpdates(&a);
  for (int step = 0; step < 3; ++step) ASSERT_TRUE(a.Step(1.0f).ok());
  EXPECT_FLOAT_EQ(a.W(), -3.0f);
  EXPECT_EQ(a.Fetch(a.global_step), 3);
  // b computed for step 0, long taken: dropped, counted, nothing applied.
  ASSERT_TRUE(b.Step(100.0f).ok());
  EXPECT_EQ(a.Fetch(a.sync.dropped), 1);
  EXPECT_FLOAT_EQ(a.W(), -3.0f);
  EXPECT_EQ(a.Fetch(a.global_step), 3);
  std::vector<Tensor> out;
  ASSERT_TRUE(a.Run({}, {}, {a.sync.close_op}, &out).ok());
  EXPECT_TRUE(updates.get().ok());
}

TEST(SyncReplicasTest, MissingWorkerFailsTheStepNamingItInsteadOfHanging) {
  LocalCluster cluster({{"ps", 1}, {"worker", 2}});
  GrpcWorkerCache workers(cluster.spec(), absl::Seconds(30));
  Replica a(cluster, &workers, 0, 2, 2, 1000), b(cluster, &workers, 1, 2, 2, 1000);
  Initialize(&a, &b);
  std::future<absl::Status> updates = StartUpdates(&a);
  // Worker 1 never pushes: the chief's update and worker 0's wait end.
  absl::Status step = a.Step(1.0f);
  EXPECT_TRUE(absl::IsDeadlineExceeded(step)) << step;
  absl::Status update = updates.get();
  EXPECT_TRUE(absl::IsDeadlineExceeded(update)) << update;
  EXPECT_THAT(std::string(update.message()), HasSubstr("replica(s) 1"));
  EXPECT_FLOAT_EQ(a.W(), 0.0f);  // nothing applied
}

TEST(SyncReplicasTest, RejectsBadCounts) {
  Scope root = Scope::NewRootScope();
  Variable v = ops::MakeVariable(root, "v", TensorShape{2});
  GradientDescentOptimizer sgd(ConstantLearningRate(0.1f));
  Output loss = ops::Sum(root, v.value, {0});
  SyncReplicasOptions o;
  o.total_num_replicas = 2;
  o.replicas_to_aggregate = 3;
  auto built = BuildSyncReplicas(root, &sgd, loss, o);
  EXPECT_TRUE(absl::IsInvalidArgument(built.status()));
  EXPECT_THAT(std::string(built.status().message()), HasSubstr("replicas_to_aggregate (3)"));
  o.replicas_to_aggregate = 2;
  o.replica_index = 2;
  built = BuildSyncReplicas(root, &sgd, loss, o);
  EXPECT_TRUE(absl::IsInvalidArgument(built.status()));
  EXPECT_THAT(std::string(built.status().message()), HasSubstr("replica_index 2"));
}

}  // namespace
}  // namespace braid
