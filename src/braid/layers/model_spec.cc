#include "braid/layers/model_spec.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/env.h"
#include "braid/base/status_macros.h"

namespace braid::layers {
namespace {

constexpr char kMlpSpec[] = R"({
  "name": "mlp",
  "input_shape": [28, 28, 1],
  "layers": [
    {"type": "flatten"},
    {"type": "dense", "units": 256, "activation": "relu"},
    {"type": "dense", "units": 128, "activation": "relu"},
    {"type": "dense", "units": 10}
  ],
  "loss": "sparse_categorical_crossentropy",
  "optimizer": {"type": "adam", "learning_rate": 0.002, "decay": "cosine"}
})";

constexpr char kCnnSpec[] = R"({
  "name": "cnn",
  "input_shape": [28, 28, 1],
  "layers": [
    {"type": "conv2d", "filters": 32, "kernel_size": [5, 5], "padding": "same", "activation": "relu"},
    {"type": "max_pool2d", "pool_size": [2, 2], "padding": "same"},
    {"type": "conv2d", "filters": 64, "kernel_size": [5, 5], "padding": "same", "activation": "relu"},
    {"type": "max_pool2d", "pool_size": [2, 2], "padding": "same"},
    {"type": "flatten"},
    {"type": "dense", "units": 1024, "activation": "relu"},
    {"type": "dense", "units": 10}
  ],
  "loss": "sparse_categorical_crossentropy",
  "optimizer": {"type": "adam", "learning_rate": 0.002, "decay": "cosine"}
})";

// Typed access to one config object, with errors that say where.
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& j, std::string where) : j_(j), where_(std::move(where)) {}

  absl::Status CheckKeys(const std::set<std::string>& allowed) const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (!allowed.count(it.key())) {
        return absl::InvalidArgumentError(absl::StrCat(where_, ": unknown key '", it.key(),
                                                       "'; allowed: ",
                                                       absl::StrJoin(allowed, ", ")));
      }
    }
    return absl::OkStatus();
  }

  template <typename T>
  absl::StatusOr<T> Get(const std::string& key, std::optional<T> fallback = std::nullopt) const {
    if (!j_.contains(key)) {
      if (fallback) return *fallback;
      return absl::InvalidArgumentError(absl::StrCat(where_, ": '", key, "' is required"));
    }
    const nlohmann::json& v = j_.at(key);
    bool ok;
    if constexpr (std::is_same_v<T, bool>) ok = v.is_boolean();
    else if constexpr (std::is_integral_v<T>) ok = v.is_number_integer();
    else if constexpr (std::is_floating_point_v<T>) ok = v.is_number();
    else if constexpr (std::is_same_v<T, std::string>) ok = v.is_string();
    else ok = v.is_array() && std::all_of(v.begin(), v.end(), [](const auto& e) {
      return e.is_number_integer();
    });
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(where_, ": '", key, "' has the wrong type (",
                                                     v.dump(), ")"));
    }
    return v.get<T>();
  }

  template <typename T>
  absl::StatusOr<T> Positive(const std::string& key, std::optional<T> fallback = std::nullopt) const {
    ASSIGN_OR_RETURN(T v, Get<T>(key, fallback));
    if (v <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(where_, ": '", key, "' must be > 0, got ", v));
    }
    return v;
  }

 private:
  const nlohmann::json& j_;
  std::string where_;
};

using Ints = std::vector<int64_t>;

}  // namespace

