// One served model: polls its base path for version directories, loads the
// versions its policy wants and unloads the others, without ever leaving the
// model with nothing to serve.
//
// Note [Availability-preserving transitions]
// A poll first loads the wanted versions that are not loaded (each fully, warm-up
// included, before it takes traffic), then unloads loaded versions that are
// no longer wanted, but only if some wanted version is then available: when
// a new version fails to load, or the directory of the only loaded version
// disappears, the old one keeps serving. Unloading drops the manager's
// reference; requests in flight hold their own, and the version is freed
// when the last one finishes. A version that failed to load is shown with its
// error (state END) and retried at later polls, backing off from one poll
// period to at most kMaxRetrySeconds.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/serving/batching_session.h"
#include "braid/serving/loader.h"

namespace braid::serving {

struct VersionPolicy {
  enum class Kind { kLatest, kAll, kSpecific };
  Kind kind = Kind::kLatest;
  int num_latest = 1;          // kLatest
  std::set<int64_t> specific;  // kSpecific
};

struct ModelConfig {
  std::string name;
  std::string base_path;
  VersionPolicy policy;
};

// TF Serving's ManagerState names.
enum class VersionState { kStart, kLoading, kAvailable, kUnloading, kEnd };
const char* VersionStateName(VersionState state);

struct VersionStatus {
  int64_t version = 0;
  VersionState state = VersionState::kStart;
  absl::Status status;  // the load error of a version that failed
};

struct ManagerOptions {
  double poll_seconds = 1;
  SessionOptions session;
  // When set, every loaded version's session batches concurrent requests
  // (batching_session.h); each batch is recorded in Metrics().
  std::optional<BatchingOptions> batching;
  // How a version is loaded (tests substitute failures and delays).
  std::function<absl::StatusOr<std::unique_ptr<LoadedVersion>>(const std::string& dir,
                                                               int64_t version)>
      loader;
};

// Thread-safe. Loading happens on the manager's own polling thread (Start) or
// on the caller's (PollOnce, for tests), never on request threads.
class ModelManager {
 public:
  static constexpr double kMaxRetrySeconds = 30;
  // The nice value of the polling (loading) thread.
  static constexpr int kLoaderNice = 10;

  ModelManager(ModelConfig config, ManagerOptions options);
  ~ModelManager();  // stops polling

  // The name and base path are fixed; the policy is the one at construction
  // until SetPolicy changes it (see policy()).
  const ModelConfig& config() const { return config_; }
  // Takes effect at the next poll, with the same availability rule.
  void SetPolicy(const VersionPolicy& policy);

  // Starts the polling thread (a first poll runs at once), at nice
  // kLoaderNice.
  void Start();
  void Stop();
  // One poll: scan the base path, load and unload per the policy. Returns
  // the scan's error (the base path is unreadable); load errors go to the
  // versions' statuses.
  absl::Status PollOnce();

  // The newest available version, or `version`. NotFound when that version
  // is not available (or never was), Unavailable when no version is.
  absl::StatusOr<std::shared_ptr<const LoadedVersion>> Get(std::optional<int64_t> version) const;
  // Every version seen, oldest first (unloaded ones stay, as END).
  std::vector<VersionStatus> Statuses() const;
  bool HasAvailable() const;

 private:
  struct Entry {
    VersionStatus status;
    std::shared_ptr<const LoadedVersion> loaded;
    int failures = 0;
    int64_t retry_at_micros = 0;
  };
  absl::StatusOr<std::vector<int64_t>> ScanVersions() const;
  std::set<int64_t> Wanted(const std::vector<int64_t>& on_disk) const;
  void LoadOne(int64_t version);

  const ModelConfig config_;
  const ManagerOptions options_;

  mutable std::mutex mu_;
  std::map<int64_t, Entry> entries_;  // protected by mu_
  VersionPolicy policy_;              // protected by mu_

  std::mutex poll_mu_;  // one poll at a time
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // protected by stop_mu_
  std::thread poller_;
};

}  // namespace braid::serving
