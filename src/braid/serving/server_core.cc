#include "braid/serving/server_core.h"

#include <cstdio>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace braid::serving {
namespace {

bool SamePolicy(const VersionPolicy& a, const VersionPolicy& b) {
  return a.kind == b.kind && a.num_latest == b.num_latest && a.specific == b.specific;
}

// Stops a manager that is no longer served on a thread of its own: stopping
// waits for a load in progress, which must not hold up requests or the caller.
void RetireManager(std::shared_ptr<ModelManager> manager) {
  if (manager == nullptr) return;
  std::thread([m = std::move(manager)]() mutable {
    m->Stop();
    m.reset();
  }).detach();
}

}  // namespace

ServerCore::~ServerCore() {
  std::map<std::string, Served> models;
  {
    std::lock_guard<std::mutex> lock(mu_);
    models.swap(models_);
  }
  for (auto& [name, s] : models) {
    if (s.replacement) s.replacement->Stop();
    s.manager->Stop();
  }
}

std::shared_ptr<ModelManager> ServerCore::StartManager(const ModelConfig& config) const {
  auto manager = std::make_shared<ModelManager>(config, options_);
  manager->Start();
  return manager;
}

absl::Status ServerCore::ApplyConfig(const std::vector<ServedModel>& models) {
  std::set<std::string> names;
  for (const ServedModel& m : models) {
    const std::string& name = m.model.name;
    if (name.empty()) return absl::InvalidArgumentError("a model config has no name");
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", name, "' is configured more than once"));
    }
    if (m.model.base_path.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("model '", name, "' has no base_path"));
    }
    for (const auto& [label, version] : m.labels) {
      if (label.empty() || version < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model '", name, "': version label '", label, "' -> ", version,
            " is not a non-empty label for a positive version"));
      }
    }
  }
  std::vector<std::shared_ptr<ModelManager>> retired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = models_.begin(); it != models_.end();) {
      if (names.count(it->first) > 0) {
        ++it;
        continue;
      }
      std::fprintf(stderr, "braid serve: model '%s' is no longer configured; unloading it\n",
                   it->first.c_str());
      retired.push_back(std::move(it->second.manager));
      retired.push_back(std::move(it->second.replacement));
      it = models_.erase(it);
    }
    for (const ServedModel& m : models) {
      auto it = models_.find(m.model.name);
      if (it == models_.end()) {
        Served s{m, StartManager(m.model), nullptr, {}};
        models_.emplace(m.model.name, std::move(s));
        continue;
      }
      Served& s = it->second;
      const ModelConfig& current =
          s.replacement ? s.replacement->config() : s.manager->config();
      if (current.base_path != m.model.base_path) {
        retired.push_back(std::move(s.replacement));
        s.replacement = StartManager(m.model);
      } else {
        (s.replacement ? s.replacement : s.manager)->SetPolicy(m.model.policy);
      }
      if (!SamePolicy(s.config.model.policy, m.model.policy) ||
          s.config.model.base_path != m.model.base_path) {
        std::fprintf(stderr, "braid serve: model '%s': new base path or version policy\n",
                     m.model.name.c_str());
      }
      s.config = m;
    }
  }
  for (auto& m : retired) RetireManager(std::move(m));
  return absl::OkStatus();
}

std::vector<ServedModel> ServerCore::Config() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ServedModel> out;
  for (const auto& [name, s] : models_) out.push_back(s.config);
  return out;
}

void ServerCore::PromoteReady(Served& s) const {
  if (s.replacement == nullptr || !s.replacement->HasAvailable()) return;
  RetireManager(std::move(s.manager));
  s.manager = std::move(s.replacement);
  s.replacement = nullptr;
  s.label_reached.clear();
}

absl::StatusOr<std::shared_ptr<ModelManager>> ServerCore::Model(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) {
    std::vector<std::string> names;
    for (const auto& [n, s] : models_) names.push_back(n);
    return absl::NotFoundError(absl::StrCat("model '", name, "' is not served here (models: ",
                                            absl::StrJoin(names, ", "), ")"));
  }
  PromoteReady(it->second);
  return it->second.manager;
}

absl::StatusOr<std::shared_ptr<const LoadedVersion>> ServerCore::Get(const ModelSpec& spec) const {
  absl::StatusOr<std::shared_ptr<ModelManager>> manager = Model(spec.name);
  if (!manager.ok()) return manager.status();
  if (!spec.label) return (*manager)->Get(spec.version);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(spec.name);
  if (it == models_.end()) return absl::NotFoundError(absl::StrCat("model '", spec.name, "' is gone"));
  const Served& s = it->second;
  auto label = s.config.labels.find(*spec.label);
  if (label == s.config.labels.end()) {
    return absl::NotFoundError(
        absl::StrCat("model '", spec.name, "' has no version label '", *spec.label, "'"));
  }
  auto wanted = (*manager)->Get(label->second);
  if (wanted.ok()) {
    s.label_reached[*spec.label] = label->second;
    return wanted;
  }
  auto before = s.label_reached.find(*spec.label);
  if (before != s.label_reached.end()) {
    auto previous = (*manager)->Get(before->second);
    if (previous.ok()) return previous;
  }
  return absl::NotFoundError(absl::StrCat("version label '", *spec.label, "' of model '",
                                          spec.name, "' points to version ", label->second,
                                          ", which is not available"));
}

absl::StatusOr<std::vector<VersionStatus>> ServerCore::Statuses(const ModelSpec& spec) const {
  absl::StatusOr<std::shared_ptr<ModelManager>> model = Model(spec.name);
  if (!model.ok()) return model.status();
  std::vector<VersionStatus> statuses = (*model)->Statuses();
  std::optional<int64_t> version = spec.version;
  if (spec.label) {
    absl::StatusOr<std::shared_ptr<const LoadedVersion>> v = Get(spec);
    if (!v.ok()) return v.status();
    version = (*v)->version;
  }
  if (!version) {
    if (statuses.empty()) {
      return absl::NotFoundError(absl::StrCat("Could not find any versions of model '", spec.name,
                                              "' under '", (*model)->config().base_path, "'"));
    }
    return statuses;
  }
  std::vector<VersionStatus> one;
  for (const VersionStatus& s : statuses)
    if (s.version == *version) one.push_back(s);
  if (one.empty()) {
    return absl::NotFoundError(absl::StrCat("model '", spec.name, "' has no version ", *version));
  }
  return one;
}

bool ServerCore::Ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, s] : models_) {
    PromoteReady(s);
    if (!s.manager->HasAvailable()) return false;
  }
  return true;
}

void ServerCore::PollOnce() const {
  std::vector<std::shared_ptr<ModelManager>> managers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, s] : models_) {
      managers.push_back(s.manager);
      if (s.replacement) managers.push_back(s.replacement);
    }
  }
  for (auto& m : managers) (void)m->PollOnce();
}

}  // namespace braid::serving
