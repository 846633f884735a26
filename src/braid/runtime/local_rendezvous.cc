#include "braid/runtime/local_rendezvous.h"

namespace braid {

absl::Status LocalRendezvous::Send(const std::string& key, const Tensor& value) {
  DoneCallback waiter;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!abort_status_.ok()) return abort_status_;
    Slot& slot = table_[key];
    if (slot.waiters.empty()) {
      slot.values.push_back(value);
      return absl::OkStatus();
    }
    waiter = std::move(slot.waiters.front());
    slot.waiters.pop_front();
  }
  waiter(absl::OkStatus(), value);
  return absl::OkStatus();
}

void LocalRendezvous::RecvAsync(const std::string& key, DoneCallback done) {
  Tensor value;
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    status = abort_status_;
    if (status.ok()) {
      Slot& slot = table_[key];
      if (slot.values.empty()) {
        slot.waiters.push_back(std::move(done));
        return;
      }
      value = std::move(slot.values.front());
      slot.values.pop_front();
    }
  }
  done(status, value);
}

bool LocalRendezvous::Idle() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, slot] : table_)
    if (!slot.values.empty() || !slot.waiters.empty()) return false;
  return true;
}

void LocalRendezvous::StartAbort(const absl::Status& status) {
  std::vector<DoneCallback> waiters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!abort_status_.ok()) return;
    abort_status_ = status;
    for (auto& [key, slot] : table_)
      for (auto& w : slot.waiters) waiters.push_back(std::move(w));
    table_.clear();
  }
  for (auto& w : waiters) w(status, Tensor());
}

}  // namespace braid
