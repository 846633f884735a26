#include "braid/kernels/summary/png_encoder.h"

#include <png.h>

#include <limits>

#include "absl/strings/str_cat.h"

namespace braid {
namespace {

png_uint_32 PngFormat(int channels) {
  switch (channels) {
    case 1:
      return PNG_FORMAT_GRAY;
    case 2:
      return PNG_FORMAT_GA;
    case 3:
      return PNG_FORMAT_RGB;
    default:
      return PNG_FORMAT_RGBA;
  }
}

}  // namespace

absl::StatusOr<std::string> EncodePng(const uint8_t* pixels, int64_t height, int64_t width,
                                      int channels) {
  if (channels < 1 || channels > 4) {
    return absl::InvalidArgumentError(absl::StrCat("cannot encode a PNG with ", channels,
                                                   " channels; 1 (gray), 2 (gray + alpha), 3 (RGB) "
                                                   "or 4 (RGBA) are possible"));
  }
  constexpr int64_t kMaxSide = std::numeric_limits<int32_t>::max();
  if (height <= 0 || width <= 0 || height > kMaxSide || width > kMaxSide / channels) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot encode a PNG of ", height, "x", width, "x", channels,
                     "; sides must be positive and a row at most 2^31-1 bytes"));
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PngFormat(channels);
  const auto row_stride = static_cast<png_int_32>(width * channels);

  // Room for incompressible data (a filter byte per row, zlib's stored-block
  // overhead, the chunks); libpng says how much it needed if that was short.
  const size_t raw = static_cast<size_t>(height) * static_cast<size_t>(row_stride);
  std::string png(raw + raw / 64 + static_cast<size_t>(height) + 1024, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    png_alloc_size_t size = png.size();
    if (png_image_write_to_memory(&image, png.data(), &size, /*convert_to_8bit=*/0, pixels,
                                  row_stride, /*colormap=*/nullptr)) {
      png.resize(size);
      return png;
    }
    const bool too_small = size > png.size();
    std::string message = image.message;
    png_image_free(&image);
    if (!too_small) {
      return absl::InternalError(absl::StrCat("libpng could not encode a ", height, "x", width, "x",
                                              channels, " image: ", message));
    }
    image.warning_or_error = 0;
    png.assign(size, '\0');
  }
  return absl::InternalError("libpng kept asking for a larger PNG buffer");
}

}  // namespace braid
