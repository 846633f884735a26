// Where a session's time goes, kernel by kernel: with SessionOptions::op_stats
// set (StepContext::op_stats), the executor times every node's Compute and adds it here, grouped by
// op type and the shape of the node's first input (so that, for example, a
// training step's convolutions and an evaluation's show apart). It is the
// per-op view that TensorFlow's profiler gives, for finding what to optimize:
// perf attributes oneDNN's JIT code to anonymous addresses, this to ops.
// `braid train --op_stats` prints it after training.
//
// Async kernels (Recv, ...) are not timed: their time is mostly waiting for a
// peer. Costs two clock reads and a lock per node, so it is off unless
// asked for.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace braid {

class OpStats {
 public:
  struct Row {
    std::string op;
    std::string first_input_shape;  // "" for ops without inputs
    int64_t calls = 0;
    std::chrono::nanoseconds total{0};
  };

  void Record(const std::string& op, const std::string& first_input_shape,
              std::chrono::nanoseconds time);
  void Clear();

  // Longest total first.
  std::vector<Row> Rows() const;
  // Rows() as a text table with each row's share of the total, the first
  // `max_rows` rows and one line summing the rest.
  std::string Table(int max_rows) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Row> rows_;  // guarded by mu_
};

}  // namespace braid
