#include "braid/serving/export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "braid/base/env.h"
#include "braid/serving/export_format.h"
#include "braid/serving/loader.h"
#include "braid/serving/test_model.h"
#include "tensorflow/core/framework/graph.pb.h"

namespace braid::serving {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string FreshDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/export_test_" + name + "_" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ExportTest, WritesTheInferenceGraphVariablesAndSignatures) {
  const std::string base = FreshDir("layout");
  ASSERT_TRUE(testing::ExportTinyModel(base, 7, 1.0f).ok());
  EXPECT_EQ(Entries(base), std::vector<std::string>{"7"});  // no temporary left
  const fs::path v = fs::path(base) / "7";
  EXPECT_TRUE(fs::exists(v / kGraphFile));
  EXPECT_TRUE(fs::exists(v / kSignaturesFile));
  EXPECT_TRUE(fs::exists(v / "variables" / "variables.shard-00000-of-00001"));

  tensorflow::GraphDef def;
  ASSERT_TRUE(def.ParseFromString(*Env::Default()->ReadFile((v / kGraphFile).string())));
  std::set<std::string> names;
  for (const auto& n : def.node()) {
    names.insert(n.name());
    EXPECT_EQ(n.device(), "") << n.name();
  }
  EXPECT_TRUE(names.count("x") && names.count("y") && names.count("w") && names.count("b"));
  EXPECT_TRUE(names.count(kRestoreOpNode) && names.count(kRestorePrefixNode));
  EXPECT_EQ(names.count("train_step"), 0u) << "training ops are not exported";

  nlohmann::json meta =
      nlohmann::json::parse(*Env::Default()->ReadFile((v / kSignaturesFile).string()));
  EXPECT_EQ(meta["format"], kExportFormat);
  EXPECT_EQ(meta["signature_def"]["serving_default"]["inputs"]["x"],
            nlohmann::json::parse(R"({"name": "x:0", "dtype": "DT_FLOAT", "shape": [-1, 3]})"));
  EXPECT_EQ(meta["signature_def"]["serving_default"]["method_name"], kPredictMethodName);
}

TEST(ExportTest, ExportedVersionLoadsAndComputesWhatTheModelDid) {
  const std::string base = FreshDir("roundtrip");
  ASSERT_TRUE(testing::ExportTinyModel(base, 1, 2.0f).ok());
  auto loaded = LoadVersion(base + "/1", 1, {});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::vector<Tensor> out;
  ASSERT_TRUE(
      (*loaded)
          ->session->Run({{"x:0", Tensor::FromVector<float>({1, 0, 1}, {1, 3})}}, {"y:0"}, {}, &out)
          .ok());
  // [1,0,1] @ 2*[[1,2],[3,4],[5,6]] + [0.5,-0.5] = [12.5, 15.5]
  EXPECT_FLOAT_EQ(out[0].data<float>()[0], 12.5f);
  EXPECT_FLOAT_EQ(out[0].data<float>()[1], 15.5f);
  EXPECT_EQ((*loaded)->signatures.size(), 4u);
}

TEST(ExportTest, RefusesBadVersionsAndSignaturesLeavingNothingBehind) {
  const std::string base = FreshDir("errors");
  auto m = testing::MakeTinyModel(1.0f);
  ExportSpec spec{m->root, m->session.get(), m->signatures};
  EXPECT_THAT(std::string(ExportModel(spec, base, 0).message()), HasSubstr("positive integer"));
  ASSERT_TRUE(ExportModel(spec, base, 3).ok());
  absl::Status again = ExportModel(spec, base, 3);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  ExportSpec wrong = spec;
  wrong.signatures["serving_default"].outputs["y"].name = "nope:0";
  EXPECT_THAT(std::string(ExportModel(wrong, base, 4).message()),
              HasSubstr("names tensor 'nope:0'"));
  wrong = spec;
  wrong.signatures["serving_default"].outputs["y"].dtype = DType::kInt32;
  EXPECT_THAT(std::string(ExportModel(wrong, base, 4).message()), HasSubstr("declared int32"));
  EXPECT_EQ(Entries(base), std::vector<std::string>{"3"});
}

TEST(ExportTest, AFailedWriteLeavesNoVersionDirectory) {
  const std::string base = FreshDir("atomic");
  auto m = testing::MakeTinyModel(1.0f);
  // A file where the temporary directory's parent must be: the write fails.
  const std::string blocked = base + "/blocked";
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(blocked, "x").ok());
  absl::Status s = ExportModel({m->root, m->session.get(), m->signatures}, blocked, 5);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(fs::exists(blocked + "/5"));
  EXPECT_EQ(Entries(base), std::vector<std::string>{"blocked"});
}

}  // namespace
}  // namespace braid::serving
