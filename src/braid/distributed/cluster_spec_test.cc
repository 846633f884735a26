#include "braid/distributed/cluster_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace braid::distributed {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Jobs = std::map<std::string, std::vector<std::string>>;

// Asserts that `result` failed with `code` and a message holding every one of
// `parts` (the offending values the message must name).
template <typename T>
void ExpectError(const absl::StatusOr<T>& result, absl::StatusCode code,
                 const std::vector<std::string>& parts) {
  ASSERT_FALSE(result.ok()) << "expected an error";
  EXPECT_EQ(result.status().code(), code) << result.status();
  for (const std::string& part : parts) {
    EXPECT_THAT(std::string(result.status().message()), HasSubstr(part));
  }
}

constexpr char kKubeflowTfConfig[] =
    R"({"cluster":{"master":["tfjob-master-0.ns.svc:2222"],"ps":["tfjob-ps-0.ns.svc:2222"],)"
    R"("worker":["tfjob-worker-0.ns.svc:2222","tfjob-worker-1.ns.svc:2222"]},)"
    R"("task":{"type":"worker","index":1},"environment":"cloud"})";

TEST(ClusterSpecTest, FromJsonReadsJobsOfAddresses) {
  auto spec = ClusterSpec::FromJson(
      R"({"ps": ["ps0:2222"], "worker": ["w0:2222", "w1:2222"], "chief": ["c:2222"]})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->jobs().size(), 3u);
  EXPECT_TRUE(spec->HasJob("ps"));
  EXPECT_FALSE(spec->HasJob("evaluator"));
  EXPECT_EQ(spec->NumTasks("worker"), 2);
  EXPECT_EQ(spec->NumTasks("ps"), 1);
  EXPECT_EQ(spec->NumTasks("evaluator"), 0);
  EXPECT_EQ(*spec->TaskAddress("worker", 1), "w1:2222");
  EXPECT_EQ(*spec->TaskAddress("chief", 0), "c:2222");
}

TEST(ClusterSpecTest, FromJsonAcceptsLeadingAndTrailingWhitespace) {
  auto spec = ClusterSpec::FromJson("  \n{\"worker\": [\"w0:1\"]}\n ");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->NumTasks("worker"), 1);
}

