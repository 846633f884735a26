// Prefetch: a background thread running the input ahead of the consumer,
// through a bounded queue.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "braid/data/dataset.h"
#include "braid/data/dataset_internal.h"

namespace braid::data {
namespace {

// Note [Prefetch shutdown]: the producer thread only ever blocks on the
// queue's condition variable (which the destructor signals after setting
// cancelled_) or inside the input's GetNext (which returns in its own time).
// So destroying the iterator mid-stream wakes the producer, which sees
// cancelled_ and returns, and the join completes; the input iterator is
// destroyed after the join, on the consumer's thread.
class PrefetchIterator : public Iterator {
 public:
  PrefetchIterator(std::unique_ptr<Iterator> input, int64_t buffer_size)
      : input_(std::move(input)), buffer_size_(buffer_size) {
    producer_ = std::thread([this] { Produce(); });
  }

  ~PrefetchIterator() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
    }
    space_.notify_all();
    producer_.join();
  }

  absl::Status GetNext(Element* out, bool* end_of_sequence) override {
    Item item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (finished_ && queue_.empty()) {
        *end_of_sequence = true;
        return absl::OkStatus();
      }
      ready_.wait(lock, [this] { return !queue_.empty(); });
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    space_.notify_one();
    if (!item.status.ok()) return item.status;
    if (item.end) {
      *end_of_sequence = true;
      return absl::OkStatus();
    }
    *out = std::move(item.element);
    *end_of_sequence = false;
    return absl::OkStatus();
  }

 private:
  struct Item {
    absl::Status status;
    Element element;
    bool end = false;
  };

  void Produce() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        space_.wait(lock, [this] {
          return cancelled_ || static_cast<int64_t>(queue_.size()) < buffer_size_;
        });
        if (cancelled_) return;
      }
      Item item;
      // Errors are queued in their place and production goes on: the
      // consumer decides whether to continue past one.
      item.status = input_->GetNext(&item.element, &item.end);
      const bool end = item.status.ok() && item.end;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (cancelled_) return;
        queue_.push_back(std::move(item));
        if (end) finished_ = true;
      }
      ready_.notify_one();
      if (end) return;
    }
  }

  std::unique_ptr<Iterator> input_;  // the producer thread's only, until it is joined
  const int64_t buffer_size_;
  std::mutex mu_;
  std::condition_variable ready_;  // the queue became non-empty
  std::condition_variable space_;  // the queue has room, or cancelled_
  std::deque<Item> queue_;         // protected by mu_; at most buffer_size_ items
  bool finished_ = false;          // protected by mu_; the end item has been queued
  bool cancelled_ = false;         // protected by mu_
  std::thread producer_;           // started last, once every member exists
};

class PrefetchDataset : public Dataset {
 public:
  PrefetchDataset(DatasetPtr input, int64_t buffer_size)
      : input_(std::move(input)), buffer_size_(buffer_size) {}

  absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const override {
    RETURN_IF_ERROR(internal::CheckInput(input_, "Prefetch"));
    if (buffer_size_ < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("Prefetch: buffer_size is ", buffer_size_, "; it must be at least 1"));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Iterator> input, input_->MakeIterator());
    return std::unique_ptr<Iterator>(
        std::make_unique<PrefetchIterator>(std::move(input), buffer_size_));
  }
  std::string DebugString() const override {
    return absl::StrCat("Prefetch(", internal::Describe(input_), ", ", buffer_size_, ")");
  }

 private:
  const DatasetPtr input_;
  const int64_t buffer_size_;
};

}  // namespace

DatasetPtr Prefetch(DatasetPtr input, int64_t buffer_size) {
  return std::make_shared<PrefetchDataset>(std::move(input), buffer_size);
}

}  // namespace braid::data
