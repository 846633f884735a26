#include "braid/tensor/tensor_proto.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace braid {
namespace {

// Fills `out` (n elements) from typed values, TensorFlow-style: the last value
// repeats, no values means the default value.
template <typename T, typename Vals, typename Convert>
absl::Status FillFromValues(const Vals& vals, T* out, int64_t n, Convert convert,
                            absl::string_view field) {
  if (static_cast<int64_t>(vals.size()) > n) {
    return absl::InvalidArgumentError(absl::StrCat("TensorProto has ", vals.size(), " ", field,
                                                   " entries but its shape holds ", n, " elements"));
  }
  for (int64_t i = 0; i < n; ++i) {
    if (vals.empty()) {
      out[i] = T();
    } else {
      out[i] = convert(vals[std::min<int64_t>(i, vals.size() - 1)]);
    }
  }
  return absl::OkStatus();
}

template <typename T>
T Identity(T v) { return v; }

}  // namespace

void ShapeToProto(const TensorShape& shape, tensorflow::TensorShapeProto* proto) {
  proto->Clear();
  if (shape.unknown_rank()) {
    proto->set_unknown_rank(true);
    return;
  }
  for (int64_t d : shape.dims()) proto->add_dim()->set_size(d);
}

absl::StatusOr<TensorShape> ShapeFromProto(const tensorflow::TensorShapeProto& proto) {
  if (proto.unknown_rank()) {
    if (proto.dim_size() > 0) {
      return absl::InvalidArgumentError("TensorShapeProto has unknown_rank set and also dims");
    }
    return TensorShape::UnknownRank();
  }
  TensorShape s;
  for (const auto& d : proto.dim()) {
    if (d.size() < -1) {
      return absl::InvalidArgumentError(
          absl::StrCat("TensorShapeProto dimension ", d.size(), " is invalid; sizes are >= -1"));
    }
    s.AddDim(d.size());
  }
  return s;
}

void TensorToProto(const Tensor& t, tensorflow::TensorProto* proto, TensorEncoding encoding) {
  proto->Clear();
  proto->set_dtype(static_cast<tensorflow::DataType>(t.dtype()));
  ShapeToProto(t.shape(), proto->mutable_tensor_shape());
  const int64_t n = t.NumElements();
  switch (t.dtype()) {
    case DType::kString:
      for (const std::string& s : t.flat<std::string>()) proto->add_string_val(s);
      return;
    case DType::kResource:
      for (const ResourceHandle& h : t.flat<ResourceHandle>()) {
        auto* r = proto->add_resource_handle_val();
        r->set_device(h.device);
        r->set_container(h.container);
        r->set_name(h.name);
      }
      return;
    default:
      break;
  }
  if (encoding == TensorEncoding::kTensorContent) {
    proto->set_tensor_content(std::string(static_cast<const char*>(t.raw_data()), t.TotalBytes()));
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    switch (t.dtype()) {
      case DType::kFloat: proto->add_float_val(t.data<float>()[i]); break;
      case DType::kDouble: proto->add_double_val(t.data<double>()[i]); break;
      case DType::kInt32: proto->add_int_val(t.data<int32_t>()[i]); break;
      case DType::kUInt8: proto->add_int_val(t.data<uint8_t>()[i]); break;
      case DType::kInt64: proto->add_int64_val(t.data<int64_t>()[i]); break;
      case DType::kBool: proto->add_bool_val(t.data<bool>()[i]); break;
      case DType::kBFloat16: proto->add_half_val(t.data<BFloat16>()[i].bits); break;
      default: break;
    }
  }
}

absl::StatusOr<Tensor> TensorFromProto(const tensorflow::TensorProto& proto) {
  if (!IsValidDType(proto.dtype())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TensorProto dtype ", static_cast<int>(proto.dtype()), " (",
        tensorflow::DataType_Name(proto.dtype()), ") is not supported by braid"));
  }
  const DType dtype = static_cast<DType>(proto.dtype());
  absl::StatusOr<TensorShape> shape = ShapeFromProto(proto.tensor_shape());
  if (!shape.ok()) return shape.status();
  if (!shape->IsFullyDefined()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TensorProto shape ", shape->DebugString(), " is not fully defined"));
  }
  absl::StatusOr<TensorShape> checked = MakeFullShape(shape->dims());
  if (!checked.ok()) return checked.status();
  Tensor t(dtype, *checked);
  const int64_t n = t.NumElements();

  if (!proto.tensor_content().empty() && DTypeSize(dtype) > 0) {
    if (proto.tensor_content().size() != t.TotalBytes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "TensorProto tensor_content has ", proto.tensor_content().size(), " bytes but ",
          DTypeName(dtype), shape->DebugString(), " needs ", t.TotalBytes()));
    }
    std::memcpy(t.raw_data(), proto.tensor_content().data(), t.TotalBytes());
    return t;
  }
  absl::Status s;
  switch (dtype) {
    case DType::kFloat:
      s = FillFromValues(proto.float_val(), t.data<float>(), n, Identity<float>, "float_val");
      break;
    case DType::kDouble:
      s = FillFromValues(proto.double_val(), t.data<double>(), n, Identity<double>, "double_val");
      break;
    case DType::kInt32:
      s = FillFromValues(proto.int_val(), t.data<int32_t>(), n, Identity<int32_t>, "int_val");
      break;
    case DType::kUInt8:
      s = FillFromValues(proto.int_val(), t.data<uint8_t>(), n,
                         [](int32_t v) { return static_cast<uint8_t>(v); }, "int_val");
      break;
    case DType::kInt64:
      s = FillFromValues(proto.int64_val(), t.data<int64_t>(), n, Identity<int64_t>, "int64_val");
      break;
    case DType::kBool:
      s = FillFromValues(proto.bool_val(), t.data<bool>(), n, Identity<bool>, "bool_val");
      break;
    case DType::kBFloat16:
      s = FillFromValues(proto.half_val(), t.data<BFloat16>(), n,
                         [](int32_t v) {
                           BFloat16 b;
                           b.bits = static_cast<uint16_t>(v);
                           return b;
                         },
                         "half_val");
      break;
    case DType::kString:
      s = FillFromValues(proto.string_val(), t.data<std::string>(), n,
                         [](const std::string& v) { return v; }, "string_val");
      break;
    case DType::kResource:
      s = FillFromValues(proto.resource_handle_val(), t.data<ResourceHandle>(), n,
                         [](const tensorflow::ResourceHandleProto& r) {
                           return ResourceHandle{r.device(), r.container(), r.name()};
                         },
                         "resource_handle_val");
      break;
    default:
      break;
  }
  if (!s.ok()) return s;
  return t;
}

}  // namespace braid
