// Node attributes: a closed set of value kinds, matching tensorflow.AttrValue.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/tensor/tensor.h"

namespace braid {

using AttrValue = std::variant<int64_t, float, bool, std::string, DType, TensorShape, Tensor,
                               std::vector<int64_t>, std::vector<float>, std::vector<DType>,
                               std::vector<std::string>, std::vector<TensorShape>>;
using AttrMap = std::map<std::string, AttrValue>;

// "int", "float", "bool", "string", "type", "shape", "tensor", "list(int)", ...
std::string AttrKindName(const AttrValue& v);
std::string AttrValueDebugString(const AttrValue& v);

// Typed lookup: NotFound when absent, InvalidArgument when of another kind.
template <typename T>
absl::StatusOr<T> GetAttr(const AttrMap& attrs, const std::string& name);

// Lookup with a fallback for absent attrs (a wrong kind is still an error).
template <typename T>
T GetAttrOr(const AttrMap& attrs, const std::string& name, T fallback) {
  auto it = attrs.find(name);
  if (it == attrs.end()) return fallback;
  if (const T* v = std::get_if<T>(&it->second)) return *v;
  return fallback;
}

}  // namespace braid
