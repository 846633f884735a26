#include "braid/serving/model_manager.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "braid/base/env.h"
#include "braid/base/memory_release.h"
#include "braid/serving/metrics.h"

namespace braid::serving {
namespace {

namespace fs = std::filesystem;

// A version directory's name: a positive decimal integer.
std::optional<int64_t> ParseVersion(const std::string& name) {
  if (name.empty() || name.size() > 18 || name.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  int64_t v = std::stoll(name);
  if (v < 1) return std::nullopt;
  return v;
}

}  // namespace

const char* VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kStart:
      return "START";
    case VersionState::kLoading:
      return "LOADING";
    case VersionState::kAvailable:
      return "AVAILABLE";
    case VersionState::kUnloading:
      return "UNLOADING";
    case VersionState::kEnd:
      return "END";
  }
  return "UNKNOWN";
}

ModelManager::ModelManager(ModelConfig config, ManagerOptions options)
    : config_(std::move(config)), options_(std::move(options)), policy_(config_.policy) {}

void ModelManager::SetPolicy(const VersionPolicy& policy) {
  std::lock_guard<std::mutex> lock(mu_);
  policy_ = policy;
}

ModelManager::~ModelManager() { Stop(); }

void ModelManager::Start() {
  if (poller_.joinable()) return;
  poller_ = std::thread([this] {
    // Loads are background work: below request threads in the scheduler, so
    // a load does not raise the latency of the versions serving meanwhile.
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kLoaderNice);
    std::string last_error;
    for (;;) {
      absl::Status s = PollOnce();
      // Say so once per change, not once per poll.
      std::string error = s.ok() ? "" : std::string(s.message());
      if (error != last_error && !error.empty()) {
        std::fprintf(stderr, "braid serve: model '%s': %s\n", config_.name.c_str(), error.c_str());
      }
      last_error = error;
      std::unique_lock<std::mutex> lock(stop_mu_);
      if (stop_cv_.wait_for(lock, std::chrono::duration<double>(options_.poll_seconds),
                            [this] { return stopping_; })) {
        return;
      }
    }
  });
}

void ModelManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
}

absl::StatusOr<std::vector<int64_t>> ModelManager::ScanVersions() const {
  std::error_code ec;
  fs::directory_iterator it(config_.base_path, ec);
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("cannot read base path '", config_.base_path, "': ", ec.message()));
  }
  std::vector<int64_t> versions;
  for (const auto& entry : it) {
    // Exports in progress are hidden under ".tmp-..." names.
    std::optional<int64_t> v = ParseVersion(entry.path().filename().string());
    if (v && entry.is_directory(ec)) versions.push_back(*v);
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

std::set<int64_t> ModelManager::Wanted(const std::vector<int64_t>& on_disk) const {
  std::set<int64_t> wanted;
  VersionPolicy policy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    policy = policy_;
  }
  switch (policy.kind) {
    case VersionPolicy::Kind::kLatest: {
      int n = std::max(1, policy.num_latest);
      for (auto it = on_disk.rbegin(); it != on_disk.rend() && n > 0; ++it, --n) wanted.insert(*it);
      break;
    }
    case VersionPolicy::Kind::kAll:
      wanted.insert(on_disk.begin(), on_disk.end());
      break;
    case VersionPolicy::Kind::kSpecific:
      for (int64_t v : on_disk)
        if (policy.specific.count(v) > 0) wanted.insert(v);
      break;
  }
  return wanted;
}

