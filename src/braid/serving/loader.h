// Loading one exported version (export_format.h) into a session ready to
// serve: the graph, its variables restored, its signatures checked against
// the graph, and one warm-up run per signature.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "braid/runtime/session.h"
#include "braid/serving/signature.h"

namespace braid::serving {

// A loaded version. Immutable after loading; Run on its session is
// thread-safe, so request threads share it through a shared_ptr and the last
// one out frees it.
struct LoadedVersion {
  int64_t version = 0;
  std::string dir;
  SignatureMap signatures;
  std::unique_ptr<Session> session;
};

// Errors name the directory and what is wrong: a missing or unparsable file
// (NotFound / DataLoss), signatures that name tensors the graph lacks or
// with other dtypes (InvalidArgument), a restore or warm-up failure.
absl::StatusOr<std::unique_ptr<LoadedVersion>> LoadVersion(const std::string& dir, int64_t version,
                                                           const SessionOptions& options);

}  // namespace braid::serving
