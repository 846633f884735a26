// The REST form of Classify and Regress (TF Serving's JSON):
//   {"signature_name": "...", "context": {FEATURE: VALUE, ...},
//    "examples": [{FEATURE: VALUE | [VALUE, ...], ...}, ...]}
// VALUE: a number (an integer goes to an int64_list, else a float_list), a
// string or {"b64": "..."} (bytes_list). Answers
//   classify: {"results": [[[LABEL, SCORE], ...], ...]}  (one list per example)
//   regress:  {"results": [VALUE, ...]}
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "braid/serving/loader.h"
#include "nlohmann/json.hpp"
#include "tensorflow/core/example/example.pb.h"

namespace braid::serving {

// One JSON example (an object of features) as a tf.Example. InvalidArgument
// naming `what` and the feature for values that are not numbers, strings or
// b64 objects, or lists that mix strings and numbers.
absl::StatusOr<tensorflow::Example> ExampleFromJson(const nlohmann::json& object,
                                                    const std::string& what);

absl::StatusOr<std::string> ClassifyOrRegressJson(const LoadedVersion& version, bool classify,
                                                  const nlohmann::json& request,
                                                  int64_t max_elements);

}  // namespace braid::serving
