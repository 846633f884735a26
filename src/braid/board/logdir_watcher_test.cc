// LogdirWatcher: run discovery, incremental reads, damage and truncation.
#include "braid/board/logdir_watcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "braid/board/test_events.h"

namespace braid::board {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace braid::board::testing;

class LogdirWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logdir_ = TempLogdir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  LogdirWatcher MakeWatcher() {
    WatcherOptions options;
    options.report = [this](const std::string& line) { reported_.push_back(line); };
    return LogdirWatcher(Env::Default(), logdir_, &store_, options);
  }
  int64_t Offered(const std::string& run, const std::string& tag) {
    std::shared_ptr<const board::Run> r = store_.Find(run);
    if (!r) return -1;
    return r->Read([&](const RunData& d) -> int64_t {
      auto it = d.scalars().find(tag);
      return it == d.scalars().end() ? -1 : it->second.offered();
    });
  }

  std::string logdir_;
  RunStore store_;
  std::vector<std::string> reported_;
};

TEST_F(LogdirWatcherTest, EveryDirectoryWithEventFilesIsARunNamedByItsRelativePath) {
  AppendEvents(logdir_ + "/events.out.tfevents.1.host", {ScalarEvent(1, "loss", 1)});
  AppendEvents(logdir_ + "/train/events.out.tfevents.1.host", {ScalarEvent(1, "loss", 1)});
  AppendEvents(logdir_ + "/train/eval/events.out.tfevents.2.host", {ScalarEvent(1, "acc", 1)});
  AppendBytes(logdir_ + "/other/notes.txt", "not an event file");
  LogdirWatcher watcher = MakeWatcher();
  watcher.Reload();
  EXPECT_THAT(store_.RunNames(), ElementsAre(".", "train", "train/eval"));
  EXPECT_EQ(Offered("train/eval", "acc"), 1);
  EXPECT_TRUE(store_.stats().first_load_done);
  EXPECT_EQ(store_.stats().files, 3);
}

TEST_F(LogdirWatcherTest, ReadsOnlyWhatWasAppendedAndFindsNewRunsAndFiles) {
  const std::string file = logdir_ + "/a/events.out.tfevents.1.host";
  AppendEvents(file, {ScalarEvent(1, "loss", 1), ScalarEvent(2, "loss", 2)});
  LogdirWatcher watcher = MakeWatcher();
  watcher.Reload();
  EXPECT_EQ(Offered("a", "loss"), 2);
  watcher.Reload();
  EXPECT_EQ(Offered("a", "loss"), 2);  // nothing read twice
  AppendEvents(file, {ScalarEvent(3, "loss", 3)});
  AppendEvents(logdir_ + "/b/events.out.tfevents.5.host", {ScalarEvent(1, "loss", 1)});
  AppendEvents(logdir_ + "/a/events.out.tfevents.9.host", {ScalarEvent(4, "loss", 4)});
  watcher.Reload();
  EXPECT_EQ(Offered("a", "loss"), 4);
  EXPECT_EQ(Offered("b", "loss"), 1);
  EXPECT_EQ(store_.stats().events, 5);
  EXPECT_TRUE(store_.Problems().empty());
}

TEST_F(LogdirWatcherTest, CorruptFileIsReadUpToTheDamageAndReportedOnce) {
  std::string bytes = Framed({ScalarEvent(1, "loss", 1), ScalarEvent(2, "loss", 2)});
  const size_t first_record = Framed({ScalarEvent(1, "loss", 1)}).size();
  bytes[first_record + 14] ^= 0x5a;  // inside the second record's data
  const std::string file = logdir_ + "/bad/events.out.tfevents.1.host";
  AppendBytes(file, bytes);
  AppendEvents(logdir_ + "/good/events.out.tfevents.1.host", {ScalarEvent(1, "loss", 1)});
  LogdirWatcher watcher = MakeWatcher();
  watcher.Reload();
  watcher.Reload();
  EXPECT_EQ(Offered("bad", "loss"), 1);
  EXPECT_EQ(Offered("good", "loss"), 1);
  std::vector<Problem> problems = store_.Problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].run, "bad");
  EXPECT_EQ(problems[0].file, file);
  EXPECT_EQ(problems[0].offset, first_record);
  EXPECT_THAT(problems[0].message, HasSubstr("CRC mismatch"));
  ASSERT_EQ(reported_.size(), 1u);
  EXPECT_THAT(reported_[0], HasSubstr("run 'bad'"));
}

TEST_F(LogdirWatcherTest, PartialLastRecordIsWaitedForThenReportedAsTruncated) {
  const std::string file = logdir_ + "/events.out.tfevents.1.host";
  const std::string second = Framed({ScalarEvent(2, "loss", 2)});
  AppendBytes(file, Framed({ScalarEvent(1, "loss", 1)}) + second.substr(0, 9));
  LogdirWatcher watcher = MakeWatcher();
  watcher.Reload();
  EXPECT_TRUE(store_.Problems().empty());  // perhaps a writer mid-flush
  watcher.Reload();
  std::vector<Problem> problems = store_.Problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0].message, HasSubstr("truncated"));
  // The writer finishes the record after all: the problem goes away.
  AppendBytes(file, second.substr(9));
  watcher.Reload();
  EXPECT_EQ(Offered(".", "loss"), 2);
  EXPECT_TRUE(store_.Problems().empty());
}

TEST_F(LogdirWatcherTest, MissingLogdirIsAProblemUntilItAppears) {
  std::filesystem::remove_all(logdir_);
  LogdirWatcher watcher = MakeWatcher();
  watcher.Reload();
  ASSERT_EQ(store_.Problems().size(), 1u);
  AppendEvents(logdir_ + "/events.out.tfevents.1.host", {ScalarEvent(1, "loss", 1)});
  watcher.Reload();
  EXPECT_TRUE(store_.Problems().empty());
  EXPECT_EQ(Offered(".", "loss"), 1);
}

TEST_F(LogdirWatcherTest, BackgroundThreadPicksUpNewData) {
  WatcherOptions options;
  options.reload_interval = absl::Milliseconds(20);
  options.report = [](const std::string&) {};
  LogdirWatcher watcher(Env::Default(), logdir_, &store_, options);
  watcher.Start();
  AppendEvents(logdir_ + "/late/events.out.tfevents.1.host", {ScalarEvent(1, "loss", 1)});
  for (int i = 0; i < 500 && Offered("late", "loss") != 1; ++i)
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(Offered("late", "loss"), 1);
  watcher.Stop();
}

}  // namespace
}  // namespace braid::board
