// FuseOps: the graph a session runs, with the op chains that one oneDNN
// primitive computes replaced by a fused op, as TensorFlow's grappler
// (remapper) does for its CPU kernels:
//
//   Conv2D -> BiasAdd [-> Relu]   becomes   _FusedConv2D(input, filter, bias)
//   MatMul -> BiasAdd [-> Relu]   becomes   _FusedMatMul(a, b, bias)
//   MaxPoolGrad(x, y, g) -> ReluGrad(., x)
//                                 becomes   _FusedMaxPoolGradReluGrad(x, y, g)
//
// and a max-pooling gradient whose y is MaxPool(x) (same window) becomes
// _MaxPoolGradWithWorkspace(x, y, g, ws), with relu_grad = true in place of
// _FusedMaxPoolGradReluGrad, where ws is the second output of the MaxPool,
// now _MaxPoolWithWorkspace: oneDNN's record of each window's maximum.
//
// The bias and the ReLU are then applied as the product is written, the
// backward pass of Relu -> MaxPool drops the gradients of non-positive
// maxima as it routes them, and routes them by the workspace without reading
// x again: each saves a pass over a layer's activations.
//
// A chain is fused only when nothing else can see its inner tensors: each
// inner output has exactly one consumer (the next op of the chain) and no
// control successors, and all of the chain runs on one CPU device. Training
// graphs qualify because Relu's gradient reads Relu's output, not its input,
// and the other gradients read the chain's inputs. The fused node takes the
// name, device and consumers of the chain's last op, so fetches, feeds and
// partitioning see the same names.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "braid/graph/graph.h"

namespace braid {

// A copy of `graph` (placed: nodes carry assigned devices) with every
// qualifying chain fused. Nodes keep their names, attrs and devices.
absl::StatusOr<std::unique_ptr<Graph>> FuseOps(const Graph& graph);

}  // namespace braid
