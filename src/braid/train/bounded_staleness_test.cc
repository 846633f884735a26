// Bounded staleness in one process: each replica is a thread running its own
// gated train op on one shared local session (so on one clock table). The
// bound is checked against step counts the test keeps itself, not against
// what the gate reports.
#include "braid/train/bounded_staleness.h"

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/state_ops.h"
#include "braid/runtime/session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace braid {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Replicas {
  Scope root = Scope::NewRootScope();
  std::vector<Variable> steps_trained;  // one counter per replica, advanced by its train op
  std::vector<BoundedStalenessOps> gates;
  std::unique_ptr<ClientSession> session;

  Replicas(int n, int max_staleness, int64_t timeout_ms) {
    for (int i = 0; i < n; ++i) AddGate(n, i, max_staleness, timeout_ms);
    Node* init = ops::GlobalVariablesInitializer(root);
    session = std::make_unique<ClientSession>(root);
    std::vector<Tensor> out;
    EXPECT_TRUE(session->Run({}, {}, {init}, &out).ok());
  }
  // One more gate for `replica`: as the graph a restarted worker builds.
  BoundedStalenessOps AddGate(int n, int replica, int max_staleness, int64_t timeout_ms) {
    Scope r = root.NewSubScope("replica" + std::to_string(replica));
    if (static_cast<int>(steps_trained.size()) <= replica) {
      steps_trained.push_back(ops::MakeVariable(r, "steps_trained", TensorShape{}, DType::kFloat,
                                                Initializer::Zeros(), false));
    }
    Node* train = ops::AssignAddVariableOp(r, steps_trained[replica].handle, 1.0f);
    BoundedStalenessOptions o;
    o.num_replicas = n;
    o.replica_index = replica;
    o.max_staleness = max_staleness;
    o.timeout_ms = timeout_ms;
    auto built = BuildBoundedStaleness(r, train, o);
    EXPECT_TRUE(built.ok()) << built.status();
    if (static_cast<int>(gates.size()) <= replica) gates.push_back(*built);
    return *built;
  }

  // One step of `gate`: trains, waits, returns the reported lead.
  absl::StatusOr<int64_t> Step(const BoundedStalenessOps& gate) const {
    std::vector<Tensor> out;
    absl::Status s = session->Run({}, {gate.lead}, {gate.train_op}, &out);
    if (!s.ok()) return s;
    return out[0].data<int64_t>()[0];
  }
  absl::StatusOr<int64_t> Step(int replica) const { return Step(gates[replica]); }
  absl::Status Finish(int replica) const {
    std::vector<Tensor> out;
    return session->Run({}, {}, {gates[replica].finish_op}, &out);
  }
  std::vector<int64_t> Clocks() const {
    std::vector<Tensor> out;
    EXPECT_TRUE(session->Run({gates[0].clocks}, &out).ok());
    if (out.empty()) return {};
    const int64_t* c = out[0].data<int64_t>();
    return std::vector<int64_t>(c, c + out[0].NumElements());
  }
  float StepsTrained(int replica) const {
    std::vector<Tensor> out;
    EXPECT_TRUE(session->Run({steps_trained[replica].value}, &out).ok());
    return out.empty() ? -1 : out[0].data<float>()[0];
  }
};

