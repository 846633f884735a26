// Input pipelines in the manner of tf.data: a Dataset describes a sequence of
// elements (each a vector of tensors); an Iterator walks it once. Datasets are
// immutable and shareable; transformations return new datasets:
//
//   DatasetPtr ds = Batch(Shuffle(FromTensors({images, labels}), 10000, seed), 128);
//   auto it = ds->MakeIterator();
//   Element batch; bool end;
//   while ((*it)->GetNext(&batch, &end).ok() && !end) { ... }
//
// Thread safety: a Dataset is immutable after construction and safe to share;
// MakeIterator may be called from several threads at once. An Iterator is used
// by one thread at a time (the pipeline's own threads, in Map and Prefetch,
// never call it). Functions passed to Map with num_parallel_calls > 1 are
// called concurrently and must be thread-safe.
//
// Errors: a transformation whose arguments are invalid (a batch size of 0, a
// shard index out of range) still returns a dataset, whose MakeIterator
// reports the problem; this keeps pipelines composable as plain expressions.
// An error from GetNext concerns one element: the iterator stays usable and a
// further GetNext goes on with the next element where the source can (a map
// function that failed on one element, a CSV row that does not parse).
// Errors are not elements: Take, Skip, Shard and Batch count only elements
// produced, and Batch keeps a partly filled batch across an input error.
// Once an iterator reports the end it keeps reporting it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/base/env.h"
#include "braid/tensor/tensor.h"

namespace braid {
struct ImageDataset;  // braid/data/idx.h
}  // namespace braid

namespace braid::data {

using Element = std::vector<Tensor>;

class Iterator {
 public:
  virtual ~Iterator() = default;
  // Produces the next element, or sets *end_of_sequence. Errors (a corrupt
  // record, a failing map function) name their source.
  virtual absl::Status GetNext(Element* out, bool* end_of_sequence) = 0;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  // The iterator does not depend on this Dataset object staying alive.
  virtual absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const = 0;
  // "Batch(Shuffle(TFRecord(2 files)))" for logs and errors.
  virtual std::string DebugString() const = 0;
};
using DatasetPtr = std::shared_ptr<const Dataset>;

// Sources.
// Slices each component along its first dimension (all must agree on it).
// Components of any dtype, rank >= 1; every element holds copies of its rows.
absl::StatusOr<DatasetPtr> FromTensors(std::vector<Tensor> components);
// One element per call of `next` until it reports the end. `make` is called
// once per iterator, so each iterator gets fresh generator state.
DatasetPtr FromGenerator(std::function<std::function<absl::Status(Element*, bool*)>()> make,
                         std::string name = "Generator");
// FromTensors({data.images, data.labels}): elements (float32 [28,28,1], int32 []).
absl::StatusOr<DatasetPtr> IdxDataset(const ImageDataset& data);

// One column of a CSV file.
struct CsvColumn {
  DType dtype = DType::kInvalid;  // kInt32, kInt64, kFloat, kDouble or kString
  // The value an empty or missing field takes: a scalar of `dtype`. Left
  // uninitialized, the field is required.
  Tensor default_value;
};
// Rows of a CSV file, each an element of one scalar tensor per column. Parsing
// follows RFC 4180: fields may be quoted ("a, b"), a quote inside a quoted
// field is doubled (""), quoted fields may span lines, records end in \n or
// \r\n, and blank lines are skipped. An unquoted empty field is missing; a
// quoted empty field is the empty string for a string column. Numbers may be
// surrounded by spaces. A bad row is an InvalidArgument error naming
// "path:line:column" (the column counted from 1, with its header name when
// there is a header) and the offending text; the next GetNext goes on with the
// next row. `header`: the first record names the columns and is not data.
// Returns InvalidArgument when `columns` is empty, names an unsupported dtype,
// has a default of another dtype or shape, or `field_delim` is a quote or a
// line break. The file is read (whole) when an iterator is made.
absl::StatusOr<DatasetPtr> CsvDataset(std::string path, std::vector<CsvColumn> columns,
                                      bool header = false, char field_delim = ',',
                                      Env* env = Env::Default());

// Transformations.
using MapFn = std::function<absl::StatusOr<Element>(Element)>;
using PredicateFn = std::function<absl::StatusOr<bool>(const Element&)>;
// Applies `fn` to every element. With num_parallel_calls > 1 the iterator runs
// up to that many calls at once on its own threads (reading that many elements
// ahead) and still yields results in input order. An error from `fn` names the
// element's index in the input. num_parallel_calls must be >= 1.
DatasetPtr Map(DatasetPtr input, MapFn fn, int num_parallel_calls = 1);
// Keeps the elements for which `fn` returns true.
DatasetPtr Filter(DatasetPtr input, PredicateFn fn);
// Uniform shuffle through a buffer of `buffer_size` elements; each epoch of a
// repeated shuffle draws a new order from the seeded generator: the k-th
// iterator made from this dataset (counting from 0) draws its order from a
// generator seeded by (seed, k), so a program is reproducible and every epoch
// differs. buffer_size >= the input's length gives a uniform permutation.
DatasetPtr Shuffle(DatasetPtr input, int64_t buffer_size, uint64_t seed);
// Stacks `batch_size` consecutive elements (components must have equal
// shapes); the last smaller batch is kept unless `drop_remainder`.
DatasetPtr Batch(DatasetPtr input, int64_t batch_size, bool drop_remainder = false);
// count < 0: forever. Stops when an epoch of the input is empty, so repeating
// an empty dataset forever is empty rather than a hang.
DatasetPtr Repeat(DatasetPtr input, int64_t count = -1);
// The first `count` elements; count < 0: all of them.
DatasetPtr Take(DatasetPtr input, int64_t count);
// All but the first `count` elements; count < 0: none.
DatasetPtr Skip(DatasetPtr input, int64_t count);
// Produces elements on a background thread, at most `buffer_size` ahead
// (buffer_size >= 1). Errors arrive in their place in the sequence.
// Destroying the iterator stops the thread (after the input's GetNext in
// progress, if any, returns).
DatasetPtr Prefetch(DatasetPtr input, int64_t buffer_size);
// Every num_shards-th element starting at `index` (data-parallel workers).
// REQUIRES (else MakeIterator fails): num_shards >= 1, 0 <= index < num_shards.
DatasetPtr Shard(DatasetPtr input, int64_t num_shards, int64_t index);
// Opens one dataset per input element with `fn` and interleaves `cycle_length`
// of them, `block_length` elements at a time (e.g. over a list of files).
// The order is deterministic: round robin over the open datasets; one that
// ends is replaced, in its place in the cycle, by the next input element's.
DatasetPtr Interleave(DatasetPtr input,
                      std::function<absl::StatusOr<DatasetPtr>(const Element&)> fn,
                      int64_t cycle_length, int64_t block_length = 1);

}  // namespace braid::data
