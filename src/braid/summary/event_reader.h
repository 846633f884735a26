// Incremental reading of one TensorBoard event file (TFRecord-framed
// tensorflow.Event records), for readers that follow a file while a training
// process still appends to it: the dashboard, tests, tools.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "braid/base/env.h"
#include "tensorflow/core/util/event.pb.h"

namespace braid::summary {

// Keeps the byte offset just past the last complete record it has read. Each
// ReadNew call opens the file, reads what was appended since and hands over
// every complete record; a partial record at the end (a writer mid-flush, or
// a file cut short) stays unread until more bytes arrive.
//
// Damage (a CRC mismatch, a length that fails its CRC, a record that is not
// an Event) stops the reader at the damaged record: ReadNew hands over the
// records before it and returns DataLoss naming the file and byte offset, and
// every later call returns that same error without reading. The file is never
// re-read from its start.
//
// Not thread-safe: one reader per file, used by one thread at a time.
class EventFileReader {
 public:
  // Reads at most this many new bytes per ReadNew call by default, so that
  // following a large file holds a bounded amount of it in memory.
  static constexpr size_t kDefaultChunkBytes = size_t{8} << 20;

  // `env` must outlive the reader.
  EventFileReader(Env* env, std::string path);

  // Calls `visit` for each complete Event appended since the last call, in
  // file order, reading up to about `max_bytes` (a record larger than that is
  // still read whole). The Event passed to `visit` is reused between calls;
  // copy what must outlive the call. OK when nothing new arrived; NotFound
  // when the file cannot be opened; DataLoss as above.
  absl::Status ReadNew(const std::function<void(const tensorflow::Event&)>& visit,
                       size_t max_bytes = kDefaultChunkBytes);
  // The same, appending copies of the events to `events`.
  absl::Status ReadNew(std::vector<tensorflow::Event>* events,
                       size_t max_bytes = kDefaultChunkBytes);

  const std::string& path() const { return path_; }
  // Bytes of complete records consumed so far: where the next read starts.
  uint64_t offset() const { return offset_; }
  // The file's size at the last ReadNew call.
  uint64_t file_size() const { return file_size_; }
  // Bytes after offset() at the last call: a partial record (being written,
  // or a truncated file), or unread bytes when the call stopped at max_bytes
  // or at damage.
  uint64_t pending_bytes() const { return file_size_ - offset_; }
  // Whether the last call read everything there was up to a partial record
  // (false when it stopped at max_bytes, at damage, or never ran).
  bool caught_up() const { return caught_up_; }
  // Complete records read so far.
  int64_t records_read() const { return records_read_; }
  // The error that stopped the reader for good; OK while it can go on.
  const absl::Status& damage() const { return damage_; }

 private:
  Env* const env_;
  const std::string path_;
  uint64_t offset_ = 0;
  uint64_t file_size_ = 0;
  bool caught_up_ = false;
  int64_t records_read_ = 0;
  absl::Status damage_;
  tensorflow::Event event_;  // reused between records, saving allocations
  std::string buffer_;       // reused between calls
};

// Reads every complete Event of a file at once (tests, tools). A damaged or
// truncated file yields the events before the damage and `status` says what
// was wrong (OK for a clean file; a partial last record is reported as
// DataLoss "truncated").
struct EventFileContents {
  std::vector<tensorflow::Event> events;
  absl::Status status;
};
EventFileContents ReadEventFile(Env* env, const std::string& path);

}  // namespace braid::summary
