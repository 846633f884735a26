// Making tf.Example and tf.SequenceExample protos from values and tensors:
// for writers of TFRecord data and for tests. The counterpart of
// example_parser.h.
//
//   ExampleBuilder b;
//   b.SetFloats("image", pixels).SetInt64s("label", {7});
//   RETURN_IF_ERROR(writer->Write(b.Serialize()));
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "braid/tensor/tensor.h"
#include "tensorflow/core/example/example.pb.h"

namespace braid::data {

// Sets `feature` to the values of `values`, flattened row-major: float32,
// float64 (rounded to float32) and bfloat16 become a float_list; int32,
// int64, uint8 and bool an int64_list; string a bytes_list. Other dtypes are
// InvalidArgument.
absl::Status TensorToFeature(const Tensor& values, tensorflow::Feature* feature);

// Builds one tf.Example; setting a name again replaces its feature.
class ExampleBuilder {
 public:
  ExampleBuilder& SetInt64s(const std::string& name, absl::Span<const int64_t> values);
  ExampleBuilder& SetFloats(const std::string& name, absl::Span<const float> values);
  ExampleBuilder& SetBytes(const std::string& name, absl::Span<const std::string> values);
  // As TensorToFeature.
  absl::Status SetTensor(const std::string& name, const Tensor& values);

  const tensorflow::Example& example() const { return example_; }
  std::string Serialize() const { return example_.SerializeAsString(); }

 private:
  tensorflow::Feature& At(const std::string& name);
  tensorflow::Example example_;
};

// One serialized tf.Example holding every named tensor (as TensorToFeature).
absl::StatusOr<std::string> SerializeExample(const std::map<std::string, Tensor>& features);

// Builds one tf.SequenceExample.
class SequenceExampleBuilder {
 public:
  // A context feature (as TensorToFeature).
  absl::Status SetContext(const std::string& name, const Tensor& values);
  // A feature list of steps.dim(0) steps, step t holding steps[t] flattened;
  // what FixedLenSequenceFeature parses back. REQUIRES (else
  // InvalidArgument): rank >= 1.
  absl::Status SetFeatureList(const std::string& name, const Tensor& steps);
  // A feature list whose steps may differ in length (for VarLenFeature).
  absl::Status SetFeatureList(const std::string& name, const std::vector<Tensor>& steps);

  const tensorflow::SequenceExample& example() const { return example_; }
  std::string Serialize() const { return example_.SerializeAsString(); }

 private:
  tensorflow::SequenceExample example_;
};

}  // namespace braid::data
