#include "braid/data/example_parser.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"
#include "tensorflow/core/example/example.pb.h"

namespace braid::data {
namespace {

using tensorflow::Feature;

// Note [Example parsing through protobuf]
// Examples are decoded with the generated protobuf classes, then copied into
// tensors. TensorFlow hand-decodes the wire format to skip that copy; at the
// sizes of image records (a few KiB) the protobuf path costs microseconds per
// example, well below what a training step spends on it, so the simpler and
// obviously correct path wins until a profile says otherwise.

const char* KindName(Feature::KindCase kind) {
  switch (kind) {
    case Feature::kBytesList:
      return "bytes_list";
    case Feature::kFloatList:
      return "float_list";
    case Feature::kInt64List:
      return "int64_list";
    case Feature::KIND_NOT_SET:
      break;
  }
  return "no list";
}

Feature::KindCase KindOf(DType dtype) {
  switch (dtype) {
    case DType::kString:
      return Feature::kBytesList;
    case DType::kFloat:
      return Feature::kFloatList;
    case DType::kInt64:
      return Feature::kInt64List;
    default:
      return Feature::KIND_NOT_SET;
  }
}

absl::Status CheckDType(absl::string_view what, const std::string& name, DType dtype) {
  if (KindOf(dtype) != Feature::KIND_NOT_SET) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " '", name, "' has dtype ", DTypeName(dtype),
                   "; examples hold int64, float32 or string values (use one of those and cast)"));
}

absl::Status CheckShape(absl::string_view what, const std::string& name, const TensorShape& s) {
  if (!s.unknown_rank() && s.IsFullyDefined()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(what, " '", name, "' has shape ", s.DebugString(),
                                                 "; it must be fully defined (no ? dimensions)"));
}

// "example 3: feature 'x'" in a batch, "feature 'x'" for a single example.
std::string Where(int64_t example, bool batched, const std::string& name) {
  return batched ? absl::StrCat("example ", example, ": feature '", name, "'")
                 : absl::StrCat("feature '", name, "'");
}

// A feature that is there and has a list (TensorFlow treats an unset kind as absent).
const Feature* Find(const tensorflow::Features& features, const std::string& name) {
  auto it = features.feature().find(name);
  if (it == features.feature().end() || it->second.kind_case() == Feature::KIND_NOT_SET) {
    return nullptr;
  }
  return &it->second;
}

absl::StatusOr<int64_t> CheckedCount(const Feature& f, DType dtype, const std::string& where) {
  if (f.kind_case() != KindOf(dtype)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": the spec says ", DTypeName(dtype), " (", KindName(KindOf(dtype)),
                     ") but the example holds ", KindName(f.kind_case())));
  }
  switch (f.kind_case()) {
    case Feature::kBytesList:
      return f.bytes_list().value_size();
    case Feature::kFloatList:
      return f.float_list().value_size();
    case Feature::kInt64List:
      return f.int64_list().value_size();
    case Feature::KIND_NOT_SET:
      break;
  }
  return 0;
}

// Copies the values of `f` (kind already checked) to `out`'s flat elements from `at`.
void CopyValues(const Feature& f, const Tensor& out, int64_t at) {
  switch (f.kind_case()) {
    case Feature::kBytesList:
      std::copy(f.bytes_list().value().begin(), f.bytes_list().value().end(),
                out.data<std::string>() + at);
      break;
    case Feature::kFloatList:
      std::copy(f.float_list().value().begin(), f.float_list().value().end(),
                out.data<float>() + at);
      break;
    case Feature::kInt64List:
      std::copy(f.int64_list().value().begin(), f.int64_list().value().end(),
                out.data<int64_t>() + at);
      break;
    case Feature::KIND_NOT_SET:
      break;
  }
}

// Copies `n` elements of `from` to `to`'s flat elements from `at`.
void CopyElements(const Tensor& from, const Tensor& to, int64_t at) {
  DispatchDType<int64_t, float, std::string>(from.dtype(), [&]<typename T>() {
    std::copy_n(from.data<T>(), from.NumElements(), to.data<T>() + at);
  });
}

TensorShape Prepend(int64_t dim, const TensorShape& shape) {
  std::vector<int64_t> dims = {dim};
  dims.insert(dims.end(), shape.dims().begin(), shape.dims().end());
  return TensorShape(std::move(dims));
}

