#include "braid/serving/rest_server.h"

#include <httplib.h>

#include <sys/socket.h>

#include <chrono>
#include <limits>

#include "absl/strings/str_cat.h"
#include "braid/serving/metrics.h"

namespace braid::serving {
namespace {

constexpr char kJson[] = "application/json";

void Reply(const RestResponse& r, httplib::Response& res) {
  res.status = r.status;
  res.set_content(r.body, kJson);
}

}  // namespace

RestServer::RestServer(const RestApi* api, RestServerOptions options)
    : api_(api), options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {}

RestServer::~RestServer() { Stop(); }

void RestServer::Route() {
  httplib::Server& s = *server_;
  auto handle = [this](const httplib::Request& req, const std::string& body,
                       httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    RestResponse r = api_->Handle(req.method, req.path, body);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (options_.timeout_ms > 0 && elapsed > std::chrono::milliseconds(options_.timeout_ms)) {
      r = ErrorResponse(absl::DeadlineExceededError(absl::StrCat(
          "the request took longer than --rest_api_timeout_in_ms=", options_.timeout_ms)));
    }
    Reply(r, res);
  };
  s.Get(R"(/v1/.*)", [handle](const httplib::Request& req, httplib::Response& res) {
    handle(req, req.body, res);
  });
  // Bodies are read by the handler itself: httplib's own reading refuses
  // form-urlencoded bodies over 8 KiB, and `curl -d` (TF Serving's documented
  // way to call it) sends JSON with exactly that content type.
  s.Post(R"(/v1/.*)", [handle](const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader& read) {
    if (req.is_multipart_form_data()) {
      Reply(ErrorResponse(absl::InvalidArgumentError(
                "the request body must be JSON, not multipart/form-data")),
            res);
      return;
    }
    std::string body;
    if (!read([&body](const char* data, size_t n) {
          body.append(data, n);
          return true;
        })) {
      return;  // httplib answers (413 past the size limit, 400 otherwise)
    }
    handle(req, body, res);
  });
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}", kJson);
  });
  s.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    if (api_->Ready()) {
      res.set_content("{\"status\":\"ready\"}", kJson);
    } else {
      Reply(ErrorResponse(absl::UnavailableError("not every model has an available version")), res);
    }
  });
  s.Get("/monitoring/prometheus/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(Metrics().Render(), "text/plain; version=0.0.4");
  });
  // Errors httplib produces itself (no route, oversized body) get JSON too.
  s.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    absl::Status error;
    if (res.status == 413) {
      error = absl::InvalidArgumentError(absl::StrCat(
          "the request body is larger than the limit of ", options_.max_body_bytes, " bytes"));
    } else if (res.status == 404) {
      error = absl::NotFoundError(absl::StrCat("no endpoint for ", req.method, " ", req.path));
    } else {
      error = absl::UnknownError(absl::StrCat("HTTP error ", res.status));
    }
    const int status = res.status;
    Reply(ErrorResponse(error), res);
    res.status = status;
  });
}

absl::Status RestServer::Start() {
  Route();
  httplib::Server& s = *server_;
  s.set_payload_max_length(options_.max_body_bytes);
  // httplib writes headers and body separately: without this, Nagle's
  // algorithm and the client's delayed ACK add ~40 ms to every answer.
  s.set_tcp_nodelay(true);
  // httplib serves each connection on one pool thread until it closes: size
  // the pool for the connections expected, and keep connections open (its
  // default closes one every 5 requests, and reconnecting clients overflow
  // the accept queue; docs/performance.md, "Serving").
  const size_t threads = options_.num_threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_keep_alive_max_count(std::numeric_limits<int>::max());
  s.set_socket_options([this](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd_ = sock;
  });
  if (options_.timeout_ms > 0) {
    const time_t sec = options_.timeout_ms / 1000;
    const time_t usec = (options_.timeout_ms % 1000) * 1000;
    s.set_read_timeout(sec, usec);
    s.set_write_timeout(sec, usec);
  }
  if (options_.port == 0) {
    port_ = s.bind_to_any_port(options_.host);
  } else {
    port_ = s.bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.host, ":", options_.port, " (in use?)"));
  }
  // The installed httplib listens with a backlog of 5; many clients
  // connecting at once would overflow it.
  if (listen_fd_ >= 0) ::listen(listen_fd_, SOMAXCONN);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return absl::OkStatus();
}

void RestServer::Stop() {
  if (!thread_.joinable()) return;
  // httplib closes the listening socket, then its pool finishes the tasks
  // it holds before listen_after_bind returns.
  server_->stop();
  thread_.join();
}

}  // namespace braid::serving
