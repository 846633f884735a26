#include "braid/serving/signature.h"

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"

namespace braid::serving {
namespace {

using json = nlohmann::json;

json TensorInfoToJson(const TensorInfo& info) {
  json shape = nullptr;
  if (!info.shape.unknown_rank()) shape = info.shape.dims();
  return {{"name", info.name}, {"dtype", DTypeEnumName(info.dtype)}, {"shape", shape}};
}

absl::StatusOr<TensorInfo> TensorInfoFromJson(const json& j, const std::string& where) {
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("signatures: ", where, ": ", what));
  };
  if (!j.is_object()) return bad("expected an object {name, dtype, shape}");
  TensorInfo info;
  if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty()) {
    return bad("'name' must be a non-empty tensor name such as \"x:0\"");
  }
  info.name = j["name"].get<std::string>();
  if (!j.contains("dtype") || !j["dtype"].is_string()) return bad("'dtype' must be a string");
  absl::StatusOr<DType> dtype = DTypeFromName(j["dtype"].get<std::string>());
  if (!dtype.ok()) return bad(std::string(dtype.status().message()));
  info.dtype = *dtype;
  const json& shape = j.contains("shape") ? j["shape"] : json(nullptr);
  if (shape.is_null()) {
    info.shape = TensorShape::UnknownRank();
  } else if (shape.is_array()) {
    std::vector<int64_t> dims;
    for (const json& d : shape) {
      if (!d.is_number_integer() || d.get<int64_t>() < -1) {
        return bad(absl::StrCat("'shape' holds ", d.dump(), "; dimensions are sizes >= 0 or -1"));
      }
      dims.push_back(d.get<int64_t>());
    }
    info.shape = TensorShape(std::move(dims));
  } else {
    return bad("'shape' must be a list of sizes (-1: any) or null (unknown rank)");
  }
  return info;
}

nlohmann::ordered_json TensorInfoToSignatureDefJson(const TensorInfo& info) {
  nlohmann::ordered_json dims = nlohmann::ordered_json::array();
  if (!info.shape.unknown_rank()) {
    // Proto3 JSON writes int64 as a string.
    for (int64_t d : info.shape.dims()) {
      dims.push_back(nlohmann::ordered_json{{"size", std::to_string(d)}, {"name", ""}});
    }
  }
  nlohmann::ordered_json shape = {{"dim", dims}, {"unknown_rank", info.shape.unknown_rank()}};
  return {{"dtype", DTypeEnumName(info.dtype)}, {"tensor_shape", shape}, {"name", info.name}};
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> SplitTensorName(const std::string& name) {
  size_t colon = name.rfind(':');
  if (colon == std::string::npos) return std::make_pair(name, 0);
  std::string index = name.substr(colon + 1);
  if (colon == 0 || index.empty() || index.size() > 6 ||
      index.find_first_not_of("0123456789") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "' is not a tensor name; expected \"node:index\""));
  }
  return std::make_pair(name.substr(0, colon), std::stoi(index));
}

std::string DTypeEnumName(DType dtype) {
  switch (dtype) {
    case DType::kFloat:
      return "DT_FLOAT";
    case DType::kDouble:
      return "DT_DOUBLE";
    case DType::kInt32:
      return "DT_INT32";
    case DType::kUInt8:
      return "DT_UINT8";
    case DType::kString:
      return "DT_STRING";
    case DType::kInt64:
      return "DT_INT64";
    case DType::kBool:
      return "DT_BOOL";
    case DType::kBFloat16:
      return "DT_BFLOAT16";
    case DType::kResource:
      return "DT_RESOURCE";
    case DType::kInvalid:
      break;
  }
  return "DT_INVALID";
}

json SignaturesToJson(const SignatureMap& signatures) {
  json out = json::object();
  for (const auto& [key, sig] : signatures) {
    json inputs = json::object(), outputs = json::object();
    for (const auto& [alias, info] : sig.inputs) inputs[alias] = TensorInfoToJson(info);
    for (const auto& [alias, info] : sig.outputs) outputs[alias] = TensorInfoToJson(info);
    out[key] = {{"inputs", inputs}, {"outputs", outputs}, {"method_name", sig.method_name}};
  }
  return out;
}

absl::StatusOr<SignatureMap> SignaturesFromJson(const json& j) {
  if (!j.is_object() || j.empty()) {
    return absl::InvalidArgumentError("signatures: expected an object of one or more signatures");
  }
  SignatureMap out;
  for (const auto& [key, s] : j.items()) {
    if (!s.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("signatures: '", key, "' must be an object {inputs, outputs, method_name}"));
    }
    Signature sig;
    for (const char* side : {"inputs", "outputs"}) {
      if (!s.contains(side) || !s[side].is_object() || s[side].empty()) {
        return absl::InvalidArgumentError(absl::StrCat("signatures: '", key, "' needs non-empty '",
                                                       side, "' mapping aliases to tensors"));
      }
      auto& dest = std::string(side) == "inputs" ? sig.inputs : sig.outputs;
      for (const auto& [alias, info] : s[side].items()) {
        ASSIGN_OR_RETURN(dest[alias],
                         TensorInfoFromJson(info, absl::StrCat(key, ".", side, ".", alias)));
      }
    }
    if (s.contains("method_name") && s["method_name"].is_string()) {
      sig.method_name = s["method_name"].get<std::string>();
    }
    out.emplace(key, std::move(sig));
  }
  return out;
}

nlohmann::ordered_json SignatureDefMapJson(const SignatureMap& signatures) {
  using ojson = nlohmann::ordered_json;
  ojson defs = ojson::object();
  for (const auto& [key, sig] : signatures) {
    ojson inputs = ojson::object(), outputs = ojson::object();
    for (const auto& [alias, info] : sig.inputs) inputs[alias] = TensorInfoToSignatureDefJson(info);
    for (const auto& [alias, info] : sig.outputs) {
      outputs[alias] = TensorInfoToSignatureDefJson(info);
    }
    defs[key] = {{"inputs", inputs}, {"outputs", outputs}, {"method_name", sig.method_name}};
  }
  return ojson{{"signature_def", defs}};
}

}  // namespace braid::serving
