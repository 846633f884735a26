#include "braid/train/optimizer.h"

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/graph/gradients.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/training_ops.h"

namespace braid {
namespace {

// The reads of a variable: ReadVariableOp nodes consuming its handle.
std::vector<Output> ReadsOf(const Variable& var) {
  std::vector<Output> reads;
  for (const InEdge& e : var.handle.node->out_edges(var.handle.index))
    if (e.dst->op() == "ReadVariableOp") reads.push_back(e.dst->output(0));
  return reads;
}

Variable FromHandle(Node* handle) {
  Variable v;
  v.handle = handle->output(0);
  std::vector<Output> reads = ReadsOf(v);
  if (!reads.empty()) v.value = reads.front();
  return v;
}

}  // namespace

Variable GetOrCreateGlobalStep(const Scope& scope) {
  const auto& existing = scope.graph()->collection("global_step");
  if (!existing.empty()) return FromHandle(existing.front());
  Variable step = ops::MakeVariable(scope, "global_step", TensorShape{}, DType::kInt64,
                                    Initializer::Zeros(), /*trainable=*/false);
  if (step.valid()) scope.graph()->AddToCollection("global_step", step.handle.node);
  return step;
}

std::vector<Variable> TrainableVariables(const Graph& graph) {
  std::vector<Variable> vars;
  for (Node* handle : graph.collection("trainable_variables")) vars.push_back(FromHandle(handle));
  return vars;
}

std::pair<std::vector<Output>, Output> ClipByGlobalNorm(const Scope& scope,
                                                        const std::vector<Output>& grads,
                                                        float clip_norm) {
  Scope s = scope.NewSubScope("clip_by_global_norm");
  std::vector<Output> squares;
  for (const Output& g : grads) {
    Output flat = s.AddOp("Reshape", {s.AddOp("Square", {g}), Input({-1})});
    squares.push_back(s.AddOp("Sum", {flat, Input(0)}));
  }
  Output norm = s.AddOp("Sqrt", {squares.size() == 1 ? squares[0] : ops::AddN(s, squares)});
  Output scale = s.AddOp("Div", {clip_norm, s.AddOp("Maximum", {norm, clip_norm})});
  std::vector<Output> clipped;
  for (const Output& g : grads) clipped.push_back(s.AddOp("Mul", {g, scale}));
  return {clipped, norm};
}

absl::StatusOr<std::vector<GradAndVar>> Optimizer::ComputeGradients(const Scope& scope, Output loss,
                                                                    std::vector<Variable> vars) {
  RETURN_IF_ERROR(scope.status());
  if (!loss.valid()) return absl::InvalidArgumentError("the loss is invalid");
  if (vars.empty()) vars = TrainableVariables(*scope.graph());
  if (vars.empty()) return absl::InvalidArgumentError("there are no trainable variables");
  std::vector<Output> xs;
  std::vector<size_t> owner;
  for (size_t i = 0; i < vars.size(); ++i) {
    for (const Output& r : ReadsOf(vars[i])) {
      xs.push_back(r);
      owner.push_back(i);
    }
  }
  std::vector<Output> grads;
  RETURN_IF_ERROR(AddGradients(scope, {loss}, xs, {}, &grads));
  std::vector<std::vector<Output>> per_var(vars.size());
  for (size_t k = 0; k < xs.size(); ++k)
    if (grads[k].valid()) per_var[owner[k]].push_back(grads[k]);
  std::vector<GradAndVar> result;
  for (size_t i = 0; i < vars.size(); ++i) {
    if (per_var[i].empty()) continue;
    Output g = per_var[i].size() == 1 ? per_var[i][0] : ops::AddN(scope, per_var[i]);
    result.emplace_back(g, vars[i]);
  }
  if (result.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the loss ", loss.name(), " depends on none of the ", vars.size(), " variables"));
  }
  RETURN_IF_ERROR(scope.status());
  return result;
}

absl::StatusOr<Node*> Optimizer::ApplyGradients(const Scope& scope,
                                                const std::vector<GradAndVar>& grads_and_vars) {
  RETURN_IF_ERROR(scope.status());
  Variable step = GetOrCreateGlobalStep(scope);
  Scope s = scope.NewSubScope(name_);
  Output lr = lr_(s.NewSubScope("learning_rate"), step.value);
  learning_rate_tensor_ = lr;
  std::vector<Node*> updates;
  for (const auto& [grad, var] : grads_and_vars) {
    // The update runs where the variable lives.
    Scope vs = s.ColocateWith(var.handle).WithDevice(var.handle.node->requested_device());
    Node* u =
        ApplyDense(vs.WithOpName("update_" + var.handle.node->name()), grad, var, lr, step.value);
    if (u != nullptr) updates.push_back(u);
  }
  RETURN_IF_ERROR(s.status());
  Node* inc = ops::AssignAddVariableOp(
      scope.WithControlDependencies(updates).ColocateWith(step.handle).WithOpName(name_),
      step.handle, Input(int64_t{1}));
  RETURN_IF_ERROR(scope.status());
  return inc;
}

absl::StatusOr<Node*> Optimizer::Minimize(const Scope& scope, Output loss,
                                          std::vector<Variable> var_list) {
  ASSIGN_OR_RETURN(std::vector<GradAndVar> gv, ComputeGradients(scope, loss, var_list));
  if (clip_norm_ > 0) {
    std::vector<Output> grads;
    for (const auto& p : gv) grads.push_back(p.first);
    auto [clipped, norm] = ClipByGlobalNorm(scope, grads, clip_norm_);
    for (size_t i = 0; i < gv.size(); ++i) gv[i].first = clipped[i];
  }
  return ApplyGradients(scope, gv);
}

Variable Optimizer::Slot(const Scope& scope, const Variable& var, const std::string& slot_name,
                         const Initializer& init) {
  Scope under = scope.NewSubScopeUnder(var.handle.node)
                    .ColocateWith(var.handle)
                    .WithDevice(var.handle.node->requested_device());
  return ops::MakeVariable(under, slot_name, var.value.shape(), var.value.dtype(), init,
                           /*trainable=*/false);
}

Node* GradientDescentOptimizer::ApplyDense(const Scope& s, Output grad, const Variable& var,
                                           Output lr, Output) {
  return ops::ResourceApplyGradientDescent(s, var.handle, lr, grad);
}

Node* MomentumOptimizer::ApplyDense(const Scope& s, Output grad, const Variable& var, Output lr,
                                    Output) {
  Variable accum = Slot(s, var, "Momentum");
  return ops::ResourceApplyMomentum(s, var.handle, accum.handle, lr, grad, momentum_, nesterov_);
}

Node* AdamOptimizer::ApplyDense(const Scope& s, Output grad, const Variable& var, Output lr,
                                Output step) {
  Variable m = Slot(s, var, "Adam_m");
  Variable v = Slot(s, var, "Adam_v");
  // Bias correction uses t = step + 1, the number of this update.
  Output t =
      s.AddOp("Cast", {s.AddOp("Add", {step, Input(int64_t{1})})}, {{"DstT", DType::kFloat}});
  Output b1p = s.AddOp("Pow", {beta1_, t});
  Output b2p = s.AddOp("Pow", {beta2_, t});
  return ops::ResourceApplyAdam(s, var.handle, m.handle, v.handle, b1p, b2p, lr, beta1_, beta2_,
                                epsilon_, grad);
}

Node* AdagradOptimizer::ApplyDense(const Scope& s, Output grad, const Variable& var, Output lr,
                                   Output) {
  Variable accum = Slot(s, var, "Adagrad", Initializer::Constant(initial_));
  return ops::ResourceApplyAdagrad(s, var.handle, accum.handle, lr, epsilon_, grad);
}

Node* RMSPropOptimizer::ApplyDense(const Scope& s, Output grad, const Variable& var, Output lr,
                                   Output) {
  Variable ms = Slot(s, var, "RMSProp_ms");
  Variable mom = Slot(s, var, "RMSProp_mom");
  return ops::ResourceApplyRMSProp(s, var.handle, ms.handle, mom.handle, lr, rho_, momentum_,
                                   epsilon_, grad);
}

}  // namespace braid
