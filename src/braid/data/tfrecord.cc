#include "braid/data/tfrecord.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "braid/base/crc32c.h"
#include "braid/base/record_file.h"
#include "braid/base/status_macros.h"

namespace braid::data {
namespace {

constexpr size_t kHeaderBytes = kRecordHeaderBytes;  // uint64 length + its masked CRC
constexpr size_t kFooterBytes = kRecordFooterBytes;  // masked CRC of the data
// The most the reader's window grows by in one read: a length that claims
// gigabytes grows the window only as the bytes actually arrive.
constexpr size_t kMaxReadChunk = 16 << 20;

uint64_t DecodeLE(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

uint32_t MaskedCrc(const char* p, size_t n) {
  return crc32c::Mask(crc32c::Value(absl::string_view(p, n)));
}

std::string CrcMismatch(absl::string_view what, uint32_t stored, uint32_t computed) {
  return absl::StrCat(what, " CRC mismatch (stored 0x", absl::Hex(stored, absl::kZeroPad8),
                      ", computed 0x", absl::Hex(computed, absl::kZeroPad8), ")");
}

// zlib's window bits for each container: +16 selects the gzip wrapper.
int WindowBits(Compression c) { return c == Compression::kGzip ? MAX_WBITS + 16 : MAX_WBITS; }

}  // namespace

absl::StatusOr<Compression> CompressionFromName(absl::string_view name) {
  std::string upper = absl::AsciiStrToUpper(name);
  if (upper.empty() || upper == "NONE") return Compression::kNone;
  if (upper == "GZIP") return Compression::kGzip;
  if (upper == "ZLIB") return Compression::kZlib;
  return absl::InvalidArgumentError(
      absl::StrCat("compression '", name, "' is not one of NONE (or empty), GZIP, ZLIB"));
}

std::string CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "NONE";
    case Compression::kGzip:
      return "GZIP";
    case Compression::kZlib:
      return "ZLIB";
  }
  return "?";
}

// ---------------------------------------------------------------- writer

struct TFRecordWriter::Deflater {
  z_stream zs{};
  std::string out = std::string(64 << 10, '\0');
  ~Deflater() { deflateEnd(&zs); }
};

