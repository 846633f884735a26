// TF Serving's gRPC API over a ServerCore: tensorflow.serving.PredictionService
// (Predict, Classify, Regress, GetModelMetadata; MultiInference answers
// UNIMPLEMENTED), tensorflow.serving.ModelService (GetModelStatus,
// HandleReloadConfigRequest) and the standard grpc.health.v1.Health service
// (SERVING once every model has an available version).
//
// Messages are TF Serving's (proto/tensorflow_serving), so its clients work
// unchanged. Message size limits are raised to 2 GiB both ways: a large batch
// never meets gRPC's 4 MiB default here (clients keep their own limits).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "braid/serving/inference.h"
#include "braid/serving/server_core.h"

namespace grpc {
class Server;
}

namespace braid::serving {

struct GrpcServerOptions {
  std::string address = "0.0.0.0:8500";  // port 0: any free port (see GrpcServer::port)
  int64_t max_tensor_elements = kDefaultMaxTensorElements;
  // Threads kept waiting for calls between bursts (more are started as
  // concurrent calls need them).
  int max_idle_threads = 64;
};

class GrpcServer {
 public:
  // The core is not owned and must outlive the server; reload requests
  // change it.
  GrpcServer(ServerCore* core, GrpcServerOptions options);
  ~GrpcServer();  // Stop()

  // Unavailable when the address cannot be bound.
  absl::Status Start();
  int port() const { return port_; }
  // Tells health checks whether the server is ready (ServerCore::Ready).
  void SetServing(bool serving);
  // Stops accepting calls and returns once the calls in flight are answered.
  void Stop();

 private:
  class PredictionServiceImpl;
  class ModelServiceImpl;

  ServerCore* core_;
  const GrpcServerOptions options_;
  std::unique_ptr<PredictionServiceImpl> prediction_;
  std::unique_ptr<ModelServiceImpl> model_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  int serving_ = -1;  // the health status last set: -1 none yet, 0 or 1
};

}  // namespace braid::serving
