// Signatures: what a model exports for serving. Each names its input and
// output tensors (alias -> tensor name, dtype, partial shape) and a method, as
// TensorFlow's SignatureDef does. They travel in an export's signatures.json
// (see docs/serving.md) and are shown by the REST metadata call in TF Serving's
// SignatureDefMap JSON.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "braid/tensor/dtype.h"
#include "braid/tensor/tensor_shape.h"
#include "nlohmann/json.hpp"

namespace braid::serving {

inline constexpr char kPredictMethodName[] = "tensorflow/serving/predict";
inline constexpr char kDefaultServingSignature[] = "serving_default";

struct TensorInfo {
  std::string name;  // the graph tensor, "node:index"
  DType dtype = DType::kInvalid;
  TensorShape shape = TensorShape::UnknownRank();  // -1: a dimension of any size
};

struct Signature {
  std::map<std::string, TensorInfo> inputs;
  std::map<std::string, TensorInfo> outputs;
  std::string method_name = kPredictMethodName;
};

using SignatureMap = std::map<std::string, Signature>;

// "dense/BiasAdd:0" -> {"dense/BiasAdd", 0}; a name without ":" is output 0.
absl::StatusOr<std::pair<std::string, int>> SplitTensorName(const std::string& name);

// TensorFlow's enum name of a dtype: "DT_FLOAT", "DT_INT64", ...
std::string DTypeEnumName(DType dtype);

// The signatures.json form: {"serving_default": {"inputs": {"x": {"name":
// "inputs:0", "dtype": "DT_FLOAT", "shape": [-1, 784]}}, "outputs": {...},
// "method_name": "..."}}; "shape": null is an unknown rank.
nlohmann::json SignaturesToJson(const SignatureMap& signatures);
// Rejects what SignaturesToJson would not write, naming the offending field.
absl::StatusOr<SignatureMap> SignaturesFromJson(const nlohmann::json& json);

// TF Serving's JSON of a SignatureDefMap ({"signature_def": {...}}), as its
// REST metadata call returns it.
nlohmann::ordered_json SignatureDefMapJson(const SignatureMap& signatures);

}  // namespace braid::serving