absl::StatusOr<std::unique_ptr<TFRecordWriter>> TFRecordWriter::Open(const std::string& path,
                                                                     TFRecordWriterOptions options,
                                                                     Env* env) {
  if (options.compression_level < -1 || options.compression_level > 9) {
    return absl::InvalidArgumentError(absl::StrCat("compression_level ", options.compression_level,
                                                   " for '", path,
                                                   "' is outside -1 (zlib's default) to 9"));
  }
  std::unique_ptr<Deflater> deflater;
  if (options.compression != Compression::kNone) {
    deflater = std::make_unique<Deflater>();
    if (deflateInit2(&deflater->zs, options.compression_level, Z_DEFLATED,
                     WindowBits(options.compression), 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return absl::InternalError(absl::StrCat("'", path, "': zlib deflateInit2 failed"));
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(path, options.atomic));
  std::unique_ptr<TFRecordWriter> writer(
      new TFRecordWriter(path, std::move(file), std::move(deflater)));
  writer->atomic_ = options.atomic;
  return writer;
}

TFRecordWriter::TFRecordWriter(std::string path, std::unique_ptr<WritableFile> file,
                               std::unique_ptr<Deflater> deflater)
    : path_(std::move(path)), file_(std::move(file)), deflater_(std::move(deflater)) {}

TFRecordWriter::~TFRecordWriter() {
  // An atomic file's destructor removes the temporary (see env.h).
  if (file_ && !atomic_ && failed_.ok()) (void)Close();
}

absl::Status TFRecordWriter::Fail(absl::Status status) {
  if (!status.ok() && failed_.ok()) failed_ = status;
  return status;
}

absl::Status TFRecordWriter::Deflate(absl::string_view bytes, int flush) {
  z_stream& zs = deflater_->zs;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  int rc = Z_OK;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(deflater_->out.data());
    zs.avail_out = static_cast<uInt>(deflater_->out.size());
    rc = deflate(&zs, flush);
    if (rc == Z_STREAM_ERROR) {
      return absl::InternalError(absl::StrCat("'", path_, "': zlib deflate failed"));
    }
    size_t produced = deflater_->out.size() - zs.avail_out;
    if (produced > 0) RETURN_IF_ERROR(file_->Append({deflater_->out.data(), produced}));
    // A full output buffer may mean more output is pending.
  } while (zs.avail_in > 0 || zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  return absl::OkStatus();
}

absl::Status TFRecordWriter::Append(absl::string_view bytes) {
  return deflater_ ? Deflate(bytes, Z_NO_FLUSH) : file_->Append(bytes);
}

absl::Status TFRecordWriter::Write(absl::string_view record) {
  if (!failed_.ok()) return failed_;
  if (!file_) return absl::FailedPreconditionError(absl::StrCat("'", path_, "' is closed"));
  // Records are appended in pieces rather than framed into one buffer, so a
  // large record is not copied.
  char header[kHeaderBytes], footer[kFooterBytes];
  EncodeRecordFrame(record, header, footer);
  // zlib takes uInt-sized input; feed larger records in pieces.
  RETURN_IF_ERROR(Fail(Append({header, kHeaderBytes})));
  constexpr size_t kPiece = size_t{1} << 30;
  for (size_t at = 0; at < record.size(); at += kPiece) {
    RETURN_IF_ERROR(Fail(Append(record.substr(at, kPiece))));
  }
  RETURN_IF_ERROR(Fail(Append({footer, kFooterBytes})));
  ++num_records_;
  return absl::OkStatus();
}

absl::Status TFRecordWriter::Flush() {
  if (!failed_.ok()) return failed_;
  if (!file_) return absl::FailedPreconditionError(absl::StrCat("'", path_, "' is closed"));
  if (deflater_) RETURN_IF_ERROR(Fail(Deflate({}, Z_SYNC_FLUSH)));
  return Fail(file_->Flush());
}

absl::Status TFRecordWriter::Close() {
  if (!failed_.ok()) {
    file_.reset();  // an atomic file's temporary goes with it
    return failed_;
  }
  if (!file_) return absl::FailedPreconditionError(absl::StrCat("'", path_, "' is closed"));
  absl::Status s = deflater_ ? Deflate({}, Z_FINISH) : absl::OkStatus();
  if (s.ok()) s = file_->Close();
  file_.reset();
  return Fail(s);
}

// ---------------------------------------------------------------- reader

// The bytes of the record stream, decompressed if need be.
class TFRecordReader::Source {
 public:
  virtual ~Source() = default;
  // Reads up to `n` bytes into `dst`; 0 at the end of the stream. Fewer than
  // `n` may precede the end or an error. An error ends the stream.
  virtual absl::StatusOr<size_t> Read(char* dst, size_t n) = 0;
  // The stream's length, when known without reading it (an uncompressed file).
  virtual std::optional<uint64_t> Size() const = 0;
};

class TFRecordReader::RawSource : public Source {
 public:
  explicit RawSource(std::unique_ptr<RandomAccessFile> file) : file_(std::move(file)) {}
  absl::StatusOr<size_t> Read(char* dst, size_t n) override {
    ASSIGN_OR_RETURN(size_t got, file_->Read(pos_, n, dst));
    pos_ += got;
    return got;
  }
  std::optional<uint64_t> Size() const override { return file_->Size(); }

 private:
  std::unique_ptr<RandomAccessFile> file_;
  uint64_t pos_ = 0;
};

class TFRecordReader::InflateSource : public Source {
 public:
  InflateSource(std::string path, Compression compression, std::unique_ptr<RandomAccessFile> file,
                size_t buffer_bytes)
      : path_(std::move(path)),
        compression_(compression),
        file_(std::move(file)),
        in_(buffer_bytes, '\0') {}
  ~InflateSource() override {
    if (initialized_) inflateEnd(&zs_);
  }

  absl::Status Init() {
    if (inflateInit2(&zs_, WindowBits(compression_)) != Z_OK) {
      return absl::InternalError(absl::StrCat("'", path_, "': zlib inflateInit2 failed"));
    }
    initialized_ = true;
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> Read(char* dst, size_t n) override {
    if (!pending_error_.ok()) return std::exchange(pending_error_, absl::OkStatus());
    zs_.next_out = reinterpret_cast<Bytef*>(dst);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, std::numeric_limits<uInt>::max()));
    const uInt asked = zs_.avail_out;
    while (zs_.avail_out > 0 && !ended_) {
      if (zs_.avail_in == 0) {
        ASSIGN_OR_RETURN(size_t got, file_->Read(in_pos_, in_.size(), in_.data()));
        in_pos_ += got;
        if (got == 0) {
          // The input ran out. Fine between streams (or in an empty file);
          // inside one the file was cut short.
          ended_ = true;
          if (!at_stream_end_ && in_pos_ > 0) pending_error_ = Truncated();
          break;
        }
        zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
        zs_.avail_in = static_cast<uInt>(got);
      }
      int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        // Concatenated streams (as `cat a.gz b.gz` makes) are one stream.
        at_stream_end_ = true;
        inflateReset(&zs_);
      } else if (rc == Z_OK) {
        at_stream_end_ = false;
      } else if (rc != Z_BUF_ERROR) {
        ended_ = true;
        pending_error_ = absl::DataLossError(absl::StrCat(
            "'", path_, "': corrupt ", CompressionName(compression_), " stream at compressed byte ",
            in_pos_ - zs_.avail_in, ": ", zs_.msg ? zs_.msg : "zlib error"));
        break;
      }
    }
    size_t produced = asked - zs_.avail_out;
    // Hand out what was decompressed before an error; the error comes next.
    if (produced == 0 && !pending_error_.ok())
      return std::exchange(pending_error_, absl::OkStatus());
    return produced;
  }
  std::optional<uint64_t> Size() const override { return std::nullopt; }

 private:
  absl::Status Truncated() const {
    return absl::DataLossError(absl::StrCat(
        "'", path_, "': ", CompressionName(compression_), " stream truncated: the file ends after ",
        in_pos_, " compressed bytes (", zs_.total_out,
        " decompressed) without the stream's end; was it written completely?"));
  }

  const std::string path_;
  const Compression compression_;
  std::unique_ptr<RandomAccessFile> file_;
  std::string in_;
  uint64_t in_pos_ = 0;
  z_stream zs_{};
  bool initialized_ = false;
  bool at_stream_end_ = false;
  bool ended_ = false;
  absl::Status pending_error_;
};

