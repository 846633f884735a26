// The single-threaded transformations: Filter, Take, Skip, Repeat, Shard,
// Shuffle and Batch.
//
// Note [Errors are not elements]: an error from the input is passed on at once
// and does not count as an element, so Take, Skip, Shard and Batch count only
// elements that were produced; a batch being filled when an error arrives
// keeps its elements and goes on filling at the next GetNext.
#include <algorithm>
#include <atomic>
#include <limits>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/data/dataset.h"
#include "braid/data/dataset_internal.h"

namespace braid::data {
namespace {

using internal::CheckInput;
using internal::Describe;

absl::Status EndOfSequence(bool* end_of_sequence) {
  *end_of_sequence = true;
  return absl::OkStatus();
}

// ---------------------------------------------------------------- Filter

class FilterIterator : public Iterator {
 public:
  FilterIterator(std::unique_ptr<Iterator> input, PredicateFn fn)
      : input_(std::move(input)), fn_(std::move(fn)) {}

  absl::Status GetNext(Element* out, bool* end_of_sequence) override {
    for (;;) {
      bool end = false;
      RETURN_IF_ERROR(input_->GetNext(out, &end));
      if (end) return EndOfSequence(end_of_sequence);
      const int64_t index = index_++;
      absl::StatusOr<bool> keep = fn_(*out);
      if (!keep.ok()) {
        return absl::Status(
            keep.status().code(),
            absl::StrCat("Filter: the predicate failed on element ", index, " ",
                         internal::ElementSignature(*out), ": ", keep.status().message()));
      }
      if (*keep) {
        *end_of_sequence = false;
        return absl::OkStatus();
      }
    }
  }

 private:
  std::unique_ptr<Iterator> input_;
  const PredicateFn fn_;
  int64_t index_ = 0;  // of the next input element
};

class FilterDataset : public Dataset {
 public:
  FilterDataset(DatasetPtr input, PredicateFn fn) : input_(std::move(input)), fn_(std::move(fn)) {}
  absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const override {
    RETURN_IF_ERROR(CheckInput(input_, "Filter"));
    if (!fn_) return absl::InvalidArgumentError("Filter: the predicate is an empty function");
    ASSIGN_OR_RETURN(std::unique_ptr<Iterator> input, input_->MakeIterator());
    return std::unique_ptr<Iterator>(std::make_unique<FilterIterator>(std::move(input), fn_));
  }
  std::string DebugString() const override {
    return absl::StrCat("Filter(", Describe(input_), ")");
  }

 private:
  const DatasetPtr input_;
  const PredicateFn fn_;
};

// ---------------------------------------------------------------- Take, Skip

class TakeIterator : public Iterator {
 public:
  TakeIterator(std::unique_ptr<Iterator> input, int64_t count)
      : input_(std::move(input)), remaining_(count) {}

  absl::Status GetNext(Element* out, bool* end_of_sequence) override {
    if (remaining_ == 0) return EndOfSequence(end_of_sequence);
    bool end = false;
    RETURN_IF_ERROR(input_->GetNext(out, &end));
    if (end) {
      remaining_ = 0;
      return EndOfSequence(end_of_sequence);
    }
    // Negative: take everything. At zero the input is released at once, so
    // a Prefetch below stops its thread now rather than with this iterator.
    if (remaining_ > 0 && --remaining_ == 0) input_.reset();
    *end_of_sequence = false;
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<Iterator> input_;
  int64_t remaining_;
};

class SkipIterator : public Iterator {
 public:
  SkipIterator(std::unique_ptr<Iterator> input, int64_t count)
      : input_(std::move(input)), to_skip_(count) {}

