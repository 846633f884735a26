// Iteration over NumPy-broadcast operands, used by the element-wise binary
// ops, SelectV2 and BroadcastTo.
//
// Note [Broadcast iteration]
// The output shape is cut into "collapsed" dimensions: size-1 output
// dimensions are dropped and neighbours are merged while every operand either
// walks both or is broadcast along both. What is left alternates between
// broadcast patterns, usually one or two dimensions: [N,C] + [C] becomes
// rows of C (x stride 1, y stride 1) repeated N times (y's row stride 0); equal
// shapes become one row. Kernels run a tight loop per row, specialized for
// the inner strides (1 or 0), and split the rows across threads.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "braid/kernels/math/kernel_util.h"
#include "braid/tensor/tensor_shape.h"

namespace braid {

constexpr int kMaxBroadcastOperands = 3;

struct BroadcastPlan {
  TensorShape output_shape;
  // Collapsed output dimensions, outermost first; never empty. The last one
  // is the row.
  std::vector<int64_t> dims;
  // strides[k][d]: operand k's element stride along collapsed dimension d
  // (0 where it is broadcast).
  std::array<std::vector<int64_t>, kMaxBroadcastOperands> strides;

  int64_t row_length() const { return dims.back(); }
  // Operand k's stride within a row: 1, or 0 when broadcast along it.
  int64_t row_stride(int k) const { return strides[k].back(); }
};

// The plan for broadcasting `shapes` (at most kMaxBroadcastOperands, fully
// defined) together; InvalidArgument naming the shapes when they do not
// broadcast.
absl::StatusOr<BroadcastPlan> MakeBroadcastPlan(absl::Span<const TensorShape> shapes);

// Calls fn(out_offset, offsets, length) for every row of the plan, with
// `offsets` holding each of the first N operands' element offsets. Rows are
// split across threads when there is enough work.
template <int N, typename Fn>
void ForEachBroadcastRow(const BroadcastPlan& p, Fn&& fn) {
  const int outer = static_cast<int>(p.dims.size()) - 1;
  const int64_t len = p.row_length();
  int64_t rows = 1;
  for (int d = 0; d < outer; ++d) rows *= p.dims[d];
  kernel_util::ParallelFor(rows, len, [&](int64_t first, int64_t last) {
    // An odometer over the outer dimensions, started at row `first`.
    std::vector<int64_t> idx(outer);
    std::array<int64_t, N> off{};
    int64_t rem = first;
    for (int d = outer - 1; d >= 0; --d) {
      idx[d] = rem % p.dims[d];
      rem /= p.dims[d];
      for (int k = 0; k < N; ++k) off[k] += idx[d] * p.strides[k][d];
    }
    for (int64_t r = first; r < last; ++r) {
      fn(r * len, off, len);
      for (int d = outer - 1; d >= 0; --d) {
        for (int k = 0; k < N; ++k) off[k] += p.strides[k][d];
        if (++idx[d] < p.dims[d]) break;
        for (int k = 0; k < N; ++k) off[k] -= p.strides[k][d] * p.dims[d];
        idx[d] = 0;
      }
    }
  });
}

}  // namespace braid
