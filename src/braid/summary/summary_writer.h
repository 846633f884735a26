// The summary API: what a training program writes for TensorBoard (or
// `braid board`) to show, into one run directory.
//
//   ASSIGN_OR_RETURN(auto writer, summary::SummaryWriter::Create("logs/run1"));
//   RETURN_IF_ERROR(writer->Graph(*root.graph()));
//   for (int64_t step = 0; ...; ++step) {
//     RETURN_IF_ERROR(writer->Scalar("loss", step, loss));
//     RETURN_IF_ERROR(writer->WriteSerializedSummary(step, merged_summary_fetch));
//   }
//   RETURN_IF_ERROR(writer->Close());
//
// Values are built as TensorFlow 1.x's summary ops build them
// (kernels/summary/summary_values.h); events are written by an
// EventFileWriter (event_writer.h), buffered and crash-safe. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "braid/graph/graph.h"
#include "braid/summary/event_writer.h"
#include "braid/tensor/tensor.h"

namespace tensorflow {
class Summary;
}

namespace braid::summary {

struct SummaryWriterOptions {
  // How long a summary may wait in memory before it reaches the file.
  double flush_seconds = 2;
};

class SummaryWriter {
 public:
  // Creates `logdir` (and its parents) if missing and a new event file in it.
  // Only one live writer per run directory in a process: a second one fails
  // with FailedPrecondition naming the directory, until the first is closed
  // or destroyed.
  static absl::StatusOr<std::unique_ptr<SummaryWriter>> Create(const std::string& logdir,
                                                               SummaryWriterOptions options = {});
  // Closes, ignoring errors.
  ~SummaryWriter();
  SummaryWriter(const SummaryWriter&) = delete;
  SummaryWriter& operator=(const SummaryWriter&) = delete;

  // Writes a serialized tensorflow.Summary (e.g. a MergeSummary fetch);
  // InvalidArgument when the bytes are not one.
  absl::Status WriteSerializedSummary(int64_t step, const std::string& serialized_summary);
  absl::Status WriteSummary(int64_t step, const tensorflow::Summary& summary);

  absl::Status Scalar(const std::string& tag, int64_t step, double value);
  // All elements of `values` (float, double, int32, int64; finite), in
  // TensorFlow's default bucket layout.
  absl::Status Histogram(const std::string& tag, int64_t step, const Tensor& values);
  // `images` is [height, width, channels] or [n, height, width, channels];
  // tags and rescaling as ops::ImageSummary.
  absl::Status Image(const std::string& tag, int64_t step, const Tensor& images,
                     int max_images = 3);
  // For TensorBoard's text plugin (Markdown).
  absl::Status Text(const std::string& tag, int64_t step, const std::string& text);
  // The graph as a tensorflow.GraphDef (node names with their '/' scopes,
  // "_output_shapes" from shape inference, -1 for unknown dimensions).
  absl::Status Graph(const braid::Graph& graph);

  absl::Status Flush();
  // Flushes and closes the event file and frees the run directory for
  // another writer; later writes fail with FailedPrecondition.
  absl::Status Close();
  // The event file.
  const std::string& path() const { return events_->path(); }
  // The run directory as given to Create.
  const std::string& logdir() const { return logdir_; }

 private:
  SummaryWriter(std::string logdir, std::string claimed_dir,
                std::unique_ptr<EventFileWriter> events);
  void ReleaseDirectory();

  const std::string logdir_;
  std::string claimed_dir_;  // canonical; empty once released (under the registry's lock)
  const std::unique_ptr<EventFileWriter> events_;
};

}  // namespace braid::summary
