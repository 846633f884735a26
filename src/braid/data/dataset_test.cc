#include "braid/data/dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <set>

#include "absl/strings/str_cat.h"
#include "braid/data/idx.h"

namespace braid::data {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// 0, 1, ..., n-1 as int64 scalars.
DatasetPtr Range(int64_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return *FromTensors({Tensor::FromVector(v)});
}

// Yields each entry in turn: a value as an int64 scalar, or its error.
DatasetPtr Script(std::vector<absl::StatusOr<int64_t>> items) {
  return FromGenerator(
      [items] {
        auto next = std::make_shared<size_t>(0);
        return [items, next](Element* out, bool* end) -> absl::Status {
          if (*next == items.size()) {
            *end = true;
            return absl::OkStatus();
          }
          const absl::StatusOr<int64_t>& item = items[(*next)++];
          if (!item.ok()) return item.status();
          *out = {Tensor::Scalar<int64_t>(*item)};
          *end = false;
          return absl::OkStatus();
        };
      },
      "Script");
}

int64_t Value(const Element& e) { return e.at(0).data<int64_t>()[0]; }

std::unique_ptr<Iterator> Iter(const DatasetPtr& ds) {
  auto it = ds->MakeIterator();
  EXPECT_TRUE(it.ok()) << it.status();
  return it.ok() ? *std::move(it) : nullptr;
}

// Every element of `ds`, each reduced to its first component's first value;
// fails the test on an error.
std::vector<int64_t> Values(const DatasetPtr& ds) {
  std::vector<int64_t> out;
  auto it = Iter(ds);
  if (it == nullptr) return out;
  for (;;) {
    Element e;
    bool end = false;
    absl::Status s = it->GetNext(&e, &end);
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok() || end) break;
    out.push_back(Value(e));
  }
  return out;
}

// The sequence with errors shown as "E:<message>" so order can be checked.
std::vector<std::string> Trace(Iterator* it, int max_steps = 1000) {
  std::vector<std::string> out;
  for (int i = 0; i < max_steps; ++i) {
    Element e;
    bool end = false;
    absl::Status s = it->GetNext(&e, &end);
    if (!s.ok()) {
      out.push_back(absl::StrCat("E:", s.message()));
      continue;
    }
    if (end) break;
    out.push_back(std::to_string(Value(e)));
  }
  return out;
}

std::vector<int64_t> Iota(int64_t begin, int64_t end) {
  std::vector<int64_t> v(end - begin);
  std::iota(v.begin(), v.end(), begin);
  return v;
}

// ---------------------------------------------------------------- sources

TEST(FromTensorsTest, SlicesEveryComponentAlongDimZero) {
  Tensor x = Tensor::FromVector<int32_t>({1, 2, 3, 4, 5, 6}, TensorShape{3, 2});
  Tensor s = Tensor::FromVector<std::string>({"a", "b", "c"});
  auto ds = FromTensors({x, s});
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ((*ds)->DebugString(), "FromTensors(3 x {int32[2], string[]})");
  auto it = Iter(*ds);
  Element e;
  bool end = false;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(it->GetNext(&e, &end).ok());
    ASSERT_FALSE(end);
    ASSERT_EQ(e.size(), 2u);
    EXPECT_TRUE(TensorsEqual(e[0], Tensor::FromVector<int32_t>({2 * i + 1, 2 * i + 2})));
    EXPECT_EQ(e[1].shape().rank(), 0);
    EXPECT_EQ(e[1].data<std::string>()[0], std::string(1, static_cast<char>('a' + i)));
  }
  ASSERT_TRUE(it->GetNext(&e, &end).ok());
  EXPECT_TRUE(end);
  ASSERT_TRUE(it->GetNext(&e, &end).ok());  // the end is sticky
  EXPECT_TRUE(end);
}

