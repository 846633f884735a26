// Sessions run graphs. A session owns devices (and so the variables that live
// on them) for its lifetime; each Run executes the part of the graph the
// fetches and targets need, given the feeds.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/graph/graph.h"
#include "braid/graph/scope.h"
#include "braid/kernels/op_stats.h"
#include "braid/tensor/tensor.h"

namespace tensorflow {
class GraphDef;
}

namespace braid {

struct SessionOptions {
  // CPU devices in this process (/job:localhost/replica:0/task:0/device:CPU:i).
  // More than one splits a graph placed across them into partitions joined by
  // Send/Recv, as on a cluster.
  int num_cpu_devices = 1;
  // Threads running independent ops (0: as many as fit beside the intra-op
  // threads; see ResolveInterOpThreads).
  int inter_op_threads = 0;
  // Threads inside one op (oneDNN, OpenMP loops; 0: the number of cores).
  int intra_op_threads = 0;
  // Where ops without a device request go.
  std::string default_device = "/job:localhost/replica:0/task:0/device:CPU:0";
  // Runs Conv2D/MatMul -> BiasAdd [-> Relu] chains as one fused kernel
  // (graph/fuse_ops.h), as TensorFlow's grappler does; false runs every op as
  // built (for comparisons).
  bool fuse_ops = true;
  // When set, every kernel this session runs is timed into it (profiling;
  // kernels/op_stats.h). Not owned; must outlive the session's runs.
  OpStats* op_stats = nullptr;
};

class Session {
 public:
  virtual ~Session() = default;
  // `feeds` maps tensor names ("x:0" or "x") to values; `fetches` are tensor
  // names whose values are returned in `outputs` in order; `targets` are node
  // names run for their effect. Errors: unknown names (NotFound), feeds of the
  // wrong dtype or shape (InvalidArgument), an unfed placeholder, kernel
  // errors naming the node, uninitialized variables (FailedPrecondition).
  virtual absl::Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                           const std::vector<std::string>& fetches,
                           const std::vector<std::string>& targets,
                           std::vector<Tensor>* outputs) = 0;
  // The graph this session runs (it may grow between runs).
  virtual Graph* graph() = 0;
};

// A session over a graph that the caller keeps building (e.g. a Scope's).
absl::StatusOr<std::unique_ptr<Session>> NewSession(const SessionOptions& options,
                                                    std::shared_ptr<Graph> graph);
// A session over a graph read from a tensorflow.GraphDef.
absl::StatusOr<std::unique_ptr<Session>> NewSession(const SessionOptions& options,
                                                    const tensorflow::GraphDef& graph_def);

// The C++ client API: runs Outputs of a Scope's graph.
//   ClientSession session(root);
//   std::vector<Tensor> out;
//   BRAID_CHECK_OK(session.Run({{x, batch}}, {loss}, {train_op}, &out));
class ClientSession {
 public:
  using FeedType = std::vector<std::pair<Output, Tensor>>;
  explicit ClientSession(const Scope& scope, const SessionOptions& options = {});
  // Runs the scope's graph on `session` (e.g. a distributed MasterSession
  // created over scope.graph_ptr()).
  ClientSession(const Scope& scope, std::unique_ptr<Session> session)
      : scope_(scope), session_(std::move(session)) {}

  // Fails with the scope's build error, if any, before running anything.
  absl::Status Run(const FeedType& feeds, const std::vector<Output>& fetches,
                   std::vector<Tensor>* outputs) const;
  absl::Status Run(const FeedType& feeds, const std::vector<Output>& fetches,
                   const std::vector<Node*>& targets, std::vector<Tensor>* outputs) const;
  absl::Status Run(const std::vector<Output>& fetches, std::vector<Tensor>* outputs) const {
    return Run({}, fetches, outputs);
  }
  Session* session() const { return session_.get(); }

 private:
  Scope scope_;
  absl::Status create_status_;
  std::unique_ptr<Session> session_;
};

}  // namespace braid
