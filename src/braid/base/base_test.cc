#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>

#include "braid/base/env.h"
#include "braid/base/thread_pool.h"

namespace braid {
namespace {

TEST(ThreadPoolTest, RunsEveryClosureBeforeDestruction) {
  std::atomic<int> count{0};
  {
    ThreadPool pool(3);
    for (int i = 0; i < 1000; ++i) pool.Schedule([&] { count.fetch_add(1); });
  }
  EXPECT_EQ(count.load(), 1000);
  EXPECT_GE(NumSchedulableCores(), 1);
}

std::string Gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = in.size();
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = out.size();
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(EnvTest, AtomicWriteReplacesWholeFile) {
  Env* env = Env::Default();
  std::string path = ::testing::TempDir() + "/env_test." + std::to_string(getpid());
  ASSERT_TRUE(env->WriteFileAtomically(path, "first version").ok());
  ASSERT_TRUE(env->WriteFileAtomically(path, "second").ok());
  EXPECT_EQ(*env->ReadFile(path), "second");
  EXPECT_FALSE(env->FileExists(path + ".tmp." + std::to_string(getpid())));
  EXPECT_EQ(env->ReadFile(path + ".missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(env->WriteFileAtomically("/nonexistent-dir/x", "y").ok());
}

TEST(EnvTest, InflatesGzipAndReportsCorruption) {
  Env* env = Env::Default();
  std::string path = ::testing::TempDir() + "/env_gz." + std::to_string(getpid());
  std::string payload(100000, 'q');
  std::string gz = Gzip(payload);
  ASSERT_TRUE(env->WriteFileAtomically(path, gz).ok());
  EXPECT_EQ(*ReadMaybeGzippedFile(env, path), payload);
  ASSERT_TRUE(env->WriteFileAtomically(path, "plain").ok());
  EXPECT_EQ(*ReadMaybeGzippedFile(env, path), "plain");
  ASSERT_TRUE(env->WriteFileAtomically(path, gz.substr(0, gz.size() / 2)).ok());
  auto truncated = ReadMaybeGzippedFile(env, path);
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(truncated.status().message()), ::testing::HasSubstr("corrupt gzip"));
}

}  // namespace
}  // namespace braid
