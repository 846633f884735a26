#include "braid/distributed/rpc/grpc_server.h"

#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "braid/base/status_macros.h"
#include "braid/distributed/master_session.h"
#include "braid/distributed/rpc/grpc_util.h"
#include "braid/distributed/rpc/grpc_worker_cache.h"
#include "braid/distributed/rpc/tensor_chunks.h"
#include "braid/tensor/tensor_proto.h"
#include "braid/worker_service.grpc.pb.h"

namespace braid::distributed {

using rpc_util::ToGrpc;

namespace {

class WorkerServiceImpl final : public rpc::WorkerService::Service {
 public:
  WorkerServiceImpl(Worker* worker, absl::Duration timeout) : worker_(worker), timeout_(timeout) {
    // What the generated WithSplitStreamingMethod_RecvTensor does, with raw
    // ByteBuffers for responses instead of RecvTensorChunk objects.
    MarkMethodStreamed(
        rpc_util::RecvTensorMethodIndex(),
        new grpc::internal::SplitServerStreamingHandler<rpc::RecvTensorRequest, grpc::ByteBuffer>(
            [this](grpc::ServerContext* ctx, TensorStream* stream) {
              return StreamTensor(ctx, stream);
            }));
  }

  grpc::Status GetStatus(grpc::ServerContext*, const rpc::GetStatusRequest*,
                         rpc::GetStatusResponse* resp) override {
    worker_->GetStatus(resp);
    return grpc::Status::OK;
  }
  grpc::Status CreateWorkerSession(grpc::ServerContext*, const rpc::CreateWorkerSessionRequest* req,
                                   rpc::CreateWorkerSessionResponse*) override {
    return ToGrpc(worker_->CreateWorkerSession(*req));
  }
  grpc::Status DeleteWorkerSession(grpc::ServerContext*, const rpc::DeleteWorkerSessionRequest* req,
                                   rpc::DeleteWorkerSessionResponse*) override {
    return ToGrpc(worker_->DeleteWorkerSession(*req));
  }
  grpc::Status RegisterGraph(grpc::ServerContext*, const rpc::RegisterGraphRequest* req,
                             rpc::RegisterGraphResponse* resp) override {
    return ToGrpc(worker_->RegisterGraph(*req, resp));
  }
  grpc::Status DeregisterGraph(grpc::ServerContext*, const rpc::DeregisterGraphRequest* req,
                               rpc::DeregisterGraphResponse*) override {
    return ToGrpc(worker_->DeregisterGraph(*req));
  }
  grpc::Status RunGraph(grpc::ServerContext*, const rpc::RunGraphRequest* req,
                        rpc::RunGraphResponse* resp) override {
    return ToGrpc(worker_->RunGraph(*req, resp));
  }
  grpc::Status CleanupStep(grpc::ServerContext*, const rpc::CleanupStepRequest* req,
                           rpc::CleanupStepResponse*) override {
    return ToGrpc(worker_->CleanupStep(*req));
  }
  grpc::Status ReportTaskDone(grpc::ServerContext*, const rpc::ReportTaskDoneRequest* req,
                              rpc::ReportTaskDoneResponse*) override {
    worker_->ReportTaskDone(*req);
    return grpc::Status::OK;
  }

 private:
  // RecvTensor, served as "split streaming" (the handler reads the request
  // itself) so that it writes raw ByteBuffers: see Note [RecvTensor without
  // copies] in tensor_chunks.h.
  using TensorStream = grpc::ServerSplitStreamer<rpc::RecvTensorRequest, grpc::ByteBuffer>;
  grpc::Status StreamTensor(grpc::ServerContext* ctx, TensorStream* stream) {
    rpc::RecvTensorRequest req;
    if (!stream->Read(&req)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "RecvTensor: no request");
    }
    absl::Time deadline = std::min(absl::FromChrono(ctx->deadline()), absl::Now() + timeout_);
    absl::StatusOr<Tensor> value = worker_->WaitForTensor(
        req.step_id(), req.rendezvous_key(), deadline, [ctx] { return ctx->IsCancelled(); });
    if (!value.ok()) return ToGrpc(value.status());
    bool sent = rpc_util::WriteTensorChunks(
        *value, rpc_util::kTensorChunkBytes,
        [stream](const grpc::ByteBuffer& chunk) { return stream->Write(chunk); });
    if (!sent) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "RecvTensor: the receiver went away");
    }
    return grpc::Status::OK;
  }

  Worker* const worker_;
  const absl::Duration timeout_;
};

class MasterServiceImpl final : public rpc::MasterService::Service {
 public:
  MasterServiceImpl(const TaskConfig& task, WorkerCache* workers, absl::Duration timeout)
      : task_(task), workers_(workers), timeout_(timeout) {}

