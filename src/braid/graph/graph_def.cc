// Graph <-> tensorflow.GraphDef, and AttrValue <-> tensorflow.AttrValue.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "braid/graph/graph.h"
#include "braid/tensor/tensor_proto.h"
#include "tensorflow/core/framework/graph.pb.h"

namespace braid {
namespace {

// A TensorFlow producer version that readers (TensorBoard) accept.
constexpr int kGraphDefProducer = 1087;

void AttrToProto(const AttrValue& v, tensorflow::AttrValue* p) {
  struct Writer {
    tensorflow::AttrValue* p;
    void operator()(int64_t x) { p->set_i(x); }
    void operator()(float x) { p->set_f(x); }
    void operator()(bool x) { p->set_b(x); }
    void operator()(const std::string& x) { p->set_s(x); }
    void operator()(DType x) { p->set_type(static_cast<tensorflow::DataType>(x)); }
    void operator()(const TensorShape& x) { ShapeToProto(x, p->mutable_shape()); }
    void operator()(const Tensor& x) { TensorToProto(x, p->mutable_tensor()); }
    void operator()(const std::vector<int64_t>& x) {
      auto* l = p->mutable_list();
      for (int64_t e : x) l->add_i(e);
    }
    void operator()(const std::vector<float>& x) {
      auto* l = p->mutable_list();
      for (float e : x) l->add_f(e);
    }
    void operator()(const std::vector<DType>& x) {
      auto* l = p->mutable_list();
      for (DType e : x) l->add_type(static_cast<tensorflow::DataType>(e));
    }
    void operator()(const std::vector<std::string>& x) {
      auto* l = p->mutable_list();
      for (const auto& e : x) l->add_s(e);
    }
    void operator()(const std::vector<TensorShape>& x) {
      auto* l = p->mutable_list();
      for (const auto& e : x) ShapeToProto(e, l->add_shape());
    }
  };
  std::visit(Writer{p}, v);
}

// `hint` (the OpDef default, when there is one) disambiguates empty lists.
absl::StatusOr<AttrValue> AttrFromProto(const tensorflow::AttrValue& p, const AttrValue* hint) {
  switch (p.value_case()) {
    case tensorflow::AttrValue::kI: return AttrValue(p.i());
    case tensorflow::AttrValue::kF: return AttrValue(p.f());
    case tensorflow::AttrValue::kB: return AttrValue(p.b());
    case tensorflow::AttrValue::kS: return AttrValue(p.s());
    case tensorflow::AttrValue::kType:
      if (!IsValidDType(p.type())) {
        return absl::InvalidArgumentError(absl::StrCat("unsupported dtype ", p.type()));
      }
      return AttrValue(static_cast<DType>(p.type()));
    case tensorflow::AttrValue::kShape: {
      ASSIGN_OR_RETURN(TensorShape s, ShapeFromProto(p.shape()));
      return AttrValue(s);
    }
    case tensorflow::AttrValue::kTensor: {
      ASSIGN_OR_RETURN(Tensor t, TensorFromProto(p.tensor()));
      return AttrValue(t);
    }
    case tensorflow::AttrValue::kList: {
      const auto& l = p.list();
      if (l.i_size() > 0) return AttrValue(std::vector<int64_t>(l.i().begin(), l.i().end()));
      if (l.f_size() > 0) return AttrValue(std::vector<float>(l.f().begin(), l.f().end()));
      if (l.s_size() > 0) return AttrValue(std::vector<std::string>(l.s().begin(), l.s().end()));
      if (l.type_size() > 0) {
        std::vector<DType> types;
        for (int t : l.type()) {
          if (!IsValidDType(t)) return absl::InvalidArgumentError(absl::StrCat("bad dtype ", t));
          types.push_back(static_cast<DType>(t));
        }
        return AttrValue(types);
      }
      if (l.shape_size() > 0) {
        std::vector<TensorShape> shapes;
        for (const auto& s : l.shape()) {
          ASSIGN_OR_RETURN(TensorShape shape, ShapeFromProto(s));
          shapes.push_back(shape);
        }
        return AttrValue(shapes);
      }
      if (hint != nullptr) return *hint;  // an empty list of the declared kind
      return AttrValue(std::vector<int64_t>{});
    }
    default:
      return absl::InvalidArgumentError("attr value kind is not supported by braid");
  }
}

struct ParsedInput {
  std::string node;
  int index = 0;
  bool control = false;
};

absl::StatusOr<ParsedInput> ParseInput(const std::string& s) {
  ParsedInput in;
  std::string body = s;
  if (!body.empty() && body[0] == '^') {
    in.control = true;
    body = body.substr(1);
  }
  size_t colon = body.rfind(':');
  if (colon != std::string::npos && !in.control) {
    std::string idx = body.substr(colon + 1);
    if (idx.empty() || !std::all_of(idx.begin(), idx.end(), ::isdigit)) {
      return absl::InvalidArgumentError(absl::StrCat("malformed input '", s, "'"));
    }
    in.index = std::stoi(idx);
    body = body.substr(0, colon);
  }
  if (body.empty()) return absl::InvalidArgumentError(absl::StrCat("malformed input '", s, "'"));
  in.node = body;
  return in;
}

}  // namespace

void Graph::ToGraphDef(tensorflow::GraphDef* def) const {
  def->Clear();
  def->mutable_versions()->set_producer(kGraphDefProducer);
  for (const auto& n : nodes_) {
    tensorflow::NodeDef* nd = def->add_node();
    nd->set_name(n->name());
    nd->set_op(n->op());
    for (const Output& in : n->inputs()) {
      nd->add_input(in.index == 0 ? in.node->name() : absl::StrCat(in.node->name(), ":", in.index));
    }
    for (Node* c : n->control_inputs()) nd->add_input(absl::StrCat("^", c->name()));
    nd->set_device(n->assigned_device().empty() ? n->requested_device() : n->assigned_device());
    auto* attrs = nd->mutable_attr();
    for (const auto& [name, value] : n->attrs()) AttrToProto(value, &(*attrs)[name]);
    std::vector<TensorShape> shapes;
    for (int i = 0; i < n->num_outputs(); ++i) shapes.push_back(n->output_shape(i));
    if (!shapes.empty()) AttrToProto(AttrValue(shapes), &(*attrs)["_output_shapes"]);
  }
}

absl::StatusOr<std::unique_ptr<Graph>> Graph::FromGraphDef(const tensorflow::GraphDef& def) {
  auto graph = std::make_unique<Graph>();
  // Index nodes by name, then add them once all their inputs exist (Kahn).
  absl::flat_hash_map<std::string, int> index;
  std::vector<std::vector<ParsedInput>> inputs(def.node_size());
  for (int i = 0; i < def.node_size(); ++i) {
    const auto& nd = def.node(i);
    if (!index.emplace(nd.name(), i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("GraphDef has two nodes named '", nd.name(), "'"));
    }
  }
  std::vector<int> pending(def.node_size(), 0);
  std::vector<std::vector<int>> consumers(def.node_size());
  for (int i = 0; i < def.node_size(); ++i) {
    for (const std::string& s : def.node(i).input()) {
      ASSIGN_OR_RETURN(ParsedInput in, ParseInput(s));
      auto it = index.find(in.node);
      if (it == index.end()) {
        return absl::InvalidArgumentError(absl::StrCat("node '", def.node(i).name(),
                                                       "' has input '", s,
                                                       "' naming a node that does not exist"));
      }
      ++pending[i];
      consumers[it->second].push_back(i);
      inputs[i].push_back(in);
    }
  }
  std::vector<int> ready;
  for (int i = 0; i < def.node_size(); ++i)
    if (pending[i] == 0) ready.push_back(i);
  int added = 0;
  while (!ready.empty()) {
    int i = ready.back();
    ready.pop_back();
    const auto& nd = def.node(i);
    const OpDef* op = OpRegistry::Global()->Find(nd.op());
    NodeSpec spec;
    spec.name = nd.name();
    spec.op = nd.op();
    spec.device = nd.device();
    for (const ParsedInput& in : inputs[i]) {
      Node* src = graph->FindNode(in.node);
      if (in.control) {
        spec.control_inputs.push_back(src);
      } else {
        if (in.index >= src->num_outputs()) {
          return absl::InvalidArgumentError(absl::StrCat("node '", nd.name(), "' reads output ",
                                                         in.index, " of ", src->DebugName(),
                                                         " which has ", src->num_outputs()));
        }
        spec.inputs.push_back(Output(src, in.index));
      }
    }
    for (const auto& [name, value] : nd.attr()) {
      if (name == "_output_shapes") continue;  // recomputed by shape inference
      const AttrDef* ad = op ? op->FindAttr(name) : nullptr;
      const AttrValue* hint = ad && ad->default_value ? &*ad->default_value : nullptr;
      absl::StatusOr<AttrValue> v = AttrFromProto(value, hint);
      if (!v.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("node '", nd.name(), "' attr '", name,
                                                       "': ", v.status().message()));
      }
      spec.attrs[name] = *std::move(v);
    }
    RETURN_IF_ERROR(graph->AddNode(std::move(spec)).status());
    ++added;
    for (int c : consumers[i])
      if (--pending[c] == 0) ready.push_back(c);
  }
  if (added != def.node_size()) {
    std::vector<std::string> stuck;
    for (int i = 0; i < def.node_size() && stuck.size() < 5; ++i)
      if (pending[i] > 0) stuck.push_back(def.node(i).name());
    return absl::InvalidArgumentError(absl::StrCat(
        "GraphDef has a cycle; nodes on or after it: ", absl::StrJoin(stuck, ", ")));
  }
  return graph;
}

}  // namespace braid
