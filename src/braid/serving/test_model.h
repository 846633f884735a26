// Test support (included by the serving tests only): a tiny exported model.
//   y = x @ (scale * [[1, 2], [3, 4], [5, 6]]) + [0.5, -0.5]   x: float [-1, 3]
// Signatures: "serving_default" x -> y; "two" x -> {y, twice: 2y};
// "classify" (classify) x -> {scores: y, classes: ["a", "b"]};
// "regress" (regress) x -> {outputs: sum(y, 1)}.
// The graph also holds a training-only update, which export must leave out.
#pragma once

#include <memory>
#include <string>

#include "braid/base/check.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/graph/ops/state_ops.h"
#include "braid/serving/export.h"
#include "braid/serving/inference.h"

namespace braid::serving::testing {

struct TinyModel {
  Scope root = Scope::NewRootScope();
  std::unique_ptr<Session> session;
  SignatureMap signatures;
};

inline std::unique_ptr<TinyModel> MakeTinyModel(float scale) {
  auto m = std::make_unique<TinyModel>();
  Scope& s = m->root;
  Output x = ops::Placeholder(s.WithOpName("x"), DType::kFloat, TensorShape{-1, 3});
  Variable w = ops::MakeVariable(s, "w", TensorShape{3, 2});
  Variable b = ops::MakeVariable(s, "b", TensorShape{2});
  Output y = ops::Add(s.WithOpName("y"), ops::MatMul(s, x, w.value), b.value);
  Output twice = ops::Mul(s.WithOpName("twice"), y, 2.0f);
  Output classes = ops::Const(s.WithOpName("classes"),
                              Tensor::FromVector<std::string>({"a", "b"}));
  Output total = ops::Sum(s.WithOpName("total"), y, 1);
  ops::AssignAddVariableOp(s.WithOpName("train_step"), w.handle,
                           Tensor::Filled<float>(TensorShape{3, 2}, 1.0f));
  Node* set_w = ops::AssignVariableOp(
      s, w.handle,
      Tensor::FromVector<float>({scale, 2 * scale, 3 * scale, 4 * scale, 5 * scale, 6 * scale},
                                TensorShape{3, 2}));
  Node* set_b = ops::AssignVariableOp(s, b.handle, Tensor::FromVector<float>({0.5f, -0.5f}));
  BRAID_CHECK(s.ok());
  auto session = NewSession({}, s.graph_ptr());
  BRAID_CHECK(session.ok());
  m->session = *std::move(session);
  std::vector<Tensor> out;
  BRAID_CHECK(m->session->Run({}, {}, {set_w->name(), set_b->name()}, &out).ok());
  Signature main;
  main.inputs["x"] = TensorInfoOf(x);
  main.outputs["y"] = TensorInfoOf(y);
  Signature two = main;
  two.outputs["twice"] = TensorInfoOf(twice);
  Signature classify;
  classify.method_name = kClassifyMethodName;
  classify.inputs = main.inputs;
  classify.outputs["scores"] = TensorInfoOf(y);
  classify.outputs["classes"] = TensorInfoOf(classes);
  Signature regress;
  regress.method_name = kRegressMethodName;
  regress.inputs = main.inputs;
  regress.outputs["outputs"] = TensorInfoOf(total);
  m->signatures = {
      {"serving_default", main}, {"two", two}, {"classify", classify}, {"regress", regress}};
  return m;
}

inline absl::Status ExportTinyModel(const std::string& base, int64_t version, float scale) {
  std::unique_ptr<TinyModel> m = MakeTinyModel(scale);
  return ExportModel({m->root, m->session.get(), m->signatures}, base, version);
}

}  // namespace braid::serving::testing
