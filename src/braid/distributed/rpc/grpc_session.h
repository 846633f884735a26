// A Session whose master is a remote task: the client sends its graph to the
// MasterService at `target` ("grpc://host:port" or "host:port"), again
// whenever it has grown, and runs steps there. This is how a client outside
// the cluster (in-graph replication) drives it.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "braid/runtime/session.h"

namespace braid::distributed {

absl::StatusOr<std::unique_ptr<Session>> NewGrpcSession(const std::string& target,
                                                        std::shared_ptr<Graph> graph,
                                                        absl::Duration timeout = absl::Seconds(60));

}  // namespace braid::distributed
