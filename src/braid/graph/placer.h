// The placer gives every node of a graph a full device name.
//
// Rules, in order:
//  - nodes joined by a resource edge (a variable handle and every op that
//    reads or updates it) or by a `_class: loc:@name` attr form a colocation
//    group and share one device; conflicting requests in a group are an error
//    naming both nodes;
//  - a group's merged request is completed from the default device (its
//    unspecified parts), falling back to the request alone when that matches
//    nothing; the first matching device whose type has kernels for every
//    member wins;
//  - `pinned` devices (stateful nodes placed by an earlier run) are kept.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "braid/graph/graph.h"

namespace braid {

struct PlacerOptions {
  // Full names of the devices that exist, in preference order.
  std::vector<std::string> devices;
  // Where nodes without a request go (may be partial).
  std::string default_device;
  // Whether a node has a kernel on a device type ("CPU").
  std::function<bool(const Node&, const std::string& device_type)> supports;
  // node name -> device, kept from an earlier placement.
  std::map<std::string, std::string> pinned;
};

absl::Status PlaceGraph(Graph* graph, const PlacerOptions& options);

}  // namespace braid
