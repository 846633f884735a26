// Whole files of TFRecord-framed records:
//   uint64 length (little-endian), uint32 masked CRC32C of those 8 bytes,
//   `length` data bytes, uint32 masked CRC32C of the data.
// For small files read and written at once (checkpoint shards, manifests);
// the framing helpers serve streaming readers and writers as well.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/base/env.h"

namespace braid {

inline constexpr size_t kRecordHeaderBytes = 12;  // length + its CRC
inline constexpr size_t kRecordFooterBytes = 4;   // data CRC

// The bytes around one record's data: header (length and its masked CRC)
// and footer (masked CRC of the data).
void EncodeRecordFrame(absl::string_view data, char header[kRecordHeaderBytes],
                       char footer[kRecordFooterBytes]);
// Appends one framed record to `out`.
void AppendRecord(absl::string_view data, std::string* out);

// Parses the record at `offset` of `bytes`. On success sets `data` and
// advances `offset`. Errors are DataLoss naming `path`, the byte offset and
// what is wrong (truncated header or data, CRC mismatch).
absl::Status ParseRecord(absl::string_view bytes, const std::string& path, size_t* offset,
                         absl::string_view* data);

// Writes all records atomically (temporary name, fsync, rename).
absl::Status WriteRecordFile(Env* env, const std::string& path,
                             const std::vector<std::string>& records);
// Reads and checks every record of a file.
absl::StatusOr<std::vector<std::string>> ReadRecordFile(Env* env, const std::string& path);

}  // namespace braid
