// Test-only: inputs and plain-loop references for the nn op tables. The
// references compute window placement themselves (not through nn_op_util.h),
// so the tables check that code too.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "braid/testing/op_test_harness.h"

namespace braid::nn_test {

inline Tensor Random(const TensorShape& shape, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  return testing::RandomTensor(shape, seed, lo, hi);
}

// Random values at least `gap` away from zero, where Relu has its kink.
inline Tensor AwayFromZero(const TensorShape& shape, uint64_t seed, float gap = 0.1f) {
  Tensor t = Random(shape, seed);
  for (float& v : t.flat<float>()) {
    if (std::abs(v) < gap) v += v < 0 ? -gap : gap;
  }
  return t;
}

// A shuffled progression with spacing `step`: no two values tie, even after a
// finite-difference nudge, so max pooling's argmax is stable.
inline Tensor Distinct(const TensorShape& shape, uint64_t seed, float step = 0.05f) {
  Tensor t(DType::kFloat, shape);
  std::vector<int64_t> rank(t.NumElements());
  std::iota(rank.begin(), rank.end(), 0);
  std::shuffle(rank.begin(), rank.end(), std::mt19937_64(seed));
  const double mid = static_cast<double>(rank.size()) / 2;
  for (size_t i = 0; i < rank.size(); ++i) {
    t.data<float>()[i] = static_cast<float>((static_cast<double>(rank[i]) - mid) * step);
  }
  return t;
}

inline Tensor Int32s(const std::vector<int32_t>& v) { return Tensor::FromVector(v); }
inline Tensor Int32Shape(const TensorShape& s) {
  return Int32s(std::vector<int32_t>(s.dims().begin(), s.dims().end()));
}
inline Tensor Zeros(const TensorShape& s) { return Tensor::Filled(s, 0.f); }

// ------------------------------------------------------------ dense

inline Tensor MatMulRef(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const int64_t m = a.dim(ta ? 1 : 0), k = a.dim(ta ? 0 : 1), n = b.dim(tb ? 0 : 1);
  Tensor out = Zeros(TensorShape{m, n});
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p) {
        const float av = ta ? a.data<float>()[p * m + i] : a.data<float>()[i * k + p];
        const float bv = tb ? b.data<float>()[j * k + p] : b.data<float>()[p * n + j];
        s += static_cast<double>(av) * bv;
      }
      out.data<float>()[i * n + j] = static_cast<float>(s);
    }
  }
  return out;
}

// Softmax (log = false) or log-softmax over the last axis.
inline Tensor SoftmaxRef(const Tensor& x, bool log) {
  Tensor out(DType::kFloat, x.shape());
  const int64_t cols = x.dim(x.rank() - 1);
  for (int64_t r = 0; r < x.NumElements() / cols; ++r) {
    const float* in = x.data<float>() + r * cols;
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) sum += std::exp(static_cast<double>(in[j]));
    for (int64_t j = 0; j < cols; ++j) {
      out.data<float>()[r * cols + j] =
          static_cast<float>(log ? in[j] - std::log(sum) : std::exp(in[j]) / sum);
    }
  }
  return out;
}

// ------------------------------------------------------------ windows

// Stride, dilation and padding of a 2-D window op, as the tests state them.
struct WindowSpec {
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  std::string padding = "VALID";
  std::vector<int64_t> explicit_pads;  // top, bottom, left, right
};

struct Placement {
  int64_t out_h, out_w, pad_top, pad_left;
};

inline Placement Place(const WindowSpec& s, int64_t in_h, int64_t in_w, int64_t k_h, int64_t k_w) {
  auto one = [&](int64_t in, int64_t k, int64_t stride, int64_t dilation, int64_t before,
                 int64_t after, int64_t* out, int64_t* pad) {
    const int64_t k_eff = (k - 1) * dilation + 1;
    if (s.padding == "SAME") {
      *out = (in + stride - 1) / stride;
      *pad = std::max<int64_t>((*out - 1) * stride + k_eff - in, 0) / 2;
    } else {
      *pad = before;
      *out = (in + before + after - k_eff) / stride + 1;
    }
  };
  const bool expl = s.padding == "EXPLICIT";
  Placement p;
  one(in_h, k_h, s.stride_h, s.dilation_h, expl ? s.explicit_pads[0] : 0,
      expl ? s.explicit_pads[1] : 0, &p.out_h, &p.pad_top);
  one(in_w, k_w, s.stride_w, s.dilation_w, expl ? s.explicit_pads[2] : 0,
      expl ? s.explicit_pads[3] : 0, &p.out_w, &p.pad_left);
  return p;
}

inline int64_t At(const TensorShape& s, int64_t a, int64_t b, int64_t c, int64_t d) {
  return ((a * s.dim(1) + b) * s.dim(2) + c) * s.dim(3) + d;
}

