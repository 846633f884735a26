#include "braid/runtime/device.h"

#include <omp.h>

#include <algorithm>
#include <dnnl.hpp>
#include <atomic>
#include <random>

#include "absl/strings/str_cat.h"
#include "braid/base/thread_pool.h"

namespace braid {

CpuDevice::CpuDevice(std::string name, uint64_t incarnation)
    : name_(std::move(name)), incarnation_(incarnation) {}

dnnl::engine& CpuDevice::dnnl_engine() {
  static dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

std::vector<std::unique_ptr<DeviceBase>> CreateCpuDevices(const std::string& job, int task,
                                                          int count) {
  std::random_device rd;
  uint64_t incarnation = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  if (incarnation == 0) incarnation = 1;
  std::vector<std::unique_ptr<DeviceBase>> devices;
  for (int i = 0; i < count; ++i) {
    devices.push_back(std::make_unique<CpuDevice>(
        absl::StrCat("/job:", job, "/replica:0/task:", task, "/device:CPU:", i), incarnation));
  }
  return devices;
}

namespace {
std::atomic<int> intra_op_threads{0};
}  // namespace

void SetIntraOpThreads(int threads) {
  intra_op_threads.store(threads > 0 ? threads : NumSchedulableCores());
  ApplyIntraOpThreads();
}

int ResolveInterOpThreads(int inter_op_threads, int intra_op_threads) {
  if (inter_op_threads > 0) return inter_op_threads;
  const int cores = NumSchedulableCores();
  const int intra = intra_op_threads > 0 ? intra_op_threads : cores;
  return std::max(1, cores / intra);
}

void ApplyIntraOpThreads() {
  thread_local int applied = -1;
  int want = intra_op_threads.load(std::memory_order_relaxed);
  if (want > 0 && want != applied) {
    omp_set_num_threads(want);
    applied = want;
  }
}

}  // namespace braid
