#include "braid/summary/event_writer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "braid/base/record_file.h"
#include "braid/base/status_macros.h"
#include "tensorflow/core/util/event.pb.h"

namespace braid::summary {
namespace {

constexpr char kFileVersion[] = "brain.Event:2";

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

std::string NewEventFileName(double wall_time_seconds) {
  static std::atomic<int64_t> counter{0};
  return absl::StrFormat("events.out.tfevents.%010d.%s.%d.%d",
                         static_cast<int64_t>(wall_time_seconds), HostName(),
                         static_cast<int64_t>(getpid()), counter.fetch_add(1));
}

absl::StatusOr<std::unique_ptr<EventFileWriter>> EventFileWriter::Create(
    const std::string& dir, EventFileWriterOptions options) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  const double now = static_cast<double>(env->NowMicros()) / 1e6;
  const std::string path = (std::filesystem::path(dir) / NewEventFileName(now)).string();
  absl::StatusOr<std::unique_ptr<WritableFile>> file = env->NewWritableFile(path, false);
  if (!file.ok()) {
    return absl::Status(file.status().code(), absl::StrCat("cannot create event file '", path,
                                                           "': ", file.status().message()));
  }
  std::unique_ptr<EventFileWriter> writer(
      new EventFileWriter(env, path, std::move(*file), options.flush_seconds));
  tensorflow::Event version;
  version.set_wall_time(now);
  version.set_file_version(kFileVersion);
  RETURN_IF_ERROR(writer->WriteEvent(version));
  RETURN_IF_ERROR(writer->Flush());
  return writer;
}

EventFileWriter::EventFileWriter(Env* env, std::string path, std::unique_ptr<WritableFile> file,
                                 double flush_seconds)
    : env_(env), path_(std::move(path)), flush_seconds_(flush_seconds), file_(std::move(file)) {
  if (flush_seconds_ > 0) flusher_ = std::thread([this] { FlushPeriodically(); });
}

EventFileWriter::~EventFileWriter() { (void)Close(); }

double EventFileWriter::WallTime() const { return static_cast<double>(env_->NowMicros()) / 1e6; }

absl::Status EventFileWriter::WriteEvent(const tensorflow::Event& event) {
  std::string data;
  if (event.wall_time() == 0) {
    tensorflow::Event timed = event;
    timed.set_wall_time(WallTime());
    data = timed.SerializeAsString();
  } else {
    data = event.SerializeAsString();
  }
  bool flush_now;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!status_.ok()) return status_;
    if (closed_) {
      return absl::FailedPreconditionError(
          absl::StrCat("event file '", path_, "' is closed; no more events can be written"));
    }
    AppendRecord(data, &pending_);
    flush_now = flush_seconds_ <= 0 || pending_.size() >= kMaxBufferedBytes;
  }
  return flush_now ? Flush() : absl::OkStatus();
}

absl::Status EventFileWriter::Flush() {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  return FlushLocked();
}

absl::Status EventFileWriter::FlushLocked() {
  std::string records;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!status_.ok()) return status_;
    records.swap(pending_);
  }
  if (records.empty() || file_ == nullptr) return absl::OkStatus();
  // One Append and Flush: one write() of whole records (Note [Crash-safe event files]).
  absl::Status s = file_->Append(records);
  if (s.ok()) s = file_->Flush();
  if (s.ok()) return s;
  s = absl::Status(s.code(), absl::StrCat("cannot write event file '", path_, "': ", s.message()));
  std::lock_guard<std::mutex> lock(mu_);
  if (status_.ok()) status_ = s;
  return s;
}

absl::Status EventFileWriter::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return status_;
    closed_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  std::lock_guard<std::mutex> write_lock(write_mu_);
  absl::Status s = FlushLocked();
  if (file_ != nullptr) {
    absl::Status c = file_->Close();
    file_.reset();
    if (s.ok() && !c.ok()) {
      s = absl::Status(c.code(),
                       absl::StrCat("cannot close event file '", path_, "': ", c.message()));
      std::lock_guard<std::mutex> lock(mu_);
      if (status_.ok()) status_ = s;
    }
  }
  return s;
}

void EventFileWriter::FlushPeriodically() {
  // Capped so that the wait's deadline cannot overflow the clock.
  const auto period = std::chrono::duration<double>(std::min(flush_seconds_, 86400.0));
  std::unique_lock<std::mutex> lock(mu_);
  while (!closed_) {
    wake_.wait_for(lock, period, [this] { return closed_; });
    if (closed_) break;
    lock.unlock();
    // Errors stick in status_ and reach the next caller.
    (void)Flush();
    lock.lock();
  }
}

}  // namespace braid::summary
