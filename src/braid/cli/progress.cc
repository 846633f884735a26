#include "braid/cli/progress.h"

#include <algorithm>
#include <cmath>

namespace braid::cli {
namespace {

std::string Duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  int s = static_cast<int>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%d:%02d", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

Progress::Progress(bool interactive, int epochs, int64_t steps_per_epoch)
    : interactive_(interactive), epochs_(epochs), steps_per_epoch_(steps_per_epoch) {}

void Progress::Step(int epoch, int64_t step, double loss, double accuracy, int64_t examples,
                    double seconds) {
  const double rate = seconds > 0 ? examples / seconds : 0;
  if (interactive_) {
    // Redraw at most ~10 times a second.
    if (seconds - last_print_ < 0.1 && step != steps_per_epoch_) return;
    last_print_ = seconds;
    constexpr int kWidth = 24;
    int filled = steps_per_epoch_ > 0 ? static_cast<int>(kWidth * step / steps_per_epoch_) : 0;
    std::string bar(std::min(filled, kWidth), '=');
    if (filled < kWidth) bar += '>';
    bar.resize(kWidth, ' ');
    double eta = steps_per_epoch_ > 0 && step > 0
                     ? seconds / step * static_cast<double>(steps_per_epoch_ - step)
                     : NAN;
    std::printf("\r\033[Kepoch %d/%d [%s] %lld/%lld  loss %.4f  acc %.4f  %.0f ex/s  ETA %s", epoch,
                epochs_, bar.c_str(), static_cast<long long>(step),
                static_cast<long long>(steps_per_epoch_), loss, accuracy, rate,
                Duration(eta).c_str());
    std::fflush(stdout);
    return;
  }
  // Logs: a line every 10 seconds.
  if (last_print_ >= 0 && seconds - last_print_ < 10) return;
  last_print_ = seconds;
  std::printf("epoch %d/%d step %lld/%lld loss %.4f acc %.4f %.0f examples/s\n", epoch, epochs_,
              static_cast<long long>(step), static_cast<long long>(steps_per_epoch_), loss,
              accuracy, rate);
  std::fflush(stdout);
}

void Progress::EpochEnd(int epoch, int64_t steps, double loss, double accuracy, int64_t examples,
                        double seconds, const std::string& extra) {
  if (interactive_) std::printf("\r\033[K");
  std::printf("epoch %d/%d: %lld steps, loss %.4f, accuracy %.4f, %.0f examples/s, %s%s\n", epoch,
              epochs_, static_cast<long long>(steps), loss, accuracy,
              seconds > 0 ? examples / seconds : 0.0, Duration(seconds).c_str(), extra.c_str());
  std::fflush(stdout);
  last_print_ = -1;
}

}  // namespace braid::cli
