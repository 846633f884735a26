#include "braid/graph/ops/state_ops.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "braid/graph/op_def.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/shape_fns.h"

namespace braid {
namespace {

absl::Status ValueShapeFromAttr(InferenceContext& c) {
  // Reads see the declared shape of the variable they read, when known.
  const Node& handle = *c.node().input(0).node;
  if (handle.op() == "VarHandleOp") {
    c.set_output(0, handle.attr<TensorShape>("shape"));
  } else {
    c.set_output(0, TensorShape::UnknownRank());
  }
  return absl::OkStatus();
}

absl::Status CheckAssignedShape(InferenceContext& c) {
  const Node& handle = *c.node().input(0).node;
  if (handle.op() != "VarHandleOp") return absl::OkStatus();
  const TensorShape& declared = handle.attr<TensorShape>("shape");
  if (!declared.IsCompatibleWith(c.input_shape(1))) {
    return c.Error(absl::StrCat("value of shape ", c.input_shape(1).DebugString(),
                                " cannot be assigned to variable '", handle.name(),
                                "' of shape ", declared.DebugString()));
  }
  return absl::OkStatus();
}

BRAID_REGISTER_OP(OpDefBuilder("VarHandleOp")
                      .Output("resource: resource")
                      .TypeAttr("dtype")
                      .Attr("shape", TensorShape::UnknownRank())
                      .Attr("container", std::string())
                      .Attr("shared_name", std::string())
                      .SetIsStateful()
                      .SetShapeFn(ScalarShape)
                      .NoGradient());

BRAID_REGISTER_OP(OpDefBuilder("ReadVariableOp")
                      .Input("resource: resource")
                      .Output("value: dtype")
                      .TypeAttr("dtype")
                      .SetIsStateful()
                      .SetShapeFn(ValueShapeFromAttr)
                      // The value is a leaf: gradients are taken with respect to it.
                      .SetGradient([](const Scope&, const Node&, const std::vector<Output>&,
                                      std::vector<Output>*) { return absl::OkStatus(); }));

BRAID_REGISTER_OP(OpDefBuilder("AssignVariableOp")
                      .Input("resource: resource")
                      .Input("value: dtype")
                      .TypeAttr("dtype")
                      .SetIsStateful()
                      .SetShapeFn(CheckAssignedShape));
BRAID_REGISTER_OP(OpDefBuilder("AssignAddVariableOp")
                      .Input("resource: resource")
                      .Input("value: dtype")
                      .TypeAttr("dtype")
                      .SetIsStateful()
                      .SetShapeFn(CheckAssignedShape));
BRAID_REGISTER_OP(OpDefBuilder("AssignSubVariableOp")
                      .Input("resource: resource")
                      .Input("value: dtype")
                      .TypeAttr("dtype")
                      .SetIsStateful()
                      .SetShapeFn(CheckAssignedShape));
BRAID_REGISTER_OP(OpDefBuilder("VarIsInitializedOp")
                      .Input("resource: resource")
                      .Output("is_initialized: bool")
                      .SetIsStateful()
                      .SetShapeFn(ScalarShape)
                      .NoGradient());

// Fans of a weight shape: [in, out] for matrices, [h, w, in, out] for filters.
void Fans(const TensorShape& shape, double* fan_in, double* fan_out) {
  if (shape.rank() < 1) {
    *fan_in = *fan_out = 1;
  } else if (shape.rank() == 1) {
    *fan_in = *fan_out = static_cast<double>(shape.dim(0));
  } else {
    double receptive = 1;
    for (int i = 0; i < shape.rank() - 2; ++i) receptive *= static_cast<double>(shape.dim(i));
    *fan_in = receptive * static_cast<double>(shape.dim(shape.rank() - 2));
    *fan_out = receptive * static_cast<double>(shape.dim(shape.rank() - 1));
  }
}

Output ShapeConst(const Scope& scope, const TensorShape& shape) {
  return ops::Const(scope, Tensor::FromVector<int64_t>(shape.dims()));
}

Output RandomOp(const Scope& scope, const std::string& op, const TensorShape& shape, DType dtype,
                int64_t seed) {
  int64_t seed2 = 0;
  if (seed == 0 && scope.graph()->seed()) {
    seed = *scope.graph()->seed();
    seed2 = scope.graph()->num_nodes();
  }
  return scope.AddOp(op, {ShapeConst(scope, shape)},
                     {{"dtype", dtype}, {"seed", seed}, {"seed2", seed2}});
}

// The standard deviation of a normal truncated at two standard deviations is
// 0.8796 of the untruncated one; dividing by it keeps the intended variance.
constexpr double kTruncatedStddevFactor = 0.87962566103423978;

}  // namespace

namespace ops {

Output InitialValue(const Scope& scope, const TensorShape& shape, DType dtype,
                    const Initializer& init) {
  using Kind = Initializer::Kind;
  if (!shape.IsFullyDefined()) {
    scope.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
        "a variable initializer needs a fully defined shape, got ", shape.DebugString())));
    return Output();
  }
  double fan_in, fan_out;
  Fans(shape, &fan_in, &fan_out);
  auto scaled = [&](Output unit, double scale, double shift) {
    Output v = scope.AddOp("Mul", {unit, Input(scale)});
    return shift == 0 ? v : scope.AddOp("Add", {v, Input(shift)});
  };
  switch (init.kind) {
    case Kind::kZeros:
    case Kind::kOnes:
    case Kind::kConstant: {
      double v = init.kind == Kind::kZeros ? 0 : init.kind == Kind::kOnes ? 1 : init.value;
      return scope.AddOp("Fill", {ShapeConst(scope, shape), Const(scope, Input(v), dtype)});
    }
    case Kind::kRandomUniform:
      return scaled(RandomOp(scope, "RandomUniform", shape, dtype, init.seed),
                    init.maxval - init.minval, init.minval);
    case Kind::kRandomNormal:
      return scaled(RandomOp(scope, "RandomStandardNormal", shape, dtype, init.seed), init.stddev,
                    init.mean);
    case Kind::kTruncatedNormal:
      return scaled(RandomOp(scope, "TruncatedNormal", shape, dtype, init.seed), init.stddev,
                    init.mean);
    case Kind::kGlorotUniform:
    case Kind::kHeUniform: {
      double limit = init.kind == Kind::kGlorotUniform ? std::sqrt(6.0 / (fan_in + fan_out))
                                                       : std::sqrt(6.0 / fan_in);
      return scaled(RandomOp(scope, "RandomUniform", shape, dtype, init.seed), 2 * limit, -limit);
    }
    case Kind::kGlorotNormal:
    case Kind::kHeNormal: {
      double stddev = init.kind == Kind::kGlorotNormal ? std::sqrt(2.0 / (fan_in + fan_out))
                                                       : std::sqrt(2.0 / fan_in);
      return scaled(RandomOp(scope, "TruncatedNormal", shape, dtype, init.seed),
                    stddev / kTruncatedStddevFactor, 0);
    }
  }
  return Output();
}

