// Optimizer update ops: each updates its variables in place on the variables'
// device (the handles colocate them there). Hyperparameters are scalar inputs,
// so schedules are ordinary graph computations.
#pragma once

#include "braid/graph/scope.h"

namespace braid::ops {

// var -= alpha * delta
Node* ResourceApplyGradientDescent(const Scope& scope, Input var, Input alpha, Input delta);
// accum = momentum * accum + grad; var -= lr * accum
// (Nesterov: var -= lr * grad + lr * momentum * accum)
Node* ResourceApplyMomentum(const Scope& scope, Input var, Input accum, Input lr, Input grad,
                            Input momentum, bool use_nesterov = false);
// Adam with bias correction via beta1_power / beta2_power (beta^t).
Node* ResourceApplyAdam(const Scope& scope, Input var, Input m, Input v, Input beta1_power,
                        Input beta2_power, Input lr, Input beta1, Input beta2, Input epsilon,
                        Input grad);
// accum += grad^2; var -= lr * grad / (sqrt(accum) + epsilon)
Node* ResourceApplyAdagrad(const Scope& scope, Input var, Input accum, Input lr, Input epsilon,
                           Input grad);
// ms = rho*ms + (1-rho)*grad^2; mom = momentum*mom + lr*grad/sqrt(ms+epsilon); var -= mom
Node* ResourceApplyRMSProp(const Scope& scope, Input var, Input ms, Input mom, Input lr,
                           Input rho, Input momentum, Input epsilon, Input grad);

}  // namespace braid::ops
