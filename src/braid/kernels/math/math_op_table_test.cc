// The math op table: every op of graph/ops/math_ops.h checked against a
// plain-loop reference, its shape function against the result and its
// gradient against finite differences (testing/op_test_harness.h); then the
// error paths, the dynamic-shape gradient paths and the random ops.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/graph/gradients.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/random_ops.h"
#include "braid/kernels/math/op_test_util.h"

namespace braid {
namespace {

using op_test::At;
using op_test::Make;
using testing::CheckOp;
using testing::Evaluate;
using testing::OpCase;

using BinaryBuilder = Output (*)(const Scope&, Input, Input);

// A float reference for a binary op under broadcasting.
Tensor BinaryRef(const Tensor& x, const Tensor& y, DType out_dtype,
                 const std::function<double(double, double)>& f) {
  TensorShape shape = op_test::BroadcastShape(x.shape(), y.shape());
  Tensor out(out_dtype, shape);
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    const double v = f(At(x, op_test::BroadcastSource(x.shape(), shape, i)),
                       At(y, op_test::BroadcastSource(y.shape(), shape, i)));
    switch (out_dtype) {
      case DType::kFloat:
        out.data<float>()[i] = static_cast<float>(v);
        break;
      case DType::kInt32:
        out.data<int32_t>()[i] = static_cast<int32_t>(v);
        break;
      case DType::kInt64:
        out.data<int64_t>()[i] = static_cast<int64_t>(v);
        break;
      case DType::kBool:
        out.data<bool>()[i] = v != 0;
        break;
      default:
        ADD_FAILURE() << "unexpected dtype";
    }
  }
  return out;
}

const std::vector<std::pair<TensorShape, TensorShape>>& BroadcastPairs() {
  static const auto* pairs = new std::vector<std::pair<TensorShape, TensorShape>>{
      {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{3}, {2, 3}},       {{2, 1}, {1, 3}},
      {{}, {2, 3}},     {{2, 3}, {}},  {{2, 1, 3}, {4, 1}}, {{2, 3, 4}, {3, 1}}};
  return *pairs;
}

struct BinarySpec {
  const char* name;
  BinaryBuilder build;
  std::function<double(double, double)> ref;
  // Input values: x, y for a shape and seed.
  std::function<Tensor(const TensorShape&, uint64_t)> x, y;
};

TEST(MathOpTable, BinaryFloatWithBroadcasting) {
  auto uniform = [](const TensorShape& s, uint64_t seed) { return op_test::Uniform(s, seed); };
  auto positive = [](const TensorShape& s, uint64_t seed) {
    return op_test::Uniform(s, seed, 0.5f, 1.5f);
  };
  auto low = [](const TensorShape& s, uint64_t seed) { return op_test::Separated(s, seed, 0.03f); };
  auto high = [](const TensorShape& s, uint64_t seed) {
    return op_test::Separated(s, seed, 0.08f);
  };
  const std::vector<BinarySpec> specs = {
      {"Add", ops::Add, [](double a, double b) { return a + b; }, uniform, uniform},
      {"Sub", ops::Sub, [](double a, double b) { return a - b; }, uniform, uniform},
      {"Mul", ops::Mul, [](double a, double b) { return a * b; }, uniform, uniform},
      {"Div", ops::Div, [](double a, double b) { return a / b; }, uniform, positive},
      {"Pow", ops::Pow, [](double a, double b) { return std::pow(a, b); }, positive, uniform},
      {"Maximum", ops::Maximum, [](double a, double b) { return std::max(a, b); }, low, high},
      {"Minimum", ops::Minimum, [](double a, double b) { return std::min(a, b); }, high, low},
  };
  uint64_t seed = 1;
  for (const BinarySpec& spec : specs) {
    for (const auto& [xs, ys] : BroadcastPairs()) {
      OpCase c;
      c.name = absl::StrCat(spec.name, " ", xs.DebugString(), " ", ys.DebugString());
      c.inputs = {spec.x(xs, seed), spec.y(ys, seed + 1)};
      seed += 2;
      BinaryBuilder build = spec.build;
      c.build = [build](const Scope& s, const std::vector<Output>& in) {
        return build(s, in[0], in[1]);
      };
      auto ref = spec.ref;
      c.reference = [ref](const std::vector<Tensor>& in) {
        return BinaryRef(in[0], in[1], DType::kFloat, ref);
      };
      CheckOp(c);
    }
  }
}

TEST(MathOpTable, BinaryIntegers) {
  const Tensor x = Make<int32_t>({2, 3}, {7, -7, 9, 0, 5, -12});
  const Tensor y = Make<int32_t>({3}, {2, 3, -4});
  const std::vector<std::tuple<const char*, BinaryBuilder, std::function<double(double, double)>>>
      specs = {
          {"Add", ops::Add, [](double a, double b) { return a + b; }},
          {"Sub", ops::Sub, [](double a, double b) { return a - b; }},
          {"Mul", ops::Mul, [](double a, double b) { return a * b; }},
          {"Div", ops::Div, [](double a, double b) { return std::trunc(a / b); }},
          {"Maximum", ops::Maximum, [](double a, double b) { return std::max(a, b); }},
          {"Minimum", ops::Minimum, [](double a, double b) { return std::min(a, b); }},
      };
  for (const auto& [name, build, ref] : specs) {
    for (DType dtype : {DType::kInt32, DType::kInt64}) {
      OpCase c;
      c.name = absl::StrCat(name, " ", DTypeName(dtype));
      if (dtype == DType::kInt32) {
        c.inputs = {x, y};
      } else {
        c.inputs = {Make<int64_t>({2, 3}, {7, -7, 9, 0, 5, -12}), Make<int64_t>({3}, {2, 3, -4})};
      }
      c.build = [b = build](const Scope& s, const std::vector<Output>& in) {
        return b(s, in[0], in[1]);
      };
      c.reference = [r = ref, dtype](const std::vector<Tensor>& in) {
        return BinaryRef(in[0], in[1], dtype, r);
      };
      CheckOp(c);
    }
  }
}

TEST(MathOpTable, Comparisons) {
  const std::vector<std::tuple<const char*, BinaryBuilder, std::function<double(double, double)>>>
      specs = {
          {"Equal", ops::Equal, [](double a, double b) { return a == b; }},
          {"NotEqual", ops::NotEqual, [](double a, double b) { return a != b; }},
          {"Less", ops::Less, [](double a, double b) { return a < b; }},
          {"LessEqual", ops::LessEqual, [](double a, double b) { return a <= b; }},
          {"Greater", ops::Greater, [](double a, double b) { return a > b; }},
          {"GreaterEqual", ops::GreaterEqual, [](double a, double b) { return a >= b; }},
      };
  // Ties included on purpose: x and y share values.
  const std::vector<std::pair<Tensor, Tensor>> inputs = {
      {Make<float>({2, 3}, {1, 2, 3, 4, 5, 6}), Make<float>({3}, {2, 2, 7})},
      {Make<int32_t>({2, 1}, {3, -1}), Make<int32_t>({1, 3}, {-1, 3, 5})},
      {Make<int64_t>({}, {4}), Make<int64_t>({4}, {1, 4, 9, 4})},
      {Make<double>({2}, {0.5, -0.5}), Make<double>({2}, {0.5, 0.25})},
  };
  for (const auto& [name, build, ref] : specs) {
    for (const auto& [x, y] : inputs) {
      OpCase c;
      c.name = absl::StrCat(name, " ", DTypeName(x.dtype()), x.shape().DebugString(),
                            y.shape().DebugString());
      c.inputs = {x, y};
      c.build = [b = build](const Scope& s, const std::vector<Output>& in) {
        return b(s, in[0], in[1]);
      };
      c.reference = [r = ref](const std::vector<Tensor>& in) {
        return BinaryRef(in[0], in[1], DType::kBool, r);
      };
      c.check_gradient = false;
      CheckOp(c);
    }
  }
  OpCase eq_bool;
  eq_bool.name = "Equal bool";
  eq_bool.inputs = {Make<bool>({3}, {true, false, true}), Make<bool>({3}, {true, true, false})};
  eq_bool.build = [](const Scope& s, const std::vector<Output>& in) {
    return ops::Equal(s, in[0], in[1]);
  };
  eq_bool.reference = [](const std::vector<Tensor>& in) {
    return BinaryRef(in[0], in[1], DType::kBool, [](double a, double b) { return a == b; });
  };
  CheckOp(eq_bool);
}

TEST(MathOpTable, SelectWithBroadcasting) {
  struct Shapes {
    TensorShape cond, t, e;
  };
  const std::vector<Shapes> shapes = {
      {{2, 3}, {2, 3}, {2, 3}}, {{2, 1}, {2, 3}, {3}}, {{}, {2, 2}, {2, 2}}, {{3}, {2, 1}, {}}};
  uint64_t seed = 100;
  for (const Shapes& sh : shapes) {
    Tensor cond(DType::kBool, sh.cond);
    for (int64_t i = 0; i < cond.NumElements(); ++i) cond.data<bool>()[i] = (i * 7 + seed) % 3 != 0;
    OpCase c;
    c.name = absl::StrCat("Select ", sh.cond.DebugString(), sh.t.DebugString(), sh.e.DebugString());
    c.inputs = {cond, op_test::Uniform(sh.t, seed), op_test::Uniform(sh.e, seed + 1)};
    seed += 2;
    c.build = [](const Scope& s, const std::vector<Output>& in) {
      return ops::Select(s, in[0], in[1], in[2]);
    };
    c.reference = [](const std::vector<Tensor>& in) {
      TensorShape out = op_test::BroadcastShape(
          in[0].shape(), op_test::BroadcastShape(in[1].shape(), in[2].shape()));
      Tensor r(DType::kFloat, out);
      for (int64_t i = 0; i < r.NumElements(); ++i) {
        const bool pick = in[0].data<bool>()[op_test::BroadcastSource(in[0].shape(), out, i)];
        const Tensor& src = pick ? in[1] : in[2];
        r.data<float>()[i] = src.data<float>()[op_test::BroadcastSource(src.shape(), out, i)];
      }
      return r;
    };
    CheckOp(c);
  }
}

TEST(MathOpTable, Unary) {
  using UnaryBuilder = Output (*)(const Scope&, Input);
  struct Spec {
    const char* name;
    UnaryBuilder build;
    double (*ref)(double);
    float lo, hi;
    bool differentiable = true;
  };
  const std::vector<Spec> specs = {
      {"Neg", ops::Neg, [](double x) { return -x; }, -2, 2},
      {"Abs", ops::Abs, [](double x) { return std::abs(x); }, 0.1f, 2},  // sign flipped below
      {"Square", ops::Square, [](double x) { return x * x; }, -2, 2},
      {"Sqrt", ops::Sqrt, [](double x) { return std::sqrt(x); }, 0.5f, 2},
      {"Rsqrt", ops::Rsqrt, [](double x) { return 1 / std::sqrt(x); }, 0.5f, 2},
      {"Reciprocal", ops::Reciprocal, [](double x) { return 1 / x; }, 0.5f, 2},
      {"Exp", ops::Exp, [](double x) { return std::exp(x); }, -2, 2},
      {"Log", ops::Log, [](double x) { return std::log(x); }, 0.5f, 2},
      {"Sin", ops::Sin, [](double x) { return std::sin(x); }, -3, 3},
      {"Cos", ops::Cos, [](double x) { return std::cos(x); }, -3, 3},
      {"Sigmoid", ops::Sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); }, -4, 4},
      {"Tanh", ops::Tanh, [](double x) { return std::tanh(x); }, -2, 2},
      {"Floor", ops::Floor, [](double x) { return std::floor(x); }, -3, 3, false},
      {"Sign", ops::Sign, [](double x) { return double((x > 0) - (x < 0)); }, 0.1f, 2, false},
  };
  uint64_t seed = 200;
  for (const Spec& spec : specs) {
    OpCase c;
    c.name = spec.name;
    Tensor x = op_test::Uniform({3, 4}, seed++, spec.lo, spec.hi);
    if (spec.lo > 0 && (std::string(spec.name) == "Abs" || std::string(spec.name) == "Sign")) {
      for (int64_t i = 0; i < x.NumElements(); i += 2) x.data<float>()[i] *= -1;  // away from 0
    }
    c.inputs = {x};
    c.build = [b = spec.build](const Scope& s, const std::vector<Output>& in) {
      return b(s, in[0]);
    };
    c.reference = [r = spec.ref](const std::vector<Tensor>& in) {
      Tensor out(DType::kFloat, in[0].shape());
      for (int64_t i = 0; i < out.NumElements(); ++i)
        out.data<float>()[i] = static_cast<float>(r(in[0].data<float>()[i]));
      return out;
    };
    c.check_gradient = spec.differentiable;
    CheckOp(c);
  }
  // Integer variants.
  for (auto [name, build, ref] :
       std::vector<std::tuple<const char*, UnaryBuilder, double (*)(double)>>{
           {"Neg", ops::Neg, [](double x) { return -x; }},
           {"Abs", ops::Abs, [](double x) { return std::abs(x); }},
           {"Square", ops::Square, [](double x) { return x * x; }},
           {"Sign", ops::Sign, [](double x) { return double((x > 0) - (x < 0)); }}}) {
    OpCase c;
    c.name = absl::StrCat(name, " int64");
    c.inputs = {Make<int64_t>({5}, {-3, 0, 4, -1, 7})};
    c.build = [b = build](const Scope& s, const std::vector<Output>& in) { return b(s, in[0]); };
    c.reference = [r = ref](const std::vector<Tensor>& in) {
      Tensor out(DType::kInt64, in[0].shape());
      for (int64_t i = 0; i < out.NumElements(); ++i)
        out.data<int64_t>()[i] = static_cast<int64_t>(r(At(in[0], i)));
      return out;
    };
    CheckOp(c);
  }
}

