#include "braid/train/saver.h"

#include <google/protobuf/text_format.h>

#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "braid/base/env.h"
#include "braid/base/record_file.h"
#include "braid/base/status_macros.h"
#include "braid/checkpoint.pb.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/io_ops.h"
#include "braid/tensor/tensor_proto.h"
#include "tensorflow/python/training/checkpoint_state.pb.h"

namespace braid {
namespace {

namespace fs = std::filesystem;

constexpr char kIndexFile[] = "checkpoint";

std::string ManifestFile(const std::string& prefix) { return prefix + ".manifest"; }

absl::StatusOr<tensorflow::CheckpointState> ReadIndex(const std::string& dir) {
  tensorflow::CheckpointState state;
  std::string path = (fs::path(dir) / kIndexFile).string();
  if (!Env::Default()->FileExists(path)) return state;
  ASSIGN_OR_RETURN(std::string text, Env::Default()->ReadFile(path));
  if (!google::protobuf::TextFormat::ParseFromString(text, &state)) {
    return absl::DataLossError(absl::StrCat("checkpoint index '", path, "' is corrupt"));
  }
  return state;
}

// Deletes the files of a checkpoint prefix (its shards and manifest).
void RemoveCheckpoint(const std::string& prefix) {
  std::error_code ec;
  fs::path p(prefix);
  std::string stem = p.filename().string() + ".";
  for (const auto& entry : fs::directory_iterator(p.parent_path(), ec)) {
    if (entry.path().filename().string().rfind(stem, 0) == 0) fs::remove(entry.path(), ec);
  }
}

// Deletes the shards of saves that died before their commit: shards of
// `basename` whose checkpoint has no manifest, other than `keep`'s.
void RemoveUncommittedShards(const std::string& dir, const std::string& basename,
                             const std::string& keep) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t shard = name.find(".shard-");
    if (name.rfind(basename + "-", 0) != 0 || shard == std::string::npos) continue;
    const std::string prefix = name.substr(0, shard);
    if (prefix == keep || fs::exists(fs::path(dir) / (prefix + ".manifest"), ec)) continue;
    fs::remove(entry.path(), ec);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Saver>> Saver::Create(const Scope& scope,
                                                     std::vector<Node*> variables,
                                                     SaverOptions options) {
  RETURN_IF_ERROR(scope.status());
  if (variables.empty()) variables = scope.graph()->collection("variables");
  if (variables.empty()) return absl::InvalidArgumentError("there are no variables to save");
  if (options.max_to_keep < 1) return absl::InvalidArgumentError("max_to_keep must be >= 1");
  // One shard per device request: the variables of one device are saved by
  // an op on that device.
  std::map<std::string, std::vector<Node*>> groups;
  for (Node* v : variables) {
    if (v == nullptr || v->op() != "VarHandleOp") {
      return absl::InvalidArgumentError("Saver takes VarHandleOp nodes");
    }
    groups[v->requested_device()].push_back(v);
  }
  std::unique_ptr<Saver> saver(new Saver);
  saver->options_ = options;
  Scope s = scope.NewSubScope("save");
  saver->prefix_ = ops::Placeholder(s.WithOpName("prefix"), DType::kString, TensorShape{});
  const int64_t n = static_cast<int64_t>(groups.size());
  int64_t shard = 0;
  for (const auto& [device, nodes] : groups) {
    std::vector<Output> handles;
    std::vector<std::string> names;
    std::vector<CheckpointVariable> vars;
    for (Node* v : nodes) {
      handles.push_back(v->output(0));
      names.push_back(v->name());
      vars.push_back({v->name(), v->attr<DType>("dtype"), v->attr<TensorShape>("shape"), ""});
    }
    saver->save_files_.push_back(ops::SaveShard(s, saver->prefix_, handles, names, shard, n));
    saver->restore_ops_.push_back(ops::RestoreShard(s, saver->prefix_, handles, names, shard, n));
    saver->shard_vars_.push_back(std::move(vars));
    ++shard;
  }
  RETURN_IF_ERROR(scope.status());
  return saver;
}

absl::StatusOr<std::string> Saver::Save(Session* session, const std::string& dir,
                                        int64_t global_step) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create checkpoint directory '", dir, "': ", ec.message()));
  }
  const std::string name = absl::StrCat(options_.basename, "-", global_step);
  const std::string prefix = (fs::path(dir) / name).string();
  std::vector<std::string> files;
  for (const Output& o : save_files_) files.push_back(o.name());
  std::vector<Tensor> written;
  RETURN_IF_ERROR(session->Run({{prefix_.name(), Tensor::Scalar(prefix)}}, files, {}, &written));

  if (options_.before_commit) options_.before_commit();
  // The manifest commits the checkpoint.
  braid::CheckpointManifest manifest;
  manifest.set_global_step(global_step);
  manifest.set_created_unix_micros(Env::Default()->NowMicros());
  for (size_t i = 0; i < written.size(); ++i) {
    auto* shard = manifest.add_shards();
    shard->set_file(fs::path(written[i].data<std::string>()[0]).filename().string());
    for (const CheckpointVariable& v : shard_vars_[i]) {
      auto* var = shard->add_variables();
      var->set_name(v.name);
      var->set_dtype(static_cast<tensorflow::DataType>(v.dtype));
      ShapeToProto(v.shape, var->mutable_shape());
    }
  }
  RETURN_IF_ERROR(
      WriteRecordFile(Env::Default(), ManifestFile(prefix), {manifest.SerializeAsString()}));

