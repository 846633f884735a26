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

// A chain found in the graph: head (Conv2D or MatMul) -> bias [-> relu].
struct Chain {
  const Node* head = nullptr;
  const Node* bias = nullptr;
  const Node* relu = nullptr;  // nullptr when the chain ends at BiasAdd
  const Node* tail() const { return relu != nullptr ? relu : bias; }
};

bool OnCpu(const Node& n) {
  absl::StatusOr<DeviceName> d = DeviceName::Parse(n.assigned_device());
  return d.ok() && d->type == "CPU";
}

// `from`'s only consumer, when it has exactly one data edge out and no
// control successors; nullptr otherwise.
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

// The chain that starts at `head`, if `head` starts one.
std::optional<Chain> ChainAt(const Node& head) {
  if (head.op() != "Conv2D" && head.op() != "MatMul") return std::nullopt;
  if (head.output_dtype(0) != DType::kFloat) return std::nullopt;
  const Node* bias = SoleConsumer(head);
  if (bias == nullptr || bias->op() != "BiasAdd" || !SameCpuDevice(head, *bias) ||
      GetAttrOr<std::string>(bias->attrs(), "data_format", "NHWC") != "NHWC") {
    return std::nullopt;
  }
  Chain chain{&head, bias, nullptr};
  const Node* relu = SoleConsumer(*bias);
  if (relu != nullptr && relu->op() == "Relu" && SameCpuDevice(*bias, *relu)) {
    chain.relu = relu;
  }
  return chain;
}

NodeSpec FusedSpec(const Chain& chain, std::vector<Output> inputs,
                   std::vector<Node*> control_inputs) {
  NodeSpec spec;
  const Node& tail = *chain.tail();
  spec.name = tail.name();
  spec.op = chain.head->op() == "Conv2D" ? "_FusedConv2D" : "_FusedMatMul";
  spec.inputs = std::move(inputs);
  spec.control_inputs = std::move(control_inputs);
  spec.attrs = chain.head->attrs();
  spec.attrs["num_args"] = int64_t{1};
  std::vector<std::string> fused_ops = {"BiasAdd"};
  if (chain.relu != nullptr) fused_ops.push_back("Relu");
  spec.attrs["fused_ops"] = std::move(fused_ops);
  spec.device = tail.requested_device();
  return spec;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Graph>> FuseOps(const Graph& graph) {
  // Chains by their tail; their inner nodes are left out of the copy.
  absl::flat_hash_map<const Node*, Chain> chain_of_tail;
  std::vector<bool> absorbed(graph.num_nodes(), false);
  for (Node* n : graph.nodes()) {
    std::optional<Chain> chain = ChainAt(*n);
    if (!chain) continue;
    absorbed[chain->head->id()] = true;
    if (chain->relu != nullptr) absorbed[chain->bias->id()] = true;
    chain_of_tail.emplace(chain->tail(), *chain);
  }

  auto fused = std::make_unique<Graph>();
  if (graph.seed()) fused->set_seed(*graph.seed());
  // Creation order is topological, and a fused node's inputs (the head's
  // inputs and the bias) all come before its tail, so one pass suffices.
  absl::flat_hash_map<const Node*, Node*> copy;
  auto copied_inputs = [&](const Node& n) {
    std::vector<Output> inputs;
    for (const Output& in : n.inputs()) inputs.push_back(Output(copy.at(in.node), in.index));
    return inputs;
  };
  auto add_controls = [&](const Node& n, std::vector<Node*>* controls) {
    for (Node* c : n.control_inputs()) {
      Node* mapped = copy.at(c);
      if (std::find(controls->begin(), controls->end(), mapped) == controls->end()) {
        controls->push_back(mapped);
      }
    }
  };
  for (Node* n : graph.nodes()) {
    if (absorbed[n->id()]) continue;
    std::vector<Node*> controls;
    NodeSpec spec;
    auto chain = chain_of_tail.find(n);
    if (chain == chain_of_tail.end()) {
      add_controls(*n, &controls);
      spec = CopyNodeSpec(*n, copied_inputs(*n), std::move(controls));
    } else {
      const Chain& c = chain->second;
      std::vector<Output> inputs = copied_inputs(*c.head);
      inputs.push_back(Output(copy.at(c.bias->input(1).node), c.bias->input(1).index));
      // The fused node waits for everything any part of the chain waited for.
      for (const Node* part : {c.head, c.bias, c.relu}) {
        if (part != nullptr) add_controls(*part, &controls);
      }
      spec = FusedSpec(c, std::move(inputs), std::move(controls));
    }
    ASSIGN_OR_RETURN(Node * added, fused->AddNode(std::move(spec)));
    added->set_assigned_device(n->assigned_device());
    copy[n] = added;
  }
  return fused;
}

}  // namespace braid
