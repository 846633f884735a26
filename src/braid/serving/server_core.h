// The set of models a server serves, as TF Serving's ServerCore keeps it:
// one ModelManager per model, changed at run time by a new configuration
// (the re-read --model_config_file, or ModelService.HandleReloadConfigRequest),
// and the resolution of a request's model spec (name + version or label) to a
// loaded version. The REST and gRPC APIs both answer through it.
//
// Note [Version labels]
// A label ("stable", "canary") names a version of a model. A request for a
// label only ever reaches a loaded version: when a configuration points a
// label at a version that is not available yet, the label keeps answering
// with the version it pointed to before until the new one is available (and
// a label new in the configuration answers NotFound until its version is).
// So labels can be moved in the same configuration that adds the version,
// without the window of errors TF Serving has there.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/serving/model_manager.h"

namespace braid::serving {

struct ServedModel {
  ModelConfig model;
  std::map<std::string, int64_t> labels;
};

// What a request asks for: a model and at most one of version and label.
struct ModelSpec {
  std::string name;
  std::optional<int64_t> version;
  std::optional<std::string> label;
};

class ServerCore {
 public:
  explicit ServerCore(ManagerOptions options) : options_(std::move(options)) {}
  ~ServerCore();  // stops every manager

  // Makes `models` the served set: managers for new names are started,
  // removed names stopped (their versions unloaded once requests in flight
  // finish), policies and labels of kept ones updated. A kept name with a
  // new base path gets a new manager, whose versions replace the old ones
  // only once one is available. InvalidArgument (and no change) for an empty
  // or repeated name, an empty base path, a label that is empty or not a
  // valid version.
  absl::Status ApplyConfig(const std::vector<ServedModel>& models);
  std::vector<ServedModel> Config() const;

  // The manager of a model; NotFound naming the served models otherwise.
  absl::StatusOr<std::shared_ptr<ModelManager>> Model(const std::string& name) const;
  // The loaded version a request reaches (see the note on labels). NotFound:
  // unknown model, version, label; Unavailable: nothing loaded yet.
  absl::StatusOr<std::shared_ptr<const LoadedVersion>> Get(const ModelSpec& spec) const;
  // The status of the versions a request asks about: every version of the
  // model, or the one its version or label names. NotFound naming what is
  // missing (the model, the version, the label, or any version at all).
  absl::StatusOr<std::vector<VersionStatus>> Statuses(const ModelSpec& spec) const;

  // Every configured model has an available version.
  bool Ready() const;
  // Polls every model once on the caller's thread (tests).
  void PollOnce() const;

 private:
  struct Served {
    ServedModel config;
    std::shared_ptr<ModelManager> manager;
    // A manager for a changed base path, promoted once it has a version.
    std::shared_ptr<ModelManager> replacement;
    // label -> the version it last reached (Note [Version labels]).
    mutable std::map<std::string, int64_t> label_reached;
  };
  std::shared_ptr<ModelManager> StartManager(const ModelConfig& config) const;
  // Promotes a replacement that has an available version. REQUIRES: mu_.
  void PromoteReady(Served& s) const;

  const ManagerOptions options_;
  mutable std::mutex mu_;
  mutable std::map<std::string, Served> models_;  // protected by mu_
};

}  // namespace braid::serving
