// Core ops every graph uses: constants, placeholders, identity, grouping,
// sums, and the internal feed/fetch/send/recv ops the runtime inserts.
#pragma once

#include <vector>

#include "braid/graph/scope.h"

namespace braid::ops {

// A constant: a literal, in its own dtype unless `dtype` is given (an Output
// passes through unchanged).
Output Const(const Scope& scope, const Input& value, DType dtype = DType::kInvalid);
// A value fed at run time. `shape` may be partial; feeds are checked against it.
Output Placeholder(const Scope& scope, DType dtype,
                   const TensorShape& shape = TensorShape::UnknownRank());
Output Identity(const Scope& scope, const Input& x);
// Identity in the forward pass; no gradient flows back through it.
Output StopGradient(const Scope& scope, const Input& x);
Node* NoOp(const Scope& scope);
// A NoOp that runs after all of `deps`.
Node* Group(const Scope& scope, const std::vector<Output>& deps);
Node* Group(const Scope& scope, const std::vector<Node*>& deps);
// Element-wise sum of same-shaped tensors.
Output AddN(const Scope& scope, const std::vector<Output>& values);
Output ZerosLike(const Scope& scope, const Input& x);
Output OnesLike(const Scope& scope, const Input& x);

}  // namespace braid::ops
