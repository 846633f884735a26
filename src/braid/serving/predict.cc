#include "braid/serving/predict.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "braid/serving/json_tensor.h"

namespace braid::serving {
namespace {

using json = nlohmann::json;
// Input alias -> its value in the request, or in `owned` when it had to be
// assembled (row format with named inputs). Pointers avoid copying bodies.
struct NamedValues {
  std::map<std::string, const json*> values;
  std::map<std::string, json> owned;
};

absl::StatusOr<std::pair<std::string, const Signature*>> FindSignature(const LoadedVersion& v,
                                                                       const json& request) {
  std::string name = kDefaultServingSignature;
  if (request.contains("signature_name")) {
    if (!request["signature_name"].is_string()) {
      return absl::InvalidArgumentError("'signature_name' must be a string");
    }
    name = request["signature_name"].get<std::string>();
    if (name.empty()) name = kDefaultServingSignature;
  }
  auto it = v.signatures.find(name);
  if (it == v.signatures.end()) {
    std::vector<std::string> known;
    for (const auto& [key, sig] : v.signatures) known.push_back(key);
    return absl::InvalidArgumentError(absl::StrCat("Serving signature name: \"", name,
                                                   "\" not found in signature def; the model has ",
                                                   absl::StrJoin(known, ", ")));
  }
  if (it->second.method_name != kPredictMethodName) {
    return absl::InvalidArgumentError(absl::StrCat("signature '", name, "' has method '",
                                                   it->second.method_name, "', not predict"));
  }
  return std::make_pair(name, &it->second);
}

// {"b64": "..."} is a value, not a map of named inputs.
bool IsNamedInputs(const json& v) { return v.is_object() && !(v.size() == 1 && v.contains("b64")); }

absl::Status CheckNames(const Signature& sig, const json& object, const std::string& where) {
  for (const auto& [alias, value] : object.items()) {
    if (sig.inputs.count(alias) == 0) {
      std::vector<std::string> known;
      for (const auto& [a, info] : sig.inputs) known.push_back(a);
      return absl::InvalidArgumentError(absl::StrCat(where, " names input '", alias,
                                                     "', which the signature does not have (",
                                                     absl::StrJoin(known, ", "), ")"));
    }
  }
  for (const auto& [alias, info] : sig.inputs) {
    if (!object.contains(alias)) {
      return absl::InvalidArgumentError(absl::StrCat(where, " is missing input '", alias, "'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<NamedValues> RowInputs(const Signature& sig, const json& instances) {
  if (!instances.is_array() || instances.empty()) {
    return absl::InvalidArgumentError("'instances' must be a non-empty list");
  }
  NamedValues out;
  if (sig.inputs.size() == 1 && !IsNamedInputs(instances[0])) {
    out.values[sig.inputs.begin()->first] = &instances;
    return out;
  }
  auto& columns = out.owned;
  for (const auto& [alias, info] : sig.inputs) columns[alias] = json::array();
  for (size_t i = 0; i < instances.size(); ++i) {
    const json& inst = instances[i];
    if (!IsNamedInputs(inst)) {
      return absl::InvalidArgumentError(
          absl::StrCat("instance ", i, " must be an object of named inputs, like instance 0"));
    }
    RETURN_IF_ERROR(CheckNames(sig, inst, absl::StrCat("instance ", i)));
    for (const auto& [alias, value] : inst.items()) columns[alias].push_back(value);
  }
  for (const auto& [alias, value] : columns) out.values[alias] = &value;
  return out;
}

absl::StatusOr<NamedValues> ColumnarInputs(const Signature& sig, const json& inputs) {
  NamedValues out;
  if (sig.inputs.size() == 1 && !IsNamedInputs(inputs)) {
    out.values[sig.inputs.begin()->first] = &inputs;
    return out;
  }
  if (!IsNamedInputs(inputs)) {
    return absl::InvalidArgumentError("'inputs' must be an object of named inputs");
  }
  RETURN_IF_ERROR(CheckNames(sig, inputs, "'inputs'"));
  for (const auto& [alias, info] : sig.inputs) out.values[alias] = &inputs[alias];
  return out;
}

absl::Status CheckShape(const std::string& signature, const std::string& alias,
                        const TensorInfo& info, const Tensor& t) {
  if (info.shape.unknown_rank() || info.shape.IsCompatibleWith(t.shape())) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("input '", alias, "' has shape ", t.shape().DebugString(), " but signature '",
                   signature, "' expects ", info.shape.DebugString(), " (-1: any size)"));
}

absl::StatusOr<std::string> RowResponse(const Signature& sig, const std::vector<Tensor>& out) {
  std::string body = "{\"predictions\":";
  if (out.size() == 1) {
    AppendTensorJson(out[0], &body);
    body += '}';
    return body;
  }
  int64_t batch = -1;
  size_t i = 0;
  for (const auto& [alias, info] : sig.outputs) {
    const Tensor& t = out[i++];
    if (t.rank() < 1 || (batch >= 0 && t.dim(0) != batch)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "output '", alias, "' has shape ", t.shape().DebugString(),
          ": the row format needs every output to share the batch dimension; use \"inputs\""));
    }
    batch = t.dim(0);
  }
  body += '[';
  for (int64_t row = 0; row < batch; ++row) {
    if (row > 0) body += ',';
    body += '{';
    i = 0;
    for (const auto& [alias, info] : sig.outputs) {
      if (i > 0) body += ',';
      absl::StrAppend(&body, JsonQuote(alias), ":");
      AppendTensorRowJson(out[i++], row, &body);
    }
    body += '}';
  }
  body += "]}";
  return body;
}

std::string ColumnarResponse(const Signature& sig, const std::vector<Tensor>& out) {
  std::string body = "{\"outputs\":";
  if (out.size() == 1) {
    AppendTensorJson(out[0], &body);
  } else {
    body += '{';
    size_t i = 0;
    for (const auto& [alias, info] : sig.outputs) {
      if (i > 0) body += ',';
      absl::StrAppend(&body, JsonQuote(alias), ":");
      AppendTensorJson(out[i++], &body);
    }
    body += '}';
  }
  body += '}';
  return body;
}

}  // namespace

absl::StatusOr<std::string> Predict(const LoadedVersion& version, const json& request) {
  if (!request.is_object()) {
    return absl::InvalidArgumentError("the request must be a JSON object");
  }
  ASSIGN_OR_RETURN(auto found, FindSignature(version, request));
  const auto& [sig_name, sig] = found;
  const bool row = request.contains("instances");
  if (row == request.contains("inputs")) {
    return absl::InvalidArgumentError(
        row ? "the request has both 'instances' and 'inputs'; send one"
            : "the request needs 'instances' (row format) or 'inputs' (columnar format)");
  }
  ASSIGN_OR_RETURN(NamedValues values, row ? RowInputs(*sig, request["instances"])
                                           : ColumnarInputs(*sig, request["inputs"]));
  std::vector<std::pair<std::string, Tensor>> feeds;
  for (const auto& [alias, value] : values.values) {
    const TensorInfo& info = sig->inputs.at(alias);
    ASSIGN_OR_RETURN(Tensor t,
                     TensorFromJson(*value, info.dtype, absl::StrCat("input '", alias, "'")));
    RETURN_IF_ERROR(CheckShape(sig_name, alias, info, t));
    feeds.emplace_back(info.name, std::move(t));
  }
  std::vector<std::string> fetches;
  for (const auto& [alias, info] : sig->outputs) fetches.push_back(info.name);
  std::vector<Tensor> out;
  RETURN_IF_ERROR(version.session->Run(feeds, fetches, {}, &out));
  if (row) return RowResponse(*sig, out);
  return ColumnarResponse(*sig, out);
}

}  // namespace braid::serving
