#include "braid/serving/model_server_config.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/serving/text_proto.h"

namespace braid::serving {
namespace {

namespace fs = std::filesystem;
using tensorflow::serving::FileSystemStoragePathSourceConfig;

absl::StatusOr<VersionPolicy> PolicyFrom(
    const FileSystemStoragePathSourceConfig::ServableVersionPolicy& p, const std::string& model) {
  VersionPolicy policy;
  switch (p.policy_choice_case()) {
    case FileSystemStoragePathSourceConfig::ServableVersionPolicy::POLICY_CHOICE_NOT_SET:
      return policy;  // latest 1, TF Serving's default
    case FileSystemStoragePathSourceConfig::ServableVersionPolicy::kLatest:
      if (p.latest().num_versions() < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model '", model, "': model_version_policy latest needs num_versions >= 1"));
      }
      policy.num_latest = static_cast<int>(p.latest().num_versions());
      return policy;
    case FileSystemStoragePathSourceConfig::ServableVersionPolicy::kAll:
      policy.kind = VersionPolicy::Kind::kAll;
      return policy;
    case FileSystemStoragePathSourceConfig::ServableVersionPolicy::kSpecific:
      policy.kind = VersionPolicy::Kind::kSpecific;
      for (int64_t v : p.specific().versions()) {
        if (v < 1) {
          return absl::InvalidArgumentError(
              absl::StrCat("model '", model, "': specific version ", v, " is not positive"));
        }
        policy.specific.insert(v);
      }
      if (policy.specific.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model '", model, "': model_version_policy specific lists no versions"));
      }
      return policy;
  }
  return policy;
}

}  // namespace

absl::StatusOr<std::vector<ServedModel>> ModelsFromConfig(
    const tensorflow::serving::ModelServerConfig& config, const std::string& relative_to) {
  if (config.has_custom_model_config()) {
    return absl::InvalidArgumentError(
        "custom_model_config is not supported; use model_config_list");
  }
  std::vector<ServedModel> models;
  for (const auto& c : config.model_config_list().config()) {
    if (c.name().empty()) return absl::InvalidArgumentError("a model config has no name");
    if (c.base_path().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("model '", c.name(), "' has no base_path"));
    }
    if (!c.model_platform().empty() && c.model_platform() != "tensorflow") {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", c.name(), "': model_platform '", c.model_platform(),
                       "' is not supported (braid serves \"tensorflow\" platform exports)"));
    }
    ServedModel m;
    m.model.name = c.name();
    m.model.base_path = c.base_path();
    if (!relative_to.empty() && fs::path(m.model.base_path).is_relative()) {
      m.model.base_path = (fs::path(relative_to) / m.model.base_path).lexically_normal().string();
    }
    ASSIGN_OR_RETURN(m.model.policy, PolicyFrom(c.model_version_policy(), c.name()));
    for (const auto& [label, version] : c.version_labels()) m.labels[label] = version;
    models.push_back(std::move(m));
  }
  return models;
}

absl::StatusOr<tensorflow::serving::ModelServerConfig> ParseModelServerConfig(
    const std::string& text) {
  tensorflow::serving::ModelServerConfig config;
  RETURN_IF_ERROR(ParseTextProto(text, "the model config", &config));
  return config;
}

absl::StatusOr<std::vector<ServedModel>> ParseModelConfigFile(const std::string& path,
                                                              const std::string& text) {
  absl::StatusOr<tensorflow::serving::ModelServerConfig> config = ParseModelServerConfig(text);
  if (!config.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", config.status().message()));
  }
  absl::StatusOr<std::vector<ServedModel>> models =
      ModelsFromConfig(*config, fs::absolute(path).parent_path().string());
  if (!models.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", models.status().message()));
  }
  return models;
}

}  // namespace braid::serving
