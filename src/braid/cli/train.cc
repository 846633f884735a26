// braid train: trains a model spec on Fashion-MNIST or TFRecord data, with
// checkpoints that resume automatically, and reports test metrics.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "braid/base/env.h"
#include "braid/base/status_macros.h"
#include "braid/cli/cluster_task.h"
#include "braid/cli/commands.h"
#include "braid/cli/export_model.h"
#include "braid/cli/progress.h"
#include "braid/cli/train_data.h"
#include "braid/cli/train_summaries.h"
#include "braid/layers/model_spec.h"
#include "braid/train/bounded_staleness.h"
#include "braid/train/monitored_session.h"
#include "braid/train/saver.h"
#include "braid/train/session_hooks.h"
#include "braid/train/sync_replicas.h"
#include "nlohmann/json.hpp"

namespace braid::cli {
namespace {

namespace fs = std::filesystem;

// How long a worker waits for the chief to initialize or restore the model.
constexpr double kWaitForChiefSeconds = 300;

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
  bool fuse_ops = true;
  bool op_stats = false;
  std::string checkpoint_dir;
  int64_t save_checkpoints_steps = 500;
  int keep_checkpoints = 5;
  std::string metrics_json;
  ClusterFlags cluster;
  bool sync_replicas = false;
  int replicas_to_aggregate = 0;
  int test_slow_replica = -1;
  int test_step_delay_ms = 0;
  int test_kill_in_checkpoint = 0;
  double save_checkpoints_secs = 0;
  int64_t max_steps = 0;
  int64_t log_step_count_steps = 100;
  int recovery_timeout_s = 300;
  std::optional<int> max_staleness;
  std::string logdir;
  int64_t summary_steps = 100;
  std::string export_dir;
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

// Watches the bounded-staleness gate: the most steps this worker was let go
// on ahead of the slowest (as the gate saw it), and, measured apart from the
// gate through the global step, the most steps it was ahead of the mean of
// the others when a step began.
class StalenessHook : public SessionRunHook {
 public:
  StalenessHook(std::string lead, std::string global_step, int num_workers)
      : lead_(std::move(lead)), global_step_(std::move(global_step)), num_workers_(num_workers) {}
  std::vector<std::string> BeforeRun() override { return {lead_, global_step_}; }
  absl::Status AfterRun(const std::vector<Tensor>& values, SessionRunContext*) override {
    max_lead_ = std::max(max_lead_, values[0].data<int64_t>()[0]);
    // The step read the global step before its own update: every step of the
    // others so far, and this worker's earlier ones.
    const double others = static_cast<double>(values[1].data<int64_t>()[0] - steps_);
    if (num_workers_ > 1) {
      max_ahead_ = std::max(max_ahead_, static_cast<double>(steps_) - others / (num_workers_ - 1));
    }
    ++steps_;
    return absl::OkStatus();
  }
  nlohmann::json Report() const {
    return {{"max_lead", max_lead_}, {"max_steps_ahead_of_others_mean", max_ahead_}};
  }

