#include "braid/summary/summary_writer.h"

#include <filesystem>
#include <mutex>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/kernels/summary/summary_values.h"
#include "tensorflow/core/framework/graph.pb.h"
#include "tensorflow/core/framework/summary.pb.h"
#include "tensorflow/core/util/event.pb.h"

namespace braid::summary {
namespace {

namespace fs = std::filesystem;

// The run directories that have a live writer in this process.
struct DirectoryRegistry {
  std::mutex mu;
  absl::flat_hash_set<std::string> claimed;  // protected by mu
};
DirectoryRegistry& Registry() {
  static DirectoryRegistry* registry = new DirectoryRegistry;
  return *registry;
}

absl::StatusOr<std::string> CreateRunDirectory(const std::string& logdir) {
  if (logdir.empty()) {
    return absl::InvalidArgumentError("the summary log directory is empty; name a directory");
  }
  std::error_code ec;
  fs::create_directories(logdir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create summary log directory '", logdir, "': ", ec.message()));
  }
  fs::path canonical = fs::canonical(logdir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot resolve summary log directory '", logdir, "': ", ec.message()));
  }
  return canonical.string();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SummaryWriter>> SummaryWriter::Create(const std::string& logdir,
                                                                     SummaryWriterOptions options) {
  ASSIGN_OR_RETURN(std::string dir, CreateRunDirectory(logdir));
  {
    DirectoryRegistry& registry = Registry();
    std::lock_guard<std::mutex> lock(registry.mu);
    if (!registry.claimed.insert(dir).second) {
      return absl::FailedPreconditionError(absl::StrCat(
          "a SummaryWriter is already writing to '", logdir, "' (", dir,
          "): one writer per run directory; close it first or write to another directory"));
    }
  }
  EventFileWriterOptions event_options;
  event_options.flush_seconds = options.flush_seconds;
  absl::StatusOr<std::unique_ptr<EventFileWriter>> events =
      EventFileWriter::Create(dir, event_options);
  if (!events.ok()) {
    std::lock_guard<std::mutex> lock(Registry().mu);
    Registry().claimed.erase(dir);
    return events.status();
  }
  return std::unique_ptr<SummaryWriter>(new SummaryWriter(logdir, dir, std::move(*events)));
}

SummaryWriter::SummaryWriter(std::string logdir, std::string claimed_dir,
                             std::unique_ptr<EventFileWriter> events)
    : logdir_(std::move(logdir)),
      claimed_dir_(std::move(claimed_dir)),
      events_(std::move(events)) {}

SummaryWriter::~SummaryWriter() { (void)Close(); }

void SummaryWriter::ReleaseDirectory() {
  DirectoryRegistry& registry = Registry();
  std::lock_guard<std::mutex> lock(registry.mu);
  if (claimed_dir_.empty()) return;
  registry.claimed.erase(claimed_dir_);
  claimed_dir_.clear();
}

absl::Status SummaryWriter::WriteSummary(int64_t step, const tensorflow::Summary& summary) {
  tensorflow::Event event;
  event.set_wall_time(events_->WallTime());
  event.set_step(step);
  *event.mutable_summary() = summary;
  return events_->WriteEvent(event);
}

absl::Status SummaryWriter::WriteSerializedSummary(int64_t step,
                                                   const std::string& serialized_summary) {
  tensorflow::Summary summary;
  RETURN_IF_ERROR(AddSerializedSummary(serialized_summary, "the summary", &summary));
  return WriteSummary(step, summary);
}

absl::Status SummaryWriter::Scalar(const std::string& tag, int64_t step, double value) {
  tensorflow::Summary summary;
  tensorflow::Summary::Value* v = summary.add_value();
  v->set_tag(tag);
  v->set_simple_value(static_cast<float>(value));
  return WriteSummary(step, summary);
}

absl::Status SummaryWriter::Histogram(const std::string& tag, int64_t step, const Tensor& values) {
  tensorflow::Summary summary;
  RETURN_IF_ERROR(AddHistogramValue(tag, values, &summary));
  return WriteSummary(step, summary);
}

absl::Status SummaryWriter::Image(const std::string& tag, int64_t step, const Tensor& images,
                                  int max_images) {
  Tensor batch = images;
  if (images.initialized() && images.rank() == 3) {
    batch = images.Reshaped({1, images.dim(0), images.dim(1), images.dim(2)});
  }
  tensorflow::Summary summary;
  RETURN_IF_ERROR(AddImageValues(tag, batch, max_images, &summary));
  return WriteSummary(step, summary);
}

absl::Status SummaryWriter::Text(const std::string& tag, int64_t step, const std::string& text) {
  tensorflow::Summary summary;
  RETURN_IF_ERROR(AddTextValue(tag, Tensor::Scalar(text), &summary));
  return WriteSummary(step, summary);
}

absl::Status SummaryWriter::Graph(const braid::Graph& graph) {
  tensorflow::GraphDef def;
  graph.ToGraphDef(&def);
  tensorflow::Event event;
  event.set_wall_time(events_->WallTime());
  event.set_graph_def(def.SerializeAsString());
  return events_->WriteEvent(event);
}

absl::Status SummaryWriter::Flush() { return events_->Flush(); }

absl::Status SummaryWriter::Close() {
  absl::Status s = events_->Close();
  ReleaseDirectory();
  return s;
}

}  // namespace braid::summary
