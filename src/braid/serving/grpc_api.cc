#include "braid/serving/grpc_api.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <climits>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "braid/base/status_macros.h"
#include "braid/serving/classify_regress.h"
#include "braid/serving/metrics.h"
#include "braid/serving/model_server_config.h"
#include "braid/tensor/tensor_proto.h"
#include "tensorflow_serving/apis/model_service.grpc.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

namespace braid::serving {
namespace {

namespace tfs = tensorflow::serving;

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

absl::StatusOr<ModelSpec> SpecFrom(const tfs::ModelSpec& proto) {
  if (proto.name().empty()) return absl::InvalidArgumentError("model_spec.name is empty");
  ModelSpec spec{proto.name(), std::nullopt, std::nullopt};
  if (proto.has_version()) spec.version = proto.version().value();
  if (proto.version_choice_case() == tfs::ModelSpec::kVersionLabel) {
    spec.label = proto.version_label();
  }
  return spec;
}

void FillSpec(const std::string& name, int64_t version, const std::string& signature,
              tfs::ModelSpec* out) {
  out->set_name(name);
  out->mutable_version()->set_value(version);
  out->set_signature_name(signature);
}

void FillSignatureDefMap(const SignatureMap& signatures, tfs::SignatureDefMap* out) {
  for (const auto& [key, sig] : signatures) {
    tensorflow::SignatureDef& def = (*out->mutable_signature_def())[key];
    auto fill = [](const std::map<std::string, TensorInfo>& from,
                   google::protobuf::Map<std::string, tensorflow::TensorInfo>* to) {
      for (const auto& [alias, info] : from) {
        tensorflow::TensorInfo& t = (*to)[alias];
        t.set_name(info.name);
        t.set_dtype(static_cast<tensorflow::DataType>(info.dtype));
        ShapeToProto(info.shape, t.mutable_tensor_shape());
      }
    };
    fill(sig.inputs, def.mutable_inputs());
    fill(sig.outputs, def.mutable_outputs());
    def.set_method_name(sig.method_name);
  }
}

// The declared element count of a request tensor, checked before it is
// built (TensorFromProto would expand one value to the whole shape).
absl::Status CheckDeclaredSize(const tensorflow::TensorProto& t, const std::string& alias,
                               int64_t max_elements) {
  int64_t n = 1;
  for (const auto& d : t.tensor_shape().dim()) {
    if (d.size() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", alias, "' has a dimension of size ", d.size()));
    }
    if (d.size() > 0 && n > max_elements / d.size()) {
      n = max_elements + 1;
      break;
    }
    n *= d.size();
  }
  return CheckElementCount(n, max_elements, absl::StrCat("input '", alias, "'"));
}

absl::StatusOr<ExamplesInput> ExamplesFrom(const tfs::Input& input) {
  ExamplesInput out;
  switch (input.kind_case()) {
    case tfs::Input::kExampleList:
      for (const auto& e : input.example_list().examples()) out.examples.push_back(&e);
      break;
    case tfs::Input::kExampleListWithContext:
      for (const auto& e : input.example_list_with_context().examples()) {
        out.examples.push_back(&e);
      }
      out.context = &input.example_list_with_context().context();
      break;
    default:
      return absl::InvalidArgumentError("the request's input holds no example list");
  }
  if (out.examples.empty()) return absl::InvalidArgumentError("the request has no examples");
  return out;
}

// Times and counts one call; `reached` is the version it was answered by.
class CallMetrics {
 public:
  CallMetrics(const char* api, const tfs::ModelSpec& spec) : api_(api), model_(spec.name()) {}
  grpc::Status Done(const absl::Status& s) {
    const std::string version = reached ? std::to_string(reached->version) : "";
    Metrics().request_count.Increment(
        {model_, version, api_, "GRPC", s.ok() ? "OK" : absl::StatusCodeToString(s.code())});
    Metrics().request_latency.Observe({model_, version, api_, "GRPC"},
                                      (absl::GetCurrentTimeNanos() - start_) / 1000.0);
    return ToGrpc(s);
  }
  std::shared_ptr<const LoadedVersion> reached;

 private:
  const char* api_;
  std::string model_;
  const int64_t start_ = absl::GetCurrentTimeNanos();
};

}  // namespace

class GrpcServer::PredictionServiceImpl final : public tfs::PredictionService::Service {
 public:
  PredictionServiceImpl(const ServerCore* core, int64_t max_elements)
      : core_(core), max_elements_(max_elements) {}

  grpc::Status Predict(grpc::ServerContext*, const tfs::PredictRequest* request,
                       tfs::PredictResponse* response) override {
    CallMetrics call("predict", request->model_spec());
    return call.Done(DoPredict(*request, response, &call.reached));
  }

