// braid predict: runs a signature of an exported model (braid train
// --export_dir) on inputs from .npy files, on this machine, without a server:
// what `braid serve` would answer, for scripts and for checking a server.
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "braid/base/status_macros.h"
#include "braid/cli/commands.h"
#include "braid/cli/npy.h"
#include "braid/serving/inference.h"
#include "braid/serving/loader.h"

namespace braid::cli {
namespace {

struct PredictFlags {
  std::string model_dir;
  std::string signature_name;
  std::vector<std::string> inputs;  // ALIAS=FILE.npy, or FILE.npy for a single input
  std::string output_dir;
  int inter_op_threads = 0;
  int intra_op_threads = 0;
};

absl::Status RunPredict(const PredictFlags& f) {
  std::string dir = f.model_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const std::string last = dir.substr(dir.find_last_of('/') + 1);
  int64_t version = 0;
  if (!absl::SimpleAtoi(last, &version) || version < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--model_dir ", f.model_dir, " must be a version directory (BASE/<number>)"));
  }
  SessionOptions options;
  options.inter_op_threads = f.inter_op_threads;
  options.intra_op_threads = f.intra_op_threads;
  ASSIGN_OR_RETURN(std::unique_ptr<serving::LoadedVersion> loaded,
                   serving::LoadVersion(dir, version, options));
  ASSIGN_OR_RETURN(serving::FoundSignature found,
                   serving::FindSignature(*loaded, f.signature_name, serving::kPredictMethodName));
  std::map<std::string, Tensor> inputs;
  for (const std::string& spec : f.inputs) {
    std::pair<std::string, std::string> kv = absl::StrSplit(spec, absl::MaxSplits('=', 1));
    if (kv.second.empty()) {
      if (found.signature->inputs.size() != 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--input ", spec, ": signature '", found.name,
            "' has several inputs; write ALIAS=FILE.npy"));
      }
      kv = {found.signature->inputs.begin()->first, kv.first};
    }
    ASSIGN_OR_RETURN(Tensor t, ReadNpy(kv.second));
    inputs[kv.first] = std::move(t);
  }
  ASSIGN_OR_RETURN(auto outputs, serving::RunSignature(*loaded, found, std::move(inputs)));
  if (!f.output_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(f.output_dir, error);
    if (error) {
      return absl::InvalidArgumentError(
          absl::StrCat("--output_dir ", f.output_dir, ": ", error.message()));
    }
  }
  for (const auto& [alias, t] : outputs) {
    if (f.output_dir.empty()) {
      std::printf("%s: %s\n", alias.c_str(), t.DebugString(20).c_str());
      continue;
    }
    const std::string path = absl::StrCat(f.output_dir, "/", alias, ".npy");
    RETURN_IF_ERROR(WriteNpy(path, t));
    std::printf("%s: %s -> %s\n", alias.c_str(), t.shape().DebugString().c_str(), path.c_str());
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterPredict(CLI::App& app) {
  auto flags = std::make_shared<PredictFlags>();
  CLI::App* cmd = app.add_subcommand(
      "predict", "run an exported model's signature on .npy inputs, locally (no server)");
  cmd->footer(
      "Example (what braid serve's :predict would answer):\n"
      "  braid predict --model_dir /tmp/export/2345 --input images.npy --output_dir out/\n"
      "  writes out/probabilities.npy; without --output_dir the outputs are printed.\n"
      "Inputs: float32/float64 (read as float32), int32, int64 or bool arrays in C order.");
  cmd->add_option("--model_dir", flags->model_dir, "an exported version: BASE/<version>")
      ->required();
  cmd->add_option("--signature_name", flags->signature_name,
                  "the signature to run (default: serving_default)");
  cmd->add_option("--input", flags->inputs,
                  "FILE.npy (a single-input signature) or ALIAS=FILE.npy; repeat per input")
      ->required();
  cmd->add_option("--output_dir", flags->output_dir,
                  "write each output as OUTPUT_DIR/<alias>.npy, creating the directory "
                  "(default: print them)");
  AddThreadFlags(cmd, &flags->inter_op_threads, &flags->intra_op_threads);
  cmd->callback([flags] {
    absl::Status s = RunPredict(*flags);
    if (!s.ok()) throw CLI::RuntimeError(Fail("predict", std::string(s.message())));
  });
}

}  // namespace braid::cli
