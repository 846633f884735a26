// The nn op table, part 1: dense layers, activations, softmax losses and
// batch normalization; each case checks the kernel against a plain-loop
// reference, the shape function against the result, and the registered
// gradient against finite differences (testing/op_test_harness.h).
// Convolution and pooling are in nn_conv_op_table_test.cc.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/kernels/nn/nn_test_util.h"

namespace braid {
namespace {

using nn_test::AwayFromZero;
using nn_test::Random;
using testing::CheckOp;
using testing::OpCase;

TEST(NnOpTable, MatMulAllTransposes) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      OpCase c;
      c.name = absl::StrCat("MatMul transpose_a=", ta, " transpose_b=", tb);
      c.inputs = {Random(ta ? TensorShape{3, 2} : TensorShape{2, 3}, 1),
                  Random(tb ? TensorShape{4, 3} : TensorShape{3, 4}, 2)};
      c.build = [=](const Scope& s, const std::vector<Output>& in) {
        return ops::MatMul(s, in[0], in[1], ta, tb);
      };
      c.reference = [=](const std::vector<Tensor>& in) {
        return nn_test::MatMulRef(in[0], in[1], ta, tb);
      };
      CheckOp(c);
    }
  }
}

TEST(NnOpTable, BiasAddAndGrad) {
  OpCase add;
  add.name = "BiasAdd";
  add.inputs = {Random({2, 3, 4}, 3), Random({4}, 4)};
  add.build = [](const Scope& s, const std::vector<Output>& in) {
    return ops::BiasAdd(s, in[0], in[1]);
  };
  add.reference = [](const std::vector<Tensor>& in) {
    Tensor out = in[0].DeepCopy();
    for (int64_t i = 0; i < out.NumElements(); ++i)
      out.data<float>()[i] += in[1].data<float>()[i % 4];
    return out;
  };
  CheckOp(add);

  OpCase grad;
  grad.name = "BiasAddGrad";
  grad.inputs = {Random({2, 3, 4}, 5)};
  grad.build = [](const Scope& s, const std::vector<Output>& in) {
    return ops::BiasAddGrad(s, in[0]);
  };
  grad.reference = [](const std::vector<Tensor>& in) {
    Tensor out = nn_test::Zeros({4});
    for (int64_t i = 0; i < in[0].NumElements(); ++i)
      out.data<float>()[i % 4] += in[0].data<float>()[i];
    return out;
  };
  CheckOp(grad);
}

TEST(NnOpTable, ReluAndGrad) {
  OpCase relu;
  relu.name = "Relu";
  relu.inputs = {AwayFromZero({3, 4}, 6)};
  relu.build = [](const Scope& s, const std::vector<Output>& in) { return ops::Relu(s, in[0]); };
  relu.reference = [](const std::vector<Tensor>& in) {
    Tensor out = in[0].DeepCopy();
    for (float& v : out.flat<float>()) v = std::max(v, 0.f);
    return out;
  };
  CheckOp(relu);

  OpCase grad;
  grad.name = "ReluGrad";
  grad.inputs = {Random({3, 4}, 7), AwayFromZero({3, 4}, 8)};
  grad.build = [](const Scope& s, const std::vector<Output>& in) {
    return ops::ReluGrad(s, in[0], in[1]);
  };
  grad.reference = [](const std::vector<Tensor>& in) {
    Tensor out = in[0].DeepCopy();
    for (int64_t i = 0; i < out.NumElements(); ++i)
      if (in[1].data<float>()[i] <= 0) out.data<float>()[i] = 0;
    return out;
  };
  CheckOp(grad);
}

TEST(NnOpTable, SoftmaxAndLogSoftmax) {
  for (bool log : {false, true}) {
    OpCase c;
    c.name = log ? "LogSoftmax" : "Softmax";
    // Rank 3: softmax runs over the last axis of every row.
    c.inputs = {Random({2, 3, 5}, 9, -2.f, 2.f)};
    c.build = [=](const Scope& s, const std::vector<Output>& in) {
      return log ? ops::LogSoftmax(s, in[0]) : ops::Softmax(s, in[0]);
    };
    c.reference = [=](const std::vector<Tensor>& in) { return nn_test::SoftmaxRef(in[0], log); };
    CheckOp(c);
  }
}