// Calls fn(n, oh, ow, ih, iw, kh, kw) for every tap of a convolution (filter
// [k_h, k_w, ...]) that lands inside the input.
template <typename Fn>
void ForEachTap(const WindowSpec& s, const TensorShape& input, int64_t k_h, int64_t k_w, Fn fn) {
  const Placement p = Place(s, input.dim(1), input.dim(2), k_h, k_w);
  for (int64_t n = 0; n < input.dim(0); ++n)
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow)
        for (int64_t kh = 0; kh < k_h; ++kh)
          for (int64_t kw = 0; kw < k_w; ++kw) {
            const int64_t ih = oh * s.stride_h - p.pad_top + kh * s.dilation_h;
            const int64_t iw = ow * s.stride_w - p.pad_left + kw * s.dilation_w;
            if (ih < 0 || ih >= input.dim(1) || iw < 0 || iw >= input.dim(2)) continue;
            fn(n, oh, ow, ih, iw, kh, kw);
          }
}

inline TensorShape ConvOutShape(const WindowSpec& s, const TensorShape& input,
                                const TensorShape& filter) {
  const Placement p = Place(s, input.dim(1), input.dim(2), filter.dim(0), filter.dim(1));
  return TensorShape{input.dim(0), p.out_h, p.out_w, filter.dim(3)};
}

inline Tensor Conv2DRef(const WindowSpec& s, const Tensor& x, const Tensor& f) {
  const TensorShape os = ConvOutShape(s, x.shape(), f.shape());
  Tensor out = Zeros(os);
  ForEachTap(s, x.shape(), f.dim(0), f.dim(1),
             [&](auto n, auto oh, auto ow, auto ih, auto iw, auto kh, auto kw) {
               for (int64_t ic = 0; ic < f.dim(2); ++ic)
                 for (int64_t oc = 0; oc < f.dim(3); ++oc)
                   out.data<float>()[At(os, n, oh, ow, oc)] +=
                       x.data<float>()[At(x.shape(), n, ih, iw, ic)] *
                       f.data<float>()[At(f.shape(), kh, kw, ic, oc)];
             });
  return out;
}

inline Tensor Conv2DBackpropInputRef(const WindowSpec& s, const TensorShape& input_shape,
                                     const Tensor& f, const Tensor& dy) {
  Tensor dx = Zeros(input_shape);
  ForEachTap(s, input_shape, f.dim(0), f.dim(1),
             [&](auto n, auto oh, auto ow, auto ih, auto iw, auto kh, auto kw) {
               for (int64_t ic = 0; ic < f.dim(2); ++ic)
                 for (int64_t oc = 0; oc < f.dim(3); ++oc)
                   dx.data<float>()[At(input_shape, n, ih, iw, ic)] +=
                       dy.data<float>()[At(dy.shape(), n, oh, ow, oc)] *
                       f.data<float>()[At(f.shape(), kh, kw, ic, oc)];
             });
  return dx;
}

inline Tensor Conv2DBackpropFilterRef(const WindowSpec& s, const Tensor& x,
                                      const TensorShape& filter_shape, const Tensor& dy) {
  Tensor df = Zeros(filter_shape);
  ForEachTap(s, x.shape(), filter_shape.dim(0), filter_shape.dim(1),
             [&](auto n, auto oh, auto ow, auto ih, auto iw, auto kh, auto kw) {
               for (int64_t ic = 0; ic < filter_shape.dim(2); ++ic)
                 for (int64_t oc = 0; oc < filter_shape.dim(3); ++oc)
                   df.data<float>()[At(filter_shape, kh, kw, ic, oc)] +=
                       x.data<float>()[At(x.shape(), n, ih, iw, ic)] *
                       dy.data<float>()[At(dy.shape(), n, oh, ow, oc)];
             });
  return df;
}

// Calls fn(out_index, window) for each output element of a pooling op, where
// window lists the input indices inside the input (same channel).
template <typename Fn>
void ForEachWindow(const WindowSpec& s, const TensorShape& input, int64_t k_h, int64_t k_w, Fn fn) {
  const Placement p = Place(s, input.dim(1), input.dim(2), k_h, k_w);
  const TensorShape os{input.dim(0), p.out_h, p.out_w, input.dim(3)};
  for (int64_t n = 0; n < input.dim(0); ++n)
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow)
        for (int64_t c = 0; c < input.dim(3); ++c) {
          std::vector<int64_t> window;
          for (int64_t kh = 0; kh < k_h; ++kh)
            for (int64_t kw = 0; kw < k_w; ++kw) {
              const int64_t ih = oh * s.stride_h - p.pad_top + kh;
              const int64_t iw = ow * s.stride_w - p.pad_left + kw;
              if (ih < 0 || ih >= input.dim(1) || iw < 0 || iw >= input.dim(2)) continue;
              window.push_back(At(input, n, ih, iw, c));
            }
          fn(At(os, n, oh, ow, c), window);
        }
}