absl::StatusOr<std::unique_ptr<TFRecordReader>> TFRecordReader::Open(const std::string& path,
                                                                     TFRecordReaderOptions options,
                                                                     Env* env) {
  options.buffer_bytes = std::max<size_t>(options.buffer_bytes, 4096);
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env->NewRandomAccessFile(path));
  std::unique_ptr<Source> source;
  if (options.compression == Compression::kNone) {
    source = std::make_unique<RawSource>(std::move(file));
  } else {
    auto inflater = std::make_unique<InflateSource>(path, options.compression, std::move(file),
                                                    options.buffer_bytes);
    RETURN_IF_ERROR(inflater->Init());
    source = std::move(inflater);
  }
  return std::unique_ptr<TFRecordReader>(new TFRecordReader(path, options, std::move(source)));
}

TFRecordReader::TFRecordReader(std::string path, TFRecordReaderOptions options,
                               std::unique_ptr<Source> source)
    : path_(std::move(path)), options_(options), source_(std::move(source)) {}

TFRecordReader::~TFRecordReader() = default;

absl::Status TFRecordReader::Ensure(size_t n) {
  while (Available() < n && !source_exhausted_) {
    if (start_ > 0 && start_ >= window_.size() / 2) {
      window_.erase(0, start_);
      start_ = 0;
    }
    size_t want = std::min(std::max(n - Available(), options_.buffer_bytes), kMaxReadChunk);
    size_t old = window_.size();
    window_.resize(old + want);
    absl::StatusOr<size_t> got = source_->Read(window_.data() + old, want);
    window_.resize(old + (got.ok() ? *got : 0));
    if (!got.ok()) {
      source_exhausted_ = true;
      stream_failed_ = true;
      return got.status();
    }
    // Only a read of nothing is the end: a short read may precede an error
    // that the next read reports (a truncated compressed stream).
    if (*got == 0) source_exhausted_ = true;
  }
  return absl::OkStatus();
}

