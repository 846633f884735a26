// Closed-loop load against `braid serve` (bench/serve_bench.sh): C
// connections, each a thread of its own sending one request at a time and the
// next as soon as the answer is in, for S seconds after a 1 s warm-up. Prints
// one line of JSON:
//   {"target", "connections", "rows", "requests", "errors", "rps",
//    "p50_us", "p99_us", "mean_us", "client_cpu_us_per_request"}
//
//   serve_load --target rest|grpc|rest-empty --address 127.0.0.1:PORT
//              [--model mlp] [--connections C] [--seconds S] [--rows R]
//
// rest:       POST /v1/models/M:predict {"instances": [R images]}; an image is
//             28x28x1 nested lists of pixels k/255 (random k), built once.
// grpc:       tensorflow.serving.PredictionService/Predict, input "x" a float
//             [R,28,28,1] tensor in tensor_content, built once.
// rest-empty: GET /healthz on the same HTTP stack (the baseline of rest).
//
// Every REST connection is its own httplib::Client with keep-alive (the
// server may still close a connection after some requests; the client then
// reconnects, and that is part of the measured latency). Every gRPC
// connection is its own channel with a local subchannel pool and a channel
// argument of its own, so no two share a TCP connection.
//
// Latencies count the requests started after the warm-up; rps is their number
// over S. A request fails on a transport error, an HTTP status other than
// 200 or a gRPC status other than OK; failures (the warm-up's too) are
// counted in "errors" and the first one's message goes to stderr. client_cpu_us_per_request is this
// process's CPU time (user + system) over the measured window per request:
// on a small machine the load generator competes with the server for cores.
#include <sys/resource.h>

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kSide = 28;
constexpr int kPixels = kSide * kSide;

struct Options {
  std::string target;
  std::string address;
  std::string model = "mlp";
  int connections = 1;
  double seconds = 5;
  int rows = 1;
};

[[noreturn]] void Usage(const char* problem) {
  std::fprintf(stderr,
               "serve_load: %s\nusage: serve_load --target rest|grpc|rest-empty "
               "--address HOST:PORT [--model M] [--connections C] [--seconds S] [--rows R]\n",
               problem);
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Usage(("missing value of " + flag).c_str());
    const char* value = argv[++i];
    if (flag == "--target") {
      o.target = value;
    } else if (flag == "--address") {
      o.address = value;
    } else if (flag == "--model") {
      o.model = value;
    } else if (flag == "--connections") {
      o.connections = std::atoi(value);
    } else if (flag == "--seconds") {
      o.seconds = std::atof(value);
    } else if (flag == "--rows") {
      o.rows = std::atoi(value);
    } else {
      Usage(("unknown flag " + flag).c_str());
    }
  }
  if (o.target != "rest" && o.target != "grpc" && o.target != "rest-empty") {
    Usage("--target must be rest, grpc or rest-empty");
  }
  if (o.address.find(':') == std::string::npos) Usage("--address must be HOST:PORT");
  if (o.connections < 1 || o.seconds <= 0 || o.rows < 1) {
    Usage("--connections, --seconds and --rows must be positive");
  }
  return o;
}

// Fashion-MNIST-like pixels: k/255 for random k, rows x 784 of them.
std::vector<float> MakePixels(int rows) {
  std::mt19937 rng(20261202);
  std::uniform_int_distribution<int> level(0, 255);
  std::vector<float> pixels(static_cast<size_t>(rows) * kPixels);
  for (float& p : pixels) p = static_cast<float>(level(rng)) / 255.0f;
  return pixels;
}

// {"instances": [image, ...]}, each image [[[p], ... 28], ... 28].
std::string MakeRestBody(const std::vector<float>& pixels, int rows) {
  std::string body = "{\"instances\": [";
  char number[32];
  for (int r = 0; r < rows; ++r) {
    if (r > 0) body += ", ";
    body += '[';
    for (int y = 0; y < kSide; ++y) {
      if (y > 0) body += ',';
      body += '[';
      for (int x = 0; x < kSide; ++x) {
        if (x > 0) body += ',';
        std::snprintf(number, sizeof(number), "[%.6g]",
                      pixels[static_cast<size_t>(r) * kPixels + y * kSide + x]);
        body += number;
      }
      body += ']';
    }
    body += ']';
  }
  body += "]}";
  return body;
}

tensorflow::serving::PredictRequest MakeGrpcRequest(const std::vector<float>& pixels, int rows,
                                                    const std::string& model) {
  tensorflow::serving::PredictRequest request;
  request.mutable_model_spec()->set_name(model);
  tensorflow::TensorProto& x = (*request.mutable_inputs())["x"];
  x.set_dtype(tensorflow::DT_FLOAT);
  for (int64_t d : {static_cast<int64_t>(rows), int64_t{kSide}, int64_t{kSide}, int64_t{1}}) {
    x.mutable_tensor_shape()->add_dim()->set_size(d);
  }
  x.set_tensor_content(std::string(reinterpret_cast<const char*>(pixels.data()),
                                   pixels.size() * sizeof(float)));
  return request;
}

// What all connections share: the schedule, the payloads, the first error.
struct Shared {
  Options options;
  Clock::time_point measure_from;
  Clock::time_point stop_at;
  std::string rest_path;
  std::string rest_body;
  tensorflow::serving::PredictRequest grpc_request;

