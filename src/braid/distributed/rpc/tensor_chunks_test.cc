#include "braid/distributed/rpc/tensor_chunks.h"

#include <cstring>
#include <numeric>
#include <vector>

#include "braid/tensor/tensor_proto.h"
#include "braid/worker_service.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace braid::distributed::rpc_util {
namespace {

using ::testing::HasSubstr;

std::vector<grpc::ByteBuffer> Encode(const Tensor& value, size_t chunk_bytes) {
  std::vector<grpc::ByteBuffer> messages;
  EXPECT_TRUE(WriteTensorChunks(value, chunk_bytes, [&](const grpc::ByteBuffer& m) {
    messages.push_back(m);
    return true;
  }));
  return messages;
}

std::string Flatten(const grpc::ByteBuffer& message) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(message.Dump(&slices).ok());
  std::string s;
  for (const grpc::Slice& slice : slices)
    s.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  return s;
}

// `bytes` as a message split into slices of `piece` bytes, so that tags and
// lengths straddle slice boundaries.
grpc::ByteBuffer InPieces(const std::string& bytes, size_t piece) {
  std::vector<grpc::Slice> slices;
  for (size_t i = 0; i < bytes.size(); i += piece) {
    slices.emplace_back(bytes.data() + i, std::min(piece, bytes.size() - i));
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

Tensor Counting(int64_t n) {
  Tensor t(DType::kFloat, TensorShape{n});
  std::iota(t.data<float>(), t.data<float>() + n, 0.0f);
  return t;
}

absl::StatusOr<Tensor> Decode(std::vector<grpc::ByteBuffer> messages) {
  TensorChunkReader reader("RecvTensor 'k'");
  for (grpc::ByteBuffer& m : messages) {
    absl::Status s = reader.Add(&m);
    if (!s.ok()) return s;
  }
  return reader.Finish();
}

TEST(TensorChunksTest, GeneratedParserReadsWhatWeWrite) {
  Tensor value = Counting(2500);  // 10000 bytes: chunks of 4096, 4096, 1808
  std::vector<grpc::ByteBuffer> messages = Encode(value, 4096);
  ASSERT_EQ(messages.size(), 3u);
  std::string data;
  for (size_t i = 0; i < messages.size(); ++i) {
    rpc::RecvTensorChunk chunk;
    ASSERT_TRUE(chunk.ParseFromString(Flatten(messages[i])));
    EXPECT_EQ(chunk.has_meta(), i == 0);
    data += chunk.data();
    if (i == 0) {
      EXPECT_EQ(chunk.meta().dtype(), tensorflow::DT_FLOAT);
      EXPECT_EQ(chunk.meta().tensor_shape().dim(0).size(), 2500);
    }
  }
  ASSERT_EQ(data.size(), value.TotalBytes());
  EXPECT_EQ(std::memcmp(data.data(), value.raw_data(), data.size()), 0);
}

TEST(TensorChunksTest, ReadsWhatTheGeneratedSerializerWrites) {
  Tensor value = Counting(3000);
  std::vector<grpc::ByteBuffer> messages;
  const char* bytes = static_cast<const char*>(value.raw_data());
  for (size_t sent = 0; sent < value.TotalBytes(); sent += 5000) {
    rpc::RecvTensorChunk chunk;
    if (sent == 0) {
      chunk.mutable_meta()->set_dtype(tensorflow::DT_FLOAT);
      ShapeToProto(value.shape(), chunk.mutable_meta()->mutable_tensor_shape());
    }
    chunk.set_data(bytes + sent, std::min<size_t>(5000, value.TotalBytes() - sent));
    messages.push_back(InPieces(chunk.SerializeAsString(), 7));
  }
  absl::StatusOr<Tensor> got = Decode(std::move(messages));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(TensorsEqual(*got, value));
}

TEST(TensorChunksTest, RoundTripsStringsAndEmptyTensors) {
  Tensor strings = Tensor::FromVector<std::string>({"a", "", "ccc"});
  absl::StatusOr<Tensor> got = Decode(Encode(strings, 4096));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(TensorsEqual(*got, strings));

  Tensor empty(DType::kFloat, TensorShape{0, 3});
  std::vector<grpc::ByteBuffer> messages = Encode(empty, 4096);
  EXPECT_EQ(messages.size(), 1u);
  got = Decode(std::move(messages));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->shape(), empty.shape());
}

TEST(TensorChunksTest, MessagesKeepTheTensorAlive) {
  std::vector<grpc::ByteBuffer> messages;
  {
    Tensor value = Counting(4096);
    messages = Encode(value, 1000);
  }  // only the messages hold the buffer now
  absl::StatusOr<Tensor> got = Decode(std::move(messages));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(TensorsEqual(*got, Counting(4096)));
}

TEST(TensorChunksTest, TooManyTooFewOrGarbledBytesAreDataLoss) {
  std::vector<grpc::ByteBuffer> messages = Encode(Counting(100), 160);
  ASSERT_EQ(messages.size(), 3u);
  std::vector<grpc::ByteBuffer> extra = messages;
  extra.push_back(messages[1]);
  absl::Status s = Decode(extra).status();
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("more bytes than the tensor holds"));

  messages.pop_back();
  s = Decode(messages).status();
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("got 320 of 400 bytes"));

  s = Decode({InPieces("\x12\x10only4", 3)}).status();  // data before meta, cut off
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("RecvTensor 'k'"));

  s = Decode({}).status();
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
}

}  // namespace
}  // namespace braid::distributed::rpc_util
