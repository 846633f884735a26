// Random ops: RandomUniform, RandomStandardNormal and TruncatedNormal
// (TensorFlow's names and attrs: dtype, seed, seed2; input `shape` int32 or
// int64). They are stateful: each run draws new values.
//
// Note [Random seeds]
// A kernel owns one generator, seeded from (seed, seed2) when it is built and
// advanced by every run, so a program with fixed seeds produces the same
// values, run after run of the program. The wrappers derive the seeds as
// TensorFlow does:
//   graph seed G set:   (G, op seed, or the graph's node count when it is 0);
//   only an op seed s:  (87654321, s);
//   neither:            (0, 0), which makes the kernel seed itself randomly.
#pragma once

#include <cstdint>

#include "braid/graph/scope.h"

namespace braid::ops {

// Uniform in [0, 1).
Output RandomUniform(const Scope& scope, Input shape, DType dtype = DType::kFloat,
                     int64_t seed = 0);
// Standard normal (RandomStandardNormal).
Output RandomNormal(const Scope& scope, Input shape, DType dtype = DType::kFloat, int64_t seed = 0);
// Standard normal with draws beyond 2 standard deviations redrawn.
Output TruncatedNormal(const Scope& scope, Input shape, DType dtype = DType::kFloat,
                       int64_t seed = 0);

}  // namespace braid::ops
