#include "braid/cli/npy.h"

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "braid/base/env.h"

namespace braid::cli {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

const char* Descr(DType dtype) {
  switch (dtype) {
    case DType::kFloat:
      return "<f4";
    case DType::kDouble:
      return "<f8";
    case DType::kInt32:
      return "<i4";
    case DType::kInt64:
      return "<i8";
    case DType::kBool:
      return "|b1";
    default:
      return nullptr;
  }
}

// The value of `key` in the header dict: "'descr': '<f4', 'fortran_order':
// False, 'shape': (2, 3), }".
std::string Field(absl::string_view header, absl::string_view key) {
  const std::string quoted = absl::StrCat("'", key, "':");
  size_t at = header.find(quoted);
  if (at == absl::string_view::npos) return "";
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(header.substr(at + quoted.size()));
  size_t end = rest.front() == '(' ? rest.find(')') + 1 : rest.find_first_of(",}");
  return std::string(absl::StripAsciiWhitespace(rest.substr(0, end)));
}

}  // namespace

absl::StatusOr<Tensor> ParseNpy(const std::string& bytes, const std::string& what) {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a usable .npy file: ", why));
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) return bad("no NUMPY magic");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return bad("truncated header");
    uint32_t len = 0;
    std::memcpy(&len, bytes.data() + 8, 4);
    header_len = len;
    offset = 12;
  } else {
    return bad(absl::StrCat("format version ", major));
  }
  if (bytes.size() < offset + header_len) return bad("truncated header");
  const absl::string_view header(bytes.data() + offset, header_len);
  const std::string descr_field = Field(header, "descr");
  const std::string descr(absl::StripSuffix(absl::StripPrefix(descr_field, "'"), "'"));
  if (Field(header, "fortran_order") != "False") return bad("only C order is supported");
  DType dtype = DType::kInvalid;
  for (DType d : {DType::kFloat, DType::kDouble, DType::kInt32, DType::kInt64, DType::kBool}) {
    if (descr == Descr(d)) dtype = d;
  }
  if (dtype == DType::kInvalid) {
    return bad(absl::StrCat("dtype '", descr, "' (supported: <f4 <f8 <i4 <i8 |b1)"));
  }
  const std::string shape_text = Field(header, "shape");
  if (shape_text.size() < 2 || shape_text.front() != '(') return bad("no shape");
  TensorShape shape;
  for (absl::string_view d :
       absl::StrSplit(shape_text.substr(1, shape_text.size() - 2), ',', absl::SkipWhitespace())) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(d), &n) || n < 0) {
      return bad(absl::StrCat("shape ", shape_text));
    }
    shape.AddDim(n);
  }
  Tensor t(dtype, shape);
  const size_t data = offset + header_len;
  if (bytes.size() - data != t.TotalBytes()) {
    return bad(absl::StrCat(bytes.size() - data, " data bytes for shape ", shape.DebugString(),
                            " of ", descr, ", which needs ", t.TotalBytes()));
  }
  std::memcpy(t.raw_data(), bytes.data() + data, t.TotalBytes());
  if (dtype != DType::kDouble) return t;
  Tensor f(DType::kFloat, shape);
  for (int64_t i = 0; i < t.NumElements(); ++i) {
    f.data<float>()[i] = static_cast<float>(t.data<double>()[i]);
  }
  return f;
}

absl::StatusOr<Tensor> ReadNpy(const std::string& path) {
  absl::StatusOr<std::string> bytes = Env::Default()->ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  return ParseNpy(*bytes, path);
}

std::string SerializeNpy(const Tensor& t) {
  std::vector<int64_t> dims;
  for (int i = 0; i < t.rank(); ++i) dims.push_back(t.dim(i));
  // A one-element tuple is written "(n,)".
  const std::string shape = absl::StrCat("(", absl::StrJoin(dims, ", "), dims.size() == 1 ? ",)" : ")");
  std::string header = absl::StrCat("{'descr': '", Descr(t.dtype()),
                                    "', 'fortran_order': False, 'shape': ", shape, ", }");
  // Data starts at a multiple of 64 bytes; the header ends in '\n'.
  const size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header += '\n';
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char*>(t.raw_data()), t.TotalBytes());
  return out;
}

absl::Status WriteNpy(const std::string& path, const Tensor& t) {
  if (Descr(t.dtype()) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write ", DTypeName(t.dtype()), " tensors as .npy"));
  }
  return Env::Default()->WriteFileAtomically(path, SerializeNpy(t));
}

}  // namespace braid::cli
