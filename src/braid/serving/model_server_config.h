// TF Serving's model configuration (tensorflow.serving.ModelServerConfig): the
// --model_config_file in protobuf text format, and the config of
// ModelService.HandleReloadConfigRequest, both turned into the models a
// ServerCore serves.
//
//   model_config_list {
//     config {
//       name: "fmnist"  base_path: "/models/fmnist"  model_platform: "tensorflow"
//       model_version_policy { specific { versions: 3 versions: 4 } }
//       version_labels { key: "stable" value: 3 }
//     }
//   }
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/serving/server_core.h"
#include "tensorflow_serving/config/model_server_config.pb.h"

namespace braid::serving {

// InvalidArgument naming the model and field for: a custom_model_config, a
// model_platform other than "tensorflow" (or empty), an empty name or base
// path, a latest policy asking for 0 versions, a specific policy without
// versions. A relative base path is taken relative to `relative_to` when set.
absl::StatusOr<std::vector<ServedModel>> ModelsFromConfig(
    const tensorflow::serving::ModelServerConfig& config, const std::string& relative_to = "");

// Parses the text format; InvalidArgument with the parser's line and column.
absl::StatusOr<tensorflow::serving::ModelServerConfig> ParseModelServerConfig(
    const std::string& text);

// The models of `text`, the contents of the config file at `path`: errors
// start with the path; relative base paths are relative to its directory.
absl::StatusOr<std::vector<ServedModel>> ParseModelConfigFile(const std::string& path,
                                                              const std::string& text);

}  // namespace braid::serving
