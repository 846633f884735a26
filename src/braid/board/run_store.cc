#include "braid/board/run_store.h"

#include "absl/strings/str_cat.h"

namespace braid::board {

std::shared_ptr<Run> RunStore::GetOrAdd(const std::string& name) {
  std::lock_guard lock(mu_);
  std::shared_ptr<Run>& run = runs_[name];
  if (!run) run = std::make_shared<Run>(name, limits_);
  return run;
}

std::shared_ptr<const Run> RunStore::Find(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = runs_.find(name);
  return it == runs_.end() ? nullptr : it->second;
}

std::vector<std::string> RunStore::RunNames() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, run] : runs_) names.push_back(name);
  return names;
}

std::vector<std::shared_ptr<const Run>> RunStore::Runs() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const Run>> runs;
  for (const auto& [name, run] : runs_) runs.push_back(run);
  return runs;
}

bool RunStore::SetProblem(const std::string& key, Problem problem) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = problems_.try_emplace(key, problem);
  if (inserted) return true;
  const bool changed = it->second.message != problem.message;
  it->second = std::move(problem);
  return changed;
}

void RunStore::ClearProblem(const std::string& key) {
  std::lock_guard lock(mu_);
  problems_.erase(key);
}

std::vector<Problem> RunStore::Problems() const {
  std::vector<Problem> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, p] : problems_) out.push_back(p);
  }
  for (const std::shared_ptr<const Run>& run : Runs()) {
    run->Read([&](const RunData& d) {
      if (d.bad_values() == 0) return;
      out.push_back({run->name(), "", 0,
                     absl::StrCat(d.bad_values(), " summary value(s) could not be read; latest: ",
                                  d.last_bad_value())});
    });
  }
  return out;
}

void RunStore::UpdateStats(const std::function<void(LoadStats&)>& fn) {
  std::lock_guard lock(mu_);
  fn(stats_);
}

LoadStats RunStore::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace braid::board
