// The rendezvous of one step on one task. Values this task's partitions send
// wait in a local table until a partition here or a RecvTensor call from
// another task takes them; a Recv whose key names a device of another task
// fetches the value from that task (pull, as TensorFlow's RPC rendezvous).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "braid/distributed/worker_interface.h"
#include "braid/runtime/local_rendezvous.h"

namespace braid::distributed {

class StepRendezvous : public Rendezvous, public std::enable_shared_from_this<StepRendezvous> {
 public:
  // `task` is this task ("/job:ps/replica:0/task:0"); `workers` reaches the
  // others and must outlive every Recv in flight.
  StepRendezvous(int64_t step_id, std::string task, WorkerCache* workers)
      : step_id_(step_id), task_(std::move(task)), workers_(workers) {}

  absl::Status Send(const std::string& key, const Tensor& value) override;
  void RecvAsync(const std::string& key, DoneCallback done) override;
  void StartAbort(const absl::Status& status) override;

  // Takes a value sent here, for another task's RecvTensor.
  void RecvLocalAsync(const std::string& key, DoneCallback done) {
    local_.RecvAsync(key, std::move(done));
  }
  // No value waits to be taken and no local receiver waits.
  bool Idle() { return local_.Idle(); }
  bool Aborted() {
    std::lock_guard<std::mutex> lock(mu_);
    return !abort_status_.ok();
  }

 private:
  const int64_t step_id_;
  const std::string task_;
  WorkerCache* const workers_;
  LocalRendezvous local_;
  std::mutex mu_;
  absl::Status abort_status_;  // protected by mu_
};

// "/job:ps/replica:0/task:0" of a rendezvous key's source device; empty when
// the key is malformed.
std::string SourceTaskOfKey(const std::string& key);

}  // namespace braid::distributed
