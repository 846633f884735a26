// Element types. Values equal TensorFlow's DataType numbers (types.proto), so a
// DType converts to and from the wire by a cast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace braid {

enum class DType : int {
  kInvalid = 0,
  kFloat = 1,
  kDouble = 2,
  kInt32 = 3,
  kUInt8 = 4,
  kString = 7,
  kInt64 = 9,
  kBool = 10,
  kBFloat16 = 14,
  kResource = 20,
};

// bfloat16: the upper 16 bits of an IEEE float (round-to-nearest-even on conversion).
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  explicit BFloat16(float f);
  explicit operator float() const;
};

// Names a resource (variable, queue) held by a device's ResourceMgr. Tensors of
// dtype kResource hold these.
struct ResourceHandle {
  std::string device;
  std::string container;
  std::string name;
};

// "float32", "int64", ... (TensorFlow's Python names).
std::string DTypeName(DType dtype);
// Accepts the names DTypeName produces and TensorFlow's aliases ("float", "DT_FLOAT").
absl::StatusOr<DType> DTypeFromName(absl::string_view name);
// Bytes per element; 0 for kString / kResource / kInvalid (not fixed-size).
size_t DTypeSize(DType dtype);
bool IsFloatingDType(DType dtype);  // float, double, bfloat16: the differentiable types
bool IsIntegerDType(DType dtype);
// A known braid dtype (as opposed to a wire value braid does not handle).
bool IsValidDType(int wire_value);

template <typename T>
struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::kFloat; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::kDouble; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::kInt32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::kInt64; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::kUInt8; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::kBool; };
template <> struct DTypeOf<std::string> { static constexpr DType value = DType::kString; };
template <> struct DTypeOf<BFloat16> { static constexpr DType value = DType::kBFloat16; };
template <> struct DTypeOf<ResourceHandle> { static constexpr DType value = DType::kResource; };

// Calls fn.template operator()<T>() for the C++ type of `dtype`; returns false
// when dtype is not one of `Ts`.
template <typename... Ts, typename Fn>
bool DispatchDType(DType dtype, Fn&& fn) {
  return ((dtype == DTypeOf<Ts>::value ? (fn.template operator()<Ts>(), true) : false) || ...);
}

}  // namespace braid
