// A bounded series of points: what the dashboard keeps of one run's tag.
//
// Note [Stride sampling]: a series keeps every stride-th point it is offered
// (stride 1, 2, 4, ... doubling each time the kept points fill the capacity,
// when every other kept point is dropped) plus the latest point, so the kept
// points stay evenly spread over the whole series, the first point and the
// exact last value are always there, and memory per series is bounded however
// long training runs. Unlike reservoir sampling this is deterministic: a
// reload of the same file keeps the same points.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace braid::board {

template <typename Point>
class SampledSeries {
 public:
  // REQUIRES: capacity >= 2 (room for the sampled points and the latest).
  explicit SampledSeries(size_t capacity) : capacity_(capacity < 2 ? 2 : capacity) {}

  void Add(Point point) {
    const int64_t index = offered_++;
    // Full: keep every other point and double the stride, so that this
    // point (kept, or held as the latest) fits.
    if (kept_.size() == capacity_) Halve();
    if (index % stride_ == 0) {
      kept_.push_back(std::move(point));
      latest_.reset();
    } else {
      latest_ = std::move(point);
    }
  }

  // The kept points in the order offered, the latest last; at most capacity.
  std::vector<Point> Points() const {
    std::vector<Point> out;
    out.reserve(size());
    out.insert(out.end(), kept_.begin(), kept_.end());
    if (latest_) out.push_back(*latest_);
    return out;
  }
  // Calls fn(const Point&) for each kept point in order, without copying.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const Point& p : kept_) fn(p);
    if (latest_) fn(*latest_);
  }
  const Point* Last() const {
    if (latest_) return &*latest_;
    return kept_.empty() ? nullptr : &kept_.back();
  }
  size_t size() const { return kept_.size() + (latest_ ? 1 : 0); }
  size_t capacity() const { return capacity_; }
  // Points offered in all.
  int64_t offered() const { return offered_; }

 private:
  void Halve() {
    size_t out = 0;
    for (size_t i = 0; i < kept_.size(); i += 2) kept_[out++] = std::move(kept_[i]);
    kept_.resize(out);
    stride_ *= 2;
  }

  size_t capacity_;
  int64_t offered_ = 0;
  int64_t stride_ = 1;
  std::vector<Point> kept_;      // the points offered at multiples of stride_
  std::optional<Point> latest_;  // the latest point when it is not in kept_
};

}  // namespace braid::board
