#include "braid/summary/event_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "braid/summary/event_test_util.h"
#include "tensorflow/core/util/event.pb.h"

namespace braid::summary {
namespace {

using testing::FreshDir;
using ::testing::HasSubstr;
using testing::ReadEvents;

tensorflow::Event StepEvent(int64_t step) {
  tensorflow::Event e;
  e.set_step(step);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag("loss");
  v->set_simple_value(static_cast<float>(step) * 0.5f);
  return e;
}

EventFileWriterOptions NoPeriodicFlush() {
  EventFileWriterOptions o;
  o.flush_seconds = 1e9;
  return o;
}

TEST(EventFileWriter, FileNameAsTensorBoardExpects) {
  const std::string dir = FreshDir("names");
  auto a = EventFileWriter::Create(dir);
  auto b = EventFileWriter::Create(dir);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  const std::string name = std::filesystem::path((*a)->path()).filename().string();
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  // events.out.tfevents.<10 digits>.<host>.<pid>.<n> (no std::regex: GCC 12
  // warns inside it under the sanitizers' -O1).
  const std::string prefix = "events.out.tfevents.";
  ASSERT_EQ(name.rfind(prefix, 0), 0u) << name;
  const std::string rest = name.substr(prefix.size());
  const size_t host_end = rest.rfind('.', rest.rfind('.') - 1);
  ASSERT_GT(rest.size(), 11u) << name;
  ASSERT_EQ(rest[10], '.') << name;
  const std::string seconds = rest.substr(0, 10);
  ASSERT_TRUE(std::all_of(seconds.begin(), seconds.end(), ::isdigit)) << name;
  EXPECT_NEAR(static_cast<double>(std::stoll(seconds)), static_cast<double>(time(nullptr)), 120);
  EXPECT_EQ(rest.substr(11, host_end - 11), host);
  const std::string pid_and_n = rest.substr(host_end + 1);
  const size_t dot = pid_and_n.find('.');
  ASSERT_NE(dot, std::string::npos) << name;
  EXPECT_EQ(std::stoll(pid_and_n.substr(0, dot)), getpid());
  const std::string n = pid_and_n.substr(dot + 1);
  EXPECT_TRUE(!n.empty() && std::all_of(n.begin(), n.end(), ::isdigit)) << name;
  EXPECT_NE((*a)->path(), (*b)->path());
  EXPECT_EQ(std::filesystem::path((*a)->path()).parent_path(), std::filesystem::path(dir));
}

TEST(EventFileWriter, FirstRecordIsTheFileVersion) {
  auto writer = EventFileWriter::Create(FreshDir("version"), NoPeriodicFlush());
  ASSERT_TRUE(writer.ok()) << writer.status();
  // Already on disk before any Flush: the file is valid from the start.
  testing::EventFileContents file = ReadEvents((*writer)->path());
  ASSERT_TRUE(file.damage.ok()) << file.damage;
  ASSERT_EQ(file.events.size(), 1u);
  EXPECT_EQ(file.events[0].file_version(), "brain.Event:2");
  EXPECT_NEAR(file.events[0].wall_time(), static_cast<double>(time(nullptr)), 120);
}

TEST(EventFileWriter, RecordsAreWholeAndInOrder) {
  auto writer = EventFileWriter::Create(FreshDir("order"), NoPeriodicFlush());
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (int64_t step = 0; step < 100; ++step)
    ASSERT_TRUE((*writer)->WriteEvent(StepEvent(step)).ok());
  // Buffered: only the version record so far.
  EXPECT_EQ(ReadEvents((*writer)->path()).events.size(), 1u);
  ASSERT_TRUE((*writer)->Close().ok());
  testing::EventFileContents file = ReadEvents((*writer)->path());
  ASSERT_TRUE(file.damage.ok()) << file.damage;
  ASSERT_EQ(file.events.size(), 101u);
  for (int64_t step = 0; step < 100; ++step) {
    const tensorflow::Event& e = file.events[step + 1];
    EXPECT_EQ(e.step(), step);
    EXPECT_GT(e.wall_time(), 0);  // filled in
    EXPECT_EQ(e.summary().value(0).simple_value(), step * 0.5f);
  }
}

TEST(EventFileWriter, TruncatedFileReadsUpToTheDamage) {
  auto writer = EventFileWriter::Create(FreshDir("truncated"), NoPeriodicFlush());
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (int64_t step = 0; step < 10; ++step)
    ASSERT_TRUE((*writer)->WriteEvent(StepEvent(step)).ok());
  ASSERT_TRUE((*writer)->Close().ok());
  std::string bytes = *Env::Default()->ReadFile((*writer)->path());
  testing::EventFileContents whole = testing::ParseEvents(bytes, "f");
  ASSERT_EQ(whole.events.size(), 11u);
  // Record boundaries, to cut inside the header, the data and the footer.
  std::vector<size_t> ends;
  {
    size_t offset = 0;
    absl::string_view data;
    while (offset < bytes.size() && ParseRecord(bytes, "f", &offset, &data).ok()) {
      ends.push_back(offset);
    }
  }
  ASSERT_EQ(ends.size(), 11u);
  for (size_t record = 1; record < ends.size(); ++record) {
    const size_t begin = ends[record - 1];
    for (size_t cut : {begin + 3, begin + kRecordHeaderBytes + 2, ends[record] - 1}) {
      testing::EventFileContents part = testing::ParseEvents(bytes.substr(0, cut), "f");
      EXPECT_EQ(part.events.size(), record) << "cut at " << cut;
      EXPECT_EQ(part.good_bytes, begin);
      EXPECT_EQ(part.damage.code(), absl::StatusCode::kDataLoss);
      EXPECT_THAT(part.damage.message(), HasSubstr("truncated"));
    }
  }
}

TEST(EventFileWriter, FlushesPeriodically) {
  EventFileWriterOptions options;
  options.flush_seconds = 0.05;
  auto writer = EventFileWriter::Create(FreshDir("periodic"), options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->WriteEvent(StepEvent(1)).ok());
  // No Flush call: the background thread writes it (allow a slow machine).
  size_t seen = 0;
  for (int i = 0; i < 600 && seen < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = ReadEvents((*writer)->path()).events.size();
  }
  EXPECT_EQ(seen, 2u);
}

TEST(EventFileWriter, FlushWritesWhatIsBuffered) {
  auto writer = EventFileWriter::Create(FreshDir("flush"), NoPeriodicFlush());
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->WriteEvent(StepEvent(1)).ok());
  ASSERT_TRUE((*writer)->WriteEvent(StepEvent(2)).ok());
  EXPECT_EQ(ReadEvents((*writer)->path()).events.size(), 1u);
  ASSERT_TRUE((*writer)->Flush().ok());
  EXPECT_EQ(ReadEvents((*writer)->path()).events.size(), 3u);
}

TEST(EventFileWriter, KilledProcessLeavesAReadablePrefix) {
  const std::string dir = FreshDir("killed");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto writer = EventFileWriter::Create(dir, NoPeriodicFlush());
    if (!writer.ok()) _exit(1);
    for (int64_t step = 0; step < 5; ++step) (void)(*writer)->WriteEvent(StepEvent(step));
    if (!(*writer)->Flush().ok()) _exit(2);
    // Buffered, never flushed: lost with the process, but nothing half-written.
    for (int64_t step = 5; step < 8; ++step) (void)(*writer)->WriteEvent(StepEvent(step));
    kill(getpid(), SIGKILL);
    _exit(3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  std::vector<std::string> files = testing::EventFiles(dir);
  ASSERT_EQ(files.size(), 1u);
  testing::EventFileContents file = ReadEvents(files[0]);
  EXPECT_TRUE(file.damage.ok()) << file.damage;
  ASSERT_EQ(file.events.size(), 6u);
  EXPECT_EQ(file.events.back().step(), 4);
}

TEST(EventFileWriter, ConcurrentWritersLoseNothing) {
  EventFileWriterOptions options;
  options.flush_seconds = 0.001;
  auto writer = EventFileWriter::Create(FreshDir("concurrent"), options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i)
        EXPECT_TRUE((*writer)->WriteEvent(StepEvent(t * 1000 + i)).ok());
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE((*writer)->Close().ok());
  testing::EventFileContents file = ReadEvents((*writer)->path());
  ASSERT_TRUE(file.damage.ok()) << file.damage;
  EXPECT_EQ(file.events.size(), 801u);
}

TEST(EventFileWriter, WritesAfterCloseFail) {
  auto writer = EventFileWriter::Create(FreshDir("closed"));
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_TRUE((*writer)->Close().ok());
  absl::Status s = (*writer)->WriteEvent(StepEvent(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr((*writer)->path()));
}

TEST(EventFileWriter, MissingDirectoryNamesTheFile) {
  const std::string dir = FreshDir("missing") + "/not/there";
  auto writer = EventFileWriter::Create(dir);
  ASSERT_FALSE(writer.ok());
  EXPECT_THAT(writer.status().message(), HasSubstr(dir + "/events.out.tfevents."));
}

// An Env whose files start failing writes on request.
class FailingEnv : public Env {
 public:
  std::atomic<bool> fail{false};

  absl::StatusOr<std::string> ReadFile(const std::string& p) override {
    return Env::Default()->ReadFile(p);
  }
  absl::Status WriteFileAtomically(const std::string& p, absl::string_view c) override {
    return Env::Default()->WriteFileAtomically(p, c);
  }
  bool FileExists(const std::string& p) override { return Env::Default()->FileExists(p); }
  int64_t NowMicros() override { return Env::Default()->NowMicros(); }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                bool atomic) override {
    auto file = Env::Default()->NewWritableFile(path, atomic);
    if (!file.ok()) return file.status();
    return std::unique_ptr<WritableFile>(new File(this, std::move(*file)));
  }

 private:
  class File : public WritableFile {
   public:
    File(FailingEnv* env, std::unique_ptr<WritableFile> base) : env_(env), base_(std::move(base)) {}
    absl::Status Append(absl::string_view data) override {
      if (env_->fail) return absl::ResourceExhaustedError("no space left on device");
      return base_->Append(data);
    }
    absl::Status Flush() override { return base_->Flush(); }
    absl::Status Close() override { return base_->Close(); }

   private:
    FailingEnv* env_;
    std::unique_ptr<WritableFile> base_;
  };
};

TEST(EventFileWriter, WriteErrorsNameTheFileAndStick) {
  FailingEnv env;
  EventFileWriterOptions options;
  options.flush_seconds = 0;  // every event is written at once
  options.env = &env;
  auto writer = EventFileWriter::Create(FreshDir("failing"), options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->WriteEvent(StepEvent(0)).ok());
  env.fail = true;
  absl::Status s = (*writer)->WriteEvent(StepEvent(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr((*writer)->path()));
  EXPECT_THAT(s.message(), HasSubstr("no space left on device"));
  env.fail = false;
  EXPECT_EQ((*writer)->WriteEvent(StepEvent(2)), s);
  EXPECT_EQ((*writer)->Close(), s);
  // What was written before the failure still reads.
  testing::EventFileContents file = ReadEvents((*writer)->path());
  EXPECT_TRUE(file.damage.ok()) << file.damage;
  EXPECT_EQ(file.events.size(), 2u);
}

}  // namespace
}  // namespace braid::summary
