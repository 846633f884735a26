#include "braid/graph/scope.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "braid/graph/device_name.h"

namespace braid {

Scope Scope::NewRootScope() {
  Scope s;
  s.state_ = std::make_shared<State>();
  s.state_->graph = std::make_shared<Graph>();
  return s;
}

Scope Scope::NewSubScope(const std::string& name) const {
  Scope s = *this;
  s.op_name_.clear();
  if (!name.empty()) s.prefix_ = graph()->UniqueName(prefix_ + name) + "/";
  return s;
}

Scope Scope::NewSubScopeUnder(const Node* node) const {
  Scope s = *this;
  s.op_name_.clear();
  s.prefix_ = node->name() + "/";
  return s;
}

Scope Scope::WithOpName(const std::string& name) const {
  Scope s = *this;
  s.op_name_ = name;
  return s;
}

Scope Scope::WithDevice(const std::string& device) const {
  Scope s = *this;
  absl::StatusOr<std::string> merged = MergeDeviceStrings(device_, device);
  if (!merged.ok()) {
    s.UpdateStatus(merged.status());
  } else {
    s.device_ = *merged;
  }
  return s;
}

Scope Scope::WithControlDependencies(const std::vector<Output>& deps) const {
  Scope s = *this;
  for (const Output& o : deps) {
    if (!o.valid()) {
      s.UpdateStatus(absl::InvalidArgumentError("control dependency on an op that failed to build"));
      continue;
    }
    s.control_deps_.push_back(o.node);
  }
  return s;
}

Scope Scope::WithControlDependencies(const std::vector<Node*>& deps) const {
  Scope s = *this;
  for (Node* n : deps) {
    if (n == nullptr) {
      s.UpdateStatus(absl::InvalidArgumentError("control dependency on an op that failed to build"));
      continue;
    }
    s.control_deps_.push_back(n);
  }
  return s;
}

Scope Scope::ColocateWith(const Output& o) const {
  Scope s = *this;
  if (o.valid()) {
    s.colocate_with_ = o.node->name();
    s.device_.clear();  // the colocation decides, as in TensorFlow
  }
  return s;
}

void Scope::UpdateStatus(const absl::Status& s) const {
  if (state_->status.ok() && !s.ok()) state_->status = s;
}

absl::StatusOr<Tensor> CastLiteral(const Tensor& lit, DType dtype) {
  if (lit.dtype() == dtype) return lit;
  Tensor out(dtype, lit.shape());
  bool ok = true;
  auto read = [&](int64_t i) -> double {
    switch (lit.dtype()) {
      case DType::kFloat: return lit.data<float>()[i];
      case DType::kDouble: return lit.data<double>()[i];
      case DType::kInt32: return lit.data<int32_t>()[i];
      case DType::kInt64: return static_cast<double>(lit.data<int64_t>()[i]);
      case DType::kBool: return lit.data<bool>()[i] ? 1 : 0;
      default: ok = false; return 0;
    }
  };
  for (int64_t i = 0; i < lit.NumElements() && ok; ++i) {
    double v = read(i);
    bool integral = v == std::floor(v);
    switch (dtype) {
      case DType::kFloat: out.data<float>()[i] = static_cast<float>(v); break;
      case DType::kDouble: out.data<double>()[i] = v; break;
      case DType::kInt32: ok = integral; out.data<int32_t>()[i] = static_cast<int32_t>(v); break;
      case DType::kInt64: ok = integral; out.data<int64_t>()[i] = static_cast<int64_t>(v); break;
      case DType::kUInt8: ok = integral && v >= 0 && v < 256;
        out.data<uint8_t>()[i] = static_cast<uint8_t>(v); break;
      case DType::kBool: out.data<bool>()[i] = v != 0; break;
      default: ok = false;
    }
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("literal ", lit.DebugString(),
                                                   " cannot be converted to ", DTypeName(dtype)));
  }
  return out;
}

