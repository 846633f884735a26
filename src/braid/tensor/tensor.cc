#include "braid/tensor/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"

namespace braid {
namespace {

constexpr size_t kAlignment = 64;

size_t ElementBytes(DType dtype) {
  if (dtype == DType::kString) return sizeof(std::string);
  if (dtype == DType::kResource) return sizeof(ResourceHandle);
  return DTypeSize(dtype);
}

}  // namespace

TensorBuffer::TensorBuffer(DType dtype, int64_t count) : dtype_(dtype), count_(count) {
  bytes_ = static_cast<size_t>(count) * ElementBytes(dtype);
  size_t rounded = (bytes_ + kAlignment - 1) / kAlignment * kAlignment;
  data_ = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (data_ == nullptr) throw std::bad_alloc();
  if (dtype == DType::kString) {
    auto* p = static_cast<std::string*>(data_);
    for (int64_t i = 0; i < count; ++i) new (p + i) std::string();
  } else if (dtype == DType::kResource) {
    auto* p = static_cast<ResourceHandle*>(data_);
    for (int64_t i = 0; i < count; ++i) new (p + i) ResourceHandle();
  }
}

TensorBuffer::~TensorBuffer() {
  if (dtype_ == DType::kString) {
    auto* p = static_cast<std::string*>(data_);
    for (int64_t i = 0; i < count_; ++i) p[i].~basic_string();
  } else if (dtype_ == DType::kResource) {
    auto* p = static_cast<ResourceHandle*>(data_);
    for (int64_t i = 0; i < count_; ++i) p[i].~ResourceHandle();
  }
  std::free(data_);
}

Tensor::Tensor(DType dtype, const TensorShape& shape)
    : dtype_(dtype), shape_(shape), num_elements_(shape.num_elements()) {
  BRAID_CHECK(shape.IsFullyDefined());
  BRAID_CHECK(dtype != DType::kInvalid);
  buffer_ = std::make_shared<TensorBuffer>(dtype, num_elements_);
}

Tensor Tensor::Reshaped(const TensorShape& shape) const {
  BRAID_CHECK(shape.num_elements() == num_elements_);
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::DeepCopy() const {
  if (!initialized()) return Tensor();
  Tensor t(dtype_, shape_);
  if (dtype_ == DType::kString) {
    std::copy_n(data<std::string>(), num_elements_, t.data<std::string>());
  } else if (dtype_ == DType::kResource) {
    std::copy_n(data<ResourceHandle>(), num_elements_, t.data<ResourceHandle>());
  } else if (num_elements_ > 0) {
    std::memcpy(t.raw_data(), raw_data(), TotalBytes());
  }
  return t;
}

std::string Tensor::DebugString(int max_entries) const {
  if (!initialized()) return "<uninitialized tensor>";
  std::string out = absl::StrCat(DTypeName(dtype_), shape_.DebugString(), " {");
  int64_t n = std::min<int64_t>(num_elements_, max_entries);
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0) out += ", ";
    switch (dtype_) {
      case DType::kFloat: absl::StrAppend(&out, data<float>()[i]); break;
      case DType::kDouble: absl::StrAppend(&out, data<double>()[i]); break;
      case DType::kInt32: absl::StrAppend(&out, data<int32_t>()[i]); break;
      case DType::kInt64: absl::StrAppend(&out, data<int64_t>()[i]); break;
      case DType::kUInt8: absl::StrAppend(&out, data<uint8_t>()[i]); break;
      case DType::kBool: out += data<bool>()[i] ? "true" : "false"; break;
      case DType::kBFloat16: absl::StrAppend(&out, static_cast<float>(data<BFloat16>()[i])); break;
      case DType::kString: absl::StrAppend(&out, "\"", data<std::string>()[i], "\""); break;
      case DType::kResource: absl::StrAppend(&out, "<", data<ResourceHandle>()[i].name, ">"); break;
      default: break;
    }
  }
  if (num_elements_ > n) out += ", ...";
  return out + "}";
}

bool TensorsEqual(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  bool eq = true;
  bool known = DispatchDType<float, double, int32_t, int64_t, uint8_t, bool, std::string>(
      a.dtype(), [&]<typename T>() {
        auto x = a.flat<T>();
        auto y = b.flat<T>();
        for (size_t i = 0; i < x.size() && eq; ++i) eq = x[i] == y[i];
      });
  if (!known) {
    if (a.dtype() == DType::kBFloat16) {
      auto x = a.flat<BFloat16>();
      auto y = b.flat<BFloat16>();
      for (size_t i = 0; i < x.size() && eq; ++i) eq = x[i].bits == y[i].bits;
    } else {
      return false;
    }
  }
  return eq;
}

}  // namespace braid
