// Tensors in TF Serving's REST JSON: nested lists of numbers, booleans or
// strings ({"b64": "..."} for binary strings). Non-finite floats are written
// and accepted bare, as TF Serving does: NaN, Infinity, -Infinity.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "braid/tensor/tensor.h"
#include "nlohmann/json.hpp"

namespace braid::serving {

// Parses a request body. Bare NaN, Infinity, Inf (optionally signed) outside
// strings are accepted and read back by TensorFromJson. InvalidArgument with
// the parser's message and byte offset on malformed JSON.
absl::StatusOr<nlohmann::json> ParseRequestJson(std::string_view body);

// A tensor of `dtype` from a scalar or a (rectangular) nested list; the shape
// is the list's nesting. Errors name `what` ("input 'x'") and the offending
// value or the ragged position.
absl::StatusOr<Tensor> TensorFromJson(const nlohmann::json& value, DType dtype,
                                      const std::string& what);

// Appends the tensor as nested lists (a bare value for a scalar). Floats are
// written in the shortest form that reads back to the same value, with a
// ".0" when integral. REQUIRES: a numeric, bool or string tensor.
void AppendTensorJson(const Tensor& t, std::string* out);
// Appends row `row` of dimension 0. REQUIRES: rank >= 1, row < dim(0).
void AppendTensorRowJson(const Tensor& t, int64_t row, std::string* out);

// JSON string literal of `s` (quotes and escapes).
std::string JsonQuote(std::string_view s);

}  // namespace braid::serving
