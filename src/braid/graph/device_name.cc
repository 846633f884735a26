#include "braid/graph/device_name.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace braid {
namespace {

absl::Status Malformed(absl::string_view name, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "malformed device name '", name, "': ", why,
      "; expected e.g. /job:worker/replica:0/task:1/device:CPU:0 (any part may be omitted)"));
}

// Parses an id that may be "*" (unset).
bool ParseId(absl::string_view s, std::optional<int>* out) {
  if (s == "*") {
    out->reset();
    return true;
  }
  int v;
  if (!absl::SimpleAtoi(s, &v) || v < 0) return false;
  *out = v;
  return true;
}

}  // namespace

absl::StatusOr<DeviceName> DeviceName::Parse(absl::string_view name) {
  DeviceName d;
  if (name.empty()) return d;
  if (name[0] != '/') return Malformed(name, "it must start with '/'");
  std::vector<absl::string_view> parts = absl::StrSplit(name.substr(1), '/');
  for (absl::string_view part : parts) {
    std::vector<absl::string_view> kv = absl::StrSplit(part, ':');
    std::string key = absl::AsciiStrToLower(kv[0]);
    if (key == "job" && kv.size() == 2 && !kv[1].empty()) {
      d.job = std::string(kv[1]);
    } else if (key == "replica" && kv.size() == 2) {
      if (!ParseId(kv[1], &d.replica)) return Malformed(name, "bad replica index");
    } else if (key == "task" && kv.size() == 2) {
      if (!ParseId(kv[1], &d.task)) return Malformed(name, "bad task index");
    } else if (key == "device" && kv.size() == 3) {
      d.type = absl::AsciiStrToUpper(kv[1]);
      if (!ParseId(kv[2], &d.id)) return Malformed(name, "bad device index");
    } else if ((key == "cpu" || key == "gpu") && kv.size() == 2) {  // legacy "/cpu:0"
      d.type = absl::AsciiStrToUpper(key);
      if (!ParseId(kv[1], &d.id)) return Malformed(name, "bad device index");
    } else {
      return Malformed(name, absl::StrCat("unknown part '", part, "'"));
    }
  }
  return d;
}

DeviceName DeviceName::Full(const std::string& job, int replica, int task,
                            const std::string& type, int id) {
  DeviceName d;
  d.job = job;
  d.replica = replica;
  d.task = task;
  d.type = type;
  d.id = id;
  return d;
}

bool DeviceName::Matches(const DeviceName& o) const {
  if (job && (!o.job || *job != *o.job)) return false;
  if (replica && (!o.replica || *replica != *o.replica)) return false;
  if (task && (!o.task || *task != *o.task)) return false;
  if (type && (!o.type || *type != *o.type)) return false;
  if (id && (!o.id || *id != *o.id)) return false;
  return true;
}

bool DeviceName::CompatibleWith(const DeviceName& o) const {
  if (job && o.job && *job != *o.job) return false;
  if (replica && o.replica && *replica != *o.replica) return false;
  if (task && o.task && *task != *o.task) return false;
  if (type && o.type && *type != *o.type) return false;
  if (id && o.id && *id != *o.id) return false;
  return true;
}

void DeviceName::MergeFrom(const DeviceName& o) {
  if (o.job) job = o.job;
  if (o.replica) replica = o.replica;
  if (o.task) task = o.task;
  if (o.type) type = o.type;
  if (o.id) id = o.id;
}

std::string DeviceName::ToString() const {
  std::string s;
  if (job) absl::StrAppend(&s, "/job:", *job);
  if (replica) absl::StrAppend(&s, "/replica:", *replica);
  if (task) absl::StrAppend(&s, "/task:", *task);
  if (type) absl::StrAppend(&s, "/device:", *type, ":", id ? absl::StrCat(*id) : "*");
  return s;
}

std::string DeviceName::TaskName() const {
  return absl::StrCat("/job:", job.value_or("?"), "/replica:", replica.value_or(0),
                      "/task:", task.value_or(0));
}

absl::StatusOr<std::string> MergeDeviceStrings(const std::string& outer, const std::string& inner) {
  absl::StatusOr<DeviceName> o = DeviceName::Parse(outer);
  if (!o.ok()) return o.status();
  absl::StatusOr<DeviceName> i = DeviceName::Parse(inner);
  if (!i.ok()) return i.status();
  o->MergeFrom(*i);
  return o->ToString();
}

}  // namespace braid
