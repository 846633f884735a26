#include "braid/serving/export.h"

#include <unistd.h>

#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "braid/base/env.h"
#include "braid/base/record_file.h"
#include "braid/base/status_macros.h"
#include "braid/checkpoint.pb.h"
#include "braid/graph/ops/io_ops.h"
#include "braid/graph/ops/state_ops.h"
#include "braid/serving/export_format.h"
#include "braid/tensor/tensor_proto.h"
#include "tensorflow/core/framework/graph.pb.h"

namespace braid::serving {
namespace {

namespace fs = std::filesystem;

// The signature's tensors exist in the graph with the declared dtypes.
absl::Status CheckSignatures(const Graph& graph, const SignatureMap& signatures) {
  if (signatures.empty()) return absl::InvalidArgumentError("an export needs a signature");
  for (const auto& [key, sig] : signatures) {
    if (sig.inputs.empty() || sig.outputs.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("signature '", key, "' needs at least one input and one output"));
    }
    for (const auto* side : {&sig.inputs, &sig.outputs}) {
      for (const auto& [alias, info] : *side) {
        ASSIGN_OR_RETURN(auto parsed, SplitTensorName(info.name));
        Node* node = graph.FindNode(parsed.first);
        if (node == nullptr || parsed.second >= node->num_outputs()) {
          return absl::InvalidArgumentError(absl::StrCat("signature '", key, "': '", alias,
                                                         "' names tensor '", info.name,
                                                         "', which the graph does not have"));
        }
        if (node->output_dtype(parsed.second) != info.dtype) {
          return absl::InvalidArgumentError(absl::StrCat(
              "signature '", key, "': '", alias, "' is declared ", DTypeName(info.dtype),
              " but tensor '", info.name, "' is ", DTypeName(node->output_dtype(parsed.second))));
        }
      }
    }
  }
  return absl::OkStatus();
}

// Every node the signatures' tensors depend on, by data or control edges.
std::set<Node*> InferenceNodes(const Graph& graph, const SignatureMap& signatures) {
  std::vector<Node*> stack;
  for (const auto& [key, sig] : signatures) {
    for (const auto* side : {&sig.inputs, &sig.outputs}) {
      for (const auto& [alias, info] : *side) {
        stack.push_back(graph.FindNode(SplitTensorName(info.name)->first));
      }
    }
  }
  std::set<Node*> seen;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    for (const Output& in : n->inputs()) stack.push_back(in.node);
    for (Node* c : n->control_inputs()) stack.push_back(c);
  }
  return seen;
}

// The variables' current values, read through `spec.session`.
absl::StatusOr<std::vector<Tensor>> ReadVariables(const ExportSpec& spec,
                                                  const std::vector<Node*>& variables) {
  std::vector<std::string> fetches;
  for (Node* v : variables) {
    const std::string read_name = v->name() + "/export_read";
    Node* read = spec.scope.graph()->FindNode(read_name);
    if (read == nullptr) {
      Output r = ops::ReadVariableOp(spec.scope.NewSubScopeUnder(v).WithOpName("export_read"),
                                     v->output(0), v->attr<DType>("dtype"));
      RETURN_IF_ERROR(spec.scope.status());
      read = r.node;
    }
    fetches.push_back(read->name() + ":0");
  }
  std::vector<Tensor> values;
  RETURN_IF_ERROR(spec.session->Run({}, fetches, {}, &values));
  return values;
}

// The inference nodes (devices and colocations dropped: the server places
// them) and a restore op assigning the variables from the exported shard.
tensorflow::GraphDef InferenceGraphDef(const Graph& graph, const std::set<Node*>& keep,
                                       const std::vector<Node*>& variables) {
  tensorflow::GraphDef full, out;
  graph.ToGraphDef(&full);
  *out.mutable_versions() = full.versions();
  for (const tensorflow::NodeDef& nd : full.node()) {
    Node* n = graph.FindNode(nd.name());
    if (keep.count(n) == 0) continue;
    tensorflow::NodeDef* copy = out.add_node();
    *copy = nd;
    copy->clear_device();
    copy->mutable_attr()->erase("_class");
  }
  if (variables.empty()) return out;
  tensorflow::NodeDef* prefix = out.add_node();
  prefix->set_name(kRestorePrefixNode);
  prefix->set_op("Placeholder");
  (*prefix->mutable_attr())["dtype"].set_type(tensorflow::DT_STRING);
  (*prefix->mutable_attr())["shape"].mutable_shape();  // a scalar
  tensorflow::NodeDef* restore = out.add_node();
  restore->set_name(kRestoreOpNode);
  restore->set_op("RestoreShard");
  restore->add_input(kRestorePrefixNode);
  auto* names = (*restore->mutable_attr())["tensor_names"].mutable_list();
  for (Node* v : variables) {
    restore->add_input(v->name());
    names->add_s(v->name());
  }
  auto& attrs = *restore->mutable_attr();
  attrs["N"].set_i(static_cast<int64_t>(variables.size()));
  attrs["shard"].set_i(0);
  attrs["num_shards"].set_i(1);
  return out;
}

