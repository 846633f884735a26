// Every run the dashboard knows, and the problems met reading them: what the
// logdir watcher fills and the HTTP API reads. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "braid/board/run_data.h"

namespace braid::board {

// Something wrong with one file (damage, truncation) or with the logdir.
struct Problem {
  std::string run;   // empty for the logdir itself
  std::string file;  // the path, or empty
  uint64_t offset = 0;
  std::string message;
};

// Counters of the loading, for /data/status.
struct LoadStats {
  int64_t reloads = 0;           // completed scans of the logdir
  int64_t files = 0;             // event files being followed
  int64_t bytes_read = 0;        // of complete records, over all files
  int64_t events = 0;            // events read, over all files
  double last_reload_ms = 0;     // how long the latest scan took
  bool first_load_done = false;  // every file had been read to its end once
};

class RunStore {
 public:
  explicit RunStore(SamplingLimits limits = {}) : limits_(limits) {}

  // The run of that name, created empty when new.
  std::shared_ptr<Run> GetOrAdd(const std::string& name);
  // nullptr when there is no such run.
  std::shared_ptr<const Run> Find(const std::string& name) const;
  // Sorted by name.
  std::vector<std::string> RunNames() const;
  std::vector<std::shared_ptr<const Run>> Runs() const;

  // Problems are keyed (by file path, say) so that a problem found again on
  // every scan is held once, and cleared when it goes away. SetProblem
  // returns true when the problem is new or its message changed.
  bool SetProblem(const std::string& key, Problem problem);
  void ClearProblem(const std::string& key);
  // Problems of files, then the undecodable values of each run.
  std::vector<Problem> Problems() const;

  // Runs fn(LoadStats&) under the store's lock.
  void UpdateStats(const std::function<void(LoadStats&)>& fn);
  LoadStats stats() const;

 private:
  const SamplingLimits limits_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Run>> runs_;  // protected by mu_
  std::map<std::string, Problem> problems_;           // protected by mu_
  LoadStats stats_;                                   // protected by mu_
};

}  // namespace braid::board
