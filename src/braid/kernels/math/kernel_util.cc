#include "braid/kernels/math/kernel_util.h"

#include "absl/strings/str_cat.h"

namespace braid::kernel_util {

absl::StatusOr<std::vector<int64_t>> IntValues(const Tensor& t, absl::string_view what) {
  if (t.rank() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a scalar or vector, got shape ", t.shape().DebugString()));
  }
  std::vector<int64_t> v(t.NumElements());
  if (t.dtype() == DType::kInt32) {
    const int32_t* p = t.data<int32_t>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
  } else if (t.dtype() == DType::kInt64) {
    const int64_t* p = t.data<int64_t>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be int32 or int64, got ", DTypeName(t.dtype())));
  }
  return v;
}

absl::StatusOr<int64_t> IntScalar(const Tensor& t, absl::string_view what) {
  absl::StatusOr<std::vector<int64_t>> v = IntValues(t, what);
  if (!v.ok()) return v.status();
  if (v->size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must hold one value, got shape ", t.shape().DebugString()));
  }
  return (*v)[0];
}

absl::StatusOr<TensorShape> ShapeFromTensor(const Tensor& t, absl::string_view what) {
  if (t.rank() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a vector, got shape ", t.shape().DebugString()));
  }
  absl::StatusOr<std::vector<int64_t>> v = IntValues(t, what);
  if (!v.ok()) return v.status();
  absl::StatusOr<TensorShape> s = MakeFullShape(*v);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", s.status().message()));
  return s;
}

absl::Status UnsupportedDType(absl::string_view op, DType dtype) {
  return absl::InvalidArgumentError(absl::StrCat(op, " does not support dtype ", DTypeName(dtype),
                                                 "; it needs a fixed-size element type"));
}

}  // namespace braid::kernel_util
