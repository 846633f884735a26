#include "braid/kernels/nn/dnnl_util.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace braid::nn {

dnnl::primitive_attr CachedPrimitiveAttr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
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

absl::Status Execute(const dnnl::engine& engine, const DnnlPrimitive& p,
                     std::unordered_map<int, memory> args) {
  try {
    if (p.scratchpad.get_size() > 0) {
      args.emplace(DNNL_ARG_SCRATCHPAD, memory(p.scratchpad, engine));
    }
    dnnl::stream stream(engine);
    p.primitive.execute(stream, args);
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
    dnnl::stream stream(engine);
    std::unordered_map<int, memory> prim_args;
    std::vector<std::pair<memory, memory>> copy_back;  // (primitive's, braid's)
    for (const LayoutArg& a : args) {
      memory plain = Wrap(a.plain, engine, *a.tensor);
      if (a.want == a.plain) {
        prim_args.emplace(a.arg, plain);
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
      prim_args.emplace(a.arg, relaid);
    }
    if (p.scratchpad.get_size() > 0) {
      prim_args.emplace(DNNL_ARG_SCRATCHPAD, memory(p.scratchpad, engine));
    }
    p.primitive.execute(stream, prim_args);
    for (auto& [from, to] : copy_back) dnnl::reorder(from, to).execute(stream, from, to);
    stream.wait();
  } catch (const dnnl::error& e) {
    return DnnlErrorStatus(e, "executing a primitive");
  }
  return absl::OkStatus();
}

absl::Status DnnlErrorStatus(const dnnl::error& e, const std::string& what) {
  return absl::InternalError(absl::StrCat("oneDNN failed ", what, ": ", e.what(), " (status ",
                                          static_cast<int>(e.status), ")"));
}

std::string ShapeString(const Tensor& t) { return t.shape().DebugString(); }

}  // namespace braid::nn
