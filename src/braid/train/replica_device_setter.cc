#include "braid/train/replica_device_setter.h"

#include <algorithm>
#include <numeric>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "braid/graph/device_name.h"

namespace braid {
namespace {

// Nodes that the placer will put on one device: joined by a resource edge or a
// `_class: loc:@name` attr (the same rules as PlaceGraph's). A variable, its
// reads, updates, initializer and slot variables end up in one group, so they
// must get one ps task between them.
std::vector<int> ColocationRoots(const Graph& graph) {
  std::vector<int> parent(graph.num_nodes());
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  auto unite = [&](int a, int b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  };
  for (Node* node : graph.nodes()) {
    for (const Output& in : node->inputs())
      if (in.dtype() == DType::kResource) unite(node->id(), in.node->id());
    auto it = node->attrs().find("_class");
    if (it == node->attrs().end()) continue;
    const auto* classes = std::get_if<std::vector<std::string>>(&it->second);
    if (classes == nullptr) continue;
    for (const std::string& c : *classes) {
      if (c.rfind("loc:@", 0) != 0) continue;
      // A dangling reference is the placer's error to report.
      if (Node* other = graph.FindNode(c.substr(5))) unite(node->id(), other->id());
    }
  }
  std::vector<int> roots(graph.num_nodes());
  for (int i = 0; i < graph.num_nodes(); ++i) roots[i] = find(i);
  return roots;
}

int64_t VariableBytes(const Node& var) {
  if (!var.has_attr("shape") || !var.has_attr("dtype")) return 0;
  const int64_t elements = var.attr<TensorShape>("shape").num_elements();
  if (elements < 0) return 0;
  return elements * static_cast<int64_t>(DTypeSize(var.attr<DType>("dtype")));
}

absl::StatusOr<DeviceName> ParseNodeDevice(const Node& node, const std::string& device) {
  absl::StatusOr<DeviceName> parsed = DeviceName::Parse(device);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("node ", node.DebugName(), ": ", parsed.status().message()));
  }
  return parsed;
}

// One colocation group and what the pass decides for it.
struct Group {
  std::vector<Node*> members;    // graph order
  std::vector<Node*> variables;  // the VarHandleOps among them
  int64_t bytes = 0;
  // Placed before, or asking for a job: the pass leaves it alone.
  bool fixed = false;
  // Some member's request names a job (maybe without a task).
  bool names_job = false;
  // The ps task it is on (fixed) or gets (not fixed); none when elsewhere.
  std::optional<int> task;
};

std::string HumanBytes(int64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (bytes < 1000) return absl::StrCat(bytes, " B");
  if (bytes < 1000 * 1000) return absl::StrFormat("%.2f KB", b / 1e3);
  if (bytes < 1000 * 1000 * 1000) return absl::StrFormat("%.2f MB", b / 1e6);
  return absl::StrFormat("%.2f GB", b / 1e9);
}

}  // namespace

std::string PlacementReport::ToString() const {
  std::vector<std::string> lines;
  for (size_t t = 0; t < tasks.size(); ++t) {
    const size_t n = tasks[t].variables.size();
    lines.push_back(absl::StrCat(ps_job, ":", t, "  ", n, n == 1 ? " variable  " : " variables  ",
                                 HumanBytes(tasks[t].bytes)));
  }
  return absl::StrJoin(lines, "\n");
}

