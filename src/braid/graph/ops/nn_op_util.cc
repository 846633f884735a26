#include "braid/graph/ops/nn_op_util.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"

namespace braid::nn {
namespace {

std::string ListString(const std::vector<int64_t>& v) {
  return absl::StrCat("[", absl::StrJoin(v, ","), "]");
}

absl::StatusOr<Padding> ParsePadding(const AttrMap& attrs, bool allow_explicit) {
  ASSIGN_OR_RETURN(std::string padding, GetAttr<std::string>(attrs, "padding"));
  if (padding == "SAME") return Padding::kSame;
  if (padding == "VALID") return Padding::kValid;
  if (padding == "EXPLICIT" && allow_explicit) return Padding::kExplicit;
  return absl::InvalidArgumentError(
      absl::StrCat("padding must be ", allow_explicit ? "SAME, VALID or EXPLICIT" : "SAME or VALID",
                   ", got '", padding, "'"));
}

absl::Status RequireNhwc(const AttrMap& attrs) {
  std::string format = GetAttrOr<std::string>(attrs, "data_format", "NHWC");
  if (format != "NHWC") {
    return absl::InvalidArgumentError(
        absl::StrCat("data_format '", format, "' is not supported on CPU; use NHWC"));
  }
  return absl::OkStatus();
}

// A 4-entry NHWC list whose N and C entries must be 1 and whose spatial
// entries must be positive; returns the spatial entries.
absl::StatusOr<std::array<int64_t, 2>> SpatialPair(const AttrMap& attrs, const std::string& name,
                                                   const std::vector<int64_t>& fallback) {
  std::vector<int64_t> v = fallback;
  if (attrs.contains(name)) {
    ASSIGN_OR_RETURN(v, GetAttr<std::vector<int64_t>>(attrs, name));
  }
  if (v.size() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must have 4 entries (NHWC), got ", ListString(v)));
  }
  if (v[0] != 1 || v[3] != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be 1 in the batch and channel dimensions, got ", ListString(v)));
  }
  if (v[1] < 1 || v[2] < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be positive in the spatial dimensions, got ", ListString(v)));
  }
  return std::array<int64_t, 2>{v[1], v[2]};
}

absl::Status ParseExplicitPads(const AttrMap& attrs, Window2DAttrs* a) {
  std::vector<int64_t> pads;
  if (attrs.contains("explicit_paddings")) {
    ASSIGN_OR_RETURN(pads, GetAttr<std::vector<int64_t>>(attrs, "explicit_paddings"));
  }
  if (a->padding != Padding::kExplicit) {
    if (!pads.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("explicit_paddings ", ListString(pads),
                                                     " given but padding is not EXPLICIT"));
    }
    return absl::OkStatus();
  }
  if (pads.size() != 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("explicit_paddings must have 8 entries (before/after for N, H, W, C), got ",
                     ListString(pads)));
  }
  if (pads[0] != 0 || pads[1] != 0 || pads[6] != 0 || pads[7] != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "explicit_paddings must be 0 in the batch and channel dimensions, got ", ListString(pads)));
  }
  for (int64_t p : pads) {
    if (p < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("explicit_paddings must be non-negative, got ", ListString(pads)));
    }
  }
  a->explicit_pads = {pads[2], pads[3], pads[4], pads[5]};
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WindowDim> ComputeWindowDim(int64_t in, int64_t window, int64_t dilation,
                                           int64_t stride, Padding padding, int64_t explicit_before,
                                           int64_t explicit_after) {
  WindowDim d;
  if (in < 0 || window < 0) {
    d.out = -1;
    return d;
  }
  const int64_t k_eff = (window - 1) * dilation + 1;
  switch (padding) {
    case Padding::kValid:
      d.out = (in - k_eff + stride) / stride;
      break;
    case Padding::kSame: {
      d.out = (in + stride - 1) / stride;
      const int64_t total = std::max<int64_t>((d.out - 1) * stride + k_eff - in, 0);
      d.pad_before = total / 2;
      d.pad_after = total - d.pad_before;
      break;
    }
    case Padding::kExplicit:
      d.out = (in + explicit_before + explicit_after - k_eff + stride) / stride;
      d.pad_before = explicit_before;
      d.pad_after = explicit_after;
      break;
  }
  // Division truncates toward zero, so a window that overhangs the input by
  // less than a stride gives an empty output rather than an error, as in
  // TensorFlow.
  if (d.out < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "computed output size would be negative: input size ", in, ", window ", window,
        " (effective ", k_eff, "), stride ", stride, ", padding ", d.pad_before, "+", d.pad_after));
  }
  return d;
}

