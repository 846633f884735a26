// Map (sequential and parallel) and Interleave: the transformations that run
// user functions producing elements or datasets.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/base/thread_pool.h"
#include "braid/data/dataset.h"
#include "braid/data/dataset_internal.h"

namespace braid::data {
namespace {

using internal::CheckInput;
using internal::Describe;

// The map function's error, with the input element's index and signature in
// front so a failure deep in a pipeline can be traced to its element.
absl::Status MapError(const absl::Status& s, int64_t index, const std::string& signature) {
  return absl::Status(s.code(), absl::StrCat("Map: the function failed on element ", index, " ",
                                             signature, ": ", s.message()));
}

class MapIterator : public Iterator {
 public:
  MapIterator(std::unique_ptr<Iterator> input, MapFn fn)
      : input_(std::move(input)), fn_(std::move(fn)) {}

  absl::Status GetNext(Element* out, bool* end_of_sequence) override {
    Element in;
    bool end = false;
    RETURN_IF_ERROR(input_->GetNext(&in, &end));
    if (end) {
      *end_of_sequence = true;
      return absl::OkStatus();
    }
    const int64_t index = index_++;
    // The signature is taken before `in` is moved into the function.
    std::string signature = internal::ElementSignature(in);
    absl::StatusOr<Element> result = fn_(std::move(in));
    if (!result.ok()) return MapError(result.status(), index, signature);
    *out = *std::move(result);
    *end_of_sequence = false;
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<Iterator> input_;
  const MapFn fn_;
  int64_t index_ = 0;
};

// Note [Parallel map order]: the caller's thread reads the input (iterators
// are single-threaded) and keeps up to num_parallel_calls calls in flight on
// the iterator's own threads, in a FIFO of result slots. GetNext waits for
// the oldest slot only, so results leave in input order whatever order the
// calls finish in.
class ParallelMapIterator : public Iterator {
 public:
  ParallelMapIterator(std::unique_ptr<Iterator> input, std::shared_ptr<const MapFn> fn,
                      int num_parallel_calls)
      : input_(std::move(input)),
        fn_(std::move(fn)),
        num_parallel_calls_(num_parallel_calls),
        shared_(std::make_shared<Shared>()),
        pool_(std::make_unique<ThreadPool>(num_parallel_calls)) {}

  ~ParallelMapIterator() override {
    // Joins the threads after the calls in flight (at most
    // num_parallel_calls) finish; their slots are shared, so none dangles.
    pool_.reset();
  }

  absl::Status GetNext(Element* out, bool* end_of_sequence) override {
    while (!input_ended_ && static_cast<int>(in_flight_.size()) < num_parallel_calls_) {
      Element in;
      bool end = false;
      absl::Status s = input_->GetNext(&in, &end);
      if (!s.ok()) {
        // The input's error takes its place in the order.
        auto slot = std::make_shared<Slot>();
        slot->result = s;
        slot->done = true;
        in_flight_.push_back(std::move(slot));
        break;
      }
      if (end) {
        input_ended_ = true;
        input_.reset();
        break;
      }
      auto slot = std::make_shared<Slot>();
      slot->index = index_++;
      in_flight_.push_back(slot);
      pool_->Schedule([slot, fn = fn_, shared = shared_, in = std::move(in)]() mutable {
        std::string signature = internal::ElementSignature(in);
        absl::StatusOr<Element> result = (*fn)(std::move(in));
        if (!result.ok()) result = MapError(result.status(), slot->index, signature);
        {
          std::lock_guard<std::mutex> lock(shared->mu);
          slot->result = std::move(result);
          slot->done = true;
        }
        shared->cv.notify_all();
      });
    }
    if (in_flight_.empty()) {
      *end_of_sequence = true;
      return absl::OkStatus();
    }
    std::shared_ptr<Slot> slot = std::move(in_flight_.front());
    in_flight_.pop_front();
    {
      std::unique_lock<std::mutex> lock(shared_->mu);
      shared_->cv.wait(lock, [&] { return slot->done; });
    }
    // The worker is done with the slot: reading it needs no lock any more.
    if (!slot->result.ok()) return slot->result.status();
    *out = *std::move(slot->result);
    *end_of_sequence = false;
    return absl::OkStatus();
  }

 private:
  struct Slot {
    int64_t index = 0;
    absl::StatusOr<Element> result;  // written by a worker under Shared::mu
    bool done = false;               // protected by Shared::mu
  };
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;  // signalled when a slot is done
  };

  std::unique_ptr<Iterator> input_;
  const std::shared_ptr<const MapFn> fn_;
  const int num_parallel_calls_;
  const std::shared_ptr<Shared> shared_;
  std::deque<std::shared_ptr<Slot>> in_flight_;  // oldest first; the caller's thread only
  int64_t index_ = 0;
  bool input_ended_ = false;
  std::unique_ptr<ThreadPool> pool_;
};

class MapDataset : public Dataset {
 public:
  MapDataset(DatasetPtr input, MapFn fn, int num_parallel_calls)
      : input_(std::move(input)),
        fn_(std::make_shared<const MapFn>(std::move(fn))),
        num_parallel_calls_(num_parallel_calls) {}

  absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const override {
    RETURN_IF_ERROR(CheckInput(input_, "Map"));
    if (!*fn_) return absl::InvalidArgumentError("Map: the function is an empty function");
    if (num_parallel_calls_ < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Map: num_parallel_calls is ", num_parallel_calls_, "; it must be at least 1"));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Iterator> input, input_->MakeIterator());
    if (num_parallel_calls_ == 1) {
      return std::unique_ptr<Iterator>(std::make_unique<MapIterator>(std::move(input), *fn_));
    }
    return std::unique_ptr<Iterator>(
        std::make_unique<ParallelMapIterator>(std::move(input), fn_, num_parallel_calls_));
  }
  std::string DebugString() const override {
    return num_parallel_calls_ == 1
               ? absl::StrCat("Map(", Describe(input_), ")")
               : absl::StrCat("Map(", Describe(input_), ", ", num_parallel_calls_, " parallel)");
  }

 private:
  const DatasetPtr input_;
  const std::shared_ptr<const MapFn> fn_;
  const int num_parallel_calls_;
};

// ---------------------------------------------------------------- Interleave

using DatasetFn = std::function<absl::StatusOr<DatasetPtr>(const Element&)>;

// tf.data's deterministic interleave: a cycle of `cycle_length` slots visited
// round robin, `block_length` elements from each before moving on. An empty
// slot is filled from the next input element (in place, so the order depends
// only on the data); a slot whose dataset ends is emptied and skipped.
class InterleaveIterator : public Iterator {
 public:
  InterleaveIterator(std::unique_ptr<Iterator> input, DatasetFn fn, int64_t cycle_length,
                     int64_t block_length)
      : input_(std::move(input)),
        fn_(std::move(fn)),
        block_length_(block_length),
        cycle_(static_cast<size_t>(cycle_length)) {}

  absl::Status GetNext(Element* out, bool* end_of_sequence) override {
    while (!input_ended_ || num_open_ > 0) {
      std::unique_ptr<Iterator>& slot = cycle_[cycle_index_];
      if (slot != nullptr) {
        bool end = false;
        RETURN_IF_ERROR(slot->GetNext(out, &end));
        if (!end) {
          if (++block_index_ == block_length_) AdvanceCycle();
          *end_of_sequence = false;
          return absl::OkStatus();
        }
        slot.reset();
        --num_open_;
        AdvanceCycle();
      } else if (!input_ended_) {
        Element args;
        bool end = false;
        RETURN_IF_ERROR(input_->GetNext(&args, &end));
        if (end) {
          input_ended_ = true;
          input_.reset();
          continue;
        }
        const int64_t index = index_++;
        absl::StatusOr<DatasetPtr> ds = fn_(args);
        if (!ds.ok() || *ds == nullptr) {
          absl::Status cause =
              ds.ok() ? absl::InvalidArgumentError("it returned a null dataset") : ds.status();
          return absl::Status(
              cause.code(), absl::StrCat("Interleave: the function failed on element ", index, " ",
                                         internal::ElementSignature(args), ": ", cause.message()));
        }
        ASSIGN_OR_RETURN(slot, (*ds)->MakeIterator());
        ++num_open_;
      } else {
        AdvanceCycle();
      }
    }
    *end_of_sequence = true;
    return absl::OkStatus();
  }

 private:
  void AdvanceCycle() {
    block_index_ = 0;
    cycle_index_ = (cycle_index_ + 1) % cycle_.size();
  }

  std::unique_ptr<Iterator> input_;
  const DatasetFn fn_;
  const int64_t block_length_;
  std::vector<std::unique_ptr<Iterator>> cycle_;  // null: an empty slot
  size_t cycle_index_ = 0;
  int64_t block_index_ = 0;  // elements taken from the current slot in this turn
  int64_t num_open_ = 0;
  int64_t index_ = 0;  // of the next input element
  bool input_ended_ = false;
};

class InterleaveDataset : public Dataset {
 public:
  InterleaveDataset(DatasetPtr input, DatasetFn fn, int64_t cycle_length, int64_t block_length)
      : input_(std::move(input)),
        fn_(std::move(fn)),
        cycle_length_(cycle_length),
        block_length_(block_length) {}

  absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const override {
    RETURN_IF_ERROR(CheckInput(input_, "Interleave"));
    if (!fn_) return absl::InvalidArgumentError("Interleave: the function is an empty function");
    if (cycle_length_ < 1 || block_length_ < 1) {
      return absl::InvalidArgumentError(absl::StrCat("Interleave: cycle_length is ", cycle_length_,
                                                     " and block_length is ", block_length_,
                                                     "; both must be at least 1"));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Iterator> input, input_->MakeIterator());
    return std::unique_ptr<Iterator>(
        std::make_unique<InterleaveIterator>(std::move(input), fn_, cycle_length_, block_length_));
  }
  std::string DebugString() const override {
    return absl::StrCat("Interleave(", Describe(input_), ", cycle ", cycle_length_, ", block ",
                        block_length_, ")");
  }

 private:
  const DatasetPtr input_;
  const DatasetFn fn_;
  const int64_t cycle_length_;
  const int64_t block_length_;
};

}  // namespace

DatasetPtr Map(DatasetPtr input, MapFn fn, int num_parallel_calls) {
  return std::make_shared<MapDataset>(std::move(input), std::move(fn), num_parallel_calls);
}

DatasetPtr Interleave(DatasetPtr input,
                      std::function<absl::StatusOr<DatasetPtr>(const Element&)> fn,
                      int64_t cycle_length, int64_t block_length) {
  return std::make_shared<InterleaveDataset>(std::move(input), std::move(fn), cycle_length,
                                             block_length);
}

}  // namespace braid::data
