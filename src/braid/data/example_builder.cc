#include "braid/data/example_builder.h"

#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"

namespace braid::data {
namespace {

// Flat elements [begin, begin + count) of `values` into `feature`.
absl::Status SliceToFeature(const Tensor& values, int64_t begin, int64_t count,
                            tensorflow::Feature* feature) {
  feature->Clear();
  bool handled = false;
  auto to_floats = [&]<typename T>() {
    auto* list = feature->mutable_float_list()->mutable_value();
    list->Reserve(static_cast<int>(count));
    const T* p = values.data<T>() + begin;
    for (int64_t i = 0; i < count; ++i) list->AddAlreadyReserved(static_cast<float>(p[i]));
    handled = true;
  };
  auto to_int64s = [&]<typename T>() {
    auto* list = feature->mutable_int64_list()->mutable_value();
    list->Reserve(static_cast<int>(count));
    const T* p = values.data<T>() + begin;
    for (int64_t i = 0; i < count; ++i) list->AddAlreadyReserved(static_cast<int64_t>(p[i]));
    handled = true;
  };
  DispatchDType<float, double, BFloat16>(values.dtype(), to_floats);
  DispatchDType<int32_t, int64_t, uint8_t, bool>(values.dtype(), to_int64s);
  if (values.dtype() == DType::kString) {
    auto* list = feature->mutable_bytes_list()->mutable_value();
    const std::string* p = values.data<std::string>() + begin;
    for (int64_t i = 0; i < count; ++i) list->Add(std::string(p[i]));
    handled = true;
  }
  if (!handled) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a ", DTypeName(values.dtype()),
        " tensor cannot become an Example feature; features hold floats, integers, bools or "
        "strings"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status TensorToFeature(const Tensor& values, tensorflow::Feature* feature) {
  return SliceToFeature(values, 0, values.NumElements(), feature);
}

tensorflow::Feature& ExampleBuilder::At(const std::string& name) {
  tensorflow::Feature& f = (*example_.mutable_features()->mutable_feature())[name];
  f.Clear();
  return f;
}

ExampleBuilder& ExampleBuilder::SetInt64s(const std::string& name,
                                          absl::Span<const int64_t> values) {
  At(name).mutable_int64_list()->mutable_value()->Add(values.begin(), values.end());
  return *this;
}

ExampleBuilder& ExampleBuilder::SetFloats(const std::string& name, absl::Span<const float> values) {
  At(name).mutable_float_list()->mutable_value()->Add(values.begin(), values.end());
  return *this;
}

ExampleBuilder& ExampleBuilder::SetBytes(const std::string& name,
                                         absl::Span<const std::string> values) {
  At(name).mutable_bytes_list()->mutable_value()->Add(values.begin(), values.end());
  return *this;
}

absl::Status ExampleBuilder::SetTensor(const std::string& name, const Tensor& values) {
  tensorflow::Feature feature;
  RETURN_IF_ERROR(TensorToFeature(values, &feature));
  At(name) = std::move(feature);
  return absl::OkStatus();
}

absl::StatusOr<std::string> SerializeExample(const std::map<std::string, Tensor>& features) {
  ExampleBuilder builder;
  for (const auto& [name, values] : features) {
    absl::Status s = builder.SetTensor(name, values);
    if (!s.ok())
      return absl::InvalidArgumentError(absl::StrCat("feature '", name, "': ", s.message()));
  }
  return builder.Serialize();
}

absl::Status SequenceExampleBuilder::SetContext(const std::string& name, const Tensor& values) {
  return TensorToFeature(values, &(*example_.mutable_context()->mutable_feature())[name]);
}

absl::Status SequenceExampleBuilder::SetFeatureList(const std::string& name, const Tensor& steps) {
  if (steps.rank() < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "feature list '", name, "': steps must have a leading step dimension, not shape ",
        steps.shape().DebugString()));
  }
  tensorflow::FeatureList list;
  const int64_t per_step = steps.dim(0) == 0 ? 0 : steps.NumElements() / steps.dim(0);
  for (int64_t t = 0; t < steps.dim(0); ++t) {
    RETURN_IF_ERROR(SliceToFeature(steps, t * per_step, per_step, list.add_feature()));
  }
  (*example_.mutable_feature_lists()->mutable_feature_list())[name] = std::move(list);
  return absl::OkStatus();
}

absl::Status SequenceExampleBuilder::SetFeatureList(const std::string& name,
                                                    const std::vector<Tensor>& steps) {
  tensorflow::FeatureList list;
  for (const Tensor& step : steps) RETURN_IF_ERROR(TensorToFeature(step, list.add_feature()));
  (*example_.mutable_feature_lists()->mutable_feature_list())[name] = std::move(list);
  return absl::OkStatus();
}

}  // namespace braid::data