absl::StatusOr<std::unique_ptr<Layer>> LayerFromConfig(const nlohmann::json& j, int index) {
  std::string where = absl::StrCat("layers[", index, "]");
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": expected an object with a \"type\""));
  }
  const std::string type = j["type"];
  where = absl::StrCat(where, " (", type, ")");
  ConfigReader r(j, where);
  ASSIGN_OR_RETURN(std::string name, r.Get<std::string>("name", std::string()));
  if (type == "dense") {
    RETURN_IF_ERROR(r.CheckKeys({"type", "name", "units", "activation", "use_bias"}));
    ASSIGN_OR_RETURN(int64_t units, r.Positive<int64_t>("units"));
    ASSIGN_OR_RETURN(std::string act, r.Get<std::string>("activation", std::string("linear")));
    RETURN_IF_ERROR(CheckActivation(act));
    ASSIGN_OR_RETURN(bool bias, r.Get<bool>("use_bias", true));
    return Dense(units, act, bias, name);
  }
  if (type == "conv2d") {
    RETURN_IF_ERROR(r.CheckKeys({"type", "name", "filters", "kernel_size", "strides", "padding",
                                 "activation", "use_bias"}));
    ASSIGN_OR_RETURN(int64_t filters, r.Positive<int64_t>("filters"));
    ASSIGN_OR_RETURN(Ints kernel, r.Get<Ints>("kernel_size"));
    ASSIGN_OR_RETURN(Ints strides, r.Get<Ints>("strides", Ints{1, 1}));
    ASSIGN_OR_RETURN(std::string padding, r.Get<std::string>("padding", std::string("valid")));
    ASSIGN_OR_RETURN(std::string act, r.Get<std::string>("activation", std::string("linear")));
    RETURN_IF_ERROR(CheckActivation(act));
    ASSIGN_OR_RETURN(bool bias, r.Get<bool>("use_bias", true));
    return Conv2D(filters, kernel, strides, padding, act, bias, name);
  }
  if (type == "max_pool2d" || type == "avg_pool2d") {
    RETURN_IF_ERROR(r.CheckKeys({"type", "name", "pool_size", "strides", "padding"}));
    ASSIGN_OR_RETURN(Ints pool, r.Get<Ints>("pool_size", Ints{2, 2}));
    ASSIGN_OR_RETURN(Ints strides, r.Get<Ints>("strides", Ints{}));
    ASSIGN_OR_RETURN(std::string padding, r.Get<std::string>("padding", std::string("valid")));
    return type == "max_pool2d" ? MaxPool2D(pool, strides, padding, name)
                                : AvgPool2D(pool, strides, padding, name);
  }
  if (type == "flatten") {
    RETURN_IF_ERROR(r.CheckKeys({"type", "name"}));
    return Flatten(name);
  }
  if (type == "dropout") {
    RETURN_IF_ERROR(r.CheckKeys({"type", "name", "rate", "seed"}));
    ASSIGN_OR_RETURN(double rate, r.Get<double>("rate"));
    if (rate < 0 || rate >= 1) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": 'rate' must be in [0, 1), got ", rate));
    }
    ASSIGN_OR_RETURN(int64_t seed, r.Get<int64_t>("seed", int64_t{0}));
    return Dropout(static_cast<float>(rate), seed, name);
  }
  if (type == "activation") {
    RETURN_IF_ERROR(r.CheckKeys({"type", "name", "activation"}));
    ASSIGN_OR_RETURN(std::string act, r.Get<std::string>("activation"));
    RETURN_IF_ERROR(CheckActivation(act));
    return Activation(act, name);
  }
  if (type == "batch_normalization") {
    RETURN_IF_ERROR(r.CheckKeys({"type", "name", "momentum", "epsilon"}));
    ASSIGN_OR_RETURN(double momentum, r.Get<double>("momentum", 0.99));
    ASSIGN_OR_RETURN(double epsilon, r.Positive<double>("epsilon", 1e-3));
    return BatchNormalization(static_cast<float>(momentum), static_cast<float>(epsilon), name);
  }
  if (type == "embedding") {
    RETURN_IF_ERROR(r.CheckKeys({"type", "name", "input_dim", "output_dim"}));
    ASSIGN_OR_RETURN(int64_t in, r.Positive<int64_t>("input_dim"));
    ASSIGN_OR_RETURN(int64_t out, r.Positive<int64_t>("output_dim"));
    return Embedding(in, out, name);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      where, ": unknown layer type; expected dense, conv2d, max_pool2d, avg_pool2d, flatten, "
             "dropout, activation, batch_normalization or embedding"));
}

absl::StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const nlohmann::json& j,
                                                         int64_t total_steps) {
  const std::string where = "optimizer";
  if (!j.is_object()) return absl::InvalidArgumentError("optimizer: expected an object");
  ConfigReader r(j, where);
  ASSIGN_OR_RETURN(std::string type, r.Get<std::string>("type", std::string("adam")));
  ASSIGN_OR_RETURN(double lr, r.Positive<double>("learning_rate", 0.001));
  ASSIGN_OR_RETURN(double clip, r.Get<double>("clipnorm", 0.0));
  ASSIGN_OR_RETURN(std::string decay, r.Get<std::string>("decay", std::string("none")));
  LearningRate rate = ConstantLearningRate(static_cast<float>(lr));
  if (decay == "cosine") {
    // Without a known run length (inspecting a spec) the schedule spans one step.
    rate = CosineDecay(static_cast<float>(lr), std::max<int64_t>(total_steps, 1));
  } else if (decay != "none") {
    return absl::InvalidArgumentError(
        absl::StrCat("optimizer: unknown decay '", decay, "'; expected none or cosine"));
  }
  std::unique_ptr<Optimizer> opt;
  if (type == "sgd") {
    RETURN_IF_ERROR(r.CheckKeys({"type", "learning_rate", "clipnorm", "decay"}));
    opt = std::make_unique<GradientDescentOptimizer>(rate);
  } else if (type == "momentum") {
    RETURN_IF_ERROR(r.CheckKeys({"type", "learning_rate", "clipnorm", "momentum", "nesterov", "decay"}));
    ASSIGN_OR_RETURN(double m, r.Get<double>("momentum", 0.9));
    ASSIGN_OR_RETURN(bool nesterov, r.Get<bool>("nesterov", false));
    opt = std::make_unique<MomentumOptimizer>(rate, static_cast<float>(m), nesterov);
  } else if (type == "adam") {
    RETURN_IF_ERROR(
        r.CheckKeys({"type", "learning_rate", "clipnorm", "decay", "beta_1", "beta_2", "epsilon"}));
    ASSIGN_OR_RETURN(double b1, r.Get<double>("beta_1", 0.9));
    ASSIGN_OR_RETURN(double b2, r.Get<double>("beta_2", 0.999));
    ASSIGN_OR_RETURN(double eps, r.Positive<double>("epsilon", 1e-7));
    opt = std::make_unique<AdamOptimizer>(rate, static_cast<float>(b1), static_cast<float>(b2),
                                          static_cast<float>(eps));
  } else if (type == "adagrad") {
    RETURN_IF_ERROR(r.CheckKeys(
        {"type", "learning_rate", "clipnorm", "decay", "initial_accumulator_value", "epsilon"}));
    ASSIGN_OR_RETURN(double init, r.Get<double>("initial_accumulator_value", 0.1));
    ASSIGN_OR_RETURN(double eps, r.Positive<double>("epsilon", 1e-7));
    opt = std::make_unique<AdagradOptimizer>(rate, static_cast<float>(init),
                                             static_cast<float>(eps));
  } else if (type == "rmsprop") {
    RETURN_IF_ERROR(
        r.CheckKeys({"type", "learning_rate", "clipnorm", "decay", "rho", "momentum", "epsilon"}));
    ASSIGN_OR_RETURN(double rho, r.Get<double>("rho", 0.9));
    ASSIGN_OR_RETURN(double m, r.Get<double>("momentum", 0.0));
    ASSIGN_OR_RETURN(double eps, r.Positive<double>("epsilon", 1e-7));
    opt = std::make_unique<RMSPropOptimizer>(rate, static_cast<float>(rho), static_cast<float>(m),
                                             static_cast<float>(eps));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "optimizer: unknown type '", type, "'; expected sgd, momentum, adam, adagrad or rmsprop"));
  }
  if (clip < 0) return absl::InvalidArgumentError("optimizer: 'clipnorm' must be >= 0");
  opt->set_clip_norm(static_cast<float>(clip));
  return opt;
}

