// Running a signature of a loaded version on named input tensors, whatever
// the wire format: the REST API (JSON) and the gRPC API (TensorProto) both
// convert their request to tensors and call RunSignature, so every check
// (names, dtypes, shapes, sizes) and its message is the same on both.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "braid/serving/loader.h"

namespace braid::serving {

inline constexpr char kClassifyMethodName[] = "tensorflow/serving/classify";
inline constexpr char kRegressMethodName[] = "tensorflow/serving/regress";

// A request tensor may hold at most this many elements (--max_tensor_elements
// overrides it per server). Checked before anything is allocated, so a
// declared shape of 10^12 elements is an error, not an allocation.
inline constexpr int64_t kDefaultMaxTensorElements = int64_t{1} << 27;

struct FoundSignature {
  std::string name;
  const Signature* signature = nullptr;
};

// Signature `name` ("" means serving_default) of `version`, which must have
// method `method` (when not empty). InvalidArgument naming the signatures the
// model has, or the method it has instead.
absl::StatusOr<FoundSignature> FindSignature(const LoadedVersion& version, const std::string& name,
                                             absl::string_view method);

// InvalidArgument when `elements` exceeds `max_elements`, naming `what`.
absl::Status CheckElementCount(int64_t elements, int64_t max_elements, const std::string& what);

// Runs the signature on `inputs` (alias -> value) and returns its outputs by
// alias: those in `output_filter`, or all when it is empty. InvalidArgument
// for a missing or unknown input, a wrong dtype or a shape the signature does
// not accept, an unknown alias in the filter; the session's errors otherwise.
absl::StatusOr<std::map<std::string, Tensor>> RunSignature(
    const LoadedVersion& version, const FoundSignature& found,
    std::map<std::string, Tensor> inputs, const std::set<std::string>& output_filter = {});

}  // namespace braid::serving
