// Sources made from memory (FromTensors, FromGenerator, IdxDataset) and the
// helpers the other dataset files share.
#include "braid/data/dataset.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/check.h"
#include "braid/data/dataset_internal.h"
#include "braid/data/idx.h"

namespace braid::data {
namespace internal {

void CopyElements(const Tensor& src, int64_t src_offset, Tensor* dst, int64_t dst_offset,
                  int64_t count) {
  BRAID_CHECK(src.dtype() == dst->dtype());
  BRAID_CHECK(src_offset >= 0 && src_offset + count <= src.NumElements());
  BRAID_CHECK(dst_offset >= 0 && dst_offset + count <= dst->NumElements());
  if (count == 0) return;
  switch (src.dtype()) {
    case DType::kString:
      std::copy_n(src.data<std::string>() + src_offset, count,
                  dst->data<std::string>() + dst_offset);
      return;
    case DType::kResource:
      std::copy_n(src.data<ResourceHandle>() + src_offset, count,
                  dst->data<ResourceHandle>() + dst_offset);
      return;
    default: {
      const size_t size = DTypeSize(src.dtype());
      std::memcpy(static_cast<char*>(dst->raw_data()) + dst_offset * size,
                  static_cast<const char*>(src.raw_data()) + src_offset * size, count * size);
    }
  }
}

std::string ElementSignature(const Element& element) {
  return absl::StrCat("{",
                      absl::StrJoin(element, ", ",
                                    [](std::string* out, const Tensor& t) {
                                      absl::StrAppend(out, DTypeName(t.dtype()),
                                                      t.shape().DebugString());
                                    }),
                      "}");
}

absl::Status CheckInput(const DatasetPtr& input, const char* who) {
  if (input == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(who, ": the input dataset is null"));
  }
  return absl::OkStatus();
}

std::string Describe(const DatasetPtr& dataset) {
  return dataset == nullptr ? "<null>" : dataset->DebugString();
}

}  // namespace internal

namespace {

// Row `index` of every component. The tensors are shared, not copied, so
// iterators stay cheap to make; each element gets its own rows.
class TensorSliceIterator : public internal::RowIterator {
 public:
  TensorSliceIterator(std::shared_ptr<const std::vector<Tensor>> components, int64_t rows)
      : components_(std::move(components)), rows_(rows) {}

  absl::Status NextRow(int64_t* row, bool* end_of_sequence) override {
    *end_of_sequence = next_ >= rows_;
    if (!*end_of_sequence) *row = next_++;
    return absl::OkStatus();
  }
  const std::vector<Tensor>& components() const override { return *components_; }

 private:
  const std::shared_ptr<const std::vector<Tensor>> components_;
  const int64_t rows_;
  int64_t next_ = 0;
};

class TensorSliceDataset : public Dataset {
 public:
  TensorSliceDataset(std::vector<Tensor> components, int64_t rows)
      : components_(std::make_shared<const std::vector<Tensor>>(std::move(components))),
        rows_(rows) {}

  absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const override {
    return std::unique_ptr<Iterator>(std::make_unique<TensorSliceIterator>(components_, rows_));
  }
  const std::shared_ptr<const std::vector<Tensor>>& components() const { return components_; }
  std::string DebugString() const override {
    std::vector<std::string> row_types;
    for (const Tensor& c : *components_) {
      std::vector<int64_t> dims(c.shape().dims().begin() + 1, c.shape().dims().end());
      row_types.push_back(DTypeName(c.dtype()) + TensorShape(std::move(dims)).DebugString());
    }
    return absl::StrCat("FromTensors(", rows_, " x {", absl::StrJoin(row_types, ", "), "})");
  }

 private:
  const std::shared_ptr<const std::vector<Tensor>> components_;
  const int64_t rows_;
};

using NextFn = std::function<absl::Status(Element*, bool*)>;

class GeneratorIterator : public Iterator {
 public:
  explicit GeneratorIterator(NextFn next) : next_(std::move(next)) {}

  absl::Status GetNext(Element* out, bool* end_of_sequence) override {
    // The generator is not called again after it reported the end.
    if (ended_) {
      *end_of_sequence = true;
      return absl::OkStatus();
    }
    out->clear();
    bool end = false;
    absl::Status s = next_(out, &end);
    if (!s.ok()) return s;
    ended_ = end;
    *end_of_sequence = end;
    return absl::OkStatus();
  }

 private:
  NextFn next_;
  bool ended_ = false;
};

class GeneratorDataset : public Dataset {
 public:
  GeneratorDataset(std::function<NextFn()> make, std::string name)
      : make_(std::move(make)), name_(std::move(name)) {}

  absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const override {
    if (!make_) return absl::InvalidArgumentError(absl::StrCat(name_, ": no generator factory"));
    NextFn next = make_();
    if (!next) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ": the generator factory returned an empty function"));
    }
    return std::unique_ptr<Iterator>(std::make_unique<GeneratorIterator>(std::move(next)));
  }
  std::string DebugString() const override { return name_; }

 private:
  const std::function<NextFn()> make_;
  const std::string name_;
};

}  // namespace

namespace internal {

std::shared_ptr<const std::vector<Tensor>> TensorSliceComponents(const Dataset& dataset) {
  const auto* slices = dynamic_cast<const TensorSliceDataset*>(&dataset);
  return slices == nullptr ? nullptr : slices->components();
}

void SliceRow(const std::vector<Tensor>& components, int64_t row, Element* out) {
  out->clear();
  out->reserve(components.size());
  for (const Tensor& c : components) {
    std::vector<int64_t> dims(c.shape().dims().begin() + 1, c.shape().dims().end());
    Tensor slice(c.dtype(), TensorShape(std::move(dims)));
    const int64_t n = slice.NumElements();
    CopyElements(c, row * n, &slice, 0, n);
    out->push_back(std::move(slice));
  }
}

}  // namespace internal

absl::StatusOr<DatasetPtr> FromTensors(std::vector<Tensor> components) {
  if (components.empty()) {
    return absl::InvalidArgumentError("FromTensors: needs at least one component tensor");
  }
  for (size_t i = 0; i < components.size(); ++i) {
    const Tensor& c = components[i];
    if (!c.initialized()) {
      return absl::InvalidArgumentError(
          absl::StrCat("FromTensors: component ", i, " is an uninitialized tensor"));
    }
    if (c.rank() < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("FromTensors: component ", i, " is a scalar (", c.DebugString(2),
                       "); components are sliced along dimension 0, so they need rank >= 1"));
    }
    if (c.dim(0) != components[0].dim(0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "FromTensors: components disagree on their first dimension: component 0 has shape ",
          components[0].shape().DebugString(), " but component ", i, " has shape ",
          c.shape().DebugString()));
    }
  }
  const int64_t rows = components[0].dim(0);
  return DatasetPtr(std::make_shared<TensorSliceDataset>(std::move(components), rows));
}

DatasetPtr FromGenerator(std::function<std::function<absl::Status(Element*, bool*)>()> make,
                         std::string name) {
  return std::make_shared<GeneratorDataset>(std::move(make), std::move(name));
}

absl::StatusOr<DatasetPtr> IdxDataset(const ImageDataset& data) {
  return FromTensors({data.images, data.labels});
}

}  // namespace braid::data
