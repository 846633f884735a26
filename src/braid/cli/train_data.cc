#include "braid/cli/train_data.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "braid/base/status_macros.h"
#include "braid/data/tfrecord_dataset.h"
#include "tensorflow/core/example/example.pb.h"

namespace braid::cli {
namespace {

// Images [n, ...] viewed as [n, input_shape...].
absl::StatusOr<Tensor> ToInputShape(const Tensor& images, const TensorShape& input_shape) {
  std::vector<int64_t> dims = {images.dim(0)};
  dims.insert(dims.end(), input_shape.dims().begin(), input_shape.dims().end());
  TensorShape want(dims);
  if (want.num_elements() != images.NumElements()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the model's input_shape ", input_shape.DebugString(), " does not fit images of shape ",
        images.shape().DebugString()));
  }
  return images.Reshaped(want);
}

// One tf.Example -> (image [input_shape], label int32 []). The image is a
// float list of the input's size, or raw uint8 pixels in one bytes value
// (scaled to [0, 1]); the label an int64.
absl::StatusOr<data::Element> ParseImageExample(const std::string& serialized,
                                                const TensorShape& input_shape) {
  tensorflow::Example ex;
  if (!ex.ParseFromString(serialized)) {
    return absl::DataLossError("a record is not a serialized tf.Example");
  }
  const auto& features = ex.features().feature();
  auto image = features.find("image");
  auto label = features.find("label");
  if (image == features.end() || label == features.end()) {
    return absl::InvalidArgumentError(
        "a tf.Example lacks the 'image' or the 'label' feature (see braid train --help)");
  }
  const int64_t size = input_shape.num_elements();
  Tensor x(DType::kFloat, input_shape);
  if (image->second.has_float_list()) {
    const auto& v = image->second.float_list().value();
    if (v.size() != size) {
      return absl::InvalidArgumentError(absl::StrCat("feature 'image' has ", v.size(),
                                                     " floats; the model's input_shape ",
                                                     input_shape.DebugString(), " needs ", size));
    }
    std::copy(v.begin(), v.end(), x.data<float>());
  } else if (image->second.has_bytes_list() && image->second.bytes_list().value_size() == 1) {
    const std::string& raw = image->second.bytes_list().value(0);
    if (static_cast<int64_t>(raw.size()) != size) {
      return absl::InvalidArgumentError(absl::StrCat("feature 'image' has ", raw.size(),
                                                     " bytes; the model's input_shape ",
                                                     input_shape.DebugString(), " needs ", size));
    }
    for (int64_t i = 0; i < size; ++i) x.data<float>()[i] = static_cast<uint8_t>(raw[i]) / 255.0f;
  } else {
    return absl::InvalidArgumentError(
        "feature 'image' must be a float list or a single bytes value of raw uint8 pixels");
  }
  if (!label->second.has_int64_list() || label->second.int64_list().value_size() != 1) {
    return absl::InvalidArgumentError("feature 'label' must hold one int64");
  }
  return data::Element{x, Tensor::Scalar<int32_t>(
                              static_cast<int32_t>(label->second.int64_list().value(0)))};
}

// TFRecord files -> parsed examples, and how many there are.
absl::StatusOr<std::pair<data::DatasetPtr, int64_t>> TFRecordExamples(
    const std::string& list, const std::string& compression, const TensorShape& input_shape) {
  std::vector<std::string> files = absl::StrSplit(list, ',', absl::SkipEmpty());
  data::TFRecordReaderOptions options;
  std::string kind = compression;
  if (kind.empty()) kind = absl::EndsWith(files.empty() ? "" : files[0], ".gz") ? "GZIP" : "NONE";
  ASSIGN_OR_RETURN(options.compression, data::CompressionFromName(kind));
  ASSIGN_OR_RETURN(int64_t count, data::CountTFRecords(files, options));
  if (count == 0) return absl::InvalidArgumentError(absl::StrCat("'", list, "' holds no records"));
  data::DatasetPtr parsed = data::Map(
      data::TFRecordDataset(files, options),
      [input_shape](data::Element e) { return ParseImageExample(e[0].data<std::string>()[0], input_shape); },
      /*num_parallel_calls=*/2);
  return std::make_pair(parsed, count);
}

}  // namespace

absl::StatusOr<TrainData> LoadTrainData(const std::string& data, const std::string& test_data,
                                        const std::string& data_dir,
                                        const std::string& compression,
                                        const TensorShape& input_shape, int64_t batch_size,
                                        uint64_t seed, int64_t num_shards, int64_t shard_index) {
  TrainData out;
  // Examples shard_index, shard_index + num_shards, ... of `count`.
  auto shard = [&](data::DatasetPtr all, int64_t count) {
    out.train_examples = (count - shard_index + num_shards - 1) / num_shards;
    return num_shards > 1 ? data::Shard(std::move(all), num_shards, shard_index) : all;
  };
  if (data != "fashion_mnist") {
    ASSIGN_OR_RETURN(auto train, TFRecordExamples(data, compression, input_shape));
    data::DatasetPtr examples = shard(train.first, train.second);
    // A shuffle buffer of up to 10,000 examples, as tf.data users pick.
    out.train = data::Prefetch(
        data::Batch(data::Shuffle(examples, std::min<int64_t>(out.train_examples, 10000), seed),
                    batch_size),
        4);
    if (!test_data.empty()) {
      ASSIGN_OR_RETURN(auto test, TFRecordExamples(test_data, compression, input_shape));
      out.test = data::Batch(test.first, 1000);
    }
    out.description = absl::StrCat("TFRecord ", data);
    return out;
  }
  if (!test_data.empty()) {
    return absl::InvalidArgumentError("--test_data applies to TFRecord training data only");
  }
  ASSIGN_OR_RETURN(FashionMnist mnist, LoadFashionMnist(data_dir));
  ASSIGN_OR_RETURN(Tensor train_x, ToInputShape(mnist.train.images, input_shape));
  ASSIGN_OR_RETURN(Tensor test_x, ToInputShape(mnist.test.images, input_shape));
  ASSIGN_OR_RETURN(data::DatasetPtr train, data::FromTensors({train_x, mnist.train.labels}));
  ASSIGN_OR_RETURN(data::DatasetPtr test, data::FromTensors({test_x, mnist.test.labels}));
  train = shard(train, train_x.dim(0));
  out.train = data::Prefetch(
      data::Batch(data::Shuffle(train, out.train_examples, seed), batch_size), 4);
  out.test = data::Batch(test, 1000);
  out.description = absl::StrCat("Fashion-MNIST (", data_dir, ")");
  return out;
}

}  // namespace braid::cli
