// The nn op table, part 2: convolution and pooling (NHWC), each against a
// plain-loop reference with its own window placement (nn_test_util.h), the
// shape function, and finite-difference gradients.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/kernels/nn/nn_test_util.h"

namespace braid {
namespace {

using nn_test::Distinct;
using nn_test::Int32Shape;
using nn_test::Random;
using nn_test::WindowSpec;
using testing::CheckOp;
using testing::OpCase;

std::vector<int64_t> Strides(const WindowSpec& w) { return {1, w.stride_h, w.stride_w, 1}; }

ops::Conv2DOptions Options(const WindowSpec& w) {
  ops::Conv2DOptions o;
  o.dilations = {1, w.dilation_h, w.dilation_w, 1};
  if (w.padding == "EXPLICIT") {
    const auto& p = w.explicit_pads;
    o.explicit_paddings = {0, 0, p[0], p[1], p[2], p[3], 0, 0};
  }
  return o;
}

struct ConvCase {
  std::string name;
  WindowSpec window;
  TensorShape input, filter;
};

std::vector<ConvCase> ConvCases() {
  std::vector<ConvCase> cases;
  cases.push_back({"SAME stride 1", {1, 1, 1, 1, "SAME"}, {1, 4, 4, 2}, {3, 3, 2, 3}});
  cases.push_back({"VALID stride 2", {2, 2, 1, 1, "VALID"}, {2, 5, 5, 2}, {3, 3, 2, 2}});
  // Even input, odd filter, stride 2: SAME pads 0 before and 1 after.
  cases.push_back({"SAME stride 2 asymmetric", {2, 2, 1, 1, "SAME"}, {1, 6, 6, 1}, {3, 3, 1, 2}});
  cases.push_back({"SAME stride 1x2 2x2 filter", {1, 2, 1, 1, "SAME"}, {1, 3, 5, 2}, {2, 2, 2, 2}});
  cases.push_back({"VALID dilation 2", {1, 1, 2, 2, "VALID"}, {1, 5, 5, 1}, {2, 2, 1, 2}});
  cases.push_back({"EXPLICIT", {1, 1, 1, 1, "EXPLICIT", {1, 0, 0, 2}}, {1, 3, 3, 2}, {2, 2, 2, 1}});
  return cases;
}

TEST(NnConvOpTable, Conv2D) {
  uint64_t seed = 100;
  for (const ConvCase& cc : ConvCases()) {
    OpCase c;
    c.name = absl::StrCat("Conv2D ", cc.name);
    c.inputs = {Random(cc.input, seed++), Random(cc.filter, seed++)};
    const WindowSpec w = cc.window;
    c.build = [=](const Scope& s, const std::vector<Output>& in) {
      return ops::Conv2D(s, in[0], in[1], Strides(w), w.padding, Options(w));
    };
    c.reference = [=](const std::vector<Tensor>& in) {
      return nn_test::Conv2DRef(w, in[0], in[1]);
    };
    c.tolerance = 1e-4;
    CheckOp(c);
  }
}

TEST(NnConvOpTable, Conv2DBackpropInput) {
  uint64_t seed = 200;
  for (const ConvCase& cc : ConvCases()) {
    OpCase c;
    c.name = absl::StrCat("Conv2DBackpropInput ", cc.name);
    const WindowSpec w = cc.window;
    const TensorShape input = cc.input;
    // input_sizes is int32, so the harness makes it a Const the shape function can read.
    c.inputs = {Int32Shape(input), Random(cc.filter, seed++),
                Random(nn_test::ConvOutShape(w, input, cc.filter), seed++)};
    c.build = [=](const Scope& s, const std::vector<Output>& in) {
      return ops::Conv2DBackpropInput(s, in[0], in[1], in[2], Strides(w), w.padding, Options(w));
    };
    c.reference = [=](const std::vector<Tensor>& in) {
      return nn_test::Conv2DBackpropInputRef(w, input, in[1], in[2]);
    };
    c.tolerance = 1e-4;
    CheckOp(c);
  }
}

TEST(NnConvOpTable, Conv2DBackpropFilter) {
  uint64_t seed = 300;
  for (const ConvCase& cc : ConvCases()) {
    OpCase c;
    c.name = absl::StrCat("Conv2DBackpropFilter ", cc.name);
    const WindowSpec w = cc.window;
    const TensorShape filter = cc.filter;
    c.inputs = {Random(cc.input, seed++), Int32Shape(filter),
                Random(nn_test::ConvOutShape(w, cc.input, filter), seed++)};
    c.build = [=](const Scope& s, const std::vector<Output>& in) {
      return ops::Conv2DBackpropFilter(s, in[0], in[1], in[2], Strides(w), w.padding, Options(w));
    };
    c.reference = [=](const std::vector<Tensor>& in) {
      return nn_test::Conv2DBackpropFilterRef(w, in[0], filter, in[2]);
    };
    c.tolerance = 1e-4;
    CheckOp(c);
  }
}

struct PoolCase {
  std::string name;
  WindowSpec window;
  int64_t k_h, k_w;
  TensorShape input;
};

std::vector<PoolCase> PoolCases() {
  return {
      // Overlapping windows; SAME pads one row/column on each side.
      {"SAME 3x3 stride 2", {2, 2, 1, 1, "SAME"}, 3, 3, {1, 5, 5, 2}},
      // SAME with padding only after (even input).
      {"SAME 3x2 stride 2 padded after", {2, 2, 1, 1, "SAME"}, 3, 2, {1, 4, 5, 2}},
      {"VALID 2x2 stride 2", {2, 2, 1, 1, "VALID"}, 2, 2, {2, 4, 4, 1}},
      {"VALID 2x3 stride 1", {1, 1, 1, 1, "VALID"}, 2, 3, {1, 3, 4, 2}},
  };
}

std::vector<int64_t> Ksize(const PoolCase& p) { return {1, p.k_h, p.k_w, 1}; }

TEST(NnConvOpTable, MaxPoolAndAvgPool) {
  uint64_t seed = 400;
  for (const PoolCase& pc : PoolCases()) {
    for (bool max : {true, false}) {
      OpCase c;
      c.name = absl::StrCat(max ? "MaxPool " : "AvgPool ", pc.name);
      c.inputs = {Distinct(pc.input, seed++)};
      const PoolCase p = pc;
      c.build = [=](const Scope& s, const std::vector<Output>& in) {
        return max ? ops::MaxPool(s, in[0], Ksize(p), Strides(p.window), p.window.padding)
                   : ops::AvgPool(s, in[0], Ksize(p), Strides(p.window), p.window.padding);
      };
      c.reference = [=](const std::vector<Tensor>& in) {
        return max ? nn_test::MaxPoolRef(p.window, in[0], p.k_h, p.k_w)
                   : nn_test::AvgPoolRef(p.window, in[0], p.k_h, p.k_w);
      };
      CheckOp(c);
    }
  }
}

// MaxPoolGrad and MaxPoolGradGrad take orig_output = MaxPool(orig_input),
// built in the case so that the two always agree.
TEST(NnConvOpTable, MaxPoolGradAndGradGrad) {
  uint64_t seed = 500;
  for (const PoolCase& pc : PoolCases()) {
    for (bool gradgrad : {false, true}) {
      OpCase c;
      c.name = absl::StrCat(gradgrad ? "MaxPoolGradGrad " : "MaxPoolGrad ", pc.name);
      const PoolCase p = pc;
      const TensorShape pooled = nn_test::PoolOutShape(p.window, p.input, p.k_h, p.k_w);
      c.inputs = {Distinct(p.input, seed++), Random(gradgrad ? p.input : pooled, seed++)};
      c.build = [=](const Scope& s, const std::vector<Output>& in) {
        Output orig_output = ops::MaxPool(s, in[0], Ksize(p), Strides(p.window), p.window.padding);
        return gradgrad ? ops::MaxPoolGradGrad(s, in[0], orig_output, in[1], Ksize(p),
                                               Strides(p.window), p.window.padding)
                        : ops::MaxPoolGrad(s, in[0], orig_output, in[1], Ksize(p),
                                           Strides(p.window), p.window.padding);
      };
      c.reference = [=](const std::vector<Tensor>& in) {
        return gradgrad ? nn_test::MaxPoolGradGradRef(p.window, in[0], in[1], p.k_h, p.k_w)
                        : nn_test::MaxPoolGradRef(p.window, in[0], in[1], p.k_h, p.k_w);
      };
      CheckOp(c);
    }
  }
}

TEST(NnConvOpTable, AvgPoolGrad) {
  uint64_t seed = 600;
  for (const PoolCase& pc : PoolCases()) {
    OpCase c;
    c.name = absl::StrCat("AvgPoolGrad ", pc.name);
    const PoolCase p = pc;
    c.inputs = {Int32Shape(p.input),
                Random(nn_test::PoolOutShape(p.window, p.input, p.k_h, p.k_w), seed++)};
    c.build = [=](const Scope& s, const std::vector<Output>& in) {
      return ops::AvgPoolGrad(s, in[0], in[1], Ksize(p), Strides(p.window), p.window.padding);
    };
    c.reference = [=](const std::vector<Tensor>& in) {
      return nn_test::AvgPoolGradRef(p.window, p.input, in[1], p.k_h, p.k_w);
    };
    CheckOp(c);
  }
}

}  // namespace
}  // namespace braid
