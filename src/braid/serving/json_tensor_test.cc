#include "braid/serving/json_tensor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace braid::serving {
namespace {

using ::testing::HasSubstr;

std::string ToJson(const Tensor& t) {
  std::string s;
  AppendTensorJson(t, &s);
  return s;
}

Tensor FromJson(const std::string& text, DType dtype) {
  auto j = ParseRequestJson(text);
  EXPECT_TRUE(j.ok()) << j.status();
  auto t = TensorFromJson(*j, dtype, "input 'x'");
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

std::string Error(const std::string& text, DType dtype) {
  auto j = ParseRequestJson(text);
  if (!j.ok()) return std::string(j.status().message());
  auto t = TensorFromJson(*j, dtype, "input 'x'");
  return t.ok() ? "ok" : std::string(t.status().message());
}

TEST(JsonTensorTest, NonFiniteFloatsAreBareWordsBothWays) {
  Tensor t = FromJson("[NaN, Infinity, -Infinity, Inf, -Inf, 1.5]", DType::kFloat);
  ASSERT_EQ(t.NumElements(), 6);
  const float* v = t.data<float>();
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], INFINITY);
  EXPECT_EQ(v[2], -INFINITY);
  EXPECT_EQ(v[3], INFINITY);
  EXPECT_EQ(v[4], -INFINITY);
  EXPECT_EQ(ToJson(t), "[NaN,Infinity,-Infinity,Infinity,-Infinity,1.5]");
  // Inside strings they stay text.
  auto j = ParseRequestJson(R"({"s": "NaN Infinity \" NaN", "n": -1})");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["s"], "NaN Infinity \" NaN");
  EXPECT_EQ((*j)["n"], -1);
  // A word that merely starts like one is still malformed JSON.
  EXPECT_THAT(Error("[NaNa]", DType::kFloat), HasSubstr("malformed JSON"));
  EXPECT_THAT(Error("[\"NaN\"]", DType::kFloat), HasSubstr("expected number values, got \"NaN\""));
}

TEST(JsonTensorTest, FloatsRoundTripExactly) {
  std::mt19937 rng(7);
  std::vector<float> values = {0.1f, 1.0f / 3, 1e-38f, 3.4028235e38f, -0.0f, 16777217.0f, 1e-45f};
  for (int i = 0; i < 20000; ++i) {
    uint32_t bits = rng();
    float f;
    std::memcpy(&f, &bits, sizeof f);
    if (std::isfinite(f)) values.push_back(f);
  }
  Tensor t = Tensor::FromVector(values);
  Tensor back = FromJson(ToJson(t), DType::kFloat);
  ASSERT_EQ(back.NumElements(), t.NumElements());
  for (int64_t i = 0; i < t.NumElements(); ++i) {
    ASSERT_EQ(std::memcmp(&t.data<float>()[i], &back.data<float>()[i], sizeof(float)), 0)
        << values[i];
  }
  // Shortest form, and integral values keep a decimal point.
  EXPECT_EQ(ToJson(Tensor::FromVector<float>({0.1f, 2.0f, 1e20f})), "[0.1,2.0,1e+20]");
  EXPECT_EQ(ToJson(Tensor::FromVector<double>({0.1})), "[0.1]");
}

TEST(JsonTensorTest, ShapesComeFromTheNesting) {
  Tensor t = FromJson("[[1, 2, 3], [4, 5, 6]]", DType::kInt64);
  EXPECT_EQ(t.shape(), TensorShape({2, 3}));
  EXPECT_EQ(ToJson(t), "[[1,2,3],[4,5,6]]");
  EXPECT_EQ(FromJson("7", DType::kInt32).shape(), TensorShape({}));
  EXPECT_EQ(ToJson(FromJson("[true, false]", DType::kBool)), "[true,false]");
  EXPECT_EQ(ToJson(FromJson(R"(["a", {"b64": "aGk="}])", DType::kString)), R"(["a","hi"])");
  EXPECT_THAT(Error("[[1, 2], [3]]", DType::kFloat), HasSubstr("ragged lists"));
  EXPECT_THAT(Error("[[1, 2], 3]", DType::kFloat), HasSubstr("ragged lists"));
  EXPECT_THAT(Error("[1, [2]]", DType::kFloat), HasSubstr("nest deeper"));
}

TEST(JsonTensorTest, WrongTypesAndRangesAreNamed) {
  EXPECT_THAT(Error("[1.5]", DType::kInt32),
              HasSubstr("input 'x': expected integer values, got 1.5"));
  EXPECT_THAT(Error("[3000000000]", DType::kInt32), HasSubstr("out of range for int32"));
  EXPECT_THAT(Error("[\"a\"]", DType::kFloat), HasSubstr("expected number values"));
  EXPECT_THAT(Error("[1]", DType::kBool), HasSubstr("expected boolean values"));
  EXPECT_THAT(Error(R"([{"b64": "***"}])", DType::kString), HasSubstr("invalid base64"));
  EXPECT_THAT(Error("{\"instances\": [1, 2", DType::kFloat), HasSubstr("malformed JSON"));
}

}  // namespace
}  // namespace braid::serving
