#include "braid/base/env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
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

// write(2) all of `data`, retrying short writes and EINTR.
absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot write", path);
    p += n;
    left -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

class PosixRandomAccessFile : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  absl::StatusOr<size_t> Read(uint64_t offset, size_t n, char* scratch) const override {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, scratch + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return ErrnoStatus("cannot read", path_);
      if (r == 0) break;  // end of file
      got += static_cast<size_t>(r);
    }
    return got;
  }
  uint64_t Size() const override { return size_; }

 private:
  const std::string path_;
  const int fd_;
  const uint64_t size_;
};

class PosixWritableFile : public WritableFile {
 public:
  // `tmp_path` empty: not atomic, fd writes `path` itself.
  PosixWritableFile(std::string path, std::string tmp_path, int fd)
      : path_(std::move(path)), tmp_path_(std::move(tmp_path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ < 0) return;
    if (tmp_path_.empty()) {
      (void)Flush();
      ::close(fd_);
    } else {
      ::close(fd_);
      ::unlink(tmp_path_.c_str());
    }
  }

  absl::Status Append(absl::string_view data) override {
    if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat("'", path_, "' is closed"));
    if (buffer_.size() + data.size() <= kBufferBytes) {
      buffer_.append(data.data(), data.size());
      return absl::OkStatus();
    }
    absl::Status s = Flush();
    if (!s.ok()) return s;
    if (data.size() <= kBufferBytes) {
      buffer_.append(data.data(), data.size());
      return absl::OkStatus();
    }
    return WriteAll(fd_, data, WrittenPath());  // large: skip the copy
  }

  absl::Status Flush() override {
    if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat("'", path_, "' is closed"));
    absl::Status s = WriteAll(fd_, buffer_, WrittenPath());
    buffer_.clear();
    return s;
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat("'", path_, "' is closed"));
    absl::Status s = Flush();
    // Only a file about to replace another needs to be durable first.
    if (s.ok() && !tmp_path_.empty() && ::fsync(fd_) != 0) {
      s = ErrnoStatus("cannot sync", tmp_path_);
    }
    if (::close(fd_) != 0 && s.ok()) s = ErrnoStatus("cannot close", WrittenPath());
    fd_ = -1;
    if (tmp_path_.empty()) return s;
    if (s.ok() && ::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
      s = ErrnoStatus("cannot rename onto", path_);
    }
    if (!s.ok()) ::unlink(tmp_path_.c_str());
    return s;
  }

 private:
  static constexpr size_t kBufferBytes = 256 << 10;
  const std::string& WrittenPath() const { return tmp_path_.empty() ? path_ : tmp_path_; }

  const std::string path_;
  const std::string tmp_path_;
  int fd_;
  std::string buffer_;
};

class PosixEnv : public Env {
 public:
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("cannot open", path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      absl::Status s = ErrnoStatus("cannot stat", path);
      ::close(fd);
      return s;
    }
    return std::make_unique<PosixRandomAccessFile>(path, fd, static_cast<uint64_t>(st.st_size));
  }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                bool atomic) override {
    // The counter keeps two atomic writers of one path in a process apart.
    static std::atomic<uint64_t> counter{0};
    std::string tmp = atomic ? absl::StrCat(path, ".tmp.", getpid(), ".", counter++) : "";
    const std::string& open_path = atomic ? tmp : path;
    int fd = ::open(open_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("cannot create", open_path);
    return std::make_unique<PosixWritableFile>(path, std::move(tmp), fd);
  }

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

// The default streaming files: whole files in memory over ReadFile /
// WriteFileAtomically (see env.h).
class InMemoryRandomAccessFile : public RandomAccessFile {
 public:
  explicit InMemoryRandomAccessFile(std::string contents) : contents_(std::move(contents)) {}
  absl::StatusOr<size_t> Read(uint64_t offset, size_t n, char* scratch) const override {
    if (offset >= contents_.size()) return size_t{0};
    size_t got = std::min<uint64_t>(n, contents_.size() - offset);
    std::memcpy(scratch, contents_.data() + offset, got);
    return got;
  }
  uint64_t Size() const override { return contents_.size(); }

 private:
  const std::string contents_;
};

class WholeFileWritableFile : public WritableFile {
 public:
  WholeFileWritableFile(Env* env, std::string path, bool atomic)
      : env_(env), path_(std::move(path)), atomic_(atomic) {}
  ~WholeFileWritableFile() override {
    if (!closed_ && !atomic_) (void)Close();
  }
  absl::Status Append(absl::string_view data) override {
    if (closed_) return absl::FailedPreconditionError(absl::StrCat("'", path_, "' is closed"));
    contents_.append(data.data(), data.size());
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  absl::Status Close() override {
    if (closed_) return absl::FailedPreconditionError(absl::StrCat("'", path_, "' is closed"));
    closed_ = true;
    return env_->WriteFileAtomically(path_, contents_);
  }

 private:
  Env* const env_;
  const std::string path_;
  const bool atomic_;
  bool closed_ = false;
  std::string contents_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RandomAccessFile>> Env::NewRandomAccessFile(
    const std::string& path) {
  absl::StatusOr<std::string> contents = ReadFile(path);
  if (!contents.ok()) return contents.status();
  return std::make_unique<InMemoryRandomAccessFile>(std::move(contents).value());
}

absl::StatusOr<std::unique_ptr<WritableFile>> Env::NewWritableFile(const std::string& path,
                                                                   bool atomic) {
  return std::make_unique<WholeFileWritableFile>(this, path, atomic);
}

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
