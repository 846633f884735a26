// What every session does before it partitions: keep node placement stable
// as the graph grows, check feeds, and cut the graph down to one step's
// signature. LocalSession and the distributed MasterSession share these.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/graph/graph.h"
#include "braid/graph/placer.h"
#include "braid/tensor/tensor.h"

namespace braid {

// Places a graph that keeps growing: nodes added since the last call are
// placed, and stateful nodes keep the device they got first (their state
// lives there). Not thread-safe.
class IncrementalPlacer {
 public:
  // `options.pinned` is managed here; the rest is used as given.
  explicit IncrementalPlacer(PlacerOptions options) : options_(std::move(options)) {}
  absl::Status PlaceIfGrown(Graph* graph);
  // Forgets every placement (devices changed); the next call places anew.
  void Reset() {
    placed_nodes_ = 0;
    options_.pinned.clear();
  }

 private:
  PlacerOptions options_;
  int placed_nodes_ = 0;
};

// InvalidArgument when a feed is empty or its dtype or shape does not fit the
// tensor it replaces; NotFound for an unknown name.
absl::Status CheckFeeds(const Graph& graph,
                        const std::vector<std::pair<std::string, Tensor>>& feeds);

// The part of `graph` that `fetches` and `targets` need, not crossing fed
// tensors: fed tensors come from `_Feed` nodes (attr index = position in
// `feed_names`) and each fetch goes to a `_Fetch` node (attr index = position
// in `fetches`). Nodes keep their assigned devices. Errors: unknown names,
// a tensor fed twice, an unfed placeholder the step needs.
absl::StatusOr<std::unique_ptr<Graph>> BuildClientGraph(const Graph& graph,
                                                        const std::vector<std::string>& feed_names,
                                                        const std::vector<std::string>& fetches,
                                                        const std::vector<std::string>& targets);

// "a,b|c|d": the cache key of one (feeds, fetches, targets) signature.
std::string SignatureKey(const std::vector<std::string>& feed_names,
                         const std::vector<std::string>& fetches,
                         const std::vector<std::string>& targets);

}  // namespace braid
