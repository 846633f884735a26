#include "braid/tensor/tensor_shape.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace braid {

TensorShape TensorShape::UnknownRank() {
  TensorShape s;
  s.unknown_rank_ = true;
  return s;
}

bool TensorShape::IsFullyDefined() const {
  if (unknown_rank_) return false;
  for (int64_t d : dims_)
    if (d < 0) return false;
  return true;
}

int64_t TensorShape::num_elements() const {
  if (!IsFullyDefined()) return -1;
  int64_t n = 1;
  for (int64_t d : dims_) n *= d;
  return n;
}

bool TensorShape::IsCompatibleWith(const TensorShape& o) const {
  if (unknown_rank_ || o.unknown_rank_) return true;
  if (rank() != o.rank()) return false;
  for (int i = 0; i < rank(); ++i)
    if (dims_[i] >= 0 && o.dims_[i] >= 0 && dims_[i] != o.dims_[i]) return false;
  return true;
}

absl::StatusOr<TensorShape> TensorShape::Merge(const TensorShape& o) const {
  if (!IsCompatibleWith(o)) {
    return absl::InvalidArgumentError(
        absl::StrCat("shapes ", DebugString(), " and ", o.DebugString(), " are incompatible"));
  }
  if (unknown_rank_) return o;
  if (o.unknown_rank_) return *this;
  TensorShape out = *this;
  for (int i = 0; i < rank(); ++i)
    if (out.dims_[i] < 0) out.dims_[i] = o.dims_[i];
  return out;
}

std::string TensorShape::DebugString() const {
  if (unknown_rank_) return "<unknown>";
  return absl::StrCat("[", absl::StrJoin(dims_, ",", [](std::string* out, int64_t d) {
                        absl::StrAppend(out, d < 0 ? std::string("?") : absl::StrCat(d));
                      }),
                      "]");
}

absl::StatusOr<TensorShape> MakeFullShape(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("dimension ", d, " in shape [", absl::StrJoin(dims, ","),
                       "] is negative; sizes must be >= 0"));
    }
    if (d > 0 && n > std::numeric_limits<int64_t>::max() / d) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape [", absl::StrJoin(dims, ","), "] has too many elements"));
    }
    n *= d;
  }
  return TensorShape(dims);
}

}  // namespace braid