// The features of examples[0..n), parsed into `out` by `spec`. With `batched`
// outputs get a leading batch dimension and sparse indices a batch column.
absl::Status ParseFeatures(const std::vector<const tensorflow::Features*>& examples,
                           const ExampleSpec& spec, bool batched, ParsedFeatures* out) {
  const int64_t batch = static_cast<int64_t>(examples.size());
  for (const auto& [name, feature_spec] : spec) {
    if (const auto* fixed = std::get_if<FixedLenFeature>(&feature_spec)) {
      const int64_t n = fixed->shape.num_elements();
      Tensor dense(fixed->dtype, batched ? Prepend(batch, fixed->shape) : fixed->shape);
      for (int64_t i = 0; i < batch; ++i) {
        const Feature* f = Find(*examples[i], name);
        if (f == nullptr) {
          if (!fixed->default_value.initialized()) {
            return absl::InvalidArgumentError(absl::StrCat(
                Where(i, batched, name), " (", DTypeName(fixed->dtype), ", shape ",
                fixed->shape.DebugString(),
                ") is required but missing from the example; give its FixedLenFeature a "
                "default_value to make it optional"));
          }
          CopyElements(fixed->default_value, dense, i * n);
          continue;
        }
        ASSIGN_OR_RETURN(int64_t count, CheckedCount(*f, fixed->dtype, Where(i, batched, name)));
        if (count != n) {
          return absl::InvalidArgumentError(
              absl::StrCat(Where(i, batched, name), ": expected ", n, " values (shape ",
                           fixed->shape.DebugString(), ") but the example has ", count));
        }
        CopyValues(*f, dense, i * n);
      }
      out->dense[name] = std::move(dense);
      continue;
    }
    const DType dtype = std::get<VarLenFeature>(feature_spec).dtype;
    std::vector<int64_t> counts(batch, 0);
    int64_t total = 0, longest = 0;
    for (int64_t i = 0; i < batch; ++i) {
      if (const Feature* f = Find(*examples[i], name)) {
        ASSIGN_OR_RETURN(counts[i], CheckedCount(*f, dtype, Where(i, batched, name)));
      }
      total += counts[i];
      longest = std::max(longest, counts[i]);
    }
    const int64_t rank = batched ? 2 : 1;
    SparseTensor sparse{Tensor(DType::kInt64, TensorShape{total, rank}),
                        Tensor(dtype, TensorShape{total}), Tensor(DType::kInt64, {rank})};
    int64_t* index = sparse.indices.data<int64_t>();
    int64_t at = 0;
    for (int64_t i = 0; i < batch; ++i) {
      if (counts[i] == 0) continue;
      CopyValues(*Find(*examples[i], name), sparse.values, at);
      for (int64_t j = 0; j < counts[i]; ++j) {
        if (batched) *index++ = i;
        *index++ = j;
      }
      at += counts[i];
    }
    int64_t* dense_shape = sparse.dense_shape.data<int64_t>();
    if (batched) *dense_shape++ = batch;
    *dense_shape = longest;
    out->sparse[name] = std::move(sparse);
  }
  return absl::OkStatus();
}

absl::StatusOr<ParsedFeatures> ParseBatch(absl::Span<const absl::string_view> serialized,
                                          const ExampleSpec& spec, bool batched) {
  RETURN_IF_ERROR(ValidateExampleSpec(spec));
  std::vector<tensorflow::Example> examples(serialized.size());
  std::vector<const tensorflow::Features*> features;
  features.reserve(serialized.size());
  for (size_t i = 0; i < serialized.size(); ++i) {
    if (serialized[i].size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
        !examples[i].ParseFromArray(serialized[i].data(), static_cast<int>(serialized[i].size()))) {
      return absl::InvalidArgumentError(absl::StrCat(
          batched ? absl::StrCat("example ", i, ": ") : "", "the ", serialized[i].size(),
          " bytes are not a serialized tf.Example (protobuf parse failed)"));
    }
    features.push_back(&examples[i].features());
  }
  ParsedFeatures out;
  RETURN_IF_ERROR(ParseFeatures(features, spec, batched, &out));
  return out;
}

