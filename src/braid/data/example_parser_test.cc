#include "braid/data/example_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "braid/data/example_builder.h"

namespace braid::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.NumElements());
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

ExampleSpec ImageSpec() {
  return {{"image", FixedLenFeature{DType::kFloat, TensorShape{2, 3}}},
          {"label", FixedLenFeature{DType::kInt64, TensorShape{}}},
          {"name", FixedLenFeature{DType::kString, TensorShape{1}}},
          {"tags", VarLenFeature{DType::kInt64}}};
}

std::string ImageExample(float base, int64_t label, std::vector<int64_t> tags) {
  ExampleBuilder b;
  b.SetFloats("image", {base, base + 1, base + 2, base + 3, base + 4, base + 5})
      .SetInt64s("label", {label})
      .SetBytes("name", {std::string("n\0\xff", 3)})
      .SetInt64s("tags", tags)
      .SetFloats("unused", {1.0f});
  return b.Serialize();
}

TEST(ExampleParserTest, ParsesOneExample) {
  auto parsed = ParseSingleExample(ImageExample(0.5f, -7, {4, 5, 6}), ImageSpec());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Tensor& image = parsed->dense.at("image");
  EXPECT_EQ(image.shape(), (TensorShape{2, 3}));
  EXPECT_THAT(Values<float>(image), ElementsAre(0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f));
  EXPECT_EQ(parsed->dense.at("label").shape(), TensorShape{});
  EXPECT_EQ(parsed->dense.at("label").data<int64_t>()[0], -7);
  EXPECT_EQ(parsed->dense.at("name").data<std::string>()[0], std::string("n\0\xff", 3));
  const SparseTensor& tags = parsed->sparse.at("tags");
  EXPECT_EQ(tags.indices.shape(), (TensorShape{3, 1}));
  EXPECT_THAT(Values<int64_t>(tags.indices), ElementsAre(0, 1, 2));
  EXPECT_THAT(Values<int64_t>(tags.values), ElementsAre(4, 5, 6));
  EXPECT_THAT(Values<int64_t>(tags.dense_shape), ElementsAre(3));
  EXPECT_EQ(parsed->dense.count("unused"), 0u);
}

TEST(ExampleParserTest, ParsesABatchLikeParseExample) {
  std::vector<std::string> batch = {ImageExample(0, 1, {7}), ImageExample(10, 2, {}),
                                    ImageExample(20, 3, {8, 9})};
  auto parsed = ParseExamples(batch, ImageSpec());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Tensor& image = parsed->dense.at("image");
  EXPECT_EQ(image.shape(), (TensorShape{3, 2, 3}));
  EXPECT_EQ(image.data<float>()[6], 10.0f);
  EXPECT_EQ(image.data<float>()[17], 25.0f);
  EXPECT_THAT(Values<int64_t>(parsed->dense.at("label")), ElementsAre(1, 2, 3));
  EXPECT_EQ(parsed->dense.at("name").shape(), (TensorShape{3, 1}));
  const SparseTensor& tags = parsed->sparse.at("tags");
  EXPECT_EQ(tags.indices.shape(), (TensorShape{3, 2}));
  EXPECT_THAT(Values<int64_t>(tags.indices), ElementsAre(0, 0, 2, 0, 2, 1));
  EXPECT_THAT(Values<int64_t>(tags.values), ElementsAre(7, 8, 9));
  EXPECT_THAT(Values<int64_t>(tags.dense_shape), ElementsAre(3, 2));

  // The same through a string tensor, as a Dataset element carries them.
  Tensor serialized(DType::kString, TensorShape{3});
  for (int i = 0; i < 3; ++i) serialized.data<std::string>()[i] = batch[i];
  auto from_tensor = ParseExampleTensor(serialized, ImageSpec());
  ASSERT_TRUE(from_tensor.ok());
  EXPECT_TRUE(TensorsEqual(from_tensor->dense.at("image"), image));
  auto scalar = ParseExampleTensor(Tensor::Scalar(batch[1]), ImageSpec());
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ(scalar->dense.at("label").data<int64_t>()[0], 2);
  EXPECT_FALSE(ParseExampleTensor(Tensor::Scalar<int64_t>(1), ImageSpec()).ok());

  auto empty = ParseExamples({}, ImageSpec());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->dense.at("image").shape(), (TensorShape{0, 2, 3}));
  EXPECT_THAT(Values<int64_t>(empty->sparse.at("tags").dense_shape), ElementsAre(0, 0));
}

