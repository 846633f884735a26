// The dashboard's response bodies. Series are written by hand with
// std::to_chars (shortest round-trip form): the scalars page asks for a
// thousand series of a thousand points at once, which a JSON DOM would build
// several times slower.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "braid/board/run_data.h"

namespace braid::board {

// A number as JSON; NaN and infinities (which JSON lacks) become null.
void AppendJsonNumber(double v, std::string* out);
// A JSON string literal, escaped.
void AppendJsonString(const std::string& s, std::string* out);

// [[wall_time, step, value], ...]
void AppendScalarsJson(const SampledSeries<ScalarPoint>& series, std::string* out);
// "Wall time,Step,Value" then one line per point (TensorBoard's CSV header).
std::string ScalarsCsv(const SampledSeries<ScalarPoint>& series);
// [[wall_time, step, [[left, right, count], ...]], ...]
std::string HistogramsJson(const SampledSeries<HistogramPoint>& series);
// {"nodes": [{"name", "op", "inputs", "device", "output_shapes"}, ...]}
// from a serialized GraphDef; DataLoss when it does not parse.
absl::StatusOr<std::string> GraphJson(const std::string& serialized_graph_def);

}  // namespace braid::board
