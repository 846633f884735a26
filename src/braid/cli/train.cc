// braid train: trains a model spec on Fashion-MNIST or TFRecord data, with
// checkpoints that resume automatically, and reports test metrics.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "braid/base/env.h"
#include "braid/base/status_macros.h"
#include "braid/cli/cluster_task.h"
#include "braid/cli/commands.h"
#include "braid/cli/progress.h"
#include "braid/cli/train_data.h"
#include "braid/layers/model_spec.h"
#include "braid/train/saver.h"
#include "braid/train/sync_replicas.h"
#include "nlohmann/json.hpp"

namespace braid::cli {
namespace {

struct TrainFlags {
  std::string model = "mlp";
  std::string data = "fashion_mnist";
  std::string test_data;
  std::string data_dir = kFashionMnistDir;
  std::string compression;
  int epochs = 1;
  int batch_size = 128;
  std::string optimizer;
  double learning_rate = 0;
  int64_t seed = 1;
  int inter_op_threads = 0;
  int intra_op_threads = 0;
  std::string checkpoint_dir;
  int64_t save_checkpoints_steps = 500;
  int keep_checkpoints = 5;
  std::string metrics_json;
  ClusterFlags cluster;
  bool sync_replicas = false;
  int replicas_to_aggregate = 0;
  int test_slow_replica = -1;
  int test_step_delay_ms = 0;
};

absl::Status WriteMetrics(const std::string& path, const nlohmann::json& metrics) {
  return Env::Default()->WriteFileAtomically(path, metrics.dump(2) + "\n");
}

// The chief's loop of synchronous updates, beside its own training: each run
// waits for enough workers' gradients and applies their mean once.
class SyncUpdates {
 public:
  ~SyncUpdates() { Stop().IgnoreError(); }
  void Start(Session* session, std::string update_op) {
    thread_ = std::thread([this, session, update_op] {
      while (true) {
        std::vector<Tensor> ignored;
        absl::Status s = session->Run({}, {}, {update_op}, &ignored);
        if (absl::IsCancelled(s)) return;  // closed: the training is over
        if (!s.ok()) {
          error_ = s;
          return;
        }
      }
    });
  }
  // REQUIRES: the sync barrier was closed (or the loop failed).
  absl::Status Stop() {
    if (thread_.joinable()) thread_.join();
    return error_;
  }

