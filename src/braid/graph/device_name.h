// Device names: "/job:ps/replica:0/task:1/device:CPU:0". Any part may be left
// out of a request ("/job:ps", "/device:CPU:1", legacy "/cpu:0"); a full name
// sets them all.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace braid {

struct DeviceName {
  std::optional<std::string> job;
  std::optional<int> replica;
  std::optional<int> task;
  std::optional<std::string> type;  // upper case: "CPU", "GPU"
  std::optional<int> id;

  // The empty string parses to a name with nothing set. Errors name the part
  // that is malformed and show the expected form.
  static absl::StatusOr<DeviceName> Parse(absl::string_view name);
  static DeviceName Full(const std::string& job, int replica, int task, const std::string& type,
                         int id);

  bool IsFull() const { return job && replica && task && type && id; }
  // True when every part set here equals the same part of `other`.
  bool Matches(const DeviceName& other) const;
  // True when some device could match both.
  bool CompatibleWith(const DeviceName& other) const;
  // Parts set in `other` override this one's.
  void MergeFrom(const DeviceName& other);
  // Canonical form of the parts that are set ("" when none).
  std::string ToString() const;
  // "/job:J/replica:R/task:T" of a full name.
  std::string TaskName() const;
  bool operator==(const DeviceName& o) const = default;
};

// Merges `inner` over `outer` (scope nesting); both may be empty.
absl::StatusOr<std::string> MergeDeviceStrings(const std::string& outer, const std::string& inner);

}  // namespace braid
