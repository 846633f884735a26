// The array op table: every op of graph/ops/array_ops.h checked against a
// plain-loop reference, its shape function against the result and, where
// differentiable, its gradient against finite differences
// (testing/op_test_harness.h). Errors and dynamic-shape gradients are in
// array_ops_test.cc.
#include <gtest/gtest.h>

#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/kernels/math/op_test_util.h"

namespace braid {
namespace {

using op_test::I32;
using op_test::I64;
using op_test::Make;
using op_test::Ravel;
using op_test::Uniform;
using op_test::Unravel;
using testing::CheckOp;
using testing::OpCase;

using Builder = std::function<Output(const Scope&, const std::vector<Output>&)>;
using Reference = std::function<Tensor(const std::vector<Tensor>&)>;

void Check(const std::string& name, std::vector<Tensor> inputs, Builder build, Reference ref,
           bool gradient = true) {
  OpCase c;
  c.name = name;
  c.inputs = std::move(inputs);
  c.build = std::move(build);
  c.reference = std::move(ref);
  c.check_gradient = gradient;
  CheckOp(c);
}

// out[i] = in[source(out multi-index)] for a float tensor.
Tensor Gathered(const Tensor& in, const TensorShape& out_shape,
                const std::function<std::vector<int64_t>(const std::vector<int64_t>&)>& source) {
  Tensor out(in.dtype(), out_shape);
  for (int64_t i = 0; i < out.NumElements(); ++i) {
    out.data<float>()[i] = in.data<float>()[Ravel(in.shape(), source(Unravel(out_shape, i)))];
  }
  return out;
}

TEST(ArrayOpTable, ShapeSizeRank) {
  const Tensor x = Uniform({2, 3, 4}, 1);
  Check(
      "Shape int32", {x},
      [](const Scope& s, const std::vector<Output>& in) { return ops::Shape(s, in[0]); },
      [](const std::vector<Tensor>&) {
        return I32({2, 3, 4});
      });
  Check(
      "Shape int64", {x},
      [](const Scope& s, const std::vector<Output>& in) {
        return ops::Shape(s, in[0], DType::kInt64);
      },
      [](const std::vector<Tensor>&) {
        return I64({2, 3, 4});
      });
  Check(
      "Size", {x},
      [](const Scope& s, const std::vector<Output>& in) { return ops::Size(s, in[0]); },
      [](const std::vector<Tensor>&) { return Tensor::Scalar<int32_t>(24); });
  Check(
      "Rank", {x},
      [](const Scope& s, const std::vector<Output>& in) { return ops::Rank(s, in[0]); },
      [](const std::vector<Tensor>&) { return Tensor::Scalar<int32_t>(3); });
}

TEST(ArrayOpTable, ReshapeExpandSqueeze) {
  const Tensor x = Uniform({2, 3, 4}, 2);
  auto same_values = [](TensorShape shape) {
    return [shape](const std::vector<Tensor>& in) { return in[0].DeepCopy().Reshaped(shape); };
  };
  for (auto [target, want] : std::vector<std::pair<std::vector<int32_t>, TensorShape>>{
           {{6, 4}, {6, 4}}, {{-1, 2}, {12, 2}}, {{4, -1, 3}, {4, 2, 3}}, {{24}, {24}}}) {
    Check(
        absl::StrCat("Reshape to [", absl::StrJoin(target, ","), "]"), {x, I32(target)},
        [](const Scope& s, const std::vector<Output>& in) { return ops::Reshape(s, in[0], in[1]); },
        same_values(want));
  }
  Check(
      "Reshape int64 shape", {x, I64({3, 8})},
      [](const Scope& s, const std::vector<Output>& in) { return ops::Reshape(s, in[0], in[1]); },
      same_values({3, 8}));
  for (auto [axis, want] : std::vector<std::pair<int32_t, TensorShape>>{
           {0, {1, 2, 3, 4}}, {2, {2, 3, 1, 4}}, {-1, {2, 3, 4, 1}}, {-4, {1, 2, 3, 4}}}) {
    Check(
        absl::StrCat("ExpandDims ", axis), {x, Tensor::Scalar<int32_t>(axis)},
        [](const Scope& s, const std::vector<Output>& in) {
          return ops::ExpandDims(s, in[0], in[1]);
        },
        same_values(want));
  }
  const Tensor y = Uniform({1, 3, 1, 2}, 3);
  Check(
      "Squeeze all", {y},
      [](const Scope& s, const std::vector<Output>& in) { return ops::Squeeze(s, in[0]); },
      same_values({3, 2}));
  Check(
      "Squeeze [-2]", {y},
      [](const Scope& s, const std::vector<Output>& in) { return ops::Squeeze(s, in[0], {-2}); },
      same_values({1, 3, 2}));
}

TEST(ArrayOpTable, Transpose) {
  const std::vector<std::pair<TensorShape, std::vector<int32_t>>> cases = {
      {{3, 4}, {1, 0}},       {{2, 3, 4}, {0, 2, 1}}, {{2, 3, 4}, {2, 0, 1}},
      {{2, 3, 4}, {1, 0, 2}}, {{2, 3, 4}, {0, 1, 2}}, {{2, 1, 3, 2}, {0, 3, 1, 2}},
      {{40, 70}, {1, 0}},     {{1, 5}, {1, 0}}};
  uint64_t seed = 10;
  for (const auto& [shape, perm] : cases) {
    const Tensor x = Uniform(shape, seed++);
    TensorShape out_shape;
    for (int32_t p : perm) out_shape.AddDim(shape.dim(p));
    Check(
        absl::StrCat("Transpose ", shape.DebugString(), " perm [", absl::StrJoin(perm, ","), "]"),
        {x, I32(perm)},
        [](const Scope& s, const std::vector<Output>& in) {
          return ops::Transpose(s, in[0], in[1]);
        },
        [perm, out_shape](const std::vector<Tensor>& in) {
          return Gathered(in[0], out_shape, [&](const std::vector<int64_t>& o) {
            std::vector<int64_t> src(perm.size());
            for (size_t i = 0; i < perm.size(); ++i) src[perm[i]] = o[i];
            return src;
          });
        },
        /*gradient=*/shape.num_elements() < 100);
  }
  Check(
      "Transpose int32", {Make<int32_t>({2, 2}, {1, 2, 3, 4}), I32({1, 0})},
      [](const Scope& s, const std::vector<Output>& in) { return ops::Transpose(s, in[0], in[1]); },
      [](const std::vector<Tensor>&) {
        return Make<int32_t>({2, 2}, {1, 3, 2, 4});
      });
  Check(
      "InvertPermutation", {I32({2, 0, 3, 1})},
      [](const Scope& s, const std::vector<Output>& in) {
        return ops::InvertPermutation(s, in[0]);
      },
      [](const std::vector<Tensor>&) {
        return I32({1, 3, 0, 2});
      });
}

TEST(ArrayOpTable, ConcatAndSplit) {
  for (int axis : {0, 1, -1}) {
    const Tensor a = Uniform({2, 3}, 20), b = Uniform({2, 3}, 21), c = Uniform({2, 3}, 22);
    std::vector<Tensor> parts = {a, b, c};
    if (axis == 0) parts[1] = Uniform({1, 3}, 23);
    if (axis != 0) parts[2] = Uniform({2, 1}, 24);
    std::vector<Tensor> inputs = parts;
    inputs.push_back(Tensor::Scalar<int32_t>(axis));
    Check(
        absl::StrCat("ConcatV2 axis ", axis), inputs,
        [](const Scope& s, const std::vector<Output>& in) {
          return ops::Concat(s, {in[0], in[1], in[2]}, in[3]);
        },
        [axis](const std::vector<Tensor>& in) {
          const int a = axis < 0 ? axis + 2 : axis;
          TensorShape shape = in[0].shape();
          int64_t total = 0;
          for (int i = 0; i < 3; ++i) total += in[i].dim(a);
          shape.set_dim(a, total);
          Tensor out(DType::kFloat, shape);
          for (int64_t i = 0; i < out.NumElements(); ++i) {
            std::vector<int64_t> idx = Unravel(shape, i);
            int part = 0;
            while (idx[a] >= in[part].dim(a)) idx[a] -= in[part++].dim(a);
            out.data<float>()[i] = in[part].data<float>()[Ravel(in[part].shape(), idx)];
          }
          return out;
        });
  }
  for (int which : {0, 2}) {
    Check(
        absl::StrCat("Split axis 1 into 3, output ", which),
        {Tensor::Scalar<int32_t>(1), Uniform({2, 6}, 25)},
        [which](const Scope& s, const std::vector<Output>& in) {
          return ops::Split(s, in[0], in[1], 3)[which];
        },
        [which](const std::vector<Tensor>& in) {
          return Gathered(in[1], {2, 2}, [which](const std::vector<int64_t>& o) {
            return std::vector<int64_t>{o[0], o[1] + 2 * which};
          });
        });
  }
  Check(
      "Split axis 0 into 2", {Tensor::Scalar<int32_t>(0), Uniform({4, 3}, 26)},
      [](const Scope& s, const std::vector<Output>& in) {
        return ops::Split(s, in[0], in[1], 2)[1];
      },
      [](const std::vector<Tensor>& in) {
        return Gathered(in[1], {2, 3}, [](const std::vector<int64_t>& o) {
          return std::vector<int64_t>{o[0] + 2, o[1]};
        });
      });
  Check(
      "ConcatOffset", {Tensor::Scalar<int32_t>(1), I32({2, 3, 5}), I32({2, 4, 5})},
      [](const Scope& s, const std::vector<Output>& in) {
        return ops::ConcatOffset(s, in[0], {in[1], in[2]})[1];
      },
      [](const std::vector<Tensor>&) {
        return I32({0, 3, 0});
      });
}

TEST(ArrayOpTable, SliceAndPad) {
  const Tensor x = Uniform({3, 4, 5}, 30);
  for (auto [begin, size] :
       std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>>{{{1, 0, 2}, {2, 4, 3}},
                                                                          {{0, 1, 0}, {-1, 2, -1}},
                                                                          {{2, 3, 4}, {1, 1, 1}},
                                                                          {{1, 0, 0}, {2, 4, 5}},
                                                                          {{0, 0, 0}, {3, 4, 5}}}) {
    TensorShape out;
    for (int d = 0; d < 3; ++d) out.AddDim(size[d] == -1 ? x.dim(d) - begin[d] : size[d]);
    Check(
        absl::StrCat("Slice begin [", absl::StrJoin(begin, ","), "] size [",
                     absl::StrJoin(size, ","), "]"),
        {x, I32(begin), I32(size)},
        [](const Scope& s, const std::vector<Output>& in) {
          return ops::Slice(s, in[0], in[1], in[2]);
        },
        [b = begin, out](const std::vector<Tensor>& in) {
          return Gathered(in[0], out, [&](const std::vector<int64_t>& o) {
            return std::vector<int64_t>{o[0] + b[0], o[1] + b[1], o[2] + b[2]};
          });
        });
  }
  const Tensor y = Uniform({2, 3}, 31);
  Check(
      "Pad", {y, Make<int32_t>({2, 2}, {1, 0, 2, 1})},
      [](const Scope& s, const std::vector<Output>& in) { return ops::Pad(s, in[0], in[1]); },
      [](const std::vector<Tensor>& in) {
        Tensor out = Tensor::Filled<float>({3, 6}, 0.f);
        for (int64_t r = 0; r < 2; ++r)
          for (int64_t c = 0; c < 3; ++c)
            out.data<float>()[(r + 1) * 6 + c + 2] = in[0].data<float>()[r * 3 + c];
        return out;
      });
}

TEST(ArrayOpTable, GatherAndSegmentSum) {
  const Tensor params = Uniform({4, 3, 2}, 40);
  struct Spec {
    Tensor indices;
    int axis;
  };
  const std::vector<Spec> specs = {{I32({3, 0, 3}), 0},
                                   {Make<int64_t>({2, 2}, {1, 0, 2, 2}), 1},
                                   {Tensor::Scalar<int32_t>(1), 2},
                                   {Make<int32_t>({2, 1}, {0, 1}), -1}};
  for (const Spec& spec : specs) {
    const int axis = spec.axis < 0 ? spec.axis + 3 : spec.axis;
    TensorShape out;
    for (int d = 0; d < axis; ++d) out.AddDim(params.dim(d));
    for (int64_t d : spec.indices.shape().dims()) out.AddDim(d);
    for (int d = axis + 1; d < 3; ++d) out.AddDim(params.dim(d));
    const int irank = spec.indices.rank();
    Check(
        absl::StrCat("GatherV2 axis ", spec.axis, " indices ", spec.indices.shape().DebugString()),
        {params, spec.indices, Tensor::Scalar<int32_t>(spec.axis)},
        [](const Scope& s, const std::vector<Output>& in) {
          return ops::GatherV2(s, in[0], in[1], in[2]);
        },
        [out, axis, irank](const std::vector<Tensor>& in) {
          return Gathered(in[0], out, [&](const std::vector<int64_t>& o) {
            std::vector<int64_t> idx(o.begin() + axis, o.begin() + axis + irank);
            const int64_t which =
                static_cast<int64_t>(op_test::At(in[1], Ravel(in[1].shape(), idx)));
            std::vector<int64_t> src(o.begin(), o.begin() + axis);
            src.push_back(which);
            src.insert(src.end(), o.begin() + axis + irank, o.end());
            return src;
          });
        });
  }
  // batch_dims = 1: params [2,3,2], indices [2,2]: out[b,i,k] = params[b, idx[b,i], k].
  Check(
      "GatherV2 batch_dims 1",
      {Uniform({2, 3, 2}, 41), Make<int32_t>({2, 2}, {2, 0, 1, 1}), Tensor::Scalar<int32_t>(1)},
      [](const Scope& s, const std::vector<Output>& in) {
        return ops::GatherV2(s, in[0], in[1], in[2], /*batch_dims=*/1);
      },
      [](const std::vector<Tensor>& in) {
        return Gathered(in[0], {2, 2, 2}, [&](const std::vector<int64_t>& o) {
          return std::vector<int64_t>{o[0], in[1].data<int32_t>()[o[0] * 2 + o[1]], o[2]};
        });
      },
      /*gradient=*/false);
  Check(
      "UnsortedSegmentSum", {Uniform({5, 2}, 42), I32({2, 0, 2, 3, 0}), Tensor::Scalar<int32_t>(4)},
      [](const Scope& s, const std::vector<Output>& in) {
        return ops::UnsortedSegmentSum(s, in[0], in[1], in[2]);
      },
      [](const std::vector<Tensor>& in) {
        Tensor out = Tensor::Filled<float>({4, 2}, 0.f);
        for (int64_t i = 0; i < 5; ++i)
          for (int64_t j = 0; j < 2; ++j)
            out.data<float>()[in[1].data<int32_t>()[i] * 2 + j] += in[0].data<float>()[i * 2 + j];
        return out;
      });
}

TEST(ArrayOpTable, OneHotFillRange) {
  for (int axis : {-1, 0, 1}) {
    Check(
        absl::StrCat("OneHot axis ", axis),
        {Make<int64_t>({2, 2}, {0, 3, -1, 2}), Tensor::Scalar<int32_t>(4),
         Tensor::Scalar<float>(5.f), Tensor::Scalar<float>(-1.f)},
        [axis](const Scope& s, const std::vector<Output>& in) {
          return ops::OneHot(s, in[0], in[1], in[2], in[3], axis);
        },
        [axis](const std::vector<Tensor>& in) {
          const int a = axis == -1 ? 2 : axis;
          std::vector<int64_t> dims = {2, 2};
          dims.insert(dims.begin() + a, 4);
          Tensor out(DType::kFloat, TensorShape(dims));
          for (int64_t i = 0; i < out.NumElements(); ++i) {
            std::vector<int64_t> o = Unravel(out.shape(), i);
            const int64_t depth_index = o[a];
            o.erase(o.begin() + a);
            const bool on = in[0].data<int64_t>()[o[0] * 2 + o[1]] == depth_index;
            out.data<float>()[i] = on ? 5.f : -1.f;
          }
          return out;
        },
        /*gradient=*/false);
  }
  Check(
      "Fill", {I32({2, 3}), Tensor::Scalar<float>(1.5f)},
      [](const Scope& s, const std::vector<Output>& in) { return ops::Fill(s, in[0], in[1]); },
      [](const std::vector<Tensor>& in) {
        return Tensor::Filled<float>({2, 3}, in[1].data<float>()[0]);
      });
  Check(
      "Fill int64", {I64({4}), Tensor::Scalar<int64_t>(7)},
      [](const Scope& s, const std::vector<Output>& in) { return ops::Fill(s, in[0], in[1]); },
      [](const std::vector<Tensor>&) { return Tensor::Filled<int64_t>({4}, 7); });
  Check(
      "Range int32",
      {Tensor::Scalar<int32_t>(3), Tensor::Scalar<int32_t>(-6), Tensor::Scalar<int32_t>(-2)},
      [](const Scope& s, const std::vector<Output>& in) {
        return ops::Range(s, in[0], in[1], in[2]);
      },
      [](const std::vector<Tensor>&) {
        return I32({3, 1, -1, -3, -5});
      });
  // Float inputs would become Placeholders; Consts keep the length static.
  Check(
      "Range float", {},
      [](const Scope& s, const std::vector<Output>&) { return ops::Range(s, 0.5f, 2.f, 0.5f); },
      [](const std::vector<Tensor>&) {
        return Make<float>({3}, {0.5f, 1.f, 1.5f});
      },
      /*gradient=*/false);
}

TEST(ArrayOpTable, BroadcastToAndTile) {
  for (auto [from, to] :
       std::vector<std::pair<TensorShape, std::vector<int32_t>>>{{{3}, {2, 3}},
                                                                 {{2, 1}, {2, 3}},
                                                                 {{}, {2, 2}},
                                                                 {{1, 3, 1}, {2, 3, 2}},
                                                                 {{2, 3}, {2, 3}}}) {
    const TensorShape out(std::vector<int64_t>(to.begin(), to.end()));
    Check(
        absl::StrCat("BroadcastTo ", from.DebugString(), " to ", out.DebugString()),
        {Uniform(from, 50), I32(to)},
        [](const Scope& s, const std::vector<Output>& in) {
          return ops::BroadcastTo(s, in[0], in[1]);
        },
        [out](const std::vector<Tensor>& in) {
          Tensor r(DType::kFloat, out);
          for (int64_t i = 0; i < r.NumElements(); ++i)
            r.data<float>()[i] =
                in[0].data<float>()[op_test::BroadcastSource(in[0].shape(), out, i)];
          return r;
        });
  }
  for (auto [from, mult] : std::vector<std::pair<TensorShape, std::vector<int32_t>>>{
           {{2, 3}, {2, 1}}, {{2, 3}, {1, 3}}, {{1, 2, 2}, {3, 2, 1}}, {{3}, {1}}}) {
    TensorShape out;
    for (int d = 0; d < from.rank(); ++d) out.AddDim(from.dim(d) * mult[d]);
    Check(
        absl::StrCat("Tile ", from.DebugString(), " by [", absl::StrJoin(mult, ","), "]"),
        {Uniform(from, 51), I32(mult)},
        [](const Scope& s, const std::vector<Output>& in) { return ops::Tile(s, in[0], in[1]); },
        [out](const std::vector<Tensor>& in) {
          return Gathered(in[0], out, [&](const std::vector<int64_t>& o) {
            std::vector<int64_t> src(o.size());
            for (size_t d = 0; d < o.size(); ++d) src[d] = o[d] % in[0].dim(static_cast<int>(d));
            return src;
          });
        });
  }
}

TEST(ArrayOpTable, BroadcastGradientArgs) {
  struct Spec {
    std::vector<int32_t> s0, s1, r0, r1;
  };
  for (const Spec& spec : std::vector<Spec>{{{2, 3}, {3}, {}, {0}},
                                            {{2, 1, 4}, {3, 1}, {1}, {0, 2}},
                                            {{5}, {5}, {}, {}},
                                            {{}, {2, 2}, {0, 1}, {}},
                                            {{1, 1}, {1}, {}, {0}}}) {
    for (int side : {0, 1}) {
      Check(
          absl::StrCat("BroadcastGradientArgs [", absl::StrJoin(spec.s0, ","), "] [",
                       absl::StrJoin(spec.s1, ","), "] r", side),
          {I32(spec.s0), I32(spec.s1)},
          [side](const Scope& s, const std::vector<Output>& in) {
            ops::BroadcastGradientArgsOutputs r = ops::BroadcastGradientArgs(s, in[0], in[1]);
            return side == 0 ? r.r0 : r.r1;
          },
          [side, spec](const std::vector<Tensor>&) { return I32(side == 0 ? spec.r0 : spec.r1); });
    }
  }
}

}  // namespace
}  // namespace braid