  absl::Status GetNext(Element* out, bool* end_of_sequence) override {
    if (to_skip_ < 0) return EndOfSequence(end_of_sequence);  // skip everything
    bool end = false;
    while (to_skip_ > 0) {
      RETURN_IF_ERROR(input_->GetNext(out, &end));
      if (end) {
        to_skip_ = -1;
        return EndOfSequence(end_of_sequence);
      }
      --to_skip_;
    }
    RETURN_IF_ERROR(input_->GetNext(out, &end));
    if (end) to_skip_ = -1;
    *end_of_sequence = end;
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<Iterator> input_;
  int64_t to_skip_;  // < 0 once the input ended (or when skipping all)
};

class CountDataset : public Dataset {
 public:
  enum Kind { kTake, kSkip };
  CountDataset(Kind kind, DatasetPtr input, int64_t count)
      : kind_(kind), input_(std::move(input)), count_(count) {}
  absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const override {
    RETURN_IF_ERROR(CheckInput(input_, kind_ == kTake ? "Take" : "Skip"));
    ASSIGN_OR_RETURN(std::unique_ptr<Iterator> input, input_->MakeIterator());
    if (kind_ == kTake) {
      return std::unique_ptr<Iterator>(std::make_unique<TakeIterator>(std::move(input), count_));
    }
    return std::unique_ptr<Iterator>(std::make_unique<SkipIterator>(std::move(input), count_));
  }
  std::string DebugString() const override {
    return absl::StrCat(kind_ == kTake ? "Take(" : "Skip(", Describe(input_), ", ", count_, ")");
  }

 private:
  const Kind kind_;
  const DatasetPtr input_;
  const int64_t count_;
};

// ---------------------------------------------------------------- Repeat

class RepeatIterator : public Iterator {
 public:
  RepeatIterator(DatasetPtr input, int64_t count) : input_(std::move(input)), count_(count) {}

  absl::Status GetNext(Element* out, bool* end_of_sequence) override {
    for (;;) {
      if (done_) return EndOfSequence(end_of_sequence);
      if (current_ == nullptr) {
        if (count_ >= 0 && epoch_ >= count_) {
          done_ = true;
          continue;
        }
        ASSIGN_OR_RETURN(current_, input_->MakeIterator());
        epoch_has_output_ = false;
      }
      bool end = false;
      absl::Status s = current_->GetNext(out, &end);
      if (!s.ok() || !end) {
        // An error is progress too: it reaches the caller, who decides.
        epoch_has_output_ = true;
        *end_of_sequence = false;
        return s;
      }
      current_.reset();
      ++epoch_;
      // An epoch without output means every further one is empty as well;
      // repeating it forever would spin without producing anything.
      if (!epoch_has_output_) done_ = true;
    }
  }

 private:
  const DatasetPtr input_;
  const int64_t count_;
  std::unique_ptr<Iterator> current_;  // null between epochs
  int64_t epoch_ = 0;                  // epochs finished
  bool epoch_has_output_ = false;
  bool done_ = false;
};

class RepeatDataset : public Dataset {
 public:
  RepeatDataset(DatasetPtr input, int64_t count) : input_(std::move(input)), count_(count) {}
  absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const override {
    RETURN_IF_ERROR(CheckInput(input_, "Repeat"));
    return std::unique_ptr<Iterator>(std::make_unique<RepeatIterator>(input_, count_));
  }
  std::string DebugString() const override {
    return count_ < 0 ? absl::StrCat("Repeat(", Describe(input_), ")")
                      : absl::StrCat("Repeat(", Describe(input_), ", ", count_, ")");
  }

 private:
  const DatasetPtr input_;
  const int64_t count_;
};

// ---------------------------------------------------------------- Shard

class ShardIterator : public Iterator {
 public:
  ShardIterator(std::unique_ptr<Iterator> input, int64_t num_shards, int64_t index)
      : input_(std::move(input)), num_shards_(num_shards), index_(index) {}

  absl::Status GetNext(Element* out, bool* end_of_sequence) override {
    for (;;) {
      if (ended_) return EndOfSequence(end_of_sequence);
      bool end = false;
      RETURN_IF_ERROR(input_->GetNext(out, &end));
      if (end) {
        ended_ = true;
        continue;
      }
      if (position_++ % num_shards_ == index_) {
        *end_of_sequence = false;
        return absl::OkStatus();
      }
    }
  }

