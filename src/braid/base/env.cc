#include "braid/base/env.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace braid {
namespace {

absl::Status ErrnoStatus(absl::string_view what, const std::string& path) {
  int err = errno;
  std::string msg = absl::StrCat(what, " '", path, "': ", std::strerror(err));
  return err == ENOENT ? absl::NotFoundError(msg) : absl::InternalError(msg);
}

class PosixEnv : public Env {
 public:
  absl::StatusOr<std::string> ReadFile(const std::string& path) override {
    std::ifstream in(path, std::ios::binary);
    if (!in) return ErrnoStatus("cannot open", path);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return ErrnoStatus("cannot read", path);
    return std::move(ss).str();
  }

  absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) override {
    std::string tmp = absl::StrCat(path, ".tmp.", getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("cannot create", tmp);
    const char* p = contents.data();
    size_t left = contents.size();
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        absl::Status s = ErrnoStatus("cannot write", tmp);
        ::close(fd);
        ::unlink(tmp.c_str());
        return s;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
      absl::Status s = ErrnoStatus("cannot flush", tmp);
      ::unlink(tmp.c_str());
      return s;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      absl::Status s = ErrnoStatus("cannot rename onto", path);
      ::unlink(tmp.c_str());
      return s;
    }
    return absl::OkStatus();
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  int64_t NowMicros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv;
  return env;
}

absl::StatusOr<std::string> ReadMaybeGzippedFile(Env* env, const std::string& path) {
  absl::StatusOr<std::string> raw = env->ReadFile(path);
  if (!raw.ok()) return raw.status();
  const std::string& in = *raw;
  if (in.size() < 2 || static_cast<unsigned char>(in[0]) != 0x1f ||
      static_cast<unsigned char>(in[1]) != 0x8b) {
    return raw;
  }
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return absl::InternalError("inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char chunk[1 << 16];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return absl::DataLossError(
          absl::StrCat("corrupt gzip data in '", path, "' at compressed offset ", zs.total_in));
    }
    out.append(chunk, sizeof(chunk) - zs.avail_out);
  } while (rc != Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

}  // namespace braid
