#include "braid/serving/batching_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>

#include "braid/graph/ops/array_ops.h"
#include "braid/serving/test_model.h"

namespace braid::serving {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Feeds = std::vector<std::pair<std::string, Tensor>>;

// What the wrapped session saw: dimension 0 of the first feed of every run
// (-1 without feeds). Runs can be held at a gate to let requests queue up.
// Shared, so that it outlives the batching session that owns the wrapper.
struct RunLog {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int64_t> rows;
  bool held = false;

  void Hold() {
    std::lock_guard<std::mutex> lock(mu);
    held = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    held = false;
    cv.notify_all();
  }
  // Waits (generously) until `n` runs have started.
  bool WaitForRuns(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(30), [&] { return rows.size() >= n; });
  }
  std::vector<int64_t> Rows() {
    std::lock_guard<std::mutex> lock(mu);
    return rows;
  }
};

// A real session, counted.
class CountingSession : public Session {
 public:
  CountingSession(Session* real, std::shared_ptr<RunLog> log) : real_(real), log_(std::move(log)) {}
  absl::Status Run(const Feeds& feeds, const std::vector<std::string>& fetches,
                   const std::vector<std::string>& targets, std::vector<Tensor>* outputs) override {
    {
      std::unique_lock<std::mutex> lock(log_->mu);
      log_->rows.push_back(feeds.empty() ? -1 : feeds[0].second.dim(0));
      log_->cv.notify_all();
      log_->cv.wait(lock, [&] { return !log_->held; });
    }
    return real_->Run(feeds, fetches, targets, outputs);
  }
  Graph* graph() override { return real_->graph(); }

 private:
  Session* real_;
  std::shared_ptr<RunLog> log_;
};

// xf: float [-1, -1] -> yf = 2 xf + 1 and total = sum(xf) (no batch
// dimension); s: string [-1, -1] -> sid = s; c: a constant.
struct Model {
  Scope root = Scope::NewRootScope();
  std::unique_ptr<Session> session;
};

std::unique_ptr<Model> MakeModel() {
  auto m = std::make_unique<Model>();
  Scope& s = m->root;
  Output xf = ops::Placeholder(s.WithOpName("xf"), DType::kFloat, TensorShape{-1, -1});
  ops::Add(s.WithOpName("yf"), ops::Mul(s, xf, 2.0f), 1.0f);
  ops::Sum(s.WithOpName("total"), xf, {0, 1});
  Output str = ops::Placeholder(s.WithOpName("s"), DType::kString, TensorShape{-1, -1});
  ops::Identity(s.WithOpName("sid"), str);
  ops::Const(s.WithOpName("c"), {1.0f, 2.0f});
  BRAID_CHECK(s.ok());
  auto session = NewSession({}, s.graph_ptr());
  BRAID_CHECK(session.ok());
  m->session = *std::move(session);
  return m;
}

// Rows of distinct small integers (exact in float whatever the batch).
Tensor Rows(int64_t rows, int64_t cols, float start) {
  std::vector<float> v(rows * cols);
  for (size_t i = 0; i < v.size(); ++i) v[i] = start + static_cast<float>(i);
  return Tensor::FromVector<float>(v, TensorShape{rows, cols});
}

