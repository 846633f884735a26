// Test-only helpers for the summary tests: fresh directories and a plain
// event-file reader (TFRecord framing checked record by record).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "braid/base/env.h"
#include "braid/base/record_file.h"
#include "tensorflow/core/util/event.pb.h"

namespace braid::summary::testing {

// An empty directory unique to this test and process.
inline std::string FreshDir(const std::string& name) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                              ("summary_" + std::string(info->test_suite_name()) + "_" +
                               info->name() + "_" + name + "." + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// The files in `dir` whose names contain "tfevents", as TensorBoard finds them.
inline std::vector<std::string> EventFiles(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().find("tfevents") != std::string::npos) {
      files.push_back(entry.path().string());
    }
  }
  return files;
}

struct EventFileContents {
  std::vector<tensorflow::Event> events;
  absl::Status damage;    // the first record that did not read (OK: none)
  size_t good_bytes = 0;  // the bytes of the whole records read
};

inline EventFileContents ParseEvents(const std::string& bytes, const std::string& path) {
  EventFileContents out;
  size_t offset = 0;
  while (offset < bytes.size()) {
    absl::string_view data;
    absl::Status s = ParseRecord(bytes, path, &offset, &data);
    if (!s.ok()) {
      out.damage = s;
      break;
    }
    tensorflow::Event event;
    if (!event.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
      out.damage = absl::DataLossError("record does not parse as an Event");
      break;
    }
    out.events.push_back(std::move(event));
    out.good_bytes = offset;
  }
  return out;
}

inline EventFileContents ReadEvents(const std::string& path) {
  absl::StatusOr<std::string> bytes = Env::Default()->ReadFile(path);
  if (!bytes.ok()) {
    EventFileContents out;
    out.damage = bytes.status();
    return out;
  }
  return ParseEvents(*bytes, path);
}

}  // namespace braid::summary::testing
