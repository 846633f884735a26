// RecvTensor over loopback, next to raw loopback TCP on the same machine.
//
//   BM_RecvTensor/N: a float32 variable of N bytes lives on /job:ps/task:0
//     (initialized once); each step a Slice of one element on
//     /job:worker/task:0 needs the whole tensor, so every step moves N bytes
//     ps -> worker through WorkerService.RecvTensor. The two tasks are real
//     `braid server` processes on 127.0.0.1 (what users run); this process is
//     the master (a MasterSession whose default device is the worker). Time
//     per iteration is the whole step: master -> RunGraph on both tasks,
//     RecvTensor, answer. N = 4 measures the fixed per-step overhead.
//   BM_RawTcp/N: one TCP stream over 127.0.0.1 between two threads of this
//     process: the receiver asks for N bytes (an 8-byte request), the sender
//     writes N bytes from a buffer, the receiver reads them into a buffer.
//     Both buffers are allocated and touched once.
//
// RecvTensor runs also report the CPU time per step of the ps and worker
// processes (ps_cpu_ms, worker_cpu_ms): where the work is, and a measure less
// disturbed than wall time when others load the machine. After the usual
// table comes a side-by-side summary per size: RecvTensor / raw TCP
// throughput, the median over --benchmark_repetitions (min..max).
//
//   build/bench/recv_tensor_bench --benchmark_min_time=2 --benchmark_repetitions=3
//
// The tasks run $BRAID_BINARY, else bin/braid of this build tree: point it
// at another build of braid to compare two versions of the transport.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "benchmark/benchmark.h"
#include "braid/base/free_ports.h"
#include "braid/distributed/master_session.h"
#include "braid/distributed/rpc/grpc_worker_cache.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/state_ops.h"

namespace braid::bench {
namespace {

using distributed::ClusterSpec;
using distributed::GrpcWorkerCache;
using distributed::MasterSession;
using distributed::MasterSessionOptions;

constexpr int64_t kMiB = int64_t{1} << 20;
const std::vector<int64_t> kSizes = {4, 1 * kMiB, 16 * kMiB, 64 * kMiB};

// ---------------------------------------------------------------------------
// The cluster: `braid server` processes for /job:ps/task:0 and
// /job:worker/task:0, and a session over them holding one variable per size.

std::string BraidBinary() {
  if (const char* env = std::getenv("BRAID_BINARY")) return env;
  // This binary lives in <build>/bench/; braid in <build>/bin/.
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  return (self.parent_path() / ".." / "bin" / "braid").lexically_normal().string();
}


double CpuSecondsOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces): state is field 3,
  // utime and stime are fields 14 and 15.
  std::vector<std::string> fields = absl::StrSplit(stat.substr(stat.rfind(')') + 2), ' ');
  if (fields.size() < 13) return 0;
  double ticks =
      std::strtod(fields[11].c_str(), nullptr) + std::strtod(fields[12].c_str(), nullptr);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

class BenchCluster {
 public:
  // Starts the tasks and the session, or returns null with `error` set.
  static std::unique_ptr<BenchCluster> Start(std::string* error) {
    auto c = std::unique_ptr<BenchCluster>(new BenchCluster);
    absl::StatusOr<std::vector<int>> ports = FreePorts("127.0.0.1", 2);
    if (!ports.ok()) {
      *error = ports.status().ToString();
      return nullptr;
    }
    absl::StatusOr<ClusterSpec> spec =
        ClusterSpec::Create({{"ps", {absl::StrCat("localhost:", (*ports)[0])}},
                             {"worker", {absl::StrCat("localhost:", (*ports)[1])}}});
    if (!spec.ok()) {
      *error = spec.status().ToString();
      return nullptr;
    }
    c->spec_ = *spec;
    for (const char* job : {"ps", "worker"}) {
      if (!c->Spawn(job, error)) return nullptr;
    }
    c->workers_ = std::make_unique<GrpcWorkerCache>(c->spec_, absl::Seconds(60));
    if (!c->WaitUntilServing(error) || !c->BuildSession(error)) return nullptr;
    return c;
  }

