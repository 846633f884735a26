#include "braid/tensor/tensor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "braid/tensor/tensor_proto.h"

namespace braid {
namespace {

using ::testing::HasSubstr;

TEST(TensorShapeTest, PartialShapesMergeAndPrint) {
  TensorShape a{2, -1, 3};
  TensorShape b{-1, 5, 3};
  EXPECT_EQ(a.DebugString(), "[2,?,3]");
  EXPECT_FALSE(a.IsFullyDefined());
  EXPECT_EQ(a.num_elements(), -1);
  EXPECT_TRUE(a.IsCompatibleWith(b));
  EXPECT_EQ(a.Merge(b)->DebugString(), "[2,5,3]");
  EXPECT_FALSE(a.IsCompatibleWith(TensorShape{3, 5, 3}));
  EXPECT_THAT(std::string(a.Merge(TensorShape{3, 5, 3}).status().message()),
              HasSubstr("[2,?,3] and [3,5,3] are incompatible"));
  EXPECT_TRUE(TensorShape::UnknownRank().IsCompatibleWith(a));
  EXPECT_EQ(TensorShape::UnknownRank().DebugString(), "<unknown>");
  EXPECT_EQ(TensorShape{}.num_elements(), 1);
  EXPECT_FALSE(MakeFullShape({2, -3}).ok());
  EXPECT_FALSE(MakeFullShape({1LL << 40, 1LL << 40}).ok());
}

TEST(TensorTest, BuffersAreAlignedAndShared) {
  Tensor t(DType::kFloat, TensorShape{3, 5});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
  EXPECT_EQ(t.NumElements(), 15);
  EXPECT_EQ(t.TotalBytes(), 60u);
  EXPECT_TRUE(t.RefCountIsOne());
  Tensor copy = t;
  EXPECT_FALSE(t.RefCountIsOne());
  EXPECT_TRUE(copy.SharesBufferWith(t));
  Tensor r = t.Reshaped(TensorShape{15});
  EXPECT_EQ(r.raw_data(), t.raw_data());
  Tensor deep = t.DeepCopy();
  EXPECT_FALSE(deep.SharesBufferWith(t));
}

TEST(TensorTest, StringsAndResourcesAreConstructedInPlace) {
  Tensor s(DType::kString, TensorShape{2});
  s.data<std::string>()[1] = std::string(1000, 'x');
  Tensor copy = s.DeepCopy();
  EXPECT_EQ(copy.data<std::string>()[1].size(), 1000u);
  EXPECT_EQ(s.DebugString(1), "string[2] {\"\", ...}");
  Tensor h(DType::kResource, TensorShape{});
  h.data<ResourceHandle>()[0].name = "v";
  EXPECT_EQ(h.DeepCopy().data<ResourceHandle>()[0].name, "v");
}

TEST(TensorTest, EqualityAndDebugString) {
  Tensor a = Tensor::FromVector<int32_t>({1, 2, 3, 4}, {2, 2});
  EXPECT_TRUE(TensorsEqual(a, Tensor::FromVector<int32_t>({1, 2, 3, 4}, {2, 2})));
  EXPECT_FALSE(TensorsEqual(a, Tensor::FromVector<int32_t>({1, 2, 3, 4})));
  EXPECT_FALSE(TensorsEqual(a, Tensor::FromVector<int32_t>({1, 2, 3, 5}, {2, 2})));
  EXPECT_EQ(a.DebugString(3), "int32[2,2] {1, 2, 3, ...}");
}

TEST(DTypeTest, NamesAndBFloat16) {
  EXPECT_EQ(DTypeName(DType::kFloat), "float32");
  EXPECT_EQ(*DTypeFromName("DT_INT64"), DType::kInt64);
  EXPECT_EQ(*DTypeFromName("float"), DType::kFloat);
  EXPECT_THAT(std::string(DTypeFromName("complex64").status().message()),
              HasSubstr("unknown dtype 'complex64'"));
  EXPECT_EQ(static_cast<float>(BFloat16(1.0f)), 1.0f);
  EXPECT_EQ(static_cast<float>(BFloat16(-2.5f)), -2.5f);
  // 1 + 2^-9 is not representable; it rounds to the nearest even (1.0).
  EXPECT_EQ(static_cast<float>(BFloat16(1.001953125f)), 1.0f);
  EXPECT_TRUE(std::isnan(static_cast<float>(BFloat16(std::nanf("")))));
}

TEST(TensorProtoTest, RoundTripsEveryDtypeBothEncodings) {
  std::vector<Tensor> tensors = {
      Tensor::FromVector<float>({1.5f, -2, 3}, {3}),
      Tensor::FromVector<double>({1e300, -2}, {2, 1}),
      Tensor::FromVector<int32_t>({7, -8}),
      Tensor::FromVector<int64_t>({1LL << 40}),
      Tensor::FromVector<uint8_t>({0, 255, 7}),
      Tensor::FromVector<bool>({true, false}),
      Tensor::FromVector<std::string>({"a", std::string("\0b", 2)}),
      Tensor::FromVector<BFloat16>({BFloat16(1.f), BFloat16(-3.f)}),
  };
  for (const Tensor& t : tensors) {
    for (TensorEncoding enc : {TensorEncoding::kTensorContent, TensorEncoding::kTypedValues}) {
      tensorflow::TensorProto proto;
      TensorToProto(t, &proto, enc);
      // Through the wire bytes, as a peer would see them.
      tensorflow::TensorProto parsed;
      ASSERT_TRUE(parsed.ParseFromString(proto.SerializeAsString()));
      auto back = TensorFromProto(parsed);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_TRUE(TensorsEqual(t, *back)) << t.DebugString() << " vs " << back->DebugString();
    }
  }
}

TEST(TensorProtoTest, TypedValuesRepeatTheLastAndDefaultToZero) {
  tensorflow::TensorProto p;
  p.set_dtype(tensorflow::DT_FLOAT);
  p.mutable_tensor_shape()->add_dim()->set_size(4);
  p.add_float_val(1);
  p.add_float_val(2);
  auto t = TensorFromProto(p);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(TensorsEqual(*t, Tensor::FromVector<float>({1, 2, 2, 2})));
  p.clear_float_val();
  EXPECT_TRUE(TensorsEqual(*TensorFromProto(p), Tensor::FromVector<float>({0, 0, 0, 0})));
}

TEST(TensorProtoTest, RejectsMalformedProtos) {
  tensorflow::TensorProto p;
  p.set_dtype(tensorflow::DT_FLOAT);
  p.mutable_tensor_shape()->add_dim()->set_size(2);
  p.set_tensor_content(std::string(7, '\0'));
  EXPECT_THAT(std::string(TensorFromProto(p).status().message()),
              HasSubstr("tensor_content has 7 bytes but float32[2] needs 8"));
  p.clear_tensor_content();
  for (int i = 0; i < 3; ++i) p.add_float_val(1);
  EXPECT_THAT(std::string(TensorFromProto(p).status().message()),
              HasSubstr("3 float_val entries but its shape holds 2"));
  p.set_dtype(tensorflow::DT_COMPLEX64);
  EXPECT_THAT(std::string(TensorFromProto(p).status().message()),
              HasSubstr("DT_COMPLEX64) is not supported"));
  p.set_dtype(tensorflow::DT_FLOAT);
  p.mutable_tensor_shape()->mutable_dim(0)->set_size(-1);
  EXPECT_THAT(std::string(TensorFromProto(p).status().message()), HasSubstr("not fully defined"));
  p.mutable_tensor_shape()->mutable_dim(0)->set_size(-5);
  EXPECT_FALSE(TensorFromProto(p).ok());
}

}  // namespace
}  // namespace braid
