// The seam through which braid touches files and the clock, so tests can
// substitute faults. Env::Default() is the real operating system.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace braid {

// A file read in pieces at chosen offsets, for readers of files too large to
// hold whole (TFRecord). Read is const and may be called from several threads.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to `n` bytes at `offset` into `scratch` and returns how many were
  // read: fewer than `n` only at the end of the file (0 at or past it).
  virtual absl::StatusOr<size_t> Read(uint64_t offset, size_t n, char* scratch) const = 0;
  // The size of the file as it was when opened.
  virtual uint64_t Size() const = 0;
};

// A file written front to back, buffered. Not thread-safe.
class WritableFile {
 public:
  // Destroying a file that was not closed: see Env::NewWritableFile.
  virtual ~WritableFile() = default;
  virtual absl::Status Append(absl::string_view data) = 0;
  // Hands buffered data to the operating system (not a durability barrier).
  virtual absl::Status Flush() = 0;
  // Flushes and closes; after Close, only the destructor may be called.
  virtual absl::Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  static Env* Default();

  // Reads a whole file. A path ending in ".gz" is not decompressed here.
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path) = 0;
  // Writes `contents` to a temporary name beside `path`, fsyncs, then renames,
  // so readers see the old file or the new one, never a part.
  virtual absl::Status WriteFileAtomically(const std::string& path,
                                           absl::string_view contents) = 0;
  virtual bool FileExists(const std::string& path) = 0;

  // Streaming access. The defaults build on ReadFile / WriteFileAtomically and
  // hold whole files in memory, so an Env for tests that overrides only the
  // whole-file calls keeps working (its writable files show their contents at
  // Close); the operating system's Env streams.
  virtual absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path);
  // Opens `path` for writing, replacing what was there.
  // atomic = false: data lands in `path` as written; destroying the file
  //   without Close flushes and closes it, ignoring errors.
  // atomic = true: data goes to a temporary name beside `path`; Close fsyncs
  //   and renames it onto `path`, so readers see the old file or the whole new
  //   one. Destroying the file without a successful Close removes the
  //   temporary and leaves `path` untouched (a writer that failed half-way
  //   leaves no half-file behind).
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                        bool atomic);
  virtual int64_t NowMicros() = 0;
};

// Reads a file, inflating it when it is gzip-compressed (detected by its magic
// bytes, not its name).
absl::StatusOr<std::string> ReadMaybeGzippedFile(Env* env, const std::string& path);

}  // namespace braid