TEST(ExampleParserTest, DefaultsFillMissingFeatures) {
  ExampleSpec spec = {
      {"label", FixedLenFeature{DType::kInt64, TensorShape{}, Tensor::Scalar<int64_t>(-1)}},
      {"pair",
       FixedLenFeature{DType::kFloat, TensorShape{2}, Tensor::FromVector<float>({0.25f, 0.75f})}}};
  ExampleBuilder b;
  b.SetInt64s("label", {3});
  tensorflow::Example unset = b.example();
  (*unset.mutable_features()->mutable_feature())["pair"];  // a feature with no list: missing
  for (const std::string& s : {b.Serialize(), unset.SerializeAsString()}) {
    auto parsed = ParseSingleExample(s, spec);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->dense.at("label").data<int64_t>()[0], 3);
    EXPECT_THAT(Values<float>(parsed->dense.at("pair")), ElementsAre(0.25f, 0.75f));
  }
  auto batch = ParseExamples({ExampleBuilder().Serialize(), b.Serialize()}, spec);
  ASSERT_TRUE(batch.ok());
  EXPECT_THAT(Values<int64_t>(batch->dense.at("label")), ElementsAre(-1, 3));
}

TEST(ExampleParserTest, ErrorsNameTheFeatureAndWhatWasExpected) {
  ExampleSpec spec = {{"image", FixedLenFeature{DType::kFloat, TensorShape{784}}}};
  auto missing = ParseSingleExample(ExampleBuilder().Serialize(), spec);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(missing.status()),
              HasSubstr("feature 'image' (float32, shape [784]) is required but missing"));

  std::vector<float> short_image(783, 0.0f);
  auto wrong_length =
      ParseSingleExample(ExampleBuilder().SetFloats("image", short_image).Serialize(), spec);
  EXPECT_THAT(
      Message(wrong_length.status()),
      HasSubstr("feature 'image': expected 784 values (shape [784]) but the example has 783"));

  auto wrong_kind = ParseSingleExample(ExampleBuilder().SetInt64s("image", {1}).Serialize(), spec);
  EXPECT_THAT(Message(wrong_kind.status()),
              HasSubstr("feature 'image': the spec says float32 (float_list) but the example "
                        "holds int64_list"));

  std::vector<std::string> batch = {
      ExampleBuilder().SetFloats("image", std::vector<float>(784)).Serialize(),
      ExampleBuilder().Serialize()};
  EXPECT_THAT(Message(ParseExamples(batch, spec).status()),
              HasSubstr("example 1: feature 'image'"));
  EXPECT_THAT(Message(ParseSingleExample("\xff\xff\xff", spec).status()),
              HasSubstr("not a serialized tf.Example"));
  EXPECT_THAT(Message(ParseSingleExample(ExampleBuilder().SetFloats("v", {1}).Serialize(),
                                         {{"v", VarLenFeature{DType::kString}}})
                          .status()),
              HasSubstr("feature 'v': the spec says string (bytes_list) but the example holds "
                        "float_list"));
}

TEST(ExampleParserTest, RejectsBadSpecs) {
  auto check = [](ExampleSpec spec) { return Message(ValidateExampleSpec(spec)); };
  EXPECT_THAT(check({{"x", FixedLenFeature{DType::kInt32, TensorShape{}}}}),
              HasSubstr("FixedLenFeature 'x' has dtype int32; examples hold int64, float32 or "
                        "string"));
  EXPECT_THAT(check({{"x", FixedLenFeature{DType::kFloat, TensorShape{-1, 2}}}}),
              HasSubstr("shape [?,2]; it must be fully defined"));
  EXPECT_THAT(
      check({{"x", FixedLenFeature{DType::kFloat, TensorShape{2}, Tensor::Scalar<float>(1)}}}),
      HasSubstr("default_value is float32[] but the feature is float32[2] (2 values)"));
  EXPECT_THAT(check({{"x", VarLenFeature{DType::kBool}}}), HasSubstr("VarLenFeature 'x'"));
  EXPECT_TRUE(ValidateExampleSpec(ImageSpec()).ok());
}

