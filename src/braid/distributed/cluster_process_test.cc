// The distributed runtime across real processes: `braid server` tasks on
// loopback, driven by a MasterSession (or a remote master) in this process.
#include <signal.h>

#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "braid/distributed/master_session.h"
#include "braid/distributed/rpc/grpc_session.h"
#include "braid/distributed/rpc/grpc_worker_cache.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/graph/ops/random_ops.h"
#include "braid/graph/ops/state_ops.h"
#include "braid/testing/local_cluster.h"
#include "braid/train/optimizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace braid::distributed {
namespace {

using ::testing::HasSubstr;

// A small two-layer model trained by SGD, its parts spread over two ps and
// two workers when `placed`, all on one device otherwise.
struct SpreadModel {
  Output x, loss, y;
  Node* train = nullptr;
  Node* init = nullptr;
  std::vector<Output> variables;
};

SpreadModel BuildSpreadModel(const Scope& root, bool placed) {
  auto on = [&](const std::string& device) { return placed ? root.WithDevice(device) : root; };
  SpreadModel m;
  Variable a = ops::MakeVariable(on("/job:ps/task:0"), "a", TensorShape{64, 32}, DType::kFloat,
                                 Initializer::RandomNormal(0, 0.1f, 7));
  Variable b = ops::MakeVariable(on("/job:ps/task:1"), "b", TensorShape{32, 16}, DType::kFloat,
                                 Initializer::RandomNormal(0, 0.1f, 8));
  Scope w0 = on("/job:worker/task:0");
  Scope w1 = on("/job:worker/task:1");
  m.x = ops::Placeholder(w0.WithOpName("x"), DType::kFloat, TensorShape{-1, 64});
  Output h = ops::Relu(w0, ops::MatMul(w0, m.x, a.value));
  m.y = ops::MatMul(w1, h, b.value);
  m.loss = ops::Mean(w1, ops::Mul(w1, m.y, m.y), {0, 1});
  GradientDescentOptimizer sgd(ConstantLearningRate(0.05f));
  m.train = *sgd.Minimize(w1, m.loss);
  m.init = ops::GlobalVariablesInitializer(root);
  m.variables = {a.value, b.value};
  return m;
}

Tensor Inputs() {
  std::vector<float> v(8 * 64);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 37) % 101) / 50.0f - 1.0f;
  return Tensor::FromVector(v, TensorShape{8, 64});
}

// Losses of 5 training steps, then y and the variables.
std::vector<Tensor> Train(Session* session, const SpreadModel& m) {
  std::vector<Tensor> out, results;
  EXPECT_TRUE(session->Run({}, {}, {m.init->name()}, &out).ok());
  for (int step = 0; step < 5; ++step) {
    absl::Status s =
        session->Run({{m.x.name(), Inputs()}}, {m.loss.name()}, {m.train->name()}, &out);
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) return {};
    results.push_back(out[0]);
  }
  std::vector<std::string> fetches = {m.y.name()};
  for (const Output& v : m.variables) fetches.push_back(v.name());
  EXPECT_TRUE(session->Run({{m.x.name(), Inputs()}}, fetches, {}, &out).ok());
  results.insert(results.end(), out.begin(), out.end());
  return results;
}

void ExpectSameValues(const std::vector<Tensor>& got, const std::vector<Tensor>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].shape(), want[i].shape()) << "result " << i;
    for (int64_t k = 0; k < got[i].NumElements(); ++k) {
      ASSERT_NEAR(got[i].data<float>()[k], want[i].data<float>()[k],
                  1e-5f * (1 + std::abs(want[i].data<float>()[k])))
          << "result " << i << " element " << k;
    }
  }
}

std::vector<Tensor> TrainInOneProcess() {
  Scope root = Scope::NewRootScope();
  root.graph()->set_seed(3);
  SpreadModel m = BuildSpreadModel(root, /*placed=*/false);
  SessionOptions options;
  options.intra_op_threads = 1;
  auto session = NewSession(options, root.graph_ptr());
  EXPECT_TRUE(session.ok());
  return Train(session->get(), m);
}

MasterSessionOptions Options(const LocalCluster& cluster, absl::Duration timeout) {
  MasterSessionOptions o;
  o.cluster = cluster.spec();
  o.default_device = "/job:worker/replica:0/task:0/device:CPU:0";
  o.operation_timeout = timeout;
  return o;
}

