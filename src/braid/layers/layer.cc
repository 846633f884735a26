#include "braid/layers/layer.h"

#include "absl/strings/str_cat.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/nn_ops.h"

namespace braid::layers {

absl::StatusOr<Output> Layer::Call(const Scope& scope, Output x, bool training) {
  if (!scope.ok()) return scope.status();
  if (!x.valid()) return absl::InvalidArgumentError(absl::StrCat("layer '", name_, "': no input"));
  Scope s = scope.NewSubScope(name_);
  absl::StatusOr<Output> y = Build(s, x, training);
  built_ = true;
  if (!y.ok()) {
    return absl::Status(y.status().code(),
                        absl::StrCat("layer '", name_, "': ", y.status().message()));
  }
  if (!s.ok()) {
    return absl::Status(s.status().code(), absl::StrCat("layer '", name_, "': ", s.status().message()));
  }
  return y;
}

int64_t Layer::num_parameters() const {
  int64_t n = 0;
  for (const Variable& v : variables_) n += v.value.shape().num_elements();
  return n;
}

Variable Layer::AddVariable(const Scope& scope, const std::string& name, const TensorShape& shape,
                            const Initializer& init, bool trainable) {
  Variable v = ops::MakeVariable(scope, name, shape, DType::kFloat, init, trainable);
  if (v.valid()) variables_.push_back(v);
  return v;
}

absl::Status CheckActivation(const std::string& a) {
  for (const char* known : {"linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax"})
    if (a == known) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown activation '", a, "'; expected linear, relu, sigmoid, tanh, softmax or log_softmax"));
}

absl::StatusOr<Output> ApplyActivation(const Scope& scope, const std::string& a, Output x) {
  if (absl::Status s = CheckActivation(a); !s.ok()) return s;
  if (a == "relu") return ops::Relu(scope, x);
  if (a == "sigmoid") return ops::Sigmoid(scope, x);
  if (a == "tanh") return ops::Tanh(scope, x);
  if (a == "softmax") return ops::Softmax(scope, x);
  if (a == "log_softmax") return ops::LogSoftmax(scope, x);
  return x;
}

}  // namespace braid::layers
