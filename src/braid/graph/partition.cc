#include "braid/graph/partition.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"

namespace braid {

NodeSpec CopyNodeSpec(const Node& node, std::vector<Output> inputs,
                      std::vector<Node*> control_inputs) {
  NodeSpec spec;
  spec.name = node.name();
  spec.op = node.op();
  spec.inputs = std::move(inputs);
  spec.control_inputs = std::move(control_inputs);
  spec.attrs = node.attrs();
  spec.device = node.requested_device();
  return spec;
}

namespace {

class Partitioner {
 public:
  Partitioner(const Graph& graph, const PartitionOptions& options)
      : graph_(graph), options_(options) {}

  absl::StatusOr<std::map<std::string, std::unique_ptr<Graph>>> Run() {
    for (Node* node : graph_.nodes()) {
      if (node->assigned_device().empty()) {
        return absl::InternalError(absl::StrCat("node ", node->DebugName(), " is not placed"));
      }
    }
    for (Node* node : graph_.nodes()) {
      const std::string& dev = node->assigned_device();
      std::vector<Output> inputs;
      for (const Output& in : node->inputs()) {
        ASSIGN_OR_RETURN(Output mapped, InputOn(in, dev));
        inputs.push_back(mapped);
      }
      std::vector<Node*> controls;
      for (Node* c : node->control_inputs()) {
        ASSIGN_OR_RETURN(Node * mapped, ControlOn(c, dev));
        controls.push_back(mapped);
      }
      ASSIGN_OR_RETURN(Node * copy, PartitionFor(dev)->AddNode(
                                        CopyNodeSpec(*node, std::move(inputs), std::move(controls))));
      copy->set_assigned_device(dev);
      copies_[node] = copy;
    }
    return std::move(partitions_);
  }

 private:
  Graph* PartitionFor(const std::string& device) {
    auto& g = partitions_[device];
    if (!g) g = std::make_unique<Graph>();
    return g.get();
  }

  AttrMap SendRecvAttrs(const std::string& tensor_name, const std::string& src,
                        const std::string& dst) {
    return {{"tensor_name", tensor_name},
            {"send_device", src},
            {"send_device_incarnation",
             static_cast<int64_t>(options_.incarnation ? options_.incarnation(src) : 0)},
            {"recv_device", dst}};
  }

  absl::StatusOr<Node*> AddPlaced(const std::string& device, NodeSpec spec) {
    spec.device = device;
    ASSIGN_OR_RETURN(Node * n, PartitionFor(device)->AddNode(std::move(spec)));
    n->set_assigned_device(device);
    return n;
  }

  // The Output that carries `in` on device `dst`.
  absl::StatusOr<Output> InputOn(const Output& in, const std::string& dst) {
    Node* src_copy = copies_.at(in.node);
    const std::string& src = in.node->assigned_device();
    if (src == dst) return Output(src_copy, in.index);
    auto key = std::make_pair(in, dst);
    auto it = recvs_.find(key);
    if (it != recvs_.end()) return Output(it->second, 0);

    std::string tensor_name = absl::StrCat("edge_", in.node->name(), "_", in.index);
    AttrMap attrs = SendRecvAttrs(tensor_name, src, dst);
    NodeSpec send;
    send.name = PartitionFor(src)->UniqueName(absl::StrCat("_send_", in.node->name(), "_",
                                                           in.index, "_to_", recvs_.size()));
    send.op = "_Send";
    send.inputs = {Output(src_copy, in.index)};
    send.attrs = attrs;
    RETURN_IF_ERROR(AddPlaced(src, std::move(send)).status());

    NodeSpec recv;
    recv.name = PartitionFor(dst)->UniqueName(absl::StrCat("_recv_", in.node->name(), "_",
                                                           in.index));
    recv.op = "_Recv";
    recv.attrs = attrs;
    recv.attrs["tensor_type"] = in.dtype();
    recv.attrs["shape"] = in.shape();
    ASSIGN_OR_RETURN(Node * r, AddPlaced(dst, std::move(recv)));
    recvs_[key] = r;
    return Output(r, 0);
  }

  // A node on `dst` that completes only after `c` ran on its own device.
  absl::StatusOr<Node*> ControlOn(Node* c, const std::string& dst) {
    Node* src_copy = copies_.at(c);
    const std::string& src = c->assigned_device();
    if (src == dst) return src_copy;
    auto key = std::make_pair(c, dst);
    auto it = control_recvs_.find(key);
    if (it != control_recvs_.end()) return it->second;

    NodeSpec dummy;
    dummy.name = PartitionFor(src)->UniqueName(absl::StrCat("_ctrl_", c->name()));
    dummy.op = "Const";
    dummy.attrs = {{"value", Tensor::Scalar<int32_t>(0)}, {"dtype", DType::kInt32}};
    dummy.control_inputs = {src_copy};
    ASSIGN_OR_RETURN(Node * d, AddPlaced(src, std::move(dummy)));

    std::string tensor_name = absl::StrCat("ctrl_", c->name());
    AttrMap attrs = SendRecvAttrs(tensor_name, src, dst);
    NodeSpec send;
    send.name = PartitionFor(src)->UniqueName(absl::StrCat("_send_ctrl_", c->name()));
    send.op = "_Send";
    send.inputs = {Output(d, 0)};
    send.attrs = attrs;
    RETURN_IF_ERROR(AddPlaced(src, std::move(send)).status());

    NodeSpec recv;
    recv.name = PartitionFor(dst)->UniqueName(absl::StrCat("_recv_ctrl_", c->name()));
    recv.op = "_Recv";
    recv.attrs = attrs;
    recv.attrs["tensor_type"] = DType::kInt32;
    recv.attrs["shape"] = TensorShape{};
    ASSIGN_OR_RETURN(Node * r, AddPlaced(dst, std::move(recv)));
    control_recvs_[key] = r;
    return r;
  }

  const Graph& graph_;
  const PartitionOptions& options_;
  std::map<std::string, std::unique_ptr<Graph>> partitions_;
  absl::flat_hash_map<const Node*, Node*> copies_;
  absl::flat_hash_map<std::pair<Output, std::string>, Node*> recvs_;
  absl::flat_hash_map<std::pair<Node*, std::string>, Node*> control_recvs_;
};

}  // namespace

absl::StatusOr<std::map<std::string, std::unique_ptr<Graph>>> PartitionGraph(
    const Graph& graph, const PartitionOptions& options) {
  return Partitioner(graph, options).Run();
}

}  // namespace braid
