#include "braid/graph/ops/training_ops.h"

#include "braid/graph/op_def.h"

namespace braid {
namespace {

const std::vector<DType> kFloatTypes = {DType::kFloat, DType::kDouble};

BRAID_REGISTER_OP(OpDefBuilder("ResourceApplyGradientDescent")
                      .Input("var: resource")
                      .Input("alpha: T")
                      .Input("delta: T")
                      .TypeAttr("T", kFloatTypes)
                      .Attr("use_locking", false)
                      .SetIsStateful());
BRAID_REGISTER_OP(OpDefBuilder("ResourceApplyMomentum")
                      .Input("var: resource")
                      .Input("accum: resource")
                      .Input("lr: T")
                      .Input("grad: T")
                      .Input("momentum: T")
                      .TypeAttr("T", kFloatTypes)
                      .Attr("use_locking", false)
                      .Attr("use_nesterov", false)
                      .SetIsStateful());
BRAID_REGISTER_OP(OpDefBuilder("ResourceApplyAdam")
                      .Input("var: resource")
                      .Input("m: resource")
                      .Input("v: resource")
                      .Input("beta1_power: T")
                      .Input("beta2_power: T")
                      .Input("lr: T")
                      .Input("beta1: T")
                      .Input("beta2: T")
                      .Input("epsilon: T")
                      .Input("grad: T")
                      .TypeAttr("T", kFloatTypes)
                      .Attr("use_locking", false)
                      .Attr("use_nesterov", false)
                      .SetIsStateful());
BRAID_REGISTER_OP(OpDefBuilder("ResourceApplyAdagradV2")
                      .Input("var: resource")
                      .Input("accum: resource")
                      .Input("lr: T")
                      .Input("epsilon: T")
                      .Input("grad: T")
                      .TypeAttr("T", kFloatTypes)
                      .Attr("use_locking", false)
                      .Attr("update_slots", true)
                      .SetIsStateful());
BRAID_REGISTER_OP(OpDefBuilder("ResourceApplyRMSProp")
                      .Input("var: resource")
                      .Input("ms: resource")
                      .Input("mom: resource")
                      .Input("lr: T")
                      .Input("rho: T")
                      .Input("momentum: T")
                      .Input("epsilon: T")
                      .Input("grad: T")
                      .TypeAttr("T", kFloatTypes)
                      .Attr("use_locking", false)
                      .SetIsStateful());

}  // namespace

namespace ops {

Node* ResourceApplyGradientDescent(const Scope& scope, Input var, Input alpha, Input delta) {
  return scope.AddNode("ResourceApplyGradientDescent", {var, alpha, delta});
}
Node* ResourceApplyMomentum(const Scope& scope, Input var, Input accum, Input lr, Input grad,
                            Input momentum, bool use_nesterov) {
  return scope.AddNode("ResourceApplyMomentum", {var, accum, lr, grad, momentum},
                       {{"use_nesterov", use_nesterov}});
}
Node* ResourceApplyAdam(const Scope& scope, Input var, Input m, Input v, Input beta1_power,
                        Input beta2_power, Input lr, Input beta1, Input beta2, Input epsilon,
                        Input grad) {
  return scope.AddNode("ResourceApplyAdam",
                       {var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad});
}
Node* ResourceApplyAdagrad(const Scope& scope, Input var, Input accum, Input lr, Input epsilon,
                           Input grad) {
  return scope.AddNode("ResourceApplyAdagradV2", {var, accum, lr, epsilon, grad});
}
Node* ResourceApplyRMSProp(const Scope& scope, Input var, Input ms, Input mom, Input lr,
                           Input rho, Input momentum, Input epsilon, Input grad) {
  return scope.AddNode("ResourceApplyRMSProp", {var, ms, mom, lr, rho, momentum, epsilon, grad});
}

}  // namespace ops
}  // namespace braid
