#include "braid/distributed/cluster_spec.h"

#include <climits>
#include <cstdlib>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "braid/base/env.h"
#include "braid/base/status_macros.h"
#include "nlohmann/json.hpp"

namespace braid::distributed {
namespace {

using Json = nlohmann::json;
using Jobs = std::map<std::string, std::vector<std::string>>;

constexpr char kAddressForm[] =
    "an address is host:port, where host is a hostname, an IPv4 address or a bracketed IPv6 "
    "address ([::1]) and port is an integer in 1..65535";

// Text from the user goes into messages escaped and cut short, so a stray
// newline or a megabyte of JSON cannot make the message unreadable.
// Quotes are kept as they are: JSON is full of them.
std::string Shorten(absl::string_view text, size_t max_len) {
  std::string out;
  for (char c : text.substr(0, max_len)) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      absl::StrAppend(&out, absl::CHexEscape(absl::string_view(&c, 1)));
    } else {
      out.push_back(c);
    }
  }
  if (text.size() > max_len) out += "...";
  return out;
}

std::string Quote(absl::string_view text, size_t max_len = 60) {
  return absl::StrCat("'", Shorten(text, max_len), "'");
}

std::string TaskName(const std::string& job, int index) {
  return absl::StrCat("/job:", job, "/replica:0/task:", index);
}

std::string JobList(const Jobs& jobs) {
  std::vector<std::string> names;
  for (const auto& [name, tasks] : jobs) names.push_back(absl::StrCat("'", name, "'"));
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

bool IsValidJobName(absl::string_view name) {
  if (name.empty() || !absl::ascii_islower(name[0])) return false;
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_') return false;
  }
  return true;
}

// Dot-separated non-empty labels of letters, digits, '-' and '_' (Kubernetes
// service names such as "tfjob-worker-0.ns.svc"); IPv4 addresses pass too.
// Whether the name resolves is left to the connection.
bool IsValidHostname(absl::string_view host) {
  if (host.empty()) return false;
  size_t label_len = 0;
  for (char c : host) {
    if (c == '.') {
      if (label_len == 0) return false;
      label_len = 0;
    } else if (absl::ascii_isalnum(c) || c == '-' || c == '_') {
      ++label_len;
    } else {
      return false;
    }
  }
  return label_len > 0;
}

// `inner` is what lies between the brackets: hex groups and colons (an
// embedded IPv4 tail allowed), optionally a %zone.
bool IsValidIpv6(absl::string_view inner) {
  absl::string_view zone;
  if (size_t pct = inner.find('%'); pct != absl::string_view::npos) {
    zone = inner.substr(pct + 1);
    inner = inner.substr(0, pct);
    if (zone.empty()) return false;
    for (char c : zone) {
      if (!absl::ascii_isalnum(c) && c != '_' && c != '-' && c != '.') return false;
    }
  }
  if (inner.find(':') == absl::string_view::npos) return false;
  for (char c : inner) {
    if (!absl::ascii_isxdigit(c) && c != ':' && c != '.') return false;
  }
  return true;
}

// Checks `address` and returns its canonical form (host lowercased, port
// without leading zeros), under which two spellings of one address compare
// equal.
absl::StatusOr<std::string> CanonicalAddress(const std::string& job, int index,
                                             const std::string& address) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("job '", job, "' task ", index, " has address ",
                                                   Quote(address), ": ", why, "; ", kAddressForm));
  };
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return bad("there is no ':port'");
  absl::string_view host = absl::string_view(address).substr(0, colon);
  absl::string_view port_text = absl::string_view(address).substr(colon + 1);
  if (host.empty()) return bad("the host is empty");
  if (host.front() == '[') {
    if (host.size() < 2 || host.back() != ']' || !IsValidIpv6(host.substr(1, host.size() - 2))) {
      return bad(absl::StrCat("host ", Quote(host), " is not a valid bracketed IPv6 address"));
    }
  } else if (host.find(':') != absl::string_view::npos) {
    return bad(absl::StrCat("host ", Quote(host), " contains ':' (an IPv6 host needs brackets)"));
  } else if (!IsValidHostname(host)) {
    return bad(absl::StrCat("host ", Quote(host), " is not a valid hostname or IPv4 address"));
  }
  if (port_text.empty()) return bad("the port is empty");
  // Digits only: SimpleAtoi would also take a sign or surrounding spaces.
  bool digits = port_text.size() <= 5;
  for (char c : port_text) digits = digits && absl::ascii_isdigit(c);
  int port = 0;
  if (!digits || !absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
    return bad(absl::StrCat("port ", Quote(port_text), " is not an integer in 1..65535"));
  }
  return absl::StrCat(absl::AsciiStrToLower(host), ":", port);
}

