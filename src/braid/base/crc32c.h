// CRC32C (Castagnoli), as TFRecord and braid's checkpoints frame records.
// Uses the SSE4.2 crc32 instruction when the CPU has it.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace braid::crc32c {

// The CRC of `data` continuing from `crc` (0 to start).
uint32_t Extend(uint32_t crc, absl::string_view data);
inline uint32_t Value(absl::string_view data) { return Extend(0, data); }

// TFRecord stores CRCs masked, so that a CRC of data containing CRCs stays
// well distributed: rotate right by 15 bits and add a constant.
constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

// Exposed for tests: the two implementations agree.
uint32_t ExtendPortable(uint32_t crc, absl::string_view data);
bool HardwareAvailable();

}  // namespace braid::crc32c
