#include "braid/serving/classify_regress.h"

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"

namespace braid::serving {
namespace {

const tensorflow::Feature* FindFeature(const ExamplesInput& input, size_t i,
                                       const std::string& name) {
  const auto& own = input.examples[i]->features().feature();
  if (auto it = own.find(name); it != own.end()) return &it->second;
  if (input.context != nullptr) {
    const auto& ctx = input.context->features().feature();
    if (auto it = ctx.find(name); it != ctx.end()) return &it->second;
  }
  return nullptr;
}

int64_t ValueCount(const tensorflow::Feature& f) {
  switch (f.kind_case()) {
    case tensorflow::Feature::kFloatList:
      return f.float_list().value_size();
    case tensorflow::Feature::kInt64List:
      return f.int64_list().value_size();
    case tensorflow::Feature::kBytesList:
      return f.bytes_list().value_size();
    default:
      return 0;
  }
}

// Copies the feature's values into `out` (room for `n` values of `dtype`).
absl::Status CopyValues(const tensorflow::Feature& f, DType dtype, const Tensor& t, int64_t offset,
                        const std::string& what) {
  const auto kind = f.kind_case();
  auto bad = [&](const char* have) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " holds ", have, " but the input is ", DTypeEnumName(dtype)));
  };
  switch (dtype) {
    case DType::kFloat: {
      float* dst = t.data<float>() + offset;
      if (kind == tensorflow::Feature::kFloatList) {
        for (float v : f.float_list().value()) *dst++ = v;
      } else if (kind == tensorflow::Feature::kInt64List) {
        for (int64_t v : f.int64_list().value()) *dst++ = static_cast<float>(v);
      } else {
        return bad("bytes");
      }
      return absl::OkStatus();
    }
    case DType::kInt64: {
      if (kind != tensorflow::Feature::kInt64List) return bad("no int64_list");
      int64_t* dst = t.data<int64_t>() + offset;
      for (int64_t v : f.int64_list().value()) *dst++ = v;
      return absl::OkStatus();
    }
    case DType::kInt32: {
      if (kind != tensorflow::Feature::kInt64List) return bad("no int64_list");
      int32_t* dst = t.data<int32_t>() + offset;
      for (int64_t v : f.int64_list().value()) *dst++ = static_cast<int32_t>(v);
      return absl::OkStatus();
    }
    case DType::kString: {
      if (kind != tensorflow::Feature::kBytesList) return bad("no bytes_list");
      std::string* dst = t.data<std::string>() + offset;
      for (const std::string& v : f.bytes_list().value()) *dst++ = v;
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": inputs of ", DTypeEnumName(dtype), " cannot come from Examples"));
  }
}

}  // namespace

absl::StatusOr<std::map<std::string, Tensor>> InputsFromExamples(const FoundSignature& found,
                                                                 const ExamplesInput& input,
                                                                 int64_t max_elements) {
  const int64_t n = static_cast<int64_t>(input.examples.size());
  if (n == 0) return absl::InvalidArgumentError("the request has no examples");
  std::map<std::string, Tensor> inputs;
  for (const auto& [alias, info] : found.signature->inputs) {
    if (info.shape.unknown_rank() || info.shape.rank() < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", alias, "' of signature '", found.name,
                       "' has no batch dimension, so it cannot come from Examples"));
    }
    TensorShape shape = info.shape;
    shape.set_dim(0, n);
    int64_t per_example = 1;
    for (int d = 1; d < shape.rank(); ++d) {
      if (shape.dim(d) < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input '", alias, "' of signature '", found.name, "' has shape ",
            info.shape.DebugString(), ": only the batch dimension may be unknown for Examples"));
      }
      per_example *= shape.dim(d);
    }
    RETURN_IF_ERROR(
        CheckElementCount(n * per_example, max_elements, absl::StrCat("input '", alias, "'")));
    Tensor t(info.dtype, shape);
    for (int64_t i = 0; i < n; ++i) {
      const std::string what = absl::StrCat("feature '", alias, "' of example ", i);
      const tensorflow::Feature* f = FindFeature(input, i, alias);
      if (f == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("example ", i, " has no feature '", alias, "' (nor has the context)"));
      }
      if (ValueCount(*f) != per_example) {
        return absl::InvalidArgumentError(absl::StrCat(what, " has ", ValueCount(*f),
                                                       " values; input '", alias, "' needs ",
                                                       per_example, " per example"));
      }
      RETURN_IF_ERROR(CopyValues(*f, info.dtype, t, i * per_example, what));
    }
    inputs.emplace(alias, std::move(t));
  }
  return inputs;
}

absl::StatusOr<Classifications> Classify(const LoadedVersion& version, const FoundSignature& found,
                                         const ExamplesInput& input, int64_t max_elements) {
  const Signature& sig = *found.signature;
  if (sig.outputs.count("scores") == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "classify signature '", found.name, "' has no 'scores' output"));
  }
  ASSIGN_OR_RETURN(auto inputs, InputsFromExamples(found, input, max_elements));
  ASSIGN_OR_RETURN(auto out, RunSignature(version, found, std::move(inputs)));
  const int64_t n = static_cast<int64_t>(input.examples.size());
  const Tensor& scores = out.at("scores");
  if (scores.dtype() != DType::kFloat || scores.rank() != 2 || scores.dim(0) != n) {
    return absl::InternalError(absl::StrCat("'scores' is ", scores.DebugString(0), " for ", n,
                                            " examples; expected float [", n, ", classes]"));
  }
  const int64_t classes = scores.dim(1);
  const Tensor* labels = out.count("classes") > 0 ? &out.at("classes") : nullptr;
  if (labels != nullptr) {
    const bool shared = labels->rank() == 1 && labels->dim(0) == classes;
    const bool per_example = labels->rank() == 2 && labels->dim(0) == n && labels->dim(1) == classes;
    if (labels->dtype() != DType::kString || !(shared || per_example)) {
      return absl::InternalError(absl::StrCat("'classes' is ", labels->DebugString(0),
                                              "; expected strings [", classes, "] or [", n, ", ",
                                              classes, "]"));
    }
  }
  Classifications result(n);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t c = 0; c < classes; ++c) {
      std::string label;
      if (labels != nullptr) {
        label = labels->data<std::string>()[labels->rank() == 1 ? c : i * classes + c];
      }
      result[i].emplace_back(std::move(label), scores.data<float>()[i * classes + c]);
    }
  }
  return result;
}

absl::StatusOr<std::vector<float>> Regress(const LoadedVersion& version,
                                           const FoundSignature& found,
                                           const ExamplesInput& input, int64_t max_elements) {
  if (found.signature->outputs.count("outputs") == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("regress signature '", found.name, "' has no 'outputs' output"));
  }
  ASSIGN_OR_RETURN(auto inputs, InputsFromExamples(found, input, max_elements));
  ASSIGN_OR_RETURN(auto out, RunSignature(version, found, std::move(inputs), {"outputs"}));
  const Tensor& values = out.at("outputs");
  const int64_t n = static_cast<int64_t>(input.examples.size());
  if (values.dtype() != DType::kFloat || values.NumElements() != n ||
      !(values.rank() == 1 || (values.rank() == 2 && values.dim(1) == 1))) {
    return absl::InternalError(absl::StrCat("'outputs' is ", values.DebugString(0), " for ", n,
                                            " examples; expected float [", n, "] or [", n,
                                            ", 1]"));
  }
  return std::vector<float>(values.data<float>(), values.data<float>() + n);
}

}  // namespace braid::serving
