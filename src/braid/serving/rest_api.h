// TF Serving's REST API, independent of the HTTP library: a method, a path
// and a body in, a status code and a JSON body out.
//
//   GET  /v1/models/{m}[/versions/{v}]            model status
//   GET  /v1/models/{m}[/versions/{v}]/metadata   signatures
//   POST /v1/models/{m}[/versions/{v}]:predict    row or columnar predict
//
// Errors are {"error": "..."} with TF Serving's mapping of status codes to
// HTTP (HttpStatusOf).
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "braid/serving/model_manager.h"

namespace braid::serving {

struct RestResponse {
  int status = 200;
  std::string body;
};

// 400 InvalidArgument / FailedPrecondition / OutOfRange, 404 NotFound,
// 409 AlreadyExists / Aborted, 429 ResourceExhausted, 499 Cancelled,
// 501 Unimplemented, 503 Unavailable, 504 DeadlineExceeded, 500 otherwise.
int HttpStatusOf(const absl::Status& status);
RestResponse ErrorResponse(const absl::Status& status);

class RestApi {
 public:
  // The managers are not owned and must outlive the api.
  explicit RestApi(std::map<std::string, const ModelManager*> models)
      : models_(std::move(models)) {}

  // Thread-safe.
  RestResponse Handle(absl::string_view method, absl::string_view path,
                      absl::string_view body) const;
  // Whether every model has an available version (/readyz).
  bool Ready() const;

 private:
  struct Target;  // a parsed path
  absl::StatusOr<std::string> Status(const Target& t) const;
  absl::StatusOr<std::string> Metadata(const Target& t) const;
  absl::StatusOr<std::string> Predict(const Target& t, absl::string_view body) const;

  const std::map<std::string, const ModelManager*> models_;
};

}  // namespace braid::serving
