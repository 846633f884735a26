// Scalar, histogram and text values, merging. Images: image_values.cc.
#include "braid/kernels/summary/summary_values.h"

#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "braid/kernels/summary/histogram.h"
#include "braid/tensor/tensor_proto.h"
#include "tensorflow/core/framework/summary.pb.h"

namespace braid {
namespace {

// Element i of a real tensor as a double; false for other dtypes.
template <typename Fn>
bool ForEachReal(const Tensor& t, Fn&& fn) {
  return DispatchDType<float, double, int32_t, int64_t>(t.dtype(), [&]<typename T>() {
    const T* p = t.data<T>();
    for (int64_t i = 0; i < t.NumElements(); ++i) fn(i, static_cast<double>(p[i]));
  });
}

absl::Status NotReal(absl::string_view what, const Tensor& t) {
  return absl::InvalidArgumentError(absl::StrCat(what, " has dtype ", DTypeName(t.dtype()),
                                                 "; float32, float64, int32 or int64 is needed"));
}

}  // namespace

absl::StatusOr<std::string> ScalarString(const Tensor& t, absl::string_view what) {
  if (t.dtype() != DType::kString || t.rank() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be a string scalar, not ",
                                                   DTypeName(t.dtype()), t.shape().DebugString()));
  }
  return t.data<std::string>()[0];
}

absl::Status AddScalarValues(const Tensor& tags, const Tensor& values, tensorflow::Summary* out) {
  if (tags.dtype() != DType::kString) {
    return absl::InvalidArgumentError(absl::StrCat("scalar summary tags have dtype ",
                                                   DTypeName(tags.dtype()), "; string is needed"));
  }
  if (tags.shape() != values.shape()) {
    return absl::InvalidArgumentError(
        absl::StrCat("scalar summary tags and values are not the same shape: tags ",
                     tags.shape().DebugString(), ", values ", values.shape().DebugString()));
  }
  tensorflow::Summary added;
  const std::string* tag = tags.data<std::string>();
  if (!ForEachReal(values, [&](int64_t i, double v) {
        tensorflow::Summary::Value* value = added.add_value();
        value->set_tag(tag[i]);
        value->set_simple_value(static_cast<float>(v));
      })) {
    return NotReal("scalar summary values", values);
  }
  out->MergeFrom(added);
  return absl::OkStatus();
}

absl::Status AddHistogramValue(const std::string& tag, const Tensor& values,
                               tensorflow::Summary* out) {
  Histogram histogram;
  int64_t bad_index = -1;
  double bad_value = 0;
  if (!ForEachReal(values, [&](int64_t i, double v) {
        if (!std::isfinite(v)) {
          if (bad_index < 0) bad_index = i, bad_value = v;
          return;
        }
        histogram.Add(v);
      })) {
    return NotReal(absl::StrCat("histogram '", tag, "'"), values);
  }
  if (bad_index >= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("histogram '", tag, "' has the non-finite value ", bad_value, " at element ",
                     bad_index, "; histograms take finite values only"));
  }
  tensorflow::Summary::Value* value = out->add_value();
  value->set_tag(tag);
  histogram.EncodeToProto(value->mutable_histo());
  return absl::OkStatus();
}

absl::Status AddTextValue(const std::string& tag, const Tensor& text, tensorflow::Summary* out) {
  if (text.dtype() != DType::kString) {
    return absl::InvalidArgumentError(absl::StrCat("text summary '", tag, "' has dtype ",
                                                   DTypeName(text.dtype()), "; string is needed"));
  }
  tensorflow::Summary::Value* value = out->add_value();
  value->set_tag(tag);
  // TextPluginData{version: 0} serializes to no bytes: the content stays empty.
  value->mutable_metadata()->mutable_plugin_data()->set_plugin_name("text");
  TensorToProto(text, value->mutable_tensor());
  return absl::OkStatus();
}

absl::Status AddSerializedSummary(absl::string_view serialized, absl::string_view what,
                                  tensorflow::Summary* out) {
  tensorflow::Summary parsed;
  if (!parsed.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " (", serialized.size(), " bytes) is not a serialized tensorflow.Summary"));
  }
  out->MergeFrom(parsed);
  return absl::OkStatus();
}

absl::Status CheckUniqueTags(const tensorflow::Summary& summary) {
  absl::flat_hash_set<std::string> seen;
  for (const tensorflow::Summary::Value& v : summary.value()) {
    if (!v.tag().empty() && !seen.insert(v.tag()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "duplicate tag '", v.tag(), "' in the merged summaries; every value needs its own tag"));
    }
  }
  return absl::OkStatus();
}

}  // namespace braid
