#include "braid/graph/op_def.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "braid/base/check.h"

namespace braid {
namespace {

ArgDef ParseArg(const std::string& spec) {
  std::vector<std::string> parts = absl::StrSplit(spec, ':');
  BRAID_CHECK(parts.size() == 2);
  ArgDef arg;
  arg.name = std::string(absl::StripAsciiWhitespace(parts[0]));
  std::string type(absl::StripAsciiWhitespace(parts[1]));
  if (size_t star = type.find('*'); star != std::string::npos) {
    arg.number_attr = std::string(absl::StripAsciiWhitespace(type.substr(0, star)));
    type = std::string(absl::StripAsciiWhitespace(type.substr(star + 1)));
  }
  absl::StatusOr<DType> fixed = DTypeFromName(type);
  if (fixed.ok()) {
    arg.fixed_type = *fixed;
  } else {
    arg.type_attr = type;
  }
  return arg;
}

}  // namespace

const AttrDef* OpDef::FindAttr(const std::string& attr_name) const {
  for (const AttrDef& a : attrs)
    if (a.name == attr_name) return &a;
  return nullptr;
}

OpDefBuilder& OpDefBuilder::Input(const std::string& spec) {
  def_.inputs.push_back(ParseArg(spec));
  return *this;
}
OpDefBuilder& OpDefBuilder::Output(const std::string& spec) {
  def_.outputs.push_back(ParseArg(spec));
  return *this;
}
OpDefBuilder& OpDefBuilder::TypeAttr(const std::string& name, std::vector<DType> allowed) {
  def_.attrs.push_back(AttrDef{name, std::nullopt, std::move(allowed), true});
  return *this;
}
OpDefBuilder& OpDefBuilder::TypeAttrWithDefault(const std::string& name, DType default_type,
                                                std::vector<DType> allowed) {
  def_.attrs.push_back(AttrDef{name, AttrValue(default_type), std::move(allowed), true});
  return *this;
}
OpDefBuilder& OpDefBuilder::Attr(const std::string& name, AttrValue default_value) {
  def_.attrs.push_back(AttrDef{name, std::move(default_value), {}, false});
  return *this;
}
OpDefBuilder& OpDefBuilder::RequiredAttr(const std::string& name) {
  def_.attrs.push_back(AttrDef{name, std::nullopt, {}, false});
  return *this;
}

OpRegistry* OpRegistry::Global() {
  static OpRegistry* registry = new OpRegistry;
  return registry;
}

void OpRegistry::Register(OpDef def) {
  BRAID_CHECK(ops_.find(def.name) == ops_.end());
  std::string name = def.name;
  ops_.emplace(std::move(name), std::move(def));
}

const OpDef* OpRegistry::Find(const std::string& name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : &it->second;
}

absl::StatusOr<const OpDef*> OpRegistry::Lookup(const std::string& name) const {
  const OpDef* def = Find(name);
  if (def == nullptr) return absl::NotFoundError(absl::StrCat("op '", name, "' is not registered"));
  return def;
}

std::vector<std::string> OpRegistry::ListOps() const {
  std::vector<std::string> names;
  for (const auto& [name, def] : ops_) names.push_back(name);
  return names;
}

}  // namespace braid
