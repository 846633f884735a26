#include "braid/graph/ops/sync_ops.h"

#include "braid/graph/op_def.h"
#include "braid/graph/ops/shape_fns.h"

namespace braid {
namespace {

absl::Status GradientShapeFromHandle(InferenceContext& c) {
  const Node& handle = *c.node().input(0).node;
  c.set_output(0, handle.op() == "GradientAccumulator" ? handle.attr<TensorShape>("shape")
                                                       : TensorShape::UnknownRank());
  return absl::OkStatus();
}

absl::Status NoOutputs(InferenceContext&) { return absl::OkStatus(); }

absl::Status ClocksShapeFromHandle(InferenceContext& c) {
  const Node& handle = *c.node().input(0).node;
  c.set_output(0, handle.op() == "StalenessClock"
                      ? TensorShape{handle.attr<int64_t>("num_replicas")}
                      : TensorShape::UnknownRank());
  return absl::OkStatus();
}

BRAID_REGISTER_OP(OpDefBuilder("GradientAccumulator")
                      .Output("handle: resource")
                      .Attr("shape", TensorShape::UnknownRank())
                      .Attr("shared_name", std::string())
                      .SetIsStateful()
                      .SetShapeFn(ScalarShape)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("AccumulatorApplyGradient")
                      .Input("handle: resource")
                      .Input("local_step: int64")
                      .Input("gradient: float")
                      .SetIsStateful()
                      .SetShapeFn(NoOutputs)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("AccumulatorTakeGradient")
                      .Input("handle: resource")
                      .Output("average: float")
                      .SetIsStateful()
                      .SetShapeFn(GradientShapeFromHandle)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("SyncBarrier")
                      .Output("handle: resource")
                      .Attr("total_replicas", int64_t{1})
                      .Attr("shared_name", std::string())
                      .SetIsStateful()
                      .SetShapeFn(ScalarShape)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("SyncBarrierArrive")
                      .Input("handle: resource")
                      .Input("local_step: int64")
                      .Input("replica: int32")
                      .SetIsStateful()
                      .SetShapeFn(NoOutputs)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("SyncBarrierWait")
                      .Input("handle: resource")
                      .Input("num_required: int32")
                      .Output("step: int64")
                      .Attr("timeout_ms", int64_t{0})
                      .SetIsStateful()
                      .SetShapeFn(ScalarShape)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("SyncBarrierClose")
                      .Input("handle: resource")
                      .SetIsStateful()
                      .SetShapeFn(NoOutputs)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("SyncBarrierNumDropped")
                      .Input("handle: resource")
                      .Output("dropped: int64")
                      .SetIsStateful()
                      .SetShapeFn(ScalarShape)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("SyncStepNotice")
                      .Output("handle: resource")
                      .Attr("shared_name", std::string())
                      .SetIsStateful()
                      .SetShapeFn(ScalarShape)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("SyncStepPublish")
                      .Input("handle: resource")
                      .Input("step: int64")
                      .SetIsStateful()
                      .SetShapeFn(NoOutputs)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("SyncStepClose")
                      .Input("handle: resource")
                      .SetIsStateful()
                      .SetShapeFn(NoOutputs)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("SyncStepWaitNewer")
                      .Input("handle: resource")
                      .Input("local_step: int64")
                      .Output("step: int64")
                      .Attr("timeout_ms", int64_t{0})
                      .SetIsStateful()
                      .SetShapeFn(ScalarShape)
                      .NoGradient());

BRAID_REGISTER_OP(OpDefBuilder("StalenessClock")
                      .Output("handle: resource")
                      .Attr("num_replicas", int64_t{1})
                      .Attr("shared_name", std::string())
                      .SetIsStateful()
                      .SetShapeFn(ScalarShape)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("StalenessClockAdvance")
                      .Input("handle: resource")
                      .Input("replica: int32")
                      .Output("lead: int64")
                      .Attr("max_staleness", int64_t{0})
                      .Attr("timeout_ms", int64_t{0})
                      .SetIsStateful()
                      .SetShapeFn(ScalarShape)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("StalenessClockFinish")
                      .Input("handle: resource")
                      .Input("replica: int32")
                      .SetIsStateful()
                      .SetShapeFn(NoOutputs)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("StalenessClockClose")
                      .Input("handle: resource")
                      .SetIsStateful()
                      .SetShapeFn(NoOutputs)
                      .NoGradient());
BRAID_REGISTER_OP(OpDefBuilder("StalenessClockValues")
                      .Input("handle: resource")
                      .Output("clocks: int64")
                      .SetIsStateful()
                      .SetShapeFn(ClocksShapeFromHandle)
                      .NoGradient());

}  // namespace

namespace ops {

Output GradientAccumulator(const Scope& scope, const std::string& shared_name,
                           const TensorShape& shape) {
  return scope.AddOp("GradientAccumulator", {}, {{"shape", shape}, {"shared_name", shared_name}});
}
Node* AccumulatorApplyGradient(const Scope& scope, Input handle, Input local_step, Input gradient) {
  return scope.AddNode("AccumulatorApplyGradient", {handle, local_step, gradient});
}
Output AccumulatorTakeGradient(const Scope& scope, Input handle) {
  return scope.AddOp("AccumulatorTakeGradient", {handle});
}
Output SyncBarrier(const Scope& scope, const std::string& shared_name, int64_t total_replicas) {
  return scope.AddOp("SyncBarrier", {},
                     {{"total_replicas", total_replicas}, {"shared_name", shared_name}});
}
Node* SyncBarrierArrive(const Scope& scope, Input handle, Input local_step, Input replica) {
  return scope.AddNode("SyncBarrierArrive", {handle, local_step, replica});
}
Output SyncBarrierWait(const Scope& scope, Input handle, Input num_required, int64_t timeout_ms) {
  return scope.AddOp("SyncBarrierWait", {handle, num_required}, {{"timeout_ms", timeout_ms}});
}
Node* SyncBarrierClose(const Scope& scope, Input handle) {
  return scope.AddNode("SyncBarrierClose", {handle});
}
Output SyncBarrierNumDropped(const Scope& scope, Input handle) {
  return scope.AddOp("SyncBarrierNumDropped", {handle});
}
Output SyncStepNotice(const Scope& scope, const std::string& shared_name) {
  return scope.AddOp("SyncStepNotice", {}, {{"shared_name", shared_name}});
}
Node* SyncStepPublish(const Scope& scope, Input handle, Input step) {
  return scope.AddNode("SyncStepPublish", {handle, step});
}
Node* SyncStepClose(const Scope& scope, Input handle) {
  return scope.AddNode("SyncStepClose", {handle});
}
Output SyncStepWaitNewer(const Scope& scope, Input handle, Input local_step, int64_t timeout_ms) {
  return scope.AddOp("SyncStepWaitNewer", {handle, local_step}, {{"timeout_ms", timeout_ms}});
}

Output StalenessClock(const Scope& scope, const std::string& shared_name, int64_t num_replicas) {
  return scope.AddOp("StalenessClock", {},
                     {{"num_replicas", num_replicas}, {"shared_name", shared_name}});
}
Output StalenessClockAdvance(const Scope& scope, Input handle, Input replica, int64_t max_staleness,
                             int64_t timeout_ms) {
  return scope.AddOp("StalenessClockAdvance", {handle, replica},
                     {{"max_staleness", max_staleness}, {"timeout_ms", timeout_ms}});
}
Node* StalenessClockFinish(const Scope& scope, Input handle, Input replica) {
  return scope.AddNode("StalenessClockFinish", {handle, replica});
}
Node* StalenessClockClose(const Scope& scope, Input handle) {
  return scope.AddNode("StalenessClockClose", {handle});
}
Output StalenessClockValues(const Scope& scope, Input handle) {
  return scope.AddOp("StalenessClockValues", {handle});
}

}  // namespace ops
}  // namespace braid
