// Ports nobody listens on, for starting local clusters (the launcher, tests,
// benchmarks): the kernel picks them when a socket binds port 0.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace braid {

// `n` distinct free ports on `host` (an address of this machine). The probe
// sockets stay open until all are chosen, so the ports differ; they are closed
// on return, so another process may take one before the caller binds it (rare
// with the kernel's ephemeral range). InvalidArgument for a host that is not
// an address; Unavailable when no port can be bound.
absl::StatusOr<std::vector<int>> FreePorts(const std::string& host, int n);

}  // namespace braid
