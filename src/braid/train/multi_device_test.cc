// Training through the partitioner: a model split over two CPU devices in one
// process (Send/Recv between them) must train exactly as on one device, and a
// seeded single-threaded run must be bit-for-bit reproducible.
#include <gtest/gtest.h>

#include "braid/data/idx.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/runtime/session.h"
#include "braid/train/optimizer.h"

namespace braid {
namespace {

struct TrainingRun {
  std::vector<float> losses;
  std::vector<Tensor> weights;
  std::vector<std::string> devices;  // where each layer's MatMul ran
};

const FashionMnist& Data() {
  static const FashionMnist* data = [] {
    auto d = LoadFashionMnist();
    BRAID_CHECK(d.ok());
    return new FashionMnist(*std::move(d));
  }();
  return *data;
}

// A 784-64-10 MLP trained with Adam for `steps` batches of 64 real images.
// `split` puts layer 1 on CPU:0 and layer 2 on CPU:1.
TrainingRun TrainMlp(int64_t seed, bool split, int steps = 6) {
  Scope root = Scope::NewRootScope();
  root.graph()->set_seed(seed);
  Output x = ops::Placeholder(root, DType::kFloat, TensorShape{-1, 28, 28, 1});
  Output y = ops::Placeholder(root, DType::kInt32, TensorShape{-1});
  Scope l1 = split ? root.WithDevice("/device:CPU:0") : root;
  Scope l2 = split ? root.WithDevice("/device:CPU:1") : root;
  Variable w1 = ops::MakeVariable(l1, "w1", TensorShape{784, 64});
  Variable b1 = ops::MakeVariable(l1, "b1", TensorShape{64}, DType::kFloat, Initializer::Zeros());
  Variable w2 = ops::MakeVariable(l2, "w2", TensorShape{64, 10});
  Variable b2 = ops::MakeVariable(l2, "b2", TensorShape{10}, DType::kFloat, Initializer::Zeros());
  Output h = ops::Relu(l1, ops::BiasAdd(l1, ops::MatMul(l1, ops::Reshape(l1, x, {-1, 784}), w1.value),
                                        b1.value));
  Output logits = ops::BiasAdd(l2, ops::MatMul(l2, h, w2.value), b2.value);
  Output loss = ops::Mean(l2, ops::SparseSoftmaxCrossEntropyWithLogits(l2, logits, y).loss, 0);
  AdamOptimizer adam(ConstantLearningRate(1e-3f));
  auto train = adam.Minimize(root, loss);
  EXPECT_TRUE(train.ok()) << train.status();
  Node* init = ops::GlobalVariablesInitializer(root);

  SessionOptions options;
  options.num_cpu_devices = split ? 2 : 1;
  options.inter_op_threads = 1;
  options.intra_op_threads = 1;
  ClientSession session(root, options);
  std::vector<Tensor> out;
  absl::Status s = session.Run({}, {}, {init}, &out);
  EXPECT_TRUE(s.ok()) << s;
  TrainingRun run;
  for (int i = 0; i < steps; ++i) {
    Tensor images = SliceRows(Data().train.images, i * 64, 64);
    Tensor labels = SliceRows(Data().train.labels, i * 64, 64);
    s = session.Run({{x, images}, {y, labels}}, {loss}, {*train}, &out);
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) return run;
    run.losses.push_back(out[0].data<float>()[0]);
  }
  EXPECT_TRUE(session.Run({w1.value, b1.value, w2.value, b2.value}, &out).ok());
  run.weights = out;
  run.devices = {h.node->assigned_device(), logits.node->assigned_device()};
  return run;
}

TEST(MultiDeviceTest, TwoDeviceTrainingMatchesOneDevice) {
  TrainingRun one = TrainMlp(7, /*split=*/false);
  TrainingRun two = TrainMlp(7, /*split=*/true);
  ASSERT_EQ(two.devices.size(), 2u);
  EXPECT_EQ(two.devices[0], "/job:localhost/replica:0/task:0/device:CPU:0");
  EXPECT_EQ(two.devices[1], "/job:localhost/replica:0/task:0/device:CPU:1");
  ASSERT_EQ(one.losses.size(), two.losses.size());
  EXPECT_EQ(one.losses, two.losses);
  ASSERT_EQ(one.weights.size(), 4u);
  for (size_t i = 0; i < one.weights.size(); ++i)
    EXPECT_TRUE(TensorsEqual(one.weights[i], two.weights[i])) << "weight " << i;
  // And it learns: the loss falls from ~2.3 (chance).
  EXPECT_LT(one.losses.back(), one.losses.front());
}

TEST(MultiDeviceTest, SeededInitializationIsReproducible) {
  TrainingRun a = TrainMlp(11, /*split=*/false, /*steps=*/0);
  TrainingRun b = TrainMlp(11, /*split=*/false, /*steps=*/0);
  for (size_t i = 0; i < a.weights.size(); ++i)
    EXPECT_TRUE(TensorsEqual(a.weights[i], b.weights[i])) << "weight " << i;
}

TEST(MultiDeviceTest, SeededSingleThreadRunsAreBitForBitReproducible) {
  TrainingRun a = TrainMlp(11, /*split=*/false);
  TrainingRun b = TrainMlp(11, /*split=*/false);
  EXPECT_EQ(a.losses, b.losses);
  for (size_t i = 0; i < a.weights.size(); ++i)
    EXPECT_TRUE(TensorsEqual(a.weights[i], b.weights[i])) << "weight " << i;
  TrainingRun c = TrainMlp(12, /*split=*/false);
  EXPECT_FALSE(TensorsEqual(a.weights[0], c.weights[0])) << "the seed must matter";
}

}  // namespace
}  // namespace braid
