// Variables: resources that live on a device across steps. A variable is a
// VarHandleOp (the handle; placed where the variable lives), ReadVariableOp
// (a snapshot of its value) and Assign*VariableOp (updates). Every op that
// takes the handle is colocated with it by the placer.
#pragma once

#include <string>
#include <vector>

#include "braid/graph/scope.h"

namespace braid {

// How a variable gets its first value.
struct Initializer {
  enum class Kind {
    kZeros, kOnes, kConstant, kRandomUniform, kRandomNormal, kTruncatedNormal,
    kGlorotUniform, kGlorotNormal, kHeUniform, kHeNormal,
  };
  Kind kind = Kind::kGlorotUniform;
  float value = 0;    // kConstant
  float minval = -0.05f, maxval = 0.05f;  // kRandomUniform
  float mean = 0, stddev = 0.05f;         // kRandomNormal, kTruncatedNormal
  int64_t seed = 0;   // 0: derived from the graph seed, or random without one

  static Initializer Zeros() { return {Kind::kZeros}; }
  static Initializer Ones() { return {Kind::kOnes}; }
  static Initializer Constant(float v) { Initializer i{Kind::kConstant}; i.value = v; return i; }
  static Initializer RandomUniform(float lo, float hi, int64_t seed = 0) {
    Initializer i{Kind::kRandomUniform}; i.minval = lo; i.maxval = hi; i.seed = seed; return i;
  }
  static Initializer RandomNormal(float mean, float stddev, int64_t seed = 0) {
    Initializer i{Kind::kRandomNormal}; i.mean = mean; i.stddev = stddev; i.seed = seed; return i;
  }
  static Initializer TruncatedNormal(float mean, float stddev, int64_t seed = 0) {
    Initializer i{Kind::kTruncatedNormal}; i.mean = mean; i.stddev = stddev; i.seed = seed;
    return i;
  }
  static Initializer GlorotUniform(int64_t seed = 0) { Initializer i{Kind::kGlorotUniform}; i.seed = seed; return i; }
  static Initializer GlorotNormal(int64_t seed = 0) { Initializer i{Kind::kGlorotNormal}; i.seed = seed; return i; }
  static Initializer HeUniform(int64_t seed = 0) { Initializer i{Kind::kHeUniform}; i.seed = seed; return i; }
  static Initializer HeNormal(int64_t seed = 0) { Initializer i{Kind::kHeNormal}; i.seed = seed; return i; }
};

// The handle, a read of the value, and the op that initializes it.
struct Variable {
  Output handle;
  Output value;  // ReadVariableOp; use this in computations
  Node* initializer = nullptr;
  bool valid() const { return handle.valid(); }
};

namespace ops {

// Creates a variable of `shape` named `name` under the scope (the scope's
// device request places it), registered in the "variables" (and, when
// trainable, "trainable_variables") and "initializers" collections.
Variable MakeVariable(const Scope& scope, const std::string& name, const TensorShape& shape,
                      DType dtype = DType::kFloat,
                      const Initializer& init = Initializer::GlorotUniform(),
                      bool trainable = true);

// The initial value an initializer produces for `shape` (fans from the shape:
// [in, out] for matrices, HWIO for convolution filters).
Output InitialValue(const Scope& scope, const TensorShape& shape, DType dtype,
                    const Initializer& init);

Output VarHandleOp(const Scope& scope, DType dtype, const TensorShape& shape,
                   const std::string& shared_name = "");
Output ReadVariableOp(const Scope& scope, Input handle, DType dtype);
Node* AssignVariableOp(const Scope& scope, Input handle, Input value);
Node* AssignAddVariableOp(const Scope& scope, Input handle, Input value);
Node* AssignSubVariableOp(const Scope& scope, Input handle, Input value);
Output VarIsInitializedOp(const Scope& scope, Input handle);

// TensorFlow-style names: assign, then read the new value.
Output Assign(const Scope& scope, const Variable& var, Input value);
Output AssignAdd(const Scope& scope, const Variable& var, Input value);
Output AssignSub(const Scope& scope, const Variable& var, Input value);

// One op that runs every initializer in the graph.
Node* GlobalVariablesInitializer(const Scope& scope);

}  // namespace ops
}  // namespace braid
