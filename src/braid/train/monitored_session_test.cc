// The monitored session: hooks around training steps (with a local session)
// and recovery from a lost ps (real `braid server` processes on loopback).
#include "braid/train/monitored_session.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <thread>

#include "braid/base/status_macros.h"
#include "braid/distributed/master_session.h"
#include "braid/distributed/rpc/grpc_worker_cache.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/state_ops.h"
#include "braid/testing/local_cluster.h"
#include "braid/train/optimizer.h"
#include "braid/train/saver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace braid {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A training graph in miniature: each step adds the fed loss to `total` and
// advances the global step; `device` is where the variables live.
struct Model {
  Scope root = Scope::NewRootScope();
  Output loss, total, global_step;
  Node* train_op = nullptr;
  Node* init = nullptr;
  Output ready;

  explicit Model(const std::string& device = "") {
    Scope vars = device.empty() ? root : root.WithDevice(device);
    Variable t = ops::MakeVariable(vars, "total", TensorShape{}, DType::kFloat,
                                   Initializer::Zeros());
    Variable step = GetOrCreateGlobalStep(vars);
    total = t.value;
    global_step = step.value;
    loss = ops::Placeholder(root.WithOpName("loss"), DType::kFloat, TensorShape{});
    train_op = ops::Group(root.WithOpName("train"),
                          std::vector<Node*>{ops::AssignAddVariableOp(root, t.handle, loss),
                                             ops::AssignAddVariableOp(
                                                 root, step.handle, Tensor::Scalar<int64_t>(1))});
    init = ops::GlobalVariablesInitializer(root);
    ready = ops::VarIsInitializedOp(root, step.handle);
    EXPECT_TRUE(root.status().ok()) << root.status();
  }

  // Initializes the variables unless they are already; counts in `*inits`,
  // when given, the times it found them uninitialized and ran the
  // initializer (which may fail on one task after the others applied it).
  absl::Status InitIfNeeded(Session* s, int* inits = nullptr) {
    std::vector<Tensor> out;
    RETURN_IF_ERROR(s->Run({}, {ready.name()}, {}, &out));
    if (out[0].data<bool>()[0]) return absl::OkStatus();
    if (inits != nullptr) ++*inits;
    return s->Run({}, {}, {init->name()}, &out);
  }
};

absl::Status Step(MonitoredSession* s, const Model& m, float loss) {
  std::vector<Tensor> out;
  return s->Run({{m.loss.name(), Tensor::Scalar(loss)}}, {}, {m.train_op->name()}, &out);
}

std::unique_ptr<MonitoredSession> LocalMonitored(Model* m) {
  MonitoredSessionOptions o;
  o.create = [m] { return NewSession({}, m->root.graph_ptr()); };
  auto s = MonitoredSession::Create(std::move(o));
  EXPECT_TRUE(s.ok()) << s.status();
  (*s)->set_train_op(m->train_op->name());
  return *std::move(s);
}

int64_t Fetch(Session* s, const Output& o) {
  std::vector<Tensor> out;
  EXPECT_TRUE(s->Run({}, {o.name()}, {}, &out).ok());
  return out.empty() ? -1 : out[0].data<int64_t>()[0];
}

// Counts the steps it sees.
class CountingHook : public SessionRunHook {
 public:
  absl::Status AfterRun(const std::vector<Tensor>&, SessionRunContext*) override {
    ++steps;
    return absl::OkStatus();
  }
  int steps = 0;
};

TEST(MonitoredSessionTest, StopAtStepStopsWhenTheGlobalStepGetsThere) {
  Model m;
  auto s = LocalMonitored(&m);
  auto* counting = new CountingHook;
  s->AddHook(std::unique_ptr<SessionRunHook>(counting));
  s->AddHook(std::make_unique<StopAtStepHook>(m.global_step.name(), 5));
  ASSERT_TRUE(m.InitIfNeeded(s.get()).ok());
  ASSERT_TRUE(s->Prepare().ok());
  int steps = 0;
  while (!s->ShouldStop() && steps < 100) {
    ASSERT_TRUE(Step(s.get(), m, 1.0f).ok());
    ++steps;
  }
  EXPECT_EQ(steps, 5);
  EXPECT_EQ(Fetch(s.get(), m.global_step), 5);
  // Runs that are not training steps do not reach the hooks.
  EXPECT_EQ(counting->steps, 5);
}