nlohmann::json ModelSpec::ToJson() const {
  return {{"name", name},
          {"input_shape", input_shape.dims()},
          {"layers", layers},
          {"loss", loss},
          {"optimizer", optimizer}};
}

absl::StatusOr<ModelSpec> ParseModelSpec(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("model spec '", source, "' is not valid JSON: ", e.what()));
  }
  auto fail = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat("model spec '", source, "': ", s.message()));
  };
  if (!j.is_object()) return fail(absl::InvalidArgumentError("expected a JSON object"));
  ConfigReader r(j, "spec");
  if (absl::Status s = r.CheckKeys({"name", "input_shape", "layers", "loss", "optimizer"});
      !s.ok()) {
    return fail(s);
  }
  ModelSpec spec;
  auto name = r.Get<std::string>("name", std::string("model"));
  if (!name.ok()) return fail(name.status());
  spec.name = *name;
  auto shape = r.Get<Ints>("input_shape");
  if (!shape.ok()) return fail(shape.status());
  for (int64_t d : *shape) {
    if (d <= 0) return fail(absl::InvalidArgumentError("input_shape entries must be > 0"));
  }
  spec.input_shape = TensorShape(*shape);
  if (!j.contains("layers") || !j["layers"].is_array() || j["layers"].empty()) {
    return fail(absl::InvalidArgumentError("'layers' must be a non-empty array"));
  }
  spec.layers = j["layers"];
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    absl::StatusOr<std::unique_ptr<Layer>> layer = LayerFromConfig(spec.layers[i], i);
    if (!layer.ok()) return fail(layer.status());
  }
  auto loss = r.Get<std::string>("loss", std::string("sparse_categorical_crossentropy"));
  if (!loss.ok()) return fail(loss.status());
  spec.loss = *loss;
  spec.optimizer = j.value("optimizer", nlohmann::json{{"type", "adam"}});
  if (absl::StatusOr<std::unique_ptr<Optimizer>> opt = MakeOptimizer(spec.optimizer, 1);
      !opt.ok()) {
    return fail(opt.status());
  }
  return spec;
}

absl::StatusOr<std::string> PresetSpecText(const std::string& preset) {
  if (preset == "mlp") return std::string(kMlpSpec);
  if (preset == "cnn") return std::string(kCnnSpec);
  return absl::NotFoundError(absl::StrCat("no preset model '", preset, "'; presets: mlp, cnn"));
}

absl::StatusOr<ModelSpec> LoadModelSpec(const std::string& preset_or_path) {
  if (absl::StatusOr<std::string> text = PresetSpecText(preset_or_path); text.ok()) {
    return ParseModelSpec(*text, preset_or_path);
  }
  absl::StatusOr<std::string> text = Env::Default()->ReadFile(preset_or_path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("--model '", preset_or_path,
                                     "' is neither a preset (mlp, cnn) nor a readable file: ",
                                     text.status().message()));
  }
  return ParseModelSpec(*text, preset_or_path);
}

absl::StatusOr<std::unique_ptr<Sequential>> BuildModel(const ModelSpec& spec) {
  auto model = std::make_unique<Sequential>(spec.name);
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<Layer> layer, LayerFromConfig(spec.layers[i], i));
    model->Add(std::move(layer));
  }
  return model;
}

}  // namespace braid::layers