TEST(FromTensorsTest, RejectsMismatchedFirstDimensionsScalarsAndNothing) {
  auto ds = FromTensors({Tensor(DType::kFloat, {4, 2}), Tensor(DType::kInt32, {3})});
  EXPECT_EQ(ds.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ds.status().message()),
              HasSubstr("component 0 has shape [4,2] but component 1 has shape [3]"));
  EXPECT_THAT(std::string(FromTensors({Tensor::Scalar<float>(1)}).status().message()),
              HasSubstr("component 0 is a scalar"));
  EXPECT_FALSE(FromTensors({}).ok());
  EXPECT_FALSE(FromTensors({Tensor()}).ok());
}

TEST(FromTensorsTest, ZeroRowsIsEmptyAndIteratorsOutliveTheDataset) {
  EXPECT_TRUE(Values(*FromTensors({Tensor(DType::kInt64, {0, 5})})).empty());
  DatasetPtr ds = Range(3);
  auto it = Iter(ds);
  ds.reset();
  EXPECT_THAT(Trace(it.get()), ElementsAre("0", "1", "2"));
}

TEST(FromGeneratorTest, FreshStatePerIteratorAndNotCalledAfterTheEnd) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  DatasetPtr ds = FromGenerator(
      [calls] {
        auto i = std::make_shared<int64_t>(0);
        return [calls, i](Element* out, bool* end) {
          ++*calls;
          *end = *i == 3;
          if (!*end) *out = {Tensor::Scalar<int64_t>((*i)++)};
          return absl::OkStatus();
        };
      },
      "Counter");
  EXPECT_EQ(ds->DebugString(), "Counter");
  auto it = Iter(ds);
  EXPECT_THAT(Trace(it.get()), ElementsAre("0", "1", "2"));
  Element e;
  bool end = false;
  ASSERT_TRUE(it->GetNext(&e, &end).ok());
  EXPECT_TRUE(end);
  EXPECT_EQ(calls->load(), 4);
  EXPECT_THAT(Values(ds), ElementsAre(0, 1, 2));
}

TEST(IdxDatasetTest, ElementsAreImageAndLabel) {
  ImageDataset data;
  data.images = Tensor::Filled<float>(TensorShape{5, 28, 28, 1}, 0.5f);
  data.labels = Tensor::FromVector<int32_t>({3, 1, 4, 1, 5});
  auto ds = IdxDataset(data);
  ASSERT_TRUE(ds.ok()) << ds.status();
  auto batches = Iter(Batch(*ds, 2));
  Element e;
  bool end = false;
  ASSERT_TRUE(batches->GetNext(&e, &end).ok());
  EXPECT_EQ(e[0].shape().DebugString(), "[2,28,28,1]");
  EXPECT_TRUE(TensorsEqual(e[1], Tensor::FromVector<int32_t>({3, 1})));
}

// ---------------------------------------------------------------- Map, Filter

TEST(MapTest, AppliesTheFunctionInOrder) {
  auto twice = [](Element e) -> absl::StatusOr<Element> {
    return Element{Tensor::Scalar<int64_t>(2 * Value(e))};
  };
  EXPECT_THAT(Values(Map(Range(5), twice)), ElementsAre(0, 2, 4, 6, 8));
  EXPECT_EQ(Map(Range(5), twice, 3)->DebugString(), "Map(FromTensors(5 x {int64[]}), 3 parallel)");
}

TEST(MapTest, ErrorNamesTheElementIndexAndIterationGoesOn) {
  auto fail_on_3 = [](Element e) -> absl::StatusOr<Element> {
    if (Value(e) == 3) return absl::FailedPreconditionError("three is not allowed");
    return e;
  };
  for (int parallel : {1, 4}) {
    auto it = Iter(Map(Range(6), fail_on_3, parallel));
    Element e;
    bool end = false;
    std::vector<std::string> seen;
    for (int i = 0; i < 7; ++i) {
      absl::Status s = it->GetNext(&e, &end);
      if (!s.ok()) {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
        EXPECT_THAT(std::string(s.message()), HasSubstr("element 3 {int64[]}"));
        EXPECT_THAT(std::string(s.message()), HasSubstr("three is not allowed"));
        seen.push_back("error");
      } else if (end) {
        seen.push_back("end");
      } else {
        seen.push_back(std::to_string(Value(e)));
      }
    }
    EXPECT_THAT(seen, ElementsAre("0", "1", "2", "error", "4", "5", "end")) << parallel;
  }
}

