#include "braid/train/saver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "braid/base/env.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/state_ops.h"

namespace braid {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string FreshDir(const std::string& name) {
  fs::path p = fs::path(::testing::TempDir()) / (name + "." + std::to_string(getpid()));
  fs::remove_all(p);
  return p.string();
}

// Two variables on (optionally) two devices, with ops to set them.
struct Model {
  Scope root = Scope::NewRootScope();
  Variable a, b;
  Node* init;
  std::unique_ptr<ClientSession> session;
  std::unique_ptr<Saver> saver;
  Model(TensorShape b_shape = {2}, bool two_devices = false, int keep = 5) {
    Scope d1 = root.WithDevice(two_devices ? "/device:CPU:1" : "/device:CPU:0");
    a = ops::MakeVariable(root.WithDevice("/device:CPU:0"), "a", TensorShape{3}, DType::kFloat,
                          Initializer::Constant(1));
    b = ops::MakeVariable(d1, "b", b_shape, DType::kFloat, Initializer::Constant(2));
    init = ops::GlobalVariablesInitializer(root);
    SaverOptions o;
    o.max_to_keep = keep;
    auto s = Saver::Create(root, {}, o);
    EXPECT_TRUE(s.ok()) << s.status();
    saver = *std::move(s);
    SessionOptions so;
    so.num_cpu_devices = two_devices ? 2 : 1;
    session = std::make_unique<ClientSession>(root, so);
    std::vector<Tensor> out;
    EXPECT_TRUE(session->Run({}, {}, {init}, &out).ok());
  }
  void Set(const Variable& v, Tensor value) {
    std::vector<Tensor> out;
    ASSERT_TRUE(session->Run({ops::Assign(root, v, value)}, &out).ok());
  }
  Tensor Get(const Variable& v) {
    std::vector<Tensor> out;
    EXPECT_TRUE(session->Run({v.value}, &out).ok());
    return out[0];
  }
};

TEST(SaverTest, SavesAndRestoresEveryVariable) {
  std::string dir = FreshDir("ckpt_roundtrip");
  Model m;
  m.Set(m.a, Tensor::FromVector<float>({1, 2, 3}));
  auto path = m.saver->Save(m.session->session(), dir, 42);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, dir + "/ckpt-42");
  m.Set(m.a, Tensor::FromVector<float>({9, 9, 9}));
  m.Set(m.b, Tensor::FromVector<float>({7, 7}));
  auto latest = Saver::LatestCheckpoint(dir);
  ASSERT_TRUE(latest.ok() && latest->has_value());
  ASSERT_TRUE(m.saver->Restore(m.session->session(), **latest).ok());
  EXPECT_TRUE(TensorsEqual(m.Get(m.a), Tensor::FromVector<float>({1, 2, 3})));
  EXPECT_TRUE(TensorsEqual(m.Get(m.b), Tensor::FromVector<float>({2, 2})));
  int64_t step = 0;
  auto vars = Saver::ListVariables(**latest, &step);
  ASSERT_TRUE(vars.ok());
  EXPECT_EQ(step, 42);
  EXPECT_EQ(vars->size(), 2u);
  // The index file is TensorFlow's CheckpointState text format.
  EXPECT_THAT(*Env::Default()->ReadFile(dir + "/checkpoint"),
              HasSubstr("model_checkpoint_path: \"ckpt-42\""));
}

TEST(SaverTest, KeepsTheNewestAndFindsNoneInAnEmptyDirectory) {
  std::string dir = FreshDir("ckpt_keep");
  auto none = Saver::LatestCheckpoint(dir);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  Model m({2}, false, /*keep=*/2);
  for (int step : {10, 20, 30, 40})
    ASSERT_TRUE(m.saver->Save(m.session->session(), dir, step).ok());
  EXPECT_FALSE(fs::exists(dir + "/ckpt-20.manifest"));
  EXPECT_FALSE(fs::exists(dir + "/ckpt-20.shard-00000-of-00001"));
  EXPECT_TRUE(fs::exists(dir + "/ckpt-30.manifest"));
  EXPECT_EQ(**Saver::LatestCheckpoint(dir), dir + "/ckpt-40");
}

TEST(SaverTest, ShardsOfASaveThatDiedBeforeItsCommitAreRemovedByTheNext) {
  std::string dir = FreshDir("ckpt_orphans");
  Model m;
  ASSERT_TRUE(m.saver->Save(m.session->session(), dir, 10).ok());
  // A save of step 15 that was killed after its shard, before its manifest.
  std::ofstream(dir + "/ckpt-15.shard-00000-of-00001") << "uncommitted";
  std::ofstream(dir + "/other-15.shard-00000-of-00001") << "not ours";
  ASSERT_EQ(**Saver::LatestCheckpoint(dir), dir + "/ckpt-10");
  ASSERT_TRUE(m.saver->Save(m.session->session(), dir, 20).ok());
  EXPECT_FALSE(fs::exists(dir + "/ckpt-15.shard-00000-of-00001"));
  EXPECT_TRUE(fs::exists(dir + "/other-15.shard-00000-of-00001"));
  EXPECT_TRUE(fs::exists(dir + "/ckpt-10.shard-00000-of-00001"));
  EXPECT_TRUE(fs::exists(dir + "/ckpt-20.shard-00000-of-00001"));
}

TEST(SaverTest, EachDeviceWritesItsOwnShard) {
  std::string dir = FreshDir("ckpt_shards");
  Model m({2}, /*two_devices=*/true);
  auto path = m.saver->Save(m.session->session(), dir, 1);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_TRUE(fs::exists(*path + ".shard-00000-of-00002"));
  EXPECT_TRUE(fs::exists(*path + ".shard-00001-of-00002"));
  m.Set(m.b, Tensor::FromVector<float>({5, 5}));
  ASSERT_TRUE(m.saver->Restore(m.session->session(), *path).ok());
  EXPECT_TRUE(TensorsEqual(m.Get(m.b), Tensor::FromVector<float>({2, 2})));
}

TEST(SaverTest, MismatchedOrCorruptCheckpointsFailClearly) {
  std::string dir = FreshDir("ckpt_bad");
  Model saved;
  auto path = saved.saver->Save(saved.session->session(), dir, 5);
  ASSERT_TRUE(path.ok());
  Model other(TensorShape{4});  // b has another shape now
  absl::Status s = other.saver->Restore(other.session->session(), *path);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("variable 'b' has shape [4] but checkpoint '" +
                                                  *path + "' holds shape [2]"));
  // A flipped byte in the shard is caught by its CRC, with the offset.
  std::string shard = *path + ".shard-00000-of-00001";
  std::string bytes = *Env::Default()->ReadFile(shard);
  bytes[bytes.size() - 6] ^= 0x10;
  ASSERT_TRUE(Env::Default()->WriteFileAtomically(shard, bytes).ok());
  s = saved.saver->Restore(saved.session->session(), *path);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("CRC mismatch"));
  // A truncated manifest.
  std::string manifest = *Env::Default()->ReadFile(*path + ".manifest");
  ASSERT_TRUE(
      Env::Default()
          ->WriteFileAtomically(*path + ".manifest", manifest.substr(0, manifest.size() / 2))
          .ok());
  s = saved.saver->Restore(saved.session->session(), *path);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("truncated"));
}

}  // namespace
}  // namespace braid
