// Training progress for a terminal (a bar redrawn in place) or for a log
// (a plain line every few seconds).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace braid::cli {

class Progress {
 public:
  // `interactive`: stdout is a terminal. `steps_per_epoch` may be 0 (unknown).
  Progress(bool interactive, int epochs, int64_t steps_per_epoch);
  void Step(int epoch, int64_t step, double loss, double accuracy, int64_t examples,
            double seconds);
  // Ends the epoch's line and prints its summary.
  void EpochEnd(int epoch, int64_t steps, double loss, double accuracy, int64_t examples,
                double seconds, const std::string& extra);

 private:
  bool interactive_;
  int epochs_;
  int64_t steps_per_epoch_;
  double last_print_ = -1;
};

}  // namespace braid::cli