TEST(MapTest, ParallelCallsOverlapButResultsKeepInputOrder) {
  // Element 0's call waits until element 1's call has finished: a map that
  // ran one call at a time would time out, and one that yielded results as
  // they finish would put 1 before 0.
  std::mutex mu;
  std::condition_variable cv;
  bool one_done = false;
  std::atomic<bool> overlapped{false};
  MapFn fn = [&](Element e) -> absl::StatusOr<Element> {
    const int64_t v = Value(e);
    if (v == 0) {
      std::unique_lock<std::mutex> lock(mu);
      overlapped = cv.wait_for(lock, std::chrono::seconds(30), [&] { return one_done; });
    } else if (v == 1) {
      std::lock_guard<std::mutex> lock(mu);
      one_done = true;
      cv.notify_all();
    }
    return Element{Tensor::Scalar<int64_t>(v * v)};
  };
  std::vector<int64_t> want;
  for (int64_t i = 0; i < 200; ++i) want.push_back(i * i);
  EXPECT_THAT(Values(Map(Range(200), fn, 3)), ElementsAreArray(want));
  EXPECT_TRUE(overlapped);
}

TEST(MapTest, UpstreamErrorsKeepTheirPlaceAndBadArgumentsFail) {
  auto id = [](Element e) -> absl::StatusOr<Element> { return e; };
  auto it = Iter(Map(Script({0, absl::DataLossError("bad record"), 2}), id, 2));
  EXPECT_THAT(Trace(it.get()), ElementsAre("0", "E:bad record", "2"));
  EXPECT_EQ(Map(Range(3), id, 0)->MakeIterator().status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(Map(nullptr, id)->MakeIterator().ok());
}

TEST(MapTest, DestroyingAParallelIteratorMidStreamReturns) {
  auto id = [](Element e) -> absl::StatusOr<Element> { return e; };
  auto it = Iter(Map(Repeat(Range(3)), id, 4));
  Element e;
  bool end = false;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(it->GetNext(&e, &end).ok());
  it.reset();  // must join its threads without waiting for the (endless) input
}

TEST(FilterTest, KeepsMatchingElementsAndNamesFailures) {
  auto even = [](const Element& e) -> absl::StatusOr<bool> { return Value(e) % 2 == 0; };
  EXPECT_THAT(Values(Filter(Range(9), even)), ElementsAre(0, 2, 4, 6, 8));
  auto picky = [](const Element& e) -> absl::StatusOr<bool> {
    if (Value(e) == 2) return absl::InvalidArgumentError("cannot decide");
    return true;
  };
  auto it = Iter(Filter(Range(4), picky));
  std::vector<std::string> trace = Trace(it.get());
  ASSERT_EQ(trace.size(), 4u);
  EXPECT_THAT(trace[2], HasSubstr("element 2"));
  EXPECT_THAT(trace[2], HasSubstr("cannot decide"));
  EXPECT_EQ(trace[3], "3");
}

// ---------------------------------------------------------------- Shuffle

TEST(ShuffleTest, IsAPermutationAndSeedsAreReproducible) {
  std::vector<int64_t> a = Values(Shuffle(Range(100), 100, 7));
  std::vector<int64_t> b = Values(Shuffle(Range(100), 100, 7));
  std::vector<int64_t> c = Values(Shuffle(Range(100), 100, 8));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, Iota(0, 100));
  std::sort(a.begin(), a.end());
  std::sort(c.begin(), c.end());
  EXPECT_EQ(a, Iota(0, 100));
  EXPECT_EQ(c, Iota(0, 100));
}