  std::mutex mu;
  std::string first_error;  // protected by mu
  std::atomic<int64_t> errors{0};

  void Fail(const std::string& message) {
    errors.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.empty()) first_error = message;
  }
};

// One connection's results: latencies (µs) of the measured requests.
struct Results {
  std::vector<int64_t> latencies_us;
};

// Runs `send` (true on success) in a closed loop until shared.stop_at.
template <typename Send>
void Loop(Shared& shared, Results& out, Send send) {
  for (;;) {
    const Clock::time_point start = Clock::now();
    if (start >= shared.stop_at) return;
    const bool ok = send();
    const Clock::time_point end = Clock::now();
    if (start < shared.measure_from) continue;  // warm-up
    if (ok) {
      out.latencies_us.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(end - start).count());
    }
  }
}

void RestConnection(Shared& shared, Results& out, bool empty) {
  httplib::Client client("http://" + shared.options.address);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  client.set_write_timeout(30, 0);
  Loop(shared, out, [&] {
    httplib::Result r = empty ? client.Get("/healthz")
                              : client.Post(shared.rest_path, shared.rest_body, "application/json");
    if (!r) {
      shared.Fail("HTTP: " + httplib::to_string(r.error()));
      return false;
    }
    if (r->status != 200) {
      shared.Fail("HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 300));
      return false;
    }
    return true;
  });
}

void GrpcConnection(Shared& shared, Results& out, int index) {
  grpc::ChannelArguments args;
  // A channel of its own: without these, channels to the same address with
  // the same arguments share one subchannel (one TCP connection).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("braid.serve_load.connection", index);
  args.SetMaxReceiveMessageSize(-1);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(shared.options.address, grpc::InsecureChannelCredentials(), args);
  auto stub = tensorflow::serving::PredictionService::NewStub(channel);
  tensorflow::serving::PredictResponse response;
  Loop(shared, out, [&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    response.Clear();
    const grpc::Status s = stub->Predict(&context, shared.grpc_request, &response);
    if (!s.ok()) {
      shared.Fail("gRPC " + std::to_string(s.error_code()) + ": " + s.error_message());
      return false;
    }
    if (response.outputs().empty()) {
      shared.Fail("gRPC: an answer without outputs");
      return false;
    }
    return true;
  });
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

}  // namespace

int main(int argc, char** argv) {
  Shared shared;
  shared.options = ParseOptions(argc, argv);
  const Options& o = shared.options;
  const std::vector<float> pixels = MakePixels(o.rows);
  if (o.target == "rest") {
    shared.rest_path = "/v1/models/" + o.model + ":predict";
    shared.rest_body = MakeRestBody(pixels, o.rows);
  } else if (o.target == "grpc") {
    shared.grpc_request = MakeGrpcRequest(pixels, o.rows, o.model);
  }

  const auto warm_up = std::chrono::seconds(1);
  const auto measure = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(o.seconds));
  shared.measure_from = Clock::now() + warm_up;
  shared.stop_at = shared.measure_from + measure;

  std::vector<Results> results(o.connections);
  std::vector<std::thread> threads;
  threads.reserve(o.connections);
  for (int i = 0; i < o.connections; ++i) {
    threads.emplace_back([&shared, &results, i] {
      if (shared.options.target == "grpc") {
        GrpcConnection(shared, results[i], i);
      } else {
        RestConnection(shared, results[i], shared.options.target == "rest-empty");
      }
    });
  }
  std::this_thread::sleep_until(shared.measure_from);
  const double cpu_from = CpuSeconds();
  std::this_thread::sleep_until(shared.stop_at);
  const double cpu_to = CpuSeconds();
  for (std::thread& t : threads) t.join();

  std::vector<int64_t> all;
  for (const Results& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
  }
  std::sort(all.begin(), all.end());
  auto percentile = [&all](double q) -> int64_t {
    if (all.empty()) return 0;
    const size_t i = static_cast<size_t>(q * static_cast<double>(all.size() - 1) + 0.5);
    return all[std::min(i, all.size() - 1)];
  };
  double sum = 0;
  for (int64_t v : all) sum += static_cast<double>(v);
  const double n = static_cast<double>(all.size());
  const double mean = all.empty() ? 0 : sum / n;
  const double cpu_per_request = all.empty() ? 0 : (cpu_to - cpu_from) * 1e6 / n;

  if (!shared.first_error.empty()) {
    std::fprintf(stderr, "serve_load: %lld errors; the first: %s\n",
                 static_cast<long long>(shared.errors.load()), shared.first_error.c_str());
  }
  std::printf(
      "{\"target\": \"%s\", \"connections\": %d, \"rows\": %d, \"requests\": %zu, "
      "\"errors\": %lld, \"rps\": %.1f, \"p50_us\": %lld, \"p99_us\": %lld, "
      "\"mean_us\": %.1f, \"client_cpu_us_per_request\": %.1f}\n",
      o.target.c_str(), o.connections, o.rows, all.size(),
      static_cast<long long>(shared.errors.load()), n / o.seconds,
      static_cast<long long>(percentile(0.50)), static_cast<long long>(percentile(0.99)), mean,
      cpu_per_request);
  return shared.errors.load() > 0 && all.empty() ? 1 : 0;
}
