// In-graph replication, as distributed TensorFlow 1.x users wrote it: one
// client builds the whole graph, with the variables on /job:ps/task:0 and one
// tower of the model on each /job:worker/task:i. Each step feeds every tower
// its slice of the global batch; the towers' gradients are averaged on the ps
// and applied once, so the cluster trains exactly like one process with the
// same global batch (and the same seed gives the same initial weights).
//
//   braid server --cluster_spec C --job_name ps --task_index 0 &      # and each worker
//   in_graph --target grpc://localhost:2223 --towers 2 --epochs 3
//   in_graph --epochs 3                                               # one process
#include "fashion_mnist_trainer.h"

namespace {

struct InGraphFlags {
  std::string target;  // empty: one local process, one tower
  int towers = 0;      // default: 2 with --target, else 1
  example::Flags train;
};

InGraphFlags ParseInGraphFlags(int argc, char** argv) {
  InGraphFlags f;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--target" && i + 1 < argc) {
      f.target = argv[++i];
    } else if (arg == "--towers" && i + 1 < argc) {
      f.towers = std::atoi(argv[++i]);
    } else if (arg == "--help" || arg == "-h") {
      std::printf(
          "in-graph replication of the MLP over a cluster's workers\n"
          "  --target grpc://HOST:PORT  the master (any task of a running cluster with a ps job\n"
          "                             and a worker job); without it, one local process\n"
          "  --towers N                 model replicas, one per worker task (default 2, or 1\n"
          "                             without --target); the batch is split between them\n");
      example::Usage(argv[0], f.train);
      std::exit(0);
    } else {
      rest.push_back(argv[i]);
    }
  }
  f.train = example::ParseFlags(static_cast<int>(rest.size()), rest.data(), /*default_epochs=*/3);
  if (f.towers == 0) f.towers = f.target.empty() ? 1 : 2;
  if (f.towers < 1 || f.towers > f.train.batch_size) {
    std::fprintf(stderr, "%s: --towers must be in [1, batch size]\n", argv[0]);
    std::exit(2);
  }
  return f;
}

