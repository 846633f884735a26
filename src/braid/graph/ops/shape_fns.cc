#include "braid/graph/ops/shape_fns.h"

#include "absl/strings/str_cat.h"

namespace braid {

absl::Status UnchangedShape(InferenceContext& c) {
  c.set_output(0, c.input_shape(0));
  return absl::OkStatus();
}

absl::Status ScalarShape(InferenceContext& c) {
  c.set_output(0, TensorShape{});
  return absl::OkStatus();
}

absl::StatusOr<TensorShape> BroadcastShapes(const TensorShape& a, const TensorShape& b) {
  if (a.unknown_rank() || b.unknown_rank()) return TensorShape::UnknownRank();
  const int rank = std::max(a.rank(), b.rank());
  TensorShape out(std::vector<int64_t>(rank, TensorShape::kUnknownDim));
  for (int i = 0; i < rank; ++i) {
    int ia = i - (rank - a.rank());
    int ib = i - (rank - b.rank());
    int64_t da = ia >= 0 ? a.dim(ia) : 1;
    int64_t db = ib >= 0 ? b.dim(ib) : 1;
    int64_t d;
    if (da == 1) d = db;
    else if (db == 1) d = da;
    else if (da < 0) d = db;  // unknown vs n: n (or an error at run time)
    else if (db < 0) d = da;
    else if (da == db) d = da;
    else {
      return absl::InvalidArgumentError(absl::StrCat("shapes ", a.DebugString(), " and ",
                                                     b.DebugString(), " cannot be broadcast"));
    }
    out.set_dim(i, d);
  }
  return out;
}

absl::Status BroadcastBinaryShape(InferenceContext& c) {
  absl::StatusOr<TensorShape> s = BroadcastShapes(c.input_shape(0), c.input_shape(1));
  if (!s.ok()) return c.Error(s.status().message());
  c.set_output(0, *s);
  return absl::OkStatus();
}

absl::Status RequireRank(InferenceContext& c, int i, int rank) {
  const TensorShape& s = c.input_shape(i);
  if (!s.unknown_rank() && s.rank() != rank) {
    return c.Error(absl::StrCat("input ", i, " must have rank ", rank, ", got shape ",
                                s.DebugString()));
  }
  return absl::OkStatus();
}

}  // namespace braid
