#include "braid/graph/ops/random_ops.h"

#include "braid/graph/op_def.h"

namespace braid {
namespace {

// TensorFlow's default for seed when only the op seed is given.
constexpr int64_t kDefaultGraphSeed = 87654321;

OpDefBuilder RandomOp(const char* name) {
  return OpDefBuilder(name)
      .Input("shape: T")
      .Output("output: dtype")
      .TypeAttr("dtype", {DType::kFloat, DType::kDouble})
      .TypeAttr("T", {DType::kInt32, DType::kInt64})
      .Attr("seed", int64_t{0})
      .Attr("seed2", int64_t{0})
      .SetIsStateful()
      .SetShapeFn([](InferenceContext& c) {
        const TensorShape& v = c.input_shape(0);
        if (!v.unknown_rank() && v.rank() != 1) {
          return c.Error("shape must be a vector, got a tensor of shape " + v.DebugString());
        }
        if (std::optional<TensorShape> s = c.input_as_shape(0)) {
          if (c.input_constant(0) != nullptr) {
            absl::StatusOr<TensorShape> full = MakeFullShape(s->dims());
            if (!full.ok()) return c.Error(full.status().message());
          }
          c.set_output(0, *s);
        } else if (!v.unknown_rank() && v.dim(0) >= 0) {
          c.set_output(0, TensorShape(std::vector<int64_t>(v.dim(0), TensorShape::kUnknownDim)));
        } else {
          c.set_output(0, TensorShape::UnknownRank());
        }
        return absl::OkStatus();
      })
      .NoGradient();
}

BRAID_REGISTER_OP(RandomOp("RandomUniform"));
BRAID_REGISTER_OP(RandomOp("RandomStandardNormal"));
BRAID_REGISTER_OP(RandomOp("TruncatedNormal"));

// Note [Random seeds] in random_ops.h.
Output AddRandomOp(const Scope& scope, const char* op, Input shape, DType dtype, int64_t seed) {
  int64_t seed1 = 0, seed2 = 0;
  if (std::optional<int64_t> graph_seed = scope.graph()->seed()) {
    seed1 = *graph_seed;
    seed2 = seed != 0 ? seed : scope.graph()->num_nodes() + 1;
  } else if (seed != 0) {
    seed1 = kDefaultGraphSeed;
    seed2 = seed;
  }
  return scope.AddOp(op, {shape}, {{"dtype", dtype}, {"seed", seed1}, {"seed2", seed2}});
}

}  // namespace

namespace ops {

Output RandomUniform(const Scope& scope, Input shape, DType dtype, int64_t seed) {
  return AddRandomOp(scope, "RandomUniform", shape, dtype, seed);
}
Output RandomNormal(const Scope& scope, Input shape, DType dtype, int64_t seed) {
  return AddRandomOp(scope, "RandomStandardNormal", shape, dtype, seed);
}
Output TruncatedNormal(const Scope& scope, Input shape, DType dtype, int64_t seed) {
  return AddRandomOp(scope, "TruncatedNormal", shape, dtype, seed);
}

}  // namespace ops
}  // namespace braid
