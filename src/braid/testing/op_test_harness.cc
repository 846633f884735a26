#include "braid/testing/op_test_harness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "braid/graph/gradients.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/runtime/session.h"

namespace braid::testing {
namespace {

double ValueAt(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kFloat: return t.data<float>()[i];
    case DType::kDouble: return t.data<double>()[i];
    case DType::kInt32: return t.data<int32_t>()[i];
    case DType::kInt64: return static_cast<double>(t.data<int64_t>()[i]);
    case DType::kUInt8: return t.data<uint8_t>()[i];
    case DType::kBool: return t.data<bool>()[i] ? 1 : 0;
    case DType::kBFloat16: return static_cast<float>(t.data<BFloat16>()[i]);
    default: return 0;
  }
}

void SetValue(Tensor& t, int64_t i, double v) {
  if (t.dtype() == DType::kFloat) t.data<float>()[i] = static_cast<float>(v);
  else if (t.dtype() == DType::kDouble) t.data<double>()[i] = v;
}

// sum(w * out) for the gradient check's scalar objective.
double WeightedSum(const Tensor& out, const Tensor& w) {
  double s = 0;
  for (int64_t i = 0; i < out.NumElements(); ++i) s += ValueAt(out, i) * ValueAt(w, i);
  return s;
}

}  // namespace

Tensor RandomTensor(const TensorShape& shape, uint64_t seed, float lo, float hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t(DType::kFloat, shape);
  for (float& v : t.flat<float>()) v = dist(rng);
  return t;
}

absl::StatusOr<std::vector<Tensor>> Evaluate(const Scope& scope,
                                             const std::vector<std::pair<Output, Tensor>>& feeds,
                                             const std::vector<Output>& fetches) {
  if (!scope.ok()) return scope.status();
  SessionOptions options;
  options.inter_op_threads = 1;
  options.intra_op_threads = 1;
  ClientSession session(scope, options);
  std::vector<Tensor> out;
  absl::Status s = session.Run(feeds, fetches, &out);
  if (!s.ok()) return s;
  return out;
}

void CheckOp(const OpCase& c) {
  SCOPED_TRACE(c.name);
  Scope root = Scope::NewRootScope();
  std::vector<Output> inputs;
  std::vector<int> fed;  // indices of inputs that are placeholders
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Tensor& t = c.inputs[i];
    if (IsFloatingDType(t.dtype())) {
      inputs.push_back(ops::Placeholder(root.WithOpName(absl::StrCat("in", i)), t.dtype(),
                                        t.shape()));
      fed.push_back(static_cast<int>(i));
    } else {
      inputs.push_back(ops::Const(root.WithOpName(absl::StrCat("in", i)), t));
    }
  }
  Output out = c.build(root, inputs);
  ASSERT_TRUE(root.ok()) << root.status();
  ASSERT_TRUE(out.valid());

  SessionOptions options;
  options.inter_op_threads = 1;
  options.intra_op_threads = 1;
  ClientSession session(root, options);
  auto feeds_for = [&](const std::vector<Tensor>& values) {
    ClientSession::FeedType feeds;
    for (int i : fed) feeds.emplace_back(inputs[i], values[i]);
    return feeds;
  };

  // 1. Forward against the reference.
  std::vector<Tensor> got;
  absl::Status s = session.Run(feeds_for(c.inputs), {out}, &got);
  ASSERT_TRUE(s.ok()) << s;
  const Tensor& actual = got[0];
  Tensor want = c.reference(c.inputs);
  ASSERT_EQ(DTypeName(actual.dtype()), DTypeName(want.dtype()));
  ASSERT_EQ(actual.shape().DebugString(), want.shape().DebugString());
  for (int64_t i = 0; i < want.NumElements(); ++i) {
    double a = ValueAt(actual, i), w = ValueAt(want, i);
    if (std::isnan(w)) {
      EXPECT_TRUE(std::isnan(a)) << "element " << i;
      continue;
    }
    EXPECT_LE(std::abs(a - w), c.tolerance * (1 + std::abs(w)))
        << "element " << i << ": got " << a << ", want " << w;
  }

  // 2. The shape function agrees with the kernel.
  EXPECT_EQ(out.shape().DebugString(), actual.shape().DebugString())
      << "statically inferred shape differs from the computed one";

  // 3. Symbolic gradient against central differences of sum(w * out).
  if (!c.check_gradient || !IsFloatingDType(actual.dtype())) return;
  std::vector<int> wrt = c.grad_inputs;
  if (wrt.empty()) wrt = fed;
  Tensor w = RandomTensor(actual.shape(), 1234, 0.5f, 1.5f);
  if (actual.dtype() == DType::kDouble) {
    Tensor wd(DType::kDouble, w.shape());
    for (int64_t i = 0; i < w.NumElements(); ++i) wd.data<double>()[i] = w.data<float>()[i];
    w = wd;
  }
  std::vector<Output> xs;
  for (int i : wrt) xs.push_back(inputs[i]);
  std::vector<Output> grads;
  absl::Status gs = AddGradients(root, {out}, xs, {ops::Const(root, w)}, &grads);
  ASSERT_TRUE(gs.ok()) << gs;
  for (size_t k = 0; k < wrt.size(); ++k) {
    SCOPED_TRACE(absl::StrCat("gradient w.r.t. input ", wrt[k]));
    ASSERT_TRUE(grads[k].valid()) << "no gradient reaches this input";
    std::vector<Tensor> symbolic;
    s = session.Run(feeds_for(c.inputs), {grads[k]}, &symbolic);
    ASSERT_TRUE(s.ok()) << s;
    const Tensor& x = c.inputs[wrt[k]];
    ASSERT_EQ(symbolic[0].shape().DebugString(), x.shape().DebugString());
    for (int64_t i = 0; i < x.NumElements(); ++i) {
      std::vector<Tensor> values = c.inputs;
      double evals[2];
      for (int side = 0; side < 2; ++side) {
        values[wrt[k]] = x.DeepCopy();
        SetValue(values[wrt[k]], i, ValueAt(x, i) + (side == 0 ? c.delta : -c.delta));
        std::vector<Tensor> o;
        s = session.Run(feeds_for(values), {out}, &o);
        ASSERT_TRUE(s.ok()) << s;
        evals[side] = WeightedSum(o[0], w);
      }
      double numeric = (evals[0] - evals[1]) / (2 * c.delta);
      double analytic = ValueAt(symbolic[0], i);
      EXPECT_LE(std::abs(numeric - analytic), c.grad_tolerance * std::max(1.0, std::abs(numeric)))
          << "element " << i << ": symbolic " << analytic << ", numeric " << numeric;
    }
  }
}

}  // namespace braid::testing
