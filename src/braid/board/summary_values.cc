#include "braid/board/summary_values.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/tensor/tensor_proto.h"

namespace braid::board {
namespace {

constexpr int kDtHalf = 19;  // tensorflow.DataType DT_HALF, which braid's DType lacks

double HalfToDouble(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  double v;
  if (exponent == 0) {
    v = std::ldexp(mantissa, -24);
  } else if (exponent == 31) {
    v = mantissa ? NAN : INFINITY;
  } else {
    v = std::ldexp(mantissa + 1024, exponent - 25);
  }
  return (h & 0x8000) ? -v : v;
}

// Every element of a numeric tensor as doubles.
absl::StatusOr<std::vector<double>> NumericValues(const tensorflow::TensorProto& proto) {
  if (proto.dtype() == kDtHalf) {
    std::vector<double> out;
    if (!proto.tensor_content().empty()) {
      const std::string& c = proto.tensor_content();
      for (size_t i = 0; i + 1 < c.size(); i += 2) {
        uint16_t h;
        std::memcpy(&h, c.data() + i, 2);
        out.push_back(HalfToDouble(h));
      }
    } else {
      for (int h : proto.half_val()) out.push_back(HalfToDouble(static_cast<uint16_t>(h)));
    }
    return out;
  }
  absl::StatusOr<Tensor> t = TensorFromProto(proto);
  if (!t.ok()) return t.status();
  std::vector<double> out;
  out.reserve(t->NumElements());
  bool numeric = DispatchDType<float, double, int32_t, int64_t, uint8_t, bool, BFloat16>(
      t->dtype(), [&]<typename T>() {
        for (const T& v : t->flat<T>()) {
          if constexpr (std::is_same_v<T, BFloat16>) {
            out.push_back(static_cast<float>(v));
          } else {
            out.push_back(static_cast<double>(v));
          }
        }
      });
  if (!numeric) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ", DTypeName(t->dtype()), " tensor is not numeric"));
  }
  return out;
}

int64_t NumElements(const tensorflow::TensorShapeProto& shape) {
  int64_t n = 1;
  for (const auto& d : shape.dim()) n *= d.size();
  return n;
}

}  // namespace

const char* PluginName(Plugin plugin) {
  switch (plugin) {
    case Plugin::kScalars:
      return "scalars";
    case Plugin::kHistograms:
      return "histograms";
    case Plugin::kImages:
      return "images";
    case Plugin::kText:
      return "text";
    case Plugin::kOther:
      break;
  }
  return "other";
}

Plugin ClassifyValue(const tensorflow::Summary::Value& value, const std::string& remembered) {
  switch (value.value_case()) {
    case tensorflow::Summary::Value::kSimpleValue:
      return Plugin::kScalars;
    case tensorflow::Summary::Value::kHisto:
      return Plugin::kHistograms;
    case tensorflow::Summary::Value::kImage:
      return Plugin::kImages;
    case tensorflow::Summary::Value::kTensor:
      break;
    default:
      return Plugin::kOther;
  }
  const std::string& name = value.has_metadata() && value.metadata().has_plugin_data()
                                ? value.metadata().plugin_data().plugin_name()
                                : remembered;
  if (name == "scalars") return Plugin::kScalars;
  if (name == "histograms") return Plugin::kHistograms;
  if (name == "images") return Plugin::kImages;
  if (name == "text") return Plugin::kText;
  return Plugin::kOther;
}

absl::StatusOr<double> DecodeScalar(const tensorflow::Summary::Value& value) {
  if (value.has_simple_value()) return value.simple_value();
  if (!value.has_tensor()) return absl::InvalidArgumentError("neither simple_value nor tensor");
  const tensorflow::TensorProto& t = value.tensor();
  // The common forms without building a Tensor: one float_val or double_val.
  if (t.tensor_content().empty()) {
    if (t.dtype() == tensorflow::DT_FLOAT && t.float_val_size() == 1) return t.float_val(0);
    if (t.dtype() == tensorflow::DT_DOUBLE && t.double_val_size() == 1) return t.double_val(0);
  }
  if (NumElements(t.tensor_shape()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("a scalar tensor has ", NumElements(t.tensor_shape()), " elements, not 1"));
  }
  absl::StatusOr<std::vector<double>> values = NumericValues(t);
  if (!values.ok()) return values.status();
  if (values->size() != 1) return absl::InvalidArgumentError("a scalar tensor holds no value");
  return (*values)[0];
}

absl::StatusOr<std::vector<Bucket>> DecodeHistogram(const tensorflow::Summary::Value& value) {
  std::vector<Bucket> out;
  if (value.has_histo()) {
    const tensorflow::HistogramProto& h = value.histo();
    if (h.bucket_limit_size() != h.bucket_size()) {
      return absl::InvalidArgumentError(absl::StrCat("histo has ", h.bucket_limit_size(),
                                                     " bucket limits but ", h.bucket_size(),
                                                     " bucket counts"));
    }
    // Bucket i counts the values in (limit[i-1], limit[i]]; its outer edges
    // are clamped to the values' range so that the +-DBL_MAX sentinels of the
    // first and last buckets do not stretch a chart.
    for (int i = 0; i < h.bucket_size(); ++i) {
      if (h.bucket(i) == 0) continue;
      double left = i == 0 ? h.min() : std::max(h.bucket_limit(i - 1), h.min());
      double right = std::min(h.bucket_limit(i), h.max());
      if (right < left) right = left;
      out.push_back({left, right, h.bucket(i)});
    }
    return out;
  }
  if (!value.has_tensor()) return absl::InvalidArgumentError("neither histo nor tensor");
  const tensorflow::TensorShapeProto& shape = value.tensor().tensor_shape();
  if (shape.dim_size() != 2 || shape.dim(1).size() != 3) {
    return absl::InvalidArgumentError("a histogram tensor must have shape [k, 3]");
  }
  absl::StatusOr<std::vector<double>> values = NumericValues(value.tensor());
  if (!values.ok()) return values.status();
  for (size_t i = 0; i + 2 < values->size(); i += 3) {
    out.push_back({(*values)[i], (*values)[i + 1], (*values)[i + 2]});
  }
  return out;
}

absl::StatusOr<DecodedImage> DecodeImage(const tensorflow::Summary::Value& value) {
  DecodedImage out;
  if (value.has_image()) {
    out.width = value.image().width();
    out.height = value.image().height();
    out.encoded = value.image().encoded_image_string();
    return out;
  }
  if (!value.has_tensor() || value.tensor().dtype() != tensorflow::DT_STRING) {
    return absl::InvalidArgumentError("neither image nor a string tensor");
  }
  const auto& s = value.tensor().string_val();
  if (s.size() < 3 || !absl::SimpleAtoi(s[0], &out.width) || !absl::SimpleAtoi(s[1], &out.height)) {
    return absl::InvalidArgumentError(
        "an image tensor must hold [width, height, encoded image, ...] strings");
  }
  out.encoded = s[2];
  out.samples = s.size() - 2;
  return out;
}

absl::StatusOr<std::string> DecodeText(const tensorflow::Summary::Value& value) {
  if (!value.has_tensor() || value.tensor().dtype() != tensorflow::DT_STRING) {
    return absl::InvalidArgumentError("text must be a string tensor");
  }
  return absl::StrJoin(value.tensor().string_val(), "\n");
}

}  // namespace braid::board
