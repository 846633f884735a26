#include "braid/serving/grpc_api.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "braid/serving/test_model.h"
#include "braid/tensor/tensor_proto.h"
#include "tensorflow_serving/apis/model_service.grpc.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

namespace braid::serving {
namespace {

namespace fs = std::filesystem;
namespace tfs = tensorflow::serving;
using ::testing::HasSubstr;

class GrpcApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = ::testing::TempDir() + "/grpc_api_test_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
            std::to_string(getpid());
    fs::remove_all(base_);
    fs::create_directories(base_);
    ManagerOptions options;
    options.poll_seconds = 3600;
    core_ = std::make_unique<ServerCore>(options);
    ASSERT_TRUE(core_->ApplyConfig({{{"tiny", base_, {}}, {}}}).ok());
    ASSERT_TRUE(testing::ExportTinyModel(base_, 1, 1.0f).ok());
    core_->PollOnce();
    GrpcServerOptions server_options;
    server_options.address = "127.0.0.1:0";
    server_options.max_tensor_elements = 1000;
    server_ = std::make_unique<GrpcServer>(core_.get(), server_options);
    ASSERT_TRUE(server_->Start().ok());
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                       grpc::InsecureChannelCredentials());
    predict_ = tfs::PredictionService::NewStub(channel);
    models_ = tfs::ModelService::NewStub(channel);
  }
  void TearDown() override { server_->Stop(); }

  grpc::Status Predict(const tfs::PredictRequest& request, tfs::PredictResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return predict_->Predict(&context, request, response);
  }
  static tfs::PredictRequest Request(const Tensor& x, TensorEncoding encoding) {
    tfs::PredictRequest request;
    request.mutable_model_spec()->set_name("tiny");
    TensorToProto(x, &(*request.mutable_inputs())["x"], encoding);
    return request;
  }

  std::string base_;
  std::unique_ptr<ServerCore> core_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<tfs::PredictionService::Stub> predict_;
  std::unique_ptr<tfs::ModelService::Stub> models_;
};

TEST_F(GrpcApiTest, PredictTakesTensorContentAndTypedValues) {
  const Tensor x = Tensor::FromVector<float>({1, 0, 0, 0, 0, 1}, {2, 3});
  for (TensorEncoding encoding : {TensorEncoding::kTensorContent, TensorEncoding::kTypedValues}) {
    tfs::PredictResponse response;
    grpc::Status s = Predict(Request(x, encoding), &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.model_spec().name(), "tiny");
    EXPECT_EQ(response.model_spec().version().value(), 1);
    EXPECT_EQ(response.model_spec().signature_name(), "serving_default");
    absl::StatusOr<Tensor> y = TensorFromProto(response.outputs().at("y"));
    ASSERT_TRUE(y.ok());
    // [1,0,0] -> [1.5, 1.5]; [0,0,1] -> [5.5, 5.5]
    EXPECT_EQ(y->shape(), (TensorShape{2, 2}));
    EXPECT_THAT(std::vector<float>(y->data<float>(), y->data<float>() + 4),
                ::testing::ElementsAre(1.5f, 1.5f, 5.5f, 5.5f));
  }
}

TEST_F(GrpcApiTest, OutputFilterAndSignatureName) {
  tfs::PredictRequest request =
      Request(Tensor::FromVector<float>({1, 0, 0}, {1, 3}), TensorEncoding::kTensorContent);
  request.mutable_model_spec()->set_signature_name("two");
  request.add_output_filter("twice");
  tfs::PredictResponse response;
  ASSERT_TRUE(Predict(request, &response).ok());
  ASSERT_EQ(response.outputs().size(), 1u);
  EXPECT_EQ(TensorFromProto(response.outputs().at("twice"))->data<float>()[0], 3.0f);
}

