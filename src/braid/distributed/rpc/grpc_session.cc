#include "braid/distributed/rpc/grpc_session.h"

#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/distributed/rpc/grpc_util.h"
#include "braid/tensor/tensor_proto.h"
#include "braid/worker_service.grpc.pb.h"
#include "tensorflow/core/framework/graph.pb.h"

namespace braid::distributed {
namespace {

class GrpcSession : public Session {
 public:
  GrpcSession(std::string address, std::shared_ptr<Graph> graph, absl::Duration timeout)
      : peer_(absl::StrCat("master ", address)),
        graph_(std::move(graph)),
        timeout_(timeout),
        stub_(rpc::MasterService::NewStub(grpc::CreateCustomChannel(
            address, grpc::InsecureChannelCredentials(), rpc_util::ChannelArgs()))) {}

  ~GrpcSession() override {
    if (handle_.empty()) return;
    grpc::ClientContext ctx;
    rpc_util::SetDeadline(&ctx, absl::Seconds(2));
    rpc::CloseSessionRequest req;
    req.set_session_handle(handle_);
    rpc::CloseSessionResponse resp;
    stub_->CloseSession(&ctx, req, &resp);  // best effort
  }

  Graph* graph() override { return graph_.get(); }

  absl::Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                   const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
                   std::vector<Tensor>* outputs) override {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(SyncGraph());
    rpc::RunStepRequest req;
    req.set_session_handle(handle_);
    for (const auto& [name, value] : feeds) {
      rpc::NamedTensor* f = req.add_feed();
      f->set_name(name);
      TensorToProto(value, f->mutable_tensor());
    }
    for (const std::string& f : fetches) req.add_fetch(f);
    for (const std::string& t : targets) req.add_target(t);
    grpc::ClientContext ctx;
    rpc_util::SetDeadline(&ctx, timeout_);
    rpc::RunStepResponse resp;
    RETURN_IF_ERROR(rpc_util::FromGrpc(stub_->RunStep(&ctx, req, &resp), peer_));
    outputs->clear();
    for (const tensorflow::TensorProto& t : resp.tensor()) {
      ASSIGN_OR_RETURN(Tensor value, TensorFromProto(t));
      outputs->push_back(std::move(value));
    }
    return absl::OkStatus();
  }

 private:
  // Creates the remote session, or sends the whole graph again if it grew.
  absl::Status SyncGraph() {
    if (!handle_.empty() && sent_nodes_ == graph_->num_nodes()) return absl::OkStatus();
    grpc::ClientContext ctx;
    rpc_util::SetDeadline(&ctx, timeout_);
    if (handle_.empty()) {
      ctx.set_wait_for_ready(true);  // the master may still be starting
      rpc::CreateSessionRequest req;
      graph_->ToGraphDef(req.mutable_graph_def());
      rpc::CreateSessionResponse resp;
      RETURN_IF_ERROR(rpc_util::FromGrpc(stub_->CreateSession(&ctx, req, &resp), peer_));
      handle_ = resp.session_handle();
    } else {
      rpc::ExtendSessionRequest req;
      req.set_session_handle(handle_);
      graph_->ToGraphDef(req.mutable_graph_def());
      rpc::ExtendSessionResponse resp;
      RETURN_IF_ERROR(rpc_util::FromGrpc(stub_->ExtendSession(&ctx, req, &resp), peer_));
    }
    sent_nodes_ = graph_->num_nodes();
    return absl::OkStatus();
  }

  const std::string peer_;
  std::shared_ptr<Graph> graph_;
  const absl::Duration timeout_;
  std::unique_ptr<rpc::MasterService::Stub> stub_;
  std::mutex mu_;
  std::string handle_;  // protected by mu_
  int sent_nodes_ = 0;  // protected by mu_
};

}  // namespace

absl::StatusOr<std::unique_ptr<Session>> NewGrpcSession(const std::string& target,
                                                        std::shared_ptr<Graph> graph,
                                                        absl::Duration timeout) {
  if (graph == nullptr) return absl::InvalidArgumentError("NewGrpcSession: graph is null");
  std::string address = target;
  if (absl::StartsWith(address, "grpc://")) address = address.substr(7);
  if (address.empty() || address.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("session target '", target, "' is not of the form grpc://host:port"));
  }
  return std::unique_ptr<Session>(new GrpcSession(address, std::move(graph), timeout));
}

}  // namespace braid::distributed
