#include "braid/graph/placer.h"

#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "braid/graph/device_name.h"

namespace braid {
namespace {

class UnionFind {
 public:
  explicit UnionFind(int n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0); }
  int Find(int x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void Union(int a, int b) {
    a = Find(a);
    b = Find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<int> parent_;
};

}  // namespace

absl::Status PlaceGraph(Graph* graph, const PlacerOptions& options) {
  const int n = graph->num_nodes();
  UnionFind groups(n);
  for (Node* node : graph->nodes()) {
    for (const Output& in : node->inputs())
      if (in.dtype() == DType::kResource) groups.Union(node->id(), in.node->id());
    auto it = node->attrs().find("_class");
    if (it != node->attrs().end()) {
      if (const auto* classes = std::get_if<std::vector<std::string>>(&it->second)) {
        for (const std::string& c : *classes) {
          if (c.rfind("loc:@", 0) != 0) continue;
          Node* other = graph->FindNode(c.substr(5));
          if (other == nullptr) {
            return absl::InvalidArgumentError(absl::StrCat(
                "node ", node->DebugName(), " asks to be colocated with '", c.substr(5),
                "', which does not exist"));
          }
          groups.Union(node->id(), other->id());
        }
      }
    }
  }

  std::vector<DeviceName> devices;
  for (const std::string& d : options.devices) {
    ASSIGN_OR_RETURN(DeviceName parsed, DeviceName::Parse(d));
    devices.push_back(parsed);
  }
  ASSIGN_OR_RETURN(DeviceName default_device, DeviceName::Parse(options.default_device));

  // Merge every member's request (and pin) into one per group.
  std::vector<std::vector<Node*>> members(n);
  for (Node* node : graph->nodes()) members[groups.Find(node->id())].push_back(node);
  for (int root = 0; root < n; ++root) {
    if (members[root].empty()) continue;
    DeviceName request;
    const Node* request_source = nullptr;
    for (Node* node : members[root]) {
      std::string wanted = node->requested_device();
      auto pin = options.pinned.find(node->name());
      if (pin != options.pinned.end()) wanted = pin->second;
      absl::StatusOr<DeviceName> parsed = DeviceName::Parse(wanted);
      if (!parsed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("node ", node->DebugName(), ": ", parsed.status().message()));
      }
      if (!request.CompatibleWith(*parsed)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot colocate node ", node->DebugName(), " (device '", wanted, "') with node ",
            request_source->DebugName(), " (device '", request_source->requested_device(),
            "'): they share a variable or a colocation constraint"));
      }
      if (!wanted.empty()) request_source = node;
      request.MergeFrom(*parsed);
    }
    DeviceName completed = default_device;
    completed.MergeFrom(request);

    auto kernels_everywhere = [&](const DeviceName& d) {
      if (!options.supports) return true;
      for (Node* node : members[root])
        if (!options.supports(*node, *d.type)) return false;
      return true;
    };
    const DeviceName* chosen = nullptr;
    bool matched_any = false;
    for (const DeviceName* spec : {&completed, &request}) {
      for (const DeviceName& d : devices) {
        if (!spec->Matches(d)) continue;
        matched_any = true;
        if (kernels_everywhere(d)) {
          chosen = &d;
          break;
        }
      }
      if (chosen != nullptr) break;
    }
    if (chosen == nullptr) {
      const Node* first = members[root].front();
      std::vector<std::string> names;
      for (const DeviceName& d : devices) names.push_back(d.ToString());
      if (matched_any) {
        // Name an op that has no kernel on the first matching device.
        const DeviceName* d = nullptr;
        for (const DeviceName& cand : devices)
          if (request.Matches(cand) && d == nullptr) d = &cand;
        for (Node* node : members[root]) {
          if (d != nullptr && !options.supports(*node, *d->type)) {
            std::string with =
                node == first ? "" : absl::StrCat(", which must be placed with ", first->DebugName(),
                                                  " (they share a variable or a colocation constraint)");
            return absl::InvalidArgumentError(absl::StrCat(
                "no ", *d->type, " kernel for node ", node->DebugName(), " with its dtypes", with));
          }
        }
        return absl::InvalidArgumentError(absl::StrCat(
            "no device matching '", request.ToString(), "' has kernels for every op placed with ",
            first->DebugName()));
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot place node ", (request_source ? request_source : first)->DebugName(),
          ": no device matches '", request.ToString(),
          "'; available devices: ", absl::StrJoin(names, ", ")));
    }
    std::string full = chosen->ToString();
    for (Node* node : members[root]) node->set_assigned_device(full);
  }
  return absl::OkStatus();
}

}  // namespace braid
