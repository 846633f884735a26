// Exporting a model for serving: the inference part of a graph, the current
// values of its variables and its signatures, written as BASE/<version>/ in
// the layout of export_format.h.
//
//   ExportSpec spec{.scope = model.scope(), .session = model.session()};
//   spec.signatures["serving_default"].inputs["x"] = TensorInfoOf(x);
//   spec.signatures["serving_default"].outputs["probabilities"] = TensorInfoOf(p);
//   RETURN_IF_ERROR(ExportModel(spec, "/models/fmnist", 1200));
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "braid/graph/scope.h"
#include "braid/runtime/session.h"
#include "braid/serving/signature.h"

namespace braid::serving {

struct ExportSpec {
  // The graph holding the signature tensors and the variables they read.
  // Export adds one ReadVariableOp per exported variable to it (once; later
  // exports reuse them).
  Scope scope;
  // Holds the variables' values (local or distributed).
  Session* session = nullptr;
  SignatureMap signatures;
};

// The name, dtype and static shape of a graph tensor.
TensorInfo TensorInfoOf(const Output& output);

// Writes BASE/<version>/ atomically. Only the nodes the signatures' outputs
// depend on are exported, without device requests (the server places them).
// Errors: version < 1, a signature naming a tensor the graph lacks or with
// the wrong dtype (InvalidArgument), an existing BASE/<version>
// (AlreadyExists), file errors; nothing is left behind in BASE on error.
absl::Status ExportModel(const ExportSpec& spec, const std::string& base, int64_t version);

}  // namespace braid::serving
