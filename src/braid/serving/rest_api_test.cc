#include "braid/serving/rest_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>

#include "braid/serving/metrics.h"
#include "braid/serving/rest_server.h"
#include "braid/serving/test_model.h"

namespace braid::serving {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using json = nlohmann::json;

class RestApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = ::testing::TempDir() + "/rest_api_test_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
            std::to_string(getpid());
    fs::remove_all(base_);
    fs::create_directories(base_);
    ManagerOptions options;
    options.poll_seconds = 3600;  // the tests poll themselves
    core_ = std::make_unique<ServerCore>(options);
    ASSERT_TRUE(core_->ApplyConfig({{{"tiny", base_, {}}, {}}}).ok());
    api_ = std::make_unique<RestApi>(core_.get());
  }
  void Export(int64_t version, float scale) {
    ASSERT_TRUE(testing::ExportTinyModel(base_, version, scale).ok());
    core_->PollOnce();
  }
  RestResponse Post(const std::string& path, const std::string& body) {
    return api_->Handle("POST", path, body);
  }

  std::string base_;
  std::unique_ptr<ServerCore> core_;
  std::unique_ptr<RestApi> api_;
};

TEST_F(RestApiTest, StatusInTfServingsShape) {
  EXPECT_EQ(api_->Handle("GET", "/v1/models/tiny", "").status, 404);  // nothing seen yet
  EXPECT_EQ(Post("/v1/models/tiny:predict", R"({"instances": [[1, 2, 3]]})").status, 503);
  EXPECT_FALSE(api_->Ready());
  Export(3, 1.0f);
  EXPECT_TRUE(api_->Ready());
  RestResponse r = api_->Handle("GET", "/v1/models/tiny", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"model_version_status":[{"version":"3","state":"AVAILABLE","status":)"
                    R"({"error_code":"OK","error_message":""}}]})");
  EXPECT_EQ(api_->Handle("GET", "/v1/models/tiny/versions/3", "").body, r.body);
  EXPECT_EQ(api_->Handle("GET", "/v1/models/tiny/versions/4", "").status, 404);
  EXPECT_EQ(api_->Handle("GET", "/v1/models/tiny/versions/x", "").status, 400);
  EXPECT_EQ(api_->Handle("GET", "/v1/models/other", "").status, 404);
  EXPECT_THAT(api_->Handle("GET", "/v1/models/other", "").body,
              HasSubstr(R"({"error":"model 'other' is not served here)"));
}

TEST_F(RestApiTest, MetadataInTfServingsShape) {
  Export(3, 1.0f);
  RestResponse r = api_->Handle("GET", "/v1/models/tiny/metadata", "");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["model_spec"], json::parse(R"({"name":"tiny","signature_name":"","version":"3"})"));
  const json& sig = j["metadata"]["signature_def"]["signature_def"]["serving_default"];
  EXPECT_EQ(sig["inputs"]["x"], json::parse(R"({"dtype":"DT_FLOAT","tensor_shape":{"dim":[
      {"size":"-1","name":""},{"size":"3","name":""}],"unknown_rank":false},"name":"x:0"})"));
  EXPECT_EQ(sig["method_name"], "tensorflow/serving/predict");
  EXPECT_TRUE(j["metadata"]["signature_def"]["signature_def"].contains("two"));
  EXPECT_EQ(api_->Handle("GET", "/v1/models/tiny/versions/9/metadata", "").status, 404);
}

TEST_F(RestApiTest, PredictRowAndColumnar) {
  Export(1, 1.0f);
  RestResponse r = Post("/v1/models/tiny:predict", R"({"instances": [[1, 0, 0], [0, 1, 0]]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"predictions":[[1.5,1.5],[3.5,3.5]]})");
  r = Post("/v1/models/tiny/versions/1:predict",
           R"({"signature_name": "two", "instances": [{"x": [1, 0, 0]}, {"x": [0, 0, 1]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      r.body,
      R"({"predictions":[{"twice":[3.0,3.0],"y":[1.5,1.5]},{"twice":[11.0,11.0],"y":[5.5,5.5]}]})");
  r = Post("/v1/models/tiny:predict", R"({"inputs": [[1, 0, 0]]})");
  EXPECT_EQ(r.body, R"({"outputs":[[1.5,1.5]]})");
  r = Post("/v1/models/tiny:predict", R"({"signature_name": "two", "inputs": {"x": [[1, 0, 0]]}})");
  EXPECT_EQ(r.body, R"({"outputs":{"twice":[[3.0,3.0]],"y":[[1.5,1.5]]}})");
  r = Post("/v1/models/tiny:predict", R"({"instances": [[NaN, 0, 0]]})");
  EXPECT_EQ(r.body, R"({"predictions":[[NaN,NaN]]})");
}

