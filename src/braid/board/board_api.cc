#include "braid/board/board_api.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "braid/board/board_json.h"
#include "nlohmann/json.hpp"

namespace braid::board {
namespace {

using Json = nlohmann::json;

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

ApiResponse JsonResponse(const Json& j) { return {200, kJsonContentType, Dump(j), ""}; }

ApiResponse Error(int status, const std::string& message) {
  return {status, kJsonContentType, Dump(Json{{"error", message}}), ""};
}

const std::string* Param(const ApiParams& params, const std::string& name) {
  auto it = params.find(name);
  return it == params.end() ? nullptr : &it->second;
}

// The series of `tag` in `run`, for fn(const SampledSeries<Point>&) run under
// the run's shared lock; 400 for missing parameters, 404 for an unknown run
// or tag.
template <typename Point, typename Fn>
ApiResponse WithSeries(const RunStore& store, const ApiParams& params, const char* plugin,
                       const SeriesByTag<Point>& (RunData::*series)() const, Fn&& fn) {
  const std::string* run_name = Param(params, "run");
  const std::string* tag = Param(params, "tag");
  if (!run_name || !tag) return Error(400, "both 'run' and 'tag' query parameters are required");
  std::shared_ptr<const Run> run = store.Find(*run_name);
  if (!run) return Error(404, absl::StrCat("no run named '", *run_name, "'"));
  return run->Read([&](const RunData& data) {
    const SeriesByTag<Point>& by_tag = (data.*series)();
    auto it = by_tag.find(*tag);
    if (it == by_tag.end()) {
      return Error(404, absl::StrCat("run '", *run_name, "' has no ", plugin, " tag '", *tag, "'"));
    }
    return fn(it->second);
  });
}

template <typename Point>
void AddTags(const SeriesByTag<Point>& by_tag, Json* out) {
  for (const auto& [tag, series] : by_tag) {
    (*out)[tag] = {{"displayName", tag},
                   {"description", ""},
                   {"samples", series.size()},
                   {"total", series.offered()}};
  }
}

// image/png, image/jpeg or image/gif by the leading bytes.
std::string ImageContentType(const std::string& bytes) {
  if (bytes.rfind("\x89PNG", 0) == 0) return "image/png";
  if (bytes.rfind("\xff\xd8", 0) == 0) return "image/jpeg";
  if (bytes.rfind("GIF8", 0) == 0) return "image/gif";
  return "application/octet-stream";
}

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

ApiResponse BoardApi::Handle(const std::string& path, const ApiParams& params) const {
  if (path == "/data/runs") return Runs();
  if (path == "/data/status") return Status();
  if (path == "/data/problems") return Problems();
  if (path == "/data/reload") {
    if (request_reload_) request_reload_();
    return JsonResponse({{"reload", "requested"}});
  }
  if (path == "/data/plugin/scalars/tags") return Tags("scalars");
  if (path == "/data/plugin/scalars/scalars") return Scalars(params);
  if (path == "/data/plugin/scalars/scalars_multirun") return ScalarsMultirun(params);
  if (path == "/data/plugin/histograms/tags") return Tags("histograms");
  if (path == "/data/plugin/histograms/histograms") return Histograms(params);
  if (path == "/data/plugin/images/tags") return Tags("images");
  if (path == "/data/plugin/images/images") return Images(params);
  if (path == "/data/plugin/images/individualImage") return IndividualImage(params);
  if (path == "/data/plugin/text/tags") return TextTags();
  if (path == "/data/plugin/text/text") return Text(params);
  if (path == "/data/plugin/graphs/runs") return GraphRuns();
  if (path == "/data/plugin/graphs/graph") return Graph(params);
  return Error(404, absl::StrCat("no such data endpoint '", path,
                                 "' (see /data/runs and /data/plugin/<plugin>/tags)"));
}

ApiResponse BoardApi::Runs() const { return JsonResponse(store_->RunNames()); }

ApiResponse BoardApi::Status() const {
  const LoadStats s = store_->stats();
  return JsonResponse({{"runs", store_->RunNames().size()},
                       {"files", s.files},
                       {"bytes_read", s.bytes_read},
                       {"events", s.events},
                       {"reloads", s.reloads},
                       {"last_reload_ms", s.last_reload_ms},
                       {"loaded", s.first_load_done},
                       {"problems", store_->Problems().size()}});
}

ApiResponse BoardApi::Problems() const {
  Json out = Json::array();
  for (const Problem& p : store_->Problems()) {
    out.push_back({{"run", p.run}, {"file", p.file}, {"offset", p.offset}, {"message", p.message}});
  }
  return JsonResponse(out);
}

ApiResponse BoardApi::Tags(const std::string& plugin) const {
  Json out = Json::object();
  for (const std::shared_ptr<const Run>& run : store_->Runs()) {
    Json tags = Json::object();
    run->Read([&](const RunData& d) {
      if (plugin == "scalars") AddTags(d.scalars(), &tags);
      if (plugin == "histograms") AddTags(d.histograms(), &tags);
      if (plugin == "images") AddTags(d.images(), &tags);
    });
    if (!tags.empty()) out[run->name()] = std::move(tags);
  }
  return JsonResponse(out);
}

ApiResponse BoardApi::TextTags() const {
  Json out = Json::object();
  for (const std::shared_ptr<const Run>& run : store_->Runs()) {
    std::vector<std::string> tags;
    run->Read([&](const RunData& d) {
      for (const auto& [tag, series] : d.text()) tags.push_back(tag);
    });
    if (!tags.empty()) out[run->name()] = tags;
  }
  return JsonResponse(out);
}

ApiResponse BoardApi::Scalars(const ApiParams& params) const {
  const std::string* format = Param(params, "format");
  if (format && *format != "json" && *format != "csv") {
    return Error(400, absl::StrCat("format '", *format, "' is neither json nor csv"));
  }
  const bool csv = format && *format == "csv";
  return WithSeries<ScalarPoint>(
      *store_, params, "scalars", &RunData::scalars, [&](const SampledSeries<ScalarPoint>& series) {
        ApiResponse r;
        if (csv) {
          r.content_type = "text/csv";
          r.body = ScalarsCsv(series);
          r.download_name =
              absl::StrCat("run-", *Param(params, "run"), "-tag-", *Param(params, "tag"), ".csv");
        } else {
          AppendScalarsJson(series, &r.body);
        }
        return r;
      });
}

ApiResponse BoardApi::ScalarsMultirun(const ApiParams& params) const {
  const std::string* tag = Param(params, "tag");
  if (!tag) return Error(400, "the 'tag' parameter is required");
  std::vector<std::shared_ptr<const Run>> runs;
  auto [first, last] = params.equal_range("runs");
  if (first == last) {
    runs = store_->Runs();
  } else {
    for (auto it = first; it != last; ++it) {
      if (std::shared_ptr<const Run> run = store_->Find(it->second)) runs.push_back(run);
    }
  }
  ApiResponse r;
  r.body = "{";
  bool found = false;
  for (const std::shared_ptr<const Run>& run : runs) {
    run->Read([&](const RunData& d) {
      auto it = d.scalars().find(*tag);
      if (it == d.scalars().end()) return;
      if (found) r.body.push_back(',');
      found = true;
      AppendJsonString(run->name(), &r.body);
      r.body.push_back(':');
      AppendScalarsJson(it->second, &r.body);
    });
  }
  r.body.push_back('}');
  if (!found) return Error(404, absl::StrCat("no run has a scalars tag '", *tag, "'"));
  return r;
}

ApiResponse BoardApi::Histograms(const ApiParams& params) const {
  return WithSeries<HistogramPoint>(
      *store_, params, "histograms", &RunData::histograms,
      [](const SampledSeries<HistogramPoint>& series) {
        return ApiResponse{200, kJsonContentType, HistogramsJson(series), ""};
      });
}

ApiResponse BoardApi::Images(const ApiParams& params) const {
  return WithSeries<ImagePoint>(
      *store_, params, "images", &RunData::images, [&](const SampledSeries<ImagePoint>& series) {
        const std::string query = absl::StrCat("run=", UrlEncode(*Param(params, "run")),
                                               "&tag=", UrlEncode(*Param(params, "tag")));
        Json out = Json::array();
        int index = 0;
        series.ForEach([&](const ImagePoint& p) {
          const std::string q = absl::StrCat(query, "&index=", index);
          out.push_back({{"wall_time", p.wall_time},
                         {"step", p.step},
                         {"width", p.width},
                         {"height", p.height},
                         {"samples", p.samples},
                         {"index", index},
                         {"query", q},
                         {"url", absl::StrCat("/data/plugin/images/individualImage?", q)}});
          ++index;
        });
        return JsonResponse(out);
      });
}

ApiResponse BoardApi::IndividualImage(const ApiParams& params) const {
  const std::string* index_text = Param(params, "index");
  int64_t index = 0;
  if (!index_text || !absl::SimpleAtoi(*index_text, &index) || index < 0) {
    return Error(400, "the 'index' parameter must be a non-negative integer");
  }
  return WithSeries<ImagePoint>(
      *store_, params, "images", &RunData::images, [&](const SampledSeries<ImagePoint>& series) {
        if (index >= static_cast<int64_t>(series.size())) {
          return Error(
              404, absl::StrCat("no image at index ", index, "; the tag holds ", series.size()));
        }
        ApiResponse r;
        int64_t i = 0;
        series.ForEach([&](const ImagePoint& p) {
          if (i++ == index) r.body = p.encoded;
        });
        r.content_type = ImageContentType(r.body);
        return r;
      });
}

ApiResponse BoardApi::Text(const ApiParams& params) const {
  return WithSeries<TextPoint>(
      *store_, params, "text", &RunData::text, [](const SampledSeries<TextPoint>& series) {
        Json out = Json::array();
        series.ForEach([&](const TextPoint& p) {
          out.push_back({{"wall_time", p.wall_time}, {"step", p.step}, {"text", p.text}});
        });
        return JsonResponse(out);
      });
}

ApiResponse BoardApi::GraphRuns() const {
  std::vector<std::string> names;
  for (const std::shared_ptr<const Run>& run : store_->Runs()) {
    if (run->Read([](const RunData& d) { return !d.graph_def().empty(); })) {
      names.push_back(run->name());
    }
  }
  return JsonResponse(names);
}

ApiResponse BoardApi::Graph(const ApiParams& params) const {
  const std::string* run_name = Param(params, "run");
  if (!run_name) return Error(400, "the 'run' query parameter is required");
  std::shared_ptr<const Run> run = store_->Find(*run_name);
  if (!run) return Error(404, absl::StrCat("no run named '", *run_name, "'"));
  std::string graph_def = run->Read([](const RunData& d) { return d.graph_def(); });
  if (graph_def.empty()) return Error(404, absl::StrCat("run '", *run_name, "' holds no graph"));
  absl::StatusOr<std::string> json = GraphJson(graph_def);
  if (!json.ok()) return Error(500, std::string(json.status().message()));
  return {200, kJsonContentType, *std::move(json), ""};
}

}  // namespace braid::board
