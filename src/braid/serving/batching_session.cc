#include "braid/serving/batching_session.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"

namespace braid::serving {
namespace {

using Clock = std::chrono::steady_clock;

// ---- Rows of tensors ------------------------------------------------------
// (data/ has similar element copies, but serving may not use that layer.)

// Copies `count` elements from flat index `src_offset` of `src` to
// `dst_offset` of `dst`, for every dtype. REQUIRES: same dtype, in bounds.
void CopyElements(const Tensor& src, int64_t src_offset, Tensor* dst, int64_t dst_offset,
                  int64_t count) {
  if (count == 0) return;
  if (src.dtype() == DType::kString) {
    std::copy_n(src.data<std::string>() + src_offset, count, dst->data<std::string>() + dst_offset);
  } else if (src.dtype() == DType::kResource) {
    std::copy_n(src.data<ResourceHandle>() + src_offset, count,
                dst->data<ResourceHandle>() + dst_offset);
  } else {
    const size_t size = DTypeSize(src.dtype());
    std::memcpy(static_cast<char*>(dst->raw_data()) + dst_offset * size,
                static_cast<const char*>(src.raw_data()) + src_offset * size, count * size);
  }
}

bool SameInnerDims(const Tensor& a, const Tensor& b) {
  if (a.rank() != b.rank()) return false;
  for (int d = 1; d < a.rank(); ++d) {
    if (a.dim(d) != b.dim(d)) return false;
  }
  return true;
}

// Copies rows [src_row, src_row + count) of `src` to rows from `dst_row` of
// `dst`. Where a dimension >= 1 of `dst` is larger, the extra elements are
// left as they are. REQUIRES: same dtype and rank >= 1; dst's dimensions
// >= 1 at least src's; rows in bounds.
void CopyRows(const Tensor& src, int64_t src_row, int64_t count, Tensor* dst, int64_t dst_row) {
  const int rank = src.rank();
  const int64_t src_row_elems = src.dim(0) == 0 ? 0 : src.NumElements() / src.dim(0);
  if (SameInnerDims(src, *dst)) {
    CopyElements(src, src_row * src_row_elems, dst, dst_row * src_row_elems, count * src_row_elems);
    return;
  }
  if (count == 0 || src_row_elems == 0) return;
  // Copy runs of the innermost dimension, walking the other indices of the
  // source like an odometer.
  std::vector<int64_t> src_stride(rank, 1), dst_stride(rank, 1);
  for (int d = rank - 2; d >= 0; --d) {
    src_stride[d] = src_stride[d + 1] * src.dim(d + 1);
    dst_stride[d] = dst_stride[d + 1] * dst->dim(d + 1);
  }
  const int64_t run = src.dim(rank - 1);
  std::vector<int64_t> index(rank - 1, 0);  // index[0] counts rows from 0
  const int64_t runs = count * (src_row_elems / run);
  for (int64_t r = 0; r < runs; ++r) {
    int64_t from = (src_row + index[0]) * src_stride[0];
    int64_t to = (dst_row + index[0]) * dst_stride[0];
    for (int d = 1; d < rank - 1; ++d) {
      from += index[d] * src_stride[d];
      to += index[d] * dst_stride[d];
    }
    CopyElements(src, from, dst, to, run);
    for (int d = rank - 2; d >= 0; --d) {
      if (++index[d] < (d == 0 ? count : src.dim(d))) break;
      index[d] = 0;
    }
  }
}

struct RowRange {
  const Tensor* tensor;
  int64_t begin;
  int64_t count;
};

// The rows of `pieces` one after the other, followed by copies of the first
// row up to `total_rows`. With `pad_inner`, pieces may differ in dimensions
// >= 1 and are padded with zeros (empty strings) to the largest of each;
// without, they must agree. `what` names the tensor in errors.
// REQUIRES: pieces not empty, their rows in bounds, total_rows >= the sum of
// their rows, and > only when that sum is > 0.
absl::StatusOr<Tensor> ConcatRows(const std::vector<RowRange>& pieces, int64_t total_rows,
                                  bool pad_inner, const std::string& what) {
  const Tensor& first = *pieces[0].tensor;
  if (pieces.size() == 1 && pieces[0].begin == 0 && pieces[0].count == first.dim(0) &&
      total_rows == first.dim(0)) {
    return first;  // nothing to copy
  }
  std::vector<int64_t> dims = first.shape().dims();
  bool padded = false;
  for (const RowRange& p : pieces) {
    const Tensor& t = *p.tensor;
    if (t.dtype() != first.dtype() || t.rank() != first.rank()) {
      return absl::InternalError(
          absl::StrCat(what, ": cannot concatenate ", DTypeName(t.dtype()), t.shape().DebugString(),
                       " with ", DTypeName(first.dtype()), first.shape().DebugString()));
    }
    for (int d = 1; d < t.rank(); ++d) {
      if (t.dim(d) == dims[d]) continue;
      if (!pad_inner) {
        return absl::InternalError(absl::StrCat(what, ": cannot concatenate shape ",
                                                t.shape().DebugString(), " with ",
                                                first.shape().DebugString(), " without padding"));
      }
      padded = true;
      dims[d] = std::max(dims[d], t.dim(d));
    }
  }
  dims[0] = total_rows;
  Tensor out(first.dtype(), TensorShape(dims));
  // Strings and resource handles start empty; numbers need zeros.
  if (padded && DTypeSize(out.dtype()) > 0) std::memset(out.raw_data(), 0, out.TotalBytes());
  int64_t row = 0;
  for (const RowRange& p : pieces) {
    CopyRows(*p.tensor, p.begin, p.count, &out, row);
    row += p.count;
  }
  if (row < total_rows) {
    BRAID_CHECK(row > 0);
    for (int64_t r = row; r < total_rows; ++r) CopyRows(out, 0, 1, &out, r);
  }
  return out;
}

// ---- Queues ----------------------------------------------------------------

// `micros` after `now`, saturating at Clock::time_point::max().
Clock::time_point DeadlineAfter(Clock::time_point now, int64_t micros) {
  const auto room =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::time_point::max() - now);
  if (micros >= room.count()) return Clock::time_point::max();
  return now + std::chrono::microseconds(micros);
}

struct QueueKey {
  std::vector<std::string> feed_names;  // sorted
  std::vector<std::string> fetches;     // as the caller ordered them
  std::vector<std::string> targets;     // sorted
  auto operator<=>(const QueueKey&) const = default;
};

// One Run call, waiting for its chunks (one per batch it went into).
struct Request {
  std::vector<Tensor> feeds;  // in the order of QueueKey::feed_names
  int64_t rows = 0;
  // Set by Enqueue (under the session's mutex) before any batch thread sees
  // the request; afterwards protected by `mu`.
  std::mutex mu;
  std::condition_variable done;
  int64_t pending_chunks = 0;
  absl::Status status;
  std::vector<std::vector<Tensor>> chunk_outputs;
};

struct Chunk {
  Request* request;  // the caller blocks in Run until every chunk completed
  int64_t index;     // among the request's chunks, in row order
  int64_t begin;     // first row in the request
  int64_t rows;
};

struct Batch {
  std::vector<Chunk> chunks;
  int64_t rows = 0;
  bool closed = false;
  Clock::time_point opened;  // when its first request arrived
  // opened + batch_timeout_micros; Clock::time_point::max() when that is
  // beyond the clock's range (the batch then waits to be full).
  Clock::time_point deadline;
};

struct Queue {
  explicit Queue(QueueKey k) : key(std::move(k)) {}
  const QueueKey key;
  std::deque<Batch> batches;  // only the last may be open
};

// Whether `request` may join `batch` (Note [Batching decisions]).
bool Compatible(const Batch& batch, const Request& request, bool pad_variable_length) {
  const std::vector<Tensor>& first = batch.chunks.front().request->feeds;
  for (size_t i = 0; i < first.size(); ++i) {
    const Tensor& a = first[i];
    const Tensor& b = request.feeds[i];
    if (a.dtype() != b.dtype() || a.rank() != b.rank()) return false;
    if (!pad_variable_length && !SameInnerDims(a, b)) return false;
  }
  return true;
}

void CompleteChunk(const Chunk& chunk, const absl::Status& status, std::vector<Tensor> outputs) {
  Request* r = chunk.request;
  std::lock_guard<std::mutex> lock(r->mu);
  if (!status.ok() && r->status.ok()) r->status = status;
  r->chunk_outputs[chunk.index] = std::move(outputs);
  // Notified under the lock: the caller may destroy the request as soon as
  // it can take the lock and sees no pending chunk.
  if (--r->pending_chunks == 0) r->done.notify_all();
}

// ---- The session -----------------------------------------------------------

class BatchingSessionImpl final : public BatchingSession {
 public:
  BatchingSessionImpl(std::unique_ptr<Session> wrapped, BatchingOptions options)
      : wrapped_(std::move(wrapped)), options_(std::move(options)) {
    for (int64_t i = 0; i < options_.num_batch_threads; ++i) {
      threads_.emplace_back([this] { BatchLoop(); });
    }
  }