  grpc::Status Classify(grpc::ServerContext*, const tfs::ClassificationRequest* request,
                        tfs::ClassificationResponse* response) override {
    CallMetrics call("classify", request->model_spec());
    return call.Done(DoClassify(*request, response, &call.reached));
  }

  grpc::Status Regress(grpc::ServerContext*, const tfs::RegressionRequest* request,
                       tfs::RegressionResponse* response) override {
    CallMetrics call("regress", request->model_spec());
    return call.Done(DoRegress(*request, response, &call.reached));
  }

  grpc::Status GetModelMetadata(grpc::ServerContext*, const tfs::GetModelMetadataRequest* request,
                                tfs::GetModelMetadataResponse* response) override {
    CallMetrics call("metadata", request->model_spec());
    return call.Done(DoMetadata(*request, response, &call.reached));
  }

  grpc::Status MultiInference(grpc::ServerContext*, const tfs::MultiInferenceRequest*,
                              tfs::MultiInferenceResponse*) override {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "MultiInference is not implemented; call Classify or Regress");
  }

 private:
  using Reached = std::shared_ptr<const LoadedVersion>;

  // The version and signature (of `method`) a call's model spec reaches;
  // `answered` is the response's model spec, naming both.
  absl::StatusOr<FoundSignature> Resolve(const tfs::ModelSpec& asked, const char* method,
                                         Reached* reached, tfs::ModelSpec* answered) const {
    ASSIGN_OR_RETURN(ModelSpec spec, SpecFrom(asked));
    ASSIGN_OR_RETURN(*reached, core_->Get(spec));
    ASSIGN_OR_RETURN(FoundSignature found,
                     FindSignature(**reached, asked.signature_name(), method));
    FillSpec(spec.name, (*reached)->version, found.name, answered);
    return found;
  }

  absl::Status DoPredict(const tfs::PredictRequest& request, tfs::PredictResponse* response,
                         Reached* reached) const {
    ASSIGN_OR_RETURN(FoundSignature found, Resolve(request.model_spec(), kPredictMethodName, reached,
                                                   response->mutable_model_spec()));
    std::map<std::string, Tensor> inputs;
    for (const auto& [alias, proto] : request.inputs()) {
      RETURN_IF_ERROR(CheckDeclaredSize(proto, alias, max_elements_));
      absl::StatusOr<Tensor> t = TensorFromProto(proto);
      if (!t.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("input '", alias, "': ", t.status().message()));
      }
      inputs.emplace(alias, *std::move(t));
    }
    std::set<std::string> filter(request.output_filter().begin(), request.output_filter().end());
    ASSIGN_OR_RETURN(auto outputs, RunSignature(**reached, found, std::move(inputs), filter));
    for (const auto& [alias, t] : outputs) TensorToProto(t, &(*response->mutable_outputs())[alias]);
    return absl::OkStatus();
  }

  absl::Status DoClassify(const tfs::ClassificationRequest& request,
                          tfs::ClassificationResponse* response, Reached* reached) const {
    ASSIGN_OR_RETURN(FoundSignature found, Resolve(request.model_spec(), kClassifyMethodName, reached,
                                                   response->mutable_model_spec()));
    ASSIGN_OR_RETURN(ExamplesInput input, ExamplesFrom(request.input()));
    ASSIGN_OR_RETURN(Classifications result,
                     serving::Classify(**reached, found, input, max_elements_));
    for (const auto& row : result) {
      tfs::Classifications* c = response->mutable_result()->add_classifications();
      for (const auto& [label, score] : row) {
        tfs::Class* cls = c->add_classes();
        cls->set_label(label);
        cls->set_score(score);
      }
    }
    return absl::OkStatus();
  }

  absl::Status DoRegress(const tfs::RegressionRequest& request, tfs::RegressionResponse* response,
                         Reached* reached) const {
    ASSIGN_OR_RETURN(FoundSignature found, Resolve(request.model_spec(), kRegressMethodName, reached,
                                                   response->mutable_model_spec()));
    ASSIGN_OR_RETURN(ExamplesInput input, ExamplesFrom(request.input()));
    ASSIGN_OR_RETURN(std::vector<float> values,
                     serving::Regress(**reached, found, input, max_elements_));
    for (float v : values) response->mutable_result()->add_regressions()->set_value(v);
    return absl::OkStatus();
  }

  absl::Status DoMetadata(const tfs::GetModelMetadataRequest& request,
                          tfs::GetModelMetadataResponse* response, Reached* reached) const {
    ASSIGN_OR_RETURN(ModelSpec spec, SpecFrom(request.model_spec()));
    if (request.metadata_field().empty()) {
      return absl::InvalidArgumentError(
          "GetModelMetadataRequest must name at least one metadata_field (\"signature_def\")");
    }
    for (const std::string& field : request.metadata_field()) {
      if (field != "signature_def") {
        return absl::InvalidArgumentError(absl::StrCat(
            "metadata_field '", field, "' is not supported; the only one is \"signature_def\""));
      }
    }
    ASSIGN_OR_RETURN(*reached, core_->Get(spec));
    tfs::SignatureDefMap map;
    FillSignatureDefMap((*reached)->signatures, &map);
    (*response->mutable_metadata())["signature_def"].PackFrom(map);
    FillSpec(spec.name, (*reached)->version, "", response->mutable_model_spec());
    return absl::OkStatus();
  }

  const ServerCore* core_;
  const int64_t max_elements_;
};

