#include "braid/board/logdir_watcher.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "braid/base/thread_pool.h"

namespace braid::board {
namespace {

namespace fs = std::filesystem;

// Scans in a row that must see the same partial last record before it is
// reported: a writer mid-flush completes it by the next scan.
constexpr int kPartialScansBeforeReport = 2;

// The run of the files in `dir`: its path relative to the logdir, "." for
// the logdir itself.
std::string RunName(const fs::path& dir, const fs::path& root) {
  fs::path relative = dir.lexically_relative(root);
  return relative.empty() ? std::string(1, '.') : relative.string();
}

}  // namespace

LogdirWatcher::LogdirWatcher(Env* env, std::string logdir, RunStore* store, WatcherOptions options)
    : env_(env),
      logdir_(fs::path(logdir).lexically_normal().string()),
      store_(store),
      options_(std::move(options)) {}

LogdirWatcher::~LogdirWatcher() { Stop(); }

void LogdirWatcher::Report(const std::string& line) {
  if (options_.report) {
    options_.report(line);
  } else {
    std::fprintf(stderr, "braid board: %s\n", line.c_str());
  }
}

bool LogdirWatcher::Discover() {
  std::error_code ec;
  const fs::path root(logdir_);
  if (!fs::is_directory(root, ec)) {
    if (store_->SetProblem("logdir", {"", logdir_, 0,
                                      absl::StrCat("the logdir '", logdir_,
                                                   "' is not a directory (waiting for it)")})) {
      Report(absl::StrCat("the logdir '", logdir_, "' is not a directory (waiting for it)"));
    }
    return false;
  }
  store_->ClearProblem("logdir");
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    std::error_code file_ec;
    if (!entry.is_regular_file(file_ec)) continue;
    const std::string name = entry.path().filename().string();
    if (!absl::StrContains(name, "tfevents")) continue;
    const std::string path = entry.path().string();
    if (files_.count(path)) continue;
    TrackedFile file;
    file.run = RunName(entry.path().parent_path(), root);
    file.reader = std::make_unique<summary::EventFileReader>(env_, path);
    store_->GetOrAdd(file.run);
    files_.emplace(path, std::move(file));
  }
  // A directory that vanished mid-walk is no reason to stop; the next scan
  // sees the tree as it is then.
  return true;
}

void LogdirWatcher::CheckFile(TrackedFile* file, const absl::Status& status) {
  summary::EventFileReader& reader = *file->reader;
  const std::string& path = reader.path();
  if (!status.ok()) {
    if (absl::IsNotFound(status)) return;  // removed; its data stays shown
    if (store_->SetProblem(path,
                           {file->run, path, reader.offset(), std::string(status.message())})) {
      Report(absl::StrCat("run '", file->run, "': ", status.message(),
                          absl::IsDataLoss(status) ? "; read up to there" : ""));
    }
    return;
  }
  if (reader.pending_bytes() == 0 || !reader.caught_up()) {
    file->partial_scans = 0;
    store_->ClearProblem(path);
    return;
  }
  // A partial record at the end: a writer mid-flush, or a file cut short.
  // Reported once it has not changed for a few scans.
  if (reader.file_size() == file->partial_size) {
    ++file->partial_scans;
  } else {
    file->partial_size = reader.file_size();
    file->partial_scans = 1;
  }
  if (file->partial_scans < kPartialScansBeforeReport) return;
  std::string message = absl::StrCat("'", path, "': record at byte offset ", reader.offset(),
                                     ": truncated (the last ", reader.pending_bytes(),
                                     " bytes are a partial record; read up to it, waiting for "
                                     "the rest)");
  if (store_->SetProblem(path, {file->run, path, reader.offset(), message})) {
    Report(absl::StrCat("run '", file->run, "': ", message));
  }
}

void LogdirWatcher::ReadRun(const std::string& run_name, const std::vector<TrackedFile*>& files) {
  std::shared_ptr<Run> run = store_->GetOrAdd(run_name);
  for (TrackedFile* file : files) {
    summary::EventFileReader& reader = *file->reader;
    absl::Status status;
    do {
      const uint64_t offset = reader.offset();
      const int64_t records = reader.records_read();
      status = run->Write([&](RunData& data) {
        return reader.ReadNew([&](const tensorflow::Event& e) { data.AddEvent(e); },
                              options_.chunk_bytes);
      });
      store_->UpdateStats([&](LoadStats& s) {
        s.bytes_read += static_cast<int64_t>(reader.offset() - offset);
        s.events += reader.records_read() - records;
      });
    } while (status.ok() && !reader.caught_up() && !stopping_);
    CheckFile(file, status);
  }
}

void LogdirWatcher::Reload() {
  std::lock_guard lock(reload_mu_);
  const absl::Time start = absl::Now();
  const bool listed = Discover();
  // Files of a run in name order: event file names start with the time of
  // their creation, so older files are read first.
  std::map<std::string, std::vector<TrackedFile*>> by_run;
  for (auto& [path, file] : files_) by_run[file.run].push_back(&file);
  std::vector<const std::pair<const std::string, std::vector<TrackedFile*>>*> work;
  for (const auto& entry : by_run) work.push_back(&entry);

  int threads = options_.threads > 0 ? options_.threads : NumSchedulableCores();
  threads = std::max(1, std::min<int>(threads, static_cast<int>(work.size())));
  std::atomic<size_t> next{0};
  auto drain = [&] {
    for (size_t i; (i = next++) < work.size() && !stopping_;)
      ReadRun(work[i]->first, work[i]->second);
  };
  std::vector<std::thread> helpers;
  for (int t = 1; t < threads; ++t) helpers.emplace_back(drain);
  drain();
  for (std::thread& t : helpers) t.join();

  const double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
  const int64_t tracked = static_cast<int64_t>(files_.size());
  store_->UpdateStats([&](LoadStats& s) {
    ++s.reloads;
    s.files = tracked;
    s.last_reload_ms = ms;
    if (listed && !stopping_) s.first_load_done = true;
  });
}

void LogdirWatcher::Loop() {
  while (!stopping_) {
    Reload();
    std::unique_lock lock(mu_);
    last_reload_end_ = absl::Now();
    cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.reload_interval),
                 [&] { return stopping_ || reload_requested_; });
    if (stopping_) break;
    if (reload_requested_) {
      // At most one requested scan per min_request_interval.
      const absl::Duration wait = options_.min_request_interval - (absl::Now() - last_reload_end_);
      if (wait > absl::ZeroDuration()) {
        cv_.wait_for(lock, absl::ToChronoNanoseconds(wait), [&] { return stopping_.load(); });
      }
      reload_requested_ = false;
    }
  }
}

void LogdirWatcher::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void LogdirWatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LogdirWatcher::RequestReload() {
  {
    std::lock_guard lock(mu_);
    reload_requested_ = true;
  }
  cv_.notify_all();
}

}  // namespace braid::board
