#include "braid/kernels/rendezvous.h"

#include "absl/strings/str_cat.h"

namespace braid {

std::string Rendezvous::CreateKey(const std::string& src_device, uint64_t src_incarnation,
                                  const std::string& dst_device, const std::string& tensor_name,
                                  int64_t frame_id, int64_t iter_id) {
  return absl::StrCat(src_device, ";", absl::Hex(src_incarnation, absl::kZeroPad16), ";",
                      dst_device, ";", tensor_name, ";", frame_id, ":", iter_id);
}

}  // namespace braid