// softmax(features) - one_hot(labels), and -log_softmax at the labels.
Tensor XentRef(const Tensor& features, const Tensor& labels, bool want_backprop) {
  Tensor log_sm = nn_test::SoftmaxRef(features, /*log=*/true);
  const int64_t batch = features.dim(0), classes = features.dim(1);
  Tensor loss = nn_test::Zeros({batch});
  Tensor backprop(DType::kFloat, features.shape());
  for (int64_t i = 0; i < batch; ++i) {
    const int64_t label =
        labels.dtype() == DType::kInt32 ? labels.data<int32_t>()[i] : labels.data<int64_t>()[i];
    loss.data<float>()[i] = -log_sm.data<float>()[i * classes + label];
    for (int64_t j = 0; j < classes; ++j) {
      backprop.data<float>()[i * classes + j] =
          std::exp(log_sm.data<float>()[i * classes + j]) - (j == label ? 1.f : 0.f);
    }
  }
  return want_backprop ? backprop : loss;
}

TEST(NnOpTable, SparseSoftmaxCrossEntropyWithLogits) {
  const Tensor labels32 = nn_test::Int32s({0, 3, 4, 1});
  const Tensor labels64 = Tensor::FromVector(std::vector<int64_t>{2, 2, 0, 4});
  for (const Tensor& labels : {labels32, labels64}) {
    for (bool backprop : {false, true}) {
      OpCase c;
      c.name =
          absl::StrCat("SparseSoftmaxCrossEntropyWithLogits labels=", DTypeName(labels.dtype()),
                       backprop ? " backprop" : " loss");
      c.inputs = {Random({4, 5}, 10, -2.f, 2.f), labels};
      c.build = [=](const Scope& s, const std::vector<Output>& in) {
        ops::SoftmaxCrossEntropy x = ops::SparseSoftmaxCrossEntropyWithLogits(s, in[0], in[1]);
        return backprop ? x.backprop : x.loss;
      };
      c.reference = [=](const std::vector<Tensor>& in) { return XentRef(in[0], in[1], backprop); };
      CheckOp(c);
    }
  }
}

// ---------------------------------------------------------------- batch norm

constexpr double kEpsilon = 1e-3;
const TensorShape kBnShape{2, 2, 2, 3};
const Tensor kEmpty = nn_test::Zeros({0});

// y of FusedBatchNormV3 in training mode, and the batch statistics. Eight
// channels take oneDNN's vectorized path, three its generic one.
TEST(NnOpTable, FusedBatchNormTraining) {
  for (int64_t channels : {3, 8}) {
    OpCase y;
    y.name = absl::StrCat("FusedBatchNormV3 training y, ", channels, " channels");
    y.inputs = {Random({2, 2, 2, channels}, 11), Random({channels}, 12, 0.5f, 1.5f),
                Random({channels}, 13), kEmpty, kEmpty};
    y.build = [](const Scope& s, const std::vector<Output>& in) {
      return ops::FusedBatchNorm(s, in[0], in[1], in[2], in[3], in[4]).y;
    };
    y.reference = [](const std::vector<Tensor>& in) {
      std::vector<double> mean, var;
      nn_test::ChannelMoments(in[0], &mean, &var);
      return nn_test::BatchNormRef(in[0], in[1], in[2], mean, var, kEpsilon);
    };
    y.grad_inputs = {0, 1, 2};
    CheckOp(y);
  }

  // A running average with factor 0.25 of the given statistics and the
  // batch's, whose variance is Bessel-corrected (8 rows per channel).
  for (bool want_var : {false, true}) {
    OpCase stat;
    stat.name = want_var ? "FusedBatchNormV3 batch_variance" : "FusedBatchNormV3 batch_mean";
    stat.inputs = {Random(kBnShape, 14), Random({3}, 15), Random({3}, 16), Random({3}, 17),
                   Random({3}, 18, 0.5f, 1.5f)};
    stat.build = [=](const Scope& s, const std::vector<Output>& in) {
      ops::FusedBatchNormOptions options;
      options.exponential_avg_factor = 0.25f;
      ops::FusedBatchNormOutputs bn =
          ops::FusedBatchNorm(s, in[0], in[1], in[2], in[3], in[4], options);
      return want_var ? bn.batch_variance : bn.batch_mean;
    };
    stat.reference = [=](const std::vector<Tensor>& in) {
      std::vector<double> mean, var;
      nn_test::ChannelMoments(in[0], &mean, &var);
      const Tensor& given = want_var ? in[4] : in[3];
      std::vector<double> out(3);
      for (int j = 0; j < 3; ++j) {
        const double batch = want_var ? var[j] * 8 / 7 : mean[j];
        out[j] = 0.75 * given.data<float>()[j] + 0.25 * batch;
      }
      return nn_test::VectorOf(out);
    };
    stat.check_gradient = false;  // only y's gradient is defined, as in TensorFlow
    CheckOp(stat);
  }
}

