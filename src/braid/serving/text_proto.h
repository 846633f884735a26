// Parsing TF Serving's configuration files (protobuf text format) with the
// parser's position in the error instead of a log line.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace braid::serving {

// InvalidArgument "<what> is not a valid <message type>: line L, column C: ..."
absl::Status ParseTextProto(const std::string& text, const std::string& what,
                            google::protobuf::Message* message);

}  // namespace braid::serving
