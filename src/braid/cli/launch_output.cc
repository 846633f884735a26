#include "braid/cli/launch_output.h"

#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"

namespace braid::cli {

void WriteAll(int fd, absl::string_view s) {
  while (!s.empty()) {
    ssize_t n = write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed stdout must not stop the launcher from stopping its tasks
    s.remove_prefix(static_cast<size_t>(n));
  }
}

void Say(absl::string_view message) {
  WriteAll(STDERR_FILENO, absl::StrCat("braid launch: ", message, "\n"));
}

LinePrefixer::LinePrefixer(std::string prefix, int out_fd)
    : prefix_(std::move(prefix)), out_fd_(out_fd) {}

void LinePrefixer::Feed(absl::string_view data) {
  std::string out;
  for (char c : data) {
    const bool crlf = c == '\n' && after_cr_;  // "\r\n" is one line end
    after_cr_ = c == '\r';
    if (crlf) continue;
    if (c == '\n' || (c == '\r' && !line_.empty())) {
      Emit(out);
    } else if (c != '\r') {
      line_ += c;
      if (line_.size() >= kMaxLine) Emit(out);
    }
  }
  WriteAll(out_fd_, out);
}

void LinePrefixer::Finish() {
  if (line_.empty()) return;
  std::string out;
  Emit(out);
  WriteAll(out_fd_, out);
}

void LinePrefixer::Emit(std::string& out) {
  absl::StrAppend(&out, prefix_, line_, "\n");
  line_.clear();
}

}  // namespace braid::cli