using ReductionBuilder = Output (*)(const Scope&, Input, Input, bool);

// Reference reduction over `axes` of a float tensor with plain loops.
Tensor ReduceRef(const Tensor& x, const std::vector<int>& axes_in, bool keep_dims,
                 const std::string& op) {
  const int rank = x.rank();
  std::vector<bool> reduced(rank, false);
  for (int a : axes_in) reduced[a < 0 ? a + rank : a] = true;
  TensorShape kept;  // keep_dims shape
  for (int d = 0; d < rank; ++d) kept.AddDim(reduced[d] ? 1 : x.dim(d));
  std::vector<double> acc(kept.num_elements());
  std::vector<int64_t> count(kept.num_elements(), 0);
  for (int64_t i = 0; i < x.NumElements(); ++i) {
    std::vector<int64_t> idx = op_test::Unravel(x.shape(), i);
    for (int d = 0; d < rank; ++d)
      if (reduced[d]) idx[d] = 0;
    const int64_t o = op_test::Ravel(kept, idx);
    const double v = x.data<float>()[i];
    if (count[o]++ == 0) {
      acc[o] = v;
    } else if (op == "Sum" || op == "Mean") {
      acc[o] += v;
    } else if (op == "Prod") {
      acc[o] *= v;
    } else if (op == "Max") {
      acc[o] = std::max(acc[o], v);
    } else {
      acc[o] = std::min(acc[o], v);
    }
  }
  TensorShape out_shape;
  for (int d = 0; d < rank; ++d) {
    if (!reduced[d])
      out_shape.AddDim(x.dim(d));
    else if (keep_dims)
      out_shape.AddDim(1);
  }
  Tensor out(DType::kFloat, out_shape);
  for (int64_t o = 0; o < out.NumElements(); ++o) {
    out.data<float>()[o] = static_cast<float>(op == "Mean" ? acc[o] / count[o] : acc[o]);
  }
  return out;
}

