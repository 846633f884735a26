// braid_tfrecord_tool: braid's side of the TFRecord / tf.Example
// compatibility tests (test_tfrecord_compat.py), which compare it with
// TensorFlow. Output is JSON, one object per line.
//
//   write-examples PATH N [--compression C]
//       N examples of the test schema (below), values from ExpectedValue*.
//   dump-examples PATH [--compression C] [--skip-corrupt] [--batch] [--spec SPEC]
//       parses every record by SPEC; prints {"offset": ..., "<feature>": ...}
//       per record (with --batch, one object for the whole file), then
//       {"records": n, "skipped": k}. Dense features print as
//       {"shape": [...], "values": [...]}, sparse ones as
//       {"indices": [...], "values": [...], "dense_shape": [...]}, bytes as hex.
//   dump-records PATH [--compression C] [--skip-corrupt]
//       {"offset": ..., "length": ...} per record, then the summary.
//
// SPEC: comma-separated NAME:DTYPE:SHAPE, DTYPE one of int64, float, string,
// SHAPE dims joined by 'x' ("28x28"), empty for a scalar, or "var" for a
// VarLenFeature. Default: the test schema
//   image:float:784,label:int64:,name:string:,tags:int64:var
//
// A read or parse error goes to stderr (after the records read before it) and
// the exit status is 1; a usage error exits with 2.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "braid/data/example_builder.h"
#include "braid/data/example_parser.h"
#include "braid/data/tfrecord.h"

namespace braid::data {
namespace {

constexpr char kDefaultSpec[] = "image:float:784,label:int64:,name:string:,tags:int64:var";

// The test schema's values for example i; test_tfrecord_compat.py computes
// the same (keep the two in step).
float ExpectedPixel(int64_t i, int64_t j) {
  if (j == 0) return 1e-45f;         // the smallest denormal
  if (j == 1) return 3.4028235e38f;  // the largest float
  if (j == 2) return -0.0f;
  return static_cast<float>((i * 784 + j) % 1013) / 7.0f;
}
int64_t ExpectedLabel(int64_t i) { return (i % 2 ? -1 : 1) * i * 1000000000007; }
std::string ExpectedName(int64_t i) {
  return "record-" + std::to_string(i) + std::string("\0\xff\n\"\\", 5);
}
std::vector<int64_t> ExpectedTags(int64_t i) {
  std::vector<int64_t> tags;
  for (int64_t k = 0; k < i % 4; ++k) tags.push_back(i + k);
  return tags;
}

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "braid_tfrecord_tool: %s\nusage: braid_tfrecord_tool write-examples PATH N "
               "[--compression C]\n       braid_tfrecord_tool dump-examples PATH "
               "[--compression C] [--skip-corrupt] [--batch] [--spec SPEC]\n       "
               "braid_tfrecord_tool dump-records PATH [--compression C] [--skip-corrupt]\n",
               why.c_str());
  return 2;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "%s\n", s.ToString().c_str());
  return 1;
}

std::string Hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// JSON for the values of a tensor, flat.
std::string JsonValues(const Tensor& t) {
  std::string out = "[";
  for (int64_t k = 0; k < t.NumElements(); ++k) {
    if (k > 0) out += ",";
    if (t.dtype() == DType::kFloat) {
      float v = t.data<float>()[k];
      char buf[32];
      // %.9g round-trips every float; Python's json reads NaN and Infinity.
      if (std::isnan(v)) {
        out += "NaN";
      } else if (std::isinf(v)) {
        out += v > 0 ? "Infinity" : "-Infinity";
      } else {
        std::snprintf(buf, sizeof(buf), "%.9g", v);
        out += buf;
        // Keep it a JSON float (so -0 keeps its sign in Python): "100" -> "100.0".
        if (std::string_view(buf).find_first_of(".e") == std::string_view::npos) out += ".0";
      }
    } else if (t.dtype() == DType::kInt64) {
      out += std::to_string(t.data<int64_t>()[k]);
    } else {
      out += "\"" + Hex(t.data<std::string>()[k]) + "\"";
    }
  }
  return out + "]";
}

std::string JsonShape(const TensorShape& s) {
  std::string out = "[";
  for (int d = 0; d < s.rank(); ++d) out += (d > 0 ? "," : "") + std::to_string(s.dim(d));
  return out + "]";
}

std::string JsonFeatures(const ParsedFeatures& f) {
  std::string out;
  for (const auto& [name, t] : f.dense) {
    out += ",\"" + name + "\":{\"shape\":" + JsonShape(t.shape()) + ",\"values\":" + JsonValues(t) +
           "}";
  }
  for (const auto& [name, s] : f.sparse) {
    out += ",\"" + name + "\":{\"indices\":" + JsonValues(s.indices) +
           ",\"values\":" + JsonValues(s.values) + ",\"dense_shape\":" + JsonValues(s.dense_shape) +
           "}";
  }
  return out;
}

