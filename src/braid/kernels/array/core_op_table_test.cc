// Op table for the core ops (graph/ops/core_ops.cc).
#include <gtest/gtest.h>

#include "braid/graph/ops/core_ops.h"
#include "braid/testing/op_test_harness.h"

namespace braid {
namespace {

using testing::CheckOp;
using testing::OpCase;
using testing::RandomTensor;

Tensor Map2(const Tensor& a, const Tensor& b, float (*f)(float, float)) {
  Tensor out(DType::kFloat, a.shape());
  for (int64_t i = 0; i < a.NumElements(); ++i)
    out.data<float>()[i] = f(a.data<float>()[i], b.data<float>()[i]);
  return out;
}

TEST(CoreOpTableTest, AddN) {
  OpCase c;
  c.name = "AddN of three";
  c.inputs = {RandomTensor({2, 3}, 1), RandomTensor({2, 3}, 2), RandomTensor({2, 3}, 3)};
  c.build = [](const Scope& s, const std::vector<Output>& in) { return ops::AddN(s, in); };
  c.reference = [](const std::vector<Tensor>& in) {
    Tensor ab = Map2(in[0], in[1], [](float a, float b) { return a + b; });
    return Map2(ab, in[2], [](float a, float b) { return a + b; });
  };
  CheckOp(c);
}

TEST(CoreOpTableTest, IdentityAndStopGradient) {
  OpCase id;
  id.name = "Identity";
  id.inputs = {RandomTensor({4}, 4)};
  id.build = [](const Scope& s, const std::vector<Output>& in) { return ops::Identity(s, in[0]); };
  id.reference = [](const std::vector<Tensor>& in) { return in[0]; };
  CheckOp(id);

  OpCase stop = id;
  stop.name = "StopGradient";
  stop.build = [](const Scope& s, const std::vector<Output>& in) {
    return ops::StopGradient(s, in[0]);
  };
  stop.check_gradient = false;  // by definition none flows
  CheckOp(stop);
}

TEST(CoreOpTableTest, ZerosLikeAndOnesLike) {
  for (int v : {0, 1}) {
    OpCase c;
    c.name = v ? "OnesLike" : "ZerosLike";
    c.inputs = {RandomTensor({2, 2}, 5)};
    c.build = [v](const Scope& s, const std::vector<Output>& in) {
      return v ? ops::OnesLike(s, in[0]) : ops::ZerosLike(s, in[0]);
    };
    c.reference = [v](const std::vector<Tensor>& in) {
      return Tensor::Filled<float>(in[0].shape(), static_cast<float>(v));
    };
    c.check_gradient = false;  // constant in x
    CheckOp(c);
  }
}

}  // namespace
}  // namespace braid