absl::StatusOr<PlacementReport> AssignVariablesToPs(Graph* graph,
                                                    const ReplicaDeviceSetterOptions& options) {
  if (options.num_ps_tasks < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "num_ps_tasks must be at least 1, got ", options.num_ps_tasks,
        "; a cluster without ps tasks keeps its variables on the workers (skip this pass)"));
  }
  if (options.ps_job.empty()) {
    return absl::InvalidArgumentError("ps_job must name the parameter-server job, e.g. \"ps\"");
  }
  absl::StatusOr<DeviceName> worker = DeviceName::Parse(options.worker_device);
  if (!worker.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("worker_device: ", worker.status().message()));
  }

  // Group the nodes and classify each group.
  const std::vector<int> roots = ColocationRoots(*graph);
  std::vector<Group> groups(graph->num_nodes());
  std::vector<DeviceName> requests(graph->num_nodes());
  for (Node* node : graph->nodes()) {
    Group& g = groups[roots[node->id()]];
    g.members.push_back(node);
    ASSIGN_OR_RETURN(requests[node->id()], ParseNodeDevice(*node, node->requested_device()));
    const DeviceName& request = requests[node->id()];
    if (request.job) g.names_job = true;
    if (node->op() == "VarHandleOp") {
      g.variables.push_back(node);
      g.bytes += VariableBytes(*node);
    }
    std::optional<DeviceName> where;
    if (!node->assigned_device().empty()) {
      ASSIGN_OR_RETURN(where, ParseNodeDevice(*node, node->assigned_device()));
    } else if (request.job && (*request.job != options.ps_job || request.task)) {
      where = request;
    }
    if (!where) continue;
    g.fixed = true;
    if (!g.task && where->job == options.ps_job && where->task &&
        *where->task < options.num_ps_tasks) {
      g.task = *where->task;
    }
  }

  // Loads of what is already on the ps tasks; then the free variable groups.
  std::vector<int64_t> loads(options.num_ps_tasks, 0);
  int already_on_ps = 0;
  std::vector<Group*> free_groups;  // graph order of their first variable
  for (Node* node : graph->nodes()) {
    Group& g = groups[node->id()];
    if (g.variables.empty()) continue;
    if (!g.fixed) {
      free_groups.push_back(&g);
    } else if (g.task) {
      loads[*g.task] += g.bytes;
      ++already_on_ps;
    }
  }
  std::sort(free_groups.begin(), free_groups.end(), [](const Group* a, const Group* b) {
    return a->variables.front()->id() < b->variables.front()->id();
  });

  using Strategy = ReplicaDeviceSetterOptions::Strategy;
  if (options.strategy == Strategy::kRoundRobin) {
    int next = already_on_ps % options.num_ps_tasks;
    for (Group* g : free_groups) {
      g->task = next;
      next = (next + 1) % options.num_ps_tasks;
    }
  } else {
    // Largest first (the classic LPT heuristic): placing big variables while
    // the tasks are still empty leaves the small ones to even out the rest.
    std::stable_sort(free_groups.begin(), free_groups.end(), [](const Group* a, const Group* b) {
      if (a->bytes != b->bytes) return a->bytes > b->bytes;
      return a->variables.front()->name() < b->variables.front()->name();
    });
    for (Group* g : free_groups) {
      const int task =
          static_cast<int>(std::min_element(loads.begin(), loads.end()) - loads.begin());
      g->task = task;
      loads[task] += g->bytes;
    }
  }

  for (Group* g : free_groups) {
    DeviceName ps;
    ps.job = options.ps_job;
    ps.task = *g->task;
    // Only the handles get the request: every other member follows them
    // through the placer, so their own (job-less) requests stay as they are.
    for (Node* var : g->variables) {
      DeviceName request = requests[var->id()];
      request.MergeFrom(ps);
      var->set_requested_device(request.ToString());
    }
  }

  // Everything else that names no job stays on the worker.
  if (!options.worker_device.empty()) {
    for (Node* node : graph->nodes()) {
      const Group& g = groups[node->id()];
      if (g.members.empty() || !g.variables.empty() || g.fixed || g.names_job) continue;
      for (Node* member : g.members) {
        DeviceName merged = *worker;
        merged.MergeFrom(requests[member->id()]);
        member->set_requested_device(merged.ToString());
      }
    }
  }

  PlacementReport report;
  report.ps_job = options.ps_job;
  report.tasks.resize(options.num_ps_tasks);
  for (Node* node : graph->nodes()) {
    if (node->op() != "VarHandleOp") continue;
    const Group& g = groups[roots[node->id()]];
    if (!g.task) continue;
    report.tasks[*g.task].variables.push_back(node->name());
    report.tasks[*g.task].bytes += VariableBytes(*node);
  }
  return report;
}

}  // namespace braid
