// A Sequential model: a stack of layers, compiled into a training graph and
// an inference graph over shared variables, run by one session.
//
//   Sequential model;
//   model.Add(layers::Flatten());
//   model.Add(layers::Dense(10));
//   model.Compile({28, 28, 1}, std::make_unique<AdamOptimizer>(ConstantLearningRate(1e-3)));
//   model.Fit(train_batches, {.epochs = 5});
//   auto metrics = model.Evaluate(test_batches);
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/data/dataset.h"
#include "braid/layers/layer.h"
#include "braid/runtime/session.h"
#include "braid/train/optimizer.h"

namespace braid::layers {

// Losses: "sparse_categorical_crossentropy" (integer labels [batch]) on the
// model's output taken as logits, or as probabilities when the last layer ends
// in a softmax; "mean_squared_error" (float targets shaped like the output).
struct CompileOptions {
  std::string loss = "sparse_categorical_crossentropy";
  SessionOptions session;
  // Creates the session over the finished graph instead of a local one with
  // `session` (a distributed worker passes a MasterSession here, after
  // placing the variables on the ps tasks).
  std::function<absl::StatusOr<std::unique_ptr<Session>>(std::shared_ptr<Graph>)> make_session;
  // Who initializes the variables: this process (kRun), or the caller after
  // Compile (kCaller: a chief that may restore a checkpoint instead, a
  // worker that waits for the chief; see InitializeVariables and
  // WaitUntilVariablesInitialized).
  enum class Init { kRun, kCaller };
  // Builds the training step from the loss instead of optimizer->Minimize
  // (synchronous replicas build theirs with BuildSyncReplicas).
  std::function<absl::StatusOr<Node*>(const Scope&, Optimizer*, Output loss)> minimize;
  Init init = Init::kRun;
};

// Loss and accuracy (for classification losses) over a set of examples.
struct Metrics {
  double loss = 0;
  double accuracy = 0;
  int64_t examples = 0;
  double seconds = 0;  // how long the evaluation took
};

// What Fit reports after each step and epoch.
struct StepLog {
  int epoch = 0;     // 1-based
  int64_t step = 0;  // step within the epoch, 1-based
  int64_t global_step = 0;
  double loss = 0;       // running mean over the epoch so far
  double accuracy = 0;   // running mean over the epoch so far
  int64_t examples = 0;  // examples this epoch so far
  double seconds = 0;    // since the epoch began
};

struct FitOptions {
  int epochs = 1;
  // Epoch counter start (resumed training reports epochs from here).
  int initial_epoch = 0;
  // Batches of the first epoch already trained before a restart: they are
  // read and skipped, so the run ends after the same number of steps.
  int64_t initial_step = 0;
  // Called after every step; a non-OK status stops training with that status.
  std::function<absl::Status(const StepLog&)> on_step;
  // Called after every epoch with the epoch's log and, when a validation set
  // is given, its metrics.
  std::function<absl::Status(const StepLog&, const Metrics* validation)> on_epoch;
  data::DatasetPtr validation;
  // Checked after every step: true ends the training there (a monitored
  // session's hook asked it to stop).
  std::function<bool()> should_stop;
};

class Sequential {
 public:
  explicit Sequential(std::string name = "sequential") : name_(std::move(name)) {}

  // Layers get unique names in order of addition ("dense", "dense_1", ...).
  void Add(std::unique_ptr<Layer> layer);
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }

  // Builds the graphs for inputs of `input_shape` (without the batch
  // dimension) and creates the session. Variables are initialized at once.
  absl::Status Compile(const TensorShape& input_shape, std::unique_ptr<Optimizer> optimizer,
                       const CompileOptions& options = {});

  // Trains on batches (x [batch, ...], y [batch]) from `train`, one pass per
  // epoch.
  absl::Status Fit(data::DatasetPtr train, const FitOptions& options);
  absl::StatusOr<Metrics> Evaluate(data::DatasetPtr batches);
  // The model's output for a batch of inputs.
  absl::StatusOr<Tensor> Predict(const Tensor& x);

  // After Compile: the graph, its session and the training step counter.
  Scope& scope() { return root_; }
  Session* session() { return session_->session(); }
  absl::StatusOr<int64_t> GlobalStep();
  // The training step, its loss (mean over the batch) and the global step
  // as the step reads it: what hooks of a monitored session watch.
  Node* train_op() const { return train_op_; }
  Output train_loss() const { return train_loss_; }
  // The batch's accuracy (classification; else an invalid Output).
  Output train_accuracy() const { return train_accuracy_; }
  // The optimizer's learning rate at the step (float scalar).
  Output learning_rate() const { return optimizer_->learning_rate_tensor(); }
  Output global_step() const { return global_step_.value; }
  // The inference graph (what Predict runs; serving exports it): its input,
  // a float placeholder [-1, input_shape...], and its output (probabilities
  // when the last layer ends in a softmax, else logits or regression values).
  Output inference_input() const { return x_; }
  Output inference_output() const { return eval_output_; }
  bool classification() const { return classification_; }
  // Whether every variable of the model holds a value, and running their
  // initializers (for CompileOptions::Init::kCaller).
  absl::StatusOr<bool> VariablesInitialized();
  absl::Status InitializeVariables();
  // Waits until another process (the chief) has initialized every variable;
  // DeadlineExceeded after `seconds`.
  absl::Status WaitUntilVariablesInitialized(double seconds);
  // Every variable of the model, optimizer slots and global step included.
  std::vector<Node*> AllVariableHandles() const;
  // One line per layer: name, type, output shape, parameters.
  std::string Summary() const;

 private:
  absl::StatusOr<Output> Stack(const Scope& scope, Output x, bool training);
  // Runs one batch through `fetches` (train or eval).
  absl::Status RunBatch(const data::Element& batch, const std::vector<Output>& fetches,
                        const std::vector<Node*>& targets, std::vector<Tensor>* out);

  std::string name_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<std::string> output_shapes_;
  std::unique_ptr<Optimizer> optimizer_;
  bool classification_ = true;
  Scope root_ = Scope::NewRootScope();
  Output x_, y_;
  Output train_loss_, train_correct_, train_accuracy_;
  Output eval_loss_, eval_correct_, eval_output_;
  Node* train_op_ = nullptr;
  Node* init_op_ = nullptr;
  Variable global_step_;
  std::vector<Output> ready_checks_;  // VarIsInitializedOp of every variable
  std::unique_ptr<ClientSession> session_;
};

}  // namespace braid::layers
