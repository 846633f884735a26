// Per-device registry of stateful resources (variables, accumulators, queues)
// that outlive a step. Kernels find them by (container, name) from a
// ResourceHandle.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "braid/tensor/tensor.h"

namespace braid {

class ResourceBase {
 public:
  virtual ~ResourceBase() = default;
  virtual std::string DebugString() const = 0;
};

// A variable: a tensor guarded by a mutex, uninitialized until first assigned.
class VariableResource : public ResourceBase {
 public:
  VariableResource(DType dtype, TensorShape shape) : dtype_(dtype), shape_(std::move(shape)) {}
  std::string DebugString() const override {
    return absl::StrCat("variable ", DTypeName(dtype_), shape_.DebugString());
  }
  DType dtype() const { return dtype_; }
  // The declared (possibly partial) shape.
  const TensorShape& declared_shape() const { return shape_; }
  std::mutex& mu() { return mu_; }
  Tensor* tensor() { return &tensor_; }  // REQUIRES: mu() held
  // The tensor, ready to be updated in place: copied first when a reader
  // (a ReadVariableOp snapshot, the Const it was assigned from) still shares
  // its buffer, so snapshots never change under their readers.
  // REQUIRES: mu() held, initialized().
  Tensor* MutableTensor() {
    if (!tensor_.RefCountIsOne()) tensor_ = tensor_.DeepCopy();
    return &tensor_;
  }
  bool initialized() const { return tensor_.initialized(); }

 private:
  const DType dtype_;
  const TensorShape shape_;
  std::mutex mu_;
  Tensor tensor_;  // protected by mu_
};

class ResourceMgr {
 public:
  // Returns the resource, creating it with `make()` when absent. A resource of
  // another type under that name is an InvalidArgument error.
  template <typename T, typename Make>
  absl::StatusOr<std::shared_ptr<T>> LookupOrCreate(const std::string& container,
                                                    const std::string& name, Make make) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = resources_[{container, name}];
    if (!slot) slot = make();
    auto typed = std::dynamic_pointer_cast<T>(slot);
    if (!typed) {
      return absl::InvalidArgumentError(absl::StrCat("resource '", name, "' is a ",
                                                     slot->DebugString(), ", not the kind asked"));
    }
    return typed;
  }
  template <typename T>
  absl::StatusOr<std::shared_ptr<T>> Lookup(const std::string& container, const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = resources_.find({container, name});
    if (it == resources_.end()) {
      return absl::NotFoundError(absl::StrCat("resource '", name, "' does not exist"));
    }
    auto typed = std::dynamic_pointer_cast<T>(it->second);
    if (!typed) {
      return absl::InvalidArgumentError(absl::StrCat("resource '", name, "' is a ",
                                                     it->second->DebugString()));
    }
    return typed;
  }
  // Drops every resource (a fresh session state).
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    resources_.clear();
  }

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<ResourceBase>> resources_;
};

}  // namespace braid
