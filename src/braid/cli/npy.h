// NumPy's .npy files (format version 1.0 and 2.0, little-endian, C order) for
// float32, float64 (read as float32 only when asked), int32, int64 and bool:
// how `braid predict` takes inputs from and gives outputs to Python users.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "braid/tensor/tensor.h"

namespace braid::cli {

// InvalidArgument naming the file and the problem: not a .npy, a dtype other
// than <f4 <f8 <i4 <i8 |b1, Fortran order, a size that disagrees with the
// shape. float64 arrays are converted to float32 (the dtype models take).
absl::StatusOr<Tensor> ReadNpy(const std::string& path);
// Parses the bytes of a .npy file; `what` names it in errors.
absl::StatusOr<Tensor> ParseNpy(const std::string& bytes, const std::string& what);
// Writes atomically. REQUIRES: a float, double, int32, int64 or bool tensor.
absl::Status WriteNpy(const std::string& path, const Tensor& t);
std::string SerializeNpy(const Tensor& t);

}  // namespace braid::cli