// Parses JSON, turning the parser's exception into a status that quotes the
// start of the input. nlohmann keeps only the last of repeated keys, which
// would silently drop a job written twice, so repeats are caught here.
absl::StatusOr<Json> ParseJson(const std::string& text, absl::string_view what) {
  std::vector<std::set<std::string>> keys_by_depth;
  std::string repeated_key;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      keys_by_depth.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      keys_by_depth.pop_back();
    } else if (event == Json::parse_event_t::key && !keys_by_depth.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!keys_by_depth.back().insert(key).second && repeated_key.empty()) repeated_key = key;
    }
    return true;
  };
  Json json;
  try {
    json = Json::parse(text, callback);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " is not valid JSON: ", Shorten(e.what(), 160), "; it begins ", Quote(text)));
  }
  if (!repeated_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has the key ", Quote(repeated_key),
                                                   " twice in one object; it begins ",
                                                   Quote(text)));
  }
  return json;
}

// The addresses of one job, from an array or from TF's older object of dense
// task index -> address.
absl::StatusOr<std::vector<std::string>> JobTasksFromJson(const std::string& job,
                                                          const Json& value) {
  std::vector<std::string> tasks;
  auto address_at = [&](int index, const Json& address) -> absl::Status {
    if (!address.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("job '", job, "' task ", index,
                                                     " has address ", Quote(address.dump()),
                                                     ", which is not a \"host:port\" string"));
    }
    tasks[index] = address.get<std::string>();
    return absl::OkStatus();
  };
  if (value.is_array()) {
    tasks.resize(value.size());
    for (size_t i = 0; i < value.size(); ++i) {
      RETURN_IF_ERROR(address_at(static_cast<int>(i), value[i]));
    }
    return tasks;
  }
  if (value.is_object()) {
    // The keys are distinct (ParseJson checks), canonical and below their
    // count, so they are exactly 0..n-1.
    tasks.resize(value.size());
    for (const auto& [key, address] : value.items()) {
      int index = -1;
      // Canonical decimal only, so "1" and "01" cannot both claim task 1.
      bool canonical = !key.empty() && (key == "0" || key[0] != '0');
      for (char c : key) canonical = canonical && absl::ascii_isdigit(c);
      if (!canonical || !absl::SimpleAtoi(key, &index) || index >= static_cast<int>(tasks.size())) {
        return absl::InvalidArgumentError(
            absl::StrCat("job '", job, "' maps task indices to addresses, but key ", Quote(key),
                         " is not a task index in 0..", tasks.size() - 1,
                         " (the indices must be 0..n-1 for ", "n tasks)"));
      }
      RETURN_IF_ERROR(address_at(index, address));
    }
    return tasks;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("job '", job, "' maps to ", Quote(value.dump()),
                   ", but a job must map to an array of \"host:port\" strings (or an object of ",
                   "task index -> address)"));
}

absl::StatusOr<ClusterSpec> ClusterFromJson(const Json& json, absl::string_view what) {
  if (!json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must be a JSON object of job name -> array of \"host:port\" addresses, not ",
        Quote(json.dump())));
  }
  Jobs jobs;
  for (const auto& [job, value] : json.items()) {
    ASSIGN_OR_RETURN(jobs[job], JobTasksFromJson(job, value));
  }
  return ClusterSpec::Create(std::move(jobs));
}

// A task index from TF_CONFIG: a non-negative integer, or a string of one,
// since TensorFlow itself applies int() to it.
absl::StatusOr<int> TaskIndexFromJson(const Json& value) {
  int index = -1;
  if (value.is_number_integer()) {
    if (value.is_number_unsigned()) {
      uint64_t u = value.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT_MAX)) index = static_cast<int>(u);
    } else {
      int64_t s = value.get<int64_t>();
      if (s >= 0 && s <= INT_MAX) index = static_cast<int>(s);
    }
  } else if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    bool digits = !text.empty() && text.size() <= 9;
    for (char c : text) digits = digits && absl::ascii_isdigit(c);
    if (digits) (void)absl::SimpleAtoi(text, &index);
  }
  if (index < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("task index ", Quote(value.dump()), " is not a non-negative integer"));
  }
  return index;
}

