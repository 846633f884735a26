#include "braid/kernels/summary/png_encoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "braid/kernels/summary/png_test_util.h"

namespace braid {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> RandomPixels(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (uint8_t& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

TEST(PngEncoder, EveryChannelLayoutDecodesToTheSamePixels) {
  for (int channels = 1; channels <= 4; ++channels) {
    SCOPED_TRACE(channels);
    const int height = 7, width = 13;
    std::vector<uint8_t> pixels = RandomPixels(height * width * channels, channels);
    absl::StatusOr<std::string> png = EncodePng(pixels.data(), height, width, channels);
    ASSERT_TRUE(png.ok()) << png.status();
    EXPECT_EQ(png->substr(1, 3), "PNG");
    testing::DecodedPng decoded = testing::DecodePng(*png);
    ASSERT_TRUE(decoded.ok) << decoded.error;
    EXPECT_EQ(decoded.width, width);
    EXPECT_EQ(decoded.height, height);
    EXPECT_EQ(decoded.channels, channels);
    EXPECT_EQ(decoded.pixels, pixels);
  }
}

TEST(PngEncoder, IncompressibleImagesFitTheirBuffer) {
  // Random bytes do not compress: the first buffer guess must hold them (or
  // the retry must).
  std::vector<uint8_t> pixels = RandomPixels(300 * 200 * 3, 7);
  absl::StatusOr<std::string> png = EncodePng(pixels.data(), 300, 200, 3);
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_GT(png->size(), pixels.size());
  EXPECT_EQ(testing::DecodePng(*png).pixels, pixels);
}

TEST(PngEncoder, RejectsBadShapes) {
  uint8_t pixel[8] = {};
  absl::StatusOr<std::string> png = EncodePng(pixel, 1, 1, 5);
  EXPECT_EQ(png.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(png.status().message(), HasSubstr("5 channels"));
  png = EncodePng(pixel, 0, 4, 1);
  EXPECT_EQ(png.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(png.status().message(), HasSubstr("0x4x1"));
  png = EncodePng(pixel, 1, int64_t{1} << 31, 4);
  EXPECT_EQ(png.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace braid
