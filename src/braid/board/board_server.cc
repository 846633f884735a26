#include "braid/board/board_server.h"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "braid/board/web_assets.h"
#include "nlohmann/json.hpp"

namespace braid::board {
namespace {

std::string JsonError(const std::string& message) {
  return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

// Threads serving connections; see Route.
constexpr size_t kHttpThreads = 64;

// Why `host:port` cannot be bound, found by trying it as httplib does.
std::string BindFailure(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return absl::StrCat("'", host, "' is not a host name or address (", gai_strerror(rc), ")");
  }
  std::string why = "unknown error";
  for (addrinfo* a = found; a; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) {
      why = errno == EADDRINUSE ? "the port is already in use (another braid board or "
                                  "TensorBoard?); pick another with --port"
                                : std::strerror(errno);
    }
    close(fd);
  }
  freeaddrinfo(found);
  return why;
}

// A file name safe inside a Content-Disposition header.
std::string SafeFileName(std::string name) {
  for (char& c : name) {
    if (c == '"' || c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
  }
  return name;
}

}  // namespace

BoardServer::BoardServer(const BoardOptions& options, Env* env)
    : options_(options),
      store_(options.limits),
      watcher_(env, options.logdir, &store_,
               WatcherOptions{.reload_interval = options.reload_interval,
                              .threads = options.load_threads}),
      api_(&store_, [this] { watcher_.RequestReload(); }),
      http_(std::make_unique<httplib::Server>()) {}

BoardServer::~BoardServer() { Stop(); }

absl::StatusOr<std::unique_ptr<BoardServer>> BoardServer::Start(const BoardOptions& options,
                                                                Env* env) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (options.logdir.empty()) return absl::InvalidArgumentError("--logdir is required");
  if (!fs::exists(options.logdir, ec)) {
    return absl::NotFoundError(absl::StrCat("the logdir '", options.logdir,
                                            "' does not exist (point --logdir at the directory "
                                            "given to `braid train --logdir`)"));
  }
  if (!fs::is_directory(options.logdir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("the logdir '", options.logdir, "' is a file, not a directory"));
  }
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", options.port, " is not in 0..65535"));
  }
  std::unique_ptr<BoardServer> server(new BoardServer(options, env));
  server->Route();
  if (options.port == 0) {
    server->port_ = server->http_->bind_to_any_port(options.host);
    if (server->port_ < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on '", options.host, "': ", BindFailure(options.host, 0)));
    }
  } else {
    if (!server->http_->bind_to_port(options.host, options.port)) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", options.host, ":",
                                                 options.port, ": ",
                                                 BindFailure(options.host, options.port)));
    }
    server->port_ = options.port;
  }
  server->watcher_.Start();
  server->listener_ = std::thread([s = server.get()] {
    s->http_->listen_after_bind();
    s->listener_done_ = true;
  });
  // Until the listener runs, httplib's stop() would do nothing and Stop()
  // would wait for it forever.
  while (!server->http_->is_running() && !server->listener_done_) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  return server;
}

std::string BoardServer::url() const {
  const bool v6 = options_.host.find(':') != std::string::npos;
  return absl::StrCat("http://", v6 ? "[" : "", options_.host, v6 ? "]" : "", ":", port_, "/");
}

void BoardServer::Route() {
  auto data = [this](const httplib::Request& req, httplib::Response& res) {
    ApiResponse r = api_.Handle(req.path, req.params);
    res.status = r.status;
    res.set_header("Cache-Control", "no-store");
    if (!r.download_name.empty()) {
      res.set_header("Content-Disposition",
                     absl::StrCat("attachment; filename=\"", SafeFileName(r.download_name), "\""));
    }
    res.set_content(std::move(r.body), r.content_type.c_str());
  };
  http_->Get("/data/.*", data);
  http_->Post("/data/.*", data);
  for (const WebAsset& asset : WebAssets()) {
    http_->Get(asset.path, [&asset](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-cache");
      res.set_content(asset.body, asset.content_type.c_str());
    });
  }
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.body.empty()) {
      res.set_content(JsonError(absl::StrCat("no such page '", req.path, "'")), kJsonContentType);
    }
  });
  http_->set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr e) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          what = ex.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(JsonError(absl::StrCat("internal error serving '", req.path, "': ", what)),
                        kJsonContentType);
      });
  // A browser page polls over a few connections; keep them open. Without
  // TCP_NODELAY a response written as headers then body waits for the
  // client's delayed ACK (~40 ms) on a kept-alive connection.
  http_->set_keep_alive_max_count(100000);
  http_->set_tcp_nodelay(true);
  // Each open connection holds one of httplib's threads while it waits for
  // its next request (up to the keep-alive timeout), and a browser opens up to
  // six per page plus speculative ones: with httplib's default of 8 threads a
  // second tab's requests would wait seconds for a thread. (httplib takes
  // ownership of the queue it gets.)
  http_->new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  // httplib's default sets SO_REUSEPORT, which would let a second board
  // share a port in use (each getting half the connections) instead of
  // failing; SO_REUSEADDR alone still allows a restart while old
  // connections linger in TIME_WAIT.
  http_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
}

void BoardServer::Stop() {
  if (http_) http_->stop();
  if (listener_.joinable()) listener_.join();
  watcher_.Stop();
}

}  // namespace braid::board