// Checks that `job`/`index` names a task of `cluster`; `job_label` says where
// the job came from. An evaluator outside the cluster is allowed: TensorFlow
// keeps it out, as no other task talks to it.
absl::Status CheckTask(const ClusterSpec& cluster, absl::string_view job_label,
                       const std::string& job, int index) {
  if (index < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("task index ", index, " of job '", job, "' is negative"));
  }
  if (!cluster.HasJob(job)) {
    if (job == "evaluator") return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(job_label, " ", Quote(job), " is not a job of the cluster, whose jobs are ",
                     JobList(cluster.jobs()), " (only an 'evaluator' may be outside it)"));
  }
  return cluster.TaskAddress(job, index).status();
}

}  // namespace

absl::StatusOr<ClusterSpec> ClusterSpec::Create(Jobs jobs) {
  if (jobs.empty()) {
    return absl::InvalidArgumentError("the cluster has no jobs; it needs at least one");
  }
  for (const auto& [job, tasks] : jobs) {
    if (!IsValidJobName(job)) {
      return absl::InvalidArgumentError(
          absl::StrCat("job name ", Quote(job), " is not valid; job names match [a-z][a-z0-9_]*"));
    }
    if (tasks.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("job '", job, "' has no tasks; a job needs at least one address"));
    }
  }
  if (jobs.count("master") > 0 && jobs.count("chief") > 0) {
    return absl::InvalidArgumentError(
        "the cluster has both job 'master' and job 'chief', but 'master' is the legacy name of "
        "'chief' and a cluster has at most one chief");
  }
  for (const char* job : {"chief", "master"}) {
    auto it = jobs.find(job);
    if (it != jobs.end() && it->second.size() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("job '", job, "' has ", it->second.size(),
                       " tasks, but a cluster has at most one chief"));
    }
  }
  // Canonical address -> the task that first used it.
  std::map<std::string, std::string> owners;
  for (const auto& [job, tasks] : jobs) {
    for (size_t i = 0; i < tasks.size(); ++i) {
      int index = static_cast<int>(i);
      ASSIGN_OR_RETURN(std::string canonical, CanonicalAddress(job, index, tasks[i]));
      auto [it, inserted] = owners.emplace(canonical, TaskName(job, index));
      if (!inserted) {
        return absl::InvalidArgumentError(
            absl::StrCat("address ", Quote(tasks[i]), " is used by both ", it->second, " and ",
                         TaskName(job, index), "; every task needs its own address"));
      }
    }
  }
  if (auto it = jobs.find("master"); it != jobs.end()) {
    jobs["chief"] = std::move(it->second);
    jobs.erase("master");
  }
  ClusterSpec spec;
  spec.jobs_ = std::move(jobs);
  return spec;
}

absl::StatusOr<ClusterSpec> ClusterSpec::FromJson(const std::string& json) {
  absl::string_view text = absl::StripAsciiWhitespace(json);
  if (absl::ConsumePrefix(&text, "@")) {
    std::string path(text);
    auto contents = Env::Default()->ReadFile(path);
    if (!contents.ok()) {
      return Annotate(contents.status(),
                      absl::StrCat("cannot read the cluster spec file ", Quote(path, 200), ": "));
    }
    std::string what = absl::StrCat("the cluster spec in ", Quote(path, 200));
    ASSIGN_OR_RETURN(Json parsed, ParseJson(*contents, what));
    return ClusterFromJson(parsed, what);
  }
  ASSIGN_OR_RETURN(Json parsed, ParseJson(std::string(text), "the cluster spec"));
  return ClusterFromJson(parsed, "the cluster spec");
}

int ClusterSpec::NumTasks(const std::string& job) const {
  auto it = jobs_.find(job);
  return it == jobs_.end() ? 0 : static_cast<int>(it->second.size());
}

absl::StatusOr<std::string> ClusterSpec::TaskAddress(const std::string& job, int index) const {
  auto it = jobs_.find(job);
  if (it == jobs_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "job ", Quote(job), " is not in the cluster, whose jobs are ", JobList(jobs_)));
  }
  if (index < 0 || index >= static_cast<int>(it->second.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("task index ", index, " is out of range for job '", job, "', which has ",
                     it->second.size(), it->second.size() == 1 ? " task" : " tasks"));
  }
  return it->second[index];
}

std::vector<std::string> ClusterSpec::TaskNames() const {
  std::vector<std::string> names;
  for (const auto& [job, tasks] : jobs_) {
    for (size_t i = 0; i < tasks.size(); ++i) names.push_back(TaskName(job, static_cast<int>(i)));
  }
  return names;
}

std::string ClusterSpec::ToJson() const { return Json(jobs_).dump(); }

