#include "braid/data/tfrecord.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <map>
#include <random>

#include "absl/strings/escaping.h"
#include "braid/base/crc32c.h"

namespace braid::data {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/tfrecord_test." + std::to_string(getpid()) + "." + name;
}

struct ReadResult {
  std::vector<std::string> records;
  std::vector<uint64_t> offsets;
  std::vector<std::string> errors;
  int64_t skipped = 0;
};

// Reads to the end, collecting records and errors (continuing after errors).
ReadResult ReadAll(const std::string& path, TFRecordReaderOptions options = {},
                   Env* env = Env::Default()) {
  ReadResult out;
  auto reader = TFRecordReader::Open(path, options, env);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  for (int guard = 0; guard < 100000; ++guard) {
    std::string record;
    bool eof = false;
    absl::StatusOr<uint64_t> offset = (*reader)->ReadRecord(&record, &eof);
    if (!offset.ok()) {
      EXPECT_EQ(offset.status().code(), absl::StatusCode::kDataLoss) << offset.status();
      out.errors.emplace_back(offset.status().message());
      continue;
    }
    if (eof) break;
    out.records.push_back(record);
    out.offsets.push_back(*offset);
  }
  out.skipped = (*reader)->num_skipped();
  return out;
}

void WriteAll(const std::string& path, const std::vector<std::string>& records,
              TFRecordWriterOptions options = {}) {
  auto writer = TFRecordWriter::Open(path, options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (const std::string& r : records) ASSERT_TRUE((*writer)->Write(r).ok());
  ASSERT_TRUE((*writer)->Close().ok());
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// `in` as one gzip stream (member).
std::string Gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// Files beside `path` whose names start with its name plus ".tmp.".
int CountTemporaries(const std::string& path) {
  std::filesystem::path p(path);
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(p.parent_path())) {
    if (entry.path().filename().string().starts_with(p.filename().string() + ".tmp.")) ++n;
  }
  return n;
}

std::vector<std::string> SampleRecords() {
  return {"first", "", std::string(1000, 'x'), RandomBytes(600 << 10, 1), "last"};
}

TEST(TFRecordTest, BytesMatchTensorFlowsFraming) {
  // What tf.io.TFRecordWriter writes for the records "abc" and "".
  const std::string golden = absl::HexStringToBytes(
      "0300000000000000b099490e6162636e57f121000000000000000029039807d8ea82a2");
  std::string path = TempPath("golden");
  WriteAll(path, {"abc", ""});
  EXPECT_EQ(*Env::Default()->ReadFile(path), golden);
  ReadResult read = ReadAll(path);
  EXPECT_THAT(read.records, ::testing::ElementsAre("abc", ""));
  EXPECT_THAT(read.offsets, ::testing::ElementsAre(0, 19));
}

TEST(TFRecordTest, RoundTripsEveryCompression) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZlib}) {
    SCOPED_TRACE(CompressionName(c));
    std::string path = TempPath("round_trip");
    std::vector<std::string> records = SampleRecords();
    WriteAll(path, records, {.compression = c});
    // A small buffer makes records straddle many reads.
    ReadResult read = ReadAll(path, {.compression = c, .buffer_bytes = 4096});
    EXPECT_EQ(read.records, records);
    EXPECT_TRUE(read.errors.empty());
    uint64_t offset = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(read.offsets[i], offset);
      offset += 16 + records[i].size();
    }
    if (c != Compression::kNone) {
      EXPECT_LT(Env::Default()->ReadFile(path)->size(), offset);  // it did compress
    }
  }
}

TEST(TFRecordTest, CompressionNames) {
  EXPECT_EQ(*CompressionFromName(""), Compression::kNone);
  EXPECT_EQ(*CompressionFromName("gzip"), Compression::kGzip);
  EXPECT_EQ(*CompressionFromName("ZLIB"), Compression::kZlib);
  EXPECT_THAT(std::string(CompressionFromName("xz").status().message()),
              HasSubstr("'xz' is not one of NONE (or empty), GZIP, ZLIB"));
}