void TFRecordReader::Consume(size_t n) {
  start_ += n;
  offset_ += n;
  if (start_ == window_.size()) {
    start_ = 0;
    window_.clear();
    // Do not keep the memory of one huge record for the reader's lifetime.
    if (window_.capacity() > 4 * std::max(options_.buffer_bytes, kMaxReadChunk)) {
      window_.shrink_to_fit();
    }
  }
}

absl::Status TFRecordReader::RecordError(uint64_t offset, absl::string_view what) const {
  return absl::DataLossError(
      absl::StrCat("'", path_, "': record at byte offset ", offset,
                   options_.compression == Compression::kNone
                       ? ""
                       : absl::StrCat(" (of the decompressed ",
                                      CompressionName(options_.compression), " stream)"),
                   ": ", what));
}

absl::Status TFRecordReader::TryRecord(std::string* record, bool* found, bool* eof) {
  const bool scanning = state_ == State::kScanning;
  const uint64_t at = offset_;
  RETURN_IF_ERROR(Ensure(kHeaderBytes));
  if (Available() < kHeaderBytes) {
    size_t have = Available();
    Consume(have);
    state_ = State::kDone;
    // While scanning, trailing bytes belong to the damage already reported.
    if (have == 0 || scanning) {
      *eof = true;
      return absl::OkStatus();
    }
    return RecordError(at, absl::StrCat("truncated header (", have, " of ", kHeaderBytes,
                                        " bytes before the end of the file)"));
  }
  const char* header = WindowData();
  const uint64_t length = DecodeLE(header, 8);
  uint32_t stored = static_cast<uint32_t>(DecodeLE(header + 8, 4));
  uint32_t computed = MaskedCrc(header, 8);
  if (stored != computed) {
    Consume(1);
    if (scanning) return absl::OkStatus();
    state_ = State::kScanning;
    return RecordError(at, CrcMismatch("length", stored, computed));
  }

  // The length's CRC matched; still never trust it beyond the bytes there are.
  std::optional<uint64_t> size = source_->Size();
  const uint64_t after_header = size ? *size - at - kHeaderBytes : 0;
  bool fits = length <= std::numeric_limits<size_t>::max() - kHeaderBytes - kFooterBytes;
  if (fits && size) fits = length <= after_header && after_header - length >= kFooterBytes;
  const size_t total = fits ? kHeaderBytes + length + kFooterBytes : 0;
  if (fits) {
    RETURN_IF_ERROR(Ensure(total));
    fits = Available() >= total;
  }
  if (!fits) {
    if (scanning) {
      Consume(1);
      return absl::OkStatus();
    }
    uint64_t follow = size ? after_header : Available() - kHeaderBytes;
    Consume(Available());
    state_ = State::kDone;
    return RecordError(
        at, absl::StrCat("truncated: length ", length, " but only ", follow,
                         " bytes follow the header (", length + kFooterBytes, " needed)"));
  }

  const char* payload = WindowData() + kHeaderBytes;
  stored = static_cast<uint32_t>(DecodeLE(payload + length, 4));
  computed = MaskedCrc(payload, length);
  if (stored != computed) {
    if (scanning) {
      Consume(1);
      return absl::OkStatus();
    }
    Consume(total);  // the length is sound: the next record starts after this one
    return RecordError(at, CrcMismatch("data", stored, computed));
  }
  record->assign(payload, length);
  Consume(total);
  state_ = State::kAtRecord;
  *found = true;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> TFRecordReader::ReadRecord(std::string* record, bool* eof) {
  *eof = false;
  while (true) {
    if (state_ == State::kDone) {
      *eof = true;
      return offset_;
    }
    const uint64_t at = offset_;
    bool found = false;
    absl::Status s = TryRecord(record, &found, eof);
    if (!s.ok()) {
      // Damage to the stream itself cannot be skipped: what follows is unreadable.
      if (stream_failed_) {
        state_ = State::kDone;
        return s;
      }
      if (!options_.skip_corrupt) return s;
      ++num_skipped_;
      continue;
    }
    if (*eof) return offset_;
    if (found) return at;
  }
}

}  // namespace braid::data
