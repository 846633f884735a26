// Rendezvous: where a _Send leaves a tensor and the matching _Recv picks it
// up. Keys name the edge and the step:
//   src_device;src_incarnation_hex;dst_device;tensor_name;frame_id:iter_id
// The local implementation is a table (runtime/); a remote one fetches over RPC.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "braid/tensor/tensor.h"

namespace braid {

class Rendezvous {
 public:
  using DoneCallback = std::function<void(const absl::Status&, const Tensor&)>;
  virtual ~Rendezvous() = default;

  static std::string CreateKey(const std::string& src_device, uint64_t src_incarnation,
                               const std::string& dst_device, const std::string& tensor_name,
                               int64_t frame_id = 0, int64_t iter_id = 0);

  virtual absl::Status Send(const std::string& key, const Tensor& value) = 0;
  // Calls `done` once the value for `key` is there (perhaps at once), or with
  // the abort status.
  virtual void RecvAsync(const std::string& key, DoneCallback done) = 0;
  // Fails every pending and future Recv with `status` (a step that failed).
  virtual void StartAbort(const absl::Status& status) = 0;
};

}  // namespace braid