 private:
  std::thread thread_;
  absl::Status error_;  // written by the thread before it ends
};

// Which part of the data a worker of a cluster trains on: every worker and
// the chief take one shard each (the chief shard 0).
std::pair<int, int> DataShard(const distributed::TaskConfig& task) {
  const int chiefs = task.cluster.NumTasks("chief");
  const int shards = chiefs + task.cluster.NumTasks("worker");
  return {shards, task.job == "chief" ? 0 : chiefs + task.index};
}

absl::Status RunTrain(const TrainFlags& f) {
  ASSIGN_OR_RETURN(std::optional<distributed::TaskConfig> task, ResolveTask(f.cluster));
  distributed::ServerOptions server_options;
  server_options.inter_op_threads = f.inter_op_threads;
  server_options.intra_op_threads = f.intra_op_threads;
  server_options.operation_timeout = absl::Milliseconds(f.cluster.operation_timeout_ms);
  if (task && task->job == "ps") {
    // A ps holds variables for the workers and exits once they are all done.
    return ServeTask(*task, server_options, /*until_training_ends=*/true);
  }
  if (task && task->job != "worker" && task->job != "chief") {
    return absl::InvalidArgumentError(
        absl::StrCat("braid train runs as a ps, worker or chief task, not as '", task->job, "'"));
  }
  std::unique_ptr<ClusterWorker> worker;
  int num_shards = 1, shard = 0;
  if (task) {
    ASSIGN_OR_RETURN(worker, ClusterWorker::Start(*task, server_options, f.cluster.ps_strategy));
    std::tie(num_shards, shard) = DataShard(*task);
  }
  // Whoever ends, the ps tasks must hear of it, or they would wait forever.
  struct DoneReporter {
    ClusterWorker* worker;
    ~DoneReporter() {
      if (worker) worker->ReportDone();
    }
  } done_reporter{worker.get()};
  const bool chief = !task || task->IsChief();

  ASSIGN_OR_RETURN(layers::ModelSpec spec, layers::LoadModelSpec(f.model));
  if (!f.optimizer.empty()) spec.optimizer = {{"type", f.optimizer}};
  if (f.learning_rate > 0) spec.optimizer["learning_rate"] = f.learning_rate;
  ASSIGN_OR_RETURN(
      TrainData data,
      LoadTrainData(f.data, f.test_data, f.data_dir, f.compression, spec.input_shape, f.batch_size,
                    static_cast<uint64_t>(f.seed + shard), num_shards, shard));
  const int64_t steps_per_epoch = (data.train_examples + f.batch_size - 1) / f.batch_size;
  // The global step counts every worker's steps: schedules span them all.
  ASSIGN_OR_RETURN(std::unique_ptr<Optimizer> optimizer,
                   layers::MakeOptimizer(spec.optimizer, steps_per_epoch * f.epochs * num_shards));
  ASSIGN_OR_RETURN(std::unique_ptr<layers::Sequential> model, layers::BuildModel(spec));
  model->scope().graph()->set_seed(f.seed);
  layers::CompileOptions compile;
  compile.loss = spec.loss;
  compile.session.inter_op_threads = f.inter_op_threads;
  compile.session.intra_op_threads = f.intra_op_threads;
  if (worker) {
    compile.make_session = [&](std::shared_ptr<Graph> g) { return worker->MakeSession(g); };
    // The chief initializes below (or restores a checkpoint), unless the
    // variables survived on the ps (a restarted chief goes on from them).
    compile.init =
        chief ? layers::CompileOptions::Init::kCaller : layers::CompileOptions::Init::kWaitForChief;
  }
  std::optional<SyncReplicasOps> sync;
  if (f.sync_replicas) {
    if (!worker) {
      return absl::InvalidArgumentError(
          "--sync_replicas needs a cluster (--cluster_spec, TF_CONFIG or --cluster_resolver)");
    }
    if (f.replicas_to_aggregate > num_shards) {
      return absl::InvalidArgumentError(absl::StrCat("--replicas_to_aggregate ",
                                                     f.replicas_to_aggregate, " is more than the ",
                                                     num_shards, " workers of the cluster"));
    }
    compile.minimize = [&](const Scope& s, Optimizer* opt, Output loss) -> absl::StatusOr<Node*> {
      SyncReplicasOptions o;
      o.total_num_replicas = num_shards;
      o.replicas_to_aggregate = f.replicas_to_aggregate;
      o.replica_index = shard;
      o.local_device = absl::StrCat("/job:", task->job, "/task:", task->index);
      // Below the RPC deadline, so the error that names the missing worker
      // is the one that surfaces.
      o.timeout_ms = f.cluster.operation_timeout_ms * 3 / 4;
      ASSIGN_OR_RETURN(sync, BuildSyncReplicas(s, opt, loss, o));
      return sync->train_op;
    };
  }
  RETURN_IF_ERROR(model->Compile(spec.input_shape, std::move(optimizer), compile));
  if (sync) {
    std::vector<Tensor> ignored;
    RETURN_IF_ERROR(model->session()->Run({}, {}, {sync->local_init_op->name()}, &ignored));
  }

  // Checkpoints (the chief's duty in a cluster): resume from the newest one,
  // save every N steps and at the end.
  std::unique_ptr<Saver> saver;
  int64_t start_step = 0;
  if (!f.checkpoint_dir.empty() && chief) {
    SaverOptions so;
    so.max_to_keep = f.keep_checkpoints;
    ASSIGN_OR_RETURN(saver, Saver::Create(model->scope(), {}, so));
    ASSIGN_OR_RETURN(std::optional<std::string> latest, Saver::LatestCheckpoint(f.checkpoint_dir));
    bool restore = latest.has_value();
    if (worker) {
      // In a cluster the ps may still hold newer values than the checkpoint.
      ASSIGN_OR_RETURN(bool ready, model->VariablesInitialized());
      restore = restore && !ready;
    }
    if (restore) {
      RETURN_IF_ERROR(saver->Restore(model->session(), *latest));
      ASSIGN_OR_RETURN(int64_t restored_step, model->GlobalStep());
      // A worker's own progress is not in the checkpoint: in a cluster every
      // worker trains its shard from the start again.
      if (!worker) start_step = restored_step;
      std::printf("resumed from %s (global step %lld)\n", latest->c_str(),
                  static_cast<long long>(restored_step));
    }
  }
  if (worker && chief) {
    ASSIGN_OR_RETURN(bool ready, model->VariablesInitialized());
    if (!ready) RETURN_IF_ERROR(model->InitializeVariables());
  }
  int64_t last_saved_step = start_step;
  auto save = [&](int64_t global_step) -> absl::Status {
    if (saver == nullptr) return absl::OkStatus();
    last_saved_step = global_step;
    return saver->Save(model->session(), f.checkpoint_dir, global_step).status();
  };

  const int64_t total_steps = steps_per_epoch * f.epochs;
  if (start_step >= total_steps) {
    std::printf("the checkpoint is at step %lld of %lld: nothing left to train\n",
                static_cast<long long>(start_step), static_cast<long long>(total_steps));
  }
  const bool interactive = isatty(STDOUT_FILENO);
  std::printf("training %s on %s: %lld examples per epoch, batch %d, %d epochs\n",
              spec.name.c_str(), data.description.c_str(),
              static_cast<long long>(data.train_examples), f.batch_size, f.epochs);
  if (task) {
    std::printf("as task /job:%s/task:%d of the cluster, data shard %d of %d, %s\n",
                task->job.c_str(), task->index, shard + 1, num_shards,
                sync ? "synchronous" : "asynchronous");
  }
  Progress progress(interactive, f.epochs, steps_per_epoch);

  auto start = std::chrono::steady_clock::now();
  int64_t steps = 0, examples = 0;
  layers::FitOptions fit;
  fit.epochs = f.epochs;
  fit.initial_epoch =
      static_cast<int>(std::min(start_step / steps_per_epoch, static_cast<int64_t>(f.epochs)));
  fit.initial_step = start_step % steps_per_epoch;
  fit.on_step = [&](const layers::StepLog& log) {
    ++steps;
    if (shard == f.test_slow_replica && f.test_step_delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(f.test_step_delay_ms));
    }
    progress.Step(log.epoch, log.step, log.loss, log.accuracy, log.examples, log.seconds);
    // ">=", not "%": other workers advance the global step too.
    if (log.global_step - last_saved_step >= f.save_checkpoints_steps) return save(log.global_step);
    return absl::OkStatus();
  };
  std::optional<layers::Metrics> last_test;  // the test metrics after the last epoch
  fit.on_epoch = [&](const layers::StepLog& log, const layers::Metrics* val) {
    examples += log.examples;
    if (val != nullptr) last_test = *val;
    std::string extra;
    if (val != nullptr) {
      extra = absl::StrFormat(", test loss %.4f, test accuracy %.4f", val->loss, val->accuracy);
    }
    progress.EpochEnd(log.epoch, log.step, log.loss, log.accuracy, log.examples, log.seconds,
                      extra);
    return absl::OkStatus();
  };
  // In a cluster only the chief evaluates, once every worker is done.
  if (!worker) fit.validation = data.test;
  SyncUpdates updates;
  if (sync && chief) updates.Start(model->session(), sync->chief_update_op->name());
  absl::Status trained = model->Fit(data.train, fit);
  if (sync && !chief && absl::IsOutOfRange(trained)) {
    std::printf("%s\n", std::string(trained.message()).c_str());  // the chief ended it
    trained = absl::OkStatus();
  }
  if (sync && chief) {
    // End the training for every worker, then the update loop; an error of
    // the loop (a worker missing) explains a failed step best.
    std::vector<Tensor> ignored;
    absl::Status closed = model->session()->Run({}, {}, {sync->close_op->name()}, &ignored);
    absl::Status loop = updates.Stop();
    RETURN_IF_ERROR(loop);
    RETURN_IF_ERROR(trained);
    RETURN_IF_ERROR(closed);
  }
  RETURN_IF_ERROR(trained);
  if (worker && chief) RETURN_IF_ERROR(worker->WaitForOtherWorkers(absl::Hours(1)));
  if (worker && !chief) data.test = nullptr;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  nlohmann::json metrics = {{"model", spec.name},
                            {"epochs", f.epochs},
                            {"steps", steps},
                            {"train_examples", examples},
                            {"wall_time_seconds", wall},
                            {"examples_per_second", wall > 0 ? examples / wall : 0.0}};
  ASSIGN_OR_RETURN(int64_t global_step, model->GlobalStep());
  metrics["global_step"] = global_step;
  if (sync && chief) {
    std::vector<Tensor> dropped;
    RETURN_IF_ERROR(model->session()->Run({}, {sync->dropped.name()}, {}, &dropped));
    const int64_t n = dropped[0].data<int64_t>()[0];
    metrics["dropped_gradients"] = n;
    std::printf("synchronous training: %lld aggregated steps, %lld stale gradients dropped\n",
                static_cast<long long>(global_step), static_cast<long long>(n));
  }
  if (global_step != last_saved_step && global_step > start_step) {
    RETURN_IF_ERROR(save(global_step));
  }
  if (data.test != nullptr) {
    // Evaluated after the last epoch already, unless no epoch ran (a resumed
    // run that had finished).
    if (!last_test) {
      ASSIGN_OR_RETURN(last_test, model->Evaluate(data.test));
    }
    const layers::Metrics& test = *last_test;
    metrics["test_accuracy"] = test.accuracy;
    metrics["test_loss"] = test.loss;
    metrics["test_examples"] = test.examples;
    std::printf("test accuracy %.4f, test loss %.4f (%lld examples)\n", test.accuracy, test.loss,
                static_cast<long long>(test.examples));
  }
  if (!f.metrics_json.empty()) RETURN_IF_ERROR(WriteMetrics(f.metrics_json, metrics));
  return absl::OkStatus();
}

}  // namespace

