// The cluster a task belongs to, as distributed TensorFlow describes it: jobs
// ("ps", "worker", "chief", "evaluator", or any name) of ordered tasks, each a
// "host:port" address. Read from JSON ({"ps": ["h:2222"], "worker": [...]}),
// from TF_CONFIG ({"cluster": {...}, "task": {"type": "worker", "index": 0},
// "rpc_layer": "grpc"}), or built in code.
//
// Rules (every violation is an InvalidArgument naming the job, index and
// value): job names are [a-z][a-z0-9_]*; addresses are host:port with a
// port in 1..65535; no address appears twice; at most one chief ("master" is
// read as the legacy name of "chief"); a task named by TF_CONFIG must exist
// in the cluster, except an evaluator, which TensorFlow keeps out of it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace braid::distributed {

class ClusterSpec {
 public:
  ClusterSpec() = default;
  // Validates; see the rules above.
  static absl::StatusOr<ClusterSpec> Create(std::map<std::string, std::vector<std::string>> jobs);
  // `json` is an object of job name -> array of addresses. When it starts with
  // '@' the rest is a path to a file holding that JSON.
  static absl::StatusOr<ClusterSpec> FromJson(const std::string& json);

  const std::map<std::string, std::vector<std::string>>& jobs() const { return jobs_; }
  bool HasJob(const std::string& job) const { return jobs_.count(job) > 0; }
  int NumTasks(const std::string& job) const;
  // The address of task `index` of `job`; NotFound / InvalidArgument when the
  // job does not exist or the index is out of range, naming both.
  absl::StatusOr<std::string> TaskAddress(const std::string& job, int index) const;
  // "/job:J/replica:0/task:T" for every task, jobs in name order.
  std::vector<std::string> TaskNames() const;
  // The JSON object form (round-trips through FromJson).
  std::string ToJson() const;
  // The chief task: job "chief" task 0 when there is one, else worker 0.
  // NotFound when there is neither.
  absl::StatusOr<std::pair<std::string, int>> Chief() const;

 private:
  std::map<std::string, std::vector<std::string>> jobs_;
};

// Who this process is within the cluster.
struct TaskConfig {
  ClusterSpec cluster;
  std::string job;  // "chief", "worker", "ps", "evaluator", ...
  int index = 0;
  std::string rpc_layer = "grpc";

  bool IsChief() const;  // the chief, or worker 0 when the cluster has no chief
};

// Parses a TF_CONFIG value. "master" in the cluster or as the task type is
// read as "chief". An evaluator task need not appear in the cluster.
absl::StatusOr<TaskConfig> ParseTfConfig(const std::string& tf_config);

// The task from flags (--cluster_spec, --job_name, --task_index) when
// `cluster_spec` is non-empty (flags then win over TF_CONFIG), else from the
// TF_CONFIG environment variable; nullopt when neither is set (a
// single-process run). A --job_name with neither is an error, not a silent
// single-process run.
absl::StatusOr<std::optional<TaskConfig>> ResolveTaskConfig(const std::string& cluster_spec,
                                                            const std::string& job_name,
                                                            int task_index);

// The TF_CONFIG value for `task` (what a launcher passes to each process).
std::string ToTfConfig(const TaskConfig& task);

}  // namespace braid::distributed