  ~BatchingSessionImpl() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    work_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  absl::Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                   const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
                   std::vector<Tensor>* outputs) override;

  Graph* graph() override { return wrapped_->graph(); }

  int64_t QueuedRows() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return queued_rows_;
  }

 private:
  // Puts the request's rows into batches of the key's queue.
  absl::Status Enqueue(QueueKey key, Request* request);  // REQUIRES: mu_ held
  // Removes and returns a batch ready to run, or returns null and sets
  // `next_deadline` to when an open batch becomes ready (if any).
  Queue* TakeReadyBatch(Batch* batch, std::optional<Clock::time_point>* next_deadline);
  void BatchLoop();
  void ExecuteBatch(const Queue& queue, Batch batch);
  int64_t PaddedSize(int64_t rows) const;

  const std::unique_ptr<Session> wrapped_;
  const BatchingOptions options_;

  mutable std::mutex mu_;
  std::condition_variable work_;  // a batch closed or opened, or stopping_
  // Queues are never removed: their keys come from signatures, a handful.
  std::map<QueueKey, std::unique_ptr<Queue>> queues_;  // protected by mu_
  std::vector<Queue*> queue_order_;                    // protected by mu_
  size_t next_queue_ = 0;                              // protected by mu_ (round robin)
  int64_t queued_rows_ = 0;                            // protected by mu_
  bool stopping_ = false;                              // protected by mu_
  std::vector<std::thread> threads_;                   // constant after construction
};