TEST(ShuffleTest, EachEpochDrawsANewReproducibleOrder) {
  auto epochs = [] { return Values(Repeat(Shuffle(Range(50), 50, 42), 3)); };
  std::vector<int64_t> all = epochs();
  ASSERT_EQ(all.size(), 150u);
  std::vector<int64_t> e0(all.begin(), all.begin() + 50), e1(all.begin() + 50, all.begin() + 100),
      e2(all.begin() + 100, all.end());
  EXPECT_NE(e0, e1);
  EXPECT_NE(e1, e2);
  for (auto* e : {&e0, &e1, &e2}) {
    std::vector<int64_t> sorted = *e;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, Iota(0, 50));
  }
  EXPECT_EQ(epochs(), all);  // a new dataset with the same seed replays the epochs

  // Iterators of one dataset are the epochs too.
  DatasetPtr ds = Shuffle(Range(50), 50, 42);
  EXPECT_EQ(Values(ds), e0);
  EXPECT_EQ(Values(ds), e1);
}

TEST(ShuffleTest, RowIndexFastPathDrawsTheSameOrder) {
  // Take(-1) hides that the input is FromTensors, forcing the element buffer.
  for (int64_t buffer : {1, 7, 64, 1000}) {
    EXPECT_EQ(Values(Repeat(Shuffle(Range(64), buffer, 11), 2)),
              Values(Repeat(Shuffle(Take(Range(64), -1), buffer, 11), 2)))
        << buffer;
  }
}

TEST(ShuffleTest, BufferBoundsHowFarElementsMove) {
  EXPECT_EQ(Values(Shuffle(Range(20), 1, 3)), Iota(0, 20));
  // With a buffer of 4, element i is read only after i - 3 elements went out.
  std::vector<int64_t> out = Values(Shuffle(Range(200), 4, 3));
  ASSERT_EQ(out.size(), 200u);
  for (size_t pos = 0; pos < out.size(); ++pos) EXPECT_LE(out[pos], static_cast<int64_t>(pos) + 3);
  EXPECT_NE(out, Iota(0, 200));
  EXPECT_FALSE(Shuffle(Range(3), 0, 1)->MakeIterator().ok());
}

TEST(ShuffleTest, EveryElementIsEquallyLikelyFirst) {
  DatasetPtr ds = Shuffle(Range(4), 4, 99);
  int first[4] = {};
  for (int epoch = 0; epoch < 2000; ++epoch) {
    auto it = Iter(ds);
    Element e;
    bool end = false;
    ASSERT_TRUE(it->GetNext(&e, &end).ok());
    ++first[Value(e)];
  }
  for (int count : first) {  // 500 expected; deterministic for this seed
    EXPECT_GT(count, 400);
    EXPECT_LT(count, 600);
  }
}

// ---------------------------------------------------------------- Batch

TEST(BatchTest, StacksAndKeepsOrDropsTheRemainder) {
  auto it = Iter(Batch(Range(10), 4));
  std::vector<Tensor> batches;
  Element e;
  bool end = false;
  while (it->GetNext(&e, &end).ok() && !end) batches.push_back(e[0]);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_TRUE(TensorsEqual(batches[0], Tensor::FromVector<int64_t>({0, 1, 2, 3})));
  EXPECT_TRUE(TensorsEqual(batches[2], Tensor::FromVector<int64_t>({8, 9})));
  EXPECT_THAT(Values(Batch(Range(10), 4, /*drop_remainder=*/true)), ElementsAre(0, 4));
  EXPECT_THAT(Values(Batch(Range(8), 4, true)), ElementsAre(0, 4));
  EXPECT_TRUE(Values(Batch(Range(3), 4, true)).empty());
  EXPECT_TRUE(Values(Batch(Range(0), 4)).empty());
  EXPECT_EQ(Batch(Range(3), 0)->MakeIterator().status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BatchTest, StacksEveryDTypeAndRank) {
  Tensor images(DType::kFloat, {5, 2, 3});
  std::iota(images.data<float>(), images.data<float>() + 30, 0.0f);
  Tensor words = Tensor::FromVector<std::string>({"a", "bb", "ccc", "dddd", "eeeee"});
  Tensor flags = Tensor::FromVector<bool>({true, false, true, false, true});
  Tensor bytes = Tensor::FromVector<uint8_t>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, TensorShape{5, 2});
  auto it = Iter(Batch(*FromTensors({images, words, flags, bytes}), 3));
  Element e;
  bool end = false;
  ASSERT_TRUE(it->GetNext(&e, &end).ok());
  ASSERT_EQ(e.size(), 4u);
  EXPECT_TRUE(TensorsEqual(e[0], SliceRows(images, 0, 3)));
  EXPECT_TRUE(TensorsEqual(e[1], Tensor::FromVector<std::string>({"a", "bb", "ccc"})));
  EXPECT_TRUE(TensorsEqual(e[2], Tensor::FromVector<bool>({true, false, true})));
  EXPECT_TRUE(TensorsEqual(e[3], SliceRows(bytes, 0, 3)));
  ASSERT_TRUE(it->GetNext(&e, &end).ok());
  EXPECT_TRUE(TensorsEqual(e[0], SliceRows(images, 3, 2)));
  EXPECT_TRUE(TensorsEqual(e[1], Tensor::FromVector<std::string>({"dddd", "eeeee"})));
}

