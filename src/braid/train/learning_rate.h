// Learning-rate schedules: functions of the global step that build the rate
// as graph ops, so it changes as training goes without rebuilding the graph.
#pragma once

#include <functional>
#include <vector>

#include "braid/graph/scope.h"

namespace braid {

// Builds a float32 scalar from the int64 global step.
using LearningRate = std::function<Output(const Scope& scope, Output global_step)>;

LearningRate ConstantLearningRate(float rate);
// rate * decay_rate ^ (step / decay_steps); `staircase` floors the exponent.
LearningRate ExponentialDecay(float rate, int64_t decay_steps, float decay_rate,
                              bool staircase = false);
// values[i] while step <= boundaries[i] (values has one more entry).
LearningRate PiecewiseConstant(std::vector<int64_t> boundaries, std::vector<float> values);
// rate * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)
LearningRate CosineDecay(float rate, int64_t decay_steps, float alpha = 0.f);

}  // namespace braid
