#include "braid/runtime/session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "braid/base/thread_pool.h"
#include "braid/graph/op_def.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/shape_fns.h"
#include "braid/kernels/op_kernel.h"
#include "braid/runtime/device.h"

namespace braid {
namespace {

using ::testing::HasSubstr;

// An (expensive, by default) op that records the thread it ran on; for these
// tests only.
BRAID_REGISTER_OP(OpDefBuilder("TestRecordThread")
                      .Input("x: float")
                      .Output("y: float")
                      .SetShapeFn(UnchangedShape));

std::mutex g_threads_mu;
std::set<std::thread::id> g_kernel_threads;  // guarded by g_threads_mu

class RecordThreadOp : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    {
      std::lock_guard<std::mutex> lock(g_threads_mu);
      g_kernel_threads.insert(std::this_thread::get_id());
    }
    ctx->set_output(0, ctx->input(0));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("TestRecordThread"), RecordThreadOp);

// The threads that ran TestRecordThread in one step of eight independent ones.
std::set<std::thread::id> KernelThreadsOfOneStep(int inter_op_threads) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat);
  std::vector<Output> branches;
  for (int i = 0; i < 8; ++i) branches.push_back(root.AddOp("TestRecordThread", {x}));
  Output sum = ops::AddN(root, branches);
  SessionOptions options;
  options.inter_op_threads = inter_op_threads;
  ClientSession session(root, options);
  {
    std::lock_guard<std::mutex> lock(g_threads_mu);
    g_kernel_threads.clear();
  }
  std::vector<Tensor> out;
  EXPECT_TRUE(session.Run({{x, Tensor::Scalar<float>(1)}}, {sum}, &out).ok());
  EXPECT_TRUE(TensorsEqual(out[0], Tensor::Scalar<float>(8)));
  std::lock_guard<std::mutex> lock(g_threads_mu);
  return g_kernel_threads;
}

TEST(SessionTest, OneInterOpThreadRunsEveryKernelOnTheCallingThread) {
  EXPECT_EQ(KernelThreadsOfOneStep(1), std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST(SessionTest, MoreInterOpThreadsHandIndependentKernelsToThePool) {
  std::set<std::thread::id> threads = KernelThreadsOfOneStep(4);
  EXPECT_GT(threads.size(), 1u);
}

TEST(SessionTest, InterOpThreadsDefaultToWhatFitsBesideTheIntraOpThreads) {
  const int cores = NumSchedulableCores();
  EXPECT_EQ(ResolveInterOpThreads(3, 0), 3);
  EXPECT_EQ(ResolveInterOpThreads(0, 0), 1);  // intra-op: every core
  EXPECT_EQ(ResolveInterOpThreads(0, cores), 1);
  EXPECT_EQ(ResolveInterOpThreads(0, 1), cores);
  EXPECT_EQ(ResolveInterOpThreads(0, 4 * cores), 1);
}

TEST(SessionTest, FetchesAConstant) {
  Scope root = Scope::NewRootScope();
  Output c = ops::Const(root, Tensor::FromVector<float>({1, 2, 3}));
  ClientSession session(root);
  std::vector<Tensor> out;
  ASSERT_TRUE(session.Run({c}, &out).ok());
  EXPECT_TRUE(TensorsEqual(out[0], Tensor::FromVector<float>({1, 2, 3})));
}

TEST(SessionTest, FeedsPlaceholderThroughAddN) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat, TensorShape{-1, 2});
  Output y = ops::AddN(root, {x, x, ops::Identity(root, x)});
  ClientSession session(root);
  std::vector<Tensor> out;
  ASSERT_TRUE(session.Run({{x, Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2})}}, {y}, &out).ok());
  EXPECT_TRUE(TensorsEqual(out[0], Tensor::FromVector<float>({3, 6, 9, 12}, {2, 2})));
}

