#include "braid/serving/model_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "braid/serving/test_model.h"

namespace braid::serving {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Versions are empty directories; the loader is a fake that fails the
// versions listed in `failing`.
class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = ::testing::TempDir() + "/manager_test_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
            std::to_string(getpid());
    fs::remove_all(base_);
    fs::create_directories(base_);
  }

  std::unique_ptr<ModelManager> Make(VersionPolicy policy = {}) {
    ManagerOptions options;
    options.poll_seconds = 0.01;
    options.loader = [this](const std::string& dir,
                            int64_t version) -> absl::StatusOr<std::unique_ptr<LoadedVersion>> {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++loads_;
        if (failing_.count(version) > 0) {
          return absl::DataLossError("version " + std::to_string(version) + " is broken");
        }
      }
      auto v = std::make_unique<LoadedVersion>();
      v->version = version;
      v->dir = dir;
      return v;
    };
    return std::make_unique<ModelManager>(ModelConfig{"m", base_, policy}, options);
  }

  void AddVersion(int64_t v) { fs::create_directories(base_ + "/" + std::to_string(v)); }
  void RemoveVersion(int64_t v) { fs::remove_all(base_ + "/" + std::to_string(v)); }
  void SetFailing(std::set<int64_t> f) {
    std::lock_guard<std::mutex> lock(mu_);
    failing_ = std::move(f);
  }

  static std::string Describe(const ModelManager& m) {
    std::string out;
    for (const VersionStatus& s : m.Statuses()) {
      out += std::to_string(s.version) + ":" + VersionStateName(s.state);
      if (!s.status.ok()) out += "!";
      out += " ";
    }
    return out;
  }

  static int64_t Served(const ModelManager& m) {
    auto v = m.Get(std::nullopt);
    return v.ok() ? (*v)->version : -1;
  }

  std::string base_;
  std::mutex mu_;
  std::set<int64_t> failing_;
  int loads_ = 0;
};

TEST_F(ManagerTest, NothingOnDiskIsUnavailable) {
  auto m = Make();
  ASSERT_TRUE(m->PollOnce().ok());
  EXPECT_EQ(m->Get(std::nullopt).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(m->HasAvailable());
  fs::remove_all(base_);
  EXPECT_THAT(std::string(m->PollOnce().message()), HasSubstr("cannot read base path"));
}

TEST_F(ManagerTest, LatestLoadsTheNewVersionBeforeUnloadingTheOld) {
  auto m = Make();
  AddVersion(1);
  fs::create_directories(base_ + "/.tmp-2-123");  // an export in progress
  fs::create_directories(base_ + "/not_a_version");
  ASSERT_TRUE(m->PollOnce().ok());
  EXPECT_EQ(Describe(*m), "1:AVAILABLE ");
  auto in_flight = *m->Get(1);  // a request holding version 1

  AddVersion(2);
  ASSERT_TRUE(m->PollOnce().ok());
  EXPECT_EQ(Describe(*m), "1:END 2:AVAILABLE ");
  EXPECT_EQ(Served(*m), 2);
  EXPECT_EQ(m->Get(1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(in_flight->version, 1);  // still usable by its request
}

TEST_F(ManagerTest, AFailedVersionIsReportedAndRetriedWhileTheOldOneServes) {
  auto m = Make();
  AddVersion(1);
  ASSERT_TRUE(m->PollOnce().ok());
  SetFailing({2});
  AddVersion(2);
  ASSERT_TRUE(m->PollOnce().ok());
  EXPECT_EQ(Describe(*m), "1:AVAILABLE 2:END! ");
  EXPECT_EQ(Served(*m), 1);
  for (const VersionStatus& s : m->Statuses()) {
    if (s.version == 2) {
      EXPECT_THAT(std::string(s.status.message()), HasSubstr("broken"));
    }
  }
  SetFailing({});
  // Retried after a backoff of one poll period (10 ms).
  for (int i = 0; i < 100 && Served(*m) != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(m->PollOnce().ok());
  }
  EXPECT_EQ(Describe(*m), "1:END 2:AVAILABLE ");
}

TEST_F(ManagerTest, TheLastAvailableVersionIsNeverUnloaded) {
  auto m = Make();
  AddVersion(3);
  ASSERT_TRUE(m->PollOnce().ok());
  RemoveVersion(3);
  ASSERT_TRUE(m->PollOnce().ok());
  EXPECT_EQ(Served(*m), 3);  // its directory is gone, but nothing replaces it
  SetFailing({4});
  AddVersion(4);
  ASSERT_TRUE(m->PollOnce().ok());
  EXPECT_EQ(Served(*m), 3);
  SetFailing({});
  AddVersion(5);
  ASSERT_TRUE(m->PollOnce().ok());
  EXPECT_EQ(Served(*m), 5);
  EXPECT_EQ(Describe(*m), "3:END 5:AVAILABLE ");  // 4, no longer wanted, is forgotten
}

TEST_F(ManagerTest, PoliciesAllSpecificAndLatestN) {
  for (int64_t v : {1, 2, 3}) AddVersion(v);
  auto all = Make({VersionPolicy::Kind::kAll});
  ASSERT_TRUE(all->PollOnce().ok());
  EXPECT_EQ(Describe(*all), "1:AVAILABLE 2:AVAILABLE 3:AVAILABLE ");
  EXPECT_EQ((*all->Get(2))->version, 2);

  auto specific = Make({VersionPolicy::Kind::kSpecific, 1, {1, 3, 9}});
  ASSERT_TRUE(specific->PollOnce().ok());
  EXPECT_EQ(Describe(*specific), "1:AVAILABLE 3:AVAILABLE ");

  auto latest2 = Make({VersionPolicy::Kind::kLatest, 2, {}});
  ASSERT_TRUE(latest2->PollOnce().ok());
  EXPECT_EQ(Describe(*latest2), "2:AVAILABLE 3:AVAILABLE ");
  RemoveVersion(3);
  ASSERT_TRUE(latest2->PollOnce().ok());
  EXPECT_EQ(Describe(*latest2), "1:AVAILABLE 2:AVAILABLE 3:END ");
}

TEST_F(ManagerTest, ThePollingThreadPicksUpNewVersions) {
  auto m = Make();
  m->Start();
  AddVersion(1);
  for (int i = 0; i < 400 && Served(*m) != 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(Served(*m), 1);
  AddVersion(2);
  for (int i = 0; i < 400 && Served(*m) != 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(Served(*m), 2);
  m->Stop();
}

TEST_F(ManagerTest, RealExportsSwap) {
  ASSERT_TRUE(testing::ExportTinyModel(base_, 1, 1.0f).ok());
  ModelManager m({"m", base_, {}}, {});
  ASSERT_TRUE(m.PollOnce().ok());
  ASSERT_TRUE(testing::ExportTinyModel(base_, 2, 2.0f).ok());
  ASSERT_TRUE(m.PollOnce().ok());
  auto v = m.Get(std::nullopt);
  ASSERT_TRUE(v.ok());
  std::vector<Tensor> out;
  ASSERT_TRUE(
      (*v)->session->Run({{"x:0", Tensor::FromVector<float>({1, 0, 0}, {1, 3})}}, {"y:0"}, {}, &out)
          .ok());
  EXPECT_FLOAT_EQ(out[0].data<float>()[0], 2.5f);  // 2*1 + 0.5
}

}  // namespace
}  // namespace braid::serving
