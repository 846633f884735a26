#include "braid/base/record_file.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "braid/base/crc32c.h"

namespace braid {
namespace {

void EncodeLE(uint64_t v, int bytes, char* out) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t ReadLE(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

}  // namespace

void EncodeRecordFrame(absl::string_view data, char header[kRecordHeaderBytes],
                       char footer[kRecordFooterBytes]) {
  EncodeLE(data.size(), 8, header);
  EncodeLE(crc32c::Mask(crc32c::Value(absl::string_view(header, 8))), 4, header + 8);
  EncodeLE(crc32c::Mask(crc32c::Value(data)), 4, footer);
}

void AppendRecord(absl::string_view data, std::string* out) {
  char header[kRecordHeaderBytes], footer[kRecordFooterBytes];
  EncodeRecordFrame(data, header, footer);
  out->append(header, sizeof(header));
  out->append(data.data(), data.size());
  out->append(footer, sizeof(footer));
}

absl::Status ParseRecord(absl::string_view bytes, const std::string& path, size_t* offset,
                         absl::string_view* data) {
  const size_t at = *offset;
  auto loss = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("'", path, "': record at byte offset ", at, ": ", what));
  };
  if (bytes.size() - at < kRecordHeaderBytes) {
    return loss(absl::StrCat("truncated header (", bytes.size() - at, " of ", kRecordHeaderBytes,
                             " bytes)"));
  }
  const char* p = bytes.data() + at;
  uint32_t stored = static_cast<uint32_t>(ReadLE(p + 8, 4));
  uint32_t computed = crc32c::Mask(crc32c::Value(absl::string_view(p, 8)));
  if (stored != computed) {
    return loss(absl::StrCat("length CRC mismatch (stored 0x", absl::Hex(stored), ", computed 0x",
                             absl::Hex(computed), ")"));
  }
  const uint64_t len = ReadLE(p, 8);
  const size_t remaining = bytes.size() - at - kRecordHeaderBytes;
  if (len > remaining || remaining - len < kRecordFooterBytes) {
    return loss(absl::StrCat("truncated: length ", len, " but only ", remaining,
                             " bytes follow the header"));
  }
  absl::string_view payload(p + kRecordHeaderBytes, len);
  stored = static_cast<uint32_t>(ReadLE(p + kRecordHeaderBytes + len, 4));
  computed = crc32c::Mask(crc32c::Value(payload));
  if (stored != computed) {
    return loss(absl::StrCat("data CRC mismatch (stored 0x", absl::Hex(stored), ", computed 0x",
                             absl::Hex(computed), ")"));
  }
  *data = payload;
  *offset = at + kRecordHeaderBytes + len + kRecordFooterBytes;
  return absl::OkStatus();
}

absl::Status WriteRecordFile(Env* env, const std::string& path,
                             const std::vector<std::string>& records) {
  std::string out;
  for (const std::string& r : records) AppendRecord(r, &out);
  return env->WriteFileAtomically(path, out);
}

absl::StatusOr<std::vector<std::string>> ReadRecordFile(Env* env, const std::string& path) {
  absl::StatusOr<std::string> bytes = env->ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  std::vector<std::string> records;
  size_t offset = 0;
  while (offset < bytes->size()) {
    absl::string_view data;
    absl::Status s = ParseRecord(*bytes, path, &offset, &data);
    if (!s.ok()) return s;
    records.emplace_back(data);
  }
  return records;
}

}  // namespace braid
