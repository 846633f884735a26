#include "braid/graph/ops/io_ops.h"

#include "absl/strings/str_format.h"
#include "braid/graph/op_def.h"
#include "braid/graph/ops/shape_fns.h"

namespace braid {
namespace {

BRAID_REGISTER_OP(OpDefBuilder("SaveShard")
                      .Input("prefix: string")
                      .Input("handles: N * resource")
                      .Output("filename: string")
                      .Attr("N", int64_t{1})
                      .RequiredAttr("tensor_names")
                      .Attr("shard", int64_t{0})
                      .Attr("num_shards", int64_t{1})
                      .SetIsStateful()
                      .SetShapeFn(ScalarShape)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("RestoreShard")
                      .Input("prefix: string")
                      .Input("handles: N * resource")
                      .Attr("N", int64_t{1})
                      .RequiredAttr("tensor_names")
                      .Attr("shard", int64_t{0})
                      .Attr("num_shards", int64_t{1})
                      .SetIsStateful());

std::vector<Input> Inputs(Input prefix, const std::vector<Output>& handles) {
  std::vector<Input> in = {prefix};
  in.insert(in.end(), handles.begin(), handles.end());
  return in;
}

}  // namespace

namespace ops {

std::string ShardFileName(const std::string& prefix, int64_t shard, int64_t num_shards) {
  return absl::StrFormat("%s.shard-%05d-of-%05d", prefix, shard, num_shards);
}

Output SaveShard(const Scope& scope, Input prefix, const std::vector<Output>& handles,
                 const std::vector<std::string>& names, int64_t shard, int64_t num_shards) {
  return scope.AddOp("SaveShard", Inputs(prefix, handles),
                     {{"tensor_names", names}, {"shard", shard}, {"num_shards", num_shards}});
}

Node* RestoreShard(const Scope& scope, Input prefix, const std::vector<Output>& handles,
                   const std::vector<std::string>& names, int64_t shard, int64_t num_shards) {
  return scope.AddNode("RestoreShard", Inputs(prefix, handles),
                       {{"tensor_names", names}, {"shard", shard}, {"num_shards", num_shards}});
}

}  // namespace ops
}  // namespace braid
