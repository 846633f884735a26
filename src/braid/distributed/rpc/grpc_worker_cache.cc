#include "braid/distributed/rpc/grpc_worker_cache.h"

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/distributed/rpc/grpc_util.h"
#include "braid/distributed/rpc/tensor_chunks.h"
#include "braid/graph/device_name.h"
#include "braid/worker_service.grpc.pb.h"

namespace braid::distributed {
namespace {

class GrpcRemoteWorker : public WorkerInterface {
 public:
  GrpcRemoteWorker(std::string task, const std::string& address, absl::Duration timeout)
      : peer_(absl::StrCat("task ", task, " (", address, ")")),
        timeout_(timeout),
        channel_(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                           rpc_util::ChannelArgs())),
        stub_(rpc::WorkerService::NewStub(channel_)),
        recv_tensor_method_(rpc_util::kRecvTensorMethod,
                            grpc::internal::RpcMethod::SERVER_STREAMING, channel_) {}

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

  // Reads the response stream as raw ByteBuffers and copies the bytes once,
  // into the tensor: see Note [RecvTensor without copies] in tensor_chunks.h.
  absl::StatusOr<Tensor> RecvTensor(int64_t step_id, const std::string& key) override {
    grpc::ClientContext ctx;
    rpc_util::SetDeadline(&ctx, timeout_);
    rpc::RecvTensorRequest req;
    req.set_step_id(step_id);
    req.set_rendezvous_key(key);
    std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
        grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
            channel_.get(), recv_tensor_method_, &ctx, req));
    rpc_util::TensorChunkReader chunks(absl::StrCat("RecvTensor '", key, "' from ", peer_));
    grpc::ByteBuffer chunk;
    while (reader->Read(&chunk)) {
      absl::Status s = chunks.Add(&chunk);
      if (!s.ok()) {
        ctx.TryCancel();
        reader->Finish();
        return s;
      }
    }
    RETURN_IF_ERROR(rpc_util::FromGrpc(reader->Finish(), peer_));
    return chunks.Finish();
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
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<rpc::WorkerService::Stub> stub_;
  // RecvTensor's method, called outside the stub to read raw ByteBuffers.
  const grpc::internal::RpcMethod recv_tensor_method_;
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
