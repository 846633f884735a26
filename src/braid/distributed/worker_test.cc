// A task's Worker when a step is aborted: the master's CleanupStep races the
// step's own RunGraph and other tasks' RecvTensor calls, in either order.
#include "braid/distributed/worker.h"

#include <future>

#include "braid/kernels/rendezvous.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace braid::distributed {
namespace {

using ::testing::HasSubstr;

// What another task's RecvTensor for `step_id` gets from this worker. The
// deadline is the test's bound: "waited for a value that never comes" shows
// as DeadlineExceeded.
absl::StatusOr<Tensor> RecvFrom(Worker& worker, int64_t step_id,
                                absl::Duration wait = absl::Seconds(5)) {
  const std::string key = Rendezvous::CreateKey(worker.device()->name(),
                                                worker.device()->incarnation(),
                                                "/job:worker/replica:0/task:0/device:CPU:0", "v");
  return worker.WaitForTensor(step_id, key, absl::Now() + wait, [] { return false; });
}

rpc::CleanupStepRequest Abort(int64_t step_id) {
  rpc::CleanupStepRequest req;
  req.set_step_id(step_id);
  req.set_abort_code(static_cast<int>(absl::StatusCode::kFailedPrecondition));
  req.set_abort_message("variable 'v' is not initialized");
  return req;
}

TEST(WorkerTest, AnAbortThatComesBeforeTheStepFailsTheStepWhenItComes) {
  Worker worker({.job = "ps", .intra_op_threads = 1}, /*peers=*/nullptr);
  ASSERT_TRUE(worker.CleanupStep(Abort(7)).ok());
  absl::StatusOr<Tensor> value = RecvFrom(worker, 7);
  EXPECT_TRUE(absl::IsFailedPrecondition(value.status())) << value.status();
  EXPECT_THAT(std::string(value.status().message()), HasSubstr("not initialized"));
}

TEST(WorkerTest, AnAbortedStepStaysAbortedForWhatComesLate) {
  Worker worker({.job = "ps", .intra_op_threads = 1}, /*peers=*/nullptr);
  // A RecvTensor that waits when the abort comes fails with it...
  std::future<absl::StatusOr<Tensor>> waiting =
      std::async(std::launch::async, [&] { return RecvFrom(worker, 8); });
  // (Whichever of the two the worker sees first, the receiver must fail.)
  ASSERT_TRUE(worker.CleanupStep(Abort(8)).ok());
  absl::StatusOr<Tensor> first = waiting.get();
  EXPECT_TRUE(absl::IsFailedPrecondition(first.status())) << first.status();
  // ...and one that comes after it too, instead of waiting for a value that
  // no partition will send.
  absl::StatusOr<Tensor> late = RecvFrom(worker, 8);
  EXPECT_TRUE(absl::IsFailedPrecondition(late.status())) << late.status();
}

TEST(WorkerTest, AStepThatEndedNormallyIsForgotten) {
  Worker worker({.job = "ps", .intra_op_threads = 1}, /*peers=*/nullptr);
  rpc::CleanupStepRequest ended;
  ended.set_step_id(9);  // abort_code 0: the step ended
  ASSERT_TRUE(worker.CleanupStep(ended).ok());
  // Nothing was kept for step 9: a receiver waits for its value as for any
  // step, until the deadline.
  absl::StatusOr<Tensor> value = RecvFrom(worker, 9, absl::Milliseconds(200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(value.status())) << value.status();
}

}  // namespace
}  // namespace braid::distributed
