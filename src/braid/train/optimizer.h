// Optimizers build the ops that update trainable variables from gradients:
//   Adam opt(ConstantLearningRate(1e-3));
//   Node* train = *opt.Minimize(root, loss);   // AddGradients + apply ops + step += 1
// Updates run on each variable's device (Apply* ops colocate with the
// variable); slot variables (moments, accumulators) live beside it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/graph/ops/state_ops.h"
#include "braid/graph/scope.h"
#include "braid/train/learning_rate.h"

namespace braid {

// The int64 scalar variable "global_step", created on first use.
Variable GetOrCreateGlobalStep(const Scope& scope);

// Every trainable variable of the graph (from the "trainable_variables"
// collection), with the first read of each as its value.
std::vector<Variable> TrainableVariables(const Graph& graph);

using GradAndVar = std::pair<Output, Variable>;

// Scales gradients so that their joint L2 norm is at most `clip_norm`:
// g * clip_norm / max(global_norm, clip_norm). Returns the clipped gradients
// and the norm before clipping.
std::pair<std::vector<Output>, Output> ClipByGlobalNorm(const Scope& scope,
                                                        const std::vector<Output>& grads,
                                                        float clip_norm);

class Optimizer {
 public:
  explicit Optimizer(LearningRate lr, std::string name)
      : lr_(std::move(lr)), name_(std::move(name)) {}
  virtual ~Optimizer() = default;

  // Gradients of `loss` with respect to every read of each variable (summed),
  // skipping variables the loss does not depend on. Empty `var_list` means all
  // trainable variables. Fails when no variable gets a gradient.
  absl::StatusOr<std::vector<GradAndVar>> ComputeGradients(const Scope& scope, Output loss,
                                                           std::vector<Variable> var_list = {});
  // One op that applies every update, then increments the global step.
  absl::StatusOr<Node*> ApplyGradients(const Scope& scope,
                                       const std::vector<GradAndVar>& grads_and_vars);
  // ComputeGradients + (optional clipping by global norm) + ApplyGradients.
  absl::StatusOr<Node*> Minimize(const Scope& scope, Output loss,
                                 std::vector<Variable> var_list = {});

  // Clip gradients by global norm in Minimize (0: no clipping).
  void set_clip_norm(float clip_norm) { clip_norm_ = clip_norm; }
  const std::string& name() const { return name_; }
  // The learning rate the last ApplyGradients used (float scalar; for
  // summaries), or an invalid Output before.
  Output learning_rate_tensor() const { return learning_rate_tensor_; }

 protected:
  // The update op of one variable. `lr` is the float scalar learning rate,
  // `step` the int64 global step before this update.
  virtual Node* ApplyDense(const Scope& scope, Output grad, const Variable& var, Output lr,
                           Output step) = 0;
  // A slot variable beside `var` ("dense/kernel/Adam_m"), zeros by default.
  Variable Slot(const Scope& scope, const Variable& var, const std::string& slot_name,
                const Initializer& init = Initializer::Zeros());

 private:
  LearningRate lr_;
  Output learning_rate_tensor_;
  std::string name_;
  float clip_norm_ = 0;
};

class GradientDescentOptimizer : public Optimizer {
 public:
  explicit GradientDescentOptimizer(LearningRate lr) : Optimizer(std::move(lr), "SGD") {}

 protected:
  Node* ApplyDense(const Scope&, Output grad, const Variable& var, Output lr, Output) override;
};

class MomentumOptimizer : public Optimizer {
 public:
  MomentumOptimizer(LearningRate lr, float momentum, bool use_nesterov = false)
      : Optimizer(std::move(lr), "Momentum"), momentum_(momentum), nesterov_(use_nesterov) {}

 protected:
  Node* ApplyDense(const Scope&, Output grad, const Variable& var, Output lr, Output) override;

 private:
  float momentum_;
  bool nesterov_;
};

class AdamOptimizer : public Optimizer {
 public:
  explicit AdamOptimizer(LearningRate lr, float beta1 = 0.9f, float beta2 = 0.999f,
                         float epsilon = 1e-7f)
      : Optimizer(std::move(lr), "Adam"), beta1_(beta1), beta2_(beta2), epsilon_(epsilon) {}

 protected:
  Node* ApplyDense(const Scope&, Output grad, const Variable& var, Output lr, Output step) override;

 private:
  float beta1_, beta2_, epsilon_;
};

class AdagradOptimizer : public Optimizer {
 public:
  explicit AdagradOptimizer(LearningRate lr, float initial_accumulator = 0.1f,
                            float epsilon = 1e-7f)
      : Optimizer(std::move(lr), "Adagrad"), initial_(initial_accumulator), epsilon_(epsilon) {}

 protected:
  Node* ApplyDense(const Scope&, Output grad, const Variable& var, Output lr, Output) override;

 private:
  float initial_, epsilon_;
};

class RMSPropOptimizer : public Optimizer {
 public:
  explicit RMSPropOptimizer(LearningRate lr, float rho = 0.9f, float momentum = 0.f,
                            float epsilon = 1e-7f)
      : Optimizer(std::move(lr), "RMSProp"), rho_(rho), momentum_(momentum), epsilon_(epsilon) {}

 protected:
  Node* ApplyDense(const Scope&, Output grad, const Variable& var, Output lr, Output) override;

 private:
  float rho_, momentum_, epsilon_;
};

}  // namespace braid
