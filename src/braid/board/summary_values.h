// What the dashboard makes of one Summary.Value: which plugin it belongs to
// and its decoded value, from either of the forms writers use (TensorFlow 1's
// dedicated fields such as simple_value and histo, or TensorFlow 2's
// `tensor` plus SummaryMetadata.plugin_data naming the plugin).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tensorflow/core/framework/summary.pb.h"

namespace braid::board {

enum class Plugin { kScalars, kHistograms, kImages, kText, kOther };
const char* PluginName(Plugin plugin);

// The plugin a value belongs to. `remembered` is the plugin name the tag's
// first value carried in its metadata (writers send the metadata once per
// tag); empty when none is known.
Plugin ClassifyValue(const tensorflow::Summary::Value& value, const std::string& remembered);

// One histogram bucket: the count of values in [left, right].
struct Bucket {
  double left = 0;
  double right = 0;
  double count = 0;
};

// A scalar: simple_value, or a tensor with one numeric element.
absl::StatusOr<double> DecodeScalar(const tensorflow::Summary::Value& value);
// A histogram: HistogramProto `histo` (buckets with a count, edges clamped to
// [min, max]), or a [k, 3] tensor of rows (left, right, count).
absl::StatusOr<std::vector<Bucket>> DecodeHistogram(const tensorflow::Summary::Value& value);

struct DecodedImage {
  int width = 0;
  int height = 0;
  std::string encoded;  // PNG (or whatever the writer encoded)
  int samples = 1;      // images the value held; the first is kept
};
// Summary.Image, or a string tensor [width, height, image, ...] (TensorFlow 2).
absl::StatusOr<DecodedImage> DecodeImage(const tensorflow::Summary::Value& value);
// A string tensor; several strings are joined by newlines.
absl::StatusOr<std::string> DecodeText(const tensorflow::Summary::Value& value);

}  // namespace braid::board
