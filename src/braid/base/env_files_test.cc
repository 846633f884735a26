// Env's streaming files (RandomAccessFile, WritableFile), real and default.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "braid/base/env.h"

namespace braid {
namespace {

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/env_files_test." + std::to_string(getpid()) + "." + name;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 % 251);
  return s;
}

// Appends `contents` in pieces of growing size (small ones buffered, large
// ones written through), then closes.
void WriteInPieces(WritableFile* file, const std::string& contents) {
  size_t at = 0, piece = 1;
  while (at < contents.size()) {
    size_t n = std::min(piece, contents.size() - at);
    ASSERT_TRUE(file->Append(contents.substr(at, n)).ok());
    at += n;
    piece *= 3;
  }
}

// Keeps files in a map and implements only the whole-file calls.
class MapEnv : public Env {
 public:
  absl::StatusOr<std::string> ReadFile(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return absl::NotFoundError(path);
    return it->second;
  }
  absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) override {
    files[path] = std::string(contents);
    return absl::OkStatus();
  }
  bool FileExists(const std::string& path) override { return files.count(path) > 0; }
  int64_t NowMicros() override { return 0; }
  std::map<std::string, std::string> files;
};

void CheckStreaming(Env* env, const std::string& path) {
  const std::string contents = Pattern(3 << 20);
  for (bool atomic : {false, true}) {
    SCOPED_TRACE(atomic);
    auto file = env->NewWritableFile(path, atomic);
    ASSERT_TRUE(file.ok()) << file.status();
    WriteInPieces(file->get(), contents);
    ASSERT_TRUE((*file)->Close().ok());
    EXPECT_EQ((*file)->Append("x").code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(*env->ReadFile(path), contents);

    auto in = env->NewRandomAccessFile(path);
    ASSERT_TRUE(in.ok()) << in.status();
    EXPECT_EQ((*in)->Size(), contents.size());
    std::string scratch(1000, '\0');
    EXPECT_EQ(*(*in)->Read(12345, 1000, scratch.data()), 1000u);
    EXPECT_EQ(scratch, contents.substr(12345, 1000));
    EXPECT_EQ(*(*in)->Read(contents.size() - 10, 1000, scratch.data()), 10u);  // short at the end
    EXPECT_EQ(scratch.substr(0, 10), contents.substr(contents.size() - 10));
    EXPECT_EQ(*(*in)->Read(contents.size() + 5, 1000, scratch.data()), 0u);
  }
  EXPECT_EQ(env->NewRandomAccessFile(path + ".missing").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(EnvFilesTest, PosixStreamsAtOffsets) { CheckStreaming(Env::Default(), TempPath("posix")); }

TEST(EnvFilesTest, DefaultsWorkOverWholeFileCalls) {
  MapEnv env;
  CheckStreaming(&env, "mem");
}

TEST(EnvFilesTest, AtomicFileAppearsOnlyOnClose) {
  Env* env = Env::Default();
  std::string path = TempPath("atomic");
  ASSERT_TRUE(env->WriteFileAtomically(path, "old").ok());
  {
    auto file = env->NewWritableFile(path, /*atomic=*/true);
    ASSERT_TRUE((*file)->Append("new").ok());
    ASSERT_TRUE((*file)->Flush().ok());
    EXPECT_EQ(*env->ReadFile(path), "old");
  }  // abandoned: the old file stays
  EXPECT_EQ(*env->ReadFile(path), "old");
  {
    auto file = env->NewWritableFile(path, /*atomic=*/false);
    ASSERT_TRUE((*file)->Append("grow").ok());
    ASSERT_TRUE((*file)->Flush().ok());
    EXPECT_EQ(*env->ReadFile(path), "grow");  // visible while open
    ASSERT_TRUE((*file)->Append("ing").ok());
  }  // destroyed unclosed: flushed and closed
  EXPECT_EQ(*env->ReadFile(path), "growing");
  EXPECT_FALSE(env->NewWritableFile("/nonexistent-dir/x", true).ok());
}

}  // namespace
}  // namespace braid
