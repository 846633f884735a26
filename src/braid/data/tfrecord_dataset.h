// A Dataset of the records of TFRecord files (string scalars), file after
// file, in order. Compose with Map (parse tf.Example), Shard, Shuffle, ...
#pragma once

#include <string>
#include <vector>

#include "braid/data/dataset.h"
#include "braid/data/tfrecord.h"

namespace braid::data {

DatasetPtr TFRecordDataset(std::vector<std::string> files, TFRecordReaderOptions options = {});

// The number of records in the files (one pass; corrupt records are errors
// unless options.skip_corrupt).
absl::StatusOr<int64_t> CountTFRecords(const std::vector<std::string>& files,
                                       TFRecordReaderOptions options = {});

}  // namespace braid::data
