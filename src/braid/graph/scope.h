// Scope: where the C++ builder API adds nodes. It carries the graph, a name
// prefix ("dense/"), a device request, control dependencies and colocation,
// and one shared status: the first build error is kept, later ops become
// no-ops that return invalid Outputs, and the caller checks scope.status().
//
//   Scope root = Scope::NewRootScope();
//   Scope ps = root.WithDevice("/job:ps/task:0").NewSubScope("dense");
//   auto y = ops::MatMul(ps, x, w);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "braid/graph/graph.h"

namespace braid {

// An op argument: an Output, or a literal (scalar, list or Tensor) that the
// builder turns into a Const. A numeric literal takes the dtype the op needs
// there (so `ops::Mul(s, x, 2)` works for float x).
class Input {
 public:
  Input(Output o) : output_(o) {}  // NOLINT: implicit by design
  Input(const Tensor& t) : literal_(t) {}  // NOLINT
  Input(float v) : literal_(Tensor::Scalar(v)) {}  // NOLINT
  Input(double v) : literal_(Tensor::Scalar(v)) {}  // NOLINT
  Input(int v) : literal_(Tensor::Scalar<int32_t>(v)) {}  // NOLINT
  Input(int64_t v) : literal_(Tensor::Scalar(v)) {}  // NOLINT
  Input(bool v) : literal_(Tensor::Scalar(v)) {}  // NOLINT
  Input(std::initializer_list<int> v)  // NOLINT
      : literal_(Tensor::FromVector(std::vector<int32_t>(v.begin(), v.end()))) {}
  Input(std::initializer_list<float> v)  // NOLINT
      : literal_(Tensor::FromVector(std::vector<float>(v))) {}

  bool is_literal() const { return literal_.initialized(); }
  const Output& output() const { return output_; }
  const Tensor& literal() const { return literal_; }

 private:
  Output output_;
  Tensor literal_;
};

class Scope {
 public:
  static Scope NewRootScope();

  Scope NewSubScope(const std::string& name) const;
  // A scope whose ops are named under `node`'s own name ("dense/kernel/read"),
  // for the helper ops of a node such as a variable.
  Scope NewSubScopeUnder(const Node* node) const;
  // The next op created through the returned scope gets this name (made unique).
  Scope WithOpName(const std::string& name) const;
  // Merges `device` over the current request (inner parts win).
  Scope WithDevice(const std::string& device) const;
  Scope WithControlDependencies(const std::vector<Output>& deps) const;
  Scope WithControlDependencies(const std::vector<Node*>& deps) const;
  // Ops created through the returned scope are placed with `o`'s node; the
  // scope's device request is dropped (the colocation decides).
  Scope ColocateWith(const Output& o) const;

  Graph* graph() const { return state_->graph.get(); }
  std::shared_ptr<Graph> graph_ptr() const { return state_->graph; }
  absl::Status status() const { return state_->status; }
  bool ok() const { return state_->status.ok(); }
  // Keeps the first error.
  void UpdateStatus(const absl::Status& s) const;
  const std::string& device() const { return device_; }
  const std::string& name_prefix() const { return prefix_; }

  // Adds a node of `op` with `inputs` and `attrs`, named after the op (or the
  // WithOpName name) under this scope's prefix. Returns nullptr and records
  // the error when the scope already failed or the node is rejected.
  Node* AddNode(const std::string& op, const std::vector<Input>& inputs, AttrMap attrs = {}) const;
  // AddNode and return output 0 (invalid on error).
  Output AddOp(const std::string& op, const std::vector<Input>& inputs, AttrMap attrs = {}) const;
  // AddNode and return all outputs (empty on error).
  std::vector<Output> AddOpOutputs(const std::string& op, const std::vector<Input>& inputs,
                                   AttrMap attrs = {}) const;
  // Turns an Input into an Output, making a Const of dtype `want` (kInvalid:
  // the literal's own dtype) for literals.
  Output ToOutput(const Input& in, DType want = DType::kInvalid) const;

 private:
  struct State {
    std::shared_ptr<Graph> graph;
    absl::Status status;
  };
  std::shared_ptr<State> state_;
  std::string prefix_;
  std::string op_name_;
  std::string device_;
  std::vector<Node*> control_deps_;
  std::string colocate_with_;
};

// Converts a numeric literal to `dtype` (float/double/int32/int64/uint8/bool);
// InvalidArgument when the literal cannot be represented.
absl::StatusOr<Tensor> CastLiteral(const Tensor& literal, DType dtype);

}  // namespace braid
