// Event files as TensorBoard reads them: one file per writer, named
//   events.out.tfevents.<10-digit seconds>.<hostname>.<pid>.<counter>
// (TensorBoard picks up every file whose name contains "tfevents"), holding
// TFRecord-framed tensorflow.Event records, the first of which carries
// file_version "brain.Event:2".
//
// Note [Crash-safe event files]
// Events are framed as records in memory and reach the file only whole: each
// flush hands all complete records gathered since the last one to a single
// write(). A process killed at any moment thus leaves a file that reads
// cleanly up to its last flushed record (at worst a final record cut short,
// which readers, TensorBoard's included, treat as the end of the data).
// Flushes happen every `flush_seconds` (a background thread), when the
// buffer grows past kMaxBufferedBytes, and on Flush, Close and destruction.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "braid/base/env.h"

namespace tensorflow {
class Event;
}

namespace braid::summary {

struct EventFileWriterOptions {
  // How long an event may wait in memory; <= 0 flushes after every event.
  double flush_seconds = 2;
  // Files and clock; nullptr means Env::Default().
  Env* env = nullptr;
};

// Thread-safe. The first error (a failed write) sticks: every later call
// returns it.
class EventFileWriter {
 public:
  // Buffered records beyond this size are flushed at once.
  static constexpr size_t kMaxBufferedBytes = 1 << 20;

  // Opens a new event file in `dir` (which must exist) and writes and flushes
  // the file_version record, so the file is valid from the start. Errors name
  // the file.
  static absl::StatusOr<std::unique_ptr<EventFileWriter>> Create(
      const std::string& dir, EventFileWriterOptions options = {});
  // Closes the file (flushing what is buffered), ignoring errors.
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  // Queues `event`; a wall_time of 0 is set to the current time.
  absl::Status WriteEvent(const tensorflow::Event& event);
  // Writes every queued event to the file.
  absl::Status Flush();
  // Flushes and closes; later writes fail with FailedPrecondition.
  absl::Status Close();

  // The event file; constant after construction.
  const std::string& path() const { return path_; }
  // The current time as an Event's wall_time (seconds since the epoch).
  double WallTime() const;

 private:
  EventFileWriter(Env* env, std::string path, std::unique_ptr<WritableFile> file,
                  double flush_seconds);
  // Writes out `pending_`. REQUIRES: write_mu_ held.
  absl::Status FlushLocked();
  void FlushPeriodically();

  Env* const env_;
  const std::string path_;
  const double flush_seconds_;

  // Serializes writes to the file (and keeps records in order); taken before mu_.
  std::mutex write_mu_;
  std::unique_ptr<WritableFile> file_;  // protected by write_mu_; null once closed

  std::mutex mu_;
  std::condition_variable wake_;  // tells the flusher to stop
  std::string pending_;           // whole framed records; protected by mu_
  absl::Status status_;           // the first error; protected by mu_
  bool closed_ = false;           // protected by mu_
  std::thread flusher_;           // runs when flush_seconds_ > 0
};

// "events.out.tfevents.<10-digit seconds>.<hostname>.<pid>.<counter>", with a
// counter distinct for every call in this process.
std::string NewEventFileName(double wall_time_seconds);

}  // namespace braid::summary
