// Writes a large synthetic logdir for bench/board_load.py: RUNS run
// directories, each with one event file of TAGS scalar tags x POINTS steps,
// one Event per (step, tag) as tf.summary writes them.
//
//   board_logdir_gen OUTDIR [RUNS [TAGS [POINTS]]]     (default 100 10 100000)
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "braid/base/record_file.h"
#include "tensorflow/core/util/event.pb.h"

namespace {

bool WriteRun(const std::string& dir, int run, int tags, int64_t points) {
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/events.out.tfevents.1700000000.bench";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  std::string buffer, payload;
  tensorflow::Event e;
  e.set_wall_time(1700000000.0);
  e.set_file_version("brain.Event:2");
  e.SerializeToString(&payload);
  braid::AppendRecord(payload, &buffer);
  e.Clear();
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  std::vector<std::string> names;
  for (int t = 0; t < tags; ++t) names.push_back(absl::StrFormat("metric_%02d", t));
  bool ok = true;
  for (int64_t step = 0; step < points && ok; ++step) {
    e.set_wall_time(1700000000.0 + 0.05 * static_cast<double>(step) + run);
    e.set_step(step);
    for (int t = 0; t < tags; ++t) {
      v->set_tag(names[t]);
      // A decaying curve with some wobble, different per run and tag.
      const double x = static_cast<double>(step) / static_cast<double>(points);
      v->set_simple_value(static_cast<float>((1 + t) * std::exp(-3 * x * (1 + run % 7)) +
                                             0.05 * std::sin(step * 0.01 + run + t)));
      e.SerializeToString(&payload);
      braid::AppendRecord(payload, &buffer);
    }
    if (buffer.size() > (size_t{4} << 20)) {
      ok = std::fwrite(buffer.data(), 1, buffer.size(), f) == buffer.size();
      buffer.clear();
    }
  }
  ok = ok && std::fwrite(buffer.data(), 1, buffer.size(), f) == buffer.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUTDIR [RUNS [TAGS [POINTS]]]\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  int runs = 100, tags = 10;
  int64_t points = 100000;
  if ((argc > 2 && !absl::SimpleAtoi(argv[2], &runs)) ||
      (argc > 3 && !absl::SimpleAtoi(argv[3], &tags)) ||
      (argc > 4 && !absl::SimpleAtoi(argv[4], &points)) || runs < 1 || tags < 1 || points < 1) {
    std::fprintf(stderr, "RUNS, TAGS and POINTS must be positive integers\n");
    return 2;
  }
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> threads;
  const int n = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&] {
      for (int r; (r = next++) < runs;) {
        if (!WriteRun(absl::StrFormat("%s/run_%03d", out, r), r, tags, points)) ++failed;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (failed > 0) {
    std::fprintf(stderr, "%d runs could not be written under %s\n", failed.load(), out.c_str());
    return 1;
  }
  std::printf("wrote %d runs x %d tags x %lld points under %s\n", runs, tags,
              static_cast<long long>(points), out.c_str());
  return 0;
}
