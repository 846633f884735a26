// PNG encoding of 8-bit images, through libpng's simplified write API.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace braid {

// Encodes `pixels`, row-major [height, width, channels] bytes, as a PNG file.
// channels: 1 grayscale, 2 grayscale + alpha, 3 RGB, 4 RGBA (the colorspace
// numbering of tensorflow.Summary.Image). Values are written unchanged.
// InvalidArgument for a channel count outside 1..4, an empty image, or one
// whose rows would not fit PNG's 31-bit sizes.
absl::StatusOr<std::string> EncodePng(const uint8_t* pixels, int64_t height, int64_t width,
                                      int channels);

}  // namespace braid
