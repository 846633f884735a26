// The training loop shared by the examples: Fashion-MNIST from Debian's
// dataset-fashion-mnist, Adam, sparse softmax cross-entropy, shuffled batches,
// test accuracy after every epoch. Uses only braid's public API.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <string>

#include "braid/braid.h"

namespace example {

struct Flags {
  int epochs = 1;
  int batch_size = 128;
  int64_t seed = 1;
  int threads = 0;          // 0: all cores
  double min_accuracy = 0;  // exit 1 when the final test accuracy is below
  float learning_rate = 2e-3f;
  bool cosine_decay = true;
  std::string data_dir = braid::kFashionMnistDir;
};

inline void Usage(const char* prog, const Flags& d) {
  std::printf(
      "usage: %s [--epochs N] [--batch_size N] [--seed N] [--threads N]\n"
      "          [--learning_rate R] [--constant_learning_rate]\n"
      "          [--data_dir DIR] [--min_accuracy A]\n"
      "  --epochs N        passes over the 60,000 training images (default %d)\n"
      "  --batch_size N    examples per step (default %d)\n"
      "  --seed N          graph seed: initial weights and shuffling (default %lld)\n"
      "  --threads N       inter- and intra-op threads; 0 = all cores (default 0)\n"
      "  --learning_rate R Adam's initial learning rate (default 0.002)\n"
      "  --constant_learning_rate  keep the rate constant instead of cosine decay\n"
      "  --data_dir DIR    Fashion-MNIST IDX files (default %s)\n"
      "  --min_accuracy A  exit with status 1 if the test accuracy ends below A\n",
      prog, d.epochs, d.batch_size, static_cast<long long>(d.seed), d.data_dir.c_str());
}

inline Flags ParseFlags(int argc, char** argv, int default_epochs) {
  Flags f;
  f.epochs = default_epochs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: flag %s needs a value\n", argv[0], arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    auto number = [&](const char* v) {
      char* end = nullptr;
      double x = std::strtod(v, &end);
      if (end == v || *end != '\0') {
        std::fprintf(stderr, "%s: %s expects a number, got '%s'\n", argv[0], arg.c_str(), v);
        std::exit(2);
      }
      return x;
    };
    if (arg == "--help" || arg == "-h") {
      Usage(argv[0], f);
      std::exit(0);
    } else if (arg == "--epochs") {
      f.epochs = static_cast<int>(number(value()));
    } else if (arg == "--batch_size") {
      f.batch_size = static_cast<int>(number(value()));
    } else if (arg == "--seed") {
      f.seed = static_cast<int64_t>(number(value()));
    } else if (arg == "--threads") {
      f.threads = static_cast<int>(number(value()));
    } else if (arg == "--learning_rate") {
      f.learning_rate = static_cast<float>(number(value()));
    } else if (arg == "--constant_learning_rate") {
      f.cosine_decay = false;
    } else if (arg == "--min_accuracy") {
      f.min_accuracy = number(value());
    } else if (arg == "--data_dir") {
      f.data_dir = value();
    } else {
      std::fprintf(stderr, "%s: unknown flag '%s' (see --help)\n", argv[0], arg.c_str());
      std::exit(2);
    }
  }
  if (f.epochs < 1 || f.batch_size < 1 || f.threads < 0) {
    std::fprintf(stderr, "%s: --epochs and --batch_size must be >= 1, --threads >= 0\n", argv[0]);
    std::exit(2);
  }
  return f;
}

// A dense layer: x @ W + b, then ReLU unless `relu` is false.
inline braid::Output Dense(const braid::Scope& scope, const std::string& name, braid::Output x,
                           int64_t in, int64_t out, bool relu) {
  using namespace braid;
  Scope s = scope.NewSubScope(name);
  Variable w = ops::MakeVariable(s, "kernel", TensorShape{in, out}, DType::kFloat,
                                 Initializer::GlorotUniform());
  Variable b = ops::MakeVariable(s, "bias", TensorShape{out}, DType::kFloat, Initializer::Zeros());
  Output y = ops::BiasAdd(s, ops::MatMul(s, x, w.value), b.value);
  return relu ? ops::Relu(s, y) : y;
}

// Copies the examples `order[begin, begin + n)` into a batch.
inline void Gather(const braid::Tensor& src, const std::vector<int64_t>& order, int64_t begin,
                   int64_t n, braid::Tensor* dst) {
  braid::TensorShape shape = src.shape();
  shape.set_dim(0, n);
  *dst = braid::Tensor(src.dtype(), shape);
  const size_t row = src.TotalBytes() / static_cast<size_t>(src.dim(0));
  const char* in = static_cast<const char*>(src.raw_data());
  char* out = static_cast<char*>(dst->raw_data());
  for (int64_t i = 0; i < n; ++i) std::memcpy(out + i * row, in + order[begin + i] * row, row);
}