inline TensorShape PoolOutShape(const WindowSpec& s, const TensorShape& input, int64_t k_h,
                                int64_t k_w) {
  const Placement p = Place(s, input.dim(1), input.dim(2), k_h, k_w);
  return TensorShape{input.dim(0), p.out_h, p.out_w, input.dim(3)};
}

// The first maximum of x over `window`.
inline int64_t ArgMax(const Tensor& x, const std::vector<int64_t>& window) {
  int64_t best = window[0];
  for (int64_t i : window)
    if (x.data<float>()[i] > x.data<float>()[best]) best = i;
  return best;
}

inline Tensor MaxPoolRef(const WindowSpec& s, const Tensor& x, int64_t k_h, int64_t k_w) {
  Tensor out = Zeros(PoolOutShape(s, x.shape(), k_h, k_w));
  ForEachWindow(s, x.shape(), k_h, k_w, [&](int64_t o, const std::vector<int64_t>& w) {
    out.data<float>()[o] = x.data<float>()[ArgMax(x, w)];
  });
  return out;
}

inline Tensor AvgPoolRef(const WindowSpec& s, const Tensor& x, int64_t k_h, int64_t k_w) {
  Tensor out = Zeros(PoolOutShape(s, x.shape(), k_h, k_w));
  ForEachWindow(s, x.shape(), k_h, k_w, [&](int64_t o, const std::vector<int64_t>& w) {
    double sum = 0;
    for (int64_t i : w) sum += x.data<float>()[i];
    out.data<float>()[o] = static_cast<float>(sum / static_cast<double>(w.size()));
  });
  return out;
}

inline Tensor MaxPoolGradRef(const WindowSpec& s, const Tensor& x, const Tensor& g, int64_t k_h,
                             int64_t k_w) {
  Tensor dx = Zeros(x.shape());
  ForEachWindow(s, x.shape(), k_h, k_w, [&](int64_t o, const std::vector<int64_t>& w) {
    dx.data<float>()[ArgMax(x, w)] += g.data<float>()[o];
  });
  return dx;
}

inline Tensor MaxPoolGradGradRef(const WindowSpec& s, const Tensor& x, const Tensor& gg,
                                 int64_t k_h, int64_t k_w) {
  Tensor out = Zeros(PoolOutShape(s, x.shape(), k_h, k_w));
  ForEachWindow(s, x.shape(), k_h, k_w, [&](int64_t o, const std::vector<int64_t>& w) {
    out.data<float>()[o] = gg.data<float>()[ArgMax(x, w)];
  });
  return out;
}

inline Tensor AvgPoolGradRef(const WindowSpec& s, const TensorShape& input, const Tensor& g,
                             int64_t k_h, int64_t k_w) {
  Tensor dx = Zeros(input);
  ForEachWindow(s, input, k_h, k_w, [&](int64_t o, const std::vector<int64_t>& w) {
    for (int64_t i : w) dx.data<float>()[i] += g.data<float>()[o] / static_cast<float>(w.size());
  });
  return dx;
}

// ------------------------------------------------------------ batch norm

// Per-channel (last dimension) mean and biased variance of x.
inline void ChannelMoments(const Tensor& x, std::vector<double>* mean, std::vector<double>* var) {
  const int64_t c = x.dim(x.rank() - 1), rows = x.NumElements() / c;
  mean->assign(c, 0);
  var->assign(c, 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < c; ++j) (*mean)[j] += x.data<float>()[r * c + j] / double(rows);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < c; ++j) {
      const double d = x.data<float>()[r * c + j] - (*mean)[j];
      (*var)[j] += d * d / double(rows);
    }
}

inline Tensor BatchNormRef(const Tensor& x, const Tensor& scale, const Tensor& offset,
                           const std::vector<double>& mean, const std::vector<double>& var,
                           double epsilon) {
  Tensor y(DType::kFloat, x.shape());
  const int64_t c = x.dim(x.rank() - 1);
  for (int64_t i = 0; i < x.NumElements(); ++i) {
    const int64_t j = i % c;
    y.data<float>()[i] = static_cast<float>(
        (x.data<float>()[i] - mean[j]) / std::sqrt(var[j] + epsilon) * scale.data<float>()[j] +
        offset.data<float>()[j]);
  }
  return y;
}

inline Tensor VectorOf(const std::vector<double>& v) {
  std::vector<float> f(v.begin(), v.end());
  return Tensor::FromVector(f);
}

}  // namespace braid::nn_test