TEST(BatchTest, MismatchedShapesNameTheElementAndBothShapes) {
  auto vec = [](int64_t v) -> absl::StatusOr<Element> {
    return Element{Tensor::Filled<float>(TensorShape{v == 5 ? 2 : 3}, 1.0f)};
  };
  auto it = Iter(Batch(Map(Range(8), [&](Element e) { return vec(Value(e)); }), 4));
  Element e;
  bool end = false;
  ASSERT_TRUE(it->GetNext(&e, &end).ok());
  absl::Status s = it->GetNext(&e, &end);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("element 5 has float32[2] but element 4, the first of its batch, has "
                        "float32[3]"));
}

TEST(BatchTest, AnUpstreamErrorKeepsThePartialBatch) {
  auto it = Iter(Batch(Script({0, 1, 2, absl::DataLossError("torn"), 3, 4}), 2));
  Element e;
  bool end = false;
  std::vector<std::string> trace;
  for (;;) {
    absl::Status s = it->GetNext(&e, &end);
    if (!s.ok()) {
      trace.push_back(std::string(s.message()));
      continue;
    }
    if (end) break;
    trace.push_back(e[0].DebugString());
  }
  EXPECT_THAT(trace, ElementsAre("int64[2] {0, 1}", "torn", "int64[2] {2, 3}", "int64[1] {4}"));
}

// ---------------------------------------------------------------- Repeat, Take, Skip

TEST(RepeatTest, RepeatsCountTimesOrForever) {
  EXPECT_THAT(Values(Repeat(Range(3), 2)), ElementsAre(0, 1, 2, 0, 1, 2));
  EXPECT_TRUE(Values(Repeat(Range(3), 0)).empty());
  EXPECT_THAT(Values(Take(Repeat(Range(3)), 7)), ElementsAre(0, 1, 2, 0, 1, 2, 0));
  EXPECT_EQ(Repeat(Range(3))->DebugString(), "Repeat(FromTensors(3 x {int64[]}))");
}

TEST(RepeatTest, RepeatingAnEmptyDatasetForeverEnds) {
  EXPECT_TRUE(Values(Repeat(Range(0))).empty());
  auto none = [](const Element&) -> absl::StatusOr<bool> { return false; };
  EXPECT_TRUE(Values(Repeat(Filter(Range(5), none), -1)).empty());
}

TEST(TakeSkipTest, CountsFromTheFront) {
  EXPECT_THAT(Values(Take(Range(5), 3)), ElementsAre(0, 1, 2));
  EXPECT_THAT(Values(Take(Range(2), 3)), ElementsAre(0, 1));
  EXPECT_THAT(Values(Take(Range(3), -1)), ElementsAre(0, 1, 2));
  EXPECT_TRUE(Values(Take(Range(3), 0)).empty());
  EXPECT_THAT(Values(Skip(Range(5), 3)), ElementsAre(3, 4));
  EXPECT_TRUE(Values(Skip(Range(3), 5)).empty());
  EXPECT_TRUE(Values(Skip(Range(3), -1)).empty());
  EXPECT_THAT(Values(Skip(Range(3), 0)), ElementsAre(0, 1, 2));
  // Errors are not elements: Take counts only what was produced.
  auto it = Iter(Take(Script({0, absl::UnavailableError("x"), 1, 2}), 2));
  EXPECT_THAT(Trace(it.get()), ElementsAre("0", "E:x", "1"));
}

