// TF Serving's REST API, independent of the HTTP library: a method, a path
// and a body in, a status code and a JSON body out.
//
//   GET  /v1/models/{m}[/versions/{v}|/labels/{l}]            model status
//   GET  /v1/models/{m}[/versions/{v}|/labels/{l}]/metadata   signatures
//   POST /v1/models/{m}[/versions/{v}|/labels/{l}]:predict    row or columnar
//   POST /v1/models/{m}[...]:classify, :regress                tf.Examples
//
// Errors are {"error": "..."} with TF Serving's mapping of status codes to
// HTTP (HttpStatusOf).
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "braid/serving/inference.h"
#include "braid/serving/server_core.h"

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
  // The core is not owned and must outlive the api.
  explicit RestApi(const ServerCore* core, int64_t max_tensor_elements = kDefaultMaxTensorElements)
      : core_(core), max_tensor_elements_(max_tensor_elements) {}

  // Thread-safe. Counts the request in Metrics().
  RestResponse Handle(absl::string_view method, absl::string_view path,
                      absl::string_view body) const;
  // Whether every model has an available version (/readyz).
  bool Ready() const { return core_->Ready(); }

 private:
  // The loaded version a request reached, for its metric labels.
  using Reached = std::shared_ptr<const LoadedVersion>;
  absl::StatusOr<std::string> Status(const ModelSpec& spec) const;
  absl::StatusOr<std::string> Metadata(const ModelSpec& spec, Reached* reached) const;
  absl::StatusOr<std::string> Infer(const std::string& api, const ModelSpec& spec,
                                    absl::string_view body, Reached* reached) const;

  const ServerCore* core_;
  const int64_t max_tensor_elements_;
};

}  // namespace braid::serving
