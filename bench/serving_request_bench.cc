// The CPU a REST predict costs inside `braid serve`, without the network
// (issue 8's REST overhead; docs/performance.md, "Serving"):
//
//   BM_ReadNumericRequest: reading serve_load's request body, one 28x28x1
//     image as nested JSON lists (9.6 kB), into a tensor.
//   BM_PredictBody: the whole REST predict of that body on a loaded export
//     (read, run the 1-row inference, write the JSON answer), one thread,
//     as `braid serve` runs it.
//   BM_RunSignature: the inference alone.
//
//   build/bin/braid train --model mlp --max_steps 10 --export_dir /tmp/mlp
//   build/bench/serving_request_bench --model_dir=/tmp/mlp/10
// Without --model_dir only BM_ReadNumericRequest runs.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>

#include "braid/base/check.h"
#include "braid/serving/inference.h"
#include "braid/serving/loader.h"
#include "braid/serving/numeric_request.h"
#include "braid/serving/predict.h"

namespace braid::serving {
namespace {

std::string g_model_dir;

// The body bench/serve_load.cc sends: {"instances": [[[[p], ... 28], ... 28]]}.
std::string ImageBody() {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> level(0, 255);
  std::string body = "{\"instances\": [[";
  char number[32];
  for (int y = 0; y < 28; ++y) {
    body += y ? ",[" : "[";
    for (int x = 0; x < 28; ++x) {
      std::snprintf(number, sizeof(number), "%s[%.6g]", x ? "," : "",
                    static_cast<float>(level(rng)) / 255.0f);
      body += number;
    }
    body += ']';
  }
  return body + "]]}";
}

void BM_ReadNumericRequest(benchmark::State& state) {
  const std::string body = ImageBody();
  for (auto _ : state) {
    std::optional<NumericRequest> r = ReadNumericRequest(body, int64_t{1} << 27);
    BRAID_CHECK(r.has_value());
    benchmark::DoNotOptimize(r->values.raw_data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ReadNumericRequest);

std::unique_ptr<LoadedVersion> Load() {
  SessionOptions options;
  options.inter_op_threads = 1;
  options.intra_op_threads = 1;
  auto loaded = LoadVersion(g_model_dir, 1, options);
  BRAID_CHECK(loaded.ok());
  return *std::move(loaded);
}

void BM_PredictBody(benchmark::State& state) {
  std::unique_ptr<LoadedVersion> version = Load();
  const std::string body = ImageBody();
  for (auto _ : state) {
    absl::StatusOr<std::string> answer = PredictBody(*version, body, int64_t{1} << 27);
    BRAID_CHECK(answer.ok());
    benchmark::DoNotOptimize(answer->data());
  }
}

void BM_RunSignature(benchmark::State& state) {
  std::unique_ptr<LoadedVersion> version = Load();
  std::optional<NumericRequest> request = ReadNumericRequest(ImageBody(), int64_t{1} << 27);
  BRAID_CHECK(request.has_value());
  auto found = FindSignature(*version, "", kPredictMethodName);
  BRAID_CHECK(found.ok());
  const std::string input = found->signature->inputs.begin()->first;
  for (auto _ : state) {
    auto out = RunSignature(*version, *found, {{input, request->values}});
    BRAID_CHECK(out.ok());
  }
}

}  // namespace
}  // namespace braid::serving

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--model_dir=", 12) == 0) {
      braid::serving::g_model_dir = argv[i] + 12;
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      break;
    }
  }
  if (!braid::serving::g_model_dir.empty()) {
    benchmark::RegisterBenchmark("BM_PredictBody", braid::serving::BM_PredictBody);
    benchmark::RegisterBenchmark("BM_RunSignature", braid::serving::BM_RunSignature);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