 private:
  const std::string lead_, global_step_;
  const int num_workers_;
  int64_t steps_ = 0, max_lead_ = 0;
  double max_ahead_ = 0;
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
  if (task && f.op_stats) {
    return absl::InvalidArgumentError(
        "--op_stats profiles local training; in a cluster the kernels run in the tasks' servers");
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
  compile.session.fuse_ops = f.fuse_ops;
  OpStats op_stats;
  if (f.op_stats) compile.session.op_stats = &op_stats;
  // The model runs in a monitored session: `prepare` (below) makes its
  // variables ready, hooks watch the steps, and a lost task is recovered from.
  MonitoredSession* monitored = nullptr;
  std::function<absl::Status()> prepare;
  compile.make_session = [&](std::shared_ptr<Graph> g) -> absl::StatusOr<std::unique_ptr<Session>> {
    MonitoredSessionOptions mo;
    if (worker) {
      // Variables are placed on the ps tasks once, at the first creation.
      mo.create = [&worker, g, placed = false]() mutable {
        const bool place = !placed;
        placed = true;
        return worker->MakeSession(g, place);
      };
    } else {
      mo.create = [g, options = compile.session] { return NewSession(options, g); };
    }
    mo.prepare = [&prepare] { return prepare ? prepare() : absl::OkStatus(); };
    mo.recovery_timeout = absl::Seconds(f.recovery_timeout_s);
    ASSIGN_OR_RETURN(std::unique_ptr<MonitoredSession> session,
                     MonitoredSession::Create(std::move(mo)));
    monitored = session.get();
    return std::unique_ptr<Session>(std::move(session));
  };
  compile.init = layers::CompileOptions::Init::kCaller;
  std::optional<BoundedStalenessOps> gate;
  if (f.max_staleness) {
    if (!worker || task->cluster.NumTasks("ps") == 0) {
      return absl::InvalidArgumentError(
          "--max_staleness needs a cluster with a ps task (--cluster_spec, TF_CONFIG or "
          "--cluster_resolver)");
    }
    if (f.sync_replicas) {
      return absl::InvalidArgumentError(
          "--max_staleness and --sync_replicas exclude each other: synchronous training "
          "never runs ahead");
    }
    compile.minimize = [&](const Scope& s, Optimizer* opt, Output loss) -> absl::StatusOr<Node*> {
      ASSIGN_OR_RETURN(Node * step, opt->Minimize(s, loss));
      BoundedStalenessOptions o;
      o.num_replicas = num_shards;
      o.replica_index = shard;
      o.max_staleness = *f.max_staleness;
      o.timeout_ms = f.cluster.operation_timeout_ms * 3 / 4;
      o.device = "/job:ps/task:0";
      ASSIGN_OR_RETURN(gate, BuildBoundedStaleness(s, step, o));
      return gate->train_op;
    };
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

  // Checkpoints are the chief's duty in a cluster.
  std::unique_ptr<Saver> saver;
  if (!f.checkpoint_dir.empty() && chief) {
    SaverOptions so;
    so.max_to_keep = f.keep_checkpoints;
    if (f.test_kill_in_checkpoint > 0) {
      so.before_commit = [n = 0, kill_at = f.test_kill_in_checkpoint]() mutable {
        if (++n < kill_at) return;
        std::printf("testing: killed while writing checkpoint %d\n", n);
        std::fflush(stdout);
        std::raise(SIGKILL);
      };
    }
    ASSIGN_OR_RETURN(saver, Saver::Create(model->scope(), {}, so));
  }
  // Ready variables, at the start and after a lost task: the chief restores
  // the newest checkpoint or initializes them, unless they live on already
  // (a restarted chief goes on from the ps); other workers wait for it.
  std::vector<int64_t> restored_steps;
  prepare = [&]() -> absl::Status {
    if (chief) {
      ASSIGN_OR_RETURN(bool ready, model->VariablesInitialized());
      if (ready) return absl::OkStatus();
      std::optional<std::string> latest;
      if (saver) {
        ASSIGN_OR_RETURN(latest, Saver::LatestCheckpoint(f.checkpoint_dir));
      }
      if (latest) {
        RETURN_IF_ERROR(saver->Restore(model->session(), *latest));
        // As the checkpoint holds it: other workers may be stepping already.
        int64_t step = 0;
        RETURN_IF_ERROR(Saver::ListVariables(*latest, &step).status());
        restored_steps.push_back(step);
        std::printf("resumed from %s (global step %lld)\n", latest->c_str(),
                    static_cast<long long>(step));
        std::fflush(stdout);
      } else {
        RETURN_IF_ERROR(model->InitializeVariables());
      }
    } else {
      RETURN_IF_ERROR(model->WaitUntilVariablesInitialized(kWaitForChiefSeconds));
    }
    if (sync) {
      std::vector<Tensor> ignored;
      RETURN_IF_ERROR(model->session()->Run({}, {}, {sync->local_init_op->name()}, &ignored));
    }
    return absl::OkStatus();
  };

  // Hooks: every worker stops on a diverged loss and at --max_steps; the
  // chief checkpoints, counts steps and writes the summaries.
  const std::string global_step = model->global_step().name();
  monitored->set_train_op(model->train_op()->name());
  monitored->AddHook(std::make_unique<NanLossHook>(model->train_loss().name()));
  if (f.max_steps > 0)
    monitored->AddHook(std::make_unique<StopAtStepHook>(global_step, f.max_steps));
  CheckpointSaverHook* checkpoints = nullptr;
  if (saver) {
    CheckpointSaverHook::Options co;
    co.dir = f.checkpoint_dir;
    co.every_steps = f.save_checkpoints_secs > 0 ? 0 : f.save_checkpoints_steps;
    co.every_seconds = f.save_checkpoints_secs;
    auto hook = std::make_unique<CheckpointSaverHook>(saver.get(), global_step, co);
    checkpoints = hook.get();
    monitored->AddHook(std::move(hook));
  }
  StalenessHook* staleness = nullptr;
  if (gate) {
    auto hook = std::make_unique<StalenessHook>(gate->lead.name(), global_step, num_shards);
    staleness = hook.get();
    monitored->AddHook(std::move(hook));
  }
  if (f.log_step_count_steps > 0) {
    monitored->AddHook(std::make_unique<LoggingHook>(
        std::vector<std::pair<std::string, std::string>>{{"loss", model->train_loss().name()}},
        f.log_step_count_steps));
    if (chief) {
      monitored->AddHook(
          std::make_unique<StepCounterHook>(global_step, f.log_step_count_steps, f.batch_size));
    }
  }
  // TensorBoard summaries: the chief's (only it sees the whole training).
  std::unique_ptr<summary::SummaryWriter> summaries, eval_summaries;
  if (!f.logdir.empty() && chief) {
    ASSIGN_OR_RETURN(std::string merged, AddTrainingSummaries(model.get()));
    ASSIGN_OR_RETURN(summaries, summary::SummaryWriter::Create(f.logdir));
    RETURN_IF_ERROR(summaries->Graph(*model->scope().graph()));
    monitored->AddHook(std::make_unique<SummarySaverHook>(summaries.get(), merged, global_step,
                                                          f.summary_steps, f.batch_size));
  }
  // Test metrics go to <logdir>/eval, at the global step they were taken.
  auto write_test_summaries = [&](int64_t step, const layers::Metrics& test) -> absl::Status {
    if (summaries == nullptr) return absl::OkStatus();
    if (eval_summaries == nullptr) {
      ASSIGN_OR_RETURN(eval_summaries,
                       summary::SummaryWriter::Create((fs::path(f.logdir) / "eval").string()));
    }
    RETURN_IF_ERROR(eval_summaries->Scalar("loss", step, test.loss));
    RETURN_IF_ERROR(eval_summaries->Scalar("accuracy", step, test.accuracy));
    return eval_summaries->Flush();
  };
  RETURN_IF_ERROR(monitored->Prepare());
  // Without a cluster, a restored run goes on from its step; in a cluster a
  // worker's own progress is not in the checkpoint, and every worker trains
  // its shard from the start again.
  const int64_t start_step = !worker && !restored_steps.empty() ? restored_steps.back() : 0;

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

  op_stats.Clear();  // of the initialization: the table is the training's
  auto start = std::chrono::steady_clock::now();
  int64_t steps = 0, examples = 0, epoch_examples = 0;
  layers::FitOptions fit;
  fit.epochs = f.epochs;
  fit.initial_epoch =
      static_cast<int>(std::min(start_step / steps_per_epoch, static_cast<int64_t>(f.epochs)));
  fit.initial_step = start_step % steps_per_epoch;
  fit.on_step = [&](const layers::StepLog& log) {
    ++steps;
    epoch_examples = log.examples;
    if (shard == f.test_slow_replica && f.test_step_delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(f.test_step_delay_ms));
    }
    progress.Step(log.epoch, log.step, log.loss, log.accuracy, log.examples, log.seconds);
    return absl::OkStatus();
  };
  fit.should_stop = [&] { return monitored->ShouldStop(); };
  std::optional<layers::Metrics> last_test;  // the test metrics after the last epoch
  double eval_seconds = 0;  // inside the training's wall time, not training
  fit.on_epoch = [&](const layers::StepLog& log, const layers::Metrics* val) {
    examples += log.examples;
    epoch_examples = 0;
    if (val != nullptr) {
      last_test = *val;
      eval_seconds += val->seconds;
      RETURN_IF_ERROR(write_test_summaries(log.global_step, *val));
    }
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
  if (gate) {
    // The others must not wait for this worker any more. (One that failed
    // is waited for until the gate's timeout names it, or it comes back.)
    std::vector<Tensor> ignored;
    RETURN_IF_ERROR(model->session()->Run({}, {}, {gate->finish_op->name()}, &ignored));
  }
  examples += epoch_examples;  // of an epoch that a hook ended early
  if (worker && chief) RETURN_IF_ERROR(worker->WaitForOtherWorkers(absl::Hours(1)));
  if (worker && !chief) data.test = nullptr;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Training throughput, as the examples/s of TensorFlow's step counter: the
  // test set's evaluation after each epoch is not training.
  const double train_seconds = wall - eval_seconds;
  if (f.op_stats) {
    std::printf("where the training's %.1f s went (%.1f s of it evaluating after each epoch), "
                "by kernel (--op_stats):\n%s",
                wall, eval_seconds, op_stats.Table(25).c_str());
  }

  nlohmann::json metrics = {{"model", spec.name},
                            {"epochs", f.epochs},
                            {"steps", steps},
                            {"train_examples", examples},
                            {"wall_time_seconds", wall},
                            {"evaluation_seconds", eval_seconds},
                            {"examples_per_second",
                             train_seconds > 0 ? examples / train_seconds : 0.0}};
  ASSIGN_OR_RETURN(int64_t final_step, model->GlobalStep());
  metrics["global_step"] = final_step;
  if (sync && chief) {
    std::vector<Tensor> dropped;
    RETURN_IF_ERROR(model->session()->Run({}, {sync->dropped.name()}, {}, &dropped));
    const int64_t n = dropped[0].data<int64_t>()[0];
    metrics["dropped_gradients"] = n;
    std::printf("synchronous training: %lld aggregated steps, %lld stale gradients dropped\n",
                static_cast<long long>(final_step), static_cast<long long>(n));
  }
  // The hooks' end: a last checkpoint.
  RETURN_IF_ERROR(monitored->End());
  if (checkpoints && checkpoints->last_saved_step()) {
    metrics["last_checkpoint_step"] = *checkpoints->last_saved_step();
  }
  metrics["recoveries"] = monitored->recoveries();
  if (staleness) metrics["staleness"] = staleness->Report();
  metrics["restored_global_steps"] = restored_steps;
  if (data.test != nullptr) {
    // Evaluated after the last epoch already, unless no epoch ran (a resumed
    // run that had finished).
    if (!last_test) {
      ASSIGN_OR_RETURN(last_test, model->Evaluate(data.test));
      RETURN_IF_ERROR(write_test_summaries(final_step, *last_test));
    }
    const layers::Metrics& test = *last_test;
    metrics["test_accuracy"] = test.accuracy;
    metrics["test_loss"] = test.loss;
    metrics["test_examples"] = test.examples;
    std::printf("test accuracy %.4f, test loss %.4f (%lld examples)\n", test.accuracy, test.loss,
                static_cast<long long>(test.examples));
  }
  if (!f.export_dir.empty() && chief) {
    // For braid serve: BASE/<global step>, complete or not at all.
    RETURN_IF_ERROR(ExportSequential(model.get(), f.export_dir, final_step));
    std::printf(
        "exported the model to %s/%lld; to serve it: braid serve --model_name %s "
        "--model_base_path %s\n",
        f.export_dir.c_str(), static_cast<long long>(final_step), spec.name.c_str(),
        f.export_dir.c_str());
    metrics["export_version"] = final_step;
  }
  if (!f.metrics_json.empty()) RETURN_IF_ERROR(WriteMetrics(f.metrics_json, metrics));
  if (summaries) {
    RETURN_IF_ERROR(summaries->Close());
    std::printf("summaries in %s; to see them: braid board --logdir %s\n", f.logdir.c_str(),
                f.logdir.c_str());
  }
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
  cmd->add_option("--fuse_ops", flags->fuse_ops,
                  "run Conv2D/MatMul + BiasAdd [+ Relu] as one fused kernel (false: every op "
                  "as built, for comparisons; a cluster always fuses)")
      ->capture_default_str();
  cmd->add_flag("--op_stats", flags->op_stats,
                "time every kernel and print, after training, where the training's time went, "
                "by op type and first input's shape (profiling; local training only)");
  cmd->add_option("--checkpoint_dir", flags->checkpoint_dir,
                  "save checkpoints here, and resume from the latest one found there");
  cmd->add_option("--save_checkpoints_steps", flags->save_checkpoints_steps,
                  "steps between checkpoints")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--save_checkpoints_secs", flags->save_checkpoints_secs,
                  "seconds between checkpoints (instead of --save_checkpoints_steps)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max_steps", flags->max_steps,
                  "stop once the global step reaches this (0: train all --epochs)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--log_step_count_steps", flags->log_step_count_steps,
                  "every N steps print the loss (each worker) and global steps/s and examples/s "
                  "(the chief); 0: never")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--recovery_timeout_s", flags->recovery_timeout_s,
                  "in a cluster: how long a worker waits for a lost task (a ps or the chief) to "
                  "come back before it gives up; the chief restores the newest checkpoint onto a "
                  "restarted ps")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--keep_checkpoints", flags->keep_checkpoints, "newest checkpoints to keep")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--logdir", flags->logdir,
                  "write TensorBoard summaries here (the chief, in a cluster): loss, accuracy, "
                  "learning rate, examples/s, weight histograms and the graph; test metrics in "
                  "DIR/eval. View them with `braid board --logdir DIR` (or TensorBoard)");
  cmd->add_option("--summary_steps", flags->summary_steps,
                  "global steps between summaries (with --logdir)")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--export_dir", flags->export_dir,
                  "after training, export the model for `braid serve` to BASE/<global step> "
                  "(the chief, in a cluster)");
  cmd->add_option("--metrics_json", flags->metrics_json,
                  "write final test accuracy and loss, training examples/s (the test set's "
                  "evaluation after each epoch excluded), steps, wall time and evaluation time "
                  "here");
  AddClusterFlags(cmd, &flags->cluster);
  cmd->add_flag("--sync_replicas", flags->sync_replicas,
                "synchronous training in a cluster: each step averages the gradients of "
                "--replicas_to_aggregate workers on the ps and applies them once");
  cmd->add_option("--max_staleness", flags->max_staleness,
                  "bounded staleness in a cluster: a worker may run at most this many steps "
                  "ahead of the slowest one still training (0: lock-step; unset: fully "
                  "asynchronous)")
      ->check(CLI::Range(0, 1 << 20));
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
  cmd->add_option("--test_kill_in_checkpoint", flags->test_kill_in_checkpoint,
                  "testing: the chief kills itself (SIGKILL) while writing its Nth checkpoint, "
                  "after the shards and before the commit")
      ->check(CLI::Range(0, 1 << 20));
  cmd->callback([flags] {
    absl::Status s = RunTrain(*flags);
    if (!s.ok()) throw CLI::RuntimeError(Fail("train", std::string(s.message())));
  });
}

}  // namespace braid::cli
