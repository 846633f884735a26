// The Cast kernel (graph/ops/math_ops.cc): one kernel for every pair of
// float, double, int32, int64, uint8, bool and bfloat16.
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "braid/kernels/math/kernel_util.h"
#include "braid/kernels/op_kernel.h"

namespace braid {
namespace {

// Float to integer is defined for every input (C++ leaves NaN and
// out-of-range values undefined): NaN gives 0, the rest saturates.
template <typename D, typename S>
inline D Convert(S v, bool truncate) {
  if constexpr (std::is_same_v<S, BFloat16>) {
    return Convert<D>(static_cast<float>(v), truncate);
  } else if constexpr (std::is_same_v<D, BFloat16>) {
    const float f = static_cast<float>(v);
    if (!truncate || std::isnan(f)) return BFloat16(f);
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof(bits));
    BFloat16 out;
    out.bits = static_cast<uint16_t>(bits >> 16);
    return out;
  } else if constexpr (std::is_same_v<D, bool>) {
    return v != S(0);
  } else if constexpr (std::is_integral_v<D> && std::is_floating_point_v<S>) {
    if (std::isnan(v)) return D(0);
    if (v <= static_cast<S>(std::numeric_limits<D>::lowest()))
      return std::numeric_limits<D>::lowest();
    if (v >= static_cast<S>(std::numeric_limits<D>::max())) return std::numeric_limits<D>::max();
    return static_cast<D>(v);
  } else {
    return static_cast<D>(v);
  }
}

class CastOp : public OpKernel {
 public:
  explicit CastOp(OpKernelConstruction* c) : OpKernel(c) {
    OP_ATTR(c, bool, "Truncate", truncate_);
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const DType dst = ctx->node().output_dtype(0);
    if (x.dtype() == dst) {
      ctx->set_output(0, x);
      return;
    }
    Tensor* out = ctx->allocate_output(0, x.shape());
    const int64_t n = x.NumElements();
    const bool truncate = truncate_;
    bool supported = false;
    DispatchDType<float, double, int32_t, int64_t, uint8_t, bool, BFloat16>(
        x.dtype(), [&]<typename S>() {
          DispatchDType<float, double, int32_t, int64_t, uint8_t, bool, BFloat16>(
              dst, [&]<typename D>() {
                supported = true;
                const S* in = x.data<S>();
                D* o = out->data<D>();
                kernel_util::ParallelFor(n, 1, [&](int64_t b, int64_t e) {
                  for (int64_t i = b; i < e; ++i) o[i] = Convert<D>(in[i], truncate);
                });
              });
        });
    OP_REQUIRES(ctx, supported,
                absl::InvalidArgumentError(
                    absl::StrCat("cannot cast ", DTypeName(x.dtype()), " to ", DTypeName(dst))));
  }

 private:
  bool truncate_ = false;
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("Cast"), CastOp);

}  // namespace
}  // namespace braid