absl::StatusOr<ExampleSpec> ParseSpec(const std::string& text) {
  ExampleSpec spec;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(item, ':');
    if (parts.size() != 3) {
      return absl::InvalidArgumentError("spec item '" + std::string(item) +
                                        "' is not NAME:DTYPE:SHAPE");
    }
    absl::StatusOr<DType> dtype = DTypeFromName(parts[1]);
    if (!dtype.ok()) return dtype.status();
    if (parts[2] == "var") {
      spec[parts[0]] = VarLenFeature{*dtype};
      continue;
    }
    std::vector<int64_t> dims;
    for (absl::string_view d : absl::StrSplit(parts[2], 'x', absl::SkipEmpty())) {
      int64_t v;
      if (!absl::SimpleAtoi(d, &v)) {
        return absl::InvalidArgumentError("bad dimension '" + std::string(d) + "' in spec");
      }
      dims.push_back(v);
    }
    spec[parts[0]] = FixedLenFeature{*dtype, TensorShape(dims)};
  }
  return spec;
}

struct Flags {
  Compression compression = Compression::kNone;
  bool skip_corrupt = false;
  bool batch = false;
  std::string spec = kDefaultSpec;
};

int WriteExamples(const std::string& path, int64_t n, const Flags& flags) {
  auto writer = TFRecordWriter::Open(path, {.compression = flags.compression});
  if (!writer.ok()) return Fail(writer.status());
  for (int64_t i = 0; i < n; ++i) {
    std::vector<float> image(784);
    for (int64_t j = 0; j < 784; ++j) image[j] = ExpectedPixel(i, j);
    ExampleBuilder b;
    b.SetFloats("image", image)
        .SetInt64s("label", {ExpectedLabel(i)})
        .SetBytes("name", {ExpectedName(i)})
        .SetInt64s("tags", ExpectedTags(i));
    if (absl::Status s = (*writer)->Write(b.Serialize()); !s.ok()) return Fail(s);
  }
  if (absl::Status s = (*writer)->Close(); !s.ok()) return Fail(s);
  return 0;
}

int Dump(const std::string& path, bool examples, const Flags& flags) {
  absl::StatusOr<ExampleSpec> spec = ParseSpec(flags.spec);
  if (!spec.ok()) return Fail(spec.status());
  auto reader = TFRecordReader::Open(
      path, {.compression = flags.compression, .skip_corrupt = flags.skip_corrupt});
  if (!reader.ok()) return Fail(reader.status());
  std::vector<std::string> batch;
  int64_t count = 0;
  while (true) {
    std::string record;
    bool eof = false;
    absl::StatusOr<uint64_t> offset = (*reader)->ReadRecord(&record, &eof);
    if (!offset.ok()) return Fail(offset.status());
    if (eof) break;
    ++count;
    if (!examples) {
      std::printf("{\"offset\":%" PRIu64 ",\"length\":%zu}\n", *offset, record.size());
    } else if (flags.batch) {
      batch.push_back(std::move(record));
    } else {
      absl::StatusOr<ParsedFeatures> parsed = ParseSingleExample(record, *spec);
      if (!parsed.ok()) return Fail(parsed.status());
      std::printf("{\"offset\":%" PRIu64 "%s}\n", *offset, JsonFeatures(*parsed).c_str());
    }
  }
  if (examples && flags.batch) {
    absl::StatusOr<ParsedFeatures> parsed = ParseExamples(batch, *spec);
    if (!parsed.ok()) return Fail(parsed.status());
    std::printf("{\"batch\":%zu%s}\n", batch.size(), JsonFeatures(*parsed).c_str());
  }
  std::printf("{\"records\":%" PRId64 ",\"skipped\":%" PRId64 "}\n", count,
              (*reader)->num_skipped());
  return 0;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> positional;
  Flags flags;
  for (size_t k = 0; k < args.size(); ++k) {
    const std::string& a = args[k];
    if (a == "--compression" || a == "--spec") {
      if (k + 1 == args.size()) return Usage(a + " needs a value");
      const std::string& v = args[++k];
      if (a == "--spec") {
        flags.spec = v;
        continue;
      }
      absl::StatusOr<Compression> c = CompressionFromName(v);
      if (!c.ok()) return Usage(std::string(c.status().message()));
      flags.compression = *c;
    } else if (a == "--skip-corrupt") {
      flags.skip_corrupt = true;
    } else if (a == "--batch") {
      flags.batch = true;
    } else if (a.starts_with("--")) {
      return Usage("unknown flag " + a);
    } else {
      positional.push_back(a);
    }
  }
  if (positional.empty()) return Usage("no subcommand");
  const std::string& cmd = positional[0];
  if (cmd == "write-examples" && positional.size() == 3) {
    int64_t n;
    if (!absl::SimpleAtoi(positional[2], &n) || n < 0) return Usage("N must be a count");
    return WriteExamples(positional[1], n, flags);
  }
  if ((cmd == "dump-examples" || cmd == "dump-records") && positional.size() == 2) {
    return Dump(positional[1], cmd == "dump-examples", flags);
  }
  return Usage("bad command line");
}

}  // namespace
}  // namespace braid::data

int main(int argc, char** argv) { return braid::data::Main(argc, argv); }