TEST_F(RestApiTest, PredictErrorsMapToTfServingsStatusCodes) {
  Export(1, 1.0f);
  auto expect = [&](const std::string& body, int status, const std::string& message) {
    RestResponse r = Post("/v1/models/tiny:predict", body);
    EXPECT_EQ(r.status, status) << body << " -> " << r.body;
    json j = json::parse(r.body);
    ASSERT_TRUE(j.contains("error")) << r.body;
    EXPECT_THAT(j["error"].get<std::string>(), HasSubstr(message)) << body;
  };
  expect(R"({"instances": [[1, 2, 3]])", 400, "malformed JSON");
  expect(R"({"instances": [[1, 2]]})", 400, "input 'x' has shape [1,2] but signature");
  expect(R"({"instances": [["a", 2, 3]]})", 400, "expected number values");
  expect(R"({"signature_name": "nope", "instances": [[1, 2, 3]]})", 400,
         "\"nope\" not found in signature def");
  expect(R"({"instances": [{"z": [1, 2, 3]}]})", 400, "names input 'z'");
  expect(R"({"signature_name": "two", "inputs": {}})", 400, "missing input 'x'");
  expect(R"({"instances": [[1, 2, 3]], "inputs": [[1, 2, 3]]})", 400, "both");
  expect(R"({"instance": [[1, 2, 3]]})", 400, "needs 'instances'");
  expect(R"({"instances": []})", 400, "non-empty");
  EXPECT_EQ(Post("/v1/models/tiny/versions/2:predict", R"({"instances": [[1, 2, 3]]})").status,
            404);
  EXPECT_EQ(Post("/v1/models/nope:predict", R"({"instances": [[1, 2, 3]]})").status, 404);
  EXPECT_EQ(Post("/v1/models/tiny:classify", R"({"examples": [{"x": [1, 2, 3]}]})").status, 400);
  EXPECT_EQ(api_->Handle("GET", "/v2/x", "").status, 404);
}

TEST_F(RestApiTest, ClassifyAndRegressInTfServingsShape) {
  Export(1, 1.0f);
  // y = x @ [[1, 2], [3, 4], [5, 6]] + [0.5, -0.5]; the context supplies x
  // for the second example.
  RestResponse r = Post("/v1/models/tiny:classify",
                        R"({"signature_name": "classify", "context": {"x": [0, 1, 0]},
                            "examples": [{"x": [1, 0, 0]}, {}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"results":[[["a",1.5],["b",1.5]],[["a",3.5],["b",3.5]]]})");
  r = Post("/v1/models/tiny:regress",
           R"({"signature_name": "regress", "examples": [{"x": [1.0, 0, 0]}, {"x": [0, 0, 1]}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"results":[3.0,11.0]})");
  auto expect = [&](const std::string& verb, const std::string& body, const std::string& message) {
    RestResponse e = Post("/v1/models/tiny:" + verb, body);
    EXPECT_EQ(e.status, 400) << body << " -> " << e.body;
    EXPECT_THAT(e.body, HasSubstr(message)) << body;
  };
  expect("classify", R"({"signature_name": "classify", "examples": [{"x": [1, 2]}]})",
         "feature 'x' of example 0 has 2 values; input 'x' needs 3");
  expect("classify", R"({"signature_name": "classify", "examples": [{"y": [1, 2, 3]}]})",
         "example 0 has no feature 'x'");
  expect("classify", R"({"signature_name": "classify", "examples": [{"x": ["a", 2, 3]}]})",
         "mixes strings and numbers");
  expect("classify", R"({"signature_name": "classify", "examples": []})", "non-empty");
  expect("regress", R"({"signature_name": "classify", "examples": [{"x": [1, 2, 3]}]})",
         "has method 'tensorflow/serving/classify', not 'tensorflow/serving/regress'");
  expect("regress", R"({"signature_name": "regress", "examples": [{"x": {"b64": "!!"}}]})",
         "not valid base64");
}

