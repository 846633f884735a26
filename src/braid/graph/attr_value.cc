#include "braid/graph/attr_value.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace braid {

std::string AttrKindName(const AttrValue& v) {
  static const char* kNames[] = {"int",       "float",      "bool",         "string",
                                 "type",      "shape",      "tensor",       "list(int)",
                                 "list(float)", "list(type)", "list(string)", "list(shape)"};
  return kNames[v.index()];
}

std::string AttrValueDebugString(const AttrValue& v) {
  struct Printer {
    std::string operator()(int64_t x) const { return absl::StrCat(x); }
    std::string operator()(float x) const { return absl::StrCat(x); }
    std::string operator()(bool x) const { return x ? "true" : "false"; }
    std::string operator()(const std::string& x) const { return absl::StrCat("\"", x, "\""); }
    std::string operator()(DType x) const { return DTypeName(x); }
    std::string operator()(const TensorShape& x) const { return x.DebugString(); }
    std::string operator()(const Tensor& x) const { return x.DebugString(); }
    std::string operator()(const std::vector<int64_t>& x) const {
      return absl::StrCat("[", absl::StrJoin(x, ","), "]");
    }
    std::string operator()(const std::vector<float>& x) const {
      return absl::StrCat("[", absl::StrJoin(x, ","), "]");
    }
    std::string operator()(const std::vector<DType>& x) const {
      return absl::StrCat("[", absl::StrJoin(x, ",", [](std::string* o, DType d) {
                            o->append(DTypeName(d));
                          }),
                          "]");
    }
    std::string operator()(const std::vector<std::string>& x) const {
      return absl::StrCat("[", absl::StrJoin(x, ","), "]");
    }
    std::string operator()(const std::vector<TensorShape>& x) const {
      return absl::StrCat("[", absl::StrJoin(x, ",", [](std::string* o, const TensorShape& s) {
                            o->append(s.DebugString());
                          }),
                          "]");
    }
  };
  return std::visit(Printer{}, v);
}

template <typename T>
absl::StatusOr<T> GetAttr(const AttrMap& attrs, const std::string& name) {
  auto it = attrs.find(name);
  if (it == attrs.end()) return absl::NotFoundError(absl::StrCat("attr '", name, "' is missing"));
  if (const T* v = std::get_if<T>(&it->second)) return *v;
  return absl::InvalidArgumentError(absl::StrCat("attr '", name, "' is a ",
                                                 AttrKindName(it->second), ", expected ",
                                                 AttrKindName(AttrValue(T{}))));
}

template absl::StatusOr<int64_t> GetAttr(const AttrMap&, const std::string&);
template absl::StatusOr<float> GetAttr(const AttrMap&, const std::string&);
template absl::StatusOr<bool> GetAttr(const AttrMap&, const std::string&);
template absl::StatusOr<std::string> GetAttr(const AttrMap&, const std::string&);
template absl::StatusOr<DType> GetAttr(const AttrMap&, const std::string&);
template absl::StatusOr<TensorShape> GetAttr(const AttrMap&, const std::string&);
template absl::StatusOr<Tensor> GetAttr(const AttrMap&, const std::string&);
template absl::StatusOr<std::vector<int64_t>> GetAttr(const AttrMap&, const std::string&);
template absl::StatusOr<std::vector<float>> GetAttr(const AttrMap&, const std::string&);
template absl::StatusOr<std::vector<DType>> GetAttr(const AttrMap&, const std::string&);
template absl::StatusOr<std::vector<std::string>> GetAttr(const AttrMap&, const std::string&);
template absl::StatusOr<std::vector<TensorShape>> GetAttr(const AttrMap&, const std::string&);

}  // namespace braid