 private:
  std::unique_ptr<Iterator> input_;
  const int64_t num_shards_;
  const int64_t index_;
  int64_t position_ = 0;  // of the next input element
  bool ended_ = false;
};

class ShardDataset : public Dataset {
 public:
  ShardDataset(DatasetPtr input, int64_t num_shards, int64_t index)
      : input_(std::move(input)), num_shards_(num_shards), index_(index) {}
  absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const override {
    RETURN_IF_ERROR(CheckInput(input_, "Shard"));
    if (num_shards_ < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("Shard: num_shards is ", num_shards_, "; it must be at least 1"));
    }
    if (index_ < 0 || index_ >= num_shards_) {
      return absl::InvalidArgumentError(
          absl::StrCat("Shard: index ", index_, " is out of range for ", num_shards_,
                       " shards; it must be in [0, ", num_shards_, ")"));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Iterator> input, input_->MakeIterator());
    return std::unique_ptr<Iterator>(
        std::make_unique<ShardIterator>(std::move(input), num_shards_, index_));
  }
  std::string DebugString() const override {
    return absl::StrCat("Shard(", Describe(input_), ", ", index_, " of ", num_shards_, ")");
  }

 private:
  const DatasetPtr input_;
  const int64_t num_shards_;
  const int64_t index_;
};

// ---------------------------------------------------------------- Shuffle

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [0, n) by rejection: std::uniform_int_distribution differs
// between standard libraries, and a seeded order must not.
uint64_t UniformBelow(std::mt19937_64& rng, uint64_t n) {
  const uint64_t limit =
      std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
  uint64_t r;
  do {
    r = rng();
  } while (r >= limit);
  return r % n;
}

// Draws uniformly from a buffer of up to `size` items, refilled by `fill`
// (Status(T* item, bool* end)) before each draw: the first draw fills the
// whole buffer, later ones replace the item drawn last time.
template <typename T>
class ShuffleBuffer {
 public:
  ShuffleBuffer(int64_t size, uint64_t seed) : size_(size), rng_(seed) {}

  template <typename Fill>
  absl::Status Next(Fill&& fill, T* out, bool* end_of_sequence) {
    while (!input_ended_ && static_cast<int64_t>(buffer_.size()) < size_) {
      T item{};
      bool end = false;
      RETURN_IF_ERROR(fill(&item, &end));
      if (end) {
        input_ended_ = true;
      } else {
        buffer_.push_back(std::move(item));
      }
    }
    if (buffer_.empty()) return EndOfSequence(end_of_sequence);
    const size_t pick = UniformBelow(rng_, buffer_.size());
    *out = std::move(buffer_[pick]);
    if (pick + 1 != buffer_.size()) buffer_[pick] = std::move(buffer_.back());
    buffer_.pop_back();
    *end_of_sequence = false;
    return absl::OkStatus();
  }

 private:
  const int64_t size_;
  std::mt19937_64 rng_;
  std::vector<T> buffer_;
  bool input_ended_ = false;
};

class ShuffleIterator : public Iterator {
 public:
  ShuffleIterator(std::unique_ptr<Iterator> input, int64_t buffer_size, uint64_t seed)
      : input_(std::move(input)), buffer_(buffer_size, seed) {}

  absl::Status GetNext(Element* out, bool* end_of_sequence) override {
    auto fill = [this](Element* e, bool* end) {
      if (input_ == nullptr) return EndOfSequence(end);
      absl::Status s = input_->GetNext(e, end);
      if (s.ok() && *end) input_.reset();
      return s;
    };
    return buffer_.Next(fill, out, end_of_sequence);
  }

 private:
  std::unique_ptr<Iterator> input_;  // null once it ended
  ShuffleBuffer<Element> buffer_;
};

// See Note [Shuffling row indices]: the same draws as ShuffleIterator over
// the rows of a FromTensors dataset, buffering row numbers.
class RowShuffleIterator : public internal::RowIterator {
 public:
  RowShuffleIterator(std::shared_ptr<const std::vector<Tensor>> components, int64_t buffer_size,
                     uint64_t seed)
      : components_(std::move(components)),
        rows_(components_->front().dim(0)),
        buffer_(buffer_size, seed) {}

  absl::Status NextRow(int64_t* row, bool* end_of_sequence) override {
    auto fill = [this](int64_t* next, bool* end) {
      *end = next_row_ >= rows_;
      if (!*end) *next = next_row_++;
      return absl::OkStatus();
    };
    return buffer_.Next(fill, row, end_of_sequence);
  }
  const std::vector<Tensor>& components() const override { return *components_; }

