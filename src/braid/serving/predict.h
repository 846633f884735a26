// The REST Predict call on a loaded version: TF Serving's request JSON
// (row format {"instances": [...]} or columnar {"inputs": ...}, optional
// "signature_name") to feeds, one session run, and its response JSON
// ({"predictions": ...} or {"outputs": ...}).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "braid/serving/inference.h"
#include "nlohmann/json.hpp"

namespace braid::serving {

// The signature a REST request body names ("signature_name"; absent or "":
// serving_default), which must have `method`. InvalidArgument when the
// request is not an object, the name not a string, or FindSignature refuses.
absl::StatusOr<FoundSignature> RequestSignature(const LoadedVersion& version,
                                                const nlohmann::json& request,
                                                absl::string_view method);

// Returns the response body. InvalidArgument for an unknown signature, a
// request with neither or both of instances/inputs, missing or unknown
// inputs, values of the wrong dtype or shape (naming the input and both
// shapes); the session's own errors otherwise.
absl::StatusOr<std::string> Predict(const LoadedVersion& version, const nlohmann::json& request);

// The same for a request body: one read straight into the tensor when the body
// is the common numeric form and the signature takes it (numeric_request.h),
// else parsed as JSON (InvalidArgument when malformed) and Predict above.
absl::StatusOr<std::string> PredictBody(const LoadedVersion& version, std::string_view body,
                                        int64_t max_elements);

}  // namespace braid::serving