TEST(SessionTest, OpStatsTimesEveryKernelItRunsByOpAndFirstInputShape) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat, TensorShape{-1, 2});
  Output y = ops::AddN(root, {x, x, ops::Identity(root, x)});
  OpStats stats;
  SessionOptions options;
  options.op_stats = &stats;
  ClientSession session(root, options);
  std::vector<Tensor> out;
  const Tensor two_rows = Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2});
  ASSERT_TRUE(session.Run({{x, two_rows}}, {y}, &out).ok());
  ASSERT_TRUE(session.Run({{x, two_rows}}, {y}, &out).ok());
  ASSERT_TRUE(session.Run({{x, Tensor::FromVector<float>({1, 2}, {1, 2})}}, {y}, &out).ok());
  std::map<std::pair<std::string, std::string>, int64_t> calls;
  for (const OpStats::Row& r : stats.Rows()) calls[{r.op, r.first_input_shape}] = r.calls;
  EXPECT_EQ((calls[{"AddN", "[2,2]"}]), 2);
  EXPECT_EQ((calls[{"AddN", "[1,2]"}]), 1);
  EXPECT_EQ((calls[{"Identity", "[2,2]"}]), 2);
}

TEST(SessionTest, RejectsFeedOfWrongDtypeAndShape) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root.WithOpName("x"), DType::kFloat, TensorShape{-1, 2});
  Output y = ops::Identity(root, x);
  ClientSession session(root);
  std::vector<Tensor> out;
  absl::Status s = session.Run({{x, Tensor::FromVector<int32_t>({1, 2})}}, {y}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("feed 'x:0' has dtype int32"));
  s = session.Run({{x, Tensor::FromVector<float>({1, 2, 3})}}, {y}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("has shape [3] but the graph expects [?,2]"));
}

TEST(SessionTest, UnknownFetchAndUnfedPlaceholderAreErrors) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root.WithOpName("x"), DType::kFloat);
  ops::Identity(root.WithOpName("y"), x);
  auto session = NewSession({}, root.graph_ptr());
  ASSERT_TRUE(session.ok());
  std::vector<Tensor> out;
  absl::Status s = (*session)->Run({}, {"nope:0"}, {}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), HasSubstr("no node named 'nope'"));
  s = (*session)->Run({}, {"y:3"}, {}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  s = (*session)->Run({}, {"y"}, {}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("placeholder 'x' must be fed"));
}

TEST(SessionTest, TwoDevicesInOneProcessMatchOneDevice) {
  for (int devices : {1, 2}) {
    Scope root = Scope::NewRootScope();
    Output x = ops::Placeholder(root, DType::kFloat, TensorShape{2});
    Output a = ops::AddN(root.WithDevice("/device:CPU:1"), {x, x});
    Output b = ops::AddN(root.WithDevice("/device:CPU:0"), {a, x});
    Node* after = ops::Group(root.WithDevice("/device:CPU:1"), {b});
    SessionOptions options;
    options.num_cpu_devices = devices;
    ClientSession session(root, options);
    std::vector<Tensor> out;
    absl::Status s = session.Run({{x, Tensor::FromVector<float>({1, 2})}}, {b}, {after}, &out);
    if (devices == 1) {
      // CPU:1 does not exist with one device.
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(std::string(s.message()), HasSubstr("no device matches"));
      continue;
    }
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_TRUE(TensorsEqual(out[0], Tensor::FromVector<float>({3, 6})));
    EXPECT_EQ(a.node->assigned_device(), "/job:localhost/replica:0/task:0/device:CPU:1");
    EXPECT_EQ(b.node->assigned_device(), "/job:localhost/replica:0/task:0/device:CPU:0");
  }
}

TEST(SessionTest, KernelErrorNamesTheNode) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat);
  Output y = ops::Placeholder(root, DType::kFloat);
  Output s = ops::AddN(root.WithOpName("sum"), {x, y});
  ClientSession session(root);
  std::vector<Tensor> out;
  absl::Status st = session.Run(
      {{x, Tensor::FromVector<float>({1, 2})}, {y, Tensor::FromVector<float>({1, 2, 3})}}, {s},
      &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("node 'sum' (AddN)"));
}

TEST(SessionTest, ConcurrentRunsShareOnePlan) {
  Scope root = Scope::NewRootScope();
  Output x = ops::Placeholder(root, DType::kFloat);
  Output y = ops::AddN(root, {x, x});
  ClientSession session(root);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::vector<Tensor> out;
        float v = static_cast<float>(t * 100 + i);
        if (!session.Run({{x, Tensor::Scalar(v)}}, {y}, &out).ok() ||
            out[0].data<float>()[0] != 2 * v) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace braid
