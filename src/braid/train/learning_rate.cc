#include "braid/train/learning_rate.h"

#include <numbers>

#include "absl/strings/str_cat.h"
#include "braid/graph/ops/core_ops.h"

namespace braid {
namespace {

Output StepAsFloat(const Scope& s, Output step) {
  return s.AddOp("Cast", {step}, {{"DstT", DType::kFloat}});
}

}  // namespace

LearningRate ConstantLearningRate(float rate) {
  return [rate](const Scope& s, Output) { return ops::Const(s, rate); };
}

LearningRate ExponentialDecay(float rate, int64_t decay_steps, float decay_rate, bool staircase) {
  return [=](const Scope& scope, Output step) {
    Scope s = scope.NewSubScope("ExponentialDecay");
    if (decay_steps <= 0) {
      s.UpdateStatus(absl::InvalidArgumentError(
          absl::StrCat("ExponentialDecay: decay_steps is ", decay_steps, "; it must be > 0")));
      return Output();
    }
    Output p = s.AddOp("Div", {StepAsFloat(s, step), static_cast<float>(decay_steps)});
    if (staircase) p = s.AddOp("Floor", {p});
    return s.AddOp("Mul", {rate, s.AddOp("Pow", {decay_rate, p})});
  };
}

LearningRate PiecewiseConstant(std::vector<int64_t> boundaries, std::vector<float> values) {
  return [=](const Scope& scope, Output step) {
    Scope s = scope.NewSubScope("PiecewiseConstant");
    if (values.size() != boundaries.size() + 1) {
      s.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
          "PiecewiseConstant: ", boundaries.size(), " boundaries need ", boundaries.size() + 1,
          " values, got ", values.size())));
      return Output();
    }
    // Walk the boundaries from the last: the first one the step does not
    // exceed picks the value.
    Output rate = ops::Const(s, values.back());
    for (size_t i = boundaries.size(); i-- > 0;) {
      Output within = s.AddOp("LessEqual", {step, Input(boundaries[i])});
      rate = s.AddOp("SelectV2", {within, values[i], rate});
    }
    return rate;
  };
}

LearningRate CosineDecay(float rate, int64_t decay_steps, float alpha) {
  return [=](const Scope& scope, Output step) {
    Scope s = scope.NewSubScope("CosineDecay");
    if (decay_steps <= 0) {
      s.UpdateStatus(absl::InvalidArgumentError(
          absl::StrCat("CosineDecay: decay_steps is ", decay_steps, "; it must be > 0")));
      return Output();
    }
    Output t = s.AddOp("Minimum", {StepAsFloat(s, step), static_cast<float>(decay_steps)});
    Output frac = s.AddOp("Div", {t, static_cast<float>(decay_steps)});
    Output cosine = s.AddOp(
        "Mul", {0.5f, s.AddOp("Add", {1.f, s.AddOp("Cos", {s.AddOp("Mul", {frac, std::numbers::pi_v<float>})})})});
    Output decayed = s.AddOp("Add", {s.AddOp("Mul", {1.f - alpha, cosine}), alpha});
    return s.AddOp("Mul", {rate, decayed});
  };
}

}  // namespace braid
