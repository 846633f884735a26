// The partitioner splits a placed graph into one graph per device. Every data
// edge between devices becomes a _Send on the producer's device and a _Recv on
// the consumer's, keyed (Rendezvous::CreateKey) by
//   src device; src incarnation; dst device; tensor name; frame:iteration
// A control edge between devices becomes a _Send/_Recv of a dummy scalar.
// One _Send/_Recv pair serves all consumers of a tensor on one device.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "braid/graph/graph.h"

namespace braid {

struct PartitionOptions {
  // The incarnation number of a device (distinguishes a restarted process).
  std::function<uint64_t(const std::string& device)> incarnation;
};

// REQUIRES: every node has an assigned device.
absl::StatusOr<std::map<std::string, std::unique_ptr<Graph>>> PartitionGraph(
    const Graph& graph, const PartitionOptions& options);

// A copy of `node` for another graph, with its inputs replaced by `inputs`
// and control inputs by `control_inputs`.
NodeSpec CopyNodeSpec(const Node& node, std::vector<Output> inputs,
                      std::vector<Node*> control_inputs);

}  // namespace braid
