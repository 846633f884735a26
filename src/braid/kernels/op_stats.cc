#include "braid/kernels/op_stats.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace braid {
namespace {
double Ms(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}
}  // namespace

void OpStats::Record(const std::string& op, const std::string& first_input_shape,
                     std::chrono::nanoseconds time) {
  std::lock_guard<std::mutex> lock(mu_);
  Row& row = rows_[{op, first_input_shape}];
  if (row.calls == 0) {
    row.op = op;
    row.first_input_shape = first_input_shape;
  }
  ++row.calls;
  row.total += time;
}

void OpStats::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  rows_.clear();
}

std::vector<OpStats::Row> OpStats::Rows() const {
  std::vector<Row> rows;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, row] : rows_) rows.push_back(row);
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.total > b.total; });
  return rows;
}

std::string OpStats::Table(int max_rows) const {
  const std::vector<Row> rows = Rows();
  std::chrono::nanoseconds sum{0};
  for (const Row& r : rows) sum += r.total;
  const double sum_ms = Ms(sum);
  auto share = [&](std::chrono::nanoseconds d) { return sum_ms > 0 ? 100 * Ms(d) / sum_ms : 0.0; };
  std::string out = absl::StrFormat("%-34s %-20s %9s %12s %10s %7s\n", "op", "first input", "calls",
                                    "total ms", "ms/call", "share");
  std::chrono::nanoseconds rest{0};
  int64_t rest_calls = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (static_cast<int>(i) >= max_rows) {
      rest += r.total;
      rest_calls += r.calls;
      continue;
    }
    const double ms = Ms(r.total);
    absl::StrAppendFormat(&out, "%-34s %-20s %9d %12.1f %10.3f %6.1f%%\n", r.op,
                          r.first_input_shape, r.calls, ms, ms / r.calls, share(r.total));
  }
  if (rest_calls > 0) {
    absl::StrAppendFormat(&out, "%-34s %-20s %9d %12.1f %10s %6.1f%%\n",
                          absl::StrCat("(", rows.size() - max_rows, " more)"), "", rest_calls,
                          Ms(rest), "", share(rest));
  }
  absl::StrAppendFormat(&out, "%-34s %-20s %9s %12.1f\n", "all kernels", "", "", sum_ms);
  return out;
}

}  // namespace braid
