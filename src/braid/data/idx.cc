#include "braid/data/idx.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"

namespace braid {
namespace {

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

absl::Status Malformed(const std::string& path, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("'", path, "' is not a valid IDX file: ", why));
}

absl::StatusOr<std::string> ReadFirstExisting(Env* env, const std::string& base) {
  if (env->FileExists(base + ".gz")) return ReadMaybeGzippedFile(env, base + ".gz");
  if (env->FileExists(base)) return ReadMaybeGzippedFile(env, base);
  return absl::NotFoundError(absl::StrCat("neither '", base, "' nor '", base,
                                          ".gz' exists (Debian package dataset-fashion-mnist "
                                          "installs them)"));
}

absl::StatusOr<Tensor> ParseIdx(const std::string& path, const std::string& bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 4) return Malformed(path, "shorter than its 4-byte header");
  if (p[0] != 0 || p[1] != 0) return Malformed(path, "the magic number does not start with 0 0");
  DType dtype;
  size_t elem;
  switch (p[2]) {
    case 0x08: dtype = DType::kUInt8; elem = 1; break;
    case 0x0C: dtype = DType::kInt32; elem = 4; break;
    case 0x0D: dtype = DType::kFloat; elem = 4; break;
    default:
      return Malformed(path, absl::StrCat("type code 0x", absl::Hex(p[2]),
                                          " is not supported (0x08 uint8, 0x0C int32, 0x0D float)"));
  }
  const int rank = p[3];
  if (bytes.size() < 4 + 4 * static_cast<size_t>(rank)) {
    return Malformed(path, absl::StrCat("header declares ", rank, " dims but the file ends"));
  }
  std::vector<int64_t> dims;
  for (int i = 0; i < rank; ++i) dims.push_back(BigEndian32(p + 4 + 4 * i));
  ASSIGN_OR_RETURN(TensorShape shape, MakeFullShape(dims));
  const size_t offset = 4 + 4 * static_cast<size_t>(rank);
  const size_t want = static_cast<size_t>(shape.num_elements()) * elem;
  if (bytes.size() - offset != want) {
    return Malformed(path, absl::StrCat("shape ", shape.DebugString(), " needs ", want,
                                        " data bytes, the file has ", bytes.size() - offset));
  }
  Tensor t(dtype, shape);
  const unsigned char* src = p + offset;
  if (elem == 1) {
    std::memcpy(t.raw_data(), src, want);
  } else {
    // Multi-byte values are big-endian.
    auto* dst = static_cast<uint32_t*>(t.raw_data());
    for (int64_t i = 0; i < shape.num_elements(); ++i) dst[i] = BigEndian32(src + 4 * i);
  }
  return t;
}

absl::StatusOr<ImageDataset> LoadSplit(Env* env, const std::string& dir,
                                       const std::string& prefix) {
  std::string images_path = absl::StrCat(dir, "/", prefix, "-images-idx3-ubyte");
  std::string labels_path = absl::StrCat(dir, "/", prefix, "-labels-idx1-ubyte");
  ASSIGN_OR_RETURN(std::string image_bytes, ReadFirstExisting(env, images_path));
  ASSIGN_OR_RETURN(std::string label_bytes, ReadFirstExisting(env, labels_path));
  ASSIGN_OR_RETURN(Tensor images, ParseIdx(images_path, image_bytes));
  ASSIGN_OR_RETURN(Tensor labels, ParseIdx(labels_path, label_bytes));
  if (images.dtype() != DType::kUInt8 || images.rank() != 3 || labels.dtype() != DType::kUInt8 ||
      labels.rank() != 1 || labels.dim(0) != images.dim(0)) {
    return absl::DataLossError(absl::StrCat(
        "'", images_path, "' and '", labels_path, "' do not form an image dataset: images ",
        images.shape().DebugString(), ", labels ", labels.shape().DebugString()));
  }
  ImageDataset ds;
  const int64_t n = images.dim(0), h = images.dim(1), w = images.dim(2);
  ds.images = Tensor(DType::kFloat, TensorShape{n, h, w, 1});
  const uint8_t* px = images.data<uint8_t>();
  float* out = ds.images.data<float>();
  for (int64_t i = 0; i < images.NumElements(); ++i) out[i] = px[i] / 255.0f;
  ds.labels = Tensor(DType::kInt32, TensorShape{n});
  for (int64_t i = 0; i < n; ++i) ds.labels.data<int32_t>()[i] = labels.data<uint8_t>()[i];
  return ds;
}

}  // namespace

absl::StatusOr<Tensor> ReadIdxFile(const std::string& path, Env* env) {
  ASSIGN_OR_RETURN(std::string bytes, ReadMaybeGzippedFile(env, path));
  return ParseIdx(path, bytes);
}

absl::StatusOr<FashionMnist> LoadFashionMnist(const std::string& dir, Env* env) {
  FashionMnist data;
  ASSIGN_OR_RETURN(data.train, LoadSplit(env, dir, "train"));
  ASSIGN_OR_RETURN(data.test, LoadSplit(env, dir, "t10k"));
  return data;
}

Tensor SliceRows(const Tensor& t, int64_t begin, int64_t count) {
  TensorShape shape = t.shape();
  shape.set_dim(0, count);
  Tensor out(t.dtype(), shape);
  const size_t row_bytes = t.TotalBytes() / static_cast<size_t>(t.dim(0));
  std::memcpy(out.raw_data(), static_cast<const char*>(t.raw_data()) + begin * row_bytes,
              count * row_bytes);
  return out;
}

}  // namespace braid
