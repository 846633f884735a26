// Summary ops, with TensorFlow 1.x's names and signatures: each outputs a
// serialized tensorflow.Summary (a string scalar) that a SummaryWriter
// (summary/summary_writer.h) writes into an event file for TensorBoard.
//
//   Output loss_summary = ops::ScalarSummary(root, "loss", loss);
//   Output weights = ops::HistogramSummary(root, "dense/kernel", kernel);
//   Output all = ops::MergeSummary(root, {loss_summary, weights});
//   ... session.Run({}, {all}, &out); writer->WriteSerializedSummary(step, ...)
//
// Errors at run time (InvalidArgument, naming the node): tags and values of
// different shapes, non-finite histogram values, images not shaped
// [batch, height, width, 1|3|4], duplicate tags in a merge.
#pragma once

#include <string>
#include <vector>

#include "braid/graph/scope.h"

namespace braid::ops {

// One simple_value per element of `values` (float, double, int32, int64),
// tagged by the same element of `tags` (a string tensor of the same shape).
Output ScalarSummary(const Scope& scope, Output tags, Input values);
// A scalar value under a constant tag.
Output ScalarSummary(const Scope& scope, const std::string& tag, Input value);

// A histogram of every element of `values`, in TensorFlow's default bucket
// layout (kernels/summary/histogram.h).
Output HistogramSummary(const Scope& scope, Output tag, Input values);
Output HistogramSummary(const Scope& scope, const std::string& tag, Input values);

// PNG images from `images`, [batch, height, width, channels] (uint8, float or
// double; channels 1, 3 or 4), at most `max_images` of them, tagged
// "<tag>/image/<i>" ("<tag>/image" when max_images is 1).
Output ImageSummary(const Scope& scope, Output tag, Input images, int64_t max_images = 3);
Output ImageSummary(const Scope& scope, const std::string& tag, Input images,
                    int64_t max_images = 3);

// A string tensor (any shape) for TensorBoard's text plugin.
Output TextSummary(const Scope& scope, Output tag, Output text);
Output TextSummary(const Scope& scope, const std::string& tag, Output text);
Output TextSummary(const Scope& scope, const std::string& tag, const std::string& text);

// The union of serialized summaries (string tensors of any shape, each
// element a Summary); two values with the same tag are an error.
Output MergeSummary(const Scope& scope, const std::vector<Output>& inputs);

}  // namespace braid::ops
