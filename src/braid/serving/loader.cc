#include "braid/serving/loader.h"

#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "braid/base/env.h"
#include "braid/base/status_macros.h"
#include "braid/serving/export_format.h"
#include "tensorflow/core/framework/graph.pb.h"

namespace braid::serving {
namespace {

namespace fs = std::filesystem;

absl::Status InDir(const std::string& dir, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("version '", dir, "': ", s.message()));
}

absl::StatusOr<nlohmann::json> ReadMeta(const std::string& dir) {
  const std::string path = (fs::path(dir) / kSignaturesFile).string();
  if (!Env::Default()->FileExists(path)) {
    return absl::NotFoundError(absl::StrCat("missing ", kSignaturesFile));
  }
  ASSIGN_OR_RETURN(std::string text, Env::Default()->ReadFile(path));
  nlohmann::json meta = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded() || !meta.is_object()) {
    return absl::DataLossError(absl::StrCat(kSignaturesFile, " is not a JSON object"));
  }
  if (meta.value("format", std::string()) != kExportFormat) {
    return absl::InvalidArgumentError(absl::StrCat(kSignaturesFile, " has format ",
                                                   meta.value("format", nlohmann::json()).dump(),
                                                   "; this server reads \"", kExportFormat, "\""));
  }
  return meta;
}

absl::Status CheckAgainstGraph(const SignatureMap& signatures, Graph* graph) {
  for (const auto& [key, sig] : signatures) {
    for (const auto* side : {&sig.inputs, &sig.outputs}) {
      for (const auto& [alias, info] : *side) {
        ASSIGN_OR_RETURN(auto parsed, SplitTensorName(info.name));
        Node* node = graph->FindNode(parsed.first);
        if (node == nullptr || parsed.second >= node->num_outputs()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "signature '", key, "': '", alias, "' names tensor '", info.name, "', not in graph"));
        }
        if (node->output_dtype(parsed.second) != info.dtype) {
          return absl::InvalidArgumentError(absl::StrCat(
              "signature '", key, "': '", alias, "' is declared ", DTypeName(info.dtype),
              " but the graph's tensor is ", DTypeName(node->output_dtype(parsed.second))));
        }
      }
    }
  }
  return absl::OkStatus();
}

// One request of a single zero example per signature whose inputs are
// numeric and of known rank: compiles the run plans before traffic arrives.
absl::Status WarmUp(const LoadedVersion& v) {
  for (const auto& [key, sig] : v.signatures) {
    std::vector<std::pair<std::string, Tensor>> feeds;
    for (const auto& [alias, info] : sig.inputs) {
      if (info.shape.unknown_rank() || DTypeSize(info.dtype) == 0) break;
      std::vector<int64_t> dims = info.shape.dims();
      for (int64_t& d : dims) d = d < 0 ? 1 : d;
      Tensor t(info.dtype, TensorShape(dims));
      std::memset(t.raw_data(), 0, t.TotalBytes());
      feeds.emplace_back(info.name, t);
    }
    if (feeds.size() != sig.inputs.size()) continue;
    std::vector<std::string> fetches;
    for (const auto& [alias, info] : sig.outputs) fetches.push_back(info.name);
    std::vector<Tensor> out;
    absl::Status s = v.session->Run(feeds, fetches, {}, &out);
    if (!s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("warm-up of signature '", key, "' failed: ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<LoadedVersion>> Load(const std::string& dir, int64_t version,
                                                    const SessionOptions& options) {
  ASSIGN_OR_RETURN(nlohmann::json meta, ReadMeta(dir));
  auto loaded = std::make_unique<LoadedVersion>();
  loaded->version = version;
  loaded->dir = dir;
  ASSIGN_OR_RETURN(loaded->signatures, SignaturesFromJson(meta["signature_def"]));

  const std::string graph_path = (fs::path(dir) / kGraphFile).string();
  if (!Env::Default()->FileExists(graph_path)) {
    return absl::NotFoundError(absl::StrCat("missing ", kGraphFile));
  }
  ASSIGN_OR_RETURN(std::string bytes, Env::Default()->ReadFile(graph_path));
  tensorflow::GraphDef graph_def;
  if (!graph_def.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat(kGraphFile, " is not a serialized GraphDef"));
  }
  ASSIGN_OR_RETURN(loaded->session, NewSession(options, graph_def));
  RETURN_IF_ERROR(CheckAgainstGraph(loaded->signatures, loaded->session->graph()));

  const nlohmann::json& restore = meta["restore"];
  if (restore.is_object()) {
    const std::string prefix =
        (fs::path(dir) / restore.value("variables_prefix", std::string(kVariablesPrefix))).string();
    std::vector<Tensor> out;
    absl::Status s = loaded->session->Run(
        {{restore.value("prefix_tensor", std::string()), Tensor::Scalar(prefix)}}, {},
        {restore.value("restore_op", std::string())}, &out);
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("restoring variables: ", s.message()));
    }
  }
  RETURN_IF_ERROR(WarmUp(*loaded));
  return loaded;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LoadedVersion>> LoadVersion(const std::string& dir, int64_t version,
                                                           const SessionOptions& options) {
  absl::StatusOr<std::unique_ptr<LoadedVersion>> loaded = Load(dir, version, options);
  if (!loaded.ok()) return InDir(dir, loaded.status());
  return loaded;
}

}  // namespace braid::serving