TEST(ClusterProcessTest, PartitionedTrainingMatchesOneProcess) {
  LocalCluster cluster({{"ps", 2}, {"worker", 2}});
  GrpcWorkerCache workers(cluster.spec(), absl::Seconds(30));
  Scope root = Scope::NewRootScope();
  root.graph()->set_seed(3);
  SpreadModel m = BuildSpreadModel(root, /*placed=*/true);
  auto session =
      MasterSession::Create(Options(cluster, absl::Seconds(30)), &workers, root.graph_ptr());
  ASSERT_TRUE(session.ok()) << session.status();
  std::vector<Tensor> distributed = Train(session->get(), m);
  // Every tensor crossed tasks: a and b live on the ps, the matmuls on the
  // workers, the gradients went back.
  ExpectSameValues(distributed, TrainInOneProcess());
}

TEST(ClusterProcessTest, RemoteMasterRunsTheSameSteps) {
  LocalCluster cluster({{"ps", 2}, {"worker", 2}});
  Scope root = Scope::NewRootScope();
  root.graph()->set_seed(3);
  SpreadModel m = BuildSpreadModel(root, /*placed=*/true);
  std::string master = cluster.spec().TaskAddress("worker", 1).value();
  auto session = NewGrpcSession(absl::StrCat("grpc://", master), root.graph_ptr());
  ASSERT_TRUE(session.ok()) << session.status();
  ExpectSameValues(Train(session->get(), m), TrainInOneProcess());
}

TEST(ClusterProcessTest, TaskThatIsDownButUnusedDoesNotBlock) {
  // worker:1 never starts; a graph on ps:0 and worker:0 only runs.
  LocalCluster cluster({{"ps", 1}, {"worker", 2}}, /*not_started=*/{{"worker", 1}});
  GrpcWorkerCache workers(cluster.spec(), absl::Seconds(30));
  Scope root = Scope::NewRootScope();
  Variable v = ops::MakeVariable(root.WithDevice("/job:ps/task:0"), "v", TensorShape{3},
                                 DType::kFloat, Initializer::Constant(2));
  Output doubled = ops::Mul(root.WithDevice("/job:worker/task:0"), v.value, 2.0f);
  Node* init = ops::GlobalVariablesInitializer(root);
  auto session =
      MasterSession::Create(Options(cluster, absl::Seconds(10)), &workers, root.graph_ptr());
  ASSERT_TRUE(session.ok());
  std::vector<Tensor> out;
  ASSERT_TRUE((*session)->Run({}, {}, {init->name()}, &out).ok());
  absl::Status s = (*session)->Run({}, {doubled.name()}, {}, &out);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(out[0].data<float>()[2], 4.0f);
}

// A step long enough to kill a task in the middle of it: a chain of big
// matmuls on worker:1 whose result worker:0 waits for (about 2 GFLOP each).
struct SlowStep {
  Output result;
};
SlowStep BuildSlowStep(const Scope& root, int matmuls) {
  Scope w1 = root.WithDevice("/job:worker/task:1");
  Output m = ops::RandomUniform(w1, {1024, 1024});
  for (int i = 0; i < matmuls; ++i) m = ops::Mul(w1, ops::MatMul(w1, m, m), 1e-3f);
  Scope w0 = root.WithDevice("/job:worker/task:0");
  return {ops::Sum(w0, m, {0, 1})};
}

TEST(ClusterProcessTest, TaskKilledMidStepGivesUnavailableNamingIt) {
  LocalCluster cluster({{"worker", 2}});
  GrpcWorkerCache workers(cluster.spec(), absl::Seconds(10));
  Scope root = Scope::NewRootScope();
  SlowStep step = BuildSlowStep(root, 40);
  auto session =
      MasterSession::Create(Options(cluster, absl::Seconds(10)), &workers, root.graph_ptr());
  ASSERT_TRUE(session.ok());
  std::vector<Tensor> out;
  ASSERT_TRUE((*session)->Run({}, {step.result.name()}, {}, &out).ok());  // registers, warms up

  auto run = std::async(std::launch::async, [&] {
    std::vector<Tensor> result;
    return (*session)->Run({}, {step.result.name()}, {}, &result);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  cluster.Kill("worker", 1);
  absl::Status s = run.get();
  // Unavailable (not DeadlineExceeded: nothing waited for the 10 s timeout).
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("/job:worker/replica:0/task:1"));

  // Later steps fail the same way, naming the task (after waiting, within
  // the timeout, for it to come back).
  s = (*session)->Run({}, {step.result.name()}, {}, &out);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("/job:worker/replica:0/task:1"));
}

TEST(ClusterProcessTest, HungTaskGivesDeadlineExceededNamingIt) {
  LocalCluster cluster({{"worker", 2}});
  GrpcWorkerCache workers(cluster.spec(), absl::Seconds(4));
  Scope root = Scope::NewRootScope();
  SlowStep step = BuildSlowStep(root, 2);
  auto session =
      MasterSession::Create(Options(cluster, absl::Seconds(4)), &workers, root.graph_ptr());
  ASSERT_TRUE(session.ok());
  std::vector<Tensor> out;
  ASSERT_TRUE((*session)->Run({}, {step.result.name()}, {}, &out).ok());
  cluster.Signal("worker", 1, SIGSTOP);  // alive but silent
  absl::Status s = (*session)->Run({}, {step.result.name()}, {}, &out);
  cluster.Signal("worker", 1, SIGCONT);
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("/job:worker/replica:0/task:1"));
}