Output Scope::ToOutput(const Input& in, DType want) const {
  if (!in.is_literal()) return in.output();
  if (!ok()) return Output();
  Tensor value = in.literal();
  if (want != DType::kInvalid && want != value.dtype()) {
    absl::StatusOr<Tensor> cast = CastLiteral(value, want);
    if (!cast.ok()) {
      UpdateStatus(cast.status());
      return Output();
    }
    value = *cast;
  }
  // The Const of a literal argument is named "Const", not after the op the
  // scope names.
  Scope plain = *this;
  plain.op_name_.clear();
  return plain.AddOp("Const", {}, {{"value", value}, {"dtype", value.dtype()}});
}

Node* Scope::AddNode(const std::string& op, const std::vector<Input>& inputs,
                     AttrMap attrs) const {
  if (!ok()) return nullptr;
  const OpDef* def = OpRegistry::Global()->Find(op);
  if (def == nullptr) {
    UpdateStatus(absl::NotFoundError(absl::StrCat("op '", op, "' is not registered")));
    return nullptr;
  }
  // Literals take the dtype their argument needs: a fixed type, or the type
  // attr as set in attrs or by a non-literal input sharing it.
  std::vector<const ArgDef*> arg_of(inputs.size(), nullptr);
  {
    int num_lists = 0;
    for (const ArgDef& a : def->inputs) num_lists += a.number_attr.empty() ? 0 : 1;
    int list_len = static_cast<int>(inputs.size()) - (static_cast<int>(def->inputs.size()) - num_lists);
    size_t pos = 0;
    for (const ArgDef& a : def->inputs) {
      int count = a.number_attr.empty() ? 1 : list_len;
      for (int k = 0; k < count && pos < inputs.size(); ++k) arg_of[pos++] = &a;
    }
  }
  auto wanted = [&](size_t i) -> DType {
    const ArgDef* a = arg_of[i];
    if (a == nullptr) return DType::kInvalid;
    if (a->fixed_type != DType::kInvalid) return a->fixed_type;
    auto it = attrs.find(a->type_attr);
    if (it != attrs.end() && std::holds_alternative<DType>(it->second))
      return std::get<DType>(it->second);
    for (size_t j = 0; j < inputs.size(); ++j) {
      if (j != i && !inputs[j].is_literal() && arg_of[j] && arg_of[j]->type_attr == a->type_attr &&
          inputs[j].output().valid()) {
        return inputs[j].output().dtype();
      }
    }
    return DType::kInvalid;
  };
  NodeSpec spec;
  spec.op = op;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Output o = ToOutput(inputs[i], inputs[i].is_literal() ? wanted(i) : DType::kInvalid);
    if (!ok()) return nullptr;
    spec.inputs.push_back(o);
  }
  spec.name = graph()->UniqueName(prefix_ + (op_name_.empty() ? op : op_name_));
  spec.control_inputs = control_deps_;
  spec.device = device_;
  spec.attrs = std::move(attrs);
  if (!colocate_with_.empty()) {
    spec.attrs["_class"] = std::vector<std::string>{"loc:@" + colocate_with_};
  }
  absl::StatusOr<Node*> node = graph()->AddNode(std::move(spec));
  if (!node.ok()) {
    UpdateStatus(node.status());
    return nullptr;
  }
  return *node;
}

Output Scope::AddOp(const std::string& op, const std::vector<Input>& inputs, AttrMap attrs) const {
  Node* n = AddNode(op, inputs, std::move(attrs));
  if (n == nullptr || n->num_outputs() == 0) return Output();
  return Output(n, 0);
}

std::vector<Output> Scope::AddOpOutputs(const std::string& op, const std::vector<Input>& inputs,
                                        AttrMap attrs) const {
  Node* n = AddNode(op, inputs, std::move(attrs));
  std::vector<Output> outs;
  if (n == nullptr) return outs;
  for (int i = 0; i < n->num_outputs(); ++i) outs.push_back(Output(n, i));
  return outs;
}

}  // namespace braid