TEST_F(RestApiTest, VersionLabelsReachOnlyAvailableVersions) {
  Export(1, 1.0f);
  ASSERT_TRUE(core_->ApplyConfig({{{"tiny", base_, {VersionPolicy::Kind::kAll}},
                                   {{"stable", 1}, {"canary", 2}}}})
                  .ok());
  core_->PollOnce();
  const std::string one = R"({"instances": [[1, 0, 0]]})";
  EXPECT_EQ(Post("/v1/models/tiny/labels/stable:predict", one).body,
            R"({"predictions":[[1.5,1.5]]})");
  // canary points to version 2, which does not exist yet.
  RestResponse r = Post("/v1/models/tiny/labels/canary:predict", one);
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("points to version 2, which is not available"));
  EXPECT_EQ(Post("/v1/models/tiny/labels/nope:predict", one).status, 404);
  // Moving stable to 2 before 2 exists keeps it on 1 ...
  ASSERT_TRUE(core_->ApplyConfig({{{"tiny", base_, {VersionPolicy::Kind::kAll}},
                                   {{"stable", 2}, {"canary", 2}}}})
                  .ok());
  EXPECT_EQ(Post("/v1/models/tiny/labels/stable:predict", one).body,
            R"({"predictions":[[1.5,1.5]]})");
  // ... until it is available.
  Export(2, 2.0f);
  EXPECT_EQ(Post("/v1/models/tiny/labels/stable:predict", one).body,
            R"({"predictions":[[2.5,3.5]]})");
  EXPECT_EQ(api_->Handle("GET", "/v1/models/tiny/labels/canary", "").body,
            R"({"model_version_status":[{"version":"2","state":"AVAILABLE","status":)"
            R"({"error_code":"OK","error_message":""}}]})");
  EXPECT_EQ(api_->Handle("GET", "/v1/models/tiny/labels/stable/metadata", "").status, 200);
}

TEST_F(RestApiTest, RequestsAreCountedInPrometheusMetrics) {
  Export(7, 1.0f);
  const double before = Metrics().request_count.Value({"tiny", "7", "predict", "REST", "OK"});
  const double bad_before =
      Metrics().request_count.Value({"tiny", "7", "predict", "REST", "INVALID_ARGUMENT"});
  Post("/v1/models/tiny:predict", R"({"instances": [[1, 0, 0]]})");
  Post("/v1/models/tiny:predict", R"({"instances": [[1, 0, 0]]})");
  Post("/v1/models/tiny:predict", R"({"instances": [[1, 0]]})");
  EXPECT_EQ(Metrics().request_count.Value({"tiny", "7", "predict", "REST", "OK"}), before + 2);
  EXPECT_EQ(Metrics().request_count.Value({"tiny", "7", "predict", "REST", "INVALID_ARGUMENT"}),
            bad_before + 1);
  const std::string text = Metrics().Render();
  EXPECT_THAT(text, HasSubstr("# TYPE :tensorflow:serving:request_count counter"));
  EXPECT_THAT(text, HasSubstr(R"(:tensorflow:serving:request_latency_bucket{model_name="tiny",)"
                              R"(version="7",API="predict",entrypoint="REST",le="+Inf"})"));
  EXPECT_THAT(text, HasSubstr(R"(:braid:serving:version_events{model_name="tiny",version="7",)"
                              R"(event="load"} 1)"));
}

TEST_F(RestApiTest, HttpServerAnswersAndRefusesOversizedBodies) {
  Export(1, 1.0f);
  RestServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.max_body_bytes = 1000;
  RestServer server(api_.get(), options);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(client.Get("/readyz")->status, 200);
  auto r =
      client.Post("/v1/models/tiny:predict", R"({"instances": [[1, 0, 0]]})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, R"({"predictions":[[1.5,1.5]]})");
  auto big = client.Post("/v1/models/tiny:predict", std::string(5000, ' '), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_THAT(big->body, HasSubstr("larger than the limit of 1000 bytes"));
  auto multipart = client.Post("/v1/models/tiny:predict", "--x--", "multipart/form-data; boundary=x");
  ASSERT_TRUE(multipart);
  EXPECT_EQ(multipart->status, 400);
  EXPECT_THAT(multipart->body, HasSubstr("must be JSON"));
  auto none = client.Get("/nothing");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
  EXPECT_THAT(none->body, HasSubstr("\"error\""));
  server.Stop();
}

TEST_F(RestApiTest, HttpServerTakesLargeJsonSentAsAForm) {
  // `curl -d` sends application/x-www-form-urlencoded, which httplib's own
  // body reading limits to 8 KiB.
  Export(1, 1.0f);
  RestServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  RestServer server(api_.get(), options);
  ASSERT_TRUE(server.Start().ok());
  std::string rows;
  for (int i = 0; i < 2000; ++i) rows += std::string(i ? "," : "") + "[1, 0, 0]";
  httplib::Client client("127.0.0.1", server.port());
  auto r = client.Post("/v1/models/tiny:predict", "{\"instances\": [" + rows + "]}",
                       "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["predictions"].size(), 2000u);
  server.Stop();
}

}  // namespace
}  // namespace braid::serving
