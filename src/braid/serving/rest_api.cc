#include "braid/serving/rest_api.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "absl/time/clock.h"
#include "braid/serving/classify_regress_json.h"
#include "braid/serving/json_tensor.h"
#include "braid/serving/metrics.h"
#include "braid/serving/predict.h"

namespace braid::serving {

using ojson = nlohmann::ordered_json;

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
  const int64_t start = absl::GetCurrentTimeNanos();
  absl::StatusOr<ParsedPath> parsed = ParsePath(path);
  if (!parsed.ok()) return ErrorResponse(parsed.status());
  const ModelSpec spec{parsed->model, parsed->version, parsed->label};
  const std::string& suffix = parsed->suffix;
  std::string api;
  Reached reached;
  absl::StatusOr<std::string> result;
  if (method == "GET" && suffix.empty()) {
    api = "status";
    result = Status(spec);
  } else if (method == "GET" && suffix == "/metadata") {
    api = "metadata";
    result = Metadata(spec, &reached);
  } else if (method == "POST" &&
             (suffix == ":predict" || suffix == ":classify" || suffix == ":regress")) {
    api = suffix.substr(1);
    result = Infer(api, spec, body, &reached);
  } else {
    result = absl::NotFoundError(absl::StrCat("no endpoint for ", method, " ", path));
  }
  if (!api.empty()) {
    const std::string version = reached ? std::to_string(reached->version) : "";
    Metrics().request_count.Increment(
        {spec.name, version, api, "REST",
         result.ok() ? "OK" : absl::StatusCodeToString(result.status().code())});
    Metrics().request_latency.Observe({spec.name, version, api, "REST"},
                                      (absl::GetCurrentTimeNanos() - start) / 1000.0);
  }
  if (!result.ok()) return ErrorResponse(result.status());
  return {200, *std::move(result)};
}

absl::StatusOr<std::string> RestApi::Status(const ModelSpec& spec) const {
  ASSIGN_OR_RETURN(std::vector<VersionStatus> statuses, core_->Statuses(spec));
  return StatusJson(statuses);
}

absl::StatusOr<std::string> RestApi::Metadata(const ModelSpec& spec, Reached* reached) const {
  ASSIGN_OR_RETURN(*reached, core_->Get(spec));
  ojson out = {{"model_spec",
                {{"name", spec.name},
                 {"signature_name", ""},
                 {"version", std::to_string((*reached)->version)}}},
               {"metadata", {{"signature_def", SignatureDefMapJson((*reached)->signatures)}}}};
  return out.dump();
}

absl::StatusOr<std::string> RestApi::Infer(const std::string& api, const ModelSpec& spec,
                                           absl::string_view body, Reached* reached) const {
  ASSIGN_OR_RETURN(*reached, core_->Get(spec));
  const std::string_view text(body.data(), body.size());
  if (api == "predict") return PredictBody(**reached, text, max_tensor_elements_);
  ASSIGN_OR_RETURN(nlohmann::json request, ParseRequestJson(text));
  return ClassifyOrRegressJson(**reached, api == "classify", request, max_tensor_elements_);
}

}  // namespace braid::serving
