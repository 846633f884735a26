#include "braid/cli/export_model.h"

#include "braid/graph/ops/nn_ops.h"
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
  } else {
    main.outputs["outputs"] = serving::TensorInfoOf(out);
  }
  spec.signatures[serving::kDefaultServingSignature] = main;
  return serving::ExportModel(spec, base_dir, version);
}

}  // namespace braid::cli
