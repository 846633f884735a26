// The dashboard's JSON data API, in the spirit of TensorBoard's (same paths
// and shapes where TensorBoard has them), independent of the HTTP library:
//
//   /data/runs                                 ["run", ...]
//   /data/status                               loading counters
//   /data/problems                             [{run, file, offset, message}, ...]
//   /data/reload                               asks for a scan now
//   /data/plugin/scalars/tags                  {run: {tag: {displayName, description,
//                                                          samples, total}}}
//   /data/plugin/scalars/scalars?run=&tag=     [[wall_time, step, value], ...]
//                                              (&format=csv: a CSV file)
//   /data/plugin/scalars/scalars_multirun?tag=[&runs=...]  {run: [[...]], ...}
//   /data/plugin/histograms/tags               as scalars
//   /data/plugin/histograms/histograms?run=&tag=
//                                              [[wall_time, step, [[left, right, count]]], ...]
//   /data/plugin/images/tags                   as scalars
//   /data/plugin/images/images?run=&tag=       [{wall_time, step, width, height, index, url}]
//   /data/plugin/images/individualImage?run=&tag=&index=   the image bytes
//   /data/plugin/text/tags                     {run: [tag, ...]}
//   /data/plugin/text/text?run=&tag=           [{wall_time, step, text}, ...]
//   /data/plugin/graphs/runs                   runs that hold a graph
//   /data/plugin/graphs/graph?run=             {nodes: [{name, op, inputs, device}]}
//
// Unknown runs, tags and paths are 404 and missing or malformed parameters
// 400, each with a body {"error": "..."}.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "braid/board/run_store.h"

namespace braid::board {

// With the charset spelled out: besides being exact, it keeps cpp-httplib
// from compressing responses on its own (it compresses plain
// "application/json", with brotli at its slowest setting, which takes far
// longer than sending a large series over loopback or a LAN).
inline constexpr char kJsonContentType[] = "application/json; charset=utf-8";

struct ApiResponse {
  int status = 200;
  std::string content_type = kJsonContentType;
  std::string body;
  // Set for downloads: the file name a browser should save the body as.
  std::string download_name;
};

// Query (and form) parameters; a name may repeat (runs=a&runs=b).
using ApiParams = std::multimap<std::string, std::string>;

class BoardApi {
 public:
  // `store` must outlive the API. `request_reload` serves /data/reload.
  explicit BoardApi(const RunStore* store, std::function<void()> request_reload = nullptr)
      : store_(store), request_reload_(std::move(request_reload)) {}

  // Answers a request for `path` (starting with /data/). Thread-safe.
  ApiResponse Handle(const std::string& path, const ApiParams& params) const;

 private:
  ApiResponse Runs() const;
  ApiResponse Status() const;
  ApiResponse Problems() const;
  ApiResponse Tags(const std::string& plugin) const;
  ApiResponse TextTags() const;
  ApiResponse Scalars(const ApiParams& params) const;
  ApiResponse ScalarsMultirun(const ApiParams& params) const;
  ApiResponse Histograms(const ApiParams& params) const;
  ApiResponse Images(const ApiParams& params) const;
  ApiResponse IndividualImage(const ApiParams& params) const;
  ApiResponse Text(const ApiParams& params) const;
  ApiResponse GraphRuns() const;
  ApiResponse Graph(const ApiParams& params) const;

  const RunStore* const store_;
  const std::function<void()> request_reload_;
};

}  // namespace braid::board
