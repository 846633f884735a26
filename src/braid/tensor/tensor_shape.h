// A tensor's shape, possibly partial: a dimension of -1 is unknown, and the
// rank itself may be unknown (shape inference uses partial shapes; a Tensor's
// shape is always fully defined).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace braid {

class TensorShape {
 public:
  static constexpr int64_t kUnknownDim = -1;

  TensorShape() = default;  // a scalar
  TensorShape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit TensorShape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}
  static TensorShape UnknownRank();

  bool unknown_rank() const { return unknown_rank_; }
  // REQUIRES: !unknown_rank().
  int rank() const { return static_cast<int>(dims_.size()); }
  int64_t dim(int i) const { return dims_[i]; }
  const std::vector<int64_t>& dims() const { return dims_; }
  void set_dim(int i, int64_t size) { dims_[i] = size; }
  void AddDim(int64_t size) { dims_.push_back(size); }

  bool IsFullyDefined() const;
  // Product of dims; -1 when not fully defined.
  int64_t num_elements() const;
  // True when some fully defined shape could match both.
  bool IsCompatibleWith(const TensorShape& other) const;
  // The most specific shape compatible with both, or an error when they conflict.
  absl::StatusOr<TensorShape> Merge(const TensorShape& other) const;

  // "[2,?,3]", "[]" for a scalar, "<unknown>" for unknown rank.
  std::string DebugString() const;
  bool operator==(const TensorShape& o) const {
    return unknown_rank_ == o.unknown_rank_ && dims_ == o.dims_;
  }
  bool operator!=(const TensorShape& o) const { return !(*this == o); }

 private:
  std::vector<int64_t> dims_;
  bool unknown_rank_ = false;
};

// Validates a fully defined shape given as a list of sizes (no negatives, no
// element-count overflow).
absl::StatusOr<TensorShape> MakeFullShape(const std::vector<int64_t>& dims);

}  // namespace braid
