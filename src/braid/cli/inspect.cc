// braid inspect: what a model spec, a checkpoint or a TFRecord file holds.
#include <cstdio>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "braid/base/env.h"
#include "braid/base/status_macros.h"
#include "braid/cli/commands.h"
#include "braid/data/tfrecord.h"
#include "braid/layers/model_spec.h"
#include "braid/train/saver.h"
#include "tensorflow/core/example/example.pb.h"

namespace braid::cli {
namespace {

namespace fs = std::filesystem;

absl::Status InspectModelSpec(const std::string& path) {
  ASSIGN_OR_RETURN(layers::ModelSpec spec, layers::LoadModelSpec(path));
  ASSIGN_OR_RETURN(std::unique_ptr<layers::Sequential> model, layers::BuildModel(spec));
  ASSIGN_OR_RETURN(std::unique_ptr<Optimizer> opt, layers::MakeOptimizer(spec.optimizer, 1));
  RETURN_IF_ERROR(model->Compile(spec.input_shape, std::move(opt)));
  std::printf("model spec %s: '%s', input %s, loss %s, optimizer %s\n%s", path.c_str(),
              spec.name.c_str(), spec.input_shape.DebugString().c_str(), spec.loss.c_str(),
              spec.optimizer.dump().c_str(), model->Summary().c_str());
  return absl::OkStatus();
}

absl::Status InspectCheckpoint(const std::string& prefix) {
  int64_t step = 0;
  ASSIGN_OR_RETURN(std::vector<CheckpointVariable> vars, Saver::ListVariables(prefix, &step));
  std::printf("checkpoint %s: global step %lld, %zu variables\n", prefix.c_str(),
              static_cast<long long>(step), vars.size());
  for (const CheckpointVariable& v : vars) {
    std::printf("  %-40s %-8s %-16s %s\n", v.name.c_str(), DTypeName(v.dtype).c_str(),
                v.shape.DebugString().c_str(), fs::path(v.shard_file).filename().c_str());
  }
  return absl::OkStatus();
}

// One line per feature: name, kind, count and the first values.
std::string DescribeExample(const tensorflow::Example& ex) {
  std::string out;
  for (const auto& [name, f] : ex.features().feature()) {
    absl::StrAppend(&out, "    ", name, ": ");
    auto head = [&](const auto& values, const char* kind) {
      absl::StrAppend(&out, kind, "[", values.size(), "] {");
      for (int i = 0; i < std::min(values.size(), 5); ++i)
        absl::StrAppend(&out, i ? ", " : "", values.Get(i));
      absl::StrAppend(&out, values.size() > 5 ? ", ...}\n" : "}\n");
    };
    if (f.has_float_list()) head(f.float_list().value(), "float");
    else if (f.has_int64_list()) head(f.int64_list().value(), "int64");
    else if (f.has_bytes_list()) {
      absl::StrAppend(&out, "bytes[", f.bytes_list().value_size(), "]");
      if (f.bytes_list().value_size() > 0)
        absl::StrAppend(&out, " (first ", f.bytes_list().value(0).size(), " bytes)");
      absl::StrAppend(&out, "\n");
    } else {
      absl::StrAppend(&out, "empty\n");
    }
  }
  return out;
}

absl::Status InspectTFRecord(const std::string& path) {
  data::TFRecordReaderOptions options;
  if (absl::EndsWith(path, ".gz")) options.compression = data::Compression::kGzip;
  ASSIGN_OR_RETURN(auto reader, data::TFRecordReader::Open(path, options));
  int64_t count = 0;
  std::string record, shown;
  for (bool eof = false;;) {
    ASSIGN_OR_RETURN(uint64_t offset, reader->ReadRecord(&record, &eof));
    if (eof) break;
    if (count < 3) {
      tensorflow::Example ex;
      absl::StrAppend(&shown, "  record ", count, " (byte offset ", offset, ", ", record.size(),
                      " bytes)");
      if (ex.ParseFromString(record) && ex.has_features()) {
        absl::StrAppend(&shown, ", tf.Example:\n", DescribeExample(ex));
      } else {
        absl::StrAppend(&shown, ", not a tf.Example\n");
      }
    }
    ++count;
  }
  std::printf("TFRecord %s: %lld records\n%s", path.c_str(), static_cast<long long>(count),
              shown.c_str());
  return absl::OkStatus();
}

absl::Status Inspect(std::string path) {
  if (fs::is_directory(path)) {
    ASSIGN_OR_RETURN(std::optional<std::string> latest, Saver::LatestCheckpoint(path));
    if (!latest) return absl::NotFoundError(absl::StrCat("no checkpoint in directory '", path, "'"));
    return InspectCheckpoint(*latest);
  }
  if (absl::EndsWith(path, ".manifest")) path.resize(path.size() - std::string(".manifest").size());
  if (Env::Default()->FileExists(path + ".manifest")) return InspectCheckpoint(path);
  if (layers::PresetSpecText(path).ok() || absl::EndsWith(path, ".json") ||
      !Env::Default()->FileExists(path)) {
    return InspectModelSpec(path);
  }
  return InspectTFRecord(path);
}

}  // namespace

void RegisterInspect(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "show what a model spec (JSON or preset mlp/cnn), a checkpoint (prefix, .manifest or "
      "directory) or a TFRecord file holds");
  cmd->add_option("path", *path, "the file, checkpoint or preset to inspect")->required();
  cmd->callback([path] {
    absl::Status s = Inspect(*path);
    if (!s.ok()) throw CLI::RuntimeError(Fail("inspect", std::string(s.message())));
  });
}

}  // namespace braid::cli
