#include "braid/board/board_json.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "tensorflow/core/framework/graph.pb.h"

namespace braid::board {
namespace {

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end);
}

// "[2,-1,784]"-style text of a shape; "?" for an unknown rank.
std::string ShapeText(const tensorflow::TensorShapeProto& shape) {
  if (shape.unknown_rank()) return "?";
  std::vector<int64_t> dims;
  for (const auto& d : shape.dim()) dims.push_back(d.size());
  return absl::StrCat("[", absl::StrJoin(dims, ","), "]");
}

// The shortest text that reads back as `v`; for a value that is exactly a
// float (simple_value is one) the shortest that reads back as that float,
// "0.1" rather than "0.10000000149011612".
char* FormatNumber(double v, char* buf, char* end) {
  const float f = static_cast<float>(v);
  if (static_cast<double>(f) == v) return std::to_chars(buf, end, f).ptr;
  return std::to_chars(buf, end, v).ptr;
}

// Seconds since the epoch in fixed notation ("1700000000.25", not "1.7e+09").
char* FormatWallTime(double v, char* buf, char* end) {
  return std::to_chars(buf, end, v, std::chars_format::fixed).ptr;
}

}  // namespace

void AppendJsonNumber(double v, std::string* out) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  char buf[64];
  out->append(buf, FormatNumber(v, buf, buf + sizeof(buf)));
}

namespace {

void AppendWallTime(double v, std::string* out) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  char buf[400];  // fixed notation of the largest double has 309 digits
  out->append(buf, FormatWallTime(v, buf, buf + sizeof(buf)));
}

}  // namespace

void AppendJsonString(const std::string& s, std::string* out) {
  out->append(nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void AppendScalarsJson(const SampledSeries<ScalarPoint>& series, std::string* out) {
  out->reserve(out->size() + series.size() * 40 + 2);
  out->push_back('[');
  bool first = true;
  series.ForEach([&](const ScalarPoint& p) {
    if (!first) out->push_back(',');
    first = false;
    out->push_back('[');
    AppendWallTime(p.wall_time, out);
    out->push_back(',');
    AppendInt(p.step, out);
    out->push_back(',');
    AppendJsonNumber(p.value, out);
    out->push_back(']');
  });
  out->push_back(']');
}

std::string ScalarsCsv(const SampledSeries<ScalarPoint>& series) {
  std::string out = "Wall time,Step,Value\n";
  series.ForEach([&](const ScalarPoint& p) {
    char buf[400];
    out.append(buf, FormatWallTime(p.wall_time, buf, buf + sizeof(buf)));
    out.push_back(',');
    AppendInt(p.step, &out);
    out.push_back(',');
    out.append(buf, FormatNumber(p.value, buf, buf + sizeof(buf)));  // "nan", "inf" as they are
    out.push_back('\n');
  });
  return out;
}

std::string HistogramsJson(const SampledSeries<HistogramPoint>& series) {
  std::string out = "[";
  bool first = true;
  series.ForEach([&](const HistogramPoint& p) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('[');
    AppendWallTime(p.wall_time, &out);
    out.push_back(',');
    AppendInt(p.step, &out);
    out.append(",[");
    for (size_t i = 0; i < p.buckets.size(); ++i) {
      if (i) out.push_back(',');
      out.push_back('[');
      AppendJsonNumber(p.buckets[i].left, &out);
      out.push_back(',');
      AppendJsonNumber(p.buckets[i].right, &out);
      out.push_back(',');
      AppendJsonNumber(p.buckets[i].count, &out);
      out.push_back(']');
    }
    out.append("]]");
  });
  out.push_back(']');
  return out;
}

absl::StatusOr<std::string> GraphJson(const std::string& serialized_graph_def) {
  tensorflow::GraphDef graph;
  if (!graph.ParseFromString(serialized_graph_def)) {
    return absl::DataLossError(absl::StrCat("the run's graph (", serialized_graph_def.size(),
                                            " bytes) is not a tensorflow.GraphDef"));
  }
  nlohmann::json nodes = nlohmann::json::array();
  for (const tensorflow::NodeDef& n : graph.node()) {
    nlohmann::json node = {{"name", n.name()},
                           {"op", n.op()},
                           {"inputs", std::vector<std::string>(n.input().begin(), n.input().end())},
                           {"device", n.device()}};
    auto shapes = n.attr().find("_output_shapes");
    if (shapes != n.attr().end()) {
      std::vector<std::string> texts;
      for (const auto& s : shapes->second.list().shape()) texts.push_back(ShapeText(s));
      node["output_shapes"] = texts;
    }
    nodes.push_back(std::move(node));
  }
  return nlohmann::json{{"nodes", std::move(nodes)}}.dump(-1, ' ', false,
                                                          nlohmann::json::error_handler_t::replace);
}

}  // namespace braid::board