void RegisterTrain(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  CLI::App* cmd = app.add_subcommand("train", "train a model on Fashion-MNIST or TFRecord data");
  cmd->add_option("--model", flags->model,
                  "model: preset 'mlp' or 'cnn', or the path of a JSON model spec")
      ->capture_default_str();
  cmd->add_option("--data", flags->data,
                  "training data: 'fashion_mnist' or comma-separated TFRecord files of "
                  "tf.Example with an 'image' (float list or raw uint8 bytes) and an int64 "
                  "'label' feature")
      ->capture_default_str();
  cmd->add_option("--test_data", flags->test_data,
                  "test data for TFRecord training (same format); Fashion-MNIST uses its test set");
  cmd->add_option("--data_dir", flags->data_dir, "where the Fashion-MNIST IDX files are")
      ->capture_default_str();
  cmd->add_option("--compression", flags->compression,
                  "TFRecord compression: NONE, GZIP or ZLIB (default: GZIP for *.gz, else NONE)")
      ->check(CLI::IsMember({"NONE", "GZIP", "ZLIB"}));
  cmd->add_option("--epochs", flags->epochs, "passes over the training data")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--batch_size", flags->batch_size, "examples per step")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--optimizer", flags->optimizer,
                  "override the spec's optimizer: sgd, momentum, adam, adagrad, rmsprop")
      ->check(CLI::IsMember({"sgd", "momentum", "adam", "adagrad", "rmsprop"}));
  cmd->add_option("--learning_rate", flags->learning_rate, "override the spec's learning rate")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", flags->seed, "seed of initial weights, shuffling and dropout")
      ->capture_default_str();
  AddThreadFlags(cmd, &flags->inter_op_threads, &flags->intra_op_threads);
  cmd->add_option("--checkpoint_dir", flags->checkpoint_dir,
                  "save checkpoints here, and resume from the latest one found there");
  cmd->add_option("--save_checkpoints_steps", flags->save_checkpoints_steps,
                  "steps between checkpoints")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--keep_checkpoints", flags->keep_checkpoints, "newest checkpoints to keep")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--metrics_json", flags->metrics_json,
                  "write final test accuracy and loss, examples/s, steps and wall time here");
  AddClusterFlags(cmd, &flags->cluster);
  cmd->add_flag("--sync_replicas", flags->sync_replicas,
                "synchronous training in a cluster: each step averages the gradients of "
                "--replicas_to_aggregate workers on the ps and applies them once");
  cmd->add_option("--replicas_to_aggregate", flags->replicas_to_aggregate,
                  "with --sync_replicas: gradients averaged per step (0: every worker); fewer "
                  "than the workers makes the slowest ones backups whose late gradients are "
                  "dropped and counted")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--test_slow_replica", flags->test_slow_replica,
                  "testing: the worker (data shard index) that --test_step_delay_ms slows down");
  cmd->add_option("--test_step_delay_ms", flags->test_step_delay_ms,
                  "testing: sleep this long after every step of --test_slow_replica")
      ->check(CLI::Range(0, 600000));
  cmd->callback([flags] {
    absl::Status s = RunTrain(*flags);
    if (!s.ok()) throw CLI::RuntimeError(Fail("train", std::string(s.message())));
  });
}

}  // namespace braid::cli
