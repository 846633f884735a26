// Math ops: element-wise arithmetic and comparisons with NumPy broadcasting,
// element-wise functions, reductions, ArgMax/ArgMin and Cast. Names, inputs
// and attrs are TensorFlow's; kernels live in kernels/math/.
//
// Wrappers return an invalid Output and record the error on the scope when
// the op is rejected (incompatible shapes, bad axes, unsupported dtypes).
// Numeric literals take the dtype of the other operand: Mul(s, x, 2.0).
#pragma once

#include "braid/graph/scope.h"

namespace braid::ops {

// Binary element-wise ops, (x: T, y: T) -> z: T, broadcasting like NumPy.
// T: float, double, int32, int64 (Pow: float and double). Integer Div
// truncates toward zero; dividing by an integer zero is a run-time error.
Output Add(const Scope& scope, Input x, Input y);
Output Sub(const Scope& scope, Input x, Input y);
Output Mul(const Scope& scope, Input x, Input y);
Output Div(const Scope& scope, Input x, Input y);
Output Pow(const Scope& scope, Input x, Input y);
Output Maximum(const Scope& scope, Input x, Input y);
Output Minimum(const Scope& scope, Input x, Input y);

// Comparisons -> bool, broadcasting. Equal/NotEqual also take bool.
Output Equal(const Scope& scope, Input x, Input y);
Output NotEqual(const Scope& scope, Input x, Input y);
Output Less(const Scope& scope, Input x, Input y);
Output LessEqual(const Scope& scope, Input x, Input y);
Output Greater(const Scope& scope, Input x, Input y);
Output GreaterEqual(const Scope& scope, Input x, Input y);

// SelectV2: condition ? t : e element-wise, all three broadcast together.
Output Select(const Scope& scope, Input condition, Input t, Input e);

// Unary element-wise ops, (x: T) -> y: T. Neg, Abs, Square and Sign also
// take int32/int64; the rest float and double.
Output Neg(const Scope& scope, Input x);
Output Abs(const Scope& scope, Input x);
Output Square(const Scope& scope, Input x);
Output Sqrt(const Scope& scope, Input x);
Output Rsqrt(const Scope& scope, Input x);
Output Reciprocal(const Scope& scope, Input x);
Output Exp(const Scope& scope, Input x);
Output Log(const Scope& scope, Input x);
Output Sin(const Scope& scope, Input x);
Output Cos(const Scope& scope, Input x);
Output Floor(const Scope& scope, Input x);
Output Sigmoid(const Scope& scope, Input x);
Output Tanh(const Scope& scope, Input x);
Output Sign(const Scope& scope, Input x);

// Reductions over `axes` (an int32/int64 scalar or vector; negative axes
// count from the end; an empty vector reduces nothing). The reduced axes are
// dropped, or kept with size 1 when keep_dims. The Max/Min gradient splits
// evenly between tied maxima; the Prod gradient is dy * prod / x, so it is
// not defined where x has zeros.
Output Sum(const Scope& scope, Input x, Input axes, bool keep_dims = false);
Output Mean(const Scope& scope, Input x, Input axes, bool keep_dims = false);
Output Max(const Scope& scope, Input x, Input axes, bool keep_dims = false);
Output Min(const Scope& scope, Input x, Input axes, bool keep_dims = false);
Output Prod(const Scope& scope, Input x, Input axes, bool keep_dims = false);

// The index of the largest (smallest) element along the scalar axis
// `dimension`, the first one on ties; output_type int32 or int64.
Output ArgMax(const Scope& scope, Input input, Input dimension, DType output_type = DType::kInt64);
Output ArgMin(const Scope& scope, Input input, Input dimension, DType output_type = DType::kInt64);

// Converts among float, double, int32, int64, uint8, bool and bfloat16.
// Float to integer truncates toward zero (NaN gives 0, out-of-range values
// saturate); anything to bool is x != 0. With truncate, float to bfloat16
// drops the low mantissa bits instead of rounding to nearest even.
Output Cast(const Scope& scope, Input x, DType dst, bool truncate = false);

}  // namespace braid::ops
