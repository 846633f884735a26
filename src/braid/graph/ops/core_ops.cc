#include "braid/graph/ops/core_ops.h"

#include "absl/strings/str_cat.h"
#include "braid/graph/op_def.h"
#include "braid/graph/ops/shape_fns.h"

namespace braid {
namespace {

absl::Status IdentityGrad(const Scope&, const Node&, const std::vector<Output>& dy,
                          std::vector<Output>* dx) {
  (*dx)[0] = dy[0];
  return absl::OkStatus();
}

BRAID_REGISTER_OP(OpDefBuilder("Const")
                      .Output("output: dtype")
                      .RequiredAttr("value")
                      .TypeAttr("dtype")
                      .SetShapeFn([](InferenceContext& c) {
                        const Tensor& v = c.attr<Tensor>("value");
                        if (v.dtype() != c.attr<DType>("dtype")) {
                          return c.Error(absl::StrCat("value has dtype ", DTypeName(v.dtype()),
                                                      " but dtype attr is ",
                                                      DTypeName(c.attr<DType>("dtype"))));
                        }
                        c.set_output(0, v.shape());
                        return absl::OkStatus();
                      })
                      .NoGradient());

BRAID_REGISTER_OP(OpDefBuilder("Placeholder")
                      .Output("output: dtype")
                      .TypeAttr("dtype")
                      .Attr("shape", TensorShape::UnknownRank())
                      .SetShapeFn([](InferenceContext& c) {
                        c.set_output(0, c.attr<TensorShape>("shape"));
                        return absl::OkStatus();
                      })
                      .NoGradient());

BRAID_REGISTER_OP(OpDefBuilder("Identity")
                      .Input("input: T")
                      .Output("output: T")
                      .TypeAttr("T")
                      .SetShapeFn(UnchangedShape)
                      .SetGradient(IdentityGrad));

BRAID_REGISTER_OP(OpDefBuilder("StopGradient")
                      .Input("input: T")
                      .Output("output: T")
                      .TypeAttr("T")
                      .SetShapeFn(UnchangedShape)
                      .NoGradient());

BRAID_REGISTER_OP(OpDefBuilder("NoOp"));

BRAID_REGISTER_OP(OpDefBuilder("AddN")
                      .Input("inputs: N * T")
                      .Output("sum: T")
                      .Attr("N", int64_t{1})
                      .TypeAttr("T", {DType::kFloat, DType::kDouble, DType::kInt32,
                                      DType::kInt64})
                      .SetShapeFn([](InferenceContext& c) {
                        TensorShape s = c.input_shape(0);
                        for (int i = 1; i < c.num_inputs(); ++i) {
                          absl::StatusOr<TensorShape> m = s.Merge(c.input_shape(i));
                          if (!m.ok()) return c.Error(absl::StrCat("input ", i, ": ",
                                                                   m.status().message()));
                          s = *m;
                        }
                        c.set_output(0, s);
                        return absl::OkStatus();
                      })
                      .SetGradient([](const Scope&, const Node& n, const std::vector<Output>& dy,
                                      std::vector<Output>* dx) {
                        for (int i = 0; i < n.num_inputs(); ++i) (*dx)[i] = dy[0];
                        return absl::OkStatus();
                      }));

BRAID_REGISTER_OP(OpDefBuilder("ZerosLike")
                      .Input("x: T")
                      .Output("y: T")
                      .TypeAttr("T")
                      .SetShapeFn(UnchangedShape)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("OnesLike")
                      .Input("x: T")
                      .Output("y: T")
                      .TypeAttr("T")
                      .SetShapeFn(UnchangedShape)
                      .NoGradient());

// Runtime-inserted ops. _Feed/_Fetch move values between the caller and a
// step (attr index = position in the feed/fetch list); _Send/_Recv carry one
// cut edge between devices through the step's rendezvous.
BRAID_REGISTER_OP(OpDefBuilder("_Feed")
                      .Output("output: T")
                      .TypeAttr("T")
                      .Attr("index", int64_t{0})
                      .Attr("shape", TensorShape::UnknownRank())
                      .SetShapeFn([](InferenceContext& c) {
                        c.set_output(0, c.attr<TensorShape>("shape"));
                        return absl::OkStatus();
                      })
                      .SetIsStateful());
BRAID_REGISTER_OP(OpDefBuilder("_Fetch")
                      .Input("input: T")
                      .TypeAttr("T")
                      .Attr("index", int64_t{0})
                      .SetIsStateful());
BRAID_REGISTER_OP(OpDefBuilder("_Send")
                      .Input("tensor: T")
                      .TypeAttr("T")
                      .RequiredAttr("tensor_name")
                      .RequiredAttr("send_device")
                      .RequiredAttr("send_device_incarnation")
                      .RequiredAttr("recv_device")
                      .SetIsStateful());
BRAID_REGISTER_OP(OpDefBuilder("_Recv")
                      .Output("tensor: tensor_type")
                      .TypeAttr("tensor_type")
                      .RequiredAttr("tensor_name")
                      .RequiredAttr("send_device")
                      .RequiredAttr("send_device_incarnation")
                      .RequiredAttr("recv_device")
                      .Attr("shape", TensorShape::UnknownRank())
                      .SetShapeFn([](InferenceContext& c) {
                        c.set_output(0, c.attr<TensorShape>("shape"));
                        return absl::OkStatus();
                      })
                      .SetIsStateful());

}  // namespace

namespace ops {

Output Const(const Scope& scope, const Input& value, DType dtype) {
  if (!value.is_literal()) return value.output();
  Tensor t = value.literal();
  if (dtype != DType::kInvalid && dtype != t.dtype()) {
    absl::StatusOr<Tensor> cast = CastLiteral(t, dtype);
    if (!cast.ok()) {
      scope.UpdateStatus(cast.status());
      return Output();
    }
    t = *std::move(cast);
  }
  return scope.AddOp("Const", {}, {{"value", t}, {"dtype", t.dtype()}});
}

Output Placeholder(const Scope& scope, DType dtype, const TensorShape& shape) {
  return scope.AddOp("Placeholder", {}, {{"dtype", dtype}, {"shape", shape}});
}

Output Identity(const Scope& scope, const Input& x) { return scope.AddOp("Identity", {x}); }
Output StopGradient(const Scope& scope, const Input& x) {
  return scope.AddOp("StopGradient", {x});
}
Node* NoOp(const Scope& scope) { return scope.AddNode("NoOp", {}); }
Node* Group(const Scope& scope, const std::vector<Output>& deps) {
  return NoOp(scope.WithControlDependencies(deps));
}
Node* Group(const Scope& scope, const std::vector<Node*>& deps) {
  return NoOp(scope.WithControlDependencies(deps));
}
Output AddN(const Scope& scope, const std::vector<Output>& values) {
  std::vector<Input> in(values.begin(), values.end());
  return scope.AddOp("AddN", in);
}
Output ZerosLike(const Scope& scope, const Input& x) { return scope.AddOp("ZerosLike", {x}); }
Output OnesLike(const Scope& scope, const Input& x) { return scope.AddOp("OnesLike", {x}); }

}  // namespace ops
}  // namespace braid
