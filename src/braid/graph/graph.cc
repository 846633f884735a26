#include "braid/graph/graph.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"

namespace braid {

DType Output::dtype() const { return node->output_dtype(index); }
const TensorShape& Output::shape() const { return node->output_shape(index); }
std::string Output::name() const {
  return node ? absl::StrCat(node->name(), ":", index) : std::string("<none>");
}

std::string Node::DebugName() const { return absl::StrCat("'", name_, "' (", op(), ")"); }

const Tensor* InferenceContext::input_constant(int i) const {
  const Output& in = node_.input(i);
  if (in.node->op() != "Const") return nullptr;
  const AttrValue& v = in.node->attrs().at("value");
  return std::get_if<Tensor>(&v);
}

std::optional<TensorShape> InferenceContext::input_as_shape(int i) const {
  if (const Tensor* t = input_constant(i)) {
    if (t->rank() != 1) return std::nullopt;
    TensorShape s;
    for (int64_t j = 0; j < t->NumElements(); ++j) {
      if (t->dtype() == DType::kInt32) s.AddDim(t->data<int32_t>()[j]);
      else if (t->dtype() == DType::kInt64) s.AddDim(t->data<int64_t>()[j]);
      else return std::nullopt;
    }
    return s;
  }
  const Output& in = node_.input(i);
  if (in.node->op() == "Shape") {
    const TensorShape& src = in.node->input(0).shape();
    if (!src.unknown_rank()) return src;
  }
  return std::nullopt;
}

absl::Status InferenceContext::Error(absl::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat("node ", node_.DebugName(), ": ", message));
}

namespace {

// Resolves the dtype an argument carries, given the attrs inferred so far.
absl::StatusOr<DType> ArgType(const ArgDef& arg, const AttrMap& attrs) {
  if (arg.fixed_type != DType::kInvalid) return arg.fixed_type;
  auto it = attrs.find(arg.type_attr);
  if (it == attrs.end() || !std::holds_alternative<DType>(it->second)) {
    return absl::InvalidArgumentError(
        absl::StrCat("type attr '", arg.type_attr, "' of argument '", arg.name,
                     "' is not set and cannot be inferred from the inputs"));
  }
  return std::get<DType>(it->second);
}

bool SameKind(const AttrValue& a, const AttrValue& b) { return a.index() == b.index(); }

}  // namespace

absl::StatusOr<Node*> Graph::AddNode(NodeSpec spec) {
  auto error = [&](absl::string_view msg) {
    return absl::InvalidArgumentError(absl::StrCat("node '", spec.name, "' (", spec.op, "): ", msg));
  };
  const OpDef* def = OpRegistry::Global()->Find(spec.op);
  if (def == nullptr) return error("op is not registered");
  if (spec.name.empty()) return error("node name is empty");
  if (by_name_.contains(spec.name)) return error("a node of that name already exists");
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    if (!spec.inputs[i].valid()) {
      return error(absl::StrCat("input ", i, " is missing (an earlier op failed to build)"));
    }
  }
  for (Node* c : spec.control_inputs)
    if (c == nullptr) return error("a control input is missing");

  // Match inputs to arguments; at most one argument is a list.
  int num_lists = 0;
  for (const ArgDef& a : def->inputs) num_lists += a.number_attr.empty() ? 0 : 1;
  const int fixed_args = static_cast<int>(def->inputs.size()) - num_lists;
  const int given = static_cast<int>(spec.inputs.size());
  int list_len = 0;
  if (num_lists == 0 && given != fixed_args) {
    return error(absl::StrCat("expects ", fixed_args, " inputs, got ", given));
  }
  if (num_lists > 0) {
    list_len = given - fixed_args;
    if (list_len < 1) {
      return error(absl::StrCat("expects at least ", fixed_args + 1, " inputs, got ", given));
    }
  }

  auto node = std::make_unique<Node>();
  node->name_ = spec.name;
  node->op_def_ = def;
  node->inputs_ = spec.inputs;
  node->control_inputs_ = spec.control_inputs;
  node->requested_device_ = spec.device;
  AttrMap attrs = std::move(spec.attrs);

  // Infer type attrs and list lengths from the inputs; check fixed types.
  int pos = 0;
  for (const ArgDef& arg : def->inputs) {
    int count = 1;
    if (!arg.number_attr.empty()) {
      count = list_len;
      auto it = attrs.find(arg.number_attr);
      if (it != attrs.end() && std::get_if<int64_t>(&it->second) &&
          std::get<int64_t>(it->second) != count) {
        return error(absl::StrCat("attr ", arg.number_attr, "=", std::get<int64_t>(it->second),
                                  " but ", count, " values were given for '", arg.name, "'"));
      }
      attrs[arg.number_attr] = static_cast<int64_t>(count);
    }
    for (int k = 0; k < count; ++k, ++pos) {
      const Output& in = spec.inputs[pos];
      DType got = in.dtype();
      if (arg.fixed_type != DType::kInvalid) {
        if (got != arg.fixed_type) {
          return error(absl::StrCat("input '", arg.name, "' (", in.name(), ") must be ",
                                    DTypeName(arg.fixed_type), ", got ", DTypeName(got)));
        }
        continue;
      }
      auto it = attrs.find(arg.type_attr);
      if (it == attrs.end()) {
        attrs[arg.type_attr] = got;
      } else if (const DType* want = std::get_if<DType>(&it->second); want && *want != got) {
        return error(absl::StrCat("input '", arg.name, "' (", in.name(), ") has dtype ",
                                  DTypeName(got), " but ", arg.type_attr, " is ", DTypeName(*want),
                                  " (from the other inputs or the attrs)"));
      }
    }
  }

  // Defaults, required attrs, kinds and allowed types.
  for (const AttrDef& ad : def->attrs) {
    auto it = attrs.find(ad.name);
    if (it == attrs.end()) {
      if (!ad.default_value) return error(absl::StrCat("required attr '", ad.name, "' is missing"));
      attrs[ad.name] = *ad.default_value;
      continue;
    }
    if (ad.is_type && !std::holds_alternative<DType>(it->second)) {
      return error(absl::StrCat("attr '", ad.name, "' must be a type, got ",
                                AttrKindName(it->second)));
    }
    if (ad.default_value && !SameKind(*ad.default_value, it->second)) {
      return error(absl::StrCat("attr '", ad.name, "' must be ", AttrKindName(*ad.default_value),
                                ", got ", AttrKindName(it->second)));
    }
    if (ad.is_type && !ad.allowed_types.empty()) {
      DType t = std::get<DType>(it->second);
      if (std::find(ad.allowed_types.begin(), ad.allowed_types.end(), t) ==
          ad.allowed_types.end()) {
        return error(absl::StrCat(
            "dtype ", DTypeName(t), " is not supported for ", ad.name, "; allowed: ",
            absl::StrJoin(ad.allowed_types, ", ",
                          [](std::string* o, DType d) { o->append(DTypeName(d)); })));
      }
    }
  }
  for (const auto& [name, value] : attrs) {
    if (name.empty() || name[0] == '_') continue;  // internal attrs such as _class
    if (def->FindAttr(name) == nullptr) return error(absl::StrCat("unknown attr '", name, "'"));
  }
  node->attrs_ = std::move(attrs);

  for (const ArgDef& arg : def->outputs) {
    ASSIGN_OR_RETURN(DType t, ArgType(arg, node->attrs_));
    int count = 1;
    if (!arg.number_attr.empty()) count = static_cast<int>(node->attr<int64_t>(arg.number_attr));
    for (int k = 0; k < count; ++k) node->output_dtypes_.push_back(t);
  }
  node->output_shapes_.assign(node->output_dtypes_.size(), TensorShape::UnknownRank());
  if (def->shape_fn) {
    InferenceContext ctx(*node, &node->output_shapes_);
    RETURN_IF_ERROR(def->shape_fn(ctx));
  }

  node->id_ = static_cast<int>(nodes_.size());
  node->out_edges_.resize(node->output_dtypes_.size());
  Node* raw = node.get();
  for (int i = 0; i < raw->num_inputs(); ++i) {
    const Output& in = raw->inputs_[i];
    in.node->out_edges_[in.index].push_back(InEdge{raw, i});
  }
  for (Node* c : raw->control_inputs_) c->control_outputs_.push_back(raw);
  by_name_[raw->name_] = raw;
  nodes_.push_back(std::move(node));
  return raw;
}

