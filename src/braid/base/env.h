// The seam through which braid touches files and the clock, so tests can
// substitute faults. Env::Default() is the real operating system.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace braid {

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
  virtual int64_t NowMicros() = 0;
};

// Reads a file, inflating it when it is gzip-compressed (detected by its magic
// bytes, not its name).
absl::StatusOr<std::string> ReadMaybeGzippedFile(Env* env, const std::string& path);

}  // namespace braid
