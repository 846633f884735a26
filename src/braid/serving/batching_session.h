// Dynamic batching, as TF Serving's BatchingSession does: concurrent Run calls
// that feed the same tensors and fetch the same outputs are merged into one
// Run of the wrapped session, their feeds concatenated along dimension 0 and
// every fetched output split back along dimension 0.
//
//   BatchingOptions options;
//   options.max_batch_size = 64;
//   options.batch_timeout_micros = 2000;
//   options.num_batch_threads = NumSchedulableCores();
//   ASSIGN_OR_RETURN(std::unique_ptr<Session> batched,
//                    NewBatchingSession(std::move(session), std::move(options)));
//
// Note [Batching queues]
// Each distinct (feed names, fetches, targets) gets a queue of its own (TF
// Serving keys its queues by signature). A queue holds closed batches and at
// most one open batch, its last. A request joins the open batch when it fits
// and is compatible (below); otherwise the open batch is closed and a new one
// started. A batch closes when it holds max_batch_size rows, when a request
// that does not fit or is incompatible arrives, or, once its first request has
// waited batch_timeout_micros, when a batch thread takes it. The session's
// num_batch_threads threads serve every queue, round robin, each running one
// batch at a time; with batch_timeout_micros = 0 a batch runs as soon as a
// thread is free, so requests merge only while all threads are busy.
//
// Note [Batching decisions]
// - Requests larger than max_batch_size are split (TF Serving's
//   enable_large_batch_splitting): the first chunk fills the open batch, the
//   rest go into new batches of up to max_batch_size rows, and the outputs of
//   the chunks are concatenated again for the caller.
// - Without pad_variable_length_inputs, requests whose feeds differ in a
//   dimension other than 0 (or in dtype or rank) are not merged: the later one
//   starts a new batch. (TF Serving fails such a request instead.) With it,
//   they are merged and the smaller ones padded with zeros (empty strings,
//   false) up to the largest size of each dimension; rank and dtype must still
//   agree. Outputs are not un-padded, as in TF Serving.
// - A batch is padded up to the next of allowed_batch_sizes by repeating its
//   first row; the outputs of the padding rows are dropped.
// - Every fetched output must have dimension 0 equal to the batch's padded
//   size, or no request of the batch can be answered: each gets Internal
//   naming the output. This holds also for a batch of one request, so whether
//   a call succeeds does not depend on what it was merged with.
// - Calls with no feeds, or whose feeds have 0 rows, bypass the queues and run
//   the wrapped session directly on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "braid/runtime/session.h"

namespace braid::serving {

// TF Serving's BatchingParameters.
struct BatchingOptions {
  // Rows in one batch (the sum of the requests' dimension 0).
  int64_t max_batch_size = 1000;
  // How long a batch that is not full waits for more requests, counted from
  // its first request's arrival.
  int64_t batch_timeout_micros = 0;
  // Batches waiting in one queue (the open one included) before a request
  // that needs a new batch is refused with ResourceExhausted.
  int64_t max_enqueued_batches = 100;
  // Threads running batches, shared by all queues of the session. TF
  // Serving's default is the number of cores; the caller decides.
  int64_t num_batch_threads = 1;
  // When set: strictly increasing, the last equal to max_batch_size. A batch
  // is padded up to the smallest allowed size holding it.
  std::vector<int64_t> allowed_batch_sizes;
  // Merge requests whose feeds differ in dimensions >= 1, padding them (see
  // Note [Batching decisions]).
  bool pad_variable_length_inputs = false;
  // Metrics hook, called on a batch thread once per executed batch just before
  // it runs: its rows, its rows after padding, and how long its oldest request
  // waited in the queue. Must be thread-safe when num_batch_threads > 1.
  std::function<void(int64_t size, int64_t padded_size, int64_t queue_micros)> on_batch;
};

// InvalidArgument naming the offending field and value, OK otherwise.
absl::Status ValidateBatchingOptions(const BatchingOptions& options);

// A Session that batches concurrent Run calls (Notes above). Run is
// thread-safe and blocks until the caller's batch (or batches) ran. Errors of
// Run, besides the wrapped session's (returned to every request of the batch):
// a scalar feed or feeds with different dimension 0 (InvalidArgument naming
// the feeds), a full queue (ResourceExhausted naming max_enqueued_batches), a
// request too large to fit even an empty queue (InvalidArgument), an output
// that cannot be split (Internal), a session being destroyed (Unavailable).
// The destructor stops taking requests, runs every batch already queued
// (without waiting for timeouts) and answers its requests, then joins the
// threads.
class BatchingSession : public Session {
 public:
  // Rows waiting in the queues, not yet taken by a batch thread (a gauge for
  // metrics; tests use it to know that requests have arrived).
  virtual int64_t QueuedRows() const = 0;
};

// `wrapped` must be thread-safe when num_batch_threads > 1 (LocalSession is).
// graph() returns the wrapped session's graph. Errors: invalid options or a
// null session (InvalidArgument).
absl::StatusOr<std::unique_ptr<BatchingSession>> NewBatchingSession(
    std::unique_ptr<Session> wrapped, BatchingOptions options);

}  // namespace braid::serving
