// The dashboard's web page, compiled into the binary so that `braid board`
// needs no files beside it and no network: one HTML page, its style sheet and
// its script (plain JavaScript; charts drawn on <canvas>, the graph in SVG).
#pragma once

#include <string>
#include <vector>

namespace braid::board {

struct WebAsset {
  std::string path;  // "/", "/board.js", ...
  std::string content_type;
  std::string body;
};

// Every asset, built once on first use.
const std::vector<WebAsset>& WebAssets();

// The parts of the script, one file each (web_*_js.cc), concatenated in
// this order into /board.js.
extern const char kBoardJsCore[];     // state, fetching, tabs, runs, polling
extern const char kBoardJsChart[];    // the canvas line chart and axes
extern const char kBoardJsScalars[];  // the scalars tab
extern const char kBoardJsViews[];    // histograms, images and text tabs
extern const char kBoardJsGraph[];    // the graph tab (layered SVG layout)

}  // namespace braid::board