TEST(MathOpTable, Reductions) {
  const std::vector<std::pair<const char*, ReductionBuilder>> specs = {{"Sum", ops::Sum},
                                                                       {"Mean", ops::Mean},
                                                                       {"Max", ops::Max},
                                                                       {"Min", ops::Min},
                                                                       {"Prod", ops::Prod}};
  const std::vector<std::vector<int>> axis_sets = {{0}, {1}, {-1}, {0, 2}, {1, 2}, {0, 1, 2}, {}};
  uint64_t seed = 300;
  for (const auto& [name, build] : specs) {
    for (const std::vector<int>& axes : axis_sets) {
      for (bool keep_dims : {false, true}) {
        OpCase c;
        c.name = absl::StrCat(name, " axes [", absl::StrJoin(axes, ","), "] keep_dims=", keep_dims);
        const std::string op = name;
        Tensor x = op == "Prod"                 ? op_test::Uniform({2, 3, 4}, seed, 0.5f, 1.5f)
                   : op == "Max" || op == "Min" ? op_test::Distinct({2, 3, 4}, seed)
                                                : op_test::Uniform({2, 3, 4}, seed);
        ++seed;
        c.inputs = {x, op_test::I32(std::vector<int32_t>(axes.begin(), axes.end()))};
        c.build = [b = build, keep_dims](const Scope& s, const std::vector<Output>& in) {
          return b(s, in[0], in[1], keep_dims);
        };
        c.reference = [axes, keep_dims, op](const std::vector<Tensor>& in) {
          return ReduceRef(in[0], axes, keep_dims, op);
        };
        CheckOp(c);
      }
    }
  }
  // A scalar axis, an int64 axis and a large input that takes the parallel
  // and blocked paths.
  OpCase scalar_axis;
  scalar_axis.name = "Sum scalar int64 axis";
  scalar_axis.inputs = {op_test::Uniform({3, 5}, 7), Tensor::Scalar<int64_t>(-2)};
  scalar_axis.build = [](const Scope& s, const std::vector<Output>& in) {
    return ops::Sum(s, in[0], in[1]);
  };
  scalar_axis.reference = [](const std::vector<Tensor>& in) {
    return ReduceRef(in[0], {0}, false, "Sum");
  };
  CheckOp(scalar_axis);
  for (const std::vector<int>& axes : std::vector<std::vector<int>>{{0}, {1}, {0, 1}}) {
    OpCase big;
    big.name = absl::StrCat("Sum large axes [", absl::StrJoin(axes, ","), "]");
    big.inputs = {op_test::Uniform({300, 500}, 8),
                  op_test::I32(std::vector<int32_t>(axes.begin(), axes.end()))};
    big.build = [](const Scope& s, const std::vector<Output>& in) {
      return ops::Sum(s, in[0], in[1]);
    };
    big.reference = [axes](const std::vector<Tensor>& in) {
      return ReduceRef(in[0], axes, false, "Sum");
    };
    big.tolerance = 1e-4;
    big.check_gradient = false;  // 150000 finite differences
    CheckOp(big);
  }
}

