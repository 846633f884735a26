// The common predict request, read without building a JSON document:
//   {"signature_name": "...", "instances": NUMBERS}   or   {"inputs": NUMBERS}
// where NUMBERS is a number or rectangular nested lists of numbers, for a
// signature with one float input. Building nlohmann's document (a heap node
// and a strtod per value) was half the server's CPU for a 784-pixel request
// (docs/performance.md, "Serving"); this reads the numbers straight into the
// tensor with std::from_chars.
//
// It only recognizes; it never rejects. Anything else (other keys, strings,
// objects, NaN, escapes, ragged or empty lists, malformed JSON) returns
// nullopt, and the request takes the general path, which accepts every form
// TF Serving does and words every error.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "braid/tensor/tensor.h"

namespace braid::serving {

struct NumericRequest {
  std::string signature_name;  // "" when absent
  bool row_format = true;      // "instances" (true) or "inputs"
  Tensor values;               // float, shaped by the nesting
};

// `max_elements` bounds the tensor (larger: nullopt, and the general path
// reports the limit).
std::optional<NumericRequest> ReadNumericRequest(std::string_view body, int64_t max_elements);

}  // namespace braid::serving
