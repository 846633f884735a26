// Tensor: a dtype, a fully defined shape and a reference-counted buffer.
// Copies share the buffer (cheap); kernels that want to write in place check
// RefCountIsOne() first.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "braid/base/check.h"
#include "braid/tensor/dtype.h"
#include "braid/tensor/tensor_shape.h"

namespace braid {

// 64-byte-aligned storage for `count` elements of one dtype. Elements of
// string and resource tensors are constructed and destroyed in place.
class TensorBuffer {
 public:
  TensorBuffer(DType dtype, int64_t count);
  ~TensorBuffer();
  TensorBuffer(const TensorBuffer&) = delete;
  TensorBuffer& operator=(const TensorBuffer&) = delete;
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  DType dtype_;
  int64_t count_;
  size_t bytes_;
  void* data_;
};

class Tensor {
 public:
  Tensor() = default;  // not initialized: dtype kInvalid
  // Allocates an uninitialized tensor (strings start empty).
  // REQUIRES: shape fully defined, dtype valid.
  Tensor(DType dtype, const TensorShape& shape);

  template <typename T>
  static Tensor Scalar(T value) {
    Tensor t(DTypeOf<T>::value, TensorShape{});
    t.data<T>()[0] = std::move(value);
    return t;
  }
  // REQUIRES: values.size() == shape.num_elements().
  template <typename T>
  static Tensor FromVector(const std::vector<T>& values, const TensorShape& shape) {
    Tensor t(DTypeOf<T>::value, shape);
    BRAID_CHECK(static_cast<int64_t>(values.size()) == t.NumElements());
    std::copy(values.begin(), values.end(), t.data<T>());
    return t;
  }
  template <typename T>
  static Tensor FromVector(const std::vector<T>& values) {
    return FromVector(values, TensorShape{static_cast<int64_t>(values.size())});
  }
  // A tensor of `shape` with every element equal to `value`.
  template <typename T>
  static Tensor Filled(const TensorShape& shape, T value) {
    Tensor t(DTypeOf<T>::value, shape);
    std::fill_n(t.data<T>(), t.NumElements(), value);
    return t;
  }

  bool initialized() const { return dtype_ != DType::kInvalid; }
  DType dtype() const { return dtype_; }
  const TensorShape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int i) const { return shape_.dim(i); }
  int64_t NumElements() const { return num_elements_; }
  size_t TotalBytes() const { return num_elements_ * DTypeSize(dtype_); }

  // REQUIRES: T matches dtype().
  template <typename T>
  T* data() const {
    BRAID_CHECK(DTypeOf<T>::value == dtype_);
    return static_cast<T*>(raw_data());
  }
  template <typename T>
  absl::Span<T> flat() const {
    return absl::Span<T>(data<T>(), static_cast<size_t>(num_elements_));
  }
  void* raw_data() const { return buffer_ ? buffer_->data() : nullptr; }

  // A tensor of another shape with the same element count, sharing the buffer.
  // REQUIRES: shape.num_elements() == NumElements().
  Tensor Reshaped(const TensorShape& shape) const;
  // A new buffer holding the same values.
  Tensor DeepCopy() const;
  bool RefCountIsOne() const { return buffer_ && buffer_.use_count() == 1; }
  bool SharesBufferWith(const Tensor& o) const { return buffer_ && buffer_ == o.buffer_; }

  // "float32[2,3] {1, 2, 3, ...}" with at most `max_entries` values.
  std::string DebugString(int max_entries = 8) const;

 private:
  DType dtype_ = DType::kInvalid;
  TensorShape shape_;
  int64_t num_elements_ = 0;
  std::shared_ptr<TensorBuffer> buffer_;
};

// Exact equality of dtype, shape and every element (NaN != NaN).
bool TensorsEqual(const Tensor& a, const Tensor& b);

}  // namespace braid
