#include "braid/cli/export_model.h"

#include "braid/graph/ops/core_ops.h"
#include "braid/graph/ops/nn_ops.h"
#include "braid/serving/inference.h"
#include "braid/serving/export.h"

namespace braid::cli {

absl::Status ExportSequential(layers::Sequential* model, const std::string& base_dir,
                              int64_t version) {
  if (!model->inference_output().valid() || model->session() == nullptr) {
    return absl::FailedPreconditionError("export needs a compiled model");
  }
  Scope& root = model->scope();
  serving::ExportSpec spec;
  spec.scope = root;
  spec.session = model->session();
  serving::Signature main;
  main.inputs["x"] = serving::TensorInfoOf(model->inference_input());
  const Output out = model->inference_output();
  if (model->classification()) {
    const bool ends_in_softmax =
        model->layers().back()->Config().value("activation", std::string()) == "softmax";
    Output probabilities = out;
    if (!ends_in_softmax) {
      Node* existing = root.graph()->FindNode("export/probabilities");
      probabilities =
          existing != nullptr
              ? existing->output(0)
              : ops::Softmax(root.NewSubScope("export").WithOpName("probabilities"), out);
      if (!root.ok()) return root.status();
      serving::Signature logits;
      logits.inputs = main.inputs;
      logits.outputs["logits"] = serving::TensorInfoOf(out);
      spec.signatures["logits"] = logits;
    }
    main.outputs["probabilities"] = serving::TensorInfoOf(probabilities);
    // The Classify API's signature: the same input as a tf.Example feature
    // "x", the probabilities as scores, the class indices as labels.
    const int64_t num_classes = probabilities.shape().rank() == 2 ? probabilities.shape().dim(1) : -1;
    if (num_classes > 0) {
      Node* existing = root.graph()->FindNode("export/class_labels");
      Output labels = existing != nullptr ? existing->output(0) : Output();
      if (existing == nullptr) {
        std::vector<std::string> names;
        for (int64_t c = 0; c < num_classes; ++c) names.push_back(std::to_string(c));
        labels = ops::Const(root.NewSubScope("export").WithOpName("class_labels"),
                            Tensor::FromVector<std::string>(names));
        if (!root.ok()) return root.status();
      }
      serving::Signature classify;
      classify.method_name = serving::kClassifyMethodName;
      classify.inputs = main.inputs;
      classify.outputs["scores"] = main.outputs["probabilities"];
      classify.outputs["classes"] = serving::TensorInfoOf(labels);
      spec.signatures["classification"] = classify;
    }
  } else {
    main.outputs["outputs"] = serving::TensorInfoOf(out);
    serving::Signature regress = main;
    regress.method_name = serving::kRegressMethodName;
    spec.signatures["regression"] = regress;
  }
  spec.signatures[serving::kDefaultServingSignature] = main;
  return serving::ExportModel(spec, base_dir, version);
}

}  // namespace braid::cli