absl::StatusOr<Window2DAttrs> ParseConv2DAttrs(const AttrMap& attrs) {
  Window2DAttrs a;
  RETURN_IF_ERROR(RequireNhwc(attrs));
  ASSIGN_OR_RETURN(a.strides, SpatialPair(attrs, "strides", {}));
  ASSIGN_OR_RETURN(a.dilations, SpatialPair(attrs, "dilations", {1, 1, 1, 1}));
  ASSIGN_OR_RETURN(a.padding, ParsePadding(attrs, /*allow_explicit=*/true));
  RETURN_IF_ERROR(ParseExplicitPads(attrs, &a));
  return a;
}

absl::StatusOr<Window2DAttrs> ParsePool2DAttrs(const AttrMap& attrs) {
  Window2DAttrs a;
  RETURN_IF_ERROR(RequireNhwc(attrs));
  ASSIGN_OR_RETURN(a.window, SpatialPair(attrs, "ksize", {}));
  ASSIGN_OR_RETURN(a.strides, SpatialPair(attrs, "strides", {}));
  ASSIGN_OR_RETURN(a.padding,
                   ParsePadding(attrs, /*allow_explicit=*/attrs.contains("explicit_paddings")));
  RETURN_IF_ERROR(ParseExplicitPads(attrs, &a));
  // A window lying entirely in the padding would have nothing to pool.
  if (a.padding == Padding::kExplicit &&
      (a.explicit_pads[0] >= a.window[0] || a.explicit_pads[1] >= a.window[0] ||
       a.explicit_pads[2] >= a.window[1] || a.explicit_pads[3] >= a.window[1])) {
    return absl::InvalidArgumentError(absl::StrCat(
        "explicit_paddings must be smaller than the window ", a.window[0], "x", a.window[1],
        ", got top/bottom/left/right ", absl::StrJoin(a.explicit_pads, "/")));
  }
  return a;
}

absl::StatusOr<Window2D> ComputeWindow2D(const Window2DAttrs& a, int64_t in_h, int64_t in_w,
                                         int64_t k_h, int64_t k_w) {
  Window2D w;
  ASSIGN_OR_RETURN(w.h, ComputeWindowDim(in_h, k_h, a.dilations[0], a.strides[0], a.padding,
                                         a.explicit_pads[0], a.explicit_pads[1]));
  ASSIGN_OR_RETURN(w.w, ComputeWindowDim(in_w, k_w, a.dilations[1], a.strides[1], a.padding,
                                         a.explicit_pads[2], a.explicit_pads[3]));
  return w;
}

absl::StatusOr<FusedOps> ParseFusedOps(const AttrMap& attrs) {
  ASSIGN_OR_RETURN(std::vector<std::string> names,
                   GetAttr<std::vector<std::string>>(attrs, "fused_ops"));
  ASSIGN_OR_RETURN(int64_t num_args, GetAttr<int64_t>(attrs, "num_args"));
  FusedOps fused;
  const bool bias = !names.empty() && names[0] == "BiasAdd";
  fused.relu = names.size() == 2 && names[1] == "Relu";
  if (!bias || names.size() > 2 || (names.size() == 2 && !fused.relu)) {
    return absl::UnimplementedError(absl::StrCat("fused_ops [", absl::StrJoin(names, ", "),
                                                 "] is not supported: only [BiasAdd] and "
                                                 "[BiasAdd, Relu] are"));
  }
  if (num_args != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("fused_ops [BiasAdd...] takes num_args = 1 (the bias), got ", num_args));
  }
  return fused;
}

absl::Status CheckFusedBiasShape(InferenceContext& c, const TensorShape& output) {
  const TensorShape& bias = c.input_shape(2);
  if (bias.unknown_rank()) return absl::OkStatus();
  const int64_t channels =
      output.unknown_rank() || output.rank() == 0 ? -1 : output.dim(output.rank() - 1);
  if (bias.rank() != 1 || (channels >= 0 && bias.dim(0) >= 0 && bias.dim(0) != channels)) {
    return c.Error(absl::StrCat("bias must be a vector of ", channels,
                                " (the output's channels), got shape ", bias.DebugString()));
  }
  return absl::OkStatus();
}

Output Int32ShapeOf(const Scope& scope, const Output& x) {
  if (!x.valid()) return Output();
  const TensorShape& s = x.shape();
  if (s.IsFullyDefined()) {
    std::vector<int32_t> dims(s.dims().begin(), s.dims().end());
    return scope.ToOutput(Tensor::FromVector(dims));
  }
  Output shape = scope.AddOp("Shape", {x});
  if (shape.valid() && shape.dtype() != DType::kInt32) {
    shape = scope.AddOp("Cast", {shape}, {{"DstT", DType::kInt32}});
  }
  return shape;
}

}  // namespace braid::nn
