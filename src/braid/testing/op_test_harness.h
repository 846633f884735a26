// The one op-test table mechanism: every op family lists OpCases in its
// *_op_table_test.cc, and CheckOp verifies each case three ways:
//   1. forward: the kernel's result against an independent reference;
//   2. shape function: the statically inferred shape (input shapes and
//      non-float input values known) equals the shape the kernel produced;
//   3. gradient: AddGradients' symbolic gradient against central finite
//      differences, for every floating-point input (or those listed).
// Test-only code: links the whole runtime.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/graph/scope.h"
#include "braid/tensor/tensor.h"

namespace braid::testing {

struct OpCase {
  std::string name;
  // Builds the op under test from one Output per entry of `inputs`: floating-
  // point inputs become Placeholders of their full shape (fed each run);
  // others (shapes, axes, indices, labels) become Consts, so shape functions
  // see their values. Returns the output to check.
  std::function<Output(const Scope&, const std::vector<Output>&)> build;
  std::vector<Tensor> inputs;
  // Computes the expected output from the inputs with plain loops (or returns
  // a literal). Its dtype and shape must match exactly.
  std::function<Tensor(const std::vector<Tensor>&)> reference;
  double tolerance = 1e-5;  // |got - want| <= tol * (1 + |want|)
  bool check_gradient = true;
  // Inputs to differentiate against; empty = every floating-point input.
  std::vector<int> grad_inputs;
  double grad_tolerance = 2e-2;  // relative to max(1, |numeric|)
  double delta = 1e-3;           // finite-difference step
};

// Runs the three checks with gtest EXPECTs; failures name the case.
void CheckOp(const OpCase& c);

// Deterministic uniform values in [lo, hi).
Tensor RandomTensor(const TensorShape& shape, uint64_t seed, float lo = -1.f, float hi = 1.f);

// Runs `fetches` of the scope's graph in a fresh local session.
absl::StatusOr<std::vector<Tensor>> Evaluate(const Scope& scope,
                                             const std::vector<std::pair<Output, Tensor>>& feeds,
                                             const std::vector<Output>& fetches);

}  // namespace braid::testing
