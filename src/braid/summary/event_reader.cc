#include "braid/summary/event_reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "braid/base/crc32c.h"
#include "braid/base/record_file.h"

namespace braid::summary {
namespace {

uint64_t ReadLE(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

bool CrcMatches(absl::string_view data, const char* stored) {
  return crc32c::Mask(crc32c::Value(data)) == static_cast<uint32_t>(ReadLE(stored, 4));
}

}  // namespace

EventFileReader::EventFileReader(Env* env, std::string path) : env_(env), path_(std::move(path)) {}

absl::Status EventFileReader::ReadNew(const std::function<void(const tensorflow::Event&)>& visit,
                                      size_t max_bytes) {
  caught_up_ = false;
  if (!damage_.ok()) return damage_;
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> file = env_->NewRandomAccessFile(path_);
  if (!file.ok()) return file.status();
  const uint64_t size = (*file)->Size();
  if (size < offset_) {
    damage_ = absl::DataLossError(absl::StrCat("'", path_, "': the file shrank to ", size,
                                               " bytes, below the ", offset_,
                                               " bytes already read (rewritten or truncated)"));
    file_size_ = size;
    offset_ = size;
    return damage_;
  }
  file_size_ = size;
  // Reads [offset_ + buffer_.size(), offset_ + end) of the file into buffer_.
  auto read_to = [&](uint64_t end) -> absl::Status {
    const size_t have = buffer_.size();
    buffer_.resize(end);
    absl::StatusOr<size_t> got = (*file)->Read(offset_ + have, end - have, buffer_.data() + have);
    if (!got.ok()) {
      buffer_.resize(have);
      return got.status();
    }
    buffer_.resize(have + *got);  // fewer when the file shrank meanwhile
    return absl::OkStatus();
  };
  buffer_.clear();
  absl::Status read = read_to(std::min<uint64_t>(size - offset_, std::max<size_t>(max_bytes, 1)));
  if (!read.ok()) return read;

  size_t pos = 0;
  bool incomplete = false;  // stopped at a record that has not fully arrived
  auto damaged = [&](absl::string_view what) {
    damage_ = absl::DataLossError(
        absl::StrCat("'", path_, "': record at byte offset ", offset_ + pos, ": ", what));
  };
  while (pos < buffer_.size()) {
    const size_t remaining = buffer_.size() - pos;
    if (remaining < kRecordHeaderBytes) {
      incomplete = true;
      break;
    }
    const char* header = buffer_.data() + pos;
    if (!CrcMatches(absl::string_view(header, 8), header + 8)) {
      damaged("length CRC mismatch (not an event file, or damaged)");
      break;
    }
    const uint64_t length = ReadLE(header, 8);
    const uint64_t in_file = size - (offset_ + pos) - kRecordHeaderBytes;
    if (length > in_file || in_file - length < kRecordFooterBytes) {
      incomplete = true;  // the writer has not finished it (or the file was cut)
      break;
    }
    const size_t record_bytes = kRecordHeaderBytes + length + kRecordFooterBytes;
    if (remaining < record_bytes) {
      if (pos > 0) break;  // the chunk is full; the next call goes on
      // One record larger than max_bytes: read it whole.
      absl::Status more = read_to(record_bytes);
      if (!more.ok()) return more;
      if (buffer_.size() < record_bytes) {
        incomplete = true;
        break;
      }
    }
    absl::string_view data(buffer_.data() + pos + kRecordHeaderBytes, length);
    if (!CrcMatches(data, data.data() + length)) {
      damaged("data CRC mismatch");
      break;
    }
    if (!event_.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
      damaged(absl::StrCat("the ", length, "-byte record is not a tensorflow.Event"));
      break;
    }
    visit(event_);
    ++records_read_;
    pos += record_bytes;
  }
  const bool reached_end = offset_ + buffer_.size() == size;
  offset_ += pos;
  caught_up_ = damage_.ok() && reached_end && (incomplete || pos == buffer_.size());
  // A reader that caught up waits for new records, perhaps for long: it
  // holds no chunk-sized buffer meanwhile (a dashboard follows many files).
  if (caught_up_ || !damage_.ok()) std::string().swap(buffer_);
  return damage_;
}

absl::Status EventFileReader::ReadNew(std::vector<tensorflow::Event>* events, size_t max_bytes) {
  return ReadNew([events](const tensorflow::Event& e) { events->push_back(e); }, max_bytes);
}

EventFileContents ReadEventFile(Env* env, const std::string& path) {
  EventFileContents out;
  EventFileReader reader(env, path);
  do {
    out.status = reader.ReadNew(&out.events);
  } while (out.status.ok() && !reader.caught_up());
  if (out.status.ok() && reader.pending_bytes() > 0) {
    out.status = absl::DataLossError(
        absl::StrCat("'", path, "': record at byte offset ", reader.offset(), ": truncated (",
                     reader.pending_bytes(), " bytes of a partial record at the end)"));
  }
  return out;
}

}  // namespace braid::summary
