// braid serve: a model server speaking TensorFlow Serving's REST API over
// versions exported under a base path (docs/serving.md), until SIGINT or
// SIGTERM.
#include <cstdio>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "braid/base/env.h"
#include "braid/cli/commands.h"
#include "braid/cli/stop_signal.h"
#include "braid/serving/batching_parameters.h"
#include "braid/serving/grpc_api.h"
#include "braid/serving/model_server_config.h"
#include "braid/serving/server_core.h"
#include "braid/serving/rest_server.h"

namespace braid::cli {
namespace {

struct ServeFlags {
  int grpc_port = 8500;
  int rest_api_port = 8501;
  std::string host = "0.0.0.0";
  std::string model_name = "default";
  std::string model_base_path;
  std::string version_policy = "latest";
  std::string model_config_file;
  double model_config_file_poll_wait_seconds = 0;
  double poll_seconds = 1;
  bool enable_batching = false;
  std::string batching_parameters_file;
  int rest_api_timeout_in_ms = 30000;
  int rest_api_num_threads = 64;
  int64_t max_request_bytes = 64 << 20;
  int64_t max_tensor_elements = serving::kDefaultMaxTensorElements;
  // One thread per request: a server's parallelism comes from its concurrent
  // requests (or batch threads); a request that fanned out over the cores
  // would wake idle threads for every op and slow the others down
  // (docs/performance.md, "Serving").
  int inter_op_threads = 1;
  int intra_op_threads = 1;
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

// The model named by --model_name and --model_base_path.
absl::StatusOr<serving::ServedModel> FlagModel(const ServeFlags& f) {
  serving::ServedModel m;
  m.model.name = f.model_name;
  m.model.base_path = f.model_base_path;
  absl::StatusOr<serving::VersionPolicy> policy = ParsePolicy(f.version_policy);
  if (!policy.ok()) return policy.status();
  m.model.policy = *policy;
  return m;
}

// --model_config_file: read at start, then re-read every
// --model_config_file_poll_wait_seconds and applied when its text changed; a
// text that fails to parse or apply is reported and the served set kept.
class ConfigFile {
 public:
  explicit ConfigFile(const ServeFlags& f)
      : path_(f.model_config_file), period_(f.model_config_file_poll_wait_seconds) {}

  // Reads and parses the file, remembering its text.
  absl::StatusOr<std::vector<serving::ServedModel>> Load() {
    absl::StatusOr<std::string> text = Read();
    if (!text.ok()) return text.status();
    text_ = *text;
    return serving::ParseModelConfigFile(path_, *text);
  }

  // Once a period: applies the file when its text changed (an unreadable file
  // is a change too, reported once).
  void MaybeReload(serving::ServerCore* core) {
    if (period_ <= 0) return;
    const absl::Time now = absl::Now();
    if (now < next_) return;
    next_ = now + absl::Seconds(period_);
    absl::StatusOr<std::string> text = Read();
    std::optional<std::string> seen;
    if (text.ok()) seen = *text;
    if (seen == text_) return;
    text_ = seen;
    absl::StatusOr<std::vector<serving::ServedModel>> models =
        text.ok() ? serving::ParseModelConfigFile(path_, *text) : text.status();
    absl::Status s = models.ok() ? core->ApplyConfig(*models) : models.status();
    if (s.ok()) {
      std::fprintf(stderr, "braid serve: applied %s (%zu models)\n", path_.c_str(),
                   models->size());
    } else {
      std::fprintf(stderr, "braid serve: keeping the current models: %s\n",
                   std::string(s.message()).c_str());
    }
  }

 private:
  absl::StatusOr<std::string> Read() const {
    absl::StatusOr<std::string> text = Env::Default()->ReadFile(path_);
    if (!text.ok()) {
      return absl::NotFoundError(absl::StrCat("--model_config_file: ", text.status().message()));
    }
    return text;
  }