  grpc::Status CreateSession(grpc::ServerContext*, const rpc::CreateSessionRequest* req,
                             rpc::CreateSessionResponse* resp) override {
    absl::StatusOr<std::unique_ptr<Graph>> graph = Graph::FromGraphDef(req->graph_def());
    if (!graph.ok()) return ToGrpc(graph.status());
    MasterSessionOptions options;
    options.cluster = task_.cluster;
    options.default_device =
        absl::StrCat("/job:", task_.job, "/replica:0/task:", task_.index, "/device:CPU:0");
    options.operation_timeout = timeout_;
    absl::StatusOr<std::unique_ptr<MasterSession>> session =
        MasterSession::Create(options, workers_, std::shared_ptr<Graph>(*std::move(graph)));
    if (!session.ok()) return ToGrpc(session.status());
    std::lock_guard<std::mutex> lock(mu_);
    std::string handle = absl::StrCat("master_session_", next_id_++);
    sessions_[handle] = std::shared_ptr<MasterSession>(*std::move(session));
    resp->set_session_handle(handle);
    return grpc::Status::OK;
  }
  grpc::Status ExtendSession(grpc::ServerContext*, const rpc::ExtendSessionRequest* req,
                             rpc::ExtendSessionResponse*) override {
    absl::StatusOr<std::shared_ptr<MasterSession>> session = Find(req->session_handle());
    if (!session.ok()) return ToGrpc(session.status());
    absl::StatusOr<std::unique_ptr<Graph>> graph = Graph::FromGraphDef(req->graph_def());
    if (!graph.ok()) return ToGrpc(graph.status());
    (*session)->ReplaceGraph(std::shared_ptr<Graph>(*std::move(graph)));
    return grpc::Status::OK;
  }
  grpc::Status RunStep(grpc::ServerContext*, const rpc::RunStepRequest* req,
                       rpc::RunStepResponse* resp) override {
    absl::StatusOr<std::shared_ptr<MasterSession>> session = Find(req->session_handle());
    if (!session.ok()) return ToGrpc(session.status());
    std::vector<std::pair<std::string, Tensor>> feeds;
    for (const rpc::NamedTensor& f : req->feed()) {
      absl::StatusOr<Tensor> t = TensorFromProto(f.tensor());
      if (!t.ok()) {
        return ToGrpc(absl::InvalidArgumentError(
            absl::StrCat("feed '", f.name(), "': ", t.status().message())));
      }
      feeds.emplace_back(f.name(), *std::move(t));
    }
    std::vector<Tensor> outputs;
    absl::Status s = (*session)->Run(feeds, {req->fetch().begin(), req->fetch().end()},
                                     {req->target().begin(), req->target().end()}, &outputs);
    if (!s.ok()) return ToGrpc(s);
    for (const Tensor& t : outputs) TensorToProto(t, resp->add_tensor());
    return grpc::Status::OK;
  }
  grpc::Status CloseSession(grpc::ServerContext*, const rpc::CloseSessionRequest* req,
                            rpc::CloseSessionResponse*) override {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(req->session_handle());
    return grpc::Status::OK;
  }

 private:
  absl::StatusOr<std::shared_ptr<MasterSession>> Find(const std::string& handle) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(handle);
    if (it == sessions_.end()) {
      return absl::NotFoundError(
          absl::StrCat("no master session '", handle, "' (closed, or the task restarted)"));
    }
    return it->second;
  }

  const TaskConfig task_;
  WorkerCache* const workers_;
  const absl::Duration timeout_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<MasterSession>> sessions_;  // protected by mu_
  int64_t next_id_ = 1;                                             // protected by mu_
};

}  // namespace

class GrpcServer::Impl {
 public:
  Impl(const TaskConfig& task, const ServerOptions& options)
      : cache(task.cluster, options.operation_timeout),
        worker({task.job, task.index, options.inter_op_threads, options.intra_op_threads}, &cache),
        worker_service(&worker, options.operation_timeout),
        master_service(task, &cache, options.operation_timeout) {}

  GrpcWorkerCache cache;
  Worker worker;
  WorkerServiceImpl worker_service;
  MasterServiceImpl master_service;
  std::unique_ptr<grpc::Server> server;
  std::string address;
};

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(const TaskConfig& task,
                                                              const ServerOptions& options) {
  ASSIGN_OR_RETURN(std::string address, task.cluster.TaskAddress(task.job, task.index));
  std::string port = address.substr(address.rfind(':') + 1);
  auto impl = std::make_unique<Impl>(task, options);
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(absl::StrCat("0.0.0.0:", port), grpc::InsecureServerCredentials(),
                           &bound_port);
  rpc_util::ConfigureServer(&builder);
  builder.RegisterService(&impl->worker_service);
  builder.RegisterService(&impl->master_service);
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || bound_port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on port ", port,
                                               " for task /job:", task.job, "/task:", task.index,
                                               " (is the port in use?)"));
  }
  impl->address = address;
  return std::unique_ptr<GrpcServer>(new GrpcServer(task, std::move(impl)));
}

GrpcServer::GrpcServer(TaskConfig task, std::unique_ptr<Impl> impl)
    : task_(std::move(task)), impl_(std::move(impl)) {}

GrpcServer::~GrpcServer() { Shutdown(); }

std::string GrpcServer::target() const { return absl::StrCat("grpc://", impl_->address); }
Worker* GrpcServer::worker() { return &impl_->worker; }
WorkerCache* GrpcServer::worker_cache() { return &impl_->cache; }

void GrpcServer::Shutdown(absl::Duration grace) {
  if (impl_->server) {
    impl_->server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    impl_->server->Wait();
    impl_->server.reset();
  }
}

}  // namespace braid::distributed