 private:
  const std::shared_ptr<const std::vector<Tensor>> components_;
  const int64_t rows_;
  int64_t next_row_ = 0;
  ShuffleBuffer<int64_t> buffer_;
};

class ShuffleDataset : public Dataset {
 public:
  ShuffleDataset(DatasetPtr input, int64_t buffer_size, uint64_t seed)
      : input_(std::move(input)), buffer_size_(buffer_size), seed_(seed) {}
  absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const override {
    RETURN_IF_ERROR(CheckInput(input_, "Shuffle"));
    if (buffer_size_ < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("Shuffle: buffer_size is ", buffer_size_, "; it must be at least 1"));
    }
    std::shared_ptr<const std::vector<Tensor>> rows = internal::TensorSliceComponents(*input_);
    std::unique_ptr<Iterator> input;
    if (rows == nullptr) {
      ASSIGN_OR_RETURN(input, input_->MakeIterator());
    }
    // The k-th iterator (epoch) gets its own stream, fixed by (seed, k).
    const uint64_t k = iterators_made_.fetch_add(1, std::memory_order_relaxed);
    const uint64_t stream_seed = SplitMix64(SplitMix64(seed_) ^ SplitMix64(~k));
    if (rows != nullptr) {
      return std::unique_ptr<Iterator>(
          std::make_unique<RowShuffleIterator>(std::move(rows), buffer_size_, stream_seed));
    }
    return std::unique_ptr<Iterator>(
        std::make_unique<ShuffleIterator>(std::move(input), buffer_size_, stream_seed));
  }
  std::string DebugString() const override {
    return absl::StrCat("Shuffle(", Describe(input_), ", ", buffer_size_, ")");
  }

 private:
  const DatasetPtr input_;
  const int64_t buffer_size_;
  const uint64_t seed_;
  // The one mutable part of a dataset: how many epochs have been drawn.
  mutable std::atomic<uint64_t> iterators_made_{0};
};

// ---------------------------------------------------------------- Batch

class BatchIterator : public Iterator {
 public:
  BatchIterator(std::unique_ptr<Iterator> input, int64_t batch_size, bool drop_remainder)
      : input_(std::move(input)), batch_size_(batch_size), drop_remainder_(drop_remainder) {}

  absl::Status GetNext(Element* out, bool* end_of_sequence) override {
    if (auto* rows = dynamic_cast<internal::RowIterator*>(input_.get())) {
      return GetNextRows(rows, out, end_of_sequence);
    }
    while (!input_ended_ && static_cast<int64_t>(pending_.size()) < batch_size_) {
      Element e;
      bool end = false;
      RETURN_IF_ERROR(input_->GetNext(&e, &end));  // pending_ is kept (see the Note)
      if (end) {
        input_ended_ = true;
        input_.reset();
        break;
      }
      const int64_t index = index_++;
      RETURN_IF_ERROR(CheckMatchesBatch(e, index));
      if (pending_.empty()) first_index_ = index;
      pending_.push_back(std::move(e));
    }
    const int64_t n = static_cast<int64_t>(pending_.size());
    if (n == 0 || (n < batch_size_ && drop_remainder_)) {
      pending_.clear();
      return EndOfSequence(end_of_sequence);
    }
    out->clear();
    const Element& first = pending_.front();
    for (size_t c = 0; c < first.size(); ++c) {
      std::vector<int64_t> dims = {n};
      dims.insert(dims.end(), first[c].shape().dims().begin(), first[c].shape().dims().end());
      Tensor stacked(first[c].dtype(), TensorShape(std::move(dims)));
      const int64_t per_element = first[c].NumElements();
      for (int64_t i = 0; i < n; ++i) {
        internal::CopyElements(pending_[i][c], 0, &stacked, i * per_element, per_element);
      }
      out->push_back(std::move(stacked));
    }
    pending_.clear();
    *end_of_sequence = false;
    return absl::OkStatus();
  }