TEST(TFRecordTest, AtomicWriterPublishesOnlyOnClose) {
  std::string path = TempPath("atomic");
  ::unlink(path.c_str());
  {
    auto writer = TFRecordWriter::Open(path);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write("a").ok());
    ASSERT_TRUE((*writer)->Flush().ok());
    EXPECT_FALSE(Env::Default()->FileExists(path));
    // Destroyed without Close: nothing appears, the temporary is removed.
  }
  EXPECT_FALSE(Env::Default()->FileExists(path));
  EXPECT_EQ(CountTemporaries(path), 0);

  auto writer = TFRecordWriter::Open(path);
  ASSERT_TRUE((*writer)->Write("a").ok());
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_EQ(ReadAll(path).records, std::vector<std::string>{"a"});
  EXPECT_EQ((*writer)->Write("b").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(TFRecordTest, NonAtomicWriterShowsFlushedRecords) {
  for (Compression c : {Compression::kNone, Compression::kGzip}) {
    std::string path = TempPath("growing");
    auto writer = TFRecordWriter::Open(path, {.compression = c, .atomic = false});
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write("one").ok());
    ASSERT_TRUE((*writer)->Write("two").ok());
    ASSERT_TRUE((*writer)->Flush().ok());
    // The records so far read back whole; a compressed stream is not finished yet.
    ReadResult partial = ReadAll(path, {.compression = c});
    EXPECT_THAT(partial.records, ::testing::ElementsAre("one", "two"));
    EXPECT_EQ(partial.errors.size(), c == Compression::kNone ? 0u : 1u);
    ASSERT_TRUE((*writer)->Write("three").ok());
    writer->reset();  // closes
    EXPECT_THAT(ReadAll(path, {.compression = c}).records,
                ::testing::ElementsAre("one", "two", "three"));
  }
}

class CorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempPath("corrupt");
    WriteAll(path_, {"alpha", "bravo-bravo", "charlie"});
    bytes_ = *Env::Default()->ReadFile(path_);
  }
  void Rewrite(const std::string& bytes) {
    ASSERT_TRUE(Env::Default()->WriteFileAtomically(path_, bytes).ok());
  }
  // Records start at 0, 21 and 48.
  std::string path_, bytes_;
};

TEST_F(CorruptionTest, BadDataCrcSkipsExactlyThatRecord) {
  bytes_[21 + 12 + 3] ^= 0x01;
  Rewrite(bytes_);
  ReadResult read = ReadAll(path_);
  EXPECT_THAT(read.records, ::testing::ElementsAre("alpha", "charlie"));
  ASSERT_EQ(read.errors.size(), 1u);
  EXPECT_THAT(read.errors[0],
              MatchesRegex("'.*corrupt': record at byte offset 21: data CRC mismatch "
                           "\\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\)"));
  EXPECT_THAT(read.offsets, ::testing::ElementsAre(0, 48));

  ReadResult skipping = ReadAll(path_, {.skip_corrupt = true});
  EXPECT_THAT(skipping.records, ::testing::ElementsAre("alpha", "charlie"));
  EXPECT_TRUE(skipping.errors.empty());
  EXPECT_EQ(skipping.skipped, 1);
}

TEST_F(CorruptionTest, BadLengthCrcResyncsOnTheNextIntactRecord) {
  bytes_[21 + 1] ^= 0x20;  // the length of "bravo-bravo"
  Rewrite(bytes_);
  ReadResult read = ReadAll(path_);
  EXPECT_THAT(read.records, ::testing::ElementsAre("alpha", "charlie"));
  EXPECT_THAT(read.offsets, ::testing::ElementsAre(0, 48));
  ASSERT_EQ(read.errors.size(), 1u);
  EXPECT_THAT(read.errors[0], HasSubstr("record at byte offset 21: length CRC mismatch"));

  bytes_[0 + 9] ^= 0x01;  // also the first record's stored length CRC
  Rewrite(bytes_);
  ReadResult skipping = ReadAll(path_, {.skip_corrupt = true});
  EXPECT_THAT(skipping.records, ::testing::ElementsAre("charlie"));
  EXPECT_EQ(skipping.skipped, 1);  // one damaged stretch
}

TEST_F(CorruptionTest, TruncationIsReportedOnce) {
  for (size_t cut : {bytes_.size() - 1, size_t{48 + 12 + 2}, size_t{48 + 5}}) {
    SCOPED_TRACE(cut);
    Rewrite(bytes_.substr(0, cut));
    ReadResult read = ReadAll(path_);
    EXPECT_THAT(read.records, ::testing::ElementsAre("alpha", "bravo-bravo"));
    ASSERT_EQ(read.errors.size(), 1u);
    EXPECT_THAT(read.errors[0], HasSubstr("record at byte offset 48: truncated"));
    EXPECT_EQ(ReadAll(path_, {.skip_corrupt = true}).skipped, 1);
  }
}