// Builds `model` (images [batch,28,28,1] -> logits [batch,10]), trains it and
// reports the test accuracy after each epoch. Returns the process exit code.
inline int TrainAndEvaluate(const char* name, const Flags& flags,
                            const std::function<braid::Output(const braid::Scope&, braid::Output)>& model) {
  using namespace braid;
  auto data = LoadFashionMnist(flags.data_dir);
  if (!data.ok()) {
    std::fprintf(stderr, "%s: %s\n", name, std::string(data.status().message()).c_str());
    return 1;
  }
  Scope root = Scope::NewRootScope();
  root.graph()->set_seed(flags.seed);
  Output images = ops::Placeholder(root.WithOpName("images"), DType::kFloat,
                                   TensorShape{-1, 28, 28, 1});
  Output labels = ops::Placeholder(root.WithOpName("labels"), DType::kInt32, TensorShape{-1});
  Output logits = model(root.NewSubScope("model"), images);
  Output loss = ops::Mean(root.WithOpName("loss"),
                          ops::SparseSoftmaxCrossEntropyWithLogits(root, logits, labels).loss, 0);
  Output predicted = ops::ArgMax(root, logits, 1, DType::kInt32);
  Output correct = ops::Sum(root.WithOpName("correct"),
                            ops::Cast(root, ops::Equal(root, predicted, labels), DType::kFloat), 0);
  // Adam at 2e-3, decayed along a cosine to zero over the run: the last
  // epochs settle instead of bouncing around the minimum.
  const int64_t steps_per_epoch = (data->train.images.dim(0) + flags.batch_size - 1) / flags.batch_size;
  AdamOptimizer adam(flags.cosine_decay
                         ? CosineDecay(flags.learning_rate, steps_per_epoch * flags.epochs)
                         : ConstantLearningRate(flags.learning_rate));
  auto train = adam.Minimize(root, loss);
  if (!train.ok()) {
    std::fprintf(stderr, "%s: %s\n", name, std::string(train.status().message()).c_str());
    return 1;
  }
  Node* init = ops::GlobalVariablesInitializer(root);

  SessionOptions options;
  options.inter_op_threads = flags.threads;
  options.intra_op_threads = flags.threads;
  ClientSession session(root, options);
  std::vector<Tensor> out;
  absl::Status s = session.Run({}, {}, {init}, &out);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", name, std::string(s.message()).c_str());
    return 1;
  }

  const int64_t n = data->train.images.dim(0);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(static_cast<uint64_t>(flags.seed));
  double accuracy = 0;
  for (int epoch = 1; epoch <= flags.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    auto start = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t steps = 0;
    Tensor x, y;
    for (int64_t b = 0; b < n; b += flags.batch_size) {
      int64_t size = std::min<int64_t>(flags.batch_size, n - b);
      Gather(data->train.images, order, b, size, &x);
      Gather(data->train.labels, order, b, size, &y);
      s = session.Run({{images, x}, {labels, y}}, {loss}, {*train}, &out);
      if (!s.ok()) {
        std::fprintf(stderr, "%s: step %lld: %s\n", name, static_cast<long long>(steps),
                     std::string(s.message()).c_str());
        return 1;
      }
      loss_sum += out[0].data<float>()[0];
      ++steps;
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Test accuracy over the 10,000 test images, in chunks.
    const int64_t m = data->test.images.dim(0);
    std::vector<int64_t> all(m);
    std::iota(all.begin(), all.end(), 0);
    double hits = 0;
    for (int64_t b = 0; b < m; b += 1000) {
      int64_t size = std::min<int64_t>(1000, m - b);
      Gather(data->test.images, all, b, size, &x);
      Gather(data->test.labels, all, b, size, &y);
      s = session.Run({{images, x}, {labels, y}}, {correct}, &out);
      if (!s.ok()) {
        std::fprintf(stderr, "%s: eval: %s\n", name, std::string(s.message()).c_str());
        return 1;
      }
      hits += out[0].data<float>()[0];
    }
    accuracy = hits / static_cast<double>(m);
    std::printf("%s epoch %d/%d: train_loss %.4f  test_accuracy %.4f  %.0f examples/s\n", name,
                epoch, flags.epochs, loss_sum / static_cast<double>(steps), accuracy,
                static_cast<double>(n) / seconds);
    std::fflush(stdout);
  }
  std::printf("%s final test_accuracy=%.4f\n", name, accuracy);
  if (accuracy < flags.min_accuracy) {
    std::fprintf(stderr, "%s: test accuracy %.4f is below the required %.4f\n", name, accuracy,
                 flags.min_accuracy);
    return 1;
  }
  return 0;
}

}  // namespace example
