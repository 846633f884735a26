#include "braid/layers/sequential.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "braid/base/status_macros.h"
#include "braid/graph/ops/array_ops.h"
#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/math_ops.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/graph/ops/state_ops.h"

namespace braid::layers {
namespace {

// Integer labels arrive as int64 from TFRecord and int32 from IDX; the graph
// takes int32.
absl::StatusOr<Tensor> AsInt32Labels(const Tensor& t) {
  if (t.dtype() == DType::kInt32) return t;
  if (t.dtype() != DType::kInt64) {
    return absl::InvalidArgumentError(
        absl::StrCat("labels must be int32 or int64, got ", DTypeName(t.dtype())));
  }
  Tensor out(DType::kInt32, t.shape());
  for (int64_t i = 0; i < t.NumElements(); ++i)
    out.data<int32_t>()[i] = static_cast<int32_t>(t.data<int64_t>()[i]);
  return out;
}

}  // namespace

void Sequential::Add(std::unique_ptr<Layer> layer) {
  std::string base = layer->name();
  int count = 0;
  for (const auto& l : layers_) {
    const std::string& n = l->name();
    if (n == base || (n.rfind(base + "_", 0) == 0 &&
                      n.find_first_not_of("0123456789", base.size() + 1) == std::string::npos)) {
      ++count;
    }
  }
  // Layer names become scope names, so they must be unique in the model.
  if (count > 0) layer->set_name(absl::StrCat(base, "_", count));
  layers_.push_back(std::move(layer));
}

absl::StatusOr<Output> Sequential::Stack(const Scope& scope, Output x, bool training) {
  output_shapes_.clear();
  for (const auto& layer : layers_) {
    ASSIGN_OR_RETURN(x, layer->Call(scope, x, training));
    output_shapes_.push_back(x.shape().DebugString());
  }
  return x;
}

absl::Status Sequential::Compile(const TensorShape& input_shape,
                                 std::unique_ptr<Optimizer> optimizer,
                                 const CompileOptions& options) {
  if (layers_.empty()) return absl::InvalidArgumentError("the model has no layers");
  if (optimizer == nullptr) return absl::InvalidArgumentError("Compile needs an optimizer");
  if (session_ != nullptr) return absl::FailedPreconditionError("the model is already compiled");
  optimizer_ = std::move(optimizer);
  const Scope& root = root_;
  std::vector<int64_t> dims = {-1};
  dims.insert(dims.end(), input_shape.dims().begin(), input_shape.dims().end());
  x_ = ops::Placeholder(root.WithOpName("inputs"), DType::kFloat, TensorShape(dims));

  if (options.loss == "sparse_categorical_crossentropy") {
    classification_ = true;
    y_ = ops::Placeholder(root.WithOpName("labels"), DType::kInt32, TensorShape{-1});
  } else if (options.loss == "mean_squared_error" || options.loss == "mse") {
    classification_ = false;
    y_ = ops::Placeholder(root.WithOpName("targets"), DType::kFloat);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown loss '", options.loss,
                     "'; expected sparse_categorical_crossentropy or mean_squared_error"));
  }
  const bool ends_in_softmax =
      layers_.back()->Config().value("activation", std::string()) == "softmax";

  // The loss and the number of correct predictions of one graph.
  auto head = [&](const Scope& s, Output out, Output* loss, Output* correct) {
    if (classification_) {
      // Probabilities p give logits log(p): softmax(log p) = p.
      Output logits = ends_in_softmax ? ops::Log(s, ops::Maximum(s, out, 1e-7f)) : out;
      *loss = ops::Mean(s.WithOpName("loss"),
                        ops::SparseSoftmaxCrossEntropyWithLogits(s, logits, y_).loss, 0);
      Output hit = ops::Equal(s, ops::ArgMax(s, out, 1, DType::kInt32), y_);
      *correct = ops::Sum(s.WithOpName("correct"), ops::Cast(s, hit, DType::kFloat), 0);
    } else {
      Output err = ops::Reshape(s, ops::Square(s, ops::Sub(s, out, y_)), {-1});
      *loss = ops::Mean(s.WithOpName("loss"), err, 0);
    }
  };

  ASSIGN_OR_RETURN(Output train_out, Stack(root, x_, /*training=*/true));
  head(root.NewSubScope("train"), train_out, &train_loss_, &train_correct_);
  if (classification_) {
    Scope s = root.NewSubScope("train");
    train_accuracy_ = ops::Div(s.WithOpName("accuracy"), train_correct_,
                               ops::Cast(s, ops::Size(s, y_), DType::kFloat));
  }
  Scope eval = root.NewSubScope("eval");
  ASSIGN_OR_RETURN(eval_output_, Stack(eval, x_, /*training=*/false));
  head(eval, eval_output_, &eval_loss_, &eval_correct_);
  RETURN_IF_ERROR(root.status());

  ASSIGN_OR_RETURN(Node * minimize, options.minimize
                                        ? options.minimize(root, optimizer_.get(), train_loss_)
                                        : optimizer_->Minimize(root, train_loss_));
  std::vector<Node*> step_ops = {minimize};
  for (const auto& layer : layers_)
    for (Node* u : layer->update_ops()) step_ops.push_back(u);
  train_op_ = ops::Group(root.WithOpName("train_step"), step_ops);
  global_step_ = GetOrCreateGlobalStep(root);
  init_op_ = ops::GlobalVariablesInitializer(root);
  RETURN_IF_ERROR(root.status());

  if (options.make_session) {
    ASSIGN_OR_RETURN(std::unique_ptr<Session> session, options.make_session(root.graph_ptr()));
    session_ = std::make_unique<ClientSession>(root, std::move(session));
  } else {
    session_ = std::make_unique<ClientSession>(root, options.session);
  }
  switch (options.init) {
    case CompileOptions::Init::kRun:
      return InitializeVariables();
    case CompileOptions::Init::kCaller:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status Sequential::WaitUntilVariablesInitialized(double seconds) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (true) {
    ASSIGN_OR_RETURN(bool ready, VariablesInitialized());
    if (ready) return absl::OkStatus();
    if (std::chrono::steady_clock::now() > give_up) {
      return absl::DeadlineExceededError(
          absl::StrCat("the model's variables were still uninitialized after ", seconds,
                       " s: is the chief running?"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

absl::Status Sequential::InitializeVariables() {
  if (session_ == nullptr) return absl::FailedPreconditionError("the model is not compiled");
  std::vector<Tensor> out;
  return session_->Run({}, {}, {init_op_}, &out);
}

absl::StatusOr<bool> Sequential::VariablesInitialized() {
  if (ready_checks_.empty()) {
    Scope s = root_.NewSubScope("ready");
    for (Node* v : AllVariableHandles())
      ready_checks_.push_back(ops::VarIsInitializedOp(s, Output(v, 0)));
    RETURN_IF_ERROR(root_.status());
  }
  std::vector<Tensor> out;
  RETURN_IF_ERROR(session_->Run(ready_checks_, &out));
  for (const Tensor& t : out)
    if (!t.data<bool>()[0]) return false;
  return true;
}

absl::Status Sequential::RunBatch(const data::Element& batch, const std::vector<Output>& fetches,
                                  const std::vector<Node*>& targets, std::vector<Tensor>* out) {
  if (session_ == nullptr) return absl::FailedPreconditionError("the model is not compiled");
  if (batch.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("a batch must be (inputs, labels); got ", batch.size(), " components"));
  }
  Tensor labels = batch[1];
  if (classification_) {
    ASSIGN_OR_RETURN(labels, AsInt32Labels(batch[1]));
  }
  return session_->Run({{x_, batch[0]}, {y_, labels}}, fetches, targets, out);
}

absl::Status Sequential::Fit(data::DatasetPtr train, const FitOptions& options) {
  if (train == nullptr) return absl::InvalidArgumentError("Fit needs a training dataset");
  for (int epoch = options.initial_epoch + 1; epoch <= options.epochs; ++epoch) {
    ASSIGN_OR_RETURN(std::unique_ptr<data::Iterator> it, train->MakeIterator());
    StepLog log;
    log.epoch = epoch;
    double loss_sum = 0, correct = 0;
    auto start = std::chrono::steady_clock::now();
    int64_t skip = epoch == options.initial_epoch + 1 ? options.initial_step : 0;
    for (;;) {
      data::Element batch;
      bool end = false;
      RETURN_IF_ERROR(it->GetNext(&batch, &end));
      if (end) break;
      if (skip > 0) {
        --skip;
        ++log.step;
        continue;
      }
      std::vector<Tensor> out;
      std::vector<Output> fetches = {train_loss_, global_step_.value};
      if (classification_) fetches.push_back(train_correct_);
      RETURN_IF_ERROR(RunBatch(batch, fetches, {train_op_}, &out));
      const int64_t n = batch[0].dim(0);
      loss_sum += out[0].data<float>()[0] * static_cast<double>(n);
      if (classification_) correct += out[2].data<float>()[0];
      ++log.step;
      log.examples += n;
      // The step counter was read before this step's increment.
      log.global_step = out[1].data<int64_t>()[0] + 1;
      log.loss = loss_sum / static_cast<double>(log.examples);
      log.accuracy = correct / static_cast<double>(log.examples);
      log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (options.on_step) RETURN_IF_ERROR(options.on_step(log));
      if (options.should_stop && options.should_stop()) return absl::OkStatus();
    }
    if (options.on_epoch) {
      Metrics validation;
      if (options.validation != nullptr) {
        ASSIGN_OR_RETURN(validation, Evaluate(options.validation));
      }
      RETURN_IF_ERROR(options.on_epoch(log, options.validation ? &validation : nullptr));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Metrics> Sequential::Evaluate(data::DatasetPtr batches) {
  if (batches == nullptr) return absl::InvalidArgumentError("Evaluate needs a dataset");
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<data::Iterator> it, batches->MakeIterator());
  Metrics m;
  double loss_sum = 0, correct = 0;
  for (;;) {
    data::Element batch;
    bool end = false;
    RETURN_IF_ERROR(it->GetNext(&batch, &end));
    if (end) break;
    std::vector<Tensor> out;
    std::vector<Output> fetches = {eval_loss_};
    if (classification_) fetches.push_back(eval_correct_);
    RETURN_IF_ERROR(RunBatch(batch, fetches, {}, &out));
    const int64_t n = batch[0].dim(0);
    loss_sum += out[0].data<float>()[0] * static_cast<double>(n);
    if (classification_) correct += out[1].data<float>()[0];
    m.examples += n;
  }
  if (m.examples > 0) {
    m.loss = loss_sum / static_cast<double>(m.examples);
    m.accuracy = correct / static_cast<double>(m.examples);
  }
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return m;
}

absl::StatusOr<Tensor> Sequential::Predict(const Tensor& x) {
  if (session_ == nullptr) return absl::FailedPreconditionError("the model is not compiled");
  std::vector<Tensor> out;
  RETURN_IF_ERROR(session_->Run({{x_, x}}, {eval_output_}, &out));
  return out[0];
}

absl::StatusOr<int64_t> Sequential::GlobalStep() {
  if (session_ == nullptr) return absl::FailedPreconditionError("the model is not compiled");
  std::vector<Tensor> out;
  RETURN_IF_ERROR(session_->Run({global_step_.value}, &out));
  return out[0].data<int64_t>()[0];
}

std::vector<Node*> Sequential::AllVariableHandles() const {
  return root_.graph()->collection("variables");
}

std::string Sequential::Summary() const {
  std::string out =
      absl::StrFormat("%-28s %-22s %-18s %12s\n", "layer", "type", "output shape", "parameters");
  int64_t total = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = *layers_[i];
    absl::StrAppendFormat(&out, "%-28s %-22s %-18s %12d\n", l.name(),
                          l.Config().value("type", std::string("?")),
                          i < output_shapes_.size() ? output_shapes_[i] : "?", l.num_parameters());
    total += l.num_parameters();
  }
  absl::StrAppendFormat(&out, "total parameters: %d\n", total);
  return out;
}

}  // namespace braid::layers
