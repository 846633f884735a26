#include "braid/tensor/dtype.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace braid {

BFloat16::BFloat16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  if ((u & 0x7fffffffu) > 0x7f800000u) {  // NaN stays a quiet NaN
    bits = static_cast<uint16_t>((u >> 16) | 0x40);
    return;
  }
  u += 0x7fffu + ((u >> 16) & 1u);
  bits = static_cast<uint16_t>(u >> 16);
}

BFloat16::operator float() const {
  uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

std::string DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat: return "float32";
    case DType::kDouble: return "float64";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kUInt8: return "uint8";
    case DType::kBool: return "bool";
    case DType::kString: return "string";
    case DType::kBFloat16: return "bfloat16";
    case DType::kResource: return "resource";
    case DType::kInvalid: break;
  }
  return absl::StrCat("invalid(", static_cast<int>(dtype), ")");
}

absl::StatusOr<DType> DTypeFromName(absl::string_view name) {
  std::string n = absl::AsciiStrToLower(name);
  if (n.rfind("dt_", 0) == 0) n = n.substr(3);
  if (n == "float32" || n == "float") return DType::kFloat;
  if (n == "float64" || n == "double") return DType::kDouble;
  if (n == "int32") return DType::kInt32;
  if (n == "int64") return DType::kInt64;
  if (n == "uint8") return DType::kUInt8;
  if (n == "bool") return DType::kBool;
  if (n == "string") return DType::kString;
  if (n == "bfloat16") return DType::kBFloat16;
  if (n == "resource") return DType::kResource;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown dtype '", name,
      "'; expected one of float32, float64, int32, int64, uint8, bool, string, bfloat16"));
}

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kFloat: return 4;
    case DType::kDouble: return 8;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kUInt8: return 1;
    case DType::kBool: return 1;
    case DType::kBFloat16: return 2;
    default: return 0;
  }
}

bool IsFloatingDType(DType d) {
  return d == DType::kFloat || d == DType::kDouble || d == DType::kBFloat16;
}
bool IsIntegerDType(DType d) {
  return d == DType::kInt32 || d == DType::kInt64 || d == DType::kUInt8;
}

bool IsValidDType(int v) {
  switch (static_cast<DType>(v)) {
    case DType::kFloat: case DType::kDouble: case DType::kInt32: case DType::kInt64:
    case DType::kUInt8: case DType::kBool: case DType::kString: case DType::kBFloat16:
    case DType::kResource:
      return true;
    default:
      return false;
  }
}

}  // namespace braid