  ~BenchCluster() {
    session_.reset();  // deletes its worker sessions while the tasks still run
    for (pid_t pid : pids_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }

  MasterSession* session() { return session_.get(); }
  // CPU seconds (user + system) the ps and the worker task have used so far.
  double CpuSeconds(const std::string& job) const {
    return CpuSecondsOf(pids_.at(job == "ps" ? 0 : 1));
  }
  const std::string& fetch(int64_t bytes) { return fetches_.at(bytes); }

 private:
  BenchCluster() = default;

  bool Spawn(const std::string& job, std::string* error) {
    std::string binary = BraidBinary();
    if (access(binary.c_str(), X_OK) != 0) {
      *error =
          absl::StrCat("no braid binary at ", binary, " (build braid_cli, or set BRAID_BINARY)");
      return false;
    }
    std::string cluster = spec_.ToJson();
    pid_t pid = fork();
    if (pid == 0) {
      // Default thread counts (one per core), as a user would start a task.
      execl(binary.c_str(), binary.c_str(), "server", "--cluster_spec", cluster.c_str(),
            "--job_name", job.c_str(), "--task_index", "0", static_cast<char*>(nullptr));
      std::perror("exec braid");
      _exit(127);
    }
    if (pid < 0) {
      *error = "fork failed";
      return false;
    }
    pids_.push_back(pid);
    return true;
  }

  bool WaitUntilServing(std::string* error) {
    for (const char* task : {"/job:ps/replica:0/task:0", "/job:worker/replica:0/task:0"}) {
      absl::Status s;
      for (int attempt = 0; attempt < 300; ++attempt) {
        absl::StatusOr<distributed::WorkerInterface*> w = workers_->GetWorker(task);
        if (!w.ok()) {
          s = w.status();
          break;
        }
        rpc::GetStatusResponse resp;
        s = (*w)->GetStatus(rpc::GetStatusRequest(), &resp);
        if (s.ok()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!s.ok()) {
        *error = absl::StrCat(task, " did not start serving: ", s.ToString());
        return false;
      }
    }
    return true;
  }

  bool BuildSession(std::string* error) {
    Scope root = Scope::NewRootScope();
    Scope ps = root.WithDevice("/job:ps/task:0");
    Scope worker = root.WithDevice("/job:worker/task:0");
    for (int64_t bytes : kSizes) {
      Variable v = ops::MakeVariable(ps, absl::StrCat("v", bytes), TensorShape{bytes / 4},
                                     DType::kFloat, Initializer::Constant(1.5f),
                                     /*trainable=*/false);
      // Needs every byte on the worker, returns 4 of them.
      Output one = ops::Slice(worker, v.value, Tensor::FromVector<int64_t>({0}),
                              Tensor::FromVector<int64_t>({1}));
      fetches_[bytes] = one.name();
    }
    Node* init = ops::GlobalVariablesInitializer(root);
    if (!root.status().ok()) {
      *error = root.status().ToString();
      return false;
    }
    MasterSessionOptions options;
    options.cluster = spec_;
    options.default_device = "/job:worker/replica:0/task:0/device:CPU:0";
    options.operation_timeout = absl::Seconds(60);
    absl::StatusOr<std::unique_ptr<MasterSession>> session =
        MasterSession::Create(options, workers_.get(), root.graph_ptr());
    if (!session.ok()) {
      *error = session.status().ToString();
      return false;
    }
    session_ = *std::move(session);
    std::vector<Tensor> out;
    absl::Status s = session_->Run({}, {}, {init->name()}, &out);
    if (!s.ok()) {
      *error = absl::StrCat("initializing the variables: ", s.ToString());
      return false;
    }
    return true;
  }

  ClusterSpec spec_;
  std::vector<pid_t> pids_;
  std::unique_ptr<GrpcWorkerCache> workers_;
  std::unique_ptr<MasterSession> session_;
  std::map<int64_t, std::string> fetches_;
};

// Started by the first RecvTensor benchmark, stopped by main() (not by a
// static destructor: closing the session needs gRPC still alive).
std::unique_ptr<BenchCluster> cluster;
std::string cluster_error;
bool cluster_tried = false;

BenchCluster* Cluster(std::string* error) {
  if (!cluster_tried) {
    cluster_tried = true;
    cluster = BenchCluster::Start(&cluster_error);
  }
  *error = cluster_error;
  return cluster.get();
}

void SetThroughput(benchmark::State& state, int64_t bytes) {
  state.SetBytesProcessed(state.iterations() * bytes);
  state.counters["GB/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(bytes) / 1e9,
                         benchmark::Counter::kIsRate);
}

void BM_RecvTensor(benchmark::State& state) {
  const int64_t bytes = state.range(0);
  std::string error;
  BenchCluster* cluster = Cluster(&error);
  if (cluster == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  const std::vector<std::string> fetches = {cluster->fetch(bytes)};
  std::vector<Tensor> out;
  // The first step of a fetch registers its partitions: not timed.
  absl::Status s = cluster->session()->Run({}, fetches, {}, &out);
  if (!s.ok() || out.size() != 1 || out[0].data<float>()[0] != 1.5f) {
    state.SkipWithError(absl::StrCat("warm-up step: ", s.ToString()).c_str());
    return;
  }
  const double ps_cpu = cluster->CpuSeconds("ps"), worker_cpu = cluster->CpuSeconds("worker");
  for (auto _ : state) {
    s = cluster->session()->Run({}, fetches, {}, &out);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  SetThroughput(state, bytes);
  // Where the work is, less disturbed by other load on the machine than the
  // wall time: CPU milliseconds per step of the sending and receiving task.
  const double steps =
      static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
  state.counters["ps_cpu_ms"] = (cluster->CpuSeconds("ps") - ps_cpu) * 1e3 / steps;
  state.counters["worker_cpu_ms"] = (cluster->CpuSeconds("worker") - worker_cpu) * 1e3 / steps;
}

// ---------------------------------------------------------------------------
// Raw loopback TCP: one stream, request/response like a RecvTensor.

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

bool ReadAll(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t k = recv(fd, p, n, 0);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

class TcpPair {
 public:
  explicit TcpPair(size_t max_bytes) : send_buf_(max_bytes, 'x'), recv_buf_(max_bytes, 0) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listener, 1);
    socklen_t len = sizeof(addr);
    getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    receiver_ = socket(AF_INET, SOCK_STREAM, 0);
    ok_ = connect(receiver_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    sender_ = accept(listener, nullptr, nullptr);
    close(listener);
    ok_ = ok_ && sender_ >= 0;
    int one = 1;  // the 8-byte requests must not wait for Nagle
    setsockopt(receiver_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(sender_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    thread_ = std::thread([this] { Serve(); });
  }
  ~TcpPair() {
    uint64_t stop = 0;
    WriteAll(receiver_, reinterpret_cast<const char*>(&stop), sizeof(stop));
    thread_.join();
    close(receiver_);
    close(sender_);
  }
  bool ok() const { return ok_; }

  // Asks for `bytes` and reads them into the receive buffer.
  bool Transfer(uint64_t bytes) {
    return WriteAll(receiver_, reinterpret_cast<const char*>(&bytes), sizeof(bytes)) &&
           ReadAll(receiver_, recv_buf_.data(), bytes);
  }

 private:
  void Serve() {
    uint64_t bytes = 0;
    while (ReadAll(sender_, reinterpret_cast<char*>(&bytes), sizeof(bytes)) && bytes != 0) {
      if (!WriteAll(sender_, send_buf_.data(), bytes)) return;
    }
  }

  std::vector<char> send_buf_, recv_buf_;
  int sender_ = -1, receiver_ = -1;
  bool ok_ = false;
  std::thread thread_;
};

void BM_RawTcp(benchmark::State& state) {
  const int64_t bytes = state.range(0);
  TcpPair tcp(bytes);
  if (!tcp.ok() || !tcp.Transfer(bytes)) {
    state.SkipWithError("loopback TCP connection failed");
    return;
  }
  for (auto _ : state) {
    if (!tcp.Transfer(bytes)) {
      state.SkipWithError("loopback TCP transfer failed");
      break;
    }
  }
  SetThroughput(state, bytes);
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t bytes : kSizes) b->Arg(bytes);
  // The work happens in other threads and processes: wall time is the measure.
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_RawTcp)->Apply(Sizes);
BENCHMARK(BM_RecvTensor)->Apply(Sizes);

// ---------------------------------------------------------------------------
// The side-by-side summary.

class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  SummaryReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred || r.iterations == 0) continue;
      int64_t bytes = std::strtoll(r.run_name.args.c_str(), nullptr, 10);
      Sample sample;
      sample["ms"] = r.real_accumulated_time / static_cast<double>(r.iterations) * 1e3;
      for (const auto& [name, counter] : r.counters) sample[name] = counter.value;
      samples_[{r.run_name.function_name, bytes}].push_back(sample);
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    auto& out = GetOutputStream();
    out << "\nRecvTensor (ps task -> worker task, two `braid server` processes) vs raw TCP, "
           "loopback.\nMedian over repetitions (min..max); CPU: of the receiving worker task.\n";
    const char* row = "%7s | %-18s | %-18s | %5s | %-22s | %-24s | %-20s\n";
    out << absl::StrFormat(row, "size", "raw TCP GB/s", "RecvTensor GB/s", "ratio", "raw TCP ms",
                           "RecvTensor ms/step", "CPU ms/step");
    for (int64_t bytes : kSizes) {
      const std::vector<Sample>& tcp = samples_[{"BM_RawTcp", bytes}];
      const std::vector<Sample>& recv = samples_[{"BM_RecvTensor", bytes}];
      // Throughput says nothing for a 4-byte tensor: its row is the
      // fixed cost of a step.
      const bool bulk = bytes >= kMiB;
      std::string ratio = "-";
      if (bulk && !tcp.empty() && !recv.empty()) {
        ratio = absl::StrFormat("%.0f%%", 100 * Of(recv, "GB/s").median / Of(tcp, "GB/s").median);
      }
      out << absl::StrFormat(
          row, bulk ? absl::StrCat(bytes / kMiB, " MiB") : absl::StrCat(bytes, " B"),
          bulk ? Format(Of(tcp, "GB/s"), 2) : "-", bulk ? Format(Of(recv, "GB/s"), 2) : "-", ratio,
          Format(Of(tcp, "ms"), 3), Format(Of(recv, "ms"), 3),
          Format(Of(recv, "worker_cpu_ms"), 2));
    }
  }

 private:
  using Sample = std::map<std::string, double>;  // "ms", and the run's counters
  struct Range {
    size_t n = 0;
    double median = 0, min = 0, max = 0;
  };
  static Range Of(const std::vector<Sample>& samples, const std::string& key) {
    std::vector<double> v;
    for (const Sample& s : samples) {
      if (auto it = s.find(key); it != s.end()) v.push_back(it->second);
    }
    Range r;
    r.n = v.size();
    if (v.empty()) return r;
    std::sort(v.begin(), v.end());
    r.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    r.min = v.front();
    r.max = v.back();
    return r;
  }
  static std::string Format(const Range& r, int digits) {
    if (r.n == 0) return "-";
    if (r.n == 1) return absl::StrFormat("%.*f", digits, r.median);
    return absl::StrFormat("%.*f (%.*f..%.*f)", digits, r.median, digits, r.min, digits, r.max);
  }

  std::map<std::pair<std::string, int64_t>, std::vector<Sample>> samples_;
};

}  // namespace
}  // namespace braid::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  braid::bench::SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  braid::bench::cluster.reset();
  benchmark::Shutdown();
  return 0;
}