Output VarHandleOp(const Scope& scope, DType dtype, const TensorShape& shape,
                   const std::string& shared_name) {
  return scope.AddOp("VarHandleOp", {},
                     {{"dtype", dtype}, {"shape", shape}, {"shared_name", shared_name}});
}
Output ReadVariableOp(const Scope& scope, Input handle, DType dtype) {
  return scope.AddOp("ReadVariableOp", {handle}, {{"dtype", dtype}});
}
Node* AssignVariableOp(const Scope& scope, Input handle, Input value) {
  return scope.AddNode("AssignVariableOp", {handle, value});
}
Node* AssignAddVariableOp(const Scope& scope, Input handle, Input value) {
  return scope.AddNode("AssignAddVariableOp", {handle, value});
}
Node* AssignSubVariableOp(const Scope& scope, Input handle, Input value) {
  return scope.AddNode("AssignSubVariableOp", {handle, value});
}
Output VarIsInitializedOp(const Scope& scope, Input handle) {
  return scope.AddOp("VarIsInitializedOp", {handle});
}

namespace {
Output UpdateThenRead(const Scope& scope, const std::string& op, const Variable& var,
                      Input value) {
  Node* update = scope.AddNode(op, {var.handle, value});
  if (update == nullptr) return Output();
  return ReadVariableOp(scope.WithControlDependencies(std::vector<Node*>{update}), var.handle,
                        var.value.dtype());
}
}  // namespace

Output Assign(const Scope& scope, const Variable& var, Input value) {
  return UpdateThenRead(scope, "AssignVariableOp", var, value);
}
Output AssignAdd(const Scope& scope, const Variable& var, Input value) {
  return UpdateThenRead(scope, "AssignAddVariableOp", var, value);
}
Output AssignSub(const Scope& scope, const Variable& var, Input value) {
  return UpdateThenRead(scope, "AssignSubVariableOp", var, value);
}

Variable MakeVariable(const Scope& scope, const std::string& name, const TensorShape& shape,
                      DType dtype, const Initializer& init, bool trainable) {
  Variable v;
  // The handle's node carries the variable's own name ("dense/kernel"), which
  // is also the name of the resource on its device.
  v.handle = scope.WithOpName(name).AddOp("VarHandleOp", {}, {{"dtype", dtype}, {"shape", shape}});
  if (!v.handle.valid()) return Variable();
  Scope colocated = scope.NewSubScopeUnder(v.handle.node).ColocateWith(v.handle);
  v.value = ReadVariableOp(colocated.WithOpName("read"), v.handle, dtype);
  Output initial = InitialValue(colocated.NewSubScope("initializer"), shape, dtype, init);
  v.initializer = AssignVariableOp(colocated.WithOpName("assign"), v.handle, initial);
  if (!scope.ok()) return Variable();
  Graph* g = scope.graph();
  g->AddToCollection("variables", v.handle.node);
  if (trainable) g->AddToCollection("trainable_variables", v.handle.node);
  g->AddToCollection("initializers", v.initializer);
  return v;
}

Node* GlobalVariablesInitializer(const Scope& scope) {
  const std::vector<Node*>& inits = scope.graph()->collection("initializers");
  return Group(scope.WithOpName("init"), inits);
}

}  // namespace ops
}  // namespace braid
