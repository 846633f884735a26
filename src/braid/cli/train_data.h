// The datasets `braid train` reads: Fashion-MNIST, or TFRecord files of
// tf.Example records with an "image" and a "label" feature.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "braid/data/dataset.h"
#include "braid/data/idx.h"

namespace braid::cli {

struct TrainData {
  data::DatasetPtr train;  // shuffled batches (images, labels), one epoch per iterator
  data::DatasetPtr test;   // batches in order; null when there is no test set
  int64_t train_examples = 0;
  std::string description;
};

// `data`: "fashion_mnist" or comma-separated TFRecord paths (`compression`
// NONE, GZIP or ZLIB; empty: GZIP for names ending in .gz). Images are
// reshaped to `input_shape` (the element count must agree). A worker of a
// cluster trains on shard `shard_index` of `num_shards` (every num_shards-th
// example, as tf.data's shard); the test set is never sharded.
absl::StatusOr<TrainData> LoadTrainData(const std::string& data, const std::string& test_data,
                                        const std::string& data_dir,
                                        const std::string& compression,
                                        const TensorShape& input_shape, int64_t batch_size,
                                        uint64_t seed, int64_t num_shards = 1,
                                        int64_t shard_index = 0);

}  // namespace braid::cli
