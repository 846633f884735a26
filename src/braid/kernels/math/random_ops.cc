// Kernels of RandomUniform, RandomStandardNormal and TruncatedNormal
// (graph/ops/random_ops.cc). Note [Random seeds] in random_ops.h: one
// generator per kernel, seeded at construction, advanced by every run under
// a mutex (steps may overlap). The value transforms are written out here
// rather than taken from <random>'s distributions, whose algorithms differ
// between standard libraries, so seeded results are the same everywhere.
#include <cmath>
#include <mutex>
#include <random>

#include "absl/strings/str_cat.h"
#include "braid/kernels/math/kernel_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

enum class Distribution { kUniform, kNormal, kTruncatedNormal };

// Uniform in [0, 1) from the top bits of a 64-bit draw.
template <typename T>
T UniformFromBits(uint64_t bits) {
  if constexpr (std::is_same_v<T, float>) {
    return static_cast<float>(bits >> 40) * 0x1p-24f;
  } else {
    return static_cast<double>(bits >> 11) * 0x1p-53;
  }
}

template <typename T, Distribution kDist>
class RandomOp : public OpKernel {
 public:
  explicit RandomOp(OpKernelConstruction* c) : OpKernel(c) {
    int64_t seed = 0, seed2 = 0;
    OP_ATTR(c, int64_t, "seed", seed);
    OP_ATTR(c, int64_t, "seed2", seed2);
    if (seed == 0 && seed2 == 0) {
      std::random_device rd;
      engine_.seed((static_cast<uint64_t>(rd()) << 32) ^ rd());
    } else {
      std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                        static_cast<uint32_t>(seed2), static_cast<uint32_t>(seed2 >> 32)};
      engine_.seed(seq);
    }
  }

  void Compute(OpKernelContext* ctx) override {
    absl::StatusOr<TensorShape> shape = kernel_util::ShapeFromTensor(ctx->input(0), "shape");
    OP_REQUIRES_OK(ctx, shape.status());
    Tensor* out = ctx->allocate_output(0, *shape);
    T* o = out->data<T>();
    const int64_t n = out->NumElements();
    std::lock_guard<std::mutex> lock(mu_);
    if constexpr (kDist == Distribution::kUniform) {
      for (int64_t i = 0; i < n; ++i) o[i] = UniformFromBits<T>(engine_());
    } else {
      for (int64_t i = 0; i < n;) {
        // Box-Muller: two independent normals from two uniforms; u1 in (0, 1].
        const T u1 = T(1) - UniformFromBits<T>(engine_());
        const T u2 = UniformFromBits<T>(engine_());
        const T r = std::sqrt(T(-2) * std::log(u1));
        const T theta = T(2 * M_PI) * u2;
        for (T z : {r * std::cos(theta), r * std::sin(theta)}) {
          if (kDist == Distribution::kTruncatedNormal && std::abs(z) > T(2)) continue;
          if (i < n) o[i++] = z;
        }
      }
    }
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;  // protected by mu_
};

#define REGISTER_RANDOM(name, dist)                                             \
  BRAID_REGISTER_KERNEL(KernelDefBuilder(name).TypeConstraint<float>("dtype"),  \
                        RandomOp<float, dist>);                                 \
  BRAID_REGISTER_KERNEL(KernelDefBuilder(name).TypeConstraint<double>("dtype"), \
                        RandomOp<double, dist>)
REGISTER_RANDOM("RandomUniform", Distribution::kUniform);
REGISTER_RANDOM("RandomStandardNormal", Distribution::kNormal);
REGISTER_RANDOM("TruncatedNormal", Distribution::kTruncatedNormal);

}  // namespace
}  // namespace braid