 private:
  // The same batches from rows of in-memory tensors: each row is copied once,
  // from its tensor into the batch.
  absl::Status GetNextRows(internal::RowIterator* input, Element* out, bool* end_of_sequence) {
    std::vector<int64_t> rows;
    rows.reserve(batch_size_);
    while (static_cast<int64_t>(rows.size()) < batch_size_) {
      int64_t row = 0;
      bool end = false;
      RETURN_IF_ERROR(input->NextRow(&row, &end));
      if (end) break;
      rows.push_back(row);
    }
    const int64_t n = static_cast<int64_t>(rows.size());
    if (n == 0 || (n < batch_size_ && drop_remainder_)) return EndOfSequence(end_of_sequence);
    out->clear();
    for (const Tensor& component : input->components()) {
      std::vector<int64_t> dims(component.shape().dims().begin(), component.shape().dims().end());
      dims[0] = n;
      Tensor stacked(component.dtype(), TensorShape(std::move(dims)));
      const int64_t per_row = stacked.NumElements() / n;
      for (int64_t i = 0; i < n; ++i) {
        internal::CopyElements(component, rows[i] * per_row, &stacked, i * per_row, per_row);
      }
      out->push_back(std::move(stacked));
    }
    *end_of_sequence = false;
    return absl::OkStatus();
  }

  absl::Status CheckMatchesBatch(const Element& e, int64_t index) const {
    if (pending_.empty()) {
      for (size_t c = 0; c < e.size(); ++c) {
        if (!e[c].initialized()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "Batch: element ", index, " has an uninitialized tensor as component ", c));
        }
      }
      return absl::OkStatus();
    }
    const Element& first = pending_.front();
    if (e.size() != first.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Batch: element ", index, " has ", e.size(), " components ",
          internal::ElementSignature(e), " but element ", first_index_,
          ", the first of its batch, has ", first.size(), " ", internal::ElementSignature(first)));
    }
    for (size_t c = 0; c < e.size(); ++c) {
      if (e[c].dtype() != first[c].dtype() || e[c].shape() != first[c].shape()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Batch: cannot stack component ", c, ": element ", index, " has ",
            DTypeName(e[c].dtype()), e[c].shape().DebugString(), " but element ", first_index_,
            ", the first of its batch, has ", DTypeName(first[c].dtype()),
            first[c].shape().DebugString(), "; batched elements need equal shapes"));
      }
    }
    return absl::OkStatus();
  }

  std::unique_ptr<Iterator> input_;
  const int64_t batch_size_;
  const bool drop_remainder_;
  std::vector<Element> pending_;  // the batch being filled
  int64_t first_index_ = 0;       // input index of pending_[0]
  int64_t index_ = 0;             // of the next input element
  bool input_ended_ = false;
};

class BatchDataset : public Dataset {
 public:
  BatchDataset(DatasetPtr input, int64_t batch_size, bool drop_remainder)
      : input_(std::move(input)), batch_size_(batch_size), drop_remainder_(drop_remainder) {}
  absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const override {
    RETURN_IF_ERROR(CheckInput(input_, "Batch"));
    if (batch_size_ < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("Batch: batch_size is ", batch_size_, "; it must be at least 1"));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Iterator> input, input_->MakeIterator());
    return std::unique_ptr<Iterator>(
        std::make_unique<BatchIterator>(std::move(input), batch_size_, drop_remainder_));
  }
  std::string DebugString() const override {
    return absl::StrCat("Batch(", Describe(input_), ", ", batch_size_,
                        drop_remainder_ ? ", drop_remainder)" : ")");
  }

 private:
  const DatasetPtr input_;
  const int64_t batch_size_;
  const bool drop_remainder_;
};

}  // namespace

DatasetPtr Filter(DatasetPtr input, PredicateFn fn) {
  return std::make_shared<FilterDataset>(std::move(input), std::move(fn));
}
DatasetPtr Take(DatasetPtr input, int64_t count) {
  return std::make_shared<CountDataset>(CountDataset::kTake, std::move(input), count);
}
DatasetPtr Skip(DatasetPtr input, int64_t count) {
  return std::make_shared<CountDataset>(CountDataset::kSkip, std::move(input), count);
}
DatasetPtr Repeat(DatasetPtr input, int64_t count) {
  return std::make_shared<RepeatDataset>(std::move(input), count);
}
DatasetPtr Shard(DatasetPtr input, int64_t num_shards, int64_t index) {
  return std::make_shared<ShardDataset>(std::move(input), num_shards, index);
}
DatasetPtr Shuffle(DatasetPtr input, int64_t buffer_size, uint64_t seed) {
  return std::make_shared<ShuffleDataset>(std::move(input), buffer_size, seed);
}
DatasetPtr Batch(DatasetPtr input, int64_t batch_size, bool drop_remainder) {
  return std::make_shared<BatchDataset>(std::move(input), batch_size, drop_remainder);
}

}  // namespace braid::data
