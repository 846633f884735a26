#include "braid/base/crc32c.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>

#include "braid/base/record_file.h"

namespace braid {
namespace {

using ::testing::HasSubstr;

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(crc32c::Value("123456789"), 0xe3069283u);
  EXPECT_EQ(crc32c::Value(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(crc32c::Value(std::string(32, '\xff')), 0x62a8ab43u);
  EXPECT_EQ(crc32c::Extend(crc32c::Value("1234"), "56789"), 0xe3069283u);
  EXPECT_EQ(crc32c::Unmask(crc32c::Mask(0xdeadbeefu)), 0xdeadbeefu);
}

TEST(Crc32cTest, HardwareAndPortableAgree) {
  std::mt19937 rng(7);
  for (int len : {0, 1, 7, 8, 9, 63, 1000}) {
    std::string s(len, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    EXPECT_EQ(crc32c::Value(s), crc32c::ExtendPortable(0, s)) << len;
  }
}

TEST(RecordFileTest, RoundTripsAndReportsDamageWithOffsets) {
  std::string path = ::testing::TempDir() + "/records." + std::to_string(getpid());
  std::vector<std::string> records = {"first", std::string(1000, 'x'), ""};
  ASSERT_TRUE(WriteRecordFile(Env::Default(), path, records).ok());
  auto back = ReadRecordFile(Env::Default(), path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, records);

  std::string bytes = *Env::Default()->ReadFile(path);
  std::string flipped = bytes;
  flipped[kRecordHeaderBytes + 5 + kRecordFooterBytes + kRecordHeaderBytes + 10] ^= 0x40;
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(path, flipped).ok());
  auto bad = ReadRecordFile(Env::Default(), path);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("record at byte offset 21: data CRC mismatch"));

  ASSERT_TRUE(Env::Default()->WriteFileAtomically(path, bytes.substr(0, bytes.size() - 3)).ok());
  EXPECT_THAT(std::string(ReadRecordFile(Env::Default(), path).status().message()),
              HasSubstr("truncated"));
  std::string bad_len = bytes;
  bad_len[2] ^= 1;  // the length no longer matches its CRC
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(path, bad_len).ok());
  EXPECT_THAT(std::string(ReadRecordFile(Env::Default(), path).status().message()),
              HasSubstr("record at byte offset 0: length CRC mismatch"));
}

}  // namespace
}  // namespace braid