// Runs `steps` steps on every replica at once, replica `slow` sleeping before
// each, and checks the bound after every step: a replica that finished step
// t may be ahead of another by at most max_staleness + 1 steps counted here
// (the other may have advanced its clock and still be on its way back from
// the gate), and the lead the gate reports is at most max_staleness.
void RunAndCheckBound(Replicas& r, int n, int steps, int max_staleness, int slow) {
  std::vector<std::atomic<int>> done(n);
  std::atomic<int> worst_true_lead{0};
  std::atomic<int64_t> worst_reported_lead{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      for (int t = 0; t < steps; ++t) {
        if (i == slow) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        absl::StatusOr<int64_t> lead = r.Step(i);
        if (!lead.ok()) {
          ADD_FAILURE() << "replica " << i << " step " << t << ": " << lead.status();
          break;  // finish, so that the others do not wait for this one
        }
        done[i].store(t + 1);
        int64_t reported = *lead;
        EXPECT_GE(reported, 0);
        int64_t prev = worst_reported_lead.load();
        while (reported > prev && !worst_reported_lead.compare_exchange_weak(prev, reported)) {
        }
        for (int j = 0; j < n; ++j) {
          int true_lead = (t + 1) - done[j].load();
          int prev_true = worst_true_lead.load();
          while (true_lead > prev_true &&
                 !worst_true_lead.compare_exchange_weak(prev_true, true_lead)) {
          }
        }
      }
      EXPECT_TRUE(r.Finish(i).ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(worst_true_lead.load(), max_staleness + 1);
  EXPECT_LE(worst_reported_lead.load(), max_staleness);
  for (int i = 0; i < n; ++i) EXPECT_EQ(r.StepsTrained(i), steps) << "replica " << i;
  EXPECT_EQ(r.Clocks(), std::vector<int64_t>(n, steps));
}

TEST(BoundedStalenessTest, NoReplicaRunsMoreThanMaxStalenessAheadOfASlowOne) {
  Replicas r(3, /*max_staleness=*/1, /*timeout_ms=*/20000);
  RunAndCheckBound(r, 3, /*steps=*/20, /*max_staleness=*/1, /*slow=*/2);
}

TEST(BoundedStalenessTest, ZeroStalenessIsLockStep) {
  Replicas r(3, /*max_staleness=*/0, /*timeout_ms=*/20000);
  RunAndCheckBound(r, 3, /*steps=*/15, /*max_staleness=*/0, /*slow=*/0);
}

TEST(BoundedStalenessTest, TrainsFirstThenAdvancesTheClock) {
  Replicas r(1, 0, 1000);
  for (int t = 1; t <= 3; ++t) {
    absl::StatusOr<int64_t> lead = r.Step(0);
    ASSERT_TRUE(lead.ok()) << lead.status();
    EXPECT_EQ(*lead, 0);  // alone: never ahead of anyone
    EXPECT_EQ(r.StepsTrained(0), t);
    EXPECT_EQ(r.Clocks(), std::vector<int64_t>{t});
  }
}

TEST(BoundedStalenessTest, FinishedReplicaHoldsNobodyBack) {
  Replicas r(2, /*max_staleness=*/0, /*timeout_ms=*/20000);
  auto second = std::async(std::launch::async, [&] {
    for (int t = 0; t < 3; ++t) {
      absl::StatusOr<int64_t> lead = r.Step(1);
      if (!lead.ok()) return lead.status();
    }
    return r.Finish(1);
  });
  // Lock-step with replica 1 for three steps, then alone once it finished.
  for (int t = 0; t < 8; ++t) {
    absl::StatusOr<int64_t> lead = r.Step(0);
    ASSERT_TRUE(lead.ok()) << "step " << t << ": " << lead.status();
    EXPECT_EQ(*lead, 0);
  }
  EXPECT_TRUE(second.get().ok());
  EXPECT_EQ(r.Clocks(), (std::vector<int64_t>{8, 3}));
}

TEST(BoundedStalenessTest, MissingReplicaFailsTheStepNamingIt) {
  Replicas r(3, /*max_staleness=*/1, /*timeout_ms=*/300);
  ASSERT_TRUE(r.Finish(2).ok());  // ended: not waited for, not named
  absl::StatusOr<int64_t> lead = r.Step(0);
  ASSERT_TRUE(lead.ok()) << lead.status();
  EXPECT_EQ(*lead, 1);
  // Replica 1 never comes: a second step would be 2 ahead of it.
  lead = r.Step(0);
  ASSERT_TRUE(absl::IsDeadlineExceeded(lead.status())) << lead.status();
  const std::string message(lead.status().message());
  EXPECT_THAT(message, HasSubstr("replica 0 is at step 2 and may run at most 1 step ahead"));
  EXPECT_THAT(message, HasSubstr("replica 1 is at step 0"));
  EXPECT_THAT(message, HasSubstr("waited 300 ms"));
  EXPECT_THAT(message, Not(HasSubstr("replica 2")));
}

TEST(BoundedStalenessTest, RestartedWorkerGoesOnFromItsStoredClock) {
  Replicas r(2, /*max_staleness=*/5, /*timeout_ms=*/1000);
  for (int64_t want = 1; want <= 2; ++want) {
    absl::StatusOr<int64_t> lead = r.Step(0);
    ASSERT_TRUE(lead.ok()) << lead.status();
    EXPECT_EQ(*lead, want);
  }
  // The worker restarts and builds its graph again: same table, same clock.
  BoundedStalenessOps again = r.AddGate(2, 0, 5, 1000);
  absl::StatusOr<int64_t> lead = r.Step(again);
  ASSERT_TRUE(lead.ok()) << lead.status();
  EXPECT_EQ(*lead, 3);
  EXPECT_EQ(r.Clocks(), (std::vector<int64_t>{3, 0}));
}

TEST(BoundedStalenessTest, CloseReleasesAWaiterWithCancelled) {
  Replicas r(2, /*max_staleness=*/0, /*timeout_ms=*/0);  // would wait forever
  auto waiting = std::async(std::launch::async, [&] { return r.Step(0).status(); });
  std::vector<Tensor> out;
  ASSERT_TRUE(r.session->Run({}, {}, {r.gates[1].close_op}, &out).ok());
  absl::Status s = waiting.get();
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  // Later steps end at once too.
  EXPECT_TRUE(absl::IsCancelled(r.Step(1).status()));
}

TEST(BoundedStalenessTest, WorkersMustAgreeOnTheNumberOfReplicas) {
  Replicas r(2, 1, 1000);
  ASSERT_TRUE(r.Step(0).ok());
  BoundedStalenessOps other = r.AddGate(3, 1, 1, 1000);
  absl::Status s = r.Step(other).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("clocks of 2 replicas"));
}

TEST(BoundedStalenessTest, RejectsBadOptions) {
  Scope root = Scope::NewRootScope();
  Node* train = ops::NoOp(root);
  auto expect_invalid = [&](BoundedStalenessOptions o, const std::string& what) {
    auto built = BuildBoundedStaleness(root, train, o);
    EXPECT_TRUE(absl::IsInvalidArgument(built.status())) << built.status();
    EXPECT_THAT(std::string(built.status().message()), HasSubstr(what));
  };
  expect_invalid({.num_replicas = 0}, "num_replicas 0");
  expect_invalid({.num_replicas = 3, .replica_index = 3}, "replica_index 3 is outside [0, 3)");
  expect_invalid({.num_replicas = 3, .replica_index = -1}, "replica_index -1");
  expect_invalid({.num_replicas = 2, .max_staleness = -1}, "max_staleness -1");
  expect_invalid({.num_replicas = 2, .timeout_ms = -5}, "timeout_ms -5");
  auto built = BuildBoundedStaleness(root, nullptr, {.num_replicas = 2});
  EXPECT_TRUE(absl::IsInvalidArgument(built.status()));
  EXPECT_TRUE(root.status().ok()) << root.status();  // nothing was built
}

}  // namespace
}  // namespace braid
