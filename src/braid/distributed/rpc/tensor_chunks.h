// RecvTensor's response stream without protobuf copies of the tensor bytes.
//
// Note [RecvTensor without copies]
// A tensor travels as a stream of braid.rpc.RecvTensorChunk messages. Built
// as protobuf objects, every 4 MiB chunk was copied four times in user space:
// into the message's `data` string, into gRPC's serialized buffer, out of
// gRPC's receive slices into a parsed string, and from there into the tensor.
// Here the same bytes on the wire are produced and consumed by hand:
// - the sender hands gRPC a message of two slices, a few bytes of protobuf
//   framing (tag, length, and `meta` in the first chunk) and a slice that
//   points into the tensor's buffer; the slice holds a reference to the
//   tensor, so the buffer lives until gRPC has written it to the socket;
// - the receiver walks the protobuf fields of each message straight out of
//   gRPC's receive slices and copies `data` once, into the tensor it builds
//   (a big one prefaulted first: Note [Prefaulting received tensors] in
//   tensor_chunks.cc).
// The wire format is unchanged: either end interoperates with a peer that
// uses the generated message classes. To read and write ByteBuffers on the
// one method, both ends use the gRPC classes the generated code itself uses
// (grpc::internal::ClientReaderFactory, SplitServerStreamingHandler), as
// TensorFlow's hand-written services do. Measured effect: docs/performance.md,
// "RecvTensor over loopback".
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "braid/tensor/tensor.h"

namespace braid::distributed::rpc_util {

// "/braid.rpc.WorkerService/RecvTensor", and its index among the service's
// methods (what grpc::Service::MarkMethod* take).
extern const char kRecvTensorMethod[];
int RecvTensorMethodIndex();

// Sends `value` as RecvTensorChunk messages carrying at most `chunk_bytes`
// of `data` each (the first also carries `meta`: dtype and shape, or the
// whole value for dtypes without a flat byte layout, such as strings).
// `write` sends one message and returns false when the receiver went away;
// so does this, at once.
bool WriteTensorChunks(const Tensor& value, size_t chunk_bytes,
                       const std::function<bool(const grpc::ByteBuffer&)>& write);

// Builds a tensor from the RecvTensorChunk messages of one RecvTensor call.
class TensorChunkReader {
 public:
  // `what` names the transfer in errors ("RecvTensor 'key' from task ...").
  explicit TensorChunkReader(std::string what) : what_(std::move(what)) {}

  // Takes in the next message. DataLoss when it is malformed, or carries
  // more bytes than the tensor holds.
  absl::Status Add(grpc::ByteBuffer* message);
  // The tensor, once every byte arrived; DataLoss otherwise.
  absl::StatusOr<Tensor> Finish();

 private:
  absl::Status StartTensor(const std::string& meta_bytes);
  absl::Status Malformed(const std::string& why) const;

  const std::string what_;
  bool have_meta_ = false;
  Tensor value_;
  size_t filled_ = 0;
};

}  // namespace braid::distributed::rpc_util
