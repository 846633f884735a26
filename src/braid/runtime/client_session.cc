#include "braid/base/status_macros.h"
#include "braid/runtime/session.h"

namespace braid {

ClientSession::ClientSession(const Scope& scope, const SessionOptions& options) : scope_(scope) {
  absl::StatusOr<std::unique_ptr<Session>> s = NewSession(options, scope.graph_ptr());
  if (s.ok()) {
    session_ = std::move(*s);
  } else {
    create_status_ = s.status();
  }
}

absl::Status ClientSession::Run(const FeedType& feeds, const std::vector<Output>& fetches,
                                std::vector<Tensor>* outputs) const {
  return Run(feeds, fetches, {}, outputs);
}

absl::Status ClientSession::Run(const FeedType& feeds, const std::vector<Output>& fetches,
                                const std::vector<Node*>& targets,
                                std::vector<Tensor>* outputs) const {
  RETURN_IF_ERROR(create_status_);
  RETURN_IF_ERROR(scope_.status());
  std::vector<std::pair<std::string, Tensor>> named_feeds;
  for (const auto& [out, value] : feeds) {
    if (!out.valid()) return absl::InvalidArgumentError("a fed Output is invalid");
    named_feeds.emplace_back(out.name(), value);
  }
  std::vector<std::string> fetch_names;
  for (const Output& o : fetches) {
    if (!o.valid()) return absl::InvalidArgumentError("a fetched Output is invalid");
    fetch_names.push_back(o.name());
  }
  std::vector<std::string> target_names;
  for (Node* n : targets) {
    if (n == nullptr) return absl::InvalidArgumentError("a target node is null");
    target_names.push_back(n->name());
  }
  std::vector<Tensor> ignored;
  return session_->Run(named_feeds, fetch_names, target_names, outputs ? outputs : &ignored);
}

}  // namespace braid