TEST(MonitoredSessionTest, HookFetchesJoinTheStepWithoutChangingItsOutputs) {
  Model m;
  auto s = LocalMonitored(&m);
  std::vector<std::string> lines;
  s->AddHook(std::make_unique<LoggingHook>(
      std::vector<std::pair<std::string, std::string>>{{"loss", m.loss.name()},
                                                       {"again", m.loss.name()}},
      2, [&](const std::string& l) { lines.push_back(l); }));
  ASSERT_TRUE(m.InitIfNeeded(s.get()).ok());
  ASSERT_TRUE(s->Prepare().ok());
  for (float loss : {1.0f, 2.0f, 3.0f, 4.0f}) {
    std::vector<Tensor> out;
    ASSERT_TRUE(s->Run({{m.loss.name(), Tensor::Scalar(loss)}},
                       {m.global_step.name(), m.loss.name()}, {m.train_op->name()}, &out)
                    .ok());
    // The caller's fetches only, though the hook asked for one of them too.
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].dtype(), DType::kInt64);
    EXPECT_EQ(out[1].data<float>()[0], loss);
  }
  // Every second step, the values the step had.
  EXPECT_THAT(lines, ElementsAre("step 2: loss = 2 again = 2", "step 4: loss = 4 again = 4"));
}

TEST(MonitoredSessionTest, NanLossFailsTheStepNamingIt) {
  Model m;
  auto s = LocalMonitored(&m);
  s->AddHook(std::make_unique<NanLossHook>(m.loss.name()));
  ASSERT_TRUE(m.InitIfNeeded(s.get()).ok());
  ASSERT_TRUE(s->Prepare().ok());
  ASSERT_TRUE(Step(s.get(), m, 0.5f).ok());
  absl::Status bad = Step(s.get(), m, std::nanf(""));
  EXPECT_TRUE(absl::IsInvalidArgument(bad)) << bad;
  EXPECT_THAT(std::string(bad.message()), HasSubstr("the loss is nan at step 2"));
}

TEST(MonitoredSessionTest, CheckpointSaverSavesEveryNStepsAndAtTheEnd) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("hooks." + std::to_string(getpid()));
  fs::remove_all(dir);
  Model m;
  auto s = LocalMonitored(&m);
  auto saver = Saver::Create(m.root);
  ASSERT_TRUE(saver.ok()) << saver.status();
  CheckpointSaverHook::Options o;
  o.dir = dir.string();
  o.every_steps = 3;
  auto* hook = new CheckpointSaverHook(saver->get(), m.global_step.name(), o);
  s->AddHook(std::unique_ptr<SessionRunHook>(hook));
  ASSERT_TRUE(m.InitIfNeeded(s.get()).ok());
  ASSERT_TRUE(s->Prepare().ok());
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(Step(s.get(), m, 1.0f).ok());
  EXPECT_EQ(hook->last_saved_step(), 6);
  EXPECT_TRUE(fs::exists(dir / "ckpt-3.manifest"));
  ASSERT_TRUE(s->End().ok());
  EXPECT_EQ(hook->last_saved_step(), 7);
  auto latest = Saver::LatestCheckpoint(dir.string());
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ(fs::path(**latest).filename(), "ckpt-7");
  fs::remove_all(dir);
}

TEST(MonitoredSessionTest, StepCounterReportsRates) {
  Model m;
  auto s = LocalMonitored(&m);
  std::vector<std::string> lines;
  s->AddHook(std::make_unique<StepCounterHook>(m.global_step.name(), 2, 128,
                                               [&](const std::string& l) { lines.push_back(l); }));
  ASSERT_TRUE(m.InitIfNeeded(s.get()).ok());
  ASSERT_TRUE(s->Prepare().ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Step(s.get(), m, 1.0f).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // Counting starts at step 1: reports at steps 3 and 5.
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("global step 3:"));
  EXPECT_THAT(lines[1], HasSubstr("global step 5:"));
  EXPECT_THAT(lines[1], HasSubstr("examples/s"));
}

// Recovery, with a ps that is a real process.
struct ClusterModel {
  distributed::LocalCluster cluster{{{"ps", 1}, {"worker", 1}}};
  distributed::GrpcWorkerCache workers{cluster.spec(), absl::Seconds(10)};
  Model m{"/job:ps/task:0"};

