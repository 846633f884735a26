#include "braid/serving/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "braid/base/env.h"
#include "braid/serving/export_format.h"
#include "braid/serving/test_model.h"

namespace braid::serving {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A fresh, valid export at BASE/1; returns BASE/1.
std::string Exported(const std::string& name) {
  std::string base = ::testing::TempDir() + "/loader_test_" + name + "_" + std::to_string(getpid());
  fs::remove_all(base);
  BRAID_CHECK(testing::ExportTinyModel(base, 1, 1.0f).ok());
  return base + "/1";
}

std::string LoadError(const std::string& dir) {
  auto loaded = LoadVersion(dir, 1, {});
  return loaded.ok() ? "loaded" : std::string(loaded.status().message());
}

TEST(LoaderTest, MissingFilesAreNamed) {
  std::string dir = Exported("missing_graph");
  fs::remove(fs::path(dir) / kGraphFile);
  EXPECT_THAT(LoadError(dir), HasSubstr("missing graph.pb"));
  dir = Exported("missing_signatures");
  fs::remove(fs::path(dir) / kSignaturesFile);
  EXPECT_THAT(LoadError(dir), HasSubstr("missing signatures.json"));
  EXPECT_THAT(LoadError(dir), HasSubstr(dir));
  dir = Exported("missing_variables");
  fs::remove_all(fs::path(dir) / "variables");
  EXPECT_THAT(LoadError(dir), HasSubstr("restoring variables"));
}

TEST(LoaderTest, CorruptFilesAreDataLoss) {
  std::string dir = Exported("corrupt_graph");
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(dir + "/graph.pb", "\xff\xff\xff garbage").ok());
  EXPECT_EQ(LoadVersion(dir, 1, {}).status().code(), absl::StatusCode::kDataLoss);

  dir = Exported("corrupt_variables");
  const std::string shard = dir + "/variables/variables.shard-00000-of-00001";
  std::string bytes = *Env::Default()->ReadFile(shard);
  bytes[bytes.size() / 2] ^= 0x55;  // the CRC catches it
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(shard, bytes).ok());
  auto loaded = LoadVersion(dir, 1, {});
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << loaded.status();

  dir = Exported("corrupt_signatures");
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(dir + "/signatures.json", "{\"format\"").ok());
  EXPECT_THAT(LoadError(dir), HasSubstr("not a JSON object"));
}

TEST(LoaderTest, SignaturesMustMatchTheGraph) {
  std::string dir = Exported("bad_signature");
  std::string text = *Env::Default()->ReadFile(dir + "/signatures.json");
  auto meta = nlohmann::json::parse(text);
  meta["signature_def"]["serving_default"]["outputs"]["y"]["name"] = "missing:0";
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(dir + "/signatures.json", meta.dump()).ok());
  EXPECT_THAT(LoadError(dir), HasSubstr("names tensor 'missing:0', not in graph"));

  meta["signature_def"]["serving_default"]["outputs"]["y"]["name"] = "y:0";
  meta["signature_def"]["serving_default"]["outputs"]["y"]["dtype"] = "DT_INT64";
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(dir + "/signatures.json", meta.dump()).ok());
  EXPECT_THAT(LoadError(dir), HasSubstr("declared int64 but the graph's tensor is float32"));

  meta["format"] = "braid-export/99";
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(dir + "/signatures.json", meta.dump()).ok());
  EXPECT_THAT(LoadError(dir), HasSubstr("this server reads"));
}

}  // namespace
}  // namespace braid::serving
