// Conversion between Tensor / TensorShape and the tensorflow.TensorProto /
// TensorShapeProto wire messages.
#pragma once

#include "absl/status/statusor.h"
#include "braid/tensor/tensor.h"
#include "tensorflow/core/framework/tensor.pb.h"
#include "tensorflow/core/framework/tensor_shape.pb.h"

namespace braid {

void ShapeToProto(const TensorShape& shape, tensorflow::TensorShapeProto* proto);
// Accepts partial shapes (-1 dims, unknown_rank); rejects dims below -1.
absl::StatusOr<TensorShape> ShapeFromProto(const tensorflow::TensorShapeProto& proto);

enum class TensorEncoding {
  kTensorContent,  // packed bytes in tensor_content (strings/resources use *_val)
  kTypedValues,    // float_val, int_val, ... one entry per element
};
void TensorToProto(const Tensor& tensor, tensorflow::TensorProto* proto,
                   TensorEncoding encoding = TensorEncoding::kTensorContent);

// Reads tensor_content or the typed *_val field of the proto's dtype. As in
// TensorFlow, fewer typed values than elements repeat the last one (none means
// zeros). Malformed protos (unknown dtype, partial shape, wrong byte count, too
// many values) are InvalidArgument errors naming the problem.
absl::StatusOr<Tensor> TensorFromProto(const tensorflow::TensorProto& proto);

}  // namespace braid
