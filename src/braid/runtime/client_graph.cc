#include "braid/runtime/client_graph.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "braid/graph/partition.h"

namespace braid {

absl::Status IncrementalPlacer::PlaceIfGrown(Graph* graph) {
  if (placed_nodes_ == graph->num_nodes()) return absl::OkStatus();
  RETURN_IF_ERROR(PlaceGraph(graph, options_));
  for (Node* n : graph->nodes())
    if (n->op_def().is_stateful) options_.pinned[n->name()] = n->assigned_device();
  placed_nodes_ = graph->num_nodes();
  return absl::OkStatus();
}

absl::Status CheckFeeds(const Graph& graph,
                        const std::vector<std::pair<std::string, Tensor>>& feeds) {
  for (const auto& [name, value] : feeds) {
    ASSIGN_OR_RETURN(Output out, graph.FindOutput(name));
    if (!value.initialized()) {
      return absl::InvalidArgumentError(absl::StrCat("feed '", name, "' is an empty tensor"));
    }
    if (value.dtype() != out.dtype()) {
      return absl::InvalidArgumentError(
          absl::StrCat("feed '", name, "' has dtype ", DTypeName(value.dtype()),
                       " but the graph expects ", DTypeName(out.dtype())));
    }
    if (!out.shape().IsCompatibleWith(value.shape())) {
      return absl::InvalidArgumentError(
          absl::StrCat("feed '", name, "' has shape ", value.shape().DebugString(),
                       " but the graph expects ", out.shape().DebugString()));
    }
  }
  return absl::OkStatus();
}

std::string SignatureKey(const std::vector<std::string>& feed_names,
                         const std::vector<std::string>& fetches,
                         const std::vector<std::string>& targets) {
  return absl::StrCat(absl::StrJoin(feed_names, ","), "|", absl::StrJoin(fetches, ","), "|",
                      absl::StrJoin(targets, ","));
}

absl::StatusOr<std::unique_ptr<Graph>> BuildClientGraph(const Graph& graph,
                                                        const std::vector<std::string>& feed_names,
                                                        const std::vector<std::string>& fetches,
                                                        const std::vector<std::string>& targets) {
  absl::flat_hash_map<Output, int> fed;
  for (size_t i = 0; i < feed_names.size(); ++i) {
    ASSIGN_OR_RETURN(Output out, graph.FindOutput(feed_names[i]));
    if (!fed.emplace(out, static_cast<int>(i)).second) {
      return absl::InvalidArgumentError(absl::StrCat("'", feed_names[i], "' is fed twice"));
    }
  }
  std::vector<Output> fetch_outputs;
  for (const std::string& f : fetches) {
    ASSIGN_OR_RETURN(Output out, graph.FindOutput(f));
    fetch_outputs.push_back(out);
  }
  std::vector<Node*> target_nodes;
  for (const std::string& t : targets) {
    Node* n = graph.FindNode(t);
    if (n == nullptr) {
      return absl::NotFoundError(absl::StrCat("target '", t, "': no node of that name"));
    }
    target_nodes.push_back(n);
  }

  // Backward reachability, not crossing fed tensors.
  std::vector<bool> needed(graph.num_nodes(), false);
  std::vector<Node*> stack;
  for (const Output& o : fetch_outputs)
    if (!fed.contains(o)) stack.push_back(o.node);
  for (Node* n : target_nodes) stack.push_back(n);
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (needed[n->id()]) continue;
    needed[n->id()] = true;
    if (n->op() == "Placeholder") {
      return absl::InvalidArgumentError(absl::StrCat(
          "placeholder '", n->name(), "' must be fed: the fetches or targets depend on it"));
    }
    for (const Output& in : n->inputs())
      if (!fed.contains(in)) stack.push_back(in.node);
    for (Node* c : n->control_inputs()) stack.push_back(c);
  }

  auto client = std::make_unique<Graph>();
  absl::flat_hash_map<const Node*, Node*> copy;
  std::vector<Node*> feed_nodes(feed_names.size(), nullptr);
  auto feed_node = [&](const Output& o, int index) -> absl::StatusOr<Node*> {
    if (feed_nodes[index] != nullptr) return feed_nodes[index];
    NodeSpec spec;
    spec.name = client->UniqueName(absl::StrCat("_feed_", index));
    spec.op = "_Feed";
    spec.attrs = {{"T", o.dtype()}, {"index", int64_t{index}}, {"shape", o.shape()}};
    ASSIGN_OR_RETURN(Node * n, client->AddNode(std::move(spec)));
    n->set_assigned_device(o.node->assigned_device());
    feed_nodes[index] = n;
    return n;
  };
  for (Node* n : graph.nodes()) {
    if (!needed[n->id()]) continue;
    std::vector<Output> inputs;
    for (const Output& in : n->inputs()) {
      auto f = fed.find(in);
      if (f != fed.end()) {
        ASSIGN_OR_RETURN(Node * fn, feed_node(in, f->second));
        inputs.push_back(Output(fn, 0));
      } else {
        inputs.push_back(Output(copy.at(in.node), in.index));
      }
    }
    std::vector<Node*> controls;
    for (Node* c : n->control_inputs()) controls.push_back(copy.at(c));
    ASSIGN_OR_RETURN(Node * c, client->AddNode(CopyNodeSpec(*n, inputs, controls)));
    c->set_assigned_device(n->assigned_device());
    copy[n] = c;
  }
  for (size_t i = 0; i < fetch_outputs.size(); ++i) {
    const Output& o = fetch_outputs[i];
    Output src;
    auto f = fed.find(o);
    if (f != fed.end()) {
      ASSIGN_OR_RETURN(Node * fn, feed_node(o, f->second));
      src = Output(fn, 0);
    } else {
      src = Output(copy.at(o.node), o.index);
    }
    NodeSpec spec;
    spec.name = client->UniqueName(absl::StrCat("_fetch_", i));
    spec.op = "_Fetch";
    spec.inputs = {src};
    spec.attrs = {{"index", static_cast<int64_t>(i)}};
    ASSIGN_OR_RETURN(Node * n, client->AddNode(std::move(spec)));
    n->set_assigned_device(src.node->assigned_device());
  }
  return client;
}

}  // namespace braid
