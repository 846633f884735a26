// Array ops: shapes, reshaping, transposition, concatenation and splitting,
// slicing and padding, gathering, one-hot encoding, filling, broadcasting and
// tiling. Names, inputs and attrs are TensorFlow's; kernels live in
// kernels/array/. Data-movement kernels work for every fixed-size dtype.
//
// Shape-like inputs (shape, perm, begin, size, axis, multiples, paddings) are
// int32 or int64 tensors; when they are Consts, shape functions use their
// values, so most shapes are known at build time and bad values are rejected
// there, naming the node.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/graph/scope.h"

namespace braid::ops {

// The shape of x as a vector (out_type int32 or int64).
Output Shape(const Scope& scope, Input x, DType out_type = DType::kInt32);
// The number of elements of x as a scalar.
Output Size(const Scope& scope, Input x, DType out_type = DType::kInt32);
// The rank of x as an int32 scalar.
Output Rank(const Scope& scope, Input x);

// x with a new shape of the same element count; one entry may be -1
// (inferred).
Output Reshape(const Scope& scope, Input tensor, Input shape);
// Output dimension i is input dimension perm[i].
Output Transpose(const Scope& scope, Input x, Input perm);
// The inverse of a permutation vector.
Output InvertPermutation(const Scope& scope, Input x);

// ConcatV2: values joined along `axis` (negative counts from the end).
Output Concat(const Scope& scope, const std::vector<Input>& values, Input axis);
// The offsets of each of `shapes` in their concatenation along concat_dim
// (int32), as used by ConcatV2's gradient.
std::vector<Output> ConcatOffset(const Scope& scope, Input concat_dim,
                                 const std::vector<Output>& shapes);
// `value` cut into num_split equal pieces along `axis` (int32 scalar).
std::vector<Output> Split(const Scope& scope, Input axis, Input value, int64_t num_split);

// input[begin : begin + size] per dimension; a size of -1 means "to the end".
Output Slice(const Scope& scope, Input input, Input begin, Input size);
// Zero padding: paddings is [rank, 2], (before, after) per dimension.
Output Pad(const Scope& scope, Input input, Input paddings);

// GatherV2: output = params[:axis] + indices[batch_dims:] + params[axis+1:]
// shaped; the first batch_dims dimensions of params and indices are matched.
// An index outside [0, params.shape[axis]) is a run-time error naming it.
Output GatherV2(const Scope& scope, Input params, Input indices, Input axis,
                int64_t batch_dims = 0);
// Sums the slices data[i...] into output[segment_ids[i...]]; output has shape
// [num_segments] + data.shape[segment_ids.rank:]. Ids must lie in
// [0, num_segments).
Output UnsortedSegmentSum(const Scope& scope, Input data, Input segment_ids, Input num_segments);
// on_value where indices[...] == j along the new axis of size depth (at
// `axis`, -1 = last), off_value elsewhere; out-of-range indices give all off.
Output OneHot(const Scope& scope, Input indices, Input depth, Input on_value, Input off_value,
              int64_t axis = -1);

// A tensor of shape `dims` filled with the scalar `value`.
Output Fill(const Scope& scope, Input dims, Input value);
// input broadcast (NumPy rules) to `shape`.
Output BroadcastTo(const Scope& scope, Input input, Input shape);
// input repeated multiples[i] times along dimension i.
Output Tile(const Scope& scope, Input input, Input multiples);

// For shapes s0 and s1 broadcast together, the axes of the broadcast shape
// that each side must be summed over to get back its own shape.
struct BroadcastGradientArgsOutputs {
  Output r0;
  Output r1;
};
BroadcastGradientArgsOutputs BroadcastGradientArgs(const Scope& scope, Input s0, Input s1);

// A size-1 dimension inserted at `axis` (in [-rank-1, rank]).
Output ExpandDims(const Scope& scope, Input input, Input axis);
// Size-1 dimensions removed: those listed in `axes`, or all when empty.
Output Squeeze(const Scope& scope, Input input, std::vector<int64_t> axes = {});

// [start, start + delta, ...) up to but excluding limit.
Output Range(const Scope& scope, Input start, Input limit, Input delta);

}  // namespace braid::ops

namespace braid {

// Shape arithmetic shared by the array ops' shape functions and their
// kernels, so that a static check and the run-time check cannot disagree.
// Errors say what is wrong with the values.

// `axis` in [-rank, rank) made non-negative.
absl::StatusOr<int> NormalizeAxis(int64_t axis, int rank);
// The shape Reshape gives a tensor of fully defined shape `in` for the
// requested `shape` (one entry may be -1).
absl::StatusOr<TensorShape> ReshapedShape(const TensorShape& in, const std::vector<int64_t>& shape);
// Requires perm to be a permutation of [0, rank).
absl::Status CheckPermutation(const std::vector<int64_t>& perm, int rank);
// Slice sizes with -1 resolved; `in` may have unknown dims (then a -1 size
// stays unknown).
absl::StatusOr<std::vector<int64_t>> SliceSizes(const TensorShape& in,
                                                const std::vector<int64_t>& begin,
                                                const std::vector<int64_t>& size);
// BroadcastGradientArgs: for shapes s0 and s1 broadcast together, the axes of
// the result where s0 (r0) or s1 (r1) has size 1 or is missing but the result
// has not, plus each side's missing leading axes; Reshape(Sum(grad, r0), s0)
// recovers s0.
absl::Status BroadcastReductionAxes(const std::vector<int64_t>& s0, const std::vector<int64_t>& s1,
                                    std::vector<int64_t>* r0, std::vector<int64_t>* r1);
// The length of Range(start, limit, delta); errors for delta 0 or a limit
// that delta moves away from.
absl::StatusOr<int64_t> RangeLength(int64_t start, int64_t limit, int64_t delta);
absl::StatusOr<int64_t> RangeLength(double start, double limit, double delta);

}  // namespace braid
