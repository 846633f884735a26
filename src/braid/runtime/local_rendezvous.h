// In-process rendezvous for one step: a table of sent values and waiting
// receivers. Thread-safe.
#pragma once

#include <deque>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "braid/kernels/rendezvous.h"

namespace braid {

class LocalRendezvous : public Rendezvous {
 public:
  absl::Status Send(const std::string& key, const Tensor& value) override;
  void RecvAsync(const std::string& key, DoneCallback done) override;
  void StartAbort(const absl::Status& status) override;
  // True when no sent value waits to be received and no receiver waits.
  bool Idle();

 private:
  // Per key: values sent and not yet received, or receivers still waiting.
  struct Slot {
    std::deque<Tensor> values;
    std::deque<DoneCallback> waiters;
  };
  std::mutex mu_;
  absl::flat_hash_map<std::string, Slot> table_;  // protected by mu_
  absl::Status abort_status_;                      // protected by mu_
};

}  // namespace braid
