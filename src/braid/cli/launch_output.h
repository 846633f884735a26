// What `braid launch` writes: its own messages, and its tasks' output cut into
// whole lines prefixed with the task name, so that lines of different tasks
// never mix on the launcher's stdout and stderr.
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace braid::cli {

// Writes all of `s` to `fd`, retrying after EINTR. Any other error drops the
// rest silently: a closed stdout must not stop the launcher from stopping its
// tasks.
void WriteAll(int fd, absl::string_view s);

// Writes "braid launch: <message>\n" on stderr with one write().
void Say(absl::string_view message);

// Cuts a child's byte stream into whole lines, each written with one write()
// and prefixed with the task name, so lines of different tasks never mix. '\r'
// ends a line too: a progress bar becomes a series of lines instead of
// overwriting other tasks' output. "\r\n" is one line end; empty lines ended
// by '\r' are dropped.
class LinePrefixer {
 public:
  // Longer "lines" are cut at this length, so memory stays bounded.
  static constexpr size_t kMaxLine = 64 << 10;

  LinePrefixer() = default;  // a placeholder: writes nowhere
  // Writes each line to `out_fd` (not owned), preceded by `prefix`.
  LinePrefixer(std::string prefix, int out_fd);

  // Writes the lines that `data` completes, all with one write(); keeps the
  // unfinished rest for the next Feed().
  void Feed(absl::string_view data);

  // Writes a last line that had no line end.
  void Finish();

 private:
  void Emit(std::string& out);

  std::string prefix_;
  int out_fd_ = -1;
  std::string line_;
  bool after_cr_ = false;
};

}  // namespace braid::cli