TEST(MathOpTable, MaxGradientSplitsTies) {
  // Two tied maxima in row 0 share the gradient (Note [Max/Min reduction gradient]).
  Scope root = Scope::NewRootScope();
  Output x = ops::Const(root, Make<float>({2, 3}, {5, 1, 5, 2, 3, 0}));
  Output y = ops::Max(root, x, 1);
  std::vector<Output> grads;
  ASSERT_TRUE(AddGradients(root, {y}, {x}, {}, &grads).ok());
  absl::StatusOr<std::vector<Tensor>> out = Evaluate(root, {}, {grads[0]});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(TensorsEqual((*out)[0], Make<float>({2, 3}, {0.5f, 0, 0.5f, 0, 1, 0})))
      << (*out)[0].DebugString();
}

TEST(MathOpTable, ArgMaxArgMin) {
  for (bool is_max : {true, false}) {
    for (int axis : {0, 1, -1}) {
      for (DType out_type : {DType::kInt32, DType::kInt64}) {
        OpCase c;
        c.name =
            absl::StrCat(is_max ? "ArgMax" : "ArgMin", " axis ", axis, " ", DTypeName(out_type));
        c.inputs = {Make<float>({3, 4}, {1, 9, 2, 9, 4, 4, 0, 1, 7, 3, 8, -2}),
                    Tensor::Scalar<int32_t>(axis)};
        c.build = [is_max, out_type](const Scope& s, const std::vector<Output>& in) {
          return is_max ? ops::ArgMax(s, in[0], in[1], out_type)
                        : ops::ArgMin(s, in[0], in[1], out_type);
        };
        c.reference = [is_max, axis, out_type](const std::vector<Tensor>& in) {
          const int a = axis < 0 ? axis + 2 : axis;
          const int64_t rows = in[0].dim(0), cols = in[0].dim(1);
          const int64_t n = a == 0 ? cols : rows, k = a == 0 ? rows : cols;
          std::vector<int64_t> best(n, 0);
          for (int64_t j = 0; j < n; ++j) {
            auto at = [&](int64_t i) {
              return a == 0 ? At(in[0], i * cols + j) : At(in[0], j * cols + i);
            };
            for (int64_t i = 1; i < k; ++i)  // strict: first index wins ties
              if (is_max ? at(i) > at(best[j]) : at(i) < at(best[j])) best[j] = i;
          }
          Tensor out(out_type, TensorShape{n});
          for (int64_t j = 0; j < n; ++j) {
            if (out_type == DType::kInt32)
              out.data<int32_t>()[j] = static_cast<int32_t>(best[j]);
            else
              out.data<int64_t>()[j] = best[j];
          }
          return out;
        };
        CheckOp(c);
      }
    }
  }
}