// ---------------------------------------------------------------- Shard

TEST(ShardTest, ShardsPartitionTheInputExactly) {
  std::multiset<int64_t> all;
  for (int64_t k = 0; k < 3; ++k) {
    std::vector<int64_t> shard = Values(Shard(Range(11), 3, k));
    for (size_t i = 0; i < shard.size(); ++i) EXPECT_EQ(shard[i], k + 3 * static_cast<int64_t>(i));
    all.insert(shard.begin(), shard.end());
  }
  std::vector<int64_t> joined(all.begin(), all.end());
  EXPECT_EQ(joined, Iota(0, 11));
  EXPECT_THAT(Values(Shard(Range(4), 1, 0)), ElementsAre(0, 1, 2, 3));
  EXPECT_TRUE(Values(Shard(Range(2), 3, 2)).empty());
}

TEST(ShardTest, ValidatesShardCountAndIndex) {
  absl::Status s = Shard(Range(4), 3, 3)->MakeIterator().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("index 3 is out of range for 3 shards"));
  EXPECT_FALSE(Shard(Range(4), 3, -1)->MakeIterator().ok());
  EXPECT_THAT(std::string(Shard(Range(4), 0, 0)->MakeIterator().status().message()),
              HasSubstr("num_shards is 0"));
}

// ---------------------------------------------------------------- Prefetch

TEST(PrefetchTest, DeliversTheSameSequence) {
  std::vector<int64_t> want = Values(Shuffle(Range(103), 20, 5));
  for (int64_t buffer : {1, 3, 100}) {
    EXPECT_EQ(Values(Prefetch(Shuffle(Range(103), 20, 5), buffer)), want) << buffer;
  }
  EXPECT_FALSE(Prefetch(Range(3), 0)->MakeIterator().ok());
}

TEST(PrefetchTest, ErrorsArriveInTheirPlace) {
  auto it = Iter(Prefetch(Script({0, 1, absl::DataLossError("bad crc"), 3}), 2));
  EXPECT_THAT(Trace(it.get()), ElementsAre("0", "1", "E:bad crc", "3"));
  Element e;
  bool end = false;
  ASSERT_TRUE(it->GetNext(&e, &end).ok());
  EXPECT_TRUE(end);
}

TEST(PrefetchTest, DestroyingTheIteratorEarlyStopsTheProducer) {
  auto calls = std::make_shared<std::atomic<int64_t>>(0);
  DatasetPtr endless = FromGenerator([calls] {
    return [calls](Element* out, bool* end) {
      *out = {Tensor::Scalar<int64_t>((*calls)++)};
      *end = false;
      return absl::OkStatus();
    };
  });
  {
    auto it = Iter(Prefetch(endless, 2));
    Element e;
    bool end = false;
    for (int64_t i = 0; i < 3; ++i) {
      ASSERT_TRUE(it->GetNext(&e, &end).ok());
      EXPECT_EQ(Value(e), i);
    }
  }  // joins here; a hang would time the test out
  // The queue is bounded: 3 taken + 2 queued + 1 in hand at most.
  EXPECT_LE(calls->load(), 6);
  { auto unused = Iter(Prefetch(endless, 4)); }  // destroyed before any GetNext
  { auto unused = Iter(Prefetch(Prefetch(Repeat(Range(5)), 3), 3)); }
}

// ---------------------------------------------------------------- Interleave

DatasetPtr ThreeFrom(const Element& e) {
  const int64_t base = 10 * Value(e);
  return *FromTensors({Tensor::FromVector<int64_t>({base, base + 1, base + 2})});
}