int Fail(const absl::Status& s, const char* what) {
  std::fprintf(stderr, "in_graph: %s: %s\n", what, std::string(s.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace braid;
  InGraphFlags f = ParseInGraphFlags(argc, argv);
  const bool cluster = !f.target.empty();
  auto data = LoadFashionMnist(f.train.data_dir);
  if (!data.ok()) return Fail(data.status(), "data");

  Scope root = Scope::NewRootScope();
  root.graph()->set_seed(f.train.seed);
  // Variables first, in the same order in both modes: same seed, same weights.
  Scope ps = cluster ? root.WithDevice("/job:ps/task:0") : root;
  const std::vector<int64_t> sizes = {784, 256, 128, 10};
  std::vector<Variable> weights, biases;
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    Scope s = ps.NewSubScope(absl::StrCat("dense_", l));
    weights.push_back(ops::MakeVariable(s, "kernel", TensorShape{sizes[l], sizes[l + 1]},
                                        DType::kFloat, Initializer::GlorotUniform()));
    biases.push_back(ops::MakeVariable(s, "bias", TensorShape{sizes[l + 1]}, DType::kFloat,
                                       Initializer::Zeros()));
  }
  auto mlp = [&](const Scope& s, Output images) {
    Output x = ops::Reshape(s, images, {-1, 784});
    for (size_t l = 0; l < weights.size(); ++l) {
      x = ops::BiasAdd(s, ops::MatMul(s, x, weights[l].value), biases[l].value);
      if (l + 1 < weights.size()) x = ops::Relu(s, x);
    }
    return x;
  };

  const int64_t n = data->train.images.dim(0);
  const int64_t steps_per_epoch = (n + f.train.batch_size - 1) / f.train.batch_size;
  AdamOptimizer adam(CosineDecay(f.train.learning_rate, steps_per_epoch * f.train.epochs));
  std::vector<Output> images, labels, losses;
  std::map<std::string, std::vector<Output>> tower_grads;  // variable -> one per tower
  std::map<std::string, Variable> by_name;
  for (int t = 0; t < f.towers; ++t) {
    Scope tower = (cluster ? root.WithDevice(absl::StrCat("/job:worker/task:", t)) : root)
                      .NewSubScope(absl::StrCat("tower_", t));
    images.push_back(
        ops::Placeholder(tower.WithOpName("images"), DType::kFloat, TensorShape{-1, 28, 28, 1}));
    labels.push_back(ops::Placeholder(tower.WithOpName("labels"), DType::kInt32, TensorShape{-1}));
    Output logits = mlp(tower, images.back());
    losses.push_back(ops::Mean(
        tower, ops::SparseSoftmaxCrossEntropyWithLogits(tower, logits, labels.back()).loss, 0));
    auto grads = adam.ComputeGradients(tower, losses.back());
    if (!grads.ok()) return Fail(grads.status(), "gradients");
    for (const auto& [g, v] : *grads) {
      tower_grads[v.handle.node->name()].push_back(g);
      by_name[v.handle.node->name()] = v;
    }
  }
  // The average of the towers' gradients, on the ps beside its variable.
  std::vector<GradAndVar> averaged;
  for (const auto& [name, grads] : tower_grads) {
    Output sum = grads.size() == 1 ? grads[0] : ops::AddN(ps, grads);
    averaged.emplace_back(ops::Mul(ps, sum, 1.0f / static_cast<float>(f.towers)), by_name[name]);
  }
  auto train = adam.ApplyGradients(ps, averaged);
  if (!train.ok()) return Fail(train.status(), "apply");
  Output mean_loss = ops::Mul(root, ops::AddN(root, losses), 1.0f / static_cast<float>(f.towers));
  Scope eval = cluster ? root.WithDevice("/job:worker/task:0").NewSubScope("eval")
                       : root.NewSubScope("eval");
  Output eval_images =
      ops::Placeholder(eval.WithOpName("images"), DType::kFloat, TensorShape{-1, 28, 28, 1});
  Output eval_labels = ops::Placeholder(eval.WithOpName("labels"), DType::kInt32, TensorShape{-1});
  Output correct = ops::Sum(
      eval,
      ops::Cast(eval,
                ops::Equal(eval, ops::ArgMax(eval, mlp(eval, eval_images), 1, DType::kInt32),
                           eval_labels),
                DType::kFloat),
      0);
  Node* init = ops::GlobalVariablesInitializer(root);
  if (!root.status().ok()) return Fail(root.status(), "graph");

  std::unique_ptr<Session> session;
  if (cluster) {
    auto s = distributed::NewGrpcSession(f.target, root.graph_ptr());
    if (!s.ok()) return Fail(s.status(), "session");
    session = *std::move(s);
  } else {
    SessionOptions options;
    options.inter_op_threads = f.train.threads;
    options.intra_op_threads = f.train.threads;
    auto s = NewSession(options, root.graph_ptr());
    if (!s.ok()) return Fail(s.status(), "session");
    session = *std::move(s);
  }
  ClientSession client(root, std::move(session));
  std::vector<Tensor> out;
  absl::Status s = client.Run({}, {}, {init}, &out);
  if (!s.ok()) return Fail(s, "initialize");
  std::printf("in_graph: %d tower(s)%s%s, global batch %d\n", f.towers,
              cluster ? " on the workers of " : "", f.target.c_str(), f.train.batch_size);

  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(static_cast<uint64_t>(f.train.seed));
  double accuracy = 0;
  for (int epoch = 1; epoch <= f.train.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    auto start = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t steps = 0;
    for (int64_t b = 0; b < n; b += f.train.batch_size) {
      const int64_t size = std::min<int64_t>(f.train.batch_size, n - b);
      ClientSession::FeedType feeds;
      for (int t = 0; t < f.towers; ++t) {  // tower t gets rows [lo, hi) of the batch
        const int64_t lo = size * t / f.towers, hi = size * (t + 1) / f.towers;
        Tensor x, y;
        example::Gather(data->train.images, order, b + lo, hi - lo, &x);
        example::Gather(data->train.labels, order, b + lo, hi - lo, &y);
        feeds.push_back({images[t], x});
        feeds.push_back({labels[t], y});
      }
      s = client.Run(feeds, {mean_loss}, {*train}, &out);
      if (!s.ok()) return Fail(s, absl::StrCat("step ", steps).c_str());
      loss_sum += out[0].data<float>()[0];
      ++steps;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int64_t m = data->test.images.dim(0);
    std::vector<int64_t> all(m);
    std::iota(all.begin(), all.end(), 0);
    double hits = 0;
    for (int64_t b = 0; b < m; b += 1000) {
      Tensor x, y;
      example::Gather(data->test.images, all, b, std::min<int64_t>(1000, m - b), &x);
      example::Gather(data->test.labels, all, b, std::min<int64_t>(1000, m - b), &y);
      s = client.Run({{eval_images, x}, {eval_labels, y}}, {correct}, &out);
      if (!s.ok()) return Fail(s, "eval");
      hits += out[0].data<float>()[0];
    }
    accuracy = hits / static_cast<double>(m);
    std::printf("in_graph epoch %d/%d: train_loss %.4f  test_accuracy %.4f  %.0f examples/s\n",
                epoch, f.train.epochs, loss_sum / static_cast<double>(steps), accuracy,
                static_cast<double>(n) / seconds);
    std::fflush(stdout);
  }
  std::printf("in_graph final test_accuracy=%.4f\n", accuracy);
  return accuracy < f.train.min_accuracy ? 1 : 0;
}
