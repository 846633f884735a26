#include "braid/serving/rest_api.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "braid/serving/json_tensor.h"
#include "braid/serving/predict.h"

namespace braid::serving {

using ojson = nlohmann::ordered_json;

struct RestApi::Target {
  const ModelManager* model = nullptr;
  std::optional<int64_t> version;
  std::string verb;  // "", "metadata", or after ':' ("predict", ...)
};

namespace {

constexpr absl::string_view kPrefix = "/v1/models/";

struct ParsedPath {
  std::string model;
  std::optional<int64_t> version;
  std::optional<std::string> label;
  std::string suffix;  // "", "/metadata", ":predict", ...
};

absl::StatusOr<ParsedPath> ParsePath(absl::string_view path) {
  auto bad = [&]() {
    return absl::NotFoundError(absl::StrCat(
        "no such endpoint: '", path,
        "'; expected /v1/models/NAME[/versions/N][/metadata|:predict|:classify|:regress]"));
  };
  if (path.substr(0, kPrefix.size()) != kPrefix) return bad();
  absl::string_view rest = path.substr(kPrefix.size());
  ParsedPath p;
  size_t end = rest.find_first_of("/:");
  p.model = std::string(rest.substr(0, end));
  if (p.model.empty()) return bad();
  rest = end == absl::string_view::npos ? "" : rest.substr(end);
  for (absl::string_view kind : {absl::string_view("/versions/"), absl::string_view("/labels/")}) {
    if (rest.substr(0, kind.size()) != kind) continue;
    rest = rest.substr(kind.size());
    end = rest.find_first_of("/:");
    std::string value(rest.substr(0, end));
    rest = end == absl::string_view::npos ? "" : rest.substr(end);
    if (kind == "/labels/") {
      if (value.empty()) return bad();
      p.label = value;
    } else {
      if (value.empty() || value.size() > 18 ||
          value.find_first_not_of("0123456789") != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("version '", value, "' in '", path, "' is not a number"));
      }
      p.version = std::stoll(value);
    }
    break;
  }
  p.suffix = std::string(rest);
  return p;
}

std::string StatusJson(const std::vector<VersionStatus>& statuses) {
  ojson list = ojson::array();
  for (const VersionStatus& s : statuses) {
    list.push_back(ojson{{"version", std::to_string(s.version)},
                         {"state", VersionStateName(s.state)},
                         {"status",
                          {{"error_code", absl::StatusCodeToString(s.status.code())},
                           {"error_message", std::string(s.status.message())}}}});
  }
  return ojson{{"model_version_status", list}}.dump();
}

}  // namespace

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

RestResponse ErrorResponse(const absl::Status& status) {
  return {HttpStatusOf(status), ojson{{"error", std::string(status.message())}}.dump(
                                    -1, ' ', false, ojson::error_handler_t::replace)};
}

RestResponse RestApi::Handle(absl::string_view method, absl::string_view path,
                             absl::string_view body) const {
  absl::StatusOr<ParsedPath> parsed = ParsePath(path);
  if (!parsed.ok()) return ErrorResponse(parsed.status());
  auto it = models_.find(parsed->model);
  if (it == models_.end()) {
    std::vector<std::string> names;
    for (const auto& [name, m] : models_) names.push_back(name);
    return ErrorResponse(absl::NotFoundError(
        absl::StrCat("model '", parsed->model,
                     "' is not served here (models: ", absl::StrJoin(names, ", "), ")")));
  }
  if (parsed->label) {
    return ErrorResponse(absl::NotFoundError(
        absl::StrCat("model '", parsed->model, "' has no version label '", *parsed->label, "'")));
  }
  Target t{it->second, parsed->version, ""};
  const std::string& suffix = parsed->suffix;
  absl::StatusOr<std::string> result;
  if (method == "GET" && suffix.empty()) {
    result = Status(t);
  } else if (method == "GET" && suffix == "/metadata") {
    result = Metadata(t);
  } else if (method == "POST" && suffix == ":predict") {
    result = Predict(t, body);
  } else if (method == "POST" && (suffix == ":classify" || suffix == ":regress")) {
    result = absl::UnimplementedError(
        absl::StrCat(suffix.substr(1), " is not implemented yet; use :predict"));
  } else {
    result = absl::NotFoundError(absl::StrCat("no endpoint for ", method, " ", path));
  }
  if (!result.ok()) return ErrorResponse(result.status());
  return {200, *std::move(result)};
}

absl::StatusOr<std::string> RestApi::Status(const Target& t) const {
  std::vector<VersionStatus> statuses = t.model->Statuses();
  if (t.version) {
    std::vector<VersionStatus> one;
    for (const VersionStatus& s : statuses)
      if (s.version == *t.version) one.push_back(s);
    if (one.empty()) {
      return absl::NotFoundError(
          absl::StrCat("model '", t.model->config().name, "' has no version ", *t.version));
    }
    return StatusJson(one);
  }
  if (statuses.empty()) {
    return absl::NotFoundError(absl::StrCat("Could not find any versions of model '",
                                            t.model->config().name, "' under '",
                                            t.model->config().base_path, "'"));
  }
  return StatusJson(statuses);
}

absl::StatusOr<std::string> RestApi::Metadata(const Target& t) const {
  ASSIGN_OR_RETURN(std::shared_ptr<const LoadedVersion> v, t.model->Get(t.version));
  ojson out = {{"model_spec",
                {{"name", t.model->config().name},
                 {"signature_name", ""},
                 {"version", std::to_string(v->version)}}},
               {"metadata", {{"signature_def", SignatureDefMapJson(v->signatures)}}}};
  return out.dump();
}

absl::StatusOr<std::string> RestApi::Predict(const Target& t, absl::string_view body) const {
  ASSIGN_OR_RETURN(nlohmann::json request,
                   ParseRequestJson(std::string_view(body.data(), body.size())));
  ASSIGN_OR_RETURN(std::shared_ptr<const LoadedVersion> v, t.model->Get(t.version));
  return serving::Predict(*v, request);
}

bool RestApi::Ready() const {
  for (const auto& [name, m] : models_)
    if (!m->HasAvailable()) return false;
  return true;
}

}  // namespace braid::serving
