// Follows a log directory: every directory under it (itself included) that
// holds event files (`*tfevents*`) is a run named by its path relative to the
// logdir ("." for the logdir itself). Each scan finds new runs and files and
// reads only what was appended to each file since the last scan
// (EventFileReader keeps the offsets); damage and truncation become problems
// in the RunStore and a line on stderr, never a crash.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "braid/base/env.h"
#include "braid/board/run_store.h"
#include "braid/summary/event_reader.h"

namespace braid::board {

struct WatcherOptions {
  // How often the background thread scans.
  absl::Duration reload_interval = absl::Seconds(2);
  // RequestReload starts a scan at most this often.
  absl::Duration min_request_interval = absl::Milliseconds(500);
  // Runs read in parallel by a scan; 0: one per core.
  int threads = 0;
  // Bytes of one file read under its run's lock at a time, so that readers
  // of a run being loaded wait for one chunk at most.
  size_t chunk_bytes = size_t{4} << 20;
  // Where new problems are told (one line each); default: stderr.
  std::function<void(const std::string&)> report;
};

class LogdirWatcher {
 public:
  // `env` and `store` must outlive the watcher.
  LogdirWatcher(Env* env, std::string logdir, RunStore* store, WatcherOptions options = {});
  // Stops the background thread.
  ~LogdirWatcher();
  LogdirWatcher(const LogdirWatcher&) = delete;
  LogdirWatcher& operator=(const LogdirWatcher&) = delete;

  // One scan. Thread-safe: concurrent calls run one after the other.
  void Reload();
  // Scans now and then every reload_interval on a background thread.
  void Start();
  // Stops the background thread, interrupting a long scan between chunks.
  void Stop();
  // Asks the background thread for a scan soon (at most one per
  // min_request_interval).
  void RequestReload();

 private:
  struct TrackedFile {
    std::string run;
    std::unique_ptr<summary::EventFileReader> reader;
    uint64_t partial_size = 0;  // file size when a partial record was last seen
    int partial_scans = 0;      // scans in a row that saw that same partial record
  };

  // Adds the event files under the logdir not tracked yet; returns false
  // when the logdir cannot be listed.
  bool Discover();
  // Reads what was appended to the files of one run.
  void ReadRun(const std::string& run, const std::vector<TrackedFile*>& files);
  void CheckFile(TrackedFile* file, const absl::Status& status);
  void Report(const std::string& line);
  void Loop();

  Env* const env_;
  const std::string logdir_;
  RunStore* const store_;
  const WatcherOptions options_;

  std::mutex reload_mu_;                      // serializes Reload
  std::map<std::string, TrackedFile> files_;  // by path; protected by reload_mu_

  std::mutex mu_;
  std::condition_variable cv_;
  bool reload_requested_ = false;  // protected by mu_
  absl::Time last_reload_end_;     // protected by mu_
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace braid::board
