// Runs one partition graph on one device. Kernels are created once, when the
// executor is built; each step then counts down every node's pending inputs
// and runs nodes as they become ready: independent nodes in parallel on the
// inter-op pool, a ready successor inline on the thread that finished its
// producer (no hand-off for chains).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/base/thread_pool.h"
#include "braid/graph/graph.h"
#include "braid/kernels/op_kernel.h"

namespace braid {

class Executor {
 public:
  // Takes ownership of `graph`. Fails when a node has no kernel for the device
  // or its kernel rejects the node's attrs.
  static absl::StatusOr<std::unique_ptr<Executor>> Create(std::unique_ptr<Graph> graph,
                                                          DeviceBase* device, ThreadPool* pool);
  ~Executor();

  // Runs one step; `done` is called once, on any thread, with the step's
  // status (the first error, its message prefixed with the failing node).
  // On error the step's rendezvous is aborted so that no Recv waits forever.
  void RunAsync(const StepContext& step, std::function<void(absl::Status)> done);
  // RunAsync and wait.
  absl::Status Run(const StepContext& step);

  const Graph& graph() const { return *graph_; }

 private:
  struct Item {
    Node* node;
    std::unique_ptr<OpKernel> kernel;
    int input_start;  // index of this node's first input slot
    int num_pending;  // data + control inputs
    // For each output: (consumer item, consumer input slot).
    std::vector<std::vector<std::pair<int, int>>> outputs;
    std::vector<int> control_outputs;
  };
  class Step;

  Executor(std::unique_ptr<Graph> graph, DeviceBase* device, ThreadPool* pool)
      : graph_(std::move(graph)), device_(device), pool_(pool) {}

  std::unique_ptr<Graph> graph_;
  DeviceBase* device_;
  ThreadPool* pool_;
  std::vector<Item> items_;
  std::vector<int> roots_;
  int num_slots_ = 0;
};

}  // namespace braid
