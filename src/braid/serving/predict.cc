#include "braid/serving/predict.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "braid/serving/inference.h"
#include "braid/serving/json_tensor.h"
#include "braid/serving/numeric_request.h"

namespace braid::serving {
namespace {

using json = nlohmann::json;
// Input alias -> its value in the request, or in `owned` when it had to be
// assembled (row format with named inputs). Pointers avoid copying bodies.
struct NamedValues {
  std::map<std::string, const json*> values;
  std::map<std::string, json> owned;
};

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

// Runs the signature and writes the answer in the request's format.
absl::StatusOr<std::string> RunAndAnswer(const LoadedVersion& version, const FoundSignature& found,
                                         std::map<std::string, Tensor> inputs, bool row_format) {
  ASSIGN_OR_RETURN(auto outputs, RunSignature(version, found, std::move(inputs)));
  std::vector<Tensor> out;
  for (auto& [alias, t] : outputs) out.push_back(std::move(t));
  if (row_format) return RowResponse(*found.signature, out);
  return ColumnarResponse(*found.signature, out);
}

}  // namespace

absl::StatusOr<FoundSignature> RequestSignature(const LoadedVersion& version, const json& request,
                                                absl::string_view method) {
  if (!request.is_object()) {
    return absl::InvalidArgumentError("the request must be a JSON object");
  }
  std::string name;
  if (request.contains("signature_name")) {
    if (!request["signature_name"].is_string()) {
      return absl::InvalidArgumentError("'signature_name' must be a string");
    }
    name = request["signature_name"].get<std::string>();
  }
  return FindSignature(version, name, method);
}

absl::StatusOr<std::string> Predict(const LoadedVersion& version, const json& request) {
  ASSIGN_OR_RETURN(FoundSignature found, RequestSignature(version, request, kPredictMethodName));
  const Signature* sig = found.signature;
  const bool row = request.contains("instances");
  if (row == request.contains("inputs")) {
    return absl::InvalidArgumentError(
        row ? "the request has both 'instances' and 'inputs'; send one"
            : "the request needs 'instances' (row format) or 'inputs' (columnar format)");
  }
  ASSIGN_OR_RETURN(NamedValues values, row ? RowInputs(*sig, request["instances"])
                                           : ColumnarInputs(*sig, request["inputs"]));
  std::map<std::string, Tensor> inputs;
  for (const auto& [alias, value] : values.values) {
    ASSIGN_OR_RETURN(Tensor t, TensorFromJson(*value, sig->inputs.at(alias).dtype,
                                              absl::StrCat("input '", alias, "'")));
    inputs.emplace(alias, std::move(t));
  }
  return RunAndAnswer(version, found, std::move(inputs), row);
}

absl::StatusOr<std::string> PredictBody(const LoadedVersion& version, std::string_view body,
                                        int64_t max_elements) {
  std::optional<NumericRequest> numeric = ReadNumericRequest(body, max_elements);
  if (numeric.has_value()) {
    absl::StatusOr<FoundSignature> found =
        FindSignature(version, numeric->signature_name, kPredictMethodName);
    if (found.ok() && found->signature->inputs.size() == 1 &&
        found->signature->inputs.begin()->second.dtype == DType::kFloat) {
      std::map<std::string, Tensor> inputs;
      inputs.emplace(found->signature->inputs.begin()->first, std::move(numeric->values));
      return RunAndAnswer(version, *found, std::move(inputs), numeric->row_format);
    }
  }
  ASSIGN_OR_RETURN(nlohmann::json request, ParseRequestJson(body));
  return Predict(version, request);
}

}  // namespace braid::serving
