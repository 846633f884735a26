// Writes summaries of every kind TensorBoard shows into a log directory, in
// two runs:
//   <logdir>/api  through the SummaryWriter API (summary/summary_writer.h);
//   <logdir>/ops  through summary ops (ScalarSummary, HistogramSummary,
//                 ImageSummary, TextSummary, MergeSummary) run by a session.
// Then it prints the commands that show them.
//
//   write_summaries --logdir /tmp/braid-logs [--steps 10]
//
// The values follow fixed formulas, so tests/compat/test_tensorboard.py can
// check what TensorBoard reads back, step by step:
//   loss = 2 / (1 + step), accuracy = 0.5 + 0.04 step (scalars),
//   weights[i] = (i - 500) / 100 + 0.1 step for i < 1000 (a histogram),
//   an 8x12 RGB image with pixel (y, x) = (20 x, 30 y, 128) (the ops run adds
//   its inverse as a second image), a Markdown text, and the graph of a small
//   model under the name scope "model/".
#include <cstdio>
#include <cstdlib>
#include <string>

#include "braid/base/status_macros.h"
#include "braid/braid.h"

namespace {

using braid::Output;
using braid::Scope;
using braid::Tensor;
namespace ops = braid::ops;

constexpr char kText[] = "**braid** writes summaries that *TensorBoard* reads";

float Loss(int step) { return 2.f / (1.f + static_cast<float>(step)); }
float Accuracy(int step) { return 0.5f + 0.04f * static_cast<float>(step); }

Tensor Weights(int step) {
  Tensor w(braid::DType::kFloat, {1000});
  for (int i = 0; i < 1000; ++i) {
    w.data<float>()[i] = static_cast<float>(i - 500) / 100.f + 0.1f * static_cast<float>(step);
  }
  return w;
}

// [n, 8, 12, 3]; image 1 (if any) is image 0 inverted.
Tensor Images(int n) {
  Tensor t(braid::DType::kUInt8, {n, 8, 12, 3});
  uint8_t* p = t.data<uint8_t>();
  for (int i = 0; i < n; ++i) {
    for (int y = 0; y < 8; ++y) {
      for (int x = 0; x < 12; ++x) {
        const uint8_t rgb[3] = {uint8_t(20 * x), uint8_t(30 * y), 128};
        for (int c = 0; c < 3; ++c) *p++ = i == 0 ? rgb[c] : uint8_t(255 - rgb[c]);
      }
    }
  }
  return t;
}

// A small model, for the graph dashboard: model/dense/{kernel,bias,MatMul,
// BiasAdd}, model/Relu, model/Softmax.
void BuildModel(const Scope& root) {
  Scope model = root.NewSubScope("model");
  Scope dense = model.NewSubScope("dense");
  Output x = ops::Placeholder(model.WithOpName("x"), braid::DType::kFloat, {-1, 4});
  Output kernel = ops::Const(dense.WithOpName("kernel"), Tensor::Filled<float>({4, 3}, 0.1f));
  Output bias = ops::Const(dense.WithOpName("bias"), Tensor::Filled<float>({3}, 0.f));
  Output logits = ops::BiasAdd(dense, ops::MatMul(dense, x, kernel), bias);
  ops::Softmax(model, ops::Relu(model, logits));
}

absl::Status WriteThroughApi(const std::string& logdir, int steps) {
  ASSIGN_OR_RETURN(auto writer, braid::summary::SummaryWriter::Create(logdir));
  Scope root = Scope::NewRootScope();
  BuildModel(root);
  RETURN_IF_ERROR(root.status());
  RETURN_IF_ERROR(writer->Graph(*root.graph()));
  for (int step = 0; step < steps; ++step) {
    RETURN_IF_ERROR(writer->Scalar("loss", step, Loss(step)));
    RETURN_IF_ERROR(writer->Scalar("accuracy", step, Accuracy(step)));
    RETURN_IF_ERROR(writer->Histogram("weights", step, Weights(step)));
  }
  const Tensor image = Images(1);
  RETURN_IF_ERROR(writer->Image("image", 0, image.Reshaped({8, 12, 3})));
  RETURN_IF_ERROR(writer->Text("notes", 0, kText));
  return writer->Close();
}

absl::Status WriteThroughOps(const std::string& logdir, int steps) {
  Scope root = Scope::NewRootScope();
  BuildModel(root);
  Scope s = root.NewSubScope("summaries");
  Output step = ops::Placeholder(s.WithOpName("step"), braid::DType::kFloat, {});
  Output loss = ops::Div(s, 2.f, ops::Add(s, step, 1.f));
  Output accuracy = ops::Add(s, 0.5f, ops::Mul(s, 0.04f, step));
  Output weights = ops::Add(s, ops::Const(s, Weights(0)), ops::Mul(s, step, 0.1f));
  Output merged = ops::MergeSummary(s, {
                                           ops::ScalarSummary(s, "loss", loss),
                                           ops::ScalarSummary(s, "accuracy", accuracy),
                                           ops::HistogramSummary(s, "weights", weights),
                                           ops::ImageSummary(s, "image", ops::Const(s, Images(2))),
                                           ops::TextSummary(s, "notes", kText),
                                       });
  RETURN_IF_ERROR(root.status());

  ASSIGN_OR_RETURN(auto writer, braid::summary::SummaryWriter::Create(logdir));
  RETURN_IF_ERROR(writer->Graph(*root.graph()));
  braid::ClientSession session(root);
  for (int i = 0; i < steps; ++i) {
    std::vector<Tensor> out;
    RETURN_IF_ERROR(session.Run({{step, Tensor::Scalar(static_cast<float>(i))}}, {merged}, &out));
    RETURN_IF_ERROR(writer->WriteSerializedSummary(i, out[0].data<std::string>()[0]));
  }
  return writer->Close();
}

int Usage(const char* argv0, int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: %s --logdir DIR [--steps N]\n"
               "  writes scalars, histograms, images, text and graphs into DIR/api (the\n"
               "  SummaryWriter API) and DIR/ops (summary ops run by a session)\n",
               argv0);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::string logdir;
  int steps = 10;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--logdir" && i + 1 < argc) {
      logdir = argv[++i];
    } else if (arg == "--steps" && i + 1 < argc) {
      steps = std::atoi(argv[++i]);
    } else if (arg == "--help" || arg == "-h") {
      return Usage(argv[0], 0);
    } else {
      return Usage(argv[0], 2);
    }
  }
  if (logdir.empty() || steps < 1) return Usage(argv[0], 2);
  for (auto [run, write] :
       {std::pair{"api", &WriteThroughApi}, std::pair{"ops", &WriteThroughOps}}) {
    const std::string dir = logdir + "/" + run;
    absl::Status s = write(dir, steps);
    if (!s.ok()) {
      std::fprintf(stderr, "write_summaries: run '%s': %s\n", dir.c_str(),
                   std::string(s.message()).c_str());
      return 1;
    }
    std::printf("wrote %d steps of summaries to %s\n", steps, dir.c_str());
  }
  std::printf("view them with:  braid board --logdir %s   (or: tensorboard --logdir %s)\n",
              logdir.c_str(), logdir.c_str());
  return 0;
}