TEST_F(CorruptionTest, GarbageLengthIsCheckedAgainstTheFileSize) {
  // A length of 2^60 with a valid CRC: the reader must not try to allocate it.
  std::string header(12, '\0');
  uint64_t huge = uint64_t{1} << 60;
  for (int i = 0; i < 8; ++i) header[i] = static_cast<char>((huge >> (8 * i)) & 0xff);
  uint32_t crc = crc32c::Mask(crc32c::Value(header.substr(0, 8)));
  for (int i = 0; i < 4; ++i) header[8 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  for (Compression c : {Compression::kNone, Compression::kGzip}) {
    SCOPED_TRACE(CompressionName(c));
    {
      auto writer = TFRecordWriter::Open(path_, {.compression = c});
      ASSERT_TRUE((*writer)->Write("ok").ok());
      ASSERT_TRUE((*writer)->Close().ok());
    }
    std::string plain = *Env::Default()->ReadFile(path_);
    if (c == Compression::kNone) {
      Rewrite(plain + header + "tail");
    } else {
      // The forged bytes as a second gzip member of the stream.
      Rewrite(plain + Gzip(header + "tail"));
    }
    ReadResult read = ReadAll(path_, {.compression = c});
    EXPECT_THAT(read.records, ::testing::ElementsAre("ok"));
    ASSERT_EQ(read.errors.size(), 1u);
    EXPECT_THAT(read.errors[0], HasSubstr("record at byte offset 18"));
    EXPECT_THAT(read.errors[0],
                HasSubstr("truncated: length 1152921504606846976 but only 4 bytes"));
  }
}

TEST(TFRecordCompressedTest, TruncatedAndCorruptStreamsAreErrorsNotHangs) {
  std::string path = TempPath("gz_damage");
  std::vector<std::string> records;
  for (int i = 0; i < 200; ++i) records.push_back(RandomBytes(1000, i));
  WriteAll(path, records, {.compression = Compression::kGzip});
  std::string gz = *Env::Default()->ReadFile(path);

  ASSERT_TRUE(Env::Default()->WriteFileAtomically(path, gz.substr(0, gz.size() / 2)).ok());
  ReadResult cut = ReadAll(path, {.compression = Compression::kGzip, .skip_corrupt = true});
  EXPECT_GT(cut.records.size(), 10u);
  EXPECT_LT(cut.records.size(), 200u);
  for (size_t i = 0; i < cut.records.size(); ++i) ASSERT_EQ(cut.records[i], records[i]);
  ASSERT_EQ(cut.errors.size(), 1u);  // reported even with skip_corrupt, then the end
  EXPECT_THAT(cut.errors[0], HasSubstr("GZIP stream truncated"));

  std::string flipped = gz;
  flipped[gz.size() / 3] ^= 0xff;
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(path, flipped).ok());
  // Deflate's stored blocks may carry the flipped byte through (a record CRC
  // mismatch); the gzip trailer's check then fails too. Either way it ends
  // with the stream's error, and nothing hangs.
  ReadResult bad = ReadAll(path, {.compression = Compression::kGzip});
  ASSERT_FALSE(bad.errors.empty());
  EXPECT_THAT(bad.errors.back(), HasSubstr("corrupt GZIP stream"));

  // Plain bytes read as GZIP.
  WriteAll(path, {"not compressed"});
  ReadResult plain = ReadAll(path, {.compression = Compression::kGzip});
  ASSERT_EQ(plain.errors.size(), 1u);
  EXPECT_THAT(plain.errors[0], HasSubstr("corrupt GZIP stream at compressed byte"));
}

TEST(TFRecordTest, MissingFileAndEmptyFile) {
  auto missing = TFRecordReader::Open(TempPath("does-not-exist"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("does-not-exist"));
  std::string path = TempPath("empty");
  WriteAll(path, {});
  EXPECT_TRUE(ReadAll(path).records.empty());
  WriteAll(path, {}, {.compression = Compression::kZlib});
  EXPECT_TRUE(ReadAll(path, {.compression = Compression::kZlib}).errors.empty());
}

// An Env that keeps files in a map and implements only the whole-file calls:
// the default streaming files must work over it.
class MapEnv : public Env {
 public:
  absl::StatusOr<std::string> ReadFile(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return absl::NotFoundError(path);
    return it->second;
  }
  absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) override {
    files[path] = std::string(contents);
    return absl::OkStatus();
  }
  bool FileExists(const std::string& path) override { return files.count(path) > 0; }
  int64_t NowMicros() override { return 0; }
  std::map<std::string, std::string> files;
};

TEST(TFRecordTest, WorksThroughAnEnvWithOnlyWholeFileCalls) {
  MapEnv env;
  auto writer = TFRecordWriter::Open("mem", {.compression = Compression::kGzip}, &env);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("in memory").ok());
  EXPECT_FALSE(env.FileExists("mem"));
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_THAT(ReadAll("mem", {.compression = Compression::kGzip}, &env).records,
              ::testing::ElementsAre("in memory"));
}

}  // namespace
}  // namespace braid::data
