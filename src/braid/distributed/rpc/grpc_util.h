// What every gRPC piece of braid shares: status conversion and the channel
// and server settings that keep big tensors and dead peers from biting.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace braid::distributed::rpc_util {

// RecvTensor streams raw tensor bytes in chunks of this size: big enough to
// amortize per-message costs, small enough that gRPC never copies a huge
// message (DESIGN.md measured one unary message collapsing past 1 MiB).
constexpr size_t kTensorChunkBytes = 4 << 20;

// The limit on one message (RunGraph feeds and fetches, graphs), set
// explicitly on both ends instead of gRPC's 4 MB default; protobuf's own
// 2 GB ceiling is the real cap, and tensors sent between tasks stream past it.
constexpr int kMaxMessageBytes = 2147483647;

absl::Status FromGrpc(const grpc::Status& s, const std::string& peer);
grpc::Status ToGrpc(const absl::Status& s);

// Channel settings: message limits above, reconnects within a second of a
// restarted peer listening again (gRPC would back off for up to 2 minutes),
// and the address re-resolved at once after a failed connect (by default
// gRPC waits, which delayed every session opened before its tasks listened).
grpc::ChannelArguments ChannelArgs();
void ConfigureServer(grpc::ServerBuilder* builder);

// A client context whose deadline is `timeout` from now.
void SetDeadline(grpc::ClientContext* context, absl::Duration timeout);

}  // namespace braid::distributed::rpc_util
