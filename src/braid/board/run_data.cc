#include "braid/board/run_data.h"

#include "absl/strings/str_cat.h"

namespace braid::board {

void RunData::AddEvent(const tensorflow::Event& event) {
  ++events_;
  if (event.has_summary()) {
    for (const tensorflow::Summary::Value& v : event.summary().value()) {
      AddValue(event.wall_time(), event.step(), v);
    }
  } else if (event.what_case() == tensorflow::Event::kGraphDef) {
    graph_def_ = event.graph_def();
  }
}

void RunData::AddValue(double wall_time, int64_t step, const tensorflow::Summary::Value& value) {
  const std::string* remembered = nullptr;
  if (value.has_tensor()) {
    const std::string& name = value.metadata().plugin_data().plugin_name();
    auto [it, inserted] = plugin_of_tag_.try_emplace(value.tag(), name);
    if (!inserted && it->second.empty()) it->second = name;
    remembered = &it->second;
  }
  static const std::string kNone;
  const Plugin plugin = ClassifyValue(value, remembered ? *remembered : kNone);
  absl::Status bad;
  switch (plugin) {
    case Plugin::kScalars: {
      absl::StatusOr<double> x = DecodeScalar(value);
      if (!x.ok()) {
        bad = x.status();
        break;
      }
      scalars_.try_emplace(value.tag(), limits_.scalars).first->second.Add({wall_time, step, *x});
      break;
    }
    case Plugin::kHistograms: {
      absl::StatusOr<std::vector<Bucket>> buckets = DecodeHistogram(value);
      if (!buckets.ok()) {
        bad = buckets.status();
        break;
      }
      histograms_.try_emplace(value.tag(), limits_.histograms)
          .first->second.Add({wall_time, step, *std::move(buckets)});
      break;
    }
    case Plugin::kImages: {
      absl::StatusOr<DecodedImage> image = DecodeImage(value);
      if (!image.ok()) {
        bad = image.status();
        break;
      }
      images_.try_emplace(value.tag(), limits_.images)
          .first->second.Add({wall_time, step, image->width, image->height, image->samples,
                              std::move(image->encoded)});
      break;
    }
    case Plugin::kText: {
      absl::StatusOr<std::string> text = DecodeText(value);
      if (!text.ok()) {
        bad = text.status();
        break;
      }
      text_.try_emplace(value.tag(), limits_.text)
          .first->second.Add({wall_time, step, *std::move(text)});
      break;
    }
    case Plugin::kOther:
      break;  // a plugin the dashboard does not show (audio, hparams, ...)
  }
  if (!bad.ok()) {
    ++bad_values_;
    last_bad_value_ = absl::StrCat("tag '", value.tag(), "' at step ", step, " (",
                                   PluginName(plugin), "): ", bad.message());
  }
}

}  // namespace braid::board
