#include "braid/distributed/rpc/tensor_chunks.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <sys/mman.h>

#include <climits>

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/tensor/tensor_proto.h"
#include "braid/worker_service.pb.h"

namespace braid::distributed::rpc_util {
namespace {

using google::protobuf::internal::WireFormatLite;

constexpr int kMetaField = rpc::RecvTensorChunk::kMetaFieldNumber;
constexpr int kDataField = rpc::RecvTensorChunk::kDataFieldNumber;

// The tag and length that start a length-delimited field.
void AppendFieldHeader(int field, size_t length, std::string* out) {
  uint64_t v = WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  for (int i = 0; i < 2; ++i, v = length) {
    while (v >= 0x80) {
      out->push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out->push_back(static_cast<char>(v));
  }
}

// Note [Prefaulting received tensors]
// A big tensor built here is fresh memory (glibc maps every allocation of
// 32 MiB and more afresh), so every 4 KiB page of it faults in on first
// write: at 64 MiB the receiving task spent more time in those 16384 page
// faults than in copying the bytes. Populating the whole buffer with one
// madvise call does the same work without a trap per page (on the machines
// measured: 64 MiB in ~20 ms instead of ~24, and ~10% more RecvTensor
// throughput at 64 MiB). Transparent huge pages (MADV_HUGEPAGE) were faster
// still on memory the system had used recently, but ten times slower on
// memory it had not (a VM whose host reclaims free guest memory): a 3 GiB
// transfer took 60% longer, so they are not used.
void PrefaultLargeTensor(const Tensor& value) {
  constexpr size_t kPage = 4096;
  if (value.TotalBytes() < (size_t{32} << 20)) return;
  const uintptr_t start = reinterpret_cast<uintptr_t>(value.raw_data());
  const uintptr_t begin = (start + kPage - 1) & ~uintptr_t{kPage - 1};
  const uintptr_t end = (start + value.TotalBytes()) & ~uintptr_t{kPage - 1};
  // Best effort: before Linux 5.14 this fails and the pages fault in as
  // they are written.
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
}

// A slice of `value`'s buffer that keeps the buffer alive until gRPC drops
// its last reference: the slice owns a copy of the tensor (sharing the
// buffer), deleted by the slice's destroy callback.
grpc::Slice SliceOfTensor(const Tensor& value, size_t offset, size_t length) {
  return grpc::Slice(
      static_cast<char*>(value.raw_data()) + offset, length,
      [](void* tensor) { delete static_cast<Tensor*>(tensor); }, new Tensor(value));
}

}  // namespace

const char kRecvTensorMethod[] = "/braid.rpc.WorkerService/RecvTensor";

int RecvTensorMethodIndex() {
  // The generated service adds its methods in the order of the .proto.
  return rpc::RecvTensorRequest::descriptor()
      ->file()
      ->FindServiceByName("WorkerService")
      ->FindMethodByName("RecvTensor")
      ->index();
}

bool WriteTensorChunks(const Tensor& value, size_t chunk_bytes,
                       const std::function<bool(const grpc::ByteBuffer&)>& write) {
  tensorflow::TensorProto meta;
  const bool flat = DTypeSize(value.dtype()) != 0;
  if (flat) {
    meta.set_dtype(static_cast<tensorflow::DataType>(value.dtype()));
    ShapeToProto(value.shape(), meta.mutable_tensor_shape());
  } else {
    TensorToProto(value, &meta);  // strings: no flat byte layout, sent whole
  }
  const size_t bytes = flat ? value.TotalBytes() : 0;
  size_t sent = 0;
  do {
    const size_t n = std::min(chunk_bytes, bytes - sent);
    std::string header;
    if (sent == 0) {
      std::string serialized = meta.SerializeAsString();
      AppendFieldHeader(kMetaField, serialized.size(), &header);
      header += serialized;
    }
    if (n > 0) AppendFieldHeader(kDataField, n, &header);
    grpc::Slice slices[2] = {grpc::Slice(header),
                             n > 0 ? SliceOfTensor(value, sent, n) : grpc::Slice()};
    if (!write(grpc::ByteBuffer(slices, n > 0 ? 2 : 1))) return false;
    sent += n;
  } while (sent < bytes);
  return true;
}

absl::Status TensorChunkReader::Add(grpc::ByteBuffer* message) {
  grpc::ProtoBufferReader stream(message);
  if (!stream.status().ok()) return Malformed(stream.status().error_message());
  google::protobuf::io::CodedInputStream in(&stream);
  while (uint32_t tag = in.ReadTag()) {
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    const bool delimited =
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    uint32_t length = 0;
    if (delimited && (field == kMetaField || field == kDataField) &&
        (!in.ReadVarint32(&length) || length > INT_MAX)) {
      return Malformed("a field length is cut off or too large");
    }
    if (field == kMetaField && delimited) {
      std::string meta;
      if (!in.ReadString(&meta, static_cast<int>(length))) return Malformed("meta is cut off");
      if (have_meta_) return Malformed("meta comes twice");
      RETURN_IF_ERROR(StartTensor(meta));
    } else if (field == kDataField && delimited) {
      if (!have_meta_) return Malformed("data comes before meta");
      if (length > value_.TotalBytes() - filled_) {
        return absl::DataLossError(absl::StrCat(what_, ": more bytes than the tensor holds (",
                                                filled_ + length, " > ", value_.TotalBytes(), ")"));
      }
      // The one copy: out of gRPC's receive slices into the tensor.
      if (!in.ReadRaw(static_cast<char*>(value_.raw_data()) + filled_, static_cast<int>(length))) {
        return Malformed("data is cut off");
      }
      filled_ += length;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return Malformed(absl::StrCat("field ", field, " is cut off"));
    }
  }
  if (!in.ConsumedEntireMessage()) return Malformed("not a RecvTensorChunk");
  return absl::OkStatus();
}

absl::StatusOr<Tensor> TensorChunkReader::Finish() {
  if (!have_meta_ || filled_ != value_.TotalBytes()) {
    return absl::DataLossError(absl::StrCat(what_, ": got ", filled_, " of ",
                                            have_meta_ ? value_.TotalBytes() : 0, " bytes",
                                            have_meta_ ? "" : " and no dtype or shape"));
  }
  return value_;
}

absl::Status TensorChunkReader::StartTensor(const std::string& meta_bytes) {
  tensorflow::TensorProto meta;
  if (!meta.ParseFromString(meta_bytes)) return Malformed("meta is not a TensorProto");
  have_meta_ = true;
  if (!meta.tensor_content().empty() || DTypeSize(static_cast<DType>(meta.dtype())) == 0) {
    ASSIGN_OR_RETURN(value_, TensorFromProto(meta));  // the whole value in one message
    filled_ = value_.TotalBytes();
  } else {
    ASSIGN_OR_RETURN(TensorShape shape, ShapeFromProto(meta.tensor_shape()));
    value_ = Tensor(static_cast<DType>(meta.dtype()), shape);
    PrefaultLargeTensor(value_);
  }
  return absl::OkStatus();
}

absl::Status TensorChunkReader::Malformed(const std::string& why) const {
  return absl::DataLossError(absl::StrCat(what_, ": malformed RecvTensorChunk (", why, ")"));
}

}  // namespace braid::distributed::rpc_util