absl::Status BatchingSessionImpl::Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                                      const std::vector<std::string>& fetches,
                                      const std::vector<std::string>& targets,
                                      std::vector<Tensor>* outputs) {
  if (feeds.empty()) return wrapped_->Run(feeds, fetches, targets, outputs);
  std::vector<size_t> order(feeds.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return feeds[a].first < feeds[b].first; });
  QueueKey key;
  Request request;
  const std::pair<std::string, Tensor>* first = nullptr;
  for (size_t i : order) {
    const auto& [name, value] = feeds[i];
    if (!value.initialized()) {
      return absl::InvalidArgumentError(absl::StrCat("feed '", name, "' has no value"));
    }
    if (value.rank() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("feed '", name,
                       "' is a scalar; batching concatenates feeds along dimension 0, so "
                       "each needs one (a single example has shape [1, ...])"));
    }
    if (first == nullptr) {
      first = &feeds[i];
    } else if (value.dim(0) != first->second.dim(0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "feed '", name, "' has ", value.dim(0), " rows (shape ", value.shape().DebugString(),
          ") but feed '", first->first, "' has ", first->second.dim(0), " (shape ",
          first->second.shape().DebugString(), "); batched feeds must agree in dimension 0"));
    }
    key.feed_names.push_back(name);
    request.feeds.push_back(value);
  }
  request.rows = first->second.dim(0);
  if (request.rows == 0) return wrapped_->Run(feeds, fetches, targets, outputs);
  key.fetches = fetches;
  key.targets = targets;
  std::sort(key.targets.begin(), key.targets.end());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      return absl::UnavailableError("the batching session is shutting down");
    }
    RETURN_IF_ERROR(Enqueue(std::move(key), &request));
  }
  // From here on only `request` is touched: the session may be destroyed
  // once the last chunk completed.
  std::unique_lock<std::mutex> lock(request.mu);
  request.done.wait(lock, [&] { return request.pending_chunks == 0; });
  RETURN_IF_ERROR(request.status);
  if (request.chunk_outputs.size() == 1) {
    *outputs = std::move(request.chunk_outputs[0]);
    return absl::OkStatus();
  }
  outputs->clear();
  const size_t num_outputs = request.chunk_outputs[0].size();
  for (size_t j = 0; j < num_outputs; ++j) {
    std::vector<RowRange> pieces;
    for (const std::vector<Tensor>& chunk : request.chunk_outputs) {
      pieces.push_back({&chunk[j], 0, chunk[j].dim(0)});
    }
    // Chunks ran in different batches, which may have padded dimensions >= 1
    // differently.
    ASSIGN_OR_RETURN(Tensor joined, ConcatRows(pieces, request.rows, /*pad_inner=*/true,
                                               absl::StrCat("output '", fetches[j], "'")));
    outputs->push_back(std::move(joined));
  }
  return absl::OkStatus();
}