class GrpcServer::ModelServiceImpl final : public tfs::ModelService::Service {
 public:
  explicit ModelServiceImpl(ServerCore* core) : core_(core) {}

  grpc::Status GetModelStatus(grpc::ServerContext*, const tfs::GetModelStatusRequest* request,
                              tfs::GetModelStatusResponse* response) override {
    CallMetrics call("status", request->model_spec());
    return call.Done(DoStatus(*request, response));
  }

  grpc::Status HandleReloadConfigRequest(grpc::ServerContext*,
                                         const tfs::ReloadConfigRequest* request,
                                         tfs::ReloadConfigResponse* response) override {
    absl::Status s = Reload(*request);
    response->mutable_status()->set_error_code(static_cast<tensorflow::error::Code>(s.code()));
    response->mutable_status()->set_error_message(std::string(s.message()));
    std::fprintf(stderr, "braid serve: reload config request: %s\n", s.ToString().c_str());
    return ToGrpc(s);
  }

 private:
  absl::Status DoStatus(const tfs::GetModelStatusRequest& request,
                        tfs::GetModelStatusResponse* response) const {
    ASSIGN_OR_RETURN(ModelSpec spec, SpecFrom(request.model_spec()));
    ASSIGN_OR_RETURN(std::vector<VersionStatus> statuses, core_->Statuses(spec));
    for (const VersionStatus& s : statuses) {
      tfs::ModelVersionStatus* out = response->add_model_version_status();
      out->set_version(s.version);
      out->set_state(static_cast<tfs::ModelVersionStatus::State>(
          10 * (static_cast<int>(s.state) + 1)));  // START = 10 ... END = 50
      out->mutable_status()->set_error_code(
          static_cast<tensorflow::error::Code>(s.status.code()));
      out->mutable_status()->set_error_message(std::string(s.status.message()));
    }
    return absl::OkStatus();
  }

  absl::Status Reload(const tfs::ReloadConfigRequest& request) {
    ASSIGN_OR_RETURN(std::vector<ServedModel> models, ModelsFromConfig(request.config()));
    return core_->ApplyConfig(models);
  }

  ServerCore* core_;
};

GrpcServer::GrpcServer(ServerCore* core, GrpcServerOptions options)
    : core_(core),
      options_(std::move(options)),
      prediction_(std::make_unique<PredictionServiceImpl>(core, options_.max_tensor_elements)),
      model_(std::make_unique<ModelServiceImpl>(core)) {}

GrpcServer::~GrpcServer() { Stop(); }

absl::Status GrpcServer::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.address, grpc::InsecureServerCredentials(), &port_);
  // The synchronous server starts a thread when no poller is free and ends
  // it when more than MAX_POLLERS are idle: with gRPC's default of 2, every
  // request beyond two concurrent ones paid for a thread start.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              options_.max_idle_threads);
  builder.SetMaxReceiveMessageSize(INT_MAX);
  builder.SetMaxSendMessageSize(INT_MAX);
  builder.RegisterService(prediction_.get());
  builder.RegisterService(model_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", options_.address, " (in use?)"));
  }
  SetServing(core_->Ready());
  return absl::OkStatus();
}

void GrpcServer::SetServing(bool serving) {
  if (server_ == nullptr) return;
  if (serving_ == static_cast<int>(serving)) return;
  serving_ = serving;
  if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(serving);
    health->SetServingStatus("tensorflow.serving.PredictionService", serving);
    health->SetServingStatus("tensorflow.serving.ModelService", serving);
  }
}

void GrpcServer::Stop() {
  if (server_ == nullptr) return;
  server_->Shutdown();  // answers the calls in flight, refuses new ones
  server_->Wait();
  server_.reset();
}

}  // namespace braid::serving