TEST(InterleaveTest, CyclesThroughOpenDatasetsBlockByBlock) {
  auto fn = [](const Element& e) -> absl::StatusOr<DatasetPtr> { return ThreeFrom(e); };
  EXPECT_THAT(Values(Interleave(Range(3), fn, 2)), ElementsAre(0, 10, 1, 11, 2, 12, 20, 21, 22));
  EXPECT_THAT(Values(Interleave(Range(3), fn, 2, 2)), ElementsAre(0, 1, 10, 11, 2, 12, 20, 21, 22));
  EXPECT_THAT(Values(Interleave(Range(3), fn, 1)), ElementsAre(0, 1, 2, 10, 11, 12, 20, 21, 22));
  EXPECT_THAT(Values(Interleave(Range(2), fn, 5)), ElementsAre(0, 10, 1, 11, 2, 12));
  EXPECT_TRUE(Values(Interleave(Range(0), fn, 2)).empty());
}

TEST(InterleaveTest, FunctionErrorsNameTheElementAndBadArgumentsFail) {
  auto fn = [](const Element& e) -> absl::StatusOr<DatasetPtr> {
    if (Value(e) == 1) return absl::NotFoundError("no such file");
    return ThreeFrom(e);
  };
  auto it = Iter(Interleave(Range(2), fn, 2));
  std::vector<std::string> trace = Trace(it.get());
  ASSERT_GE(trace.size(), 2u);
  EXPECT_EQ(trace[0], "0");
  EXPECT_THAT(trace[1], HasSubstr("element 1"));
  EXPECT_THAT(trace[1], HasSubstr("no such file"));
  EXPECT_FALSE(Interleave(Range(2), fn, 0)->MakeIterator().ok());
  EXPECT_FALSE(Interleave(Range(2), fn, 2, 0)->MakeIterator().ok());
}

// ---------------------------------------------------------------- pipelines

TEST(PipelineTest, ATrainingPipelineSeesEveryExampleEachEpoch) {
  Tensor x(DType::kFloat, {64, 3});
  std::iota(x.data<float>(), x.data<float>() + 192, 0.0f);
  Tensor y = Tensor::FromVector<int64_t>(Iota(0, 64));
  auto scale = [](Element e) -> absl::StatusOr<Element> {
    for (float& v : e[0].flat<float>()) v *= 2;
    return e;
  };
  DatasetPtr ds = Prefetch(Batch(Map(Shuffle(*FromTensors({x, y}), 16, 1), scale, 2), 8), 2);
  EXPECT_EQ(ds->DebugString(),
            "Prefetch(Batch(Map(Shuffle(FromTensors(64 x {float32[3], int64[]}), 16), 2 "
            "parallel), 8), 2)");
  for (int epoch = 0; epoch < 2; ++epoch) {
    auto it = Iter(ds);
    std::vector<int64_t> labels;
    Element e;
    bool end = false;
    while (it->GetNext(&e, &end).ok() && !end) {
      ASSERT_EQ(e[0].shape().DebugString(), "[8,3]");
      for (int64_t i = 0; i < 8; ++i) {
        const int64_t label = e[1].data<int64_t>()[i];
        EXPECT_EQ(e[0].data<float>()[3 * i], 2.0f * 3 * label);
        labels.push_back(label);
      }
    }
    std::sort(labels.begin(), labels.end());
    EXPECT_EQ(labels, Iota(0, 64));
  }
}

TEST(PipelineTest, NullInputsFailAtMakeIterator) {
  for (DatasetPtr ds :
       {Batch(nullptr, 2), Shuffle(nullptr, 2, 1), Repeat(nullptr), Take(nullptr, 1),
        Skip(nullptr, 1), Prefetch(nullptr, 1), Shard(nullptr, 2, 0)}) {
    absl::Status s = ds->MakeIterator().status();
    EXPECT_THAT(std::string(s.message()), HasSubstr("input dataset is null")) << ds->DebugString();
  }
}

}  // namespace
}  // namespace braid::data
