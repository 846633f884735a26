#include "braid/serving/classify_regress_json.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/serving/classify_regress.h"
#include "braid/serving/json_tensor.h"
#include "braid/serving/predict.h"

namespace braid::serving {
namespace {

using json = nlohmann::json;

absl::Status AddValue(const json& v, tensorflow::Feature* f, const std::string& what) {
  std::string bytes;
  const bool is_b64 = v.is_object() && v.size() == 1 && v.contains("b64") && v["b64"].is_string();
  if (is_b64 && !absl::Base64Unescape(v["b64"].get<std::string>(), &bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": 'b64' is not valid base64"));
  }
  if (is_b64 || v.is_string()) {
    if (f->kind_case() != tensorflow::Feature::KIND_NOT_SET &&
        f->kind_case() != tensorflow::Feature::kBytesList) {
      return absl::InvalidArgumentError(absl::StrCat(what, " mixes strings and numbers"));
    }
    f->mutable_bytes_list()->add_value(is_b64 ? bytes : v.get<std::string>());
    return absl::OkStatus();
  }
  if (!v.is_number()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " holds ", v.type_name(), "; expected numbers, strings or {\"b64\"}"));
  }
  if (f->kind_case() == tensorflow::Feature::kBytesList) {
    return absl::InvalidArgumentError(absl::StrCat(what, " mixes strings and numbers"));
  }
  if (v.is_number_float() && f->kind_case() == tensorflow::Feature::kInt64List) {
    // An earlier integer turns out to be part of a float list.
    std::vector<int64_t> ints(f->int64_list().value().begin(), f->int64_list().value().end());
    auto* floats = f->mutable_float_list();
    for (int64_t i : ints) floats->add_value(static_cast<float>(i));
  }
  if (v.is_number_float() || f->kind_case() == tensorflow::Feature::kFloatList) {
    f->mutable_float_list()->add_value(v.get<float>());
  } else {
    f->mutable_int64_list()->add_value(v.get<int64_t>());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<tensorflow::Example> ExampleFromJson(const json& object, const std::string& what) {
  if (!object.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be an object of features"));
  }
  tensorflow::Example example;
  auto& features = *example.mutable_features()->mutable_feature();
  for (const auto& [name, value] : object.items()) {
    const std::string where = absl::StrCat("feature '", name, "' of ", what);
    tensorflow::Feature& f = features[name];
    if (value.is_array()) {
      for (const json& v : value) RETURN_IF_ERROR(AddValue(v, &f, where));
    } else {
      RETURN_IF_ERROR(AddValue(value, &f, where));
    }
  }
  return example;
}

absl::StatusOr<std::string> ClassifyOrRegressJson(const LoadedVersion& version, bool classify,
                                                  const json& request, int64_t max_elements) {
  // TF Serving's default for these calls is serving_default too.
  ASSIGN_OR_RETURN(FoundSignature found,
                   RequestSignature(version, request,
                                    classify ? kClassifyMethodName : kRegressMethodName));
  if (!request.contains("examples") || !request["examples"].is_array() ||
      request["examples"].empty()) {
    return absl::InvalidArgumentError("'examples' must be a non-empty list of objects");
  }
  std::vector<tensorflow::Example> examples;
  for (size_t i = 0; i < request["examples"].size(); ++i) {
    ASSIGN_OR_RETURN(tensorflow::Example e,
                     ExampleFromJson(request["examples"][i], absl::StrCat("example ", i)));
    examples.push_back(std::move(e));
  }
  std::optional<tensorflow::Example> context;
  if (request.contains("context")) {
    ASSIGN_OR_RETURN(context, ExampleFromJson(request["context"], "the context"));
  }
  ExamplesInput input;
  for (const auto& e : examples) input.examples.push_back(&e);
  if (context) input.context = &*context;
  std::string body = "{\"results\":";
  if (!classify) {
    ASSIGN_OR_RETURN(std::vector<float> values, Regress(version, found, input, max_elements));
    AppendTensorJson(Tensor::FromVector<float>(values), &body);
    return body + "}";
  }
  ASSIGN_OR_RETURN(Classifications result, Classify(version, found, input, max_elements));
  body += '[';
  for (size_t i = 0; i < result.size(); ++i) {
    if (i > 0) body += ',';
    body += '[';
    for (size_t c = 0; c < result[i].size(); ++c) {
      if (c > 0) body += ',';
      absl::StrAppend(&body, "[", JsonQuote(result[i][c].first), ",");
      AppendTensorJson(Tensor::Scalar<float>(result[i][c].second), &body);
      body += ']';
    }
    body += ']';
  }
  return body + "]}";
}

}  // namespace braid::serving
