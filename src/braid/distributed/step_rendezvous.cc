#include "braid/distributed/step_rendezvous.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "braid/graph/device_name.h"

namespace braid::distributed {

std::string SourceTaskOfKey(const std::string& key) {
  size_t semi = key.find(';');
  if (semi == std::string::npos) return "";
  absl::StatusOr<DeviceName> device = DeviceName::Parse(key.substr(0, semi));
  if (!device.ok() || !device->IsFull()) return "";
  return device->TaskName();
}

absl::Status StepRendezvous::Send(const std::string& key, const Tensor& value) {
  return local_.Send(key, value);
}

void StepRendezvous::RecvAsync(const std::string& key, DoneCallback done) {
  std::string source = SourceTaskOfKey(key);
  if (source.empty()) {
    done(absl::InternalError(absl::StrCat("malformed rendezvous key '", key, "'")), Tensor());
    return;
  }
  if (source == task_) {
    local_.RecvAsync(key, std::move(done));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!abort_status_.ok()) {
      done(abort_status_, Tensor());
      return;
    }
  }
  absl::StatusOr<WorkerInterface*> worker = workers_->GetWorker(source);
  if (!worker.ok()) {
    done(worker.status(), Tensor());
    return;
  }
  // The RPC blocks until the sender has produced the value, so it gets a
  // thread of its own rather than one of the executor's.
  std::thread([self = shared_from_this(), w = *worker, key, done = std::move(done)] {
    absl::StatusOr<Tensor> value = w->RecvTensor(self->step_id_, key);
    absl::Status abort;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      abort = self->abort_status_;
    }
    if (!abort.ok()) {
      done(abort, Tensor());
    } else if (!value.ok()) {
      done(value.status(), Tensor());
    } else {
      done(absl::OkStatus(), *value);
    }
  }).detach();
}

void StepRendezvous::StartAbort(const absl::Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (abort_status_.ok()) abort_status_ = status;
  }
  local_.StartAbort(status);
}

}  // namespace braid::distributed