TEST(NnOpTable, FusedBatchNormInference) {
  OpCase y;
  y.name = "FusedBatchNormV3 inference y";
  y.inputs = {Random(kBnShape, 19), Random({3}, 20, 0.5f, 1.5f), Random({3}, 21), Random({3}, 22),
              Random({3}, 23, 0.5f, 1.5f)};
  y.build = [](const Scope& s, const std::vector<Output>& in) {
    ops::FusedBatchNormOptions options;
    options.is_training = false;
    return ops::FusedBatchNorm(s, in[0], in[1], in[2], in[3], in[4], options).y;
  };
  y.reference = [](const std::vector<Tensor>& in) {
    std::vector<double> mean(in[3].data<float>(), in[3].data<float>() + 3);
    std::vector<double> var(in[4].data<float>(), in[4].data<float>() + 3);
    return nn_test::BatchNormRef(in[0], in[1], in[2], mean, var, kEpsilon);
  };
  y.grad_inputs = {0, 1, 2};
  CheckOp(y);
}

// FusedBatchNormGradV3 fed by FusedBatchNormV3's reserve spaces, checked
// against the closed-form gradients. (Its own gradient is not registered.)
TEST(NnOpTable, FusedBatchNormGrad) {
  for (bool training : {true, false}) {
    for (int output : {0, 1, 2}) {
      OpCase c;
      c.name = absl::StrCat("FusedBatchNormGradV3 ", training ? "training" : "inference",
                            " output ", output);
      // dy, x, scale, population mean, population variance.
      c.inputs = {Random(kBnShape, 24), Random(kBnShape, 25), Random({3}, 26, 0.5f, 1.5f),
                  Random({3}, 27), Random({3}, 28, 0.5f, 1.5f)};
      c.build = [=](const Scope& s, const std::vector<Output>& in) {
        ops::FusedBatchNormOptions options;
        options.is_training = training;
        ops::FusedBatchNormOutputs bn =
            ops::FusedBatchNorm(s, in[1], in[2], nn_test::Zeros({3}), in[3], in[4], options);
        ops::FusedBatchNormGradOutputs g =
            ops::FusedBatchNormGrad(s, in[0], in[1], in[2], bn.reserve_space_1, bn.reserve_space_2,
                                    bn.reserve_space_3, kEpsilon, training);
        return output == 0 ? g.x_backprop : output == 1 ? g.scale_backprop : g.offset_backprop;
      };
      c.reference = [=](const std::vector<Tensor>& in) {
        const Tensor &dy = in[0], &x = in[1], &scale = in[2];
        std::vector<double> mean, var;
        if (training) {
          nn_test::ChannelMoments(x, &mean, &var);
        } else {
          mean.assign(in[3].data<float>(), in[3].data<float>() + 3);
          var.assign(in[4].data<float>(), in[4].data<float>() + 3);
        }
        const int64_t rows = x.NumElements() / 3;
        std::vector<double> sum_dy(3, 0), sum_dy_xhat(3, 0);
        auto xhat = [&](int64_t i) {
          return (x.data<float>()[i] - mean[i % 3]) / std::sqrt(var[i % 3] + kEpsilon);
        };
        for (int64_t i = 0; i < x.NumElements(); ++i) {
          sum_dy[i % 3] += dy.data<float>()[i];
          sum_dy_xhat[i % 3] += dy.data<float>()[i] * xhat(i);
        }
        if (output == 1) return nn_test::VectorOf(sum_dy_xhat);
        if (output == 2) return nn_test::VectorOf(sum_dy);
        Tensor dx(DType::kFloat, x.shape());
        for (int64_t i = 0; i < x.NumElements(); ++i) {
          const int j = static_cast<int>(i % 3);
          double g = dy.data<float>()[i];
          // Training also differentiates through the batch statistics.
          if (training) g -= (sum_dy[j] + xhat(i) * sum_dy_xhat[j]) / double(rows);
          dx.data<float>()[i] =
              static_cast<float>(g * scale.data<float>()[j] / std::sqrt(var[j] + kEpsilon));
        }
        return dx;
      };
      c.tolerance = 1e-4;
      c.check_gradient = false;
      CheckOp(c);
    }
  }
}

}  // namespace
}  // namespace braid