  absl::StatusOr<std::unique_ptr<MonitoredSession>> Monitored(
      absl::Duration timeout, std::function<absl::Status()> prepare = {}) {
    MonitoredSessionOptions o;
    o.prepare = std::move(prepare);
    o.create = [this]() -> absl::StatusOr<std::unique_ptr<Session>> {
      distributed::MasterSessionOptions mo;
      mo.cluster = cluster.spec();
      mo.default_device = "/job:worker/replica:0/task:0/device:CPU:0";
      mo.operation_timeout = absl::Seconds(10);
      ASSIGN_OR_RETURN(auto s, distributed::MasterSession::Create(mo, &workers, m.root.graph_ptr()));
      return std::unique_ptr<Session>(std::move(s));
    };
    o.recovery_timeout = timeout;
    o.retry_pause = absl::Milliseconds(100);
    o.log = [](const std::string&) {};
    ASSIGN_OR_RETURN(auto s, MonitoredSession::Create(std::move(o)));
    return s;
  }
};

TEST(MonitoredSessionTest, PrepareRunsAgainAfterTheLossOfAPs) {
  ClusterModel c;
  Model* m = &c.m;
  MonitoredSession* self = nullptr;
  int prepared = 0, inits = 0;
  // As braid train's: through the monitored session itself.
  auto made = c.Monitored(absl::Seconds(60), [&] {
    ++prepared;
    return m->InitIfNeeded(self, &inits);
  });
  ASSERT_TRUE(made.ok()) << made.status();
  self = made->get();
  ASSERT_TRUE(self->Prepare().ok());
  ASSERT_TRUE(Step(self, *m, 1.0f).ok());
  ASSERT_TRUE(Step(self, *m, 1.0f).ok());

  ASSERT_EQ(inits, 1);

  c.cluster.Kill("ps", 0);
  // Lost ps, new session, prepare (re-initialized: there is no checkpoint
  // here), then the step again: it succeeds. (The worker task's channel to
  // the ps may need a moment to reconnect: a second recovery is fine.)
  absl::Status retried;
  std::thread step([&] { retried = Step(self, *m, 1.0f); });
  // Restarted from this thread: a task dies with the thread that started it
  // (PR_SET_PDEATHSIG).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  c.cluster.Start("ps", 0);
  step.join();
  ASSERT_TRUE(retried.ok()) << retried;
  EXPECT_GE(self->recoveries(), 1);
  EXPECT_GE(prepared, 1 + self->recoveries());  // a prepare may fail and be retried
  EXPECT_GE(inits, 2);  // the new ps's variables were initialized, not the lost one's kept
  // The global step counts from that initialization: the step that
  // succeeded, and any attempt that failed on the worker (its channel to the
  // new ps still reconnecting) after the ps had applied its part of the step
  // (a distributed step is not a transaction). A recovery followed each
  // failed attempt, so there are at most as many as recoveries.
  const int64_t global_step = Fetch(self, m->global_step);
  EXPECT_GE(global_step, 1);
  EXPECT_LE(global_step, self->recoveries());
}

TEST(MonitoredSessionTest, APsThatStaysDownEndsTheRecoveryAtItsTimeout) {
  ClusterModel c;
  auto made = c.Monitored(absl::Seconds(2));
  ASSERT_TRUE(made.ok()) << made.status();
  MonitoredSession* s = made->get();
  ASSERT_TRUE(c.m.InitIfNeeded(s).ok());
  ASSERT_TRUE(Step(s, c.m, 1.0f).ok());
  c.cluster.Kill("ps", 0);
  absl::Status lost = Step(s, c.m, 1.0f);
  EXPECT_TRUE(absl::IsDeadlineExceeded(lost)) << lost;
  EXPECT_THAT(std::string(lost.message()), HasSubstr("could not recover the session within 2s"));
  EXPECT_THAT(std::string(lost.message()), HasSubstr("/job:ps/replica:0/task:0"));
}

TEST(MonitoredSessionTest, OtherErrorsAreNotRecoveredFrom) {
  ClusterModel c;
  auto made = c.Monitored(absl::Seconds(60));
  ASSERT_TRUE(made.ok()) << made.status();
  std::vector<Tensor> out;
  absl::Status s = (*made)->Run({}, {"no_such_tensor:0"}, {}, &out);
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_EQ((*made)->recoveries(), 0);
}

}  // namespace
}  // namespace braid
