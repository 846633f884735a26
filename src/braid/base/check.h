// CHECK-style assertions for programmer invariants (never for bad user input,
// which gets an absl::Status).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace braid::internal {
[[noreturn]] inline void CheckFailed(const char* file, int line, const char* cond) {
  std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, cond);
  std::abort();
}
}  // namespace braid::internal

#define BRAID_CHECK(cond) \
  ((cond) ? (void)0 : ::braid::internal::CheckFailed(__FILE__, __LINE__, #cond))