  const std::string path_;
  const double period_;
  std::optional<std::string> text_;  // as last read; nullopt: unreadable
  absl::Time next_ = absl::InfinitePast();
};

absl::Status RunServe(const ServeFlags& f) {
  if (f.model_config_file.empty() == f.model_base_path.empty()) {
    return absl::InvalidArgumentError(
        "give either --model_base_path (with --model_name) or --model_config_file");
  }
  ConfigFile config_file(f);
  absl::StatusOr<std::vector<serving::ServedModel>> models;
  if (f.model_config_file.empty()) {
    absl::StatusOr<serving::ServedModel> m = FlagModel(f);
    if (!m.ok()) return m.status();
    models = std::vector<serving::ServedModel>{*m};
  } else {
    models = config_file.Load();
    if (!models.ok()) return models.status();
  }
  serving::ManagerOptions manager_options;
  manager_options.poll_seconds = f.poll_seconds;
  manager_options.session.inter_op_threads = f.inter_op_threads;
  manager_options.session.intra_op_threads = f.intra_op_threads;
  if (f.enable_batching) {
    absl::StatusOr<serving::BatchingOptions> batching =
        serving::ReadBatchingParametersFile(f.batching_parameters_file);
    if (!batching.ok()) return batching.status();
    manager_options.batching = *batching;
  } else if (!f.batching_parameters_file.empty()) {
    return absl::InvalidArgumentError("--batching_parameters_file needs --enable_batching");
  }
  serving::ServerCore core(manager_options);
  if (absl::Status s = core.ApplyConfig(*models); !s.ok()) return s;

  serving::RestApi api(&core, f.max_tensor_elements);
  serving::RestServerOptions rest;
  rest.host = f.host;
  rest.port = f.rest_api_port;
  rest.timeout_ms = f.rest_api_timeout_in_ms;
  rest.max_body_bytes = static_cast<size_t>(f.max_request_bytes);
  rest.num_threads = static_cast<size_t>(f.rest_api_num_threads);
  serving::RestServer rest_server(&api, rest);
  serving::GrpcServer grpc_server(
      &core, {absl::StrCat(f.host, ":", f.grpc_port), f.max_tensor_elements});
  if (absl::Status s = grpc_server.Start(); !s.ok()) return s;
  if (absl::Status s = rest_server.Start(); !s.ok()) return s;
  CatchStopSignals();
  for (const serving::ServedModel& m : *models) {
    std::printf("braid serve: model '%s' from %s\n", m.model.name.c_str(),
                m.model.base_path.c_str());
  }
  std::printf("braid serve: gRPC API at %s:%d; REST API at http://%s:%d/v1/models/%s\n",
              f.host.c_str(), grpc_server.port(), f.host.c_str(), rest_server.port(),
              models->front().model.name.c_str());
  std::fflush(stdout);
  while (StopSignal() == 0) {
    grpc_server.SetServing(core.Ready());
    if (!f.model_config_file.empty()) config_file.MaybeReload(&core);
    absl::SleepFor(absl::Milliseconds(50));
  }
  std::fprintf(stderr, "braid serve: got signal %d; finishing requests in flight\n", StopSignal());
  grpc_server.Stop();
  rest_server.Stop();
  std::fprintf(stderr, "braid serve: stopped\n");
  return absl::OkStatus();
}

}  // namespace

void RegisterServe(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "serve exported models over TensorFlow Serving's gRPC and REST APIs "
      "(braid train --export_dir)");
  cmd->footer(
      "Each numbered directory under a model's base path is a version (written by\n"
      "`braid train --export_dir BASE`); base paths are polled, new versions are loaded\n"
      "and warmed up before the old ones are unloaded, and a version that fails to load is\n"
      "reported in the model status and retried while the old one keeps serving.\n"
      "gRPC (--port): tensorflow.serving.PredictionService (Predict, Classify, Regress,\n"
      "  GetModelMetadata), tensorflow.serving.ModelService (GetModelStatus,\n"
      "  HandleReloadConfigRequest), grpc.health.v1.Health.\n"
      "REST (--rest_api_port), TF Serving's paths and JSON:\n"
      "  GET  /v1/models/NAME[/versions/N|/labels/L]            version status\n"
      "  GET  /v1/models/NAME[/versions/N|/labels/L]/metadata   signatures\n"
      "  POST /v1/models/NAME[...]:predict   {\"instances\": [...]} or {\"inputs\": ...}\n"
      "  POST /v1/models/NAME[...]:classify  {\"examples\": [{\"x\": [...]}]} (also :regress)\n"
      "  GET  /healthz, /readyz       liveness; readiness (every model has a version)\n"
      "  GET  /monitoring/prometheus/metrics\n"
      "Example: braid serve --model_name fmnist --model_base_path /tmp/export\n"
      "  curl -d '{\"instances\": [IMAGE_28x28x1]}' "
      "http://localhost:8501/v1/models/fmnist:predict\n"
      "Stops on SIGINT or SIGTERM after answering the requests in flight (docs/serving.md).");
  cmd->add_option("--model_base_path", flags->model_base_path,
                  "directory whose numbered subdirectories are the model's versions");
  cmd->add_option("--model_name", flags->model_name, "the model's name in request paths")
      ->capture_default_str();
  cmd->add_option("--model_config_file", flags->model_config_file,
                  "serve the models of this ModelServerConfig text file (TF Serving's format: "
                  "model_config_list { config { name base_path model_version_policy "
                  "version_labels } }) instead of --model_base_path");
  cmd->add_option("--model_config_file_poll_wait_seconds",
                  flags->model_config_file_poll_wait_seconds,
                  "re-read --model_config_file this often and apply changes (0: read once)")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--port", flags->grpc_port, "gRPC port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--rest_api_port", flags->rest_api_port,
                  "HTTP port of the REST API (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--host,--rest_api_host", flags->host,
                  "address both APIs listen on (127.0.0.1: this machine only)")
      ->capture_default_str();
  cmd->add_option("--file_system_poll_wait_seconds", flags->poll_seconds,
                  "seconds between scans of the base paths for new and removed versions")
      ->check(CLI::Range(0.01, 86400.0))
      ->capture_default_str();
  cmd->add_option("--version_policy", flags->version_policy,
                  "with --model_base_path, which versions to serve: latest, latest:N (the N "
                  "newest), all, or specific:V1,V2,...")
      ->capture_default_str();
  cmd->add_flag("--enable_batching", flags->enable_batching,
                "merge concurrent requests into batches (dynamic batching)");
  cmd->add_option("--batching_parameters_file", flags->batching_parameters_file,
                  "TF Serving's BatchingParameters text file (max_batch_size, "
                  "batch_timeout_micros, max_enqueued_batches, num_batch_threads, "
                  "allowed_batch_sizes, pad_variable_length_inputs); needs --enable_batching");
  cmd->add_option("--rest_api_timeout_in_ms", flags->rest_api_timeout_in_ms,
                  "a REST request taking longer is answered 504 (0: no limit)")
      ->check(CLI::Range(0, 86400000))
      ->capture_default_str();
  cmd->add_option("--rest_api_num_threads", flags->rest_api_num_threads,
                  "REST connections served at once (one thread each; more wait)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--max_request_bytes", flags->max_request_bytes,
                  "larger REST request bodies are refused with 413")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--max_tensor_elements", flags->max_tensor_elements,
                  "a request tensor with more elements is refused (INVALID_ARGUMENT / 400)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  AddThreadFlags(cmd, &flags->inter_op_threads, &flags->intra_op_threads);
  cmd->callback([flags] {
    absl::Status s = RunServe(*flags);
    if (!s.ok()) throw CLI::RuntimeError(Fail("serve", std::string(s.message())));
  });
}

}  // namespace braid::cli
