#include "braid/kernels/nn/dnnl_util.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace braid::nn {

dnnl::primitive_attr CachedPrimitiveAttr(bool relu_on_output) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (relu_on_output) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  return attr;
}

memory::desc F32Desc(const memory::dims& dims, const memory::dims& strides) {
  return memory::desc(dims, memory::data_type::f32, strides);
}

memory::desc F32RowMajor(const memory::dims& dims) {
  memory::dims strides(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i) {
    strides[i] = strides[i + 1] * dims[i + 1];
  }
  return F32Desc(dims, strides);
}

memory::desc F32Nhwc(int64_t n, int64_t c, int64_t h, int64_t w) {
  return memory::desc({n, c, h, w}, memory::data_type::f32, memory::format_tag::nhwc);
}

memory::desc F32Hwio(int64_t out_c, int64_t in_c, int64_t h, int64_t w) {
  return memory::desc({out_c, in_c, h, w}, memory::data_type::f32, memory::format_tag::hwio);
}

memory Wrap(const memory::desc& md, const dnnl::engine& engine, const Tensor& t) {
  return memory(md, engine, t.raw_data());
}

namespace {

// What this thread reuses across executions: a stream on the engine it last
// ran on (a copy of the engine handle keeps the engine alive as long as the
// stream), and a scratchpad buffer that only grows.
struct ThreadExecState {
  dnnl::engine engine;
  dnnl::stream stream;
  std::unique_ptr<char, decltype(&std::free)> scratch{nullptr, &std::free};
  size_t scratch_size = 0;

  dnnl::stream& StreamFor(const dnnl::engine& e) {
    if (engine.get(true) != e.get()) {
      stream = dnnl::stream();
      engine = e;
      stream = dnnl::stream(engine);
    }
    return stream;
  }
  // A scratchpad memory for `md`, valid until the next call on this thread.
  memory Scratchpad(const memory::desc& md) {
    const size_t size = md.get_size();
    if (size > scratch_size) {
      constexpr size_t kAlign = 64;  // oneDNN's own alignment for buffers
      scratch.reset(
          static_cast<char*>(std::aligned_alloc(kAlign, (size + kAlign - 1) / kAlign * kAlign)));
      if (scratch == nullptr) throw dnnl::error(dnnl_out_of_memory, "scratchpad allocation failed");
      scratch_size = size;
    }
    return memory(md, engine, scratch.get());
  }
};

ThreadExecState& ThisThread() {
  thread_local ThreadExecState state;
  return state;
}

// Runs `p` on `stream` with `args` (plus this thread's scratchpad) through
// oneDNN's C API, which takes the arguments as an array: the C++ API's
// unordered_map costs an allocation per argument.
void ExecuteOn(ThreadExecState& state, const DnnlPrimitive& p, const std::pair<int, memory>* args,
               size_t count) {
  constexpr size_t kMaxArgs = 16;
  dnnl_exec_arg_t c_args[kMaxArgs + 1];
  if (count > kMaxArgs) throw dnnl::error(dnnl_invalid_arguments, "too many primitive arguments");
  for (size_t i = 0; i < count; ++i) c_args[i] = {args[i].first, args[i].second.get()};
  memory scratchpad;
  if (p.scratchpad.get_size() > 0) {
    scratchpad = state.Scratchpad(p.scratchpad);
    c_args[count++] = {DNNL_ARG_SCRATCHPAD, scratchpad.get()};
  }
  dnnl::error::wrap_c_api(dnnl_primitive_execute(p.primitive.get(), state.stream.get(),
                                                 static_cast<int>(count), c_args),
                          "could not execute a primitive");
}

}  // namespace

absl::Status Execute(const dnnl::engine& engine, const DnnlPrimitive& p,
                     std::initializer_list<std::pair<int, memory>> args) {
  try {
    ThreadExecState& state = ThisThread();
    dnnl::stream& stream = state.StreamFor(engine);
    ExecuteOn(state, p, args.begin(), args.size());
    stream.wait();
  } catch (const dnnl::error& e) {
    return DnnlErrorStatus(e, "executing a primitive");
  }
  return absl::OkStatus();
}

memory::desc AnyLayout(const memory::desc& md) {
  return memory::desc(md.dims(), md.data_type(), memory::format_tag::any);
}

absl::Status ExecuteWithLayouts(const dnnl::engine& engine, const DnnlPrimitive& p,
                                const std::vector<LayoutArg>& args) {
  try {
    ThreadExecState& state = ThisThread();
    dnnl::stream& stream = state.StreamFor(engine);
    std::vector<std::pair<int, memory>> prim_args;
    std::vector<std::pair<memory, memory>> copy_back;  // (primitive's, braid's)
    for (const LayoutArg& a : args) {
      memory plain = Wrap(a.plain, engine, *a.tensor);
      if (a.want == a.plain) {
        prim_args.emplace_back(a.arg, plain);
        continue;
      }
      memory relaid(a.want, engine);
      if (a.output) {
        copy_back.emplace_back(relaid, plain);
      } else {
        // oneDNN keeps reorder primitives in its own cache, so this is cheap
        // after the first step.
        dnnl::reorder(plain, relaid).execute(stream, plain, relaid);
      }
      prim_args.emplace_back(a.arg, relaid);
    }
    ExecuteOn(state, p, prim_args.data(), prim_args.size());
    for (auto& [from, to] : copy_back) dnnl::reorder(from, to).execute(stream, from, to);
    stream.wait();
  } catch (const dnnl::error& e) {
    return DnnlErrorStatus(e, "executing a primitive");
  }
  return absl::OkStatus();
}

void FillWithBias(const Tensor* bias, bool relu, Tensor* out) {
  float* o = out->data<float>();
  if (bias == nullptr) {
    std::fill_n(o, out->NumElements(), 0.f);
    return;
  }
  const int64_t n = bias->NumElements();
  const float* b = bias->data<float>();
  for (int64_t i = 0; i < out->NumElements(); ++i) {
    o[i] = relu ? std::max(b[i % n], 0.f) : b[i % n];
  }
}

absl::Status DnnlErrorStatus(const dnnl::error& e, const std::string& what) {
  return absl::InternalError(absl::StrCat("oneDNN failed ", what, ": ", e.what(), " (status ",
                                          static_cast<int>(e.status), ")"));
}

std::string ShapeString(const Tensor& t) { return t.shape().DebugString(); }

}  // namespace braid::nn
