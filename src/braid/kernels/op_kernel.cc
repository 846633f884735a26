#include "braid/kernels/op_kernel.h"

#include "absl/strings/str_join.h"

namespace braid {

Tensor* OpKernelContext::forward_input_or_allocate_output(int in, int out,
                                                          const TensorShape& shape) {
  Tensor& src = (*inputs_)[in];
  if (src.RefCountIsOne() && src.dtype() == node_.output_dtype(out) &&
      src.NumElements() == shape.num_elements() && src.dtype() != DType::kString) {
    outputs_[out] = src.Reshaped(shape);
    return &outputs_[out];
  }
  return allocate_output(out, shape);
}

KernelRegistry* KernelRegistry::Global() {
  static KernelRegistry* registry = new KernelRegistry;
  return registry;
}

void KernelRegistry::Register(KernelDef def, KernelFactory factory) {
  kernels_.emplace_back(std::move(def), std::move(factory));
}

const KernelFactory* KernelRegistry::Find(const Node& node, const std::string& device_type) const {
  for (const auto& [def, factory] : kernels_) {
    if (def.op != node.op() || def.device_type != device_type) continue;
    bool match = true;
    for (const auto& [attr, dtype] : def.type_constraints) {
      auto it = node.attrs().find(attr);
      if (it == node.attrs().end() || !std::holds_alternative<DType>(it->second) ||
          std::get<DType>(it->second) != dtype) {
        match = false;
        break;
      }
    }
    if (match) return &factory;
  }
  return nullptr;
}

bool KernelRegistry::Supports(const Node& node, const std::string& device_type) const {
  return Find(node, device_type) != nullptr;
}

absl::StatusOr<std::unique_ptr<OpKernel>> KernelRegistry::CreateKernel(const Node& node,
                                                                       DeviceBase* device) const {
  const KernelFactory* factory = Find(node, device->device_type());
  if (factory == nullptr) {
    std::vector<std::string> types;
    for (const auto& [name, value] : node.attrs())
      if (std::holds_alternative<DType>(value))
        types.push_back(absl::StrCat(name, "=", DTypeName(std::get<DType>(value))));
    return absl::NotFoundError(absl::StrCat("no ", device->device_type(), " kernel for node ",
                                            node.DebugName(), " with ",
                                            types.empty() ? "no type attrs" : absl::StrJoin(types, ", ")));
  }
  OpKernelConstruction ctx(node, device);
  std::unique_ptr<OpKernel> kernel = (*factory)(&ctx);
  if (!ctx.status().ok()) return ctx.status();
  return kernel;
}

}  // namespace braid
