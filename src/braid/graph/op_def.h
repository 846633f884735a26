// The op registry. An op is one registration record: its signature (typed
// inputs and outputs), attrs with defaults, a shape function and, when it is
// differentiable, a gradient built from other ops. Kernels are registered
// separately, per device and dtype (kernels/op_kernel.h).
//
//   BRAID_REGISTER_OP(OpDefBuilder("MatMul")
//                         .Input("a: T").Input("b: T").Output("product: T")
//                         .TypeAttr("T", {DType::kFloat, DType::kDouble})
//                         .Attr("transpose_a", false)
//                         .SetShapeFn(MatMulShape)
//                         .SetGradient(MatMulGrad));
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/graph/attr_value.h"

namespace braid {

class InferenceContext;
class Node;
class Scope;
struct Output;

// One input or output. Its type is either fixed (`x: float`, `h: resource`) or
// named by a type attr (`x: T`); `values: N * T` is a list whose length is the
// int attr N (at most one list per signature).
struct ArgDef {
  std::string name;
  DType fixed_type = DType::kInvalid;
  std::string type_attr;
  std::string number_attr;
};

struct AttrDef {
  std::string name;
  // Set when the attr is optional.
  std::optional<AttrValue> default_value;
  // For type attrs: the dtypes allowed (empty: any).
  std::vector<DType> allowed_types;
  bool is_type = false;
};

using ShapeFn = std::function<absl::Status(InferenceContext&)>;
// Builds d(loss)/d(inputs) for `node` from d(loss)/d(outputs). `grad_outputs`
// has one entry per output of the node (zeros where no gradient flows);
// `grad_inputs` is pre-sized to the node's inputs, and entries left invalid
// mean "no gradient for this input".
using GradFn = std::function<absl::Status(const Scope& scope, const Node& node,
                                          const std::vector<Output>& grad_outputs,
                                          std::vector<Output>* grad_inputs)>;

struct OpDef {
  std::string name;
  std::vector<ArgDef> inputs;
  std::vector<ArgDef> outputs;
  std::vector<AttrDef> attrs;
  // Stateful ops are never pruned as duplicates, never constant-folded, and
  // keep their placement across graph extensions.
  bool is_stateful = false;
  ShapeFn shape_fn;
  GradFn grad_fn;
  // True for ops through which no gradient flows (Shape, ArgMax, Equal, ...).
  bool no_gradient = false;

  const AttrDef* FindAttr(const std::string& attr_name) const;
};

class OpDefBuilder {
 public:
  explicit OpDefBuilder(std::string name) { def_.name = std::move(name); }
  // "name: T", "name: float", "name: N * T", "name: resource".
  OpDefBuilder& Input(const std::string& spec);
  OpDefBuilder& Output(const std::string& spec);
  // A required attr of kind `type` with the allowed dtypes (empty: any).
  OpDefBuilder& TypeAttr(const std::string& name, std::vector<DType> allowed = {});
  // An optional type attr with a default.
  OpDefBuilder& TypeAttrWithDefault(const std::string& name, DType default_type,
                                    std::vector<DType> allowed = {});
  // An optional attr with a default value, which also fixes its kind.
  OpDefBuilder& Attr(const std::string& name, AttrValue default_value);
  // A required attr of any kind other than `type`.
  OpDefBuilder& RequiredAttr(const std::string& name);
  OpDefBuilder& SetIsStateful() {
    def_.is_stateful = true;
    return *this;
  }
  OpDefBuilder& SetShapeFn(ShapeFn fn) {
    def_.shape_fn = std::move(fn);
    return *this;
  }
  OpDefBuilder& SetGradient(GradFn fn) {
    def_.grad_fn = std::move(fn);
    return *this;
  }
  OpDefBuilder& NoGradient() {
    def_.no_gradient = true;
    return *this;
  }
  OpDef Build() && { return std::move(def_); }

 private:
  OpDef def_;
};

class OpRegistry {
 public:
  static OpRegistry* Global();
  // REQUIRES: no op of that name registered yet (checked).
  void Register(OpDef def);
  // nullptr when unknown.
  const OpDef* Find(const std::string& name) const;
  absl::StatusOr<const OpDef*> Lookup(const std::string& name) const;
  std::vector<std::string> ListOps() const;

 private:
  std::map<std::string, OpDef> ops_;
};

namespace internal {
struct OpRegistrar {
  explicit OpRegistrar(OpDefBuilder builder) {
    OpRegistry::Global()->Register(std::move(builder).Build());
  }
};
}  // namespace internal

#define BRAID_REGISTER_OP(builder) BRAID_REGISTER_OP_UNIQ(__COUNTER__, builder)
#define BRAID_REGISTER_OP_UNIQ(ctr, builder) BRAID_REGISTER_OP_UNIQ2(ctr, builder)
#define BRAID_REGISTER_OP_UNIQ2(ctr, builder) \
  [[maybe_unused]] static ::braid::internal::OpRegistrar braid_op_registrar_##ctr(builder)

}  // namespace braid
