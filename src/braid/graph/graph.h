// The dataflow graph: nodes (op instances) joined by data edges (an output of
// one node feeds an input of another) and control edges (ordering only).
// Nodes are validated against their OpDef and shape-inferred when added, so a
// malformed graph is rejected at build time, naming the node.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "braid/graph/attr_value.h"
#include "braid/graph/op_def.h"

namespace tensorflow {
class GraphDef;
}

namespace braid {

class Graph;

// One output of a node. Default-constructed Outputs are invalid ("none").
struct Output {
  Node* node = nullptr;
  int index = 0;

  Output() = default;
  Output(Node* n, int i) : node(n), index(i) {}
  bool valid() const { return node != nullptr; }
  DType dtype() const;
  // The statically inferred (possibly partial) shape.
  const TensorShape& shape() const;
  // "name:index", TensorFlow's tensor naming.
  std::string name() const;
  bool operator==(const Output& o) const { return node == o.node && index == o.index; }
  template <typename H>
  friend H AbslHashValue(H h, const Output& o) {
    return H::combine(std::move(h), o.node, o.index);
  }
};

// A data edge into `dst`'s input `dst_input`.
struct InEdge {
  Node* dst;
  int dst_input;
};

class Node {
 public:
  int id() const { return id_; }
  const std::string& name() const { return name_; }
  const std::string& op() const { return op_def_->name; }
  const OpDef& op_def() const { return *op_def_; }
  const AttrMap& attrs() const { return attrs_; }
  template <typename T>
  T attr(const std::string& name) const {
    return std::get<T>(attrs_.at(name));
  }
  bool has_attr(const std::string& name) const { return attrs_.count(name) > 0; }

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  const std::vector<Output>& inputs() const { return inputs_; }
  Output input(int i) const { return inputs_[i]; }
  DType input_dtype(int i) const { return inputs_[i].dtype(); }
  const std::vector<Node*>& control_inputs() const { return control_inputs_; }

  int num_outputs() const { return static_cast<int>(output_dtypes_.size()); }
  DType output_dtype(int i) const { return output_dtypes_[i]; }
  const TensorShape& output_shape(int i) const { return output_shapes_[i]; }
  const std::vector<DType>& output_dtypes() const { return output_dtypes_; }
  // Gradient functions see their node as const and still build on its outputs.
  Output output(int i) const { return Output(const_cast<Node*>(this), i); }

  // Consumers, kept up to date by the graph.
  const std::vector<InEdge>& out_edges(int output) const { return out_edges_[output]; }
  const std::vector<Node*>& control_outputs() const { return control_outputs_; }

  // The device the user asked for (possibly partial, possibly empty).
  const std::string& requested_device() const { return requested_device_; }
  // The full device name the placer chose (empty before placement).
  const std::string& assigned_device() const { return assigned_device_; }
  void set_assigned_device(std::string d) { assigned_device_ = std::move(d); }
  void set_requested_device(std::string d) { requested_device_ = std::move(d); }

  // "name (Op)" for error messages.
  std::string DebugName() const;

 private:
  friend class Graph;
  int id_ = -1;
  std::string name_;
  const OpDef* op_def_ = nullptr;
  AttrMap attrs_;
  std::vector<Output> inputs_;
  std::vector<Node*> control_inputs_;
  std::vector<DType> output_dtypes_;
  std::vector<TensorShape> output_shapes_;
  std::vector<std::vector<InEdge>> out_edges_;
  std::vector<Node*> control_outputs_;
  std::string requested_device_;
  std::string assigned_device_;
};

// Everything needed to add a node.
struct NodeSpec {
  std::string name;
  std::string op;
  std::vector<Output> inputs;
  std::vector<Node*> control_inputs;
  AttrMap attrs;
  std::string device;
};

// Statically known facts about a node's inputs, and where its shape function
// writes output shapes.
class InferenceContext {
 public:
  InferenceContext(const Node& node, std::vector<TensorShape>* output_shapes)
      : node_(node), output_shapes_(output_shapes) {}
  const Node& node() const { return node_; }
  int num_inputs() const { return node_.num_inputs(); }
  const TensorShape& input_shape(int i) const { return node_.input(i).shape(); }
  DType input_dtype(int i) const { return node_.input_dtype(i); }
  template <typename T>
  T attr(const std::string& name) const {
    return node_.attr<T>(name);
  }
  // The value of input i when it is produced by a Const node; nullptr otherwise.
  const Tensor* input_constant(int i) const;
  // Input i as a shape vector when known: a Const, or Shape of a tensor whose
  // shape is known. Elements may be -1 when only the rank is known.
  std::optional<TensorShape> input_as_shape(int i) const;
  void set_output(int i, TensorShape shape) { (*output_shapes_)[i] = std::move(shape); }
  const TensorShape& output(int i) const { return (*output_shapes_)[i]; }
  // An InvalidArgument error prefixed with the node's name and op.
  absl::Status Error(absl::string_view message) const;

 private:
  const Node& node_;
  std::vector<TensorShape>* output_shapes_;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Validates `spec` against the op's signature (input count and dtypes, attrs
  // present and of the right kind, type attrs inferred from inputs), runs the
  // shape function, and adds the node. Errors name the node.
  absl::StatusOr<Node*> AddNode(NodeSpec spec);
  // Adds an ordering edge; rejected when it would close a cycle.
  absl::Status AddControlEdge(Node* from, Node* to);

  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  Node* node(int id) const { return nodes_[id].get(); }
  // Nodes in creation order, which is a topological order.
  std::vector<Node*> nodes() const;
  Node* FindNode(const std::string& name) const;
  // Parses "name", "name:k"; NotFound / InvalidArgument naming what is wrong.
  absl::StatusOr<Output> FindOutput(const std::string& tensor_name) const;
  // `prefix` if unused, else prefix_1, prefix_2, ...
  std::string UniqueName(const std::string& prefix);

  // Named lists of nodes, as TensorFlow's graph collections:
  // "variables", "trainable_variables" (VarHandleOp nodes), "initializers".
  void AddToCollection(const std::string& key, Node* node) { collections_[key].push_back(node); }
  const std::vector<Node*>& collection(const std::string& key) const {
    static const std::vector<Node*> kEmpty;
    auto it = collections_.find(key);
    return it == collections_.end() ? kEmpty : it->second;
  }

  // Graph-level random seed; ops created with seed 0 derive theirs from it.
  std::optional<int64_t> seed() const { return seed_; }
  void set_seed(int64_t seed) { seed_ = seed; }

  // Serialization to tensorflow.GraphDef, with `_output_shapes` attrs so that
  // TensorBoard shows shapes; assigned devices are written when present.
  void ToGraphDef(tensorflow::GraphDef* def) const;
  // Rebuilds a graph from a GraphDef (nodes in any order; cycles rejected).
  static absl::StatusOr<std::unique_ptr<Graph>> FromGraphDef(const tensorflow::GraphDef& def);

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
  absl::flat_hash_map<std::string, Node*> by_name_;
  absl::flat_hash_map<std::string, int> name_counters_;
  std::optional<int64_t> seed_;
  absl::flat_hash_map<std::string, std::vector<Node*>> collections_;
};

}  // namespace braid
