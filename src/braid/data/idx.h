// Reader for IDX files (the MNIST / Fashion-MNIST format), raw or gzipped:
// two zero bytes, a type code, the rank, big-endian uint32 dims, then data.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "braid/base/env.h"
#include "braid/tensor/tensor.h"

namespace braid {

// Reads an IDX file of unsigned bytes (type 0x08) into a uint8 tensor of its
// dims, or of int32 (0x0C) / float32 (0x0D) into tensors of those types.
// Malformed files are errors naming the file and what is wrong.
absl::StatusOr<Tensor> ReadIdxFile(const std::string& path, Env* env = Env::Default());

// Where Debian's dataset-fashion-mnist package puts the data.
inline constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";

struct ImageDataset {
  Tensor images;  // float32 [N, 28, 28, 1], pixel / 255
  Tensor labels;  // int32 [N]
};
struct FashionMnist {
  ImageDataset train;  // 60,000 examples
  ImageDataset test;   // 10,000 examples
};

// Loads {train,t10k}-{images-idx3,labels-idx1}-ubyte(.gz) from `dir`.
absl::StatusOr<FashionMnist> LoadFashionMnist(const std::string& dir = kFashionMnistDir,
                                              Env* env = Env::Default());

// Rows [begin, begin + count) of a tensor's first dimension, copied.
Tensor SliceRows(const Tensor& t, int64_t begin, int64_t count);

}  // namespace braid
