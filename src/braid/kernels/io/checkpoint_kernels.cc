// SaveShard / RestoreShard: a shard file is a sequence of TFRecord-framed
// (CRC32C-checked) braid.CheckpointEntry records, written to a temporary name,
// fsynced and renamed, so a shard is complete or absent.
#include <map>

#include "absl/strings/str_cat.h"
#include "braid/base/env.h"
#include "braid/base/record_file.h"
#include "braid/graph/ops/io_ops.h"
#include "braid/kernels/op_kernel.h"
#include "braid/kernels/state/variable_kernels.h"
#include "braid/tensor/tensor_proto.h"
#include "braid/checkpoint.pb.h"

namespace braid {
namespace {

class ShardKernel : public OpKernel {
 public:
  explicit ShardKernel(OpKernelConstruction* c) : OpKernel(c) {
    OP_ATTR(c, std::vector<std::string>, "tensor_names", names_);
    OP_ATTR(c, int64_t, "shard", shard_);
    OP_ATTR(c, int64_t, "num_shards", num_shards_);
    OP_REQUIRES(c, static_cast<int>(names_.size()) == c->node().num_inputs() - 1,
                absl::InvalidArgumentError(absl::StrCat(
                    "tensor_names has ", names_.size(), " names for ",
                    c->node().num_inputs() - 1, " variables")));
  }

 protected:
  absl::StatusOr<std::string> FileName(OpKernelContext* ctx) const {
    const Tensor& prefix = ctx->input(0);
    if (prefix.dtype() != DType::kString || prefix.NumElements() != 1) {
      return absl::InvalidArgumentError("prefix must be a string scalar");
    }
    return ops::ShardFileName(prefix.data<std::string>()[0], shard_, num_shards_);
  }

  std::vector<std::string> names_;
  int64_t shard_ = 0, num_shards_ = 1;
};

class SaveShardOp : public ShardKernel {
 public:
  using ShardKernel::ShardKernel;
  void Compute(OpKernelContext* ctx) override {
    absl::StatusOr<std::string> file = FileName(ctx);
    OP_REQUIRES_OK(ctx, file.status());
    std::vector<std::string> records;
    for (size_t i = 0; i < names_.size(); ++i) {
      auto var = LookupVariable(ctx, static_cast<int>(i) + 1);
      OP_REQUIRES_OK(ctx, var.status());
      Tensor value;
      {
        // A snapshot: later in-place updates copy first (VariableResource).
        std::lock_guard<std::mutex> lock((*var)->mu());
        OP_REQUIRES(ctx, (*var)->initialized(), UninitializedError(ctx, static_cast<int>(i) + 1));
        value = *(*var)->tensor();
      }
      braid::CheckpointEntry entry;
      entry.set_name(names_[i]);
      TensorToProto(value, entry.mutable_tensor());
      records.push_back(entry.SerializeAsString());
    }
    OP_REQUIRES_OK(ctx, WriteRecordFile(Env::Default(), *file, records));
    ctx->set_output(0, Tensor::Scalar(*file));
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("SaveShard"), SaveShardOp);

class RestoreShardOp : public ShardKernel {
 public:
  using ShardKernel::ShardKernel;
  void Compute(OpKernelContext* ctx) override {
    absl::StatusOr<std::string> file = FileName(ctx);
    OP_REQUIRES_OK(ctx, file.status());
    absl::StatusOr<std::vector<std::string>> records = ReadRecordFile(Env::Default(), *file);
    OP_REQUIRES_OK(ctx, records.status());
    std::map<std::string, braid::CheckpointEntry> entries;
    for (size_t i = 0; i < records->size(); ++i) {
      braid::CheckpointEntry e;
      OP_REQUIRES(ctx, e.ParseFromString((*records)[i]),
                  absl::DataLossError(absl::StrCat("checkpoint shard '", *file, "': record ", i,
                                                   " is not a checkpoint entry")));
      std::string name = e.name();
      entries.emplace(std::move(name), std::move(e));
    }
    for (size_t i = 0; i < names_.size(); ++i) {
      auto it = entries.find(names_[i]);
      OP_REQUIRES(ctx, it != entries.end(),
                  absl::NotFoundError(absl::StrCat("variable '", names_[i],
                                                   "' is missing from checkpoint shard '", *file,
                                                   "'")));
      absl::StatusOr<Tensor> value = TensorFromProto(it->second.tensor());
      OP_REQUIRES(ctx, value.ok(),
                  absl::DataLossError(absl::StrCat("variable '", names_[i], "' in '", *file,
                                                   "': ", value.status().message())));
      auto var = LookupVariable(ctx, static_cast<int>(i) + 1);
      OP_REQUIRES_OK(ctx, var.status());
      VariableResource& v = **var;
      OP_REQUIRES(ctx, v.dtype() == value->dtype(),
                  absl::InvalidArgumentError(absl::StrCat(
                      "variable '", names_[i], "' is ", DTypeName(v.dtype()),
                      " but the checkpoint holds ", DTypeName(value->dtype()))));
      OP_REQUIRES(ctx, v.declared_shape().IsCompatibleWith(value->shape()),
                  absl::InvalidArgumentError(absl::StrCat(
                      "variable '", names_[i], "' has shape ", v.declared_shape().DebugString(),
                      " but the checkpoint holds shape ", value->shape().DebugString())));
      std::lock_guard<std::mutex> lock(v.mu());
      *v.tensor() = *std::move(value);
    }
  }
};
BRAID_REGISTER_KERNEL(KernelDefBuilder("RestoreShard"), RestoreShardOp);

}  // namespace
}  // namespace braid
