// Values of tensorflow.Summary protos built from tensors, as TensorFlow 1.x's
// summary ops build them and TensorBoard's plugins read them. Shared by the
// summary kernels (summary_kernels.cc) and the writer API (summary/).
// Every function appends to `out` only when it succeeds; errors are
// InvalidArgument naming the tag and the offending shape or value.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "braid/tensor/tensor.h"

namespace tensorflow {
class Summary;
}

namespace braid {

// One simple_value per element: value i gets tag tags[i]. `tags` is a string
// tensor of the same shape as `values` (float, double, int32 or int64).
absl::Status AddScalarValues(const Tensor& tags, const Tensor& values, tensorflow::Summary* out);

// One histo value over all elements of `values` (float, double, int32 or
// int64), bucketed as Note [Histogram buckets]. NaN and ±inf are rejected.
absl::Status AddHistogramValue(const std::string& tag, const Tensor& values,
                               tensorflow::Summary* out);

// Image values for the first min(n, max_images) images of `images`,
// [n, height, width, channels] with 1, 3 or 4 channels: uint8 as it is,
// float or double rescaled per image as Note [Image rescaling] describes, PNG
// encoded. Tags are "<tag>/image" when max_images is 1, else "<tag>/image/<i>".
absl::Status AddImageValues(const std::string& tag, const Tensor& images, int64_t max_images,
                            tensorflow::Summary* out);

// One tensor value holding `text` (a string tensor of any shape) with the
// text plugin's metadata (plugin_name "text"), as TensorFlow 2's
// tf.summary.text writes it.
absl::Status AddTextValue(const std::string& tag, const Tensor& text, tensorflow::Summary* out);

// Appends the values of the serialized Summary `serialized` (`what` names it
// in errors). InvalidArgument when the bytes are not a Summary.
absl::Status AddSerializedSummary(absl::string_view serialized, absl::string_view what,
                                  tensorflow::Summary* out);

// InvalidArgument naming the duplicated tag when two values share a non-empty
// tag (TensorBoard would keep one of them silently).
absl::Status CheckUniqueTags(const tensorflow::Summary& summary);

// The string held by a scalar string tensor; InvalidArgument naming `what`
// otherwise.
absl::StatusOr<std::string> ScalarString(const Tensor& t, absl::string_view what);

}  // namespace braid
