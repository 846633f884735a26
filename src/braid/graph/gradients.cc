#include "braid/graph/gradients.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"

namespace braid {
namespace {

bool Differentiable(DType d) { return IsFloatingDType(d); }

// Sums gradient contributions; one contribution is returned as is.
Output SumContributions(const Scope& scope, const std::vector<Output>& parts) {
  if (parts.size() == 1) return parts[0];
  std::vector<Input> inputs(parts.begin(), parts.end());
  return scope.AddOp("AddN", inputs);
}

Output ZerosLike(const Scope& scope, const Output& x) { return scope.AddOp("ZerosLike", {x}); }
Output OnesLike(const Scope& scope, const Output& x) { return scope.AddOp("OnesLike", {x}); }

}  // namespace

absl::Status AddGradients(const Scope& scope, const std::vector<Output>& ys,
                          const std::vector<Output>& xs, const std::vector<Output>& grad_ys,
                          std::vector<Output>* grad_xs) {
  RETURN_IF_ERROR(scope.status());
  if (!grad_ys.empty() && grad_ys.size() != ys.size()) {
    return absl::InvalidArgumentError(absl::StrCat("AddGradients: ", ys.size(), " ys but ",
                                                   grad_ys.size(), " grad_ys"));
  }
  for (const Output& y : ys)
    if (!y.valid()) return absl::InvalidArgumentError("AddGradients: a y is invalid");
  for (const Output& x : xs)
    if (!x.valid()) return absl::InvalidArgumentError("AddGradients: an x is invalid");
  Graph* g = scope.graph();
  const int n = g->num_nodes();

  // Nodes the ys depend on through differentiable data edges.
  std::vector<bool> reaches_y(n, false);
  {
    std::vector<Node*> stack;
    for (const Output& y : ys) stack.push_back(y.node);
    while (!stack.empty()) {
      Node* node = stack.back();
      stack.pop_back();
      if (reaches_y[node->id()]) continue;
      reaches_y[node->id()] = true;
      if (node->op_def().no_gradient) continue;
      for (const Output& in : node->inputs())
        if (Differentiable(in.dtype())) stack.push_back(in.node);
    }
  }
  // Nodes that depend on the xs.
  std::vector<bool> from_x(n, false);
  {
    std::vector<Node*> stack;
    for (const Output& x : xs) stack.push_back(x.node);
    while (!stack.empty()) {
      Node* node = stack.back();
      stack.pop_back();
      if (from_x[node->id()]) continue;
      from_x[node->id()] = true;
      for (int i = 0; i < node->num_outputs(); ++i)
        for (const InEdge& e : node->out_edges(i)) stack.push_back(e.dst);
    }
  }
  auto relevant = [&](const Node* node) {
    return node->id() < n && reaches_y[node->id()] && from_x[node->id()];
  };

  Scope gs = scope.NewSubScope("gradients");
  absl::flat_hash_map<Output, std::vector<Output>> contributions;
  for (size_t i = 0; i < ys.size(); ++i) {
    Output dy = grad_ys.empty() ? OnesLike(gs, ys[i]) : grad_ys[i];
    contributions[ys[i]].push_back(dy);
  }
  absl::flat_hash_map<Output, bool> is_x;
  for (const Output& x : xs) is_x[x] = true;

  // Node ids are a topological order, so walking them backwards visits every
  // consumer before its producers.
  for (int id = n - 1; id >= 0; --id) {
    Node* node = g->node(id);
    if (!relevant(node)) continue;
    std::vector<Output> dys(node->num_outputs());
    bool any = false;
    for (int k = 0; k < node->num_outputs(); ++k) {
      auto it = contributions.find(Output(node, k));
      if (it == contributions.end()) continue;
      any = true;
      Scope ns = gs.WithDevice(node->requested_device());
      Output sum = SumContributions(ns, it->second);
      it->second = {sum};
      dys[k] = sum;
    }
    if (!any) continue;
    // Stop at the xs' own nodes unless another x lies further up.
    bool upstream_needed = false;
    for (const Output& in : node->inputs())
      if (relevant(in.node) && Differentiable(in.dtype())) upstream_needed = true;
    if (!upstream_needed || node->op_def().no_gradient) continue;
    const OpDef& def = node->op_def();
    if (!def.grad_fn) {
      return absl::InvalidArgumentError(absl::StrCat(
          "no gradient is registered for op ", node->op(), " (node '", node->name(),
          "'), which lies on a path from the xs to the ys; wrap it in StopGradient if none is "
          "wanted"));
    }
    Scope ns = gs.WithDevice(node->requested_device()).NewSubScope(node->name() + "_grad");
    for (int k = 0; k < node->num_outputs(); ++k) {
      if (!dys[k].valid() && Differentiable(node->output_dtype(k))) {
        dys[k] = ZerosLike(ns, node->output(k));
      }
    }
    std::vector<Output> dxs(node->num_inputs());
    RETURN_IF_ERROR(def.grad_fn(ns, *node, dys, &dxs));
    RETURN_IF_ERROR(ns.status());
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Output& in = node->input(i);
      if (!dxs[i].valid() || !relevant(in.node) || !Differentiable(in.dtype())) continue;
      contributions[in].push_back(dxs[i]);
    }
  }
  RETURN_IF_ERROR(gs.status());

  grad_xs->clear();
  for (const Output& x : xs) {
    auto it = contributions.find(x);
    if (it == contributions.end() || it->second.empty()) {
      grad_xs->push_back(Output());
    } else {
      grad_xs->push_back(SumContributions(gs, it->second));
    }
  }
  return gs.status();
}

}  // namespace braid