absl::Status WriteVersion(const std::string& dir, const tensorflow::GraphDef& graph_def,
                          const std::vector<Node*>& variables, const std::vector<Tensor>& values,
                          const SignatureMap& signatures) {
  Env* env = Env::Default();
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "variables", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create '", dir, "': ", ec.message()));
  RETURN_IF_ERROR(env->WriteFileAtomically((fs::path(dir) / kGraphFile).string(),
                                           graph_def.SerializeAsString()));
  std::vector<std::string> records;
  for (size_t i = 0; i < variables.size(); ++i) {
    braid::CheckpointEntry entry;
    entry.set_name(variables[i]->name());
    TensorToProto(values[i], entry.mutable_tensor());
    records.push_back(entry.SerializeAsString());
  }
  const std::string prefix = (fs::path(dir) / kVariablesPrefix).string();
  RETURN_IF_ERROR(WriteRecordFile(env, ops::ShardFileName(prefix, 0, 1), records));
  nlohmann::json meta = {{"format", kExportFormat},
                         {"signature_def", SignaturesToJson(signatures)},
                         {"restore", nullptr}};
  if (!variables.empty()) {
    meta["restore"] = {{"prefix_tensor", absl::StrCat(kRestorePrefixNode, ":0")},
                       {"restore_op", kRestoreOpNode},
                       {"variables_prefix", kVariablesPrefix}};
  }
  return env->WriteFileAtomically((fs::path(dir) / kSignaturesFile).string(), meta.dump(2));
}

}  // namespace

TensorInfo TensorInfoOf(const Output& output) {
  return {output.name(), output.dtype(), output.shape()};
}

absl::Status ExportModel(const ExportSpec& spec, const std::string& base, int64_t version) {
  if (version < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("export version must be a positive integer, got ", version));
  }
  if (spec.session == nullptr) return absl::InvalidArgumentError("ExportSpec has no session");
  RETURN_IF_ERROR(spec.scope.status());
  const Graph& graph = *spec.scope.graph();
  RETURN_IF_ERROR(CheckSignatures(graph, spec.signatures));
  const std::string final_dir = (fs::path(base) / std::to_string(version)).string();
  if (fs::exists(final_dir)) {
    return absl::AlreadyExistsError(absl::StrCat("export version ", version, " already exists: '",
                                                 final_dir, "'; export a higher version"));
  }

  std::set<Node*> keep = InferenceNodes(graph, spec.signatures);
  std::vector<Node*> variables;
  for (Node* n : graph.nodes())  // graph order: deterministic
    if (keep.count(n) > 0 && n->op() == "VarHandleOp") variables.push_back(n);
  ASSIGN_OR_RETURN(std::vector<Tensor> values, ReadVariables(spec, variables));
  tensorflow::GraphDef graph_def = InferenceGraphDef(graph, keep, variables);
  // What the server will load must load.
  RETURN_IF_ERROR(Graph::FromGraphDef(graph_def).status());

  const std::string temp_dir =
      (fs::path(base) / absl::StrCat(kTempDirPrefix, version, "-", getpid())).string();
  std::error_code ec;
  fs::remove_all(temp_dir, ec);
  absl::Status written = WriteVersion(temp_dir, graph_def, variables, values, spec.signatures);
  if (written.ok()) {
    fs::rename(temp_dir, final_dir, ec);
    if (ec) {
      written = absl::InternalError(
          absl::StrCat("cannot rename '", temp_dir, "' to '", final_dir, "': ", ec.message()));
    }
  }
  if (!written.ok()) fs::remove_all(temp_dir, ec);
  return written;
}

}  // namespace braid::serving
