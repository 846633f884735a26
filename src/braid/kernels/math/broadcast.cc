#include "braid/kernels/math/broadcast.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace braid {

absl::StatusOr<BroadcastPlan> MakeBroadcastPlan(absl::Span<const TensorShape> shapes) {
  const int n = static_cast<int>(shapes.size());
  int rank = 0;
  for (const TensorShape& s : shapes) rank = std::max(rank, s.rank());
  // Each operand's dims, left-padded with 1s to the output rank.
  std::array<std::vector<int64_t>, kMaxBroadcastOperands> padded;
  std::vector<int64_t> out(rank, 1);
  for (int k = 0; k < n; ++k) {
    padded[k].assign(rank - shapes[k].rank(), 1);
    padded[k].insert(padded[k].end(), shapes[k].dims().begin(), shapes[k].dims().end());
    for (int d = 0; d < rank; ++d) {
      const int64_t v = padded[k][d];
      if (v == out[d] || v == 1) continue;
      if (out[d] == 1) {
        out[d] = v;
        continue;
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "incompatible shapes for broadcasting: ",
          absl::StrJoin(shapes, " vs. ",
                        [](std::string* o, const TensorShape& s) { o->append(s.DebugString()); })));
    }
  }
  BroadcastPlan plan;
  plan.output_shape = TensorShape(out);
  // Collapse: skip size-1 output dims, merge neighbours with equal patterns.
  std::vector<std::array<bool, kMaxBroadcastOperands>> walks;
  for (int d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;
    std::array<bool, kMaxBroadcastOperands> w{};
    for (int k = 0; k < n; ++k) w[k] = padded[k][d] != 1;
    if (!walks.empty() && walks.back() == w) {
      plan.dims.back() *= out[d];
    } else {
      plan.dims.push_back(out[d]);
      walks.push_back(w);
    }
  }
  if (plan.dims.empty()) {
    plan.dims.push_back(1);
    walks.push_back({});
  }
  const int nd = static_cast<int>(plan.dims.size());
  for (int k = 0; k < n; ++k) {
    plan.strides[k].assign(nd, 0);
    int64_t stride = 1;
    for (int d = nd - 1; d >= 0; --d) {
      if (!walks[d][k]) continue;
      plan.strides[k][d] = stride;
      stride *= plan.dims[d];
    }
  }
  return plan;
}

}  // namespace braid
