#include "braid/cli/stop_signal.h"

#include <csignal>

namespace braid::cli {
namespace {

volatile std::sig_atomic_t stop_signal = 0;
void OnStopSignal(int sig) { stop_signal = sig; }

}  // namespace

void CatchStopSignals() {
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
}

int StopSignal() { return stop_signal; }

}  // namespace braid::cli
