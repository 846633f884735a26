// EventFileReader: incremental reads of a file being appended to, partial
// records, damage and truncation.
#include "braid/summary/event_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "braid/base/record_file.h"

namespace braid::summary {
namespace {

using ::testing::HasSubstr;

class EventReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/event_reader_test." + std::to_string(getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".tfevents";
    std::remove(path_.c_str());
  }
  void TearDown() override { std::remove(path_.c_str()); }

  static std::string Record(int64_t step, float value) {
    tensorflow::Event e;
    e.set_wall_time(1700000000.0 + step);
    e.set_step(step);
    tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
    v->set_tag("loss");
    v->set_simple_value(value);
    std::string framed;
    AppendRecord(e.SerializeAsString(), &framed);
    return framed;
  }
  void Append(const std::string& bytes) {
    std::ofstream out(path_, std::ios::binary | std::ios::app);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  std::vector<int64_t> Steps(const std::vector<tensorflow::Event>& events) {
    std::vector<int64_t> steps;
    for (const auto& e : events) steps.push_back(e.step());
    return steps;
  }

  std::string path_;
};

TEST_F(EventReaderTest, ReadsWhatIsAppendedAndNothingTwice) {
  EventFileReader reader(Env::Default(), path_);
  Append(Record(1, 0.5f) + Record(2, 0.25f));
  std::vector<tensorflow::Event> events;
  ASSERT_TRUE(reader.ReadNew(&events).ok());
  EXPECT_EQ(Steps(events), (std::vector<int64_t>{1, 2}));
  EXPECT_FLOAT_EQ(events[1].summary().value(0).simple_value(), 0.25f);
  EXPECT_TRUE(reader.caught_up());
  EXPECT_EQ(reader.pending_bytes(), 0u);

  events.clear();
  ASSERT_TRUE(reader.ReadNew(&events).ok());
  EXPECT_TRUE(events.empty());

  Append(Record(3, 0.125f));
  ASSERT_TRUE(reader.ReadNew(&events).ok());
  EXPECT_EQ(Steps(events), (std::vector<int64_t>{3}));
  EXPECT_EQ(reader.records_read(), 3);
}

TEST_F(EventReaderTest, LeavesAPartialRecordForTheNextCall) {
  const std::string second = Record(2, 2.0f);
  for (size_t cut : {size_t{5}, kRecordHeaderBytes + 3, second.size() - 1}) {
    SCOPED_TRACE(cut);
    std::remove(path_.c_str());
    EventFileReader r(Env::Default(), path_);
    Append(Record(1, 1.0f) + second.substr(0, cut));
    std::vector<tensorflow::Event> events;
    ASSERT_TRUE(r.ReadNew(&events).ok());
    EXPECT_EQ(Steps(events), (std::vector<int64_t>{1}));
    EXPECT_EQ(r.pending_bytes(), cut);
    EXPECT_TRUE(r.caught_up());
    Append(second.substr(cut));
    events.clear();
    ASSERT_TRUE(r.ReadNew(&events).ok());
    EXPECT_EQ(Steps(events), (std::vector<int64_t>{2}));
    EXPECT_EQ(r.pending_bytes(), 0u);
  }
}

TEST_F(EventReaderTest, DataCrcMismatchStopsThereWithFileAndOffset) {
  std::string first = Record(1, 1.0f), second = Record(2, 2.0f);
  second[kRecordHeaderBytes + 2] ^= 0x40;
  Append(first + second + Record(3, 3.0f));
  EventFileReader reader(Env::Default(), path_);
  std::vector<tensorflow::Event> events;
  absl::Status s = reader.ReadNew(&events);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr(path_));
  EXPECT_THAT(s.message(), HasSubstr("byte offset " + std::to_string(first.size())));
  EXPECT_THAT(s.message(), HasSubstr("data CRC mismatch"));
  EXPECT_EQ(Steps(events), (std::vector<int64_t>{1}));
  EXPECT_EQ(reader.offset(), first.size());
  // Stuck for good: the same error, nothing read.
  Append(Record(4, 4.0f));
  events.clear();
  EXPECT_EQ(reader.ReadNew(&events), s);
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(reader.damage(), s);
}

TEST_F(EventReaderTest, GarbageIsDataLossAtOffsetZero) {
  Append("this is not an event file, just some text that goes on for a while");
  EventFileReader reader(Env::Default(), path_);
  std::vector<tensorflow::Event> events;
  absl::Status s = reader.ReadNew(&events);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("byte offset 0: length CRC mismatch"));
  EXPECT_TRUE(events.empty());
}

TEST_F(EventReaderTest, WellFramedRecordThatIsNotAnEventIsDataLoss) {
  std::string framed;
  AppendRecord(std::string("\xff\xff\xff\xff", 4), &framed);
  Append(Record(1, 1.0f) + framed);
  std::vector<tensorflow::Event> events;
  EventFileReader reader(Env::Default(), path_);
  absl::Status s = reader.ReadNew(&events);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("not a tensorflow.Event"));
  EXPECT_EQ(events.size(), 1u);
}

TEST_F(EventReaderTest, TruncatedFileIsReadUpToTheDamage) {
  std::string all = Record(1, 1.0f) + Record(2, 2.0f) + Record(3, 3.0f);
  Append(all.substr(0, all.size() - 7));
  EventFileContents c = ReadEventFile(Env::Default(), path_);
  EXPECT_EQ(Steps(c.events), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(c.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(c.status.message(), HasSubstr("truncated"));
}

TEST_F(EventReaderTest, ChunkLimitSpreadsReadsOverCallsAndBigRecordsStillArrive) {
  std::string all;
  for (int i = 0; i < 50; ++i) all += Record(i, static_cast<float>(i));
  tensorflow::Event big;
  big.set_step(50);
  big.set_graph_def(std::string(10000, 'g'));
  AppendRecord(big.SerializeAsString(), &all);
  Append(all);
  EventFileReader reader(Env::Default(), path_);
  std::vector<tensorflow::Event> events;
  int calls = 0;
  do {
    ASSERT_TRUE(reader.ReadNew(&events, /*max_bytes=*/100).ok());
    ++calls;
  } while (!reader.caught_up());
  ASSERT_EQ(events.size(), 51u);
  EXPECT_EQ(events.back().graph_def().size(), 10000u);
  EXPECT_GT(calls, 10);
}

TEST_F(EventReaderTest, MissingFileIsNotFoundAndRecoverable) {
  EventFileReader reader(Env::Default(), path_);
  std::vector<tensorflow::Event> events;
  EXPECT_EQ(reader.ReadNew(&events).code(), absl::StatusCode::kNotFound);
  Append(Record(1, 1.0f));
  ASSERT_TRUE(reader.ReadNew(&events).ok());
  EXPECT_EQ(events.size(), 1u);
}

TEST_F(EventReaderTest, ShrunkFileIsDataLoss) {
  Append(Record(1, 1.0f) + Record(2, 2.0f));
  EventFileReader reader(Env::Default(), path_);
  std::vector<tensorflow::Event> events;
  ASSERT_TRUE(reader.ReadNew(&events).ok());
  ASSERT_EQ(truncate(path_.c_str(), 10), 0);
  absl::Status s = reader.ReadNew(&events);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("shrank"));
}

}  // namespace
}  // namespace braid::summary