// Polls the queue gauge, generously.
bool WaitForQueuedRows(const BatchingSession& session, int64_t rows) {
  for (int i = 0; i < 30000; ++i) {
    if (session.QueuedRows() == rows) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

class BatchingSessionTest : public ::testing::Test {
 protected:
  // A batching session over `real`, counting into log_.
  std::unique_ptr<BatchingSession> Batching(Session* real, BatchingOptions options) {
    auto s = NewBatchingSession(std::make_unique<CountingSession>(real, log_), std::move(options));
    BRAID_CHECK(s.ok());
    return *std::move(s);
  }

  // One call in a thread of its own; join() before reading the results.
  struct Call {
    Feeds feeds;
    std::vector<std::string> fetches;
    absl::Status status;
    std::vector<Tensor> outputs;
    std::thread thread;
    void Start(Session* session) {
      thread =
          std::thread([this, session] { status = session->Run(feeds, fetches, {}, &outputs); });
    }
  };

  static std::vector<Tensor> Unbatched(Session* real, const Feeds& feeds,
                                       const std::vector<std::string>& fetches) {
    std::vector<Tensor> out;
    BRAID_CHECK(real->Run(feeds, fetches, {}, &out).ok());
    return out;
  }

  std::shared_ptr<RunLog> log_ = std::make_shared<RunLog>();
};

TEST(BatchingOptionsTest, ValidationNamesTheField) {
  EXPECT_TRUE(ValidateBatchingOptions({}).ok());
  auto error_of = [](auto edit) {
    BatchingOptions o;
    edit(o);
    absl::Status s = ValidateBatchingOptions(o);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  EXPECT_THAT(error_of([](BatchingOptions& o) { o.max_batch_size = 0; }),
              HasSubstr("max_batch_size must be at least 1, not 0"));
  EXPECT_THAT(error_of([](BatchingOptions& o) { o.batch_timeout_micros = -1; }),
              HasSubstr("batch_timeout_micros"));
  EXPECT_THAT(error_of([](BatchingOptions& o) { o.max_enqueued_batches = 0; }),
              HasSubstr("max_enqueued_batches"));
  EXPECT_THAT(error_of([](BatchingOptions& o) { o.num_batch_threads = 0; }),
              HasSubstr("num_batch_threads"));
  EXPECT_THAT(error_of([](BatchingOptions& o) {
                o.max_batch_size = 8;
                o.allowed_batch_sizes = {4, 2, 8};
              }),
              HasSubstr("strictly increasing; got [4, 2, 8]"));
  EXPECT_THAT(error_of([](BatchingOptions& o) {
                o.max_batch_size = 8;
                o.allowed_batch_sizes = {2, 4};
              }),
              HasSubstr("must equal max_batch_size (8)"));
  BatchingOptions good;
  good.max_batch_size = 8;
  good.allowed_batch_sizes = {2, 4, 8};
  EXPECT_TRUE(ValidateBatchingOptions(good).ok());
  EXPECT_EQ(NewBatchingSession(nullptr, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BatchingSessionTest, MergesConcurrentCallsAndReturnsEachItsOwnRows) {
  auto model = testing::MakeTinyModel(1.0f);
  constexpr int kCalls = 8;
  std::vector<Call> calls(kCalls);
  int64_t total = 0;
  for (int i = 0; i < kCalls; ++i) {
    const int64_t rows = 1 + i % 3;
    calls[i].feeds = {{"x:0", Rows(rows, 3, 10.0f * i)}};
    calls[i].fetches = {"y:0", "twice:0"};
    total += rows;
  }
  std::mutex mu;
  std::vector<std::vector<int64_t>> batches;
  BatchingOptions options;
  options.max_batch_size = total;  // the batch closes when everyone is in
  options.batch_timeout_micros = 60'000'000;
  options.on_batch = [&](int64_t size, int64_t padded, int64_t waited) {
    std::lock_guard<std::mutex> lock(mu);
    batches.push_back({size, padded});
    EXPECT_GE(waited, 0);
  };
  auto batching = Batching(model->session.get(), options);
  for (Call& c : calls) c.Start(batching.get());
  for (Call& c : calls) c.thread.join();
  EXPECT_THAT(log_->Rows(), ElementsAre(total));
  EXPECT_EQ(batches, (std::vector<std::vector<int64_t>>{{total, total}}));
  for (Call& c : calls) {
    ASSERT_TRUE(c.status.ok()) << c.status;
    std::vector<Tensor> want = Unbatched(model->session.get(), c.feeds, c.fetches);
    ASSERT_EQ(c.outputs.size(), 2u);
    EXPECT_TRUE(TensorsEqual(c.outputs[0], want[0])) << c.outputs[0].DebugString();
    EXPECT_TRUE(TensorsEqual(c.outputs[1], want[1])) << c.outputs[1].DebugString();
  }
  EXPECT_EQ(batching->QueuedRows(), 0);
}

TEST_F(BatchingSessionTest, PadsToAllowedBatchSizesWithTheFirstRow) {
  auto model = testing::MakeTinyModel(1.0f);
  std::vector<std::pair<int64_t, int64_t>> batches;
  BatchingOptions options;
  options.max_batch_size = 8;
  options.allowed_batch_sizes = {2, 4, 8};
  options.on_batch = [&](int64_t size, int64_t padded, int64_t) {
    batches.emplace_back(size, padded);  // one batch thread: no lock needed
  };
  auto batching = Batching(model->session.get(), options);
  // The first call holds the only batch thread while three more queue up.
  log_->Hold();
  std::vector<Call> calls(4);
  for (int i = 0; i < 4; ++i) {
    calls[i].feeds = {{"x:0", Rows(1, 3, 3.0f * i)}};
    calls[i].fetches = {"y:0"};
  }
  calls[0].Start(batching.get());
  ASSERT_TRUE(log_->WaitForRuns(1));
  for (int i = 1; i < 4; ++i) calls[i].Start(batching.get());
  ASSERT_TRUE(WaitForQueuedRows(*batching, 3));
  log_->Release();
  for (Call& c : calls) c.thread.join();
  EXPECT_THAT(log_->Rows(), ElementsAre(2, 4));
  EXPECT_EQ(batches, (std::vector<std::pair<int64_t, int64_t>>{{1, 2}, {3, 4}}));
  for (Call& c : calls) {
    ASSERT_TRUE(c.status.ok()) << c.status;
    EXPECT_TRUE(TensorsEqual(c.outputs[0], Unbatched(model->session.get(), c.feeds, {"y:0"})[0]))
        << c.outputs[0].DebugString();
  }
}

TEST_F(BatchingSessionTest, SplitsARequestLargerThanMaxBatchSize) {
  auto model = testing::MakeTinyModel(1.0f);
  BatchingOptions options;
  options.max_batch_size = 4;
  options.max_enqueued_batches = 3;
  auto batching = Batching(model->session.get(), options);
  const Feeds feeds = {{"x:0", Rows(10, 3, 0.0f)}};
  std::vector<Tensor> out;
  ASSERT_TRUE(batching->Run(feeds, {"y:0", "twice:0"}, {}, &out).ok());
  EXPECT_THAT(log_->Rows(), ElementsAre(4, 4, 2));
  std::vector<Tensor> want = Unbatched(model->session.get(), feeds, {"y:0", "twice:0"});
  EXPECT_TRUE(TensorsEqual(out[0], want[0])) << out[0].DebugString();
  EXPECT_TRUE(TensorsEqual(out[1], want[1])) << out[1].DebugString();

  // 13 rows need 4 batches, more than the queue may ever hold.
  absl::Status s = batching->Run({{"x:0", Rows(13, 3, 0.0f)}}, {"y:0"}, {}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("needs 4 batches of at most max_batch_size=4"));
}

TEST_F(BatchingSessionTest, FullQueueIsResourceExhausted) {
  auto model = testing::MakeTinyModel(1.0f);
  BatchingOptions options;
  options.max_batch_size = 1;
  options.max_enqueued_batches = 1;
  auto batching = Batching(model->session.get(), options);
  log_->Hold();
  std::vector<Call> calls(2);
  for (int i = 0; i < 2; ++i) {
    calls[i].feeds = {{"x:0", Rows(1, 3, i)}};
    calls[i].fetches = {"y:0"};
  }
  calls[0].Start(batching.get());  // runs (held)
  ASSERT_TRUE(log_->WaitForRuns(1));
  calls[1].Start(batching.get());  // fills the queue
  ASSERT_TRUE(WaitForQueuedRows(*batching, 1));
  std::vector<Tensor> out;
  absl::Status s = batching->Run({{"x:0", Rows(1, 3, 5)}}, {"y:0"}, {}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("max_enqueued_batches is 1"));
  log_->Release();
  for (Call& c : calls) {
    c.thread.join();
    EXPECT_TRUE(c.status.ok()) << c.status;
  }
}

TEST_F(BatchingSessionTest, FeedsMustHaveOneDimensionZero) {
  auto model = MakeModel();
  auto batching = Batching(model->session.get(), {});
  std::vector<Tensor> out;
  absl::Status s = batching->Run(
      {{"xf", Rows(2, 2, 0)}, {"s", Tensor::FromVector<std::string>({"a", "b", "c"}, {3, 1})}},
      {"yf", "sid"}, {}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("feed 'xf' has 2 rows (shape [2,2]) but feed 's' has 3"));
  s = batching->Run({{"xf", Tensor::Scalar(1.0f)}}, {"yf"}, {}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("feed 'xf' is a scalar"));
  EXPECT_TRUE(log_->Rows().empty());
}

TEST_F(BatchingSessionTest, WrappedErrorReachesEveryRequestOfTheBatch) {
  auto model = testing::MakeTinyModel(1.0f);
  BatchingOptions options;
  options.max_batch_size = 2;
  options.batch_timeout_micros = 60'000'000;
  auto batching = Batching(model->session.get(), options);
  std::vector<Call> calls(2);
  for (Call& c : calls) {
    c.feeds = {{"x:0", Rows(1, 4, 0)}};  // x is [-1, 3]
    c.fetches = {"y:0"};
    c.Start(batching.get());
  }
  for (Call& c : calls) c.thread.join();
  EXPECT_THAT(log_->Rows(), ElementsAre(2));
  EXPECT_EQ(calls[0].status.code(), absl::StatusCode::kInvalidArgument) << calls[0].status;
  EXPECT_EQ(calls[0].status, calls[1].status);
}

TEST_F(BatchingSessionTest, OutputWithoutTheBatchDimensionIsAnError) {
  auto model = MakeModel();
  auto batching = Batching(model->session.get(), {});
  std::vector<Tensor> out;
  absl::Status s = batching->Run({{"xf", Rows(2, 2, 0)}}, {"yf", "total"}, {}, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("output 'total' has shape [] for a batch of 2 rows"));
}

TEST_F(BatchingSessionTest, DifferentFetchesAreNotMerged) {
  auto model = testing::MakeTinyModel(1.0f);
  BatchingOptions options;
  options.max_batch_size = 2;
  options.batch_timeout_micros = 20'000;  // each runs alone once this passes
  auto batching = Batching(model->session.get(), options);
  std::vector<Call> calls(2);
  calls[0].fetches = {"y:0"};
  calls[1].fetches = {"y:0", "twice:0"};
  for (int i = 0; i < 2; ++i) {
    calls[i].feeds = {{"x:0", Rows(1, 3, i)}};
    calls[i].Start(batching.get());
  }
  for (Call& c : calls) {
    c.thread.join();
    ASSERT_TRUE(c.status.ok()) << c.status;
    std::vector<Tensor> want = Unbatched(model->session.get(), c.feeds, c.fetches);
    ASSERT_EQ(c.outputs.size(), want.size());
    for (size_t j = 0; j < want.size(); ++j) EXPECT_TRUE(TensorsEqual(c.outputs[j], want[j]));
  }
  EXPECT_THAT(log_->Rows(), ElementsAre(1, 1));
}

// Holds the batch thread with a first call, then queues `shapes` one after
// the other (in this order), releases and returns the calls.
class VariableLengthTest : public BatchingSessionTest {
 protected:
  std::vector<Call> QueueBehindAHeldRun(BatchingSession* batching,
                                        const std::vector<Tensor>& values) {
    std::vector<Call> calls(values.size() + 1);
    log_->Hold();
    calls[0].feeds = {{"xf", Rows(1, 1, 0)}};
    calls[0].fetches = {"yf"};
    calls[0].Start(batching);
    EXPECT_TRUE(log_->WaitForRuns(1));
    int64_t queued = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      const bool strings = values[i].dtype() == DType::kString;
      calls[i + 1].feeds = {{strings ? "s" : "xf", values[i]}};
      calls[i + 1].fetches = {strings ? "sid" : "yf"};
      calls[i + 1].Start(batching);
      queued += values[i].dim(0);
      EXPECT_TRUE(WaitForQueuedRows(*batching, queued));
    }
    log_->Release();
    for (Call& c : calls) c.thread.join();
    return calls;
  }
};

TEST_F(VariableLengthTest, WithoutPaddingOtherShapesStartANewBatch) {
  auto model = MakeModel();
  auto batching = Batching(model->session.get(), {});
  std::vector<Call> calls =
      QueueBehindAHeldRun(batching.get(), {Rows(1, 2, 0), Rows(2, 2, 10), Rows(1, 3, 20)});
  EXPECT_THAT(log_->Rows(), ElementsAre(1, 3, 1));
  for (Call& c : calls) {
    ASSERT_TRUE(c.status.ok()) << c.status;
    EXPECT_TRUE(TensorsEqual(c.outputs[0], Unbatched(model->session.get(), c.feeds, c.fetches)[0]))
        << c.outputs[0].DebugString();
  }
}

TEST_F(VariableLengthTest, PaddingMergesWithZerosAndEmptyStrings) {
  auto model = MakeModel();
  BatchingOptions options;
  options.pad_variable_length_inputs = true;
  auto batching = Batching(model->session.get(), options);
  std::vector<Call> calls = QueueBehindAHeldRun(
      batching.get(),
      {Rows(1, 2, 1), Rows(2, 3, 10), Tensor::FromVector<std::string>({"a"}, {1, 1}),
       Tensor::FromVector<std::string>({"b", "c", "d", "e"}, {2, 2})});
  EXPECT_THAT(log_->Rows(), ElementsAre(1, 3, 3));
  for (Call& c : calls) ASSERT_TRUE(c.status.ok()) << c.status;
  // 2 * 0 + 1 where the feed was padded with zeros.
  EXPECT_TRUE(
      TensorsEqual(calls[1].outputs[0], Tensor::FromVector<float>({3, 5, 1}, TensorShape{1, 3})))
      << calls[1].outputs[0].DebugString();
  EXPECT_TRUE(TensorsEqual(calls[2].outputs[0],
                           Unbatched(model->session.get(), calls[2].feeds, {"yf"})[0]));
  EXPECT_TRUE(TensorsEqual(calls[3].outputs[0],
                           Tensor::FromVector<std::string>({"a", ""}, TensorShape{1, 2})))
      << calls[3].outputs[0].DebugString();
  EXPECT_TRUE(TensorsEqual(calls[4].outputs[0], calls[4].feeds[0].second));
}

TEST_F(BatchingSessionTest, StringsAreBatched) {
  auto model = MakeModel();
  BatchingOptions options;
  options.max_batch_size = 3;
  options.batch_timeout_micros = 60'000'000;
  options.allowed_batch_sizes = {3};
  auto batching = Batching(model->session.get(), options);
  std::vector<Call> calls(2);
  calls[0].feeds = {{"s", Tensor::FromVector<std::string>({"a", "bb"}, {1, 2})}};
  calls[1].feeds = {{"s", Tensor::FromVector<std::string>({"cc", "d", "", "eee"}, {2, 2})}};
  for (Call& c : calls) {
    c.fetches = {"sid"};
    c.Start(batching.get());
  }
  for (Call& c : calls) {
    c.thread.join();
    ASSERT_TRUE(c.status.ok()) << c.status;
    EXPECT_TRUE(TensorsEqual(c.outputs[0], c.feeds[0].second)) << c.outputs[0].DebugString();
  }
  EXPECT_THAT(log_->Rows(), ElementsAre(3));
}

TEST_F(BatchingSessionTest, CallsWithoutFeedsRunDirectly) {
  auto model = MakeModel();
  auto batching = Batching(model->session.get(), {});
  std::vector<Tensor> out;
  ASSERT_TRUE(batching->Run({}, {"c"}, {}, &out).ok());
  EXPECT_TRUE(TensorsEqual(out[0], Tensor::FromVector<float>({1, 2})));
  EXPECT_THAT(log_->Rows(), ElementsAre(-1));
  EXPECT_EQ(batching->graph(), model->session->graph());
}

TEST_F(BatchingSessionTest, DestructorRunsQueuedRequests) {
  auto model = testing::MakeTinyModel(1.0f);
  BatchingOptions options;
  // Beyond the clock's range: only the destructor closes the batch.
  options.batch_timeout_micros = std::numeric_limits<int64_t>::max();
  auto batching = Batching(model->session.get(), options);
  std::vector<Call> calls(3);
  for (int i = 0; i < 3; ++i) {
    calls[i].feeds = {{"x:0", Rows(1, 3, i)}};
    calls[i].fetches = {"y:0"};
    calls[i].Start(batching.get());
  }
  ASSERT_TRUE(WaitForQueuedRows(*batching, 3));
  batching.reset();
  for (Call& c : calls) {
    c.thread.join();
    ASSERT_TRUE(c.status.ok()) << c.status;
    EXPECT_TRUE(TensorsEqual(c.outputs[0], Unbatched(model->session.get(), c.feeds, c.fetches)[0]));
  }
  EXPECT_THAT(log_->Rows(), ElementsAre(3));
}

TEST_F(BatchingSessionTest, ManyThreadsManyQueuesStayCorrect) {
  auto model = testing::MakeTinyModel(1.0f);
  BatchingOptions options;
  options.max_batch_size = 5;
  options.batch_timeout_micros = 500;
  options.num_batch_threads = 2;
  options.allowed_batch_sizes = {2, 5};
  options.max_enqueued_batches = 1000;
  auto batching = Batching(model->session.get(), options);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const Feeds feeds = {{"x:0", Rows(1 + (t + i) % 7, 3, 100.0f * t + i)}};
        std::vector<std::string> fetches = {"y:0"};
        if (i % 2 == 1) fetches.push_back("twice:0");
        std::vector<Tensor> out;
        absl::Status s = batching->Run(feeds, fetches, {}, &out);
        std::vector<Tensor> want = Unbatched(model->session.get(), feeds, fetches);
        bool same = s.ok() && out.size() == want.size();
        for (size_t j = 0; same && j < want.size(); ++j) same = TensorsEqual(out[j], want[j]);
        if (!same) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int64_t rows : log_->Rows()) EXPECT_TRUE(rows == 2 || rows == 5) << rows;
}

}  // namespace
}  // namespace braid::serving
