#include "braid/data/tfrecord_dataset.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace braid::data {

DatasetPtr TFRecordDataset(std::vector<std::string> files, TFRecordReaderOptions options) {
  std::string name = absl::StrCat("TFRecord(", absl::StrJoin(files, ","), ")");
  return FromGenerator(
      [files, options] {
        // Per iterator: the file being read and the reader on it.
        auto file = std::make_shared<size_t>(0);
        auto reader = std::make_shared<std::unique_ptr<TFRecordReader>>();
        return [files, options, file, reader](Element* out, bool* end) -> absl::Status {
          for (;;) {
            if (*reader == nullptr) {
              if (*file >= files.size()) {
                *end = true;
                return absl::OkStatus();
              }
              absl::StatusOr<std::unique_ptr<TFRecordReader>> r =
                  TFRecordReader::Open(files[*file], options);
              if (!r.ok()) return r.status();
              *reader = *std::move(r);
            }
            std::string record;
            bool eof = false;
            absl::StatusOr<uint64_t> offset = (*reader)->ReadRecord(&record, &eof);
            if (!offset.ok()) return offset.status();
            if (eof) {
              reader->reset();
              ++*file;
              continue;
            }
            *out = {Tensor::Scalar(std::move(record))};
            *end = false;
            return absl::OkStatus();
          }
        };
      },
      name);
}

absl::StatusOr<int64_t> CountTFRecords(const std::vector<std::string>& files,
                                       TFRecordReaderOptions options) {
  int64_t n = 0;
  for (const std::string& f : files) {
    absl::StatusOr<std::unique_ptr<TFRecordReader>> r = TFRecordReader::Open(f, options);
    if (!r.ok()) return r.status();
    std::string record;
    for (bool eof = false;;) {
      absl::StatusOr<uint64_t> offset = (*r)->ReadRecord(&record, &eof);
      if (!offset.ok()) return offset.status();
      if (eof) break;
      ++n;
    }
  }
  return n;
}

}  // namespace braid::data