TEST(MathOpTable, Cast) {
  struct Spec {
    Tensor in;
    DType dst;
    std::vector<double> want;
  };
  const std::vector<Spec> specs = {
      {Make<float>({5}, {-2.7f, -0.5f, 0, 1.5f, 3e10f}),
       DType::kInt32,
       {-2, 0, 0, 1, 2147483647.0}},
      {Make<float>({4}, {-1.5f, 0, 2.25f, 300}), DType::kInt64, {-1, 0, 2, 300}},
      {Make<float>({3}, {0, -0.1f, 2}), DType::kBool, {0, 1, 1}},
      {Make<bool>({2}, {true, false}), DType::kFloat, {1, 0}},
      {Make<int32_t>({3}, {-4, 0, 7}), DType::kFloat, {-4, 0, 7}},
      {Make<int64_t>({2}, {1LL << 40, -3}), DType::kDouble, {1099511627776.0, -3}},
      {Make<int32_t>({3}, {1, 255, 256}), DType::kUInt8, {1, 255, 0}},
      {Make<uint8_t>({2}, {0, 200}), DType::kInt32, {0, 200}},
      {Make<float>({3}, {1.0f, 1.00390625f, -2.5f}), DType::kBFloat16, {1.0, 1.0, -2.5}},
      {Make<float>({2}, {0.25f, -8}), DType::kDouble, {0.25, -8}},
      {Make<double>({2}, {0.5, 1e-3}), DType::kFloat, {0.5, 1e-3}},
  };
  for (const Spec& spec : specs) {
    OpCase c;
    c.name = absl::StrCat("Cast ", DTypeName(spec.in.dtype()), " to ", DTypeName(spec.dst));
    c.inputs = {spec.in};
    const DType dst = spec.dst;
    c.build = [dst](const Scope& s, const std::vector<Output>& in) {
      return ops::Cast(s, in[0], dst);
    };
    const std::vector<double> want = spec.want;
    c.reference = [dst, want](const std::vector<Tensor>& in) {
      Tensor out(dst, in[0].shape());
      for (size_t i = 0; i < want.size(); ++i) {
        switch (dst) {
          case DType::kFloat:
            out.data<float>()[i] = static_cast<float>(want[i]);
            break;
          case DType::kDouble:
            out.data<double>()[i] = want[i];
            break;
          case DType::kInt32:
            out.data<int32_t>()[i] = static_cast<int32_t>(want[i]);
            break;
          case DType::kInt64:
            out.data<int64_t>()[i] = static_cast<int64_t>(want[i]);
            break;
          case DType::kUInt8:
            out.data<uint8_t>()[i] = static_cast<uint8_t>(want[i]);
            break;
          case DType::kBool:
            out.data<bool>()[i] = want[i] != 0;
            break;
          case DType::kBFloat16:
            out.data<BFloat16>()[i] = BFloat16(static_cast<float>(want[i]));
            break;
          default:
            break;
        }
      }
      return out;
    };
    // Differentiable float <-> double casts are gradient-checked.
    c.check_gradient =
        IsFloatingDType(spec.in.dtype()) && IsFloatingDType(dst) && dst != DType::kBFloat16;
    CheckOp(c);
  }
  // Truncate: float -> bfloat16 drops the low bits instead of rounding.
  Scope root = Scope::NewRootScope();
  Output t = ops::Cast(root, ops::Const(root, Make<float>({1}, {1.01171875f})), DType::kBFloat16,
                       /*truncate=*/true);
  absl::StatusOr<std::vector<Tensor>> out = Evaluate(root, {}, {t});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(static_cast<float>((*out)[0].data<BFloat16>()[0]), 1.0078125f);
}

}  // namespace
}  // namespace braid