absl::Status BatchingSessionImpl::Enqueue(QueueKey key, Request* request) {
  std::unique_ptr<Queue>& slot = queues_[key];
  if (slot == nullptr) {
    slot = std::make_unique<Queue>(std::move(key));
    queue_order_.push_back(slot.get());
  }
  Queue& queue = *slot;
  const int64_t max_rows = options_.max_batch_size;
  Batch* open =
      !queue.batches.empty() && !queue.batches.back().closed ? &queue.batches.back() : nullptr;
  const bool joins =
      open != nullptr && Compatible(*open, *request, options_.pad_variable_length_inputs);
  const int64_t rows_joining = joins ? std::min(request->rows, max_rows - open->rows) : 0;
  const int64_t rows_left = request->rows - rows_joining;
  const int64_t new_batches = rows_left / max_rows + (rows_left % max_rows != 0 ? 1 : 0);
  if (new_batches > options_.max_enqueued_batches) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a request of ", request->rows, " rows needs ", new_batches,
        " batches of at most max_batch_size=", max_rows,
        " rows, more than max_enqueued_batches=", options_.max_enqueued_batches, " allows"));
  }
  const int64_t queued = static_cast<int64_t>(queue.batches.size());
  if (queued + new_batches > options_.max_enqueued_batches) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the batching queue for feeds {", absl::StrJoin(queue.key.feed_names, ", "),
                     "} is full: it holds ", queued, " batches and max_enqueued_batches is ",
                     options_.max_enqueued_batches, "; retry later"));
  }

  const Clock::time_point now = Clock::now();
  request->pending_chunks = (rows_joining > 0 ? 1 : 0) + new_batches;
  request->chunk_outputs.resize(request->pending_chunks);
  bool wake = false;  // whether idle batch threads must look again
  int64_t begin = 0;
  int64_t index = 0;
  auto add_chunk = [&](Batch* batch, int64_t rows) {
    batch->chunks.push_back({request, index++, begin, rows});
    batch->rows += rows;
    begin += rows;
    if (batch->rows == max_rows) {
      batch->closed = true;
      wake = true;
    }
  };
  if (rows_joining > 0) {
    add_chunk(open, rows_joining);
  } else if (open != nullptr) {
    open->closed = true;  // incompatible: the request starts a batch of its own
    wake = true;
  }
  while (begin < request->rows) {
    Batch& batch = queue.batches.emplace_back();
    batch.opened = now;
    batch.deadline = DeadlineAfter(now, options_.batch_timeout_micros);
    wake = true;
    add_chunk(&batch, std::min(max_rows, request->rows - begin));
  }
  queued_rows_ += request->rows;
  if (wake) work_.notify_all();
  return absl::OkStatus();
}

Queue* BatchingSessionImpl::TakeReadyBatch(Batch* batch,
                                           std::optional<Clock::time_point>* next_deadline) {
  const Clock::time_point now = Clock::now();
  const size_t n = queue_order_.size();
  for (size_t i = 0; i < n; ++i) {
    const size_t at = (next_queue_ + i) % n;
    Queue* queue = queue_order_[at];
    if (queue->batches.empty()) continue;
    Batch& front = queue->batches.front();
    // Only the last batch may be open, so an open front is the only batch.
    if (front.closed || stopping_ || now >= front.deadline) {
      *batch = std::move(front);
      queue->batches.pop_front();
      queued_rows_ -= batch->rows;
      next_queue_ = (at + 1) % n;
      return queue;
    }
    if (front.deadline != Clock::time_point::max() &&
        (!next_deadline->has_value() || front.deadline < **next_deadline)) {
      *next_deadline = front.deadline;
    }
  }
  return nullptr;
}

void BatchingSessionImpl::BatchLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    Batch batch;
    std::optional<Clock::time_point> next_deadline;
    if (Queue* queue = TakeReadyBatch(&batch, &next_deadline)) {
      lock.unlock();
      ExecuteBatch(*queue, std::move(batch));  // queue->key is constant
      lock.lock();
      continue;
    }
    if (stopping_) return;  // when stopping every batch is ready: nothing is left
    if (next_deadline.has_value()) {
      work_.wait_until(lock, *next_deadline);
    } else {
      work_.wait(lock);
    }
  }
}

int64_t BatchingSessionImpl::PaddedSize(int64_t rows) const {
  const std::vector<int64_t>& allowed = options_.allowed_batch_sizes;
  auto it = std::lower_bound(allowed.begin(), allowed.end(), rows);
  return it == allowed.end() ? rows : *it;
}

