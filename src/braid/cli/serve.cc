// braid serve: a model server speaking TensorFlow Serving's REST API over
// versions exported under a base path (docs/serving.md), until SIGINT or
// SIGTERM.
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "braid/cli/commands.h"
#include "braid/cli/stop_signal.h"
#include "braid/serving/server_core.h"
#include "braid/serving/rest_server.h"

namespace braid::cli {
namespace {

struct ServeFlags {
  int grpc_port = 0;
  int rest_api_port = 8501;
  std::string rest_api_host = "0.0.0.0";
  std::string model_name = "default";
  std::string model_base_path;
  std::string version_policy = "latest";
  double poll_seconds = 1;
  int rest_api_timeout_in_ms = 30000;
  int64_t max_request_bytes = 64 << 20;
  int inter_op_threads = 0;
  int intra_op_threads = 0;
};

// "latest", "latest:N", "all", "specific:3,5".
absl::StatusOr<serving::VersionPolicy> ParsePolicy(const std::string& text) {
  serving::VersionPolicy p;
  std::pair<std::string, std::string> kv = absl::StrSplit(text, absl::MaxSplits(':', 1));
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "--version_policy: '", text, "' is not latest, latest:N, all or specific:V1,V2,..."));
  };
  if (kv.first == "latest") {
    p.kind = serving::VersionPolicy::Kind::kLatest;
    if (!kv.second.empty() && (!absl::SimpleAtoi(kv.second, &p.num_latest) || p.num_latest < 1))
      return bad();
  } else if (kv.first == "all" && kv.second.empty()) {
    p.kind = serving::VersionPolicy::Kind::kAll;
  } else if (kv.first == "specific") {
    p.kind = serving::VersionPolicy::Kind::kSpecific;
    for (absl::string_view v : absl::StrSplit(kv.second, ',', absl::SkipWhitespace())) {
      int64_t n = 0;
      if (!absl::SimpleAtoi(v, &n) || n < 1) return bad();
      p.specific.insert(n);
    }
    if (p.specific.empty()) return bad();
  } else {
    return bad();
  }
  return p;
}

absl::Status RunServe(const ServeFlags& f) {
  if (f.grpc_port != 0) {
    return absl::UnimplementedError(
        absl::StrCat("--port ", f.grpc_port,
                     ": the gRPC API is not implemented yet; use the REST API (--rest_api_port)"));
  }
  serving::ModelConfig config;
  config.name = f.model_name;
  config.base_path = f.model_base_path;
  absl::StatusOr<serving::VersionPolicy> policy = ParsePolicy(f.version_policy);
  if (!policy.ok()) return policy.status();
  config.policy = *policy;
  serving::ManagerOptions manager_options;
  manager_options.poll_seconds = f.poll_seconds;
  manager_options.session.inter_op_threads = f.inter_op_threads;
  manager_options.session.intra_op_threads = f.intra_op_threads;
  serving::ServerCore core(manager_options);
  if (absl::Status s = core.ApplyConfig({{config, {}}}); !s.ok()) return s;

  serving::RestApi api(&core);
  serving::RestServerOptions rest;
  rest.host = f.rest_api_host;
  rest.port = f.rest_api_port;
  rest.timeout_ms = f.rest_api_timeout_in_ms;
  rest.max_body_bytes = static_cast<size_t>(f.max_request_bytes);
  serving::RestServer server(&api, rest);
  if (absl::Status s = server.Start(); !s.ok()) return s;
  CatchStopSignals();
  std::printf("braid serve: model '%s' from %s; REST API at http://%s:%d/v1/models/%s\n",
              config.name.c_str(), config.base_path.c_str(), f.rest_api_host.c_str(), server.port(),
              config.name.c_str());
  std::fflush(stdout);
  while (StopSignal() == 0) absl::SleepFor(absl::Milliseconds(50));
  std::fprintf(stderr, "braid serve: got signal %d; finishing requests in flight\n", StopSignal());
  server.Stop();
  std::fprintf(stderr, "braid serve: stopped\n");
  return absl::OkStatus();
}

}  // namespace

void RegisterServe(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "serve exported models over TensorFlow Serving's REST API (braid train --export_dir)");
  cmd->footer(
      "Each numbered directory under --model_base_path is a version (written by\n"
      "`braid train --export_dir BASE`); the base path is polled, new versions are loaded\n"
      "and warmed up before the old ones are unloaded, and a version that fails to load is\n"
      "reported in the model status and retried while the old one keeps serving.\n"
      "Endpoints (TF Serving's paths and JSON):\n"
      "  GET  /v1/models/NAME[/versions/N]            version status\n"
      "  GET  /v1/models/NAME[/versions/N]/metadata   signatures\n"
      "  POST /v1/models/NAME[/versions/N]:predict    {\"instances\": [...]} or {\"inputs\": ...}\n"
      "  GET  /healthz, /readyz                      liveness; readiness (a version is available)\n"
      "Example: braid serve --model_name fmnist --model_base_path /tmp/export\n"
      "  curl -d '{\"instances\": [IMAGE_28x28x1]}' "
      "http://localhost:8501/v1/models/fmnist:predict\n"
      "Stops on SIGINT or SIGTERM after answering the requests in flight (docs/serving.md).");
  cmd->add_option("--model_base_path", flags->model_base_path,
                  "directory whose numbered subdirectories are the model's versions")
      ->required();
  cmd->add_option("--model_name", flags->model_name, "the model's name in request paths")
      ->capture_default_str();
  cmd->add_option("--rest_api_port", flags->rest_api_port,
                  "HTTP port of the REST API (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--rest_api_host", flags->rest_api_host,
                  "address the REST API listens on (127.0.0.1: this machine only)")
      ->capture_default_str();
  cmd->add_option("--port", flags->grpc_port,
                  "gRPC port: the gRPC API is not implemented yet, so only 0 (off) is accepted")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--file_system_poll_wait_seconds", flags->poll_seconds,
                  "seconds between scans of the base path for new and removed versions")
      ->check(CLI::Range(0.01, 86400.0))
      ->capture_default_str();
  cmd->add_option("--version_policy", flags->version_policy,
                  "which versions to serve: latest, latest:N (the N newest), all, or "
                  "specific:V1,V2,...")
      ->capture_default_str();
  cmd->add_option("--rest_api_timeout_in_ms", flags->rest_api_timeout_in_ms,
                  "a REST request taking longer is answered 504 (0: no limit)")
      ->check(CLI::Range(0, 86400000))
      ->capture_default_str();
  cmd->add_option("--max_request_bytes", flags->max_request_bytes,
                  "larger request bodies are refused with 413")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  AddThreadFlags(cmd, &flags->inter_op_threads, &flags->intra_op_threads);
  cmd->callback([flags] {
    absl::Status s = RunServe(*flags);
    if (!s.ok()) throw CLI::RuntimeError(Fail("serve", std::string(s.message())));
  });
}

}  // namespace braid::cli