absl::StatusOr<std::pair<std::string, int>> ClusterSpec::Chief() const {
  if (HasJob("chief")) return std::make_pair(std::string("chief"), 0);
  if (HasJob("worker")) return std::make_pair(std::string("worker"), 0);
  return absl::NotFoundError(
      absl::StrCat("the cluster has neither a 'chief' nor a 'worker' job to lead it; its jobs are ",
                   JobList(jobs_)));
}

bool TaskConfig::IsChief() const {
  return job == "chief" || (job == "worker" && index == 0 && !cluster.HasJob("chief"));
}

namespace {

// ParseTfConfig without the "TF_CONFIG: " that starts its messages.
absl::StatusOr<TaskConfig> ParseTfConfigUnprefixed(const std::string& tf_config) {
  ASSIGN_OR_RETURN(Json json, ParseJson(tf_config, "the value"));
  if (!json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the value must be a JSON object with \"cluster\" and \"task\", not ", Quote(json.dump())));
  }
  // Keys other than these (e.g. "environment": "cloud") are TensorFlow's
  // business and are ignored.
  if (!json.contains("cluster")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "there is no \"cluster\" (an object of job -> addresses); it begins ", Quote(tf_config)));
  }
  if (!json.contains("task")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "there is no \"task\" ({\"type\": job, \"index\": i}); it begins ", Quote(tf_config)));
  }
  TaskConfig config;
  ASSIGN_OR_RETURN(config.cluster, ClusterFromJson(json["cluster"], "\"cluster\""));

  const Json& task = json["task"];
  if (!task.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"task\" must be an object {\"type\": job, \"index\": i}, not ", Quote(task.dump())));
  }
  if (!task.contains("type") || !task["type"].is_string() ||
      task["type"].get_ref<const std::string&>().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"task\" needs a non-empty string \"type\" naming its job; it is ", Quote(task.dump())));
  }
  config.job = task["type"].get<std::string>();
  if (config.job == "master") config.job = "chief";
  if (task.contains("index")) {
    ASSIGN_OR_RETURN(config.index, TaskIndexFromJson(task["index"]));
  }
  RETURN_IF_ERROR(CheckTask(config.cluster, "task type", config.job, config.index));

  if (json.contains("rpc_layer")) {
    const Json& rpc_layer = json["rpc_layer"];
    // An empty string is read as "use the default", as TensorFlow does.
    if (!rpc_layer.is_string() ||
        (!rpc_layer.get_ref<const std::string&>().empty() && rpc_layer != "grpc")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rpc_layer ",
          Quote(rpc_layer.is_string() ? rpc_layer.get<std::string>() : rpc_layer.dump()),
          " is not supported; braid speaks only "
          "\"grpc\""));
    }
  }
  config.rpc_layer = "grpc";
  return config;
}

}  // namespace

absl::StatusOr<TaskConfig> ParseTfConfig(const std::string& tf_config) {
  auto config = ParseTfConfigUnprefixed(tf_config);
  if (!config.ok()) return Annotate(config.status(), "TF_CONFIG: ");
  return config;
}

absl::StatusOr<std::optional<TaskConfig>> ResolveTaskConfig(const std::string& cluster_spec,
                                                            const std::string& job_name,
                                                            int task_index) {
  if (!cluster_spec.empty()) {
    TaskConfig config;
    auto cluster = ClusterSpec::FromJson(cluster_spec);
    if (!cluster.ok()) return Annotate(cluster.status(), "--cluster_spec: ");
    config.cluster = *std::move(cluster);
    if (job_name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--cluster_spec was given without --job_name; name one of its jobs: ",
                       JobList(config.cluster.jobs())));
    }
    config.job = job_name == "master" ? "chief" : job_name;
    config.index = task_index;
    RETURN_IF_ERROR(CheckTask(config.cluster, "--job_name", config.job, config.index));
    return config;
  }
  const char* env = std::getenv("TF_CONFIG");
  if (env != nullptr && *env != '\0') {
    ASSIGN_OR_RETURN(TaskConfig config, ParseTfConfig(env));
    return config;
  }
  // A task named without a cluster would otherwise run alone without a word.
  if (!job_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--job_name ", Quote(job_name),
        " was given without --cluster_spec and TF_CONFIG is not set; give the cluster too"));
  }
  return std::optional<TaskConfig>();
}

std::string ToTfConfig(const TaskConfig& task) {
  Json json = {
      {"cluster", task.cluster.jobs()},
      {"task", {{"type", task.job}, {"index", task.index}}},
      {"rpc_layer", task.rpc_layer.empty() ? std::string("grpc") : task.rpc_layer},
  };
  return json.dump();
}

}  // namespace braid::distributed