void BatchingSessionImpl::ExecuteBatch(const Queue& queue, Batch batch) {
  const QueueKey& key = queue.key;
  const int64_t padded = PaddedSize(batch.rows);
  absl::Status status;
  std::vector<std::pair<std::string, Tensor>> feeds;
  for (size_t i = 0; i < key.feed_names.size() && status.ok(); ++i) {
    std::vector<RowRange> pieces;
    for (const Chunk& c : batch.chunks) pieces.push_back({&c.request->feeds[i], c.begin, c.rows});
    absl::StatusOr<Tensor> fed = ConcatRows(pieces, padded, options_.pad_variable_length_inputs,
                                            absl::StrCat("feed '", key.feed_names[i], "'"));
    if (fed.ok()) {
      feeds.emplace_back(key.feed_names[i], *std::move(fed));
    } else {
      status = fed.status();
    }
  }
  std::vector<Tensor> outputs;
  if (status.ok()) {
    if (options_.on_batch) {
      const auto waited =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - batch.opened);
      options_.on_batch(batch.rows, padded, waited.count());
    }
    status = wrapped_->Run(feeds, key.fetches, key.targets, &outputs);
  }
  feeds.clear();  // the requests' tensors may go as soon as they are answered
  if (status.ok() && outputs.size() != key.fetches.size()) {
    status = absl::InternalError(absl::StrCat("the session returned ", outputs.size(),
                                              " outputs for ", key.fetches.size(), " fetches"));
  }
  for (size_t j = 0; status.ok() && j < outputs.size(); ++j) {
    const Tensor& out = outputs[j];
    if (out.rank() == 0 || out.dim(0) != padded) {
      status = absl::InternalError(absl::StrCat(
          "output '", key.fetches[j], "' has shape ", out.shape().DebugString(), " for a batch of ",
          padded,
          " rows; it cannot be split into the batch's requests "
          "(batching needs dimension 0 of every fetched output to be the batch's rows)"));
    }
  }
  int64_t row = 0;
  for (const Chunk& chunk : batch.chunks) {
    std::vector<Tensor> mine;
    absl::Status chunk_status = status;
    for (size_t j = 0; chunk_status.ok() && j < outputs.size(); ++j) {
      absl::StatusOr<Tensor> rows =
          ConcatRows({{&outputs[j], row, chunk.rows}}, chunk.rows, /*pad_inner=*/false,
                     absl::StrCat("output '", key.fetches[j], "'"));
      if (rows.ok()) {
        mine.push_back(*std::move(rows));
      } else {
        chunk_status = rows.status();
      }
    }
    row += chunk.rows;
    CompleteChunk(chunk, chunk_status, std::move(mine));
  }
}

}  // namespace

absl::Status ValidateBatchingOptions(const BatchingOptions& options) {
  if (options.max_batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_batch_size must be at least 1, not ", options.max_batch_size));
  }
  if (options.batch_timeout_micros < 0) {
    return absl::InvalidArgumentError(absl::StrCat("batch_timeout_micros must be at least 0, not ",
                                                   options.batch_timeout_micros));
  }
  if (options.max_enqueued_batches < 1) {
    return absl::InvalidArgumentError(absl::StrCat("max_enqueued_batches must be at least 1, not ",
                                                   options.max_enqueued_batches));
  }
  if (options.num_batch_threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_batch_threads must be at least 1, not ", options.num_batch_threads));
  }
  const std::vector<int64_t>& allowed = options.allowed_batch_sizes;
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (allowed[i] < 1 || (i > 0 && allowed[i] <= allowed[i - 1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("allowed_batch_sizes must be positive and strictly increasing; got [",
                       absl::StrJoin(allowed, ", "), "]"));
    }
  }
  if (!allowed.empty() && allowed.back() != options.max_batch_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("the last of allowed_batch_sizes [", absl::StrJoin(allowed, ", "),
                     "] must equal max_batch_size (", options.max_batch_size, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<BatchingSession>> NewBatchingSession(
    std::unique_ptr<Session> wrapped, BatchingOptions options) {
  if (wrapped == nullptr) {
    return absl::InvalidArgumentError("NewBatchingSession needs a session to wrap; got null");
  }
  RETURN_IF_ERROR(ValidateBatchingOptions(options));
  return std::make_unique<BatchingSessionImpl>(std::move(wrapped), std::move(options));
}

}  // namespace braid::serving