// One feature list of a SequenceExample into `out`.
absl::Status ParseFeatureList(const std::string& name, const SequenceFeatureSpec& spec,
                              const tensorflow::FeatureLists& lists, ParsedFeatures* out) {
  auto it = lists.feature_list().find(name);
  const tensorflow::FeatureList* list = it == lists.feature_list().end() ? nullptr : &it->second;
  const int64_t steps = list ? list->feature_size() : 0;
  auto where = [&](int64_t step) { return absl::StrCat("feature list '", name, "', step ", step); };
  if (const auto* fixed = std::get_if<FixedLenSequenceFeature>(&spec)) {
    if (list == nullptr && !fixed->allow_missing) {
      return absl::InvalidArgumentError(absl::StrCat(
          "feature list '", name, "' (", DTypeName(fixed->dtype), ", shape ",
          fixed->shape.DebugString(),
          " per step) is required but missing from the example; set allow_missing to read it "
          "as zero steps"));
    }
    const int64_t n = fixed->shape.num_elements();
    Tensor dense(fixed->dtype, Prepend(steps, fixed->shape));
    for (int64_t t = 0; t < steps; ++t) {
      const Feature& f = list->feature(static_cast<int>(t));
      ASSIGN_OR_RETURN(int64_t count, CheckedCount(f, fixed->dtype, where(t)));
      if (count != n) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(t), ": expected ", n, " values (shape ", fixed->shape.DebugString(),
                         ") but the example has ", count));
      }
      CopyValues(f, dense, t * n);
    }
    out->dense[name] = std::move(dense);
    return absl::OkStatus();
  }
  const DType dtype = std::get<VarLenFeature>(spec).dtype;
  int64_t total = 0, longest = 0;
  std::vector<int64_t> counts(steps, 0);
  for (int64_t t = 0; t < steps; ++t) {
    const Feature& f = list->feature(static_cast<int>(t));
    if (f.kind_case() == Feature::KIND_NOT_SET) continue;  // an empty step
    ASSIGN_OR_RETURN(counts[t], CheckedCount(f, dtype, where(t)));
    total += counts[t];
    longest = std::max(longest, counts[t]);
  }
  SparseTensor sparse{Tensor(DType::kInt64, TensorShape{total, 2}),
                      Tensor(dtype, TensorShape{total}),
                      Tensor::FromVector<int64_t>({steps, longest})};
  int64_t* index = sparse.indices.data<int64_t>();
  int64_t at = 0;
  for (int64_t t = 0; t < steps; ++t) {
    if (counts[t] == 0) continue;
    CopyValues(list->feature(static_cast<int>(t)), sparse.values, at);
    for (int64_t j = 0; j < counts[t]; ++j) {
      *index++ = t;
      *index++ = j;
    }
    at += counts[t];
  }
  out->sparse[name] = std::move(sparse);
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateExampleSpec(const ExampleSpec& spec) {
  for (const auto& [name, feature_spec] : spec) {
    if (const auto* fixed = std::get_if<FixedLenFeature>(&feature_spec)) {
      RETURN_IF_ERROR(CheckDType("FixedLenFeature", name, fixed->dtype));
      RETURN_IF_ERROR(CheckShape("FixedLenFeature", name, fixed->shape));
      const Tensor& d = fixed->default_value;
      if (d.initialized() &&
          (d.dtype() != fixed->dtype || d.NumElements() != fixed->shape.num_elements())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "FixedLenFeature '", name, "': default_value is ", DTypeName(d.dtype()),
            d.shape().DebugString(), " but the feature is ", DTypeName(fixed->dtype),
            fixed->shape.DebugString(), " (", fixed->shape.num_elements(), " values)"));
      }
    } else {
      RETURN_IF_ERROR(
          CheckDType("VarLenFeature", name, std::get<VarLenFeature>(feature_spec).dtype));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ParsedFeatures> ParseSingleExample(absl::string_view serialized,
                                                  const ExampleSpec& spec) {
  return ParseBatch({serialized}, spec, /*batched=*/false);
}

absl::StatusOr<ParsedFeatures> ParseExamples(absl::Span<const std::string> serialized,
                                             const ExampleSpec& spec) {
  std::vector<absl::string_view> views(serialized.begin(), serialized.end());
  return ParseBatch(views, spec, /*batched=*/true);
}

absl::StatusOr<ParsedFeatures> ParseExampleTensor(const Tensor& serialized,
                                                  const ExampleSpec& spec) {
  if (serialized.dtype() != DType::kString || serialized.rank() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("serialized examples must be a string scalar or vector, not ",
                     DTypeName(serialized.dtype()), serialized.shape().DebugString()));
  }
  if (serialized.rank() == 0) return ParseSingleExample(serialized.data<std::string>()[0], spec);
  return ParseExamples(serialized.flat<std::string>(), spec);
}

absl::StatusOr<ParsedSequenceExample> ParseSingleSequenceExample(
    absl::string_view serialized, const ExampleSpec& context_spec,
    const SequenceSpec& sequence_spec) {
  RETURN_IF_ERROR(ValidateExampleSpec(context_spec));
  for (const auto& [name, spec] : sequence_spec) {
    if (const auto* fixed = std::get_if<FixedLenSequenceFeature>(&spec)) {
      RETURN_IF_ERROR(CheckDType("FixedLenSequenceFeature", name, fixed->dtype));
      RETURN_IF_ERROR(CheckShape("FixedLenSequenceFeature", name, fixed->shape));
    } else {
      RETURN_IF_ERROR(CheckDType("VarLenFeature", name, std::get<VarLenFeature>(spec).dtype));
    }
  }
  tensorflow::SequenceExample example;
  if (serialized.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !example.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", serialized.size(),
                     " bytes are not a serialized tf.SequenceExample (protobuf parse failed)"));
  }
  ParsedSequenceExample out;
  RETURN_IF_ERROR(
      ParseFeatures({&example.context()}, context_spec, /*batched=*/false, &out.context));
  for (const auto& [name, spec] : sequence_spec) {
    RETURN_IF_ERROR(ParseFeatureList(name, spec, example.feature_lists(), &out.feature_lists));
  }
  return out;
}

}  // namespace braid::data