TEST_F(GrpcApiTest, BadRequestsGetTheRightCodes) {
  auto expect = [&](tfs::PredictRequest request, grpc::StatusCode code,
                    const std::string& message) {
    tfs::PredictResponse response;
    grpc::Status s = Predict(request, &response);
    EXPECT_EQ(s.error_code(), code) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(message));
  };
  const Tensor x = Tensor::FromVector<float>({1, 0, 0}, {1, 3});
  tfs::PredictRequest r = Request(x, TensorEncoding::kTensorContent);
  r.mutable_model_spec()->set_name("nope");
  expect(r, grpc::StatusCode::NOT_FOUND, "model 'nope' is not served here");
  r = Request(x, TensorEncoding::kTensorContent);
  r.mutable_model_spec()->mutable_version()->set_value(7);
  expect(r, grpc::StatusCode::NOT_FOUND, "no version 7");
  r = Request(x, TensorEncoding::kTensorContent);
  r.mutable_model_spec()->set_version_label("stable");
  expect(r, grpc::StatusCode::NOT_FOUND, "no version label 'stable'");
  expect(Request(Tensor::FromVector<int64_t>({1, 0, 0}, {1, 3}), TensorEncoding::kTensorContent),
         grpc::StatusCode::INVALID_ARGUMENT, "input 'x' is DT_INT64 but signature");
  expect(Request(Tensor::FromVector<float>({1, 0}, {1, 2}), TensorEncoding::kTensorContent),
         grpc::StatusCode::INVALID_ARGUMENT, "input 'x' has shape [1,2]");
  r = Request(x, TensorEncoding::kTensorContent);
  r.mutable_inputs()->erase("x");
  expect(r, grpc::StatusCode::INVALID_ARGUMENT, "missing input 'x'");
  r = Request(x, TensorEncoding::kTensorContent);
  (*r.mutable_inputs())["z"] = r.inputs().at("x");
  expect(r, grpc::StatusCode::INVALID_ARGUMENT, "input 'z' is not in signature");
  r = Request(x, TensorEncoding::kTensorContent);
  r.add_output_filter("nope");
  expect(r, grpc::StatusCode::INVALID_ARGUMENT, "output_filter names 'nope'");
  r = Request(x, TensorEncoding::kTensorContent);
  r.mutable_model_spec()->set_signature_name("classify");
  expect(r, grpc::StatusCode::INVALID_ARGUMENT, "has method 'tensorflow/serving/classify'");
  // A declared shape of 10^12 elements with a single value is refused
  // before anything is allocated.
  r = Request(x, TensorEncoding::kTypedValues);
  tensorflow::TensorProto& huge = (*r.mutable_inputs())["x"];
  huge.mutable_tensor_shape()->mutable_dim(0)->set_size(1000000000000 / 3);
  huge.mutable_tensor_shape()->mutable_dim(1)->set_size(3);
  huge.clear_float_val();
  huge.add_float_val(1);
  expect(r, grpc::StatusCode::INVALID_ARGUMENT, "more than the limit of 1000");
  r = Request(x, TensorEncoding::kTensorContent);
  (*r.mutable_inputs())["x"].set_tensor_content("abc");
  expect(r, grpc::StatusCode::INVALID_ARGUMENT, "input 'x'");
}

