// Helpers shared by the dataset implementation files; not part of the API.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "braid/data/dataset.h"

namespace braid::data::internal {

// Copies `count` elements of `src` starting at flat index `src_offset` into
// `dst` starting at `dst_offset`. Works for every dtype (strings and resource
// handles are copied element by element).
// REQUIRES: same dtype; both ranges in bounds.
void CopyElements(const Tensor& src, int64_t src_offset, Tensor* dst, int64_t dst_offset,
                  int64_t count);

// "{float32[28,28,1], int32[]}": the dtypes and shapes of an element.
std::string ElementSignature(const Element& element);

// InvalidArgument "<who>: the input dataset is null" when `input` is null.
absl::Status CheckInput(const DatasetPtr& input, const char* who);

// DebugString of a possibly null dataset.
std::string Describe(const DatasetPtr& dataset);

// Note [Shuffling row indices]: a full-size shuffle of FromTensors would copy
// every row into its buffer (188 MB for Fashion-MNIST's training images).
// When the input is a FromTensors dataset, Shuffle instead shuffles row
// indices with the same draws and slices each row as it leaves, so the order
// for a seed is the same either way.

// The components of a FromTensors dataset (rows along dimension 0), or null
// when `dataset` is another kind.
std::shared_ptr<const std::vector<Tensor>> TensorSliceComponents(const Dataset& dataset);
// Row `row` of every component, as FromTensors yields it.
void SliceRow(const std::vector<Tensor>& components, int64_t row, Element* out);

// An iterator whose elements are rows of in-memory tensors (FromTensors, and
// Shuffle over it). Batch asks it for row numbers and copies each row once,
// straight into the batch, instead of slicing every row into an element of
// its own first (an allocation and a second copy per row).
class RowIterator : public Iterator {
 public:
  // The number of the next row of components(), or the end.
  virtual absl::Status NextRow(int64_t* row, bool* end_of_sequence) = 0;
  virtual const std::vector<Tensor>& components() const = 0;

  absl::Status GetNext(Element* out, bool* end_of_sequence) final {
    int64_t row = 0;
    absl::Status status = NextRow(&row, end_of_sequence);
    if (status.ok() && !*end_of_sequence) SliceRow(components(), row, out);
    return status;
  }
};

}  // namespace braid::data::internal
