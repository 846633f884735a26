#include "braid/layers/sequential.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "braid/data/idx.h"
#include "braid/layers/model_spec.h"

namespace braid::layers {
namespace {

using ::testing::HasSubstr;

const FashionMnist& Data() {
  static const FashionMnist* d = [] {
    auto r = LoadFashionMnist();
    BRAID_CHECK(r.ok());
    return new FashionMnist(*std::move(r));
  }();
  return *d;
}

data::DatasetPtr Batches(const ImageDataset& ds, int64_t n, int64_t batch, uint64_t seed) {
  auto base = data::FromTensors({SliceRows(ds.images, 0, n), SliceRows(ds.labels, 0, n)});
  BRAID_CHECK(base.ok());
  return data::Batch(seed ? data::Shuffle(*base, n, seed) : *base, batch);
}

TEST(ModelSpecTest, RejectsBadSpecsNamingTheProblem) {
  auto err = [](const std::string& text) {
    return std::string(ParseModelSpec(text, "spec.json").status().message());
  };
  EXPECT_THAT(err("{"), HasSubstr("model spec 'spec.json' is not valid JSON"));
  EXPECT_THAT(err(R"({"input_shape": [4], "layers": [{"type": "dense", "unit": 3}]})"),
              HasSubstr("layers[0] (dense): unknown key 'unit'; allowed: activation, name, type, "
                        "units, use_bias"));
  EXPECT_THAT(err(R"({"input_shape": [4], "layers": [{"type": "dense", "units": "3"}]})"),
              HasSubstr("'units' has the wrong type (\"3\")"));
  EXPECT_THAT(err(R"({"input_shape": [4], "layers": [{"type": "densest"}]})"),
              HasSubstr("unknown layer type"));
  EXPECT_THAT(err(R"({"input_shape": [4], "layers": [{"type": "dense", "units": 2,
                       "activation": "swish"}]})"),
              HasSubstr("unknown activation 'swish'"));
  EXPECT_THAT(err(R"({"input_shape": [4], "layers": []})"), HasSubstr("non-empty array"));
  EXPECT_THAT(err(R"({"input_shape": [4], "layers": [{"type": "flatten"}],
                     "optimizer": {"type": "adamw"}})"),
              HasSubstr("unknown type 'adamw'"));
  EXPECT_THAT(std::string(LoadModelSpec("/nonexistent.json").status().message()),
              HasSubstr("neither a preset (mlp, cnn) nor a readable file"));
}

TEST(ModelSpecTest, PresetsCountTheirParameters) {
  auto spec = LoadModelSpec("mlp");
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto model = BuildModel(*spec);
  ASSERT_TRUE(model.ok());
  auto opt = MakeOptimizer(spec->optimizer, 100);
  ASSERT_TRUE(opt.ok());
  ASSERT_TRUE((*model)->Compile(spec->input_shape, *std::move(opt)).ok());
  // 784*256+256 + 256*128+128 + 128*10+10
  EXPECT_THAT((*model)->Summary(), HasSubstr("total parameters: 235146"));
  EXPECT_THAT((*model)->Summary(), HasSubstr("dense_2"));
}

TEST(SequentialTest, HandWrittenSpecTrainsOnRealData) {
  // Batch norm and dropout exercise the training/inference split.
  auto spec = ParseModelSpec(R"({
      "name": "small",
      "input_shape": [28, 28, 1],
      "layers": [
        {"type": "conv2d", "filters": 8, "kernel_size": [3, 3], "strides": [2, 2],
         "padding": "same", "activation": "relu"},
        {"type": "batch_normalization"},
        {"type": "flatten"},
        {"type": "dropout", "rate": 0.2, "seed": 3},
        {"type": "dense", "units": 10, "activation": "softmax"}
      ],
      "optimizer": {"type": "adam", "learning_rate": 0.003}
    })", "inline");
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto model = BuildModel(*spec);
  ASSERT_TRUE(model.ok()) << model.status();
  (*model)->scope().graph()->set_seed(7);  // the accuracy bar below is for these weights
  ASSERT_TRUE((*model)->Compile(spec->input_shape, *MakeOptimizer(spec->optimizer, 100)).ok());
  auto before = (*model)->Evaluate(Batches(Data().test, 1000, 250, 0));
  ASSERT_TRUE(before.ok()) << before.status();
  int steps = 0;
  FitOptions fit;
  fit.epochs = 2;
  fit.on_step = [&](const StepLog&) {
    ++steps;
    return absl::OkStatus();
  };
  absl::Status s = (*model)->Fit(Batches(Data().train, 4000, 100, 5), fit);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(steps, 80);
  EXPECT_EQ(*(*model)->GlobalStep(), 80);
  auto after = (*model)->Evaluate(Batches(Data().test, 1000, 250, 0));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->examples, 1000);
  EXPECT_LT(after->loss, before->loss);
  EXPECT_GT(after->accuracy, 0.65) << "accuracy " << after->accuracy;
  // Inference is deterministic: dropout is off and batch norm uses moving statistics.
  Tensor x = SliceRows(Data().test.images, 0, 8);
  auto p1 = (*model)->Predict(x);
  auto p2 = (*model)->Predict(x);
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_TRUE(TensorsEqual(*p1, *p2));
  EXPECT_EQ(p1->shape().DebugString(), "[8,10]");
}

TEST(SequentialTest, BadInputsFailClearly) {
  Sequential model;
  model.Add(Dense(4));
  auto opt = MakeOptimizer({{"type", "sgd"}}, 100);
  absl::Status s = model.Compile(TensorShape{2, 2}, *std::move(opt));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("dense expects a [batch, features] input, got [?,2,2]; add a flatten"));
}

}  // namespace
}  // namespace braid::layers
