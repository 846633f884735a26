// Devices of this process. A CPU device owns a ResourceMgr (its variables)
// and uses the process-wide oneDNN CPU engine. A CUDA device would derive from
// DeviceBase the same way, with its own engine and allocator.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "braid/kernels/op_kernel.h"

namespace braid {

class CpuDevice : public DeviceBase {
 public:
  // `name` is a full device name; `incarnation` tells this process apart from
  // an earlier one that had the same name.
  CpuDevice(std::string name, uint64_t incarnation);
  const std::string& name() const override { return name_; }
  const std::string& device_type() const override { return type_; }
  ResourceMgr* resource_mgr() override { return &resources_; }
  dnnl::engine& dnnl_engine() override;
  uint64_t incarnation() const override { return incarnation_; }

 private:
  const std::string name_;
  const std::string type_ = "CPU";
  const uint64_t incarnation_;
  ResourceMgr resources_;
};

// `count` CPU devices /job:J/replica:0/task:T/device:CPU:i sharing one fresh
// random incarnation number.
std::vector<std::unique_ptr<DeviceBase>> CreateCpuDevices(const std::string& job, int task,
                                                          int count);

// Sets the threads each kernel may use (oneDNN and OpenMP loops) for the whole
// process; 0 = cores. OpenMP keeps its thread count per calling thread, so
// every thread that runs kernels calls ApplyIntraOpThreads() first.
void SetIntraOpThreads(int threads);
// The inter-op threads (threads running ops) a session uses: `inter_op_threads`
// when positive; for 0, as many as fit beside `intra_op_threads` (0: every
// core) without oversubscribing the cores, at least one. Every op-running
// thread has an OpenMP team of the intra-op size, so inter x intra threads
// compete for the cores; more threads than cores made OpenMP's idle threads
// sleep instead of spin, and each parallel kernel paid a wake-up
// (docs/performance.md, "Threads").
int ResolveInterOpThreads(int inter_op_threads, int intra_op_threads);
// Brings this thread's OpenMP thread count in line with SetIntraOpThreads
// (a thread-local compare when nothing changed).
void ApplyIntraOpThreads();

}  // namespace braid
