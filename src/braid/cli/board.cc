// braid board: the dashboard over a log directory (TensorBoard's role),
// served by braid itself until SIGINT or SIGTERM.
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "braid/board/board_server.h"
#include "braid/cli/commands.h"
#include "braid/cli/stop_signal.h"

namespace braid::cli {
namespace {

struct BoardFlags {
  std::string logdir;
  std::string host = "127.0.0.1";
  int port = 6006;
  double reload_interval_s = 2;
  std::string samples_per_plugin;
  int load_threads = 0;
};

// "scalars=1000,images=10" into the limits.
absl::Status ParseSamples(const std::string& text, board::SamplingLimits* limits) {
  if (text.empty()) return absl::OkStatus();
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    size_t n = 0;
    if (!absl::SimpleAtoi(kv.second, &n) || n < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("--samples_per_plugin: '", item, "' is not plugin=N with N >= 2"));
    }
    if (kv.first == "scalars")
      limits->scalars = n;
    else if (kv.first == "histograms")
      limits->histograms = n;
    else if (kv.first == "images")
      limits->images = n;
    else if (kv.first == "text")
      limits->text = n;
    else {
      return absl::InvalidArgumentError(
          absl::StrCat("--samples_per_plugin: unknown plugin '", kv.first,
                       "' (one of scalars, histograms, images, text)"));
    }
  }
  return absl::OkStatus();
}

absl::Status RunBoard(const BoardFlags& f) {
  board::BoardOptions options;
  options.logdir = f.logdir;
  options.host = f.host;
  options.port = f.port;
  options.reload_interval = absl::Seconds(f.reload_interval_s);
  options.load_threads = f.load_threads;
  if (absl::Status s = ParseSamples(f.samples_per_plugin, &options.limits); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<board::BoardServer>> server = board::BoardServer::Start(options);
  if (!server.ok()) return server.status();
  CatchStopSignals();
  std::printf("braid board: serving %s at %s (press Ctrl-C to stop)\n", f.logdir.c_str(),
              (*server)->url().c_str());
  std::fflush(stdout);
  while (StopSignal() == 0) absl::SleepFor(absl::Milliseconds(100));
  std::fprintf(stderr, "braid board: got signal %d; stopping\n", StopSignal());
  (*server)->Stop();
  return absl::OkStatus();
}

}  // namespace

void RegisterBoard(CLI::App& app) {
  auto flags = std::make_shared<BoardFlags>();
  CLI::App* cmd = app.add_subcommand(
      "board", "serve the dashboard (scalars, histograms, images, text, graph) of a log directory");
  cmd->footer(
      "Every directory under --logdir holding event files (*tfevents*) is a run, named by its\n"
      "path relative to the logdir; new runs and new data show up while the board runs.\n"
      "Example, after `braid train --model mlp --logdir /tmp/logs`:\n"
      "  braid board --logdir /tmp/logs      then open http://127.0.0.1:6006/\n"
      "Data API: /data/runs, /data/plugin/scalars/tags, "
      "/data/plugin/scalars/scalars?run=R&tag=T (see docs/board.md).\n"
      "A damaged or truncated event file is read up to the damage and reported at\n"
      "/data/problems and on stderr. Stops on SIGINT or SIGTERM.");
  cmd->add_option("--logdir", flags->logdir, "the log directory to show (its runs: subdirectories)")
      ->required();
  cmd->add_option("--port", flags->port, "TCP port to serve on (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--host", flags->host,
                  "address to listen on (0.0.0.0: every interface, reachable by other machines)")
      ->capture_default_str();
  cmd->add_option("--reload_interval", flags->reload_interval_s,
                  "seconds between scans of the logdir for new runs and data")
      ->check(CLI::Range(0.05, 86400.0))
      ->capture_default_str();
  cmd->add_option("--samples_per_plugin", flags->samples_per_plugin,
                  "points kept per series, e.g. scalars=1000,histograms=200,images=10,text=100 "
                  "(the defaults); longer series are evenly downsampled, keeping the last point");
  cmd->add_option("--load_threads", flags->load_threads, "runs read in parallel (0: one per core)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  cmd->callback([flags] {
    absl::Status s = RunBoard(*flags);
    if (!s.ok()) throw CLI::RuntimeError(Fail("board", std::string(s.message())));
  });
}

}  // namespace braid::cli
