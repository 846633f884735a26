// Parsing serialized tf.Example and tf.SequenceExample protos into tensors,
// by a feature spec, with the semantics of tf.io.parse_single_example,
// tf.io.parse_example and tf.io.parse_single_sequence_example:
//
//   ExampleSpec spec = {
//       {"image", FixedLenFeature{DType::kFloat, TensorShape{28, 28, 1}}},
//       {"label", FixedLenFeature{DType::kInt64, TensorShape{}}},
//       {"tags", VarLenFeature{DType::kString}}};
//   ASSIGN_OR_RETURN(ParsedFeatures f, ParseSingleExample(record, spec));
//   f.dense["image"], f.sparse["tags"].values, ...
//
// Features the example has but the spec does not name are ignored. A feature
// whose list kind is unset counts as missing (as in TensorFlow). Errors are
// InvalidArgument naming the feature (and, in a batch, the example's index).
// Example builders, for tests and for writers of TFRecord data, are in
// example_builder.h.
#pragma once

#include <map>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "braid/tensor/tensor.h"

namespace braid::data {

// tf.io.FixedLenFeature: every example holds exactly shape.num_elements()
// values, parsed into a dense tensor of `shape` ([batch, shape...] batched).
// Values are stored flat in the example, row-major.
struct FixedLenFeature {
  DType dtype = DType::kInvalid;  // kInt64, kFloat or kString
  TensorShape shape;              // fully defined; {} for a scalar
  // Taken when an example lacks the feature: a tensor of `dtype` holding
  // shape.num_elements() values (of `shape`, or any shape of that size).
  // Left uninitialized, the feature is required.
  Tensor default_value;
};

// tf.io.VarLenFeature: any number of values, parsed into a SparseTensor.
struct VarLenFeature {
  DType dtype = DType::kInvalid;  // kInt64, kFloat or kString
};

// tf.io.FixedLenSequenceFeature, for the feature_lists of a SequenceExample:
// every step holds shape.num_elements() values; parsed to [steps, shape...].
struct FixedLenSequenceFeature {
  DType dtype = DType::kInvalid;  // kInt64, kFloat or kString
  TensorShape shape;              // fully defined, per step
  // A missing feature list parses as [0, shape...] instead of an error.
  bool allow_missing = false;
};

using FeatureSpec = std::variant<FixedLenFeature, VarLenFeature>;
using ExampleSpec = std::map<std::string, FeatureSpec>;  // ordered: outputs are too
using SequenceFeatureSpec = std::variant<FixedLenSequenceFeature, VarLenFeature>;
using SequenceSpec = std::map<std::string, SequenceFeatureSpec>;

// tf.SparseTensor's three parts. For one example: indices int64 [n, 1] (the
// position in the feature's list), dense_shape [max list length]. For a batch:
// indices [n, 2] (example, position), dense_shape [batch, max list length].
// For a sequence feature list: indices [n, 2] (step, position), dense_shape
// [steps, max list length]. values: [n] of the feature's dtype.
struct SparseTensor {
  Tensor indices;
  Tensor values;
  Tensor dense_shape;
};

struct ParsedFeatures {
  std::map<std::string, Tensor> dense;         // FixedLen(Sequence)Feature
  std::map<std::string, SparseTensor> sparse;  // VarLenFeature
};

// Checks a spec: supported dtypes, fully defined shapes, defaults that fit.
absl::Status ValidateExampleSpec(const ExampleSpec& spec);

// One serialized tf.Example.
absl::StatusOr<ParsedFeatures> ParseSingleExample(absl::string_view serialized,
                                                  const ExampleSpec& spec);
// A batch of serialized tf.Examples: dense features [batch, shape...], sparse
// features with batch indices.
absl::StatusOr<ParsedFeatures> ParseExamples(absl::Span<const std::string> serialized,
                                             const ExampleSpec& spec);
// A string tensor of serialized examples, as a Dataset element holds them: a
// scalar parses as ParseSingleExample, a vector [batch] as ParseExamples.
absl::StatusOr<ParsedFeatures> ParseExampleTensor(const Tensor& serialized,
                                                  const ExampleSpec& spec);

struct ParsedSequenceExample {
  ParsedFeatures context;
  ParsedFeatures feature_lists;
};
// One serialized tf.SequenceExample: `context_spec` applies to its context
// features as ParseSingleExample would, `sequence_spec` to its feature lists.
absl::StatusOr<ParsedSequenceExample> ParseSingleSequenceExample(absl::string_view serialized,
                                                                 const ExampleSpec& context_spec,
                                                                 const SequenceSpec& sequence_spec);

}  // namespace braid::data
