// The workers of a cluster reached over gRPC: one channel per task, made on
// first use. Every call carries a deadline of `timeout`.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "braid/distributed/cluster_spec.h"
#include "braid/distributed/worker_interface.h"

namespace braid::distributed {

class GrpcWorkerCache : public WorkerCache {
 public:
  GrpcWorkerCache(ClusterSpec cluster, absl::Duration timeout)
      : cluster_(std::move(cluster)), timeout_(timeout) {}
  absl::StatusOr<WorkerInterface*> GetWorker(const std::string& task) override;

 private:
  const ClusterSpec cluster_;
  const absl::Duration timeout_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<WorkerInterface>> workers_;  // protected by mu_
};

}  // namespace braid::distributed