TEST(ClusterProcessTest, RestartedTaskIsToldApartFromItsEarlierSelf) {
  LocalCluster cluster({{"ps", 1}, {"worker", 1}});
  GrpcWorkerCache workers(cluster.spec(), absl::Seconds(30));
  Scope root = Scope::NewRootScope();
  Variable v = ops::MakeVariable(root.WithDevice("/job:ps/task:0"), "v", TensorShape{2},
                                 DType::kFloat, Initializer::Constant(1));
  Output plus = ops::Add(root.WithDevice("/job:worker/task:0"), v.value, 1.0f);
  Node* init = ops::GlobalVariablesInitializer(root);
  auto session =
      MasterSession::Create(Options(cluster, absl::Seconds(30)), &workers, root.graph_ptr());
  ASSERT_TRUE(session.ok());
  std::vector<Tensor> out;
  ASSERT_TRUE((*session)->Run({}, {}, {init->name()}, &out).ok());
  ASSERT_TRUE((*session)->Run({}, {plus.name()}, {}, &out).ok());

  cluster.Kill("ps", 0);
  cluster.Start("ps", 0);  // same address, new incarnation, no variables
  absl::Status s = (*session)->Run({}, {plus.name()}, {}, &out);
  // The step fails (its partitions were registered with the earlier ps)...
  EXPECT_TRUE(absl::IsAborted(s) || absl::IsUnavailable(s)) << s;
  // A step retried while it is Unavailable, as a client recovering from a
  // restart does: the new ps may still be starting, and the worker's own
  // channel to it may still be in gRPC's reconnect backoff (seen under ASan).
  auto run_retrying = [&](const std::vector<std::string>& fetches,
                          const std::vector<std::string>& targets) {
    absl::Status status = (*session)->Run({}, fetches, targets, &out);
    for (int i = 0; i < 20 && absl::IsUnavailable(status); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      status = (*session)->Run({}, fetches, targets, &out);
    }
    return status;
  };
  // ...the session re-registers with the new one, whose variable is not
  // initialized: a clear error, never a value from the old process.
  s = run_retrying({plus.name()}, {});
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("v"));
  s = run_retrying({}, {init->name()});
  ASSERT_TRUE(s.ok()) << s;
  s = run_retrying({plus.name()}, {});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(out[0].data<float>()[0], 2.0f);
}

// A tensor far past gRPC's 4 MB default and, in optimized builds, past
// protobuf's 2 GB message limit: it can only arrive as a stream of chunks.
TEST(ClusterProcessTest, LargeTensorStreamsBetweenTasks) {
#if defined(__SANITIZE_ADDRESS__)
  const int64_t elements = int64_t{64} << 20;  // 256 MiB: sanitizers are slow and hungry
#else
  const int64_t elements = int64_t{768} << 20;  // 3 GiB of float32
#endif
  LocalCluster cluster({{"ps", 1}, {"worker", 1}});
  GrpcWorkerCache workers(cluster.spec(), absl::Seconds(120));
  Scope root = Scope::NewRootScope();
  Scope ps = root.WithDevice("/job:ps/task:0");
  Output big = ops::Add(ps, ops::Fill(ps, Tensor::FromVector<int64_t>({elements}), 1.5f),
                        ops::Fill(ps, Tensor::FromVector<int64_t>({elements}), 0.25f));
  Scope w = root.WithDevice("/job:worker/task:0");
  Output lo = ops::Min(w, big, 0);
  Output hi = ops::Max(w, big, 0);
  Output tail = ops::Slice(w, big, Tensor::FromVector<int64_t>({elements - 3}),
                           Tensor::FromVector<int64_t>({3}));
  auto session =
      MasterSession::Create(Options(cluster, absl::Seconds(120)), &workers, root.graph_ptr());
  ASSERT_TRUE(session.ok());
  std::vector<Tensor> out;
  absl::Status s = (*session)->Run({}, {lo.name(), hi.name(), tail.name()}, {}, &out);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(out[0].data<float>()[0], 1.75f);
  EXPECT_EQ(out[1].data<float>()[0], 1.75f);
  ASSERT_EQ(out[2].NumElements(), 3);
  EXPECT_EQ(out[2].data<float>()[2], 1.75f);
}

}  // namespace
}  // namespace braid::distributed