  ASSIGN_OR_RETURN(tensorflow::CheckpointState state, ReadIndex(dir));
  std::vector<std::string> kept;
  for (const std::string& p : state.all_model_checkpoint_paths())
    if (p != name) kept.push_back(p);
  kept.push_back(name);
  std::vector<std::string> dropped;
  while (static_cast<int>(kept.size()) > options_.max_to_keep) {
    dropped.push_back(kept.front());
    kept.erase(kept.begin());
  }
  state.set_model_checkpoint_path(name);
  state.clear_all_model_checkpoint_paths();
  for (const std::string& p : kept) state.add_all_model_checkpoint_paths(p);
  std::string text;
  google::protobuf::TextFormat::PrintToString(state, &text);
  RETURN_IF_ERROR(Env::Default()->WriteFileAtomically((fs::path(dir) / kIndexFile).string(), text));
  // Only once the index no longer names them.
  for (const std::string& p : dropped) RemoveCheckpoint((fs::path(dir) / p).string());
  RemoveUncommittedShards(dir, options_.basename, name);
  return prefix;
}

absl::StatusOr<std::vector<CheckpointVariable>> Saver::ListVariables(const std::string& checkpoint,
                                                                     int64_t* global_step) {
  ASSIGN_OR_RETURN(std::vector<std::string> records,
                   ReadRecordFile(Env::Default(), ManifestFile(checkpoint)));
  braid::CheckpointManifest manifest;
  if (records.size() != 1 || !manifest.ParseFromString(records[0])) {
    return absl::DataLossError(
        absl::StrCat("checkpoint manifest '", ManifestFile(checkpoint), "' is corrupt"));
  }
  if (global_step != nullptr) *global_step = manifest.global_step();
  std::vector<CheckpointVariable> vars;
  const fs::path dir = fs::path(checkpoint).parent_path();
  for (const auto& shard : manifest.shards()) {
    std::string file = (dir / shard.file()).string();
    if (!Env::Default()->FileExists(file)) {
      return absl::DataLossError(
          absl::StrCat("checkpoint '", checkpoint, "' is missing its shard '", file, "'"));
    }
    for (const auto& v : shard.variables()) {
      ASSIGN_OR_RETURN(TensorShape shape, ShapeFromProto(v.shape()));
      vars.push_back({v.name(), static_cast<DType>(v.dtype()), shape, file});
    }
  }
  return vars;
}

absl::Status Saver::Restore(Session* session, const std::string& checkpoint) {
  ASSIGN_OR_RETURN(std::vector<CheckpointVariable> saved, ListVariables(checkpoint));
  std::map<std::string, const CheckpointVariable*> by_name;
  for (const CheckpointVariable& v : saved) by_name[v.name] = &v;
  // Check everything before assigning anything.
  for (size_t shard = 0; shard < shard_vars_.size(); ++shard) {
    for (const CheckpointVariable& want : shard_vars_[shard]) {
      auto it = by_name.find(want.name);
      if (it == by_name.end()) {
        return absl::NotFoundError(
            absl::StrCat("variable '", want.name, "' is not in checkpoint '", checkpoint, "'"));
      }
      const CheckpointVariable& got = *it->second;
      if (got.dtype != want.dtype) {
        return absl::InvalidArgumentError(
            absl::StrCat("variable '", want.name, "' is ", DTypeName(want.dtype),
                         " but checkpoint '", checkpoint, "' holds ", DTypeName(got.dtype)));
      }
      if (!want.shape.IsCompatibleWith(got.shape)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "variable '", want.name, "' has shape ", want.shape.DebugString(), " but checkpoint '",
            checkpoint, "' holds shape ", got.shape.DebugString()));
      }
      std::string expected = ops::ShardFileName(checkpoint, shard, shard_vars_.size());
      if (got.shard_file != expected) {
        return absl::FailedPreconditionError(absl::StrCat(
            "variable '", want.name, "' was saved in '", got.shard_file, "' but this graph reads '",
            expected, "': restoring needs the variables grouped on devices as when saved"));
      }
    }
  }
  std::vector<std::string> targets;
  for (Node* n : restore_ops_) targets.push_back(n->name());
  std::vector<Tensor> out;
  return session->Run({{prefix_.name(), Tensor::Scalar(checkpoint)}}, {}, targets, &out);
}

absl::StatusOr<std::optional<std::string>> Saver::LatestCheckpoint(const std::string& dir) {
  ASSIGN_OR_RETURN(tensorflow::CheckpointState state, ReadIndex(dir));
  // Newest first; a checkpoint counts only with its manifest.
  std::vector<std::string> candidates = {state.model_checkpoint_path()};
  for (int i = state.all_model_checkpoint_paths_size() - 1; i >= 0; --i)
    candidates.push_back(state.all_model_checkpoint_paths(i));
  for (const std::string& name : candidates) {
    if (name.empty()) continue;
    std::string prefix = (fs::path(dir) / name).string();
    if (Env::Default()->FileExists(ManifestFile(prefix))) return std::optional<std::string>(prefix);
  }
  return std::optional<std::string>();
}

}  // namespace braid