TEST(ExampleBuilderTest, TensorsBecomeFeatures) {
  std::map<std::string, Tensor> features = {
      {"d", Tensor::FromVector<double>({0.5, 1e-3}, TensorShape{2, 1})},
      {"i", Tensor::FromVector<int32_t>({-3, 4})},
      {"b", Tensor::FromVector<bool>({true, false})},
      {"u", Tensor::FromVector<uint8_t>({255})},
      {"s", Tensor::Scalar(std::string("str"))}};
  auto serialized = SerializeExample(features);
  ASSERT_TRUE(serialized.ok());
  ExampleSpec spec = {{"d", FixedLenFeature{DType::kFloat, TensorShape{2}}},
                      {"i", FixedLenFeature{DType::kInt64, TensorShape{2}}},
                      {"b", FixedLenFeature{DType::kInt64, TensorShape{2}}},
                      {"u", FixedLenFeature{DType::kInt64, TensorShape{}}},
                      {"s", FixedLenFeature{DType::kString, TensorShape{}}}};
  auto parsed = ParseSingleExample(*serialized, spec);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(Values<float>(parsed->dense.at("d")), ElementsAre(0.5f, 1e-3f));
  EXPECT_THAT(Values<int64_t>(parsed->dense.at("i")), ElementsAre(-3, 4));
  EXPECT_THAT(Values<int64_t>(parsed->dense.at("b")), ElementsAre(1, 0));
  EXPECT_THAT(Values<int64_t>(parsed->dense.at("u")), ElementsAre(255));
  EXPECT_EQ(parsed->dense.at("s").data<std::string>()[0], "str");

  Tensor resource(DType::kResource, TensorShape{});
  EXPECT_THAT(Message(SerializeExample({{"r", resource}}).status()),
              HasSubstr("feature 'r': a resource tensor cannot become an Example feature"));
}

TEST(SequenceExampleTest, ParsesContextAndFeatureLists) {
  SequenceExampleBuilder b;
  ASSERT_TRUE(b.SetContext("length", Tensor::Scalar<int64_t>(3)).ok());
  ASSERT_TRUE(
      b.SetFeatureList("frames", Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, TensorShape{3, 2}))
          .ok());
  ASSERT_TRUE(
      b.SetFeatureList("words", std::vector<Tensor>{Tensor::FromVector<std::string>({"a", "b"}),
                                                    Tensor::FromVector<std::string>({}),
                                                    Tensor::FromVector<std::string>({"c"})})
          .ok());
  ExampleSpec context = {{"length", FixedLenFeature{DType::kInt64, TensorShape{}}}};
  SequenceSpec sequence = {
      {"frames", FixedLenSequenceFeature{DType::kFloat, TensorShape{2}}},
      {"words", VarLenFeature{DType::kString}},
      {"absent", FixedLenSequenceFeature{DType::kInt64, TensorShape{4}, /*allow_missing=*/true}}};
  auto parsed = ParseSingleSequenceExample(b.Serialize(), context, sequence);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->context.dense.at("length").data<int64_t>()[0], 3);
  const Tensor& frames = parsed->feature_lists.dense.at("frames");
  EXPECT_EQ(frames.shape(), (TensorShape{3, 2}));
  EXPECT_THAT(Values<float>(frames), ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_EQ(parsed->feature_lists.dense.at("absent").shape(), (TensorShape{0, 4}));
  const SparseTensor& words = parsed->feature_lists.sparse.at("words");
  EXPECT_THAT(Values<int64_t>(words.indices), ElementsAre(0, 0, 0, 1, 2, 0));
  EXPECT_THAT(Values<std::string>(words.values), ElementsAre("a", "b", "c"));
  EXPECT_THAT(Values<int64_t>(words.dense_shape), ElementsAre(3, 2));

  sequence["absent"] = FixedLenSequenceFeature{DType::kInt64, TensorShape{4}};
  EXPECT_THAT(Message(ParseSingleSequenceExample(b.Serialize(), context, sequence).status()),
              HasSubstr("feature list 'absent' (int64, shape [4] per step) is required but "
                        "missing"));
  sequence.erase("absent");
  sequence["frames"] = FixedLenSequenceFeature{DType::kFloat, TensorShape{3}};
  EXPECT_THAT(Message(ParseSingleSequenceExample(b.Serialize(), context, sequence).status()),
              HasSubstr("feature list 'frames', step 0: expected 3 values (shape [3]) but the "
                        "example has 2"));
  EXPECT_FALSE(b.SetFeatureList("scalar", Tensor::Scalar<float>(1)).ok());
}

}  // namespace
}  // namespace braid::data