absl::Status Graph::AddControlEdge(Node* from, Node* to) {
  // A path to -> ... -> from would make the new edge close a cycle.
  std::vector<bool> seen(nodes_.size(), false);
  std::vector<Node*> stack = {to};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (n == from) {
      return absl::InvalidArgumentError(absl::StrCat("control edge ", from->DebugName(), " -> ",
                                                     to->DebugName(), " would create a cycle"));
    }
    if (seen[n->id()]) continue;
    seen[n->id()] = true;
    for (const auto& edges : n->out_edges_)
      for (const InEdge& e : edges) stack.push_back(e.dst);
    for (Node* c : n->control_outputs_) stack.push_back(c);
  }
  to->control_inputs_.push_back(from);
  from->control_outputs_.push_back(to);
  return absl::OkStatus();
}

std::vector<Node*> Graph::nodes() const {
  std::vector<Node*> out;
  out.reserve(nodes_.size());
  for (const auto& n : nodes_) out.push_back(n.get());
  return out;
}

Node* Graph::FindNode(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

absl::StatusOr<Output> Graph::FindOutput(const std::string& tensor_name) const {
  std::string name = tensor_name;
  int index = 0;
  if (size_t colon = tensor_name.rfind(':'); colon != std::string::npos) {
    name = tensor_name.substr(0, colon);
    if (!absl::SimpleAtoi(tensor_name.substr(colon + 1), &index) || index < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor name '", tensor_name, "' is malformed; expected 'node:index'"));
    }
  }
  Node* n = FindNode(name);
  if (n == nullptr) {
    return absl::NotFoundError(absl::StrCat("no node named '", name, "' in the graph"));
  }
  if (index >= n->num_outputs()) {
    return absl::InvalidArgumentError(absl::StrCat("node ", n->DebugName(), " has ",
                                                   n->num_outputs(), " outputs; ", tensor_name,
                                                   " asks for output ", index));
  }
  return Output(n, index);
}

std::string Graph::UniqueName(const std::string& prefix) {
  if (!by_name_.contains(prefix) && !name_counters_.contains(prefix)) {
    name_counters_[prefix] = 0;
    return prefix;
  }
  int& counter = name_counters_[prefix];
  std::string candidate;
  do {
    candidate = absl::StrCat(prefix, "_", ++counter);
  } while (by_name_.contains(candidate));
  return candidate;
}

}  // namespace braid