void ModelManager::LoadOne(int64_t version) {
  const std::string dir = (fs::path(config_.base_path) / std::to_string(version)).string();
  const int64_t start = Env::Default()->NowMicros();
  absl::StatusOr<std::unique_ptr<LoadedVersion>> loaded =
      options_.loader ? options_.loader(dir, version) : LoadVersion(dir, version, options_.session);
  const LabelValues labels = {config_.name, std::to_string(version)};
  if (loaded.ok() && options_.batching) {
    BatchingOptions batching = *options_.batching;
    batching.on_batch = [labels](int64_t size, int64_t, int64_t queue_micros) {
      Metrics().batch_size.Observe(labels, static_cast<double>(size));
      Metrics().queuing_latency.Observe(labels, static_cast<double>(queue_micros));
    };
    absl::StatusOr<std::unique_ptr<BatchingSession>> batched =
        NewBatchingSession(std::move((*loaded)->session), std::move(batching));
    if (batched.ok()) {
      (*loaded)->session = *std::move(batched);
    } else {
      loaded = batched.status();
    }
  }
  Metrics().version_events.Increment({config_.name, labels[1], loaded.ok() ? "load" : "load_failed"});
  if (loaded.ok()) {
    Metrics().load_latency.Observe(labels, (Env::Default()->NowMicros() - start) * 1e-6);
  }
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[version];
  if (loaded.ok()) {
    e.loaded = std::shared_ptr<const LoadedVersion>(std::move(*loaded));
    e.status = {version, VersionState::kAvailable, absl::OkStatus()};
    e.failures = 0;
    std::fprintf(stderr, "braid serve: model '%s' version %lld is available\n",
                 config_.name.c_str(), static_cast<long long>(version));
    return;
  }
  e.status = {version, VersionState::kEnd, loaded.status()};
  ++e.failures;
  const double backoff =
      std::min(kMaxRetrySeconds,
               options_.poll_seconds * static_cast<double>(1 << std::min(e.failures, 16)) / 2);
  e.retry_at_micros = Env::Default()->NowMicros() + static_cast<int64_t>(backoff * 1e6);
  std::fprintf(stderr,
               "braid serve: model '%s' version %lld failed to load (retry in %.0f s): %s\n",
               config_.name.c_str(), static_cast<long long>(version), backoff,
               std::string(loaded.status().message()).c_str());
}

absl::Status ModelManager::PollOnce() {
  std::lock_guard<std::mutex> poll_lock(poll_mu_);
  absl::StatusOr<std::vector<int64_t>> on_disk = ScanVersions();
  if (!on_disk.ok()) return on_disk.status();  // keep serving what is loaded
  const std::set<int64_t> wanted = Wanted(*on_disk);

  // Newest first: the version most likely to be asked for.
  for (auto it = wanted.rbegin(); it != wanted.rend(); ++it) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      Entry& e = entries_[*it];
      if (e.loaded != nullptr) continue;
      if (e.failures > 0 && Env::Default()->NowMicros() < e.retry_at_micros) continue;
      e.status = {*it, VersionState::kLoading, absl::OkStatus()};
    }
    LoadOne(*it);
  }

  std::vector<std::shared_ptr<const LoadedVersion>> released;  // freed outside the lock
  {
    std::lock_guard<std::mutex> lock(mu_);
    bool wanted_available = false;
    for (int64_t v : wanted) wanted_available |= entries_[v].loaded != nullptr;
    for (auto it = entries_.begin(); it != entries_.end();) {
      Entry& e = it->second;
      if (wanted.count(it->first) > 0) {
        ++it;
        continue;
      }
      if (e.loaded != nullptr && wanted_available) {
        released.push_back(std::move(e.loaded));
        e.loaded = nullptr;
        e.status = {it->first, VersionState::kEnd, absl::OkStatus()};
        Metrics().version_events.Increment({config_.name, std::to_string(it->first), "unload"});
        std::fprintf(stderr, "braid serve: model '%s' version %lld unloaded\n",
                     config_.name.c_str(), static_cast<long long>(it->first));
      }
      // A failed version nobody wants any more is forgotten.
      if (e.loaded == nullptr && !e.status.status.ok()) {
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!released.empty()) {
    released.clear();
    // Allocators keep freed memory for reuse; hand it back to the system so
    // a swap does not leave the old version's size behind (versions still
    // held by requests in flight are released at a later poll).
    ReleaseFreeMemory();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const LoadedVersion>> ModelManager::Get(
    std::optional<int64_t> version) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (version.has_value()) {
    auto it = entries_.find(*version);
    if (it == entries_.end() || it->second.loaded == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("model '", config_.name, "' has no version ", *version, " available"));
    }
    return it->second.loaded;
  }
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (it->second.loaded != nullptr) return it->second.loaded;
  return absl::UnavailableError(absl::StrCat("model '", config_.name,
                                             "' has no version available yet (base path '",
                                             config_.base_path, "')"));
}

std::vector<VersionStatus> ModelManager::Statuses() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<VersionStatus> out;
  for (const auto& [v, e] : entries_) out.push_back(e.status);
  return out;
}

bool ModelManager::HasAvailable() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [v, e] : entries_)
    if (e.loaded != nullptr) return true;
  return false;
}

}  // namespace braid::serving
