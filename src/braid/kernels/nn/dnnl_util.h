// Helpers shared by the oneDNN-backed nn kernels: memory descriptors over
// braid Tensors, a per-kernel primitive cache, and execution that turns
// oneDNN's exceptions into Status.
//
// Note [oneDNN primitives under concurrent steps]
// A kernel instance is shared by all steps that run its node, possibly at the
// same time on different inter-op threads. oneDNN primitives are immutable
// once created, but with the default (library) scratchpad mode a primitive
// may only run on the thread that created it. Every primitive here is created
// with scratchpad_mode::user and each execution allocates its own scratchpad,
// which makes concurrent execution of one cached primitive safe. Primitive
// creation is the expensive part (JIT code generation), hence the cache keyed
// by the input shapes.
#pragma once

#include <dnnl.hpp>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "braid/tensor/tensor.h"

namespace braid::nn {

using dnnl::memory;

// A primitive ready to run, with what it needs for a scratchpad.
struct DnnlPrimitive {
  dnnl::primitive primitive;
  memory::desc scratchpad;
};

// Attributes every cached primitive is created with (see the Note above);
// with `relu_on_output`, the primitive also applies ReLU to its output as it
// writes it (a oneDNN post-op; the fused kernels).
dnnl::primitive_attr CachedPrimitiveAttr(bool relu_on_output = false);

// Creates the primitive of primitive descriptor `pd` (of primitive kind P).
template <typename P>
DnnlPrimitive MakePrimitive(const typename P::primitive_desc& pd) {
  return DnnlPrimitive{P(pd), pd.scratchpad_desc()};
}

// A dense f32 descriptor with the given logical dims and strides.
memory::desc F32Desc(const memory::dims& dims, const memory::dims& strides);
// A dense row-major (C order) f32 descriptor.
memory::desc F32RowMajor(const memory::dims& dims);
// oneDNN names dimensions in NCHW / OIHW order whatever the layout; these
// describe braid's layouts: activations stored NHWC, filters stored HWIO.
memory::desc F32Nhwc(int64_t n, int64_t c, int64_t h, int64_t w);
memory::desc F32Hwio(int64_t out_c, int64_t in_c, int64_t h, int64_t w);

// A oneDNN memory object over the tensor's buffer (no copy).
memory Wrap(const memory::desc& md, const dnnl::engine& engine, const Tensor& t);

// Runs `p` with `args` (DNNL_ARG_* and memory) plus a scratchpad and waits.
// The stream and the scratchpad are this thread's own, made once and reused
// (a stream, a scratchpad and a hash map per call were a third of a 1-row
// inference's run time; docs/performance.md, "Serving").
absl::Status Execute(const dnnl::engine& engine, const DnnlPrimitive& p,
                     std::initializer_list<std::pair<int, memory>> args);

// An argument of a primitive that chose its own memory layout (format_tag::any
// when created): `tensor` is in braid's plain layout `plain` and is reordered
// into `want` before the primitive runs (inputs) or out of it afterwards
// (outputs). Equal layouts are passed through without a copy.
struct LayoutArg {
  int arg;  // DNNL_ARG_*
  memory::desc plain;
  memory::desc want;
  const Tensor* tensor;
  bool output = false;
};
absl::Status ExecuteWithLayouts(const dnnl::engine& engine, const DnnlPrimitive& p,
                                const std::vector<LayoutArg>& args);
// The same dims as `md` in the layout the primitive prefers.
memory::desc AnyLayout(const memory::desc& md);

// The output of a fused op (_FusedConv2D, _FusedMatMul) whose product is
// empty (no input channels, k == 0): each row of `out` is `bias`, through ReLU
// when `relu`; all zeros without a bias.
void FillWithBias(const Tensor* bias, bool relu, Tensor* out);

// InternalError describing a oneDNN failure during `what`.
absl::Status DnnlErrorStatus(const dnnl::error& e, const std::string& what);

// "[2,3,4]" for error messages.
std::string ShapeString(const Tensor& t);

// Shape-keyed cache of prepared primitives for one kernel instance.
// Thread-safe; entries are immutable once built and stay alive while a caller
// holds them, even if the cache is cleared meanwhile.
template <typename Entry>
class PrimitiveCache {
 public:
  using Key = std::vector<int64_t>;

  // The entry for `key`, built by `make()` (which may throw dnnl::error) on a
  // miss. Two threads missing at once may both build; one result is kept.
  template <typename Make>
  absl::StatusOr<std::shared_ptr<const Entry>> Get(const Key& key, Make&& make) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = entries_.find(key);
      if (it != entries_.end()) return it->second;
    }
    std::shared_ptr<const Entry> built;
    try {
      built = std::make_shared<const Entry>(make());
    } catch (const dnnl::error& e) {
      return DnnlErrorStatus(e, "creating a primitive");
    }
    std::lock_guard<std::mutex> lock(mu_);
    // Shapes that keep changing (e.g. a ragged last batch) must not grow the
    // cache without bound; starting over is rare and cheap enough.
    if (entries_.size() >= kMaxEntries) entries_.clear();
    return entries_.try_emplace(key, std::move(built)).first->second;
  }

 private:
  static constexpr size_t kMaxEntries = 32;
  std::mutex mu_;
  absl::flat_hash_map<Key, std::shared_ptr<const Entry>> entries_;  // guarded by mu_
};

}  // namespace braid::nn