TEST_F(GrpcApiTest, MetadataIsAnAnyOfSignatureDefMap) {
  tfs::GetModelMetadataRequest request;
  request.mutable_model_spec()->set_name("tiny");
  tfs::GetModelMetadataResponse response;
  {
    grpc::ClientContext context;
    EXPECT_EQ(predict_->GetModelMetadata(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);  // no metadata_field
  }
  request.add_metadata_field("signature_def");
  grpc::ClientContext context;
  ASSERT_TRUE(predict_->GetModelMetadata(&context, request, &response).ok());
  EXPECT_EQ(response.model_spec().version().value(), 1);
  const google::protobuf::Any& any = response.metadata().at("signature_def");
  EXPECT_EQ(any.type_url(), "type.googleapis.com/tensorflow.serving.SignatureDefMap");
  tfs::SignatureDefMap map;
  ASSERT_TRUE(any.UnpackTo(&map));
  const tensorflow::SignatureDef& def = map.signature_def().at("serving_default");
  EXPECT_EQ(def.method_name(), "tensorflow/serving/predict");
  EXPECT_EQ(def.inputs().at("x").name(), "x:0");
  EXPECT_EQ(def.inputs().at("x").dtype(), tensorflow::DT_FLOAT);
  EXPECT_EQ(def.inputs().at("x").tensor_shape().dim(0).size(), -1);
  EXPECT_EQ(def.inputs().at("x").tensor_shape().dim(1).size(), 3);
  EXPECT_EQ(map.signature_def().size(), 4u);
}

TEST_F(GrpcApiTest, ClassifyAndRegressFromExamples) {
  tfs::ClassificationRequest request;
  request.mutable_model_spec()->set_name("tiny");
  request.mutable_model_spec()->set_signature_name("classify");
  auto* list = request.mutable_input()->mutable_example_list_with_context();
  list->add_examples();  // x from the context
  auto* x = &(*list->add_examples()->mutable_features()->mutable_feature())["x"];
  for (float v : {1.0f, 0.0f, 0.0f}) x->mutable_float_list()->add_value(v);
  auto* ctx = &(*list->mutable_context()->mutable_features()->mutable_feature())["x"];
  for (int64_t v : {0, 0, 1}) ctx->mutable_int64_list()->add_value(v);
  tfs::ClassificationResponse response;
  grpc::ClientContext context;
  grpc::Status s = predict_->Classify(&context, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.result().classifications_size(), 2);
  EXPECT_EQ(response.result().classifications(0).classes(1).label(), "b");
  EXPECT_EQ(response.result().classifications(0).classes(1).score(), 5.5f);
  EXPECT_EQ(response.result().classifications(1).classes(0).score(), 1.5f);

  tfs::RegressionRequest regress;
  regress.mutable_model_spec()->set_name("tiny");
  regress.mutable_model_spec()->set_signature_name("regress");
  *regress.mutable_input() = request.input();
  tfs::RegressionResponse values;
  grpc::ClientContext context2;
  ASSERT_TRUE(predict_->Regress(&context2, regress, &values).ok());
  ASSERT_EQ(values.result().regressions_size(), 2);
  EXPECT_EQ(values.result().regressions(0).value(), 11.0f);
  EXPECT_EQ(values.result().regressions(1).value(), 3.0f);
}

TEST_F(GrpcApiTest, StatusAndReloadConfig) {
  tfs::GetModelStatusRequest request;
  request.mutable_model_spec()->set_name("tiny");
  tfs::GetModelStatusResponse response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(models_->GetModelStatus(&context, request, &response).ok());
  }
  ASSERT_EQ(response.model_version_status_size(), 1);
  EXPECT_EQ(response.model_version_status(0).version(), 1);
  EXPECT_EQ(response.model_version_status(0).state(), tfs::ModelVersionStatus::AVAILABLE);
  EXPECT_EQ(response.model_version_status(0).status().error_code(), tensorflow::error::OK);

  // A second model under another name with a label; an invalid config is
  // refused and changes nothing.
  tfs::ReloadConfigRequest reload;
  auto* list = reload.mutable_config()->mutable_model_config_list();
  auto* tiny = list->add_config();
  tiny->set_name("tiny");
  tiny->set_base_path(base_);
  auto* other = list->add_config();
  other->set_name("other");
  other->set_base_path(base_);
  (*other->mutable_version_labels())["stable"] = 1;
  tfs::ReloadConfigResponse reloaded;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(models_->HandleReloadConfigRequest(&context, reload, &reloaded).ok());
  }
  EXPECT_EQ(reloaded.status().error_code(), tensorflow::error::OK);
  auto served = [&](const std::string& label) {
    tfs::PredictRequest r =
        Request(Tensor::FromVector<float>({1, 0, 0}, {1, 3}), TensorEncoding::kTensorContent);
    r.mutable_model_spec()->set_name("other");
    r.mutable_model_spec()->set_version_label(label);
    tfs::PredictResponse out;
    return Predict(r, &out);
  };
  for (int i = 0; i < 600 && !served("stable").ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(served("stable").ok()) << served("stable").error_message();

  other->set_base_path("");
  {
    grpc::ClientContext context;
    grpc::Status s = models_->HandleReloadConfigRequest(&context, reload, &reloaded);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("model 'other' has no base_path"));
  }
  EXPECT_TRUE(served("stable").ok());
}

TEST_F(GrpcApiTest, LargeMessagesPassTheDefaultLimit) {
  // 400,000 rows x 3 floats: 4.8 MB, over gRPC's 4 MiB default.
  std::vector<float> values(400000 * 3, 0.0f);
  tfs::PredictRequest request =
      Request(Tensor::FromVector<float>(values, {400000, 3}), TensorEncoding::kTensorContent);
  server_->Stop();
  GrpcServerOptions options;
  options.address = "127.0.0.1:0";
  GrpcServer big(core_.get(), options);
  ASSERT_TRUE(big.Start().ok());
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto stub = tfs::PredictionService::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(big.port()), grpc::InsecureChannelCredentials(), args));
  tfs::PredictResponse response;
  grpc::ClientContext context;
  grpc::Status s = stub->Predict(&context, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.outputs().at("y").tensor_shape().dim(0).size(), 400000);
}

}  // namespace
}  // namespace braid::serving
