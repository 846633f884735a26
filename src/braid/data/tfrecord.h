// TFRecord files, readable and writable by TensorFlow (tf.io.TFRecordWriter,
// tf.data.TFRecordDataset). A file is a sequence of records, each framed as
//
//   uint64 length (little-endian)
//   uint32 masked CRC32C of those 8 length bytes
//   `length` bytes of data
//   uint32 masked CRC32C of the data
//
// (CRCs masked as braid/base/crc32c.h's Mask). A file may be compressed as a
// whole, as one GZIP or ZLIB stream of that byte sequence; the compression is
// a property the caller names, as in TensorFlow (nothing in a file says).
//
// Both classes are thread-compatible: one thread at a time per object.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "braid/base/env.h"

namespace braid::data {

enum class Compression { kNone, kGzip, kZlib };
// TensorFlow's names: "" or "NONE", "GZIP", "ZLIB" (any case).
absl::StatusOr<Compression> CompressionFromName(absl::string_view name);
std::string CompressionName(Compression compression);  // "NONE", "GZIP", "ZLIB"

struct TFRecordWriterOptions {
  Compression compression = Compression::kNone;
  // zlib's level: 0 (store) to 9 (smallest), -1 for zlib's default (6).
  int compression_level = -1;
  // See Note [Atomic TFRecord files]. Writers of files that others read while
  // they grow (logs) turn this off.
  bool atomic = true;
};

// Note [Atomic TFRecord files]
// By default a writer writes a temporary file beside `path` and renames it
// onto `path` in Close (after fsync). A data file is useful only whole: a job
// that dies half-way through writing must not leave a truncated file that a
// later training run reads as data loss (or, worse, as a shorter dataset when
// the cut falls between records). The price is that the records appear only
// at Close; Flush pushes them to the temporary file. A writer destroyed
// without a successful Close leaves `path` as it was.

class TFRecordWriter {
 public:
  // Creates (or replaces) `path`.
  static absl::StatusOr<std::unique_ptr<TFRecordWriter>> Open(const std::string& path,
                                                              TFRecordWriterOptions options = {},
                                                              Env* env = Env::Default());
  // Without Close: an atomic writer abandons the file; a non-atomic one
  // closes it, ignoring errors.
  ~TFRecordWriter();
  TFRecordWriter(const TFRecordWriter&) = delete;
  TFRecordWriter& operator=(const TFRecordWriter&) = delete;

  // Appends one record. After any error the writer is failed: every later
  // call returns that error.
  absl::Status Write(absl::string_view record);
  // Pushes what was written to the operating system (a compressed stream is
  // sync-flushed, so the bytes so far decompress to whole records).
  absl::Status Flush();
  // Finishes the compressed stream, closes the file and (atomic) renames it
  // onto its path. Nothing may be written afterwards.
  absl::Status Close();

  const std::string& path() const { return path_; }
  int64_t num_records() const { return num_records_; }

 private:
  struct Deflater;
  TFRecordWriter(std::string path, std::unique_ptr<WritableFile> file,
                 std::unique_ptr<Deflater> deflater);
  absl::Status Append(absl::string_view bytes);
  absl::Status Deflate(absl::string_view bytes, int flush);
  absl::Status Fail(absl::Status status);

  const std::string path_;
  std::unique_ptr<WritableFile> file_;  // null once closed
  std::unique_ptr<Deflater> deflater_;  // null when not compressing
  absl::Status failed_;
  bool atomic_ = true;
  int64_t num_records_ = 0;
};

struct TFRecordReaderOptions {
  Compression compression = Compression::kNone;
  // Skip damaged records instead of reporting them (counted in num_skipped()).
  // Damage to a compressed stream itself is still reported: nothing after it
  // can be read.
  bool skip_corrupt = false;
  // Bytes read from the file at a time.
  size_t buffer_bytes = 256 << 10;
};

// Reads the records of one file in order. A damaged record is a DataLoss
// error naming the file, the record's byte offset (counted in the
// decompressed stream for a compressed file) and what is wrong:
//   'x.tfrecord': record at byte offset 1234: data CRC mismatch (stored 0x…, computed 0x…)
// The reader then moves past the damage, so a further ReadRecord goes on
// with the next intact record (the contract of data::Iterator):
//  - a bad data CRC: the length was intact (its CRC matched), so the reader
//    skips exactly that record;
//  - a bad length CRC: the length cannot be trusted, so the reader scans
//    forward byte by byte for the next offset where a whole record (length
//    CRC and data CRC) checks out;
//  - a record cut off by the end of the file: the rest is skipped.
// A length is never trusted beyond the bytes there are: the reader checks it
// against the file's remaining size (uncompressed) or grows its buffer only
// as data arrives (compressed), so a garbage length cannot make it allocate
// more than the file holds. Errors that end the stream (a corrupt or
// truncated compressed stream, a failing read) are reported once; then the
// reader reports the end.
class TFRecordReader {
 public:
  static absl::StatusOr<std::unique_ptr<TFRecordReader>> Open(const std::string& path,
                                                              TFRecordReaderOptions options = {},
                                                              Env* env = Env::Default());
  ~TFRecordReader();
  TFRecordReader(const TFRecordReader&) = delete;
  TFRecordReader& operator=(const TFRecordReader&) = delete;

  // Reads the next record into *record and returns its byte offset; at the
  // end of the file sets *eof (and returns the offset of the end).
  absl::StatusOr<uint64_t> ReadRecord(std::string* record, bool* eof);

  // Damaged stretches skipped so far (with skip_corrupt).
  int64_t num_skipped() const { return num_skipped_; }
  const std::string& path() const { return path_; }

 private:
  class Source;
  class RawSource;
  class InflateSource;
  enum class State { kAtRecord, kScanning, kDone };

  TFRecordReader(std::string path, TFRecordReaderOptions options, std::unique_ptr<Source> source);
  // Makes at least `n` bytes available from the window's start, or as many as
  // the stream still holds. Errors end the stream.
  absl::Status Ensure(size_t n);
  size_t Available() const { return window_.size() - start_; }
  const char* WindowData() const { return window_.data() + start_; }
  void Consume(size_t n);
  absl::Status RecordError(uint64_t offset, absl::string_view what) const;
  // Reads the record at the current offset; in scanning mode only a fully
  // intact one counts. Sets *found and returns OK when a record was read,
  // leaves *found false and returns OK when scanning should go on, or
  // returns the damage (having set up the resynchronization).
  absl::Status TryRecord(std::string* record, bool* found, bool* eof);

  const std::string path_;
  const TFRecordReaderOptions options_;
  std::unique_ptr<Source> source_;
  // Bytes of the (decompressed) stream read but not consumed yet: window_
  // from start_ on, beginning at stream offset `offset_`.
  std::string window_;
  size_t start_ = 0;
  uint64_t offset_ = 0;
  bool source_exhausted_ = false;
  bool stream_failed_ = false;  // the source reported an error: nothing more to read
  State state_ = State::kAtRecord;
  int64_t num_skipped_ = 0;
};

}  // namespace braid::data
