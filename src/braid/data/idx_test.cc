#include "braid/data/idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace braid {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "." + std::to_string(getpid());
}

std::string Header(unsigned char type, std::vector<uint32_t> dims) {
  std::string h = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift : {24, 16, 8, 0}) h.push_back(static_cast<char>((d >> shift) & 0xff));
  }
  return h;
}

TEST(IdxTest, ReadsUint8File) {
  std::string path = TempPath("ok.idx");
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(path, Header(0x08, {2, 3}) + "abcdef").ok());
  auto t = ReadIdxFile(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->shape().DebugString(), "[2,3]");
  EXPECT_EQ(t->data<uint8_t>()[5], 'f');
}

TEST(IdxTest, RejectsTruncatedAndBadMagic) {
  std::string path = TempPath("short.idx");
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(path, Header(0x08, {2, 3}) + "abc").ok());
  auto t = ReadIdxFile(path);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("needs 6 data bytes, the file has 3"));
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(path, "\x01\x02\x08\x01").ok());
  EXPECT_THAT(std::string(ReadIdxFile(path).status().message()), HasSubstr("magic number"));
  EXPECT_EQ(ReadIdxFile(TempPath("missing")).status().code(), absl::StatusCode::kNotFound);
}

TEST(IdxTest, LoadsFashionMnistFromDebianPackage) {
  auto data = LoadFashionMnist();
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->train.images.shape().DebugString(), "[60000,28,28,1]");
  EXPECT_EQ(data->test.labels.shape().DebugString(), "[10000]");
  int counts[10] = {};
  for (int32_t l : data->test.labels.flat<int32_t>()) {
    ASSERT_GE(l, 0);
    ASSERT_LT(l, 10);
    ++counts[l];
  }
  for (int c : counts) EXPECT_EQ(c, 1000);  // the test split is balanced
  float max_pixel = 0;
  for (float p : data->train.images.flat<float>()) max_pixel = std::max(max_pixel, p);
  EXPECT_FLOAT_EQ(max_pixel, 1.0f);
}

}  // namespace
}  // namespace braid