TEST(ClusterSpecTest, FromJsonAcceptsLegacyIndexObject) {
  auto spec =
      ClusterSpec::FromJson(R"({"worker": {"1": "w1:2222", "0": "w0:2222"}, "ps": ["p:1"]})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_THAT(spec->jobs().at("worker"), ElementsAre("w0:2222", "w1:2222"));
}

TEST(ClusterSpecTest, FromJsonRejectsSparseOrNonIntegerLegacyIndices) {
  ExpectError(ClusterSpec::FromJson(R"({"worker": {"0": "w0:1", "2": "w2:1"}})"),
              absl::StatusCode::kInvalidArgument, {"job 'worker'", "'2'", "0..1"});
  ExpectError(ClusterSpec::FromJson(R"({"worker": {"a": "w0:1"}})"),
              absl::StatusCode::kInvalidArgument, {"job 'worker'", "'a'"});
  ExpectError(ClusterSpec::FromJson(R"({"worker": {"00": "w0:1"}})"),
              absl::StatusCode::kInvalidArgument, {"job 'worker'", "'00'"});
  ExpectError(ClusterSpec::FromJson(R"({"worker": {"-1": "w0:1"}})"),
              absl::StatusCode::kInvalidArgument, {"job 'worker'", "'-1'"});
}

TEST(ClusterSpecTest, FromJsonRejectsMalformedJsonQuotingItsStart) {
  ExpectError(ClusterSpec::FromJson(R"({"worker": ["w0:2222",)"),
              absl::StatusCode::kInvalidArgument,
              {"not valid JSON", "parse error", R"('{"worker": ["w0:2222",')"});
  // A long input is cut short in the message.
  std::string long_input = "{\"worker\": [" + std::string(500, ' ') + "oops";
  auto result = ClusterSpec::FromJson(long_input);
  ExpectError(result, absl::StatusCode::kInvalidArgument, {"not valid JSON", "...'"});
  EXPECT_LT(result.status().message().size(), 400u);
}

TEST(ClusterSpecTest, FromJsonRejectsWrongShapes) {
  ExpectError(ClusterSpec::FromJson(R"(["w0:2222"])"), absl::StatusCode::kInvalidArgument,
              {"must be a JSON object", "w0:2222"});
  ExpectError(ClusterSpec::FromJson(R"({"chief": "c:2222"})"), absl::StatusCode::kInvalidArgument,
              {"job 'chief'", "c:2222", "array"});
  ExpectError(ClusterSpec::FromJson(R"({"worker": ["w0:1", 2222]})"),
              absl::StatusCode::kInvalidArgument, {"job 'worker' task 1", "2222"});
}

TEST(ClusterSpecTest, FromJsonRejectsAJobWrittenTwice) {
  // nlohmann would keep only the second, silently dropping w0.
  ExpectError(ClusterSpec::FromJson(R"({"worker": ["w0:1"], "worker": ["w1:1"]})"),
              absl::StatusCode::kInvalidArgument, {"'worker'", "twice"});
}

TEST(ClusterSpecTest, RejectsInvalidJobNames) {
  for (const std::string name : {"Worker", "1ps", "ps-1", "_ps", "", "p s", "wörker"}) {
    SCOPED_TRACE(name);
    ExpectError(ClusterSpec::Create({{name, {"h:1"}}}), absl::StatusCode::kInvalidArgument,
                {"job name", "[a-z][a-z0-9_]*"});
  }
  ExpectError(ClusterSpec::Create({{"Worker", {"h:1"}}}), absl::StatusCode::kInvalidArgument,
              {"'Worker'"});
  for (const std::string name : {"ps", "worker_2", "w", "a1_b2"}) {
    EXPECT_TRUE(ClusterSpec::Create({{name, {"h:1"}}}).ok()) << name;
  }
}

TEST(ClusterSpecTest, MasterIsReadAsChief) {
  auto spec = ClusterSpec::FromJson(R"({"master": ["m:2222"], "worker": ["w:2222"]})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->HasJob("master"));
  EXPECT_EQ(*spec->TaskAddress("chief", 0), "m:2222");
}

TEST(ClusterSpecTest, RejectsMasterAndChiefTogether) {
  ExpectError(ClusterSpec::Create({{"master", {"m:1"}}, {"chief", {"c:1"}}}),
              absl::StatusCode::kInvalidArgument, {"'master'", "'chief'"});
}

TEST(ClusterSpecTest, RejectsMoreThanOneChief) {
  ExpectError(ClusterSpec::Create({{"chief", {"c0:1", "c1:1"}}}),
              absl::StatusCode::kInvalidArgument, {"job 'chief' has 2 tasks", "at most one chief"});
  ExpectError(ClusterSpec::Create({{"master", {"m0:1", "m1:1"}}}),
              absl::StatusCode::kInvalidArgument, {"job 'master' has 2 tasks"});
}

TEST(ClusterSpecTest, AcceptsHostnamesIpv4AndBracketedIpv6) {
  for (const std::string address : {"localhost:2222", "tfjob-worker-0.ns.svc:2222", "10.0.0.1:1",
                                    "Host_1.Example.COM:65535", "[::1]:2222", "[2001:db8::7]:80",
                                    "[::ffff:10.0.0.1]:2222", "[fe80::1%eth0]:2222", "h:02222"}) {
    auto spec = ClusterSpec::Create({{"worker", {address}}});
    EXPECT_TRUE(spec.ok()) << address << ": " << spec.status();
  }
}

TEST(ClusterSpecTest, RejectsBadAddressesNamingJobIndexAndAddress) {
  for (const std::string address :
       {"",           "host",          ":2222",          "host:",     "host:0",
        "host:65536", "host:99999999", "host:abc",       "host:-1",   "host:+22",
        "host: 22",   "host:22 ",      " host:22",       "h ost:22",  "::1:2222",
        "[::1:2222",  "[]:2222",       "[1.2.3.4]:22",   "[::1]x:22", "host..a:22",
        ".host:22",   "host.:22",      "http://host:22", "host:22/x"}) {
    SCOPED_TRACE(address);
    ExpectError(ClusterSpec::Create({{"ps", {"ok:1"}}, {"worker", {"w0:1", address}}}),
                absl::StatusCode::kInvalidArgument,
                {"job 'worker' task 1", "'" + address + "'", "host:port", "1..65535"});
  }
}

TEST(ClusterSpecTest, AddressErrorsSayWhatIsWrong) {
  ExpectError(ClusterSpec::Create({{"worker", {"host:70000"}}}), absl::StatusCode::kInvalidArgument,
              {"port '70000'"});
  ExpectError(ClusterSpec::Create({{"worker", {"host"}}}), absl::StatusCode::kInvalidArgument,
              {"no ':port'"});
  // Control characters are escaped, so the message stays on one line.
  ExpectError(ClusterSpec::Create({{"worker", {"host\n:1"}}}), absl::StatusCode::kInvalidArgument,
              {"'host\\n:1'"});
  ExpectError(ClusterSpec::Create({{"worker", {"::1:22"}}}), absl::StatusCode::kInvalidArgument,
              {"brackets"});
}

TEST(ClusterSpecTest, RejectsDuplicateAddressNamingBothTasks) {
  ExpectError(ClusterSpec::Create({{"ps", {"h:2222"}}, {"worker", {"w:1", "h:2222"}}}),
              absl::StatusCode::kInvalidArgument,
              {"'h:2222'", "/job:ps/replica:0/task:0", "/job:worker/replica:0/task:1"});
  ExpectError(ClusterSpec::Create({{"worker", {"h:1", "h:1"}}}), absl::StatusCode::kInvalidArgument,
              {"/job:worker/replica:0/task:0", "/job:worker/replica:0/task:1"});
  // Host names are case-insensitive and leading zeros do not change a port.
  ExpectError(ClusterSpec::Create({{"worker", {"Host:22", "host:022"}}}),
              absl::StatusCode::kInvalidArgument, {"'host:022'", "/job:worker/replica:0/task:0"});
  // One host on two ports is fine.
  EXPECT_TRUE(ClusterSpec::Create({{"worker", {"h:1", "h:2"}}}).ok());
}

TEST(ClusterSpecTest, RejectsEmptyJobAndEmptyCluster) {
  ExpectError(ClusterSpec::Create({}), absl::StatusCode::kInvalidArgument, {"no jobs"});
  ExpectError(ClusterSpec::FromJson("{}"), absl::StatusCode::kInvalidArgument, {"no jobs"});
  ExpectError(ClusterSpec::FromJson(R"({"ps": [], "worker": ["w:1"]})"),
              absl::StatusCode::kInvalidArgument, {"job 'ps' has no tasks"});
  ExpectError(ClusterSpec::FromJson(R"({"ps": {}})"), absl::StatusCode::kInvalidArgument,
              {"job 'ps' has no tasks"});
}

TEST(ClusterSpecTest, TaskAddressNamesMissingJobAndBadIndex) {
  auto spec = ClusterSpec::Create({{"ps", {"p:1"}}, {"worker", {"w0:1", "w1:1"}}});
  ASSERT_TRUE(spec.ok()) << spec.status();
  ExpectError(spec->TaskAddress("chief", 0), absl::StatusCode::kNotFound,
              {"'chief'", "'ps', 'worker'"});
  auto out_of_range = spec->TaskAddress("worker", 3);
  ExpectError(out_of_range, absl::StatusCode::kInvalidArgument, {});
  EXPECT_EQ(out_of_range.status().message(),
            "task index 3 is out of range for job 'worker', which has 2 tasks");
  ExpectError(spec->TaskAddress("ps", 1), absl::StatusCode::kInvalidArgument,
              {"task index 1 is out of range for job 'ps', which has 1 task"});
  ExpectError(spec->TaskAddress("worker", -1), absl::StatusCode::kInvalidArgument,
              {"task index -1", "job 'worker'"});
}

TEST(ClusterSpecTest, TaskNamesListEveryTaskWithJobsInNameOrder) {
  auto spec = ClusterSpec::Create(
      {{"worker", {"w0:1", "w1:1"}}, {"chief", {"c:1"}}, {"ps", {"p0:1", "p1:1"}}});
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_THAT(spec->TaskNames(),
              ElementsAre("/job:chief/replica:0/task:0", "/job:ps/replica:0/task:0",
                          "/job:ps/replica:0/task:1", "/job:worker/replica:0/task:0",
                          "/job:worker/replica:0/task:1"));
  EXPECT_TRUE(ClusterSpec().TaskNames().empty());
}

TEST(ClusterSpecTest, ToJsonRoundTrips) {
  auto spec = ClusterSpec::FromJson(
      R"({"master": ["m:1"], "ps": ["p:1"], "worker": {"0": "w0:1", "1": "[::1]:2"}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto again = ClusterSpec::FromJson(spec->ToJson());
  ASSERT_TRUE(again.ok()) << again.status() << " for " << spec->ToJson();
  EXPECT_EQ(again->jobs(), spec->jobs());
  EXPECT_THAT(spec->ToJson(), HasSubstr(R"("chief":["m:1"])"));
}

TEST(ClusterSpecTest, ChiefIsChiefJobElseWorkerZero) {
  auto with_chief = ClusterSpec::Create({{"chief", {"c:1"}}, {"worker", {"w:1"}}});
  auto pair = with_chief->Chief();
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(*pair, std::make_pair(std::string("chief"), 0));

  auto workers_only = ClusterSpec::Create({{"ps", {"p:1"}}, {"worker", {"w0:1", "w1:1"}}});
  pair = workers_only->Chief();
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(*pair, std::make_pair(std::string("worker"), 0));

  auto ps_only = ClusterSpec::Create({{"ps", {"p:1"}}});
  ExpectError(ps_only->Chief(), absl::StatusCode::kNotFound, {"'ps'", "chief", "worker"});
}

TEST(TaskConfigTest, IsChief) {
  auto with_chief = *ClusterSpec::Create({{"chief", {"c:1"}}, {"worker", {"w0:1", "w1:1"}}});
  auto without_chief = *ClusterSpec::Create({{"ps", {"p:1"}}, {"worker", {"w0:1", "w1:1"}}});
  EXPECT_TRUE((TaskConfig{with_chief, "chief", 0}).IsChief());
  EXPECT_FALSE((TaskConfig{with_chief, "worker", 0}).IsChief());
  EXPECT_TRUE((TaskConfig{without_chief, "worker", 0}).IsChief());
  EXPECT_FALSE((TaskConfig{without_chief, "worker", 1}).IsChief());
  EXPECT_FALSE((TaskConfig{without_chief, "ps", 0}).IsChief());
  EXPECT_FALSE((TaskConfig{without_chief, "evaluator", 0}).IsChief());
}

TEST(ClusterSpecTest, FromJsonReadsAtFile) {
  std::string path = ::testing::TempDir() + "/cluster_spec_test." + std::to_string(getpid());
  {
    std::ofstream out(path);
    out << R"({"ps": ["p:2222"], "worker": ["w0:2222", "w1:2222"]})"
        << "\n";
  }
  auto spec = ClusterSpec::FromJson("@" + path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->NumTasks("worker"), 2);
  EXPECT_EQ(*spec->TaskAddress("ps", 0), "p:2222");

  {
    std::ofstream out(path);
    out << R"({"worker": ["w0:2222",)";
  }
  ExpectError(ClusterSpec::FromJson("@" + path), absl::StatusCode::kInvalidArgument,
              {path, "not valid JSON"});
  std::remove(path.c_str());

  auto missing = ClusterSpec::FromJson("@" + path + ".missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(path + ".missing"));
}

TEST(ParseTfConfigTest, ReadsKubeflowTfJob) {
  auto config = ParseTfConfig(kKubeflowTfConfig);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->job, "worker");
  EXPECT_EQ(config->index, 1);
  EXPECT_EQ(config->rpc_layer, "grpc");
  EXPECT_FALSE(config->cluster.HasJob("master"));
  EXPECT_EQ(*config->cluster.TaskAddress("chief", 0), "tfjob-master-0.ns.svc:2222");
  EXPECT_EQ(*config->cluster.TaskAddress("worker", 1), "tfjob-worker-1.ns.svc:2222");
  EXPECT_FALSE(config->IsChief());
}

TEST(ParseTfConfigTest, MasterTaskTypeIsChief) {
  auto config = ParseTfConfig(
      R"({"cluster":{"master":["tfjob-master-0.ns.svc:2222"],"worker":["tfjob-worker-0.ns.svc:2222"]},)"
      R"("task":{"type":"master","index":0},"environment":"cloud"})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->job, "chief");
  EXPECT_EQ(config->index, 0);
  EXPECT_TRUE(config->IsChief());
}

TEST(ParseTfConfigTest, PsAndWorkerWithoutChief) {
  auto config = ParseTfConfig(R"({"cluster":{"ps":["ps-0:2222"],"worker":["w-0:2222","w-1:2222"]},)"
                              R"("task":{"type":"ps","index":0},"rpc_layer":"grpc"})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->job, "ps");
  EXPECT_FALSE(config->IsChief());
}

TEST(ParseTfConfigTest, IndexDefaultsToZero) {
  auto config = ParseTfConfig(R"({"cluster":{"worker":["w:1"]},"task":{"type":"worker"}})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->index, 0);
  EXPECT_TRUE(config->IsChief());
}

TEST(ParseTfConfigTest, IndexAsDecimalStringIsRead) {
  // TensorFlow applies int() to the index, so some launchers write a string.
  auto config = ParseTfConfig(
      R"({"cluster":{"worker":["w0:1","w1:1"]},"task":{"type":"worker","index":"1"}})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->index, 1);
}

TEST(ParseTfConfigTest, EvaluatorNeedNotBeInCluster) {
  auto config = ParseTfConfig(
      R"({"cluster":{"chief":["c:2222"],"worker":["w:2222"]},"task":{"type":"evaluator","index":0}})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->job, "evaluator");
  EXPECT_FALSE(config->cluster.HasJob("evaluator"));
  EXPECT_FALSE(config->IsChief());

  // When the cluster does list evaluators, the index must be one of them.
  auto listed = ParseTfConfig(
      R"({"cluster":{"evaluator":["e:2222"],"worker":["w:2222"]},"task":{"type":"evaluator","index":1}})");
  ExpectError(listed, absl::StatusCode::kInvalidArgument, {"task index 1", "'evaluator'"});
}

TEST(ParseTfConfigTest, RejectsUnknownTaskTypeListingJobs) {
  ExpectError(
      ParseTfConfig(R"({"cluster":{"ps":["p:1"],"worker":["w:1"]},"task":{"type":"chief"}})"),
      absl::StatusCode::kInvalidArgument, {"TF_CONFIG", "'chief'", "'ps', 'worker'"});
  ExpectError(ParseTfConfig(R"({"cluster":{"worker":["w:1"]},"task":{"type":"Worker"}})"),
              absl::StatusCode::kInvalidArgument, {"'Worker'", "'worker'"});
}

TEST(ParseTfConfigTest, RejectsIndexOutOfRange) {
  ExpectError(
      ParseTfConfig(R"({"cluster":{"worker":["w0:1","w1:1"]},"task":{"type":"worker","index":2}})"),
      absl::StatusCode::kInvalidArgument,
      {"TF_CONFIG", "task index 2 is out of range for job 'worker', which has 2 tasks"});
  ExpectError(ParseTfConfig(R"({"cluster":{"chief":["c:1"]},"task":{"type":"master","index":1}})"),
              absl::StatusCode::kInvalidArgument, {"task index 1", "'chief'"});
}

TEST(ParseTfConfigTest, RejectsNegativeOrNonIntegerIndex) {
  for (const std::string index :
       {"-1", "1.5", "1.0", "\"one\"", "\"-1\"", "\"\"", "true", "null", "[0]", "4294967296"}) {
    SCOPED_TRACE(index);
    ExpectError(ParseTfConfig(R"({"cluster":{"worker":["w0:1","w1:1"]},"task":{"type":"worker",)"
                              R"("index":)" +
                              index + "}}"),
                absl::StatusCode::kInvalidArgument,
                {"TF_CONFIG", "task index", "non-negative integer"});
  }
  ExpectError(
      ParseTfConfig(R"({"cluster":{"worker":["w0:1"]},"task":{"type":"worker","index":-1}})"),
      absl::StatusCode::kInvalidArgument, {"'-1'"});
}

TEST(ParseTfConfigTest, RejectsMissingOrMalformedParts) {
  ExpectError(ParseTfConfig(R"({"task":{"type":"worker","index":0}})"),
              absl::StatusCode::kInvalidArgument, {"TF_CONFIG", "\"cluster\""});
  ExpectError(ParseTfConfig(R"({"cluster":{"worker":["w:1"]}})"),
              absl::StatusCode::kInvalidArgument, {"TF_CONFIG", "\"task\""});
  ExpectError(ParseTfConfig(R"({"cluster":{"worker":["w:1"]},"task":{"index":0}})"),
              absl::StatusCode::kInvalidArgument, {"TF_CONFIG", "\"type\""});
  ExpectError(ParseTfConfig(R"({"cluster":{"worker":["w:1"]},"task":{"type":""}})"),
              absl::StatusCode::kInvalidArgument, {"\"type\""});
  ExpectError(ParseTfConfig(R"({"cluster":{"worker":["w:1"]},"task":{"type":3}})"),
              absl::StatusCode::kInvalidArgument, {"\"type\""});
  ExpectError(ParseTfConfig(R"({"cluster":{"worker":["w:1"]},"task":"worker"})"),
              absl::StatusCode::kInvalidArgument, {"\"task\"", "worker"});
  ExpectError(ParseTfConfig(R"({"cluster":["w:1"],"task":{"type":"worker"}})"),
              absl::StatusCode::kInvalidArgument, {"\"cluster\"", "w:1"});
  ExpectError(ParseTfConfig(R"({"cluster":{"worker":["w:0"]},"task":{"type":"worker"}})"),
              absl::StatusCode::kInvalidArgument, {"TF_CONFIG", "job 'worker' task 0", "'w:0'"});
  ExpectError(ParseTfConfig(R"(["not", "an", "object"])"), absl::StatusCode::kInvalidArgument,
              {"TF_CONFIG", "JSON object"});
  ExpectError(ParseTfConfig(R"({"cluster": {"worker": ["w:1"]}, "task": )"),
              absl::StatusCode::kInvalidArgument,
              {"TF_CONFIG", "not valid JSON", R"('{"cluster": {"worker")"});
}

TEST(ParseTfConfigTest, RejectsRpcLayersOtherThanGrpc) {
  ExpectError(ParseTfConfig(R"({"cluster":{"worker":["w:1"]},"task":{"type":"worker"},)"
                            R"("rpc_layer":"grpc+verbs"})"),
              absl::StatusCode::kInvalidArgument, {"grpc+verbs", "\"grpc\""});
  ExpectError(ParseTfConfig(R"({"cluster":{"worker":["w:1"]},"task":{"type":"worker"},)"
                            R"("rpc_layer":1})"),
              absl::StatusCode::kInvalidArgument, {"rpc_layer", "1"});
  auto empty =
      ParseTfConfig(R"({"cluster":{"worker":["w:1"]},"task":{"type":"worker"},"rpc_layer":""})");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->rpc_layer, "grpc");
}

TEST(ParseTfConfigTest, ToTfConfigRoundTrips) {
  for (const auto& [job, index] : std::vector<std::pair<std::string, int>>{
           {"worker", 1}, {"chief", 0}, {"ps", 0}, {"evaluator", 0}}) {
    SCOPED_TRACE(job);
    TaskConfig task;
    task.cluster = *ClusterSpec::FromJson(
        R"({"chief":["c:2222"],"ps":["p:2222"],"worker":["w0:2222","[::1]:2222"]})");
    task.job = job;
    task.index = index;
    std::string tf_config = ToTfConfig(task);
    EXPECT_THAT(tf_config, HasSubstr(R"("rpc_layer":"grpc")"));
    auto parsed = ParseTfConfig(tf_config);
    ASSERT_TRUE(parsed.ok()) << parsed.status() << " for " << tf_config;
    EXPECT_EQ(parsed->cluster.jobs(), task.cluster.jobs());
    EXPECT_EQ(parsed->job, job);
    EXPECT_EQ(parsed->index, index);
    EXPECT_EQ(parsed->rpc_layer, "grpc");
    EXPECT_EQ(parsed->IsChief(), task.IsChief());
  }
  auto kubeflow = ParseTfConfig(kKubeflowTfConfig);
  ASSERT_TRUE(kubeflow.ok());
  auto again = ParseTfConfig(ToTfConfig(*kubeflow));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->cluster.jobs(), kubeflow->cluster.jobs());
  EXPECT_EQ(again->job, "worker");
  EXPECT_EQ(again->index, 1);
}

// Sets TF_CONFIG for one test and restores what was there before.
class ResolveTaskConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv("TF_CONFIG");
    if (old != nullptr) saved_ = old;
    unsetenv("TF_CONFIG");
  }
  void TearDown() override {
    if (saved_.has_value()) {
      setenv("TF_CONFIG", saved_->c_str(), 1);
    } else {
      unsetenv("TF_CONFIG");
    }
  }
  std::optional<std::string> saved_;
};

TEST_F(ResolveTaskConfigTest, NeitherFlagsNorTfConfigMeansSingleProcess) {
  auto config = ResolveTaskConfig("", "", 0);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->has_value());

  setenv("TF_CONFIG", "", 1);
  config = ResolveTaskConfig("", "", 0);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->has_value());
}

TEST_F(ResolveTaskConfigTest, JobNameWithoutClusterIsAnError) {
  ExpectError(ResolveTaskConfig("", "worker", 1), absl::StatusCode::kInvalidArgument,
              {"'worker'", "--cluster_spec"});
}

TEST_F(ResolveTaskConfigTest, ReadsFlags) {
  auto config = ResolveTaskConfig(R"({"ps":["p:1"],"worker":["w0:1","w1:1"]})", "worker", 1);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->has_value());
  EXPECT_EQ((*config)->job, "worker");
  EXPECT_EQ((*config)->index, 1);
  EXPECT_EQ((*config)->rpc_layer, "grpc");
  EXPECT_EQ((*config)->cluster.NumTasks("worker"), 2);

  auto master = ResolveTaskConfig(R"({"master":["m:1"],"worker":["w0:1"]})", "master", 0);
  ASSERT_TRUE(master.ok()) << master.status();
  EXPECT_EQ((*master)->job, "chief");
  EXPECT_TRUE((*master)->IsChief());
}

TEST_F(ResolveTaskConfigTest, ReadsFlagsClusterFromFile) {
  std::string path = ::testing::TempDir() + "/cluster_spec_test_flags." + std::to_string(getpid());
  {
    std::ofstream out(path);
    out << R"({"worker":["w0:1","w1:1"]})";
  }
  auto config = ResolveTaskConfig("@" + path, "worker", 1);
  std::remove(path.c_str());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ((*config)->cluster.NumTasks("worker"), 2);
  EXPECT_EQ((*config)->index, 1);
}

TEST_F(ResolveTaskConfigTest, RejectsBadFlags) {
  const std::string cluster = R"({"ps":["p:1"],"worker":["w0:1","w1:1"]})";
  ExpectError(ResolveTaskConfig(cluster, "", 0), absl::StatusCode::kInvalidArgument,
              {"--job_name", "'ps', 'worker'"});
  ExpectError(ResolveTaskConfig(cluster, "worker", 2), absl::StatusCode::kInvalidArgument,
              {"task index 2 is out of range for job 'worker', which has 2 tasks"});
  ExpectError(ResolveTaskConfig(cluster, "worker", -1), absl::StatusCode::kInvalidArgument,
              {"task index -1", "'worker'"});
  ExpectError(ResolveTaskConfig(cluster, "chief", 0), absl::StatusCode::kInvalidArgument,
              {"--job_name", "'chief'", "'ps', 'worker'"});
  ExpectError(ResolveTaskConfig(R"({"worker":["w0:1",)", "worker", 0),
              absl::StatusCode::kInvalidArgument, {"--cluster_spec", "not valid JSON"});
  ExpectError(ResolveTaskConfig(R"({"worker":["w0"]})", "worker", 0),
              absl::StatusCode::kInvalidArgument, {"--cluster_spec", "'w0'"});

  auto evaluator = ResolveTaskConfig(cluster, "evaluator", 0);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  EXPECT_EQ((*evaluator)->job, "evaluator");
}

TEST_F(ResolveTaskConfigTest, ReadsTfConfig) {
  setenv("TF_CONFIG", kKubeflowTfConfig, 1);
  auto config = ResolveTaskConfig("", "", 0);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->has_value());
  EXPECT_EQ((*config)->job, "worker");
  EXPECT_EQ((*config)->index, 1);
  EXPECT_TRUE((*config)->cluster.HasJob("chief"));
}

TEST_F(ResolveTaskConfigTest, FlagsWinOverTfConfig) {
  setenv("TF_CONFIG", kKubeflowTfConfig, 1);
  auto config = ResolveTaskConfig(R"({"ps":["p:1"],"worker":["w0:1"]})", "ps", 0);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ((*config)->job, "ps");
  EXPECT_EQ(*(*config)->cluster.TaskAddress("ps", 0), "p:1");
  EXPECT_FALSE((*config)->cluster.HasJob("chief"));
}

TEST_F(ResolveTaskConfigTest, ReportsBadTfConfig) {
  setenv("TF_CONFIG", R"({"cluster":{"worker":["w:1"]},"task":{"type":"ps"}})", 1);
  ExpectError(ResolveTaskConfig("", "", 0), absl::StatusCode::kInvalidArgument,
              {"TF_CONFIG", "'ps'", "'worker'"});
}

}  // namespace
}  // namespace braid::distributed
