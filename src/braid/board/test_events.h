// Test helpers: events of each kind, and appending them to event files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "braid/base/record_file.h"
#include "tensorflow/core/framework/graph.pb.h"
#include "tensorflow/core/util/event.pb.h"

namespace braid::board::testing {

inline tensorflow::Event ScalarEvent(int64_t step, const std::string& tag, float value) {
  tensorflow::Event e;
  e.set_wall_time(1700000000.0 + step);
  e.set_step(step);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  v->set_simple_value(value);
  return e;
}

// TensorFlow 2's form: a rank-0 float tensor; metadata naming the plugin
// only when `with_metadata` (writers send it with a tag's first value).
inline tensorflow::Event TensorScalarEvent(int64_t step, const std::string& tag, float value,
                                           bool with_metadata) {
  tensorflow::Event e;
  e.set_wall_time(1700000000.0 + step);
  e.set_step(step);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  if (with_metadata) v->mutable_metadata()->mutable_plugin_data()->set_plugin_name("scalars");
  v->mutable_tensor()->set_dtype(tensorflow::DT_FLOAT);
  v->mutable_tensor()->mutable_tensor_shape();
  v->mutable_tensor()->add_float_val(value);
  return e;
}

inline tensorflow::Event HistoEvent(int64_t step, const std::string& tag) {
  tensorflow::Event e;
  e.set_wall_time(1700000000.0 + step);
  e.set_step(step);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  tensorflow::HistogramProto* h = v->mutable_histo();
  h->set_min(-1);
  h->set_max(2);
  h->set_num(6);
  for (double limit : {-1e300, 0.0, 1.0, 1e300}) h->add_bucket_limit(limit);
  for (double count : {1.0, 2.0, 0.0, 3.0}) h->add_bucket(count);
  return e;
}

inline tensorflow::Event ImageEvent(int64_t step, const std::string& tag, const std::string& png) {
  tensorflow::Event e;
  e.set_wall_time(1700000000.0 + step);
  e.set_step(step);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  v->mutable_image()->set_width(2);
  v->mutable_image()->set_height(3);
  v->mutable_image()->set_colorspace(1);
  v->mutable_image()->set_encoded_image_string(png);
  return e;
}

inline tensorflow::Event TextEvent(int64_t step, const std::string& tag, const std::string& text) {
  tensorflow::Event e;
  e.set_wall_time(1700000000.0 + step);
  e.set_step(step);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  v->mutable_metadata()->mutable_plugin_data()->set_plugin_name("text");
  v->mutable_tensor()->set_dtype(tensorflow::DT_STRING);
  v->mutable_tensor()->mutable_tensor_shape();
  v->mutable_tensor()->add_string_val(text);
  return e;
}

inline tensorflow::Event GraphEvent() {
  tensorflow::GraphDef g;
  tensorflow::NodeDef* x = g.add_node();
  x->set_name("input/x");
  x->set_op("Placeholder");
  tensorflow::NodeDef* mm = g.add_node();
  mm->set_name("dense/MatMul");
  mm->set_op("MatMul");
  mm->add_input("input/x");
  mm->add_input("dense/kernel:0");
  mm->set_device("/job:worker/task:0");
  tensorflow::Event e;
  e.set_wall_time(1700000000.0);
  e.set_graph_def(g.SerializeAsString());
  return e;
}

inline std::string Framed(const std::vector<tensorflow::Event>& events) {
  std::string out;
  for (const tensorflow::Event& e : events) AppendRecord(e.SerializeAsString(), &out);
  return out;
}

// Appends raw bytes to `path`, creating the file and its directories.
inline void AppendBytes(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void AppendEvents(const std::string& path, const std::vector<tensorflow::Event>& events) {
  AppendBytes(path, Framed(events));
}

// A fresh directory for one test.
inline std::string TempLogdir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/board_test." + std::to_string(getpid()) + "." + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return std::filesystem::path(dir).lexically_normal().string();
}

}  // namespace braid::board::testing
