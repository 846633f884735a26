#include "braid/graph/fuse_ops.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "braid/base/status_macros.h"
#include "braid/graph/device_name.h"
#include "braid/graph/partition.h"

namespace braid {
namespace {

// One group of nodes to run as a single fused node: `parts` in graph order,
// the last of them (the tail) giving the fused node its name and place.
struct Fusion {
  std::vector<const Node*> parts;
  std::string op;
  std::vector<Output> inputs;  // outputs of the original graph
  AttrMap attrs;
  const Node& tail() const { return *parts.back(); }
};

bool OnCpu(const Node& n) {
  absl::StatusOr<DeviceName> d = DeviceName::Parse(n.assigned_device());
  return d.ok() && d->type == "CPU";
}

// `from`'s only consumer, when it has exactly one data edge out, into the
// consumer's first input, and no control successors; nullptr otherwise.
const Node* SoleConsumer(const Node& from) {
  if (from.num_outputs() != 1 || from.out_edges(0).size() != 1 || !from.control_outputs().empty()) {
    return nullptr;
  }
  const InEdge& e = from.out_edges(0)[0];
  return e.dst_input == 0 ? e.dst : nullptr;
}

bool SameCpuDevice(const Node& a, const Node& b) {
  return a.assigned_device() == b.assigned_device() && OnCpu(a);
}

// Conv2D/MatMul -> BiasAdd [-> Relu], starting at `head`.
std::optional<Fusion> BiasChainAt(const Node& head) {
  if (head.op() != "Conv2D" && head.op() != "MatMul") return std::nullopt;
  if (head.output_dtype(0) != DType::kFloat) return std::nullopt;
  const Node* bias = SoleConsumer(head);
  if (bias == nullptr || bias->op() != "BiasAdd" || !SameCpuDevice(head, *bias) ||
      GetAttrOr<std::string>(bias->attrs(), "data_format", "NHWC") != "NHWC") {
    return std::nullopt;
  }
  Fusion f;
  f.parts = {&head, bias};
  std::vector<std::string> fused_ops = {"BiasAdd"};
  const Node* relu = SoleConsumer(*bias);
  if (relu != nullptr && relu->op() == "Relu" && SameCpuDevice(*bias, *relu)) {
    f.parts.push_back(relu);
    fused_ops.push_back("Relu");
  }
  f.op = head.op() == "Conv2D" ? "_FusedConv2D" : "_FusedMatMul";
  f.inputs = {head.input(0), head.input(1), bias->input(1)};
  f.attrs = head.attrs();
  f.attrs["num_args"] = int64_t{1};
  f.attrs["fused_ops"] = std::move(fused_ops);
  return f;
}

// MaxPoolGrad -> ReluGrad(·, orig_input), starting at the MaxPoolGrad: the
// backward pass of Relu -> MaxPool.
std::optional<Fusion> PoolReluGradAt(const Node& pool_grad) {
  if (pool_grad.op() != "MaxPoolGrad" || pool_grad.output_dtype(0) != DType::kFloat) {
    return std::nullopt;
  }
  const Node* relu_grad = SoleConsumer(pool_grad);
  if (relu_grad == nullptr || relu_grad->op() != "ReluGrad" ||
      !(relu_grad->input(1) == pool_grad.input(0)) || !SameCpuDevice(pool_grad, *relu_grad)) {
    return std::nullopt;
  }
  Fusion f;
  f.parts = {&pool_grad, relu_grad};
  f.op = "_FusedMaxPoolGradReluGrad";
  f.inputs = pool_grad.inputs();
  f.attrs = pool_grad.attrs();
  return f;
}

// A plain MaxPoolGrad, as a fusion of one part, for WithPoolWorkspace.
std::optional<Fusion> PoolGradAt(const Node& pool_grad) {
  if (pool_grad.op() != "MaxPoolGrad" || pool_grad.output_dtype(0) != DType::kFloat) {
    return std::nullopt;
  }
  Fusion f;
  f.parts = {&pool_grad};
  f.op = pool_grad.op();
  f.inputs = pool_grad.inputs();
  f.attrs = pool_grad.attrs();
  return f;
}

// The MaxPool whose gradient `f` (MaxPoolGrad or _FusedMaxPoolGradReluGrad)
// is: the node making its orig_output from its orig_input, with the same
// window, in NHWC on the same CPU device; nullptr otherwise.
const Node* PooledBy(const Fusion& f) {
  const Node& grad = *f.parts.front();
  const Output& pooled = f.inputs[1];
  const Node* pool = pooled.node;
  if (pooled.index != 0 || pool->op() != "MaxPool" || !(pool->input(0) == f.inputs[0]) ||
      !SameCpuDevice(*pool, grad) ||
      GetAttrOr<std::string>(pool->attrs(), "data_format", "NHWC") != "NHWC") {
    return nullptr;
  }
  for (const char* attr : {"ksize", "strides", "padding", "explicit_paddings", "data_format"}) {
    auto a = pool->attrs().find(attr), b = grad.attrs().find(attr);
    const bool in_a = a != pool->attrs().end(), in_b = b != grad.attrs().end();
    if (in_a != in_b ||
        (in_a && AttrValueDebugString(a->second) != AttrValueDebugString(b->second))) {
      return nullptr;
    }
  }
  return pool;
}

// Turns a max-pooling gradient into _MaxPoolGradWithWorkspace, reading the
// workspace of its MaxPool (which becomes _MaxPoolWithWorkspace), when
// PooledBy finds that MaxPool; returns it, or nullptr.
const Node* WithPoolWorkspace(Fusion* f) {
  if (f->op != "MaxPoolGrad" && f->op != "_FusedMaxPoolGradReluGrad") return nullptr;
  const Node* pool = PooledBy(*f);
  if (pool == nullptr) return nullptr;
  f->attrs["relu_grad"] = f->op == "_FusedMaxPoolGradReluGrad";
  f->op = "_MaxPoolGradWithWorkspace";
  f->inputs.push_back(Output(const_cast<Node*>(pool), 1));
  return pool;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Graph>> FuseOps(const Graph& graph) {
  // Fusions by their tail; the other parts are left out of the copy.
  absl::flat_hash_map<const Node*, Fusion> fusion_of_tail;
  std::vector<bool> absorbed(graph.num_nodes(), false);
  std::vector<bool> writes_workspace(graph.num_nodes(), false);  // MaxPools
  for (Node* n : graph.nodes()) {
    std::optional<Fusion> f = BiasChainAt(*n);
    if (!f) f = PoolReluGradAt(*n);
    if (!f) f = PoolGradAt(*n);
    if (!f) continue;
    if (const Node* pool = WithPoolWorkspace(&*f)) {
      writes_workspace[pool->id()] = true;
    } else if (f->parts.size() == 1) {
      continue;  // a MaxPoolGrad left as it is
    }
    for (size_t i = 0; i + 1 < f->parts.size(); ++i) absorbed[f->parts[i]->id()] = true;
    const Node* tail = &f->tail();
    fusion_of_tail.emplace(tail, std::move(*f));
  }

  auto fused = std::make_unique<Graph>();
  if (graph.seed()) fused->set_seed(*graph.seed());
  // Creation order is topological, and a fused node's inputs all come before
  // its tail (they feed earlier parts), so one pass suffices.
  absl::flat_hash_map<const Node*, Node*> copy;
  auto mapped = [&](const std::vector<Output>& outputs) {
    std::vector<Output> inputs;
    for (const Output& o : outputs) inputs.push_back(Output(copy.at(o.node), o.index));
    return inputs;
  };
  for (Node* n : graph.nodes()) {
    if (absorbed[n->id()]) continue;
    auto f = fusion_of_tail.find(n);
    // The fused node waits for everything any of its parts waited for.
    std::vector<Node*> controls;
    for (const Node* part :
         f == fusion_of_tail.end() ? std::vector<const Node*>{n} : f->second.parts) {
      for (Node* c : part->control_inputs()) {
        Node* c_copy = copy.at(c);
        if (std::find(controls.begin(), controls.end(), c_copy) == controls.end()) {
          controls.push_back(c_copy);
        }
      }
    }
    NodeSpec spec;
    if (f == fusion_of_tail.end()) {
      spec = CopyNodeSpec(*n, mapped(n->inputs()), std::move(controls));
      if (writes_workspace[n->id()]) spec.op = "_MaxPoolWithWorkspace";
    } else {
      spec.name = n->name();
      spec.op = f->second.op;
      spec.inputs = mapped(f->second.inputs);
      spec.control_inputs = std::move(controls);
      spec.attrs = f->second.attrs;
      spec.device = n->requested_device();
    }
    ASSIGN_OR_RETURN(Node * added, fused->AddNode(std::move(spec)));
    added->set_assigned_device(n->assigned_device());
    copy[n] = added;
  }
  return fused;
}

}  // namespace braid
