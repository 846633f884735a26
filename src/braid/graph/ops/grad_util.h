// Building blocks for gradient and shape functions: summing a broadcast gradient back to
// an operand's shape, the keep-dims shape of a reduction, and reading shape
// facts that are known at build time so that gradients of statically shaped
// graphs need no Shape ops at all.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "braid/graph/scope.h"

namespace braid {

// Note [Broadcast gradients]
// When z = f(x, y) broadcasts x up to z's shape, dL/dx is dL/dz summed over
// the broadcast axes and reshaped to x's shape. The axes are computed at build
// time when x's shape is fully known and grad's rank is known (summing over an
// axis that turns out to be 1 is harmless); otherwise at run time by
// BroadcastGradientArgs(Shape(x), Shape(grad)).

// `grad`, shaped like a broadcast of x, summed down to x's shape.
Output ReduceGradToShape(const Scope& scope, Output grad, Output x);
// The same, knowing the other operand of the broadcast: when `other` provably
// does not widen x (e.g. x [?,10] with other [10]), `grad` is returned as is.
Output ReduceGradToShape(const Scope& scope, Output grad, Output x, Output other);

// x's shape as an int32 vector: a Const when fully known, else a Shape op.
Output ShapeVector(const Scope& scope, Output x);
// The shape of a keep_dims reduction of x over `axes` (x's shape with the
// reduced axes set to 1), as an int32 vector.
Output KeptDimsShape(const Scope& scope, Output x, Output axes);

// A shape of `rank` unknown dimensions.
TensorShape UnknownDims(int rank);
// Dims [begin, end) of x's shape as an int32 vector: a Const when those dims
// are known, else a Slice of Shape(x).
Output ShapeSlice(const Scope& scope, Output x, int begin, int end);

// The values of `o` when it is a Const of an integer dtype (any rank).
std::optional<std::vector<int64_t>> ConstIntValues(const Output& o);
// The value of a scalar-or-size-1 integer Const.
std::optional<int64_t> ConstIntScalar(const Output& o);

// An int32 vector constant.
Output Int32Vector(const Scope& scope, const std::vector<int64_t>& values);

}  // namespace braid
