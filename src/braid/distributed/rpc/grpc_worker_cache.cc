#include "braid/distributed/rpc/grpc_worker_cache.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/distributed/rpc/grpc_util.h"
#include "braid/graph/device_name.h"
#include "braid/tensor/tensor_proto.h"
#include "braid/worker_service.grpc.pb.h"

namespace braid::distributed {
namespace {

class GrpcRemoteWorker : public WorkerInterface {
 public:
  GrpcRemoteWorker(std::string task, const std::string& address, absl::Duration timeout)
      : peer_(absl::StrCat("task ", task, " (", address, ")")),
        timeout_(timeout),
        stub_(rpc::WorkerService::NewStub(grpc::CreateCustomChannel(
            address, grpc::InsecureChannelCredentials(), rpc_util::ChannelArgs()))) {}

  absl::Status GetStatus(const rpc::GetStatusRequest& req, rpc::GetStatusResponse* resp) override {
    return Call(&rpc::WorkerService::Stub::GetStatus, req, resp);
  }
  absl::Status CreateWorkerSession(const rpc::CreateWorkerSessionRequest& req) override {
    rpc::CreateWorkerSessionResponse resp;
    return Call(&rpc::WorkerService::Stub::CreateWorkerSession, req, &resp);
  }
  absl::Status DeleteWorkerSession(const rpc::DeleteWorkerSessionRequest& req) override {
    rpc::DeleteWorkerSessionResponse resp;
    return Call(&rpc::WorkerService::Stub::DeleteWorkerSession, req, &resp);
  }
  absl::Status RegisterGraph(const rpc::RegisterGraphRequest& req,
                             rpc::RegisterGraphResponse* resp) override {
    return Call(&rpc::WorkerService::Stub::RegisterGraph, req, resp);
  }
  absl::Status DeregisterGraph(const rpc::DeregisterGraphRequest& req) override {
    rpc::DeregisterGraphResponse resp;
    return Call(&rpc::WorkerService::Stub::DeregisterGraph, req, &resp);
  }
  absl::Status RunGraph(const rpc::RunGraphRequest& req, rpc::RunGraphResponse* resp) override {
    return Call(&rpc::WorkerService::Stub::RunGraph, req, resp);
  }
  absl::Status CleanupStep(const rpc::CleanupStepRequest& req) override {
    rpc::CleanupStepResponse resp;
    return Call(&rpc::WorkerService::Stub::CleanupStep, req, &resp);
  }
  absl::Status ReportTaskDone(const rpc::ReportTaskDoneRequest& req) override {
    rpc::ReportTaskDoneResponse resp;
    return Call(&rpc::WorkerService::Stub::ReportTaskDone, req, &resp);
  }

  absl::StatusOr<Tensor> RecvTensor(int64_t step_id, const std::string& key) override {
    grpc::ClientContext ctx;
    rpc_util::SetDeadline(&ctx, timeout_);
    rpc::RecvTensorRequest req;
    req.set_step_id(step_id);
    req.set_rendezvous_key(key);
    std::unique_ptr<grpc::ClientReader<rpc::RecvTensorChunk>> reader =
        stub_->RecvTensor(&ctx, req);
    rpc::RecvTensorChunk chunk;
    Tensor value;
    size_t filled = 0;
    bool have_meta = false;
    while (reader->Read(&chunk)) {
      if (!have_meta) {
        have_meta = true;
        if (!chunk.meta().tensor_content().empty() || DTypeSize(static_cast<DType>(
                                                          chunk.meta().dtype())) == 0) {
          ASSIGN_OR_RETURN(value, TensorFromProto(chunk.meta()));
          filled = value.TotalBytes();
        } else {
          ASSIGN_OR_RETURN(TensorShape shape, ShapeFromProto(chunk.meta().tensor_shape()));
          value = Tensor(static_cast<DType>(chunk.meta().dtype()), shape);
        }
      }
      const std::string& data = chunk.data();
      if (filled + data.size() > value.TotalBytes()) {
        ctx.TryCancel();
        return absl::DataLossError(absl::StrCat("RecvTensor '", key, "' from ", peer_,
                                                ": more bytes than the tensor holds"));
      }
      std::memcpy(static_cast<char*>(value.raw_data()) + filled, data.data(), data.size());
      filled += data.size();
    }
    RETURN_IF_ERROR(rpc_util::FromGrpc(reader->Finish(), peer_));
    if (!have_meta || filled != value.TotalBytes()) {
      return absl::DataLossError(absl::StrCat("RecvTensor '", key, "' from ", peer_, ": got ",
                                              filled, " of ", value.TotalBytes(), " bytes"));
    }
    return value;
  }

 private:
  template <typename Method, typename Req, typename Resp>
  absl::Status Call(Method method, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    rpc_util::SetDeadline(&ctx, timeout_);
    return rpc_util::FromGrpc((stub_.get()->*method)(&ctx, req, resp), peer_);
  }

  const std::string peer_;
  const absl::Duration timeout_;
  std::unique_ptr<rpc::WorkerService::Stub> stub_;
};

}  // namespace

absl::StatusOr<WorkerInterface*> GrpcWorkerCache::GetWorker(const std::string& task) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workers_.find(task);
  if (it != workers_.end()) return it->second.get();
  ASSIGN_OR_RETURN(DeviceName name, DeviceName::Parse(task));
  if (!name.job || !name.task) {
    return absl::InvalidArgumentError(absl::StrCat("'", task, "' does not name a task"));
  }
  ASSIGN_OR_RETURN(std::string address, cluster_.TaskAddress(*name.job, *name.task));
  auto worker = std::make_unique<GrpcRemoteWorker>(task, address, timeout_);
  WorkerInterface* raw = worker.get();
  workers_[task] = std::move(worker);
  return raw;
}

}  // namespace braid::distributed
