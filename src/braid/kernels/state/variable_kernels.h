// Finding the variable a resource handle names, for kernels that read or
// update variables (state and training families).
#pragma once

#include <memory>

#include "braid/kernels/op_kernel.h"

namespace braid {

// The variable behind input `index` (a scalar resource handle). Fails when the
// handle names a variable on another device (ops that take a handle are
// colocated with it by the placer) or none exists.
absl::StatusOr<std::shared_ptr<VariableResource>> LookupVariable(OpKernelContext* ctx, int index);

// FailedPrecondition naming the variable, for reads of uninitialized ones.
absl::Status UninitializedError(const OpKernelContext* ctx, int index);

}  // namespace braid
