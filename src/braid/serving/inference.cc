#include "braid/serving/inference.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"

namespace braid::serving {
namespace {

template <typename Map>
std::string Keys(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : map) keys.push_back(key);
  return absl::StrJoin(keys, ", ");
}

}  // namespace

absl::StatusOr<FoundSignature> FindSignature(const LoadedVersion& version, const std::string& name,
                                             absl::string_view method) {
  const std::string key = name.empty() ? kDefaultServingSignature : name;
  auto it = version.signatures.find(key);
  if (it == version.signatures.end()) {
    return absl::InvalidArgumentError(absl::StrCat("Serving signature name: \"", key,
                                                   "\" not found in signature def; the model has ",
                                                   Keys(version.signatures)));
  }
  if (!method.empty() && it->second.method_name != method) {
    return absl::InvalidArgumentError(absl::StrCat("signature '", key, "' has method '",
                                                   it->second.method_name, "', not '", method,
                                                   "'"));
  }
  return FoundSignature{key, &it->second};
}

absl::Status CheckElementCount(int64_t elements, int64_t max_elements, const std::string& what) {
  if (elements <= max_elements) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(what, " has ", elements,
                                                 " elements, more than the limit of ",
                                                 max_elements, " (--max_tensor_elements)"));
}

absl::StatusOr<std::map<std::string, Tensor>> RunSignature(
    const LoadedVersion& version, const FoundSignature& found,
    std::map<std::string, Tensor> inputs, const std::set<std::string>& output_filter) {
  const Signature& sig = *found.signature;
  std::vector<std::pair<std::string, Tensor>> feeds;
  for (auto& [alias, value] : inputs) {
    auto info = sig.inputs.find(alias);
    if (info == sig.inputs.end()) {
      return absl::InvalidArgumentError(absl::StrCat("input '", alias, "' is not in signature '",
                                                     found.name, "' (inputs: ", Keys(sig.inputs),
                                                     ")"));
    }
    if (value.dtype() != info->second.dtype) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", alias, "' is ", DTypeEnumName(value.dtype()), " but signature '", found.name,
          "' expects ", DTypeEnumName(info->second.dtype)));
    }
    const TensorShape& want = info->second.shape;
    if (!want.unknown_rank() && !want.IsCompatibleWith(value.shape())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", alias, "' has shape ", value.shape().DebugString(), " but signature '",
          found.name, "' expects ", want.DebugString(), " (-1: any size)"));
    }
    feeds.emplace_back(info->second.name, std::move(value));
  }
  for (const auto& [alias, info] : sig.inputs) {
    if (inputs.count(alias) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("the request is missing input '", alias, "' of signature '", found.name,
                       "'"));
    }
  }
  std::vector<std::string> aliases;
  std::vector<std::string> fetches;
  for (const std::string& alias : output_filter) {
    if (sig.outputs.count(alias) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("output_filter names '", alias, "', which signature '", found.name,
                       "' does not output (outputs: ", Keys(sig.outputs), ")"));
    }
  }
  for (const auto& [alias, info] : sig.outputs) {
    if (!output_filter.empty() && output_filter.count(alias) == 0) continue;
    aliases.push_back(alias);
    fetches.push_back(info.name);
  }
  std::vector<Tensor> out;
  RETURN_IF_ERROR(version.session->Run(feeds, fetches, {}, &out));
  std::map<std::string, Tensor> result;
  for (size_t i = 0; i < aliases.size(); ++i) result.emplace(aliases[i], std::move(out[i]));
  return result;
}

}  // namespace braid::serving
