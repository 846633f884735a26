// Image summary values (declared in summary_values.h).
//
// Note [Image rescaling]
// TensorFlow 1.x's ImageSummary turns a float image into bytes per image
// without knowing the range its values were meant to have, and braid does
// the same so that an image looks alike in both:
//   - all finite values >= 0: scale by 255 / max (an image in [0, 1] maps to
//     [0, 255]);
//   - some value < 0: scale by 127 / max|value| and add 128, centering 0 at
//     mid-gray;
//   - a maximum below 1e-6 scales by 0 (a black or mid-gray image);
// then truncate to uint8. A pixel with any non-finite channel is painted
// TensorFlow's default "bad color", opaque red.
#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "braid/kernels/summary/png_encoder.h"
#include "braid/kernels/summary/summary_values.h"
#include "tensorflow/core/framework/summary.pb.h"

namespace braid {
namespace {

constexpr uint8_t kBadColor[4] = {255, 0, 0, 255};

// Rescales one float image of `pixels` pixels with `channels` each into `out`.
template <typename T>
void RescaleImage(const T* in, int64_t pixels, int channels, uint8_t* out) {
  auto finite_pixel = [&](int64_t p) {
    for (int c = 0; c < channels; ++c)
      if (!std::isfinite(static_cast<double>(in[p * channels + c]))) return false;
    return true;
  };
  double lo = INFINITY, hi = -INFINITY;
  for (int64_t p = 0; p < pixels; ++p) {
    if (!finite_pixel(p)) continue;
    for (int c = 0; c < channels; ++c) {
      double v = static_cast<double>(in[p * channels + c]);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  // In T's own precision, as TensorFlow computes it, so pixels agree exactly.
  constexpr double kZeroThreshold = 1e-6;
  T scale = 0, offset = 0;
  if (lo < 0) {
    const double max_abs = std::max(std::abs(lo), std::abs(hi));
    scale = max_abs < kZeroThreshold ? T(0) : T(127) / static_cast<T>(max_abs);
    offset = 128;
  } else {
    scale = hi < kZeroThreshold ? T(0) : T(255) / static_cast<T>(hi);
  }
  for (int64_t p = 0; p < pixels; ++p) {
    const bool finite = finite_pixel(p);
    for (int c = 0; c < channels; ++c) {
      const T v = in[p * channels + c] * scale + offset;
      // The clamp only guards against rounding just past 255.
      out[p * channels + c] =
          finite ? static_cast<uint8_t>(std::clamp(v, T(0), T(255))) : kBadColor[c];
    }
  }
}

absl::Status BadImageShape(const std::string& tag, const Tensor& images) {
  return absl::InvalidArgumentError(
      absl::StrCat("image summary '", tag,
                   "' needs images of shape [batch, height, width, channels] with 1, "
                   "3 or 4 channels, not ",
                   images.shape().DebugString()));
}

}  // namespace

absl::Status AddImageValues(const std::string& tag, const Tensor& images, int64_t max_images,
                            tensorflow::Summary* out) {
  if (images.rank() != 4) return BadImageShape(tag, images);
  const int64_t n = images.dim(0), height = images.dim(1), width = images.dim(2);
  const int channels = static_cast<int>(images.dim(3));
  if (channels != 1 && channels != 3 && channels != 4) return BadImageShape(tag, images);
  if (max_images < 1) {
    return absl::InvalidArgumentError(absl::StrCat("image summary '", tag, "' has max_images ",
                                                   max_images, "; it must be at least 1"));
  }
  if (images.dtype() != DType::kUInt8 && images.dtype() != DType::kFloat &&
      images.dtype() != DType::kDouble) {
    return absl::InvalidArgumentError(absl::StrCat("image summary '", tag, "' has dtype ",
                                                   DTypeName(images.dtype()),
                                                   "; uint8, float32 or float64 is needed"));
  }
  if (n > 0 && (height < 1 || width < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "image summary '", tag, "' has empty images of shape ", images.shape().DebugString()));
  }
  const int64_t pixels = height * width;
  const int64_t count = std::min(n, max_images);
  std::vector<uint8_t> scratch;
  tensorflow::Summary added;
  for (int64_t i = 0; i < count; ++i) {
    const uint8_t* bytes = nullptr;
    if (images.dtype() == DType::kUInt8) {
      bytes = images.data<uint8_t>() + i * pixels * channels;
    } else {
      scratch.resize(pixels * channels);
      DispatchDType<float, double>(images.dtype(), [&]<typename T>() {
        RescaleImage(images.data<T>() + i * pixels * channels, pixels, channels, scratch.data());
      });
      bytes = scratch.data();
    }
    absl::StatusOr<std::string> png = EncodePng(bytes, height, width, channels);
    if (!png.ok()) {
      return absl::Status(png.status().code(),
                          absl::StrCat("image summary '", tag, "': ", png.status().message()));
    }
    tensorflow::Summary::Value* value = added.add_value();
    value->set_tag(max_images == 1 ? absl::StrCat(tag, "/image") : absl::StrCat(tag, "/image/", i));
    tensorflow::Summary::Image* image = value->mutable_image();
    image->set_height(static_cast<int32_t>(height));
    image->set_width(static_cast<int32_t>(width));
    image->set_colorspace(channels);
    image->set_encoded_image_string(std::move(*png));
  }
  out->MergeFrom(added);
  return absl::OkStatus();
}

}  // namespace braid
