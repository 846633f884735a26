// Test-only: decodes a PNG with libpng's simplified read API, keeping the
// file's own channel layout, so tests compare pixels byte for byte.
#pragma once

#include <png.h>

#include <cstdint>
#include <string>
#include <vector>

namespace braid::testing {

struct DecodedPng {
  bool ok = false;
  std::string error;
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // row-major [height, width, channels]
};

inline DecodedPng DecodePng(const std::string& png) {
  DecodedPng out;
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) {
    out.error = image.message;
    return out;
  }
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.channels = static_cast<int>(PNG_IMAGE_PIXEL_CHANNELS(image.format));
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
    out.error = image.message;
    png_image_free(&image);
    return out;
  }
  out.ok = true;
  return out;
}

}  // namespace braid::testing
