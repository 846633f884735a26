// The dashboard's HTML page and style sheet; WebAssets() assembles them with
// the script parts of web_*_js.cc.
#include "braid/board/web_assets.h"

namespace braid::board {
namespace {

constexpr char kIndexHtml[] = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>braid board</title>
<link rel="stylesheet" href="board.css">
</head>
<body>
<header id="topbar">
  <span id="brand">braid board</span>
  <nav id="tabs">
    <button class="tab active" id="tab-scalars" data-tab="scalars">Scalars</button>
    <button class="tab" id="tab-histograms" data-tab="histograms">Histograms</button>
    <button class="tab" id="tab-images" data-tab="images">Images</button>
    <button class="tab" id="tab-text" data-tab="text">Text</button>
    <button class="tab" id="tab-graph" data-tab="graph">Graph</button>
  </nav>
  <span id="status" title="data loaded by the server">connecting…</span>
  <button id="reload" title="look for new data now">Reload</button>
</header>
<div id="layout">
  <aside id="sidebar">
    <section id="scalar-settings" class="settings">
      <h3>Scalars</h3>
      <label for="smoothing">Smoothing <output id="smoothing-value">0.6</output></label>
      <input type="range" id="smoothing" min="0" max="0.99" step="0.01" value="0.6">
      <div class="setting-row">X axis:
        <label><input type="radio" name="xaxis" id="xaxis-step" value="step" checked> step</label>
        <label><input type="radio" name="xaxis" id="xaxis-relative" value="relative"> relative</label>
        <label><input type="radio" name="xaxis" id="xaxis-wall" value="wall"> wall</label>
      </div>
      <label class="setting-row"><input type="checkbox" id="log-scale"> log scale (y)</label>
    </section>
    <section id="run-selector" class="settings">
      <h3>Runs <span id="run-count"></span></h3>
      <input type="search" id="run-filter" placeholder="filter runs (regex)">
      <div class="setting-row">
        <button id="runs-all">all</button> <button id="runs-none">none</button>
      </div>
      <div id="run-list"></div>
    </section>
  </aside>
  <main id="content">
    <div id="toolbar">
      <input type="search" id="tag-filter" placeholder="filter tags (regex)">
    </div>
    <details id="problems" hidden><summary id="problems-summary"></summary>
      <ul id="problem-list"></ul></details>
    <section class="panel" id="panel-scalars"><div id="scalar-charts" class="grid"></div>
      <p class="empty" id="scalars-empty" hidden>No scalar data yet.</p></section>
    <section class="panel" id="panel-histograms" hidden>
      <div id="histogram-charts" class="grid"></div>
      <p class="empty" id="histograms-empty" hidden>No histogram data yet.</p></section>
    <section class="panel" id="panel-images" hidden><div id="image-cards" class="grid"></div>
      <p class="empty" id="images-empty" hidden>No image data yet.</p></section>
    <section class="panel" id="panel-text" hidden><div id="text-cards"></div>
      <p class="empty" id="text-empty" hidden>No text data yet.</p></section>
    <section class="panel" id="panel-graph" hidden>
      <div id="graph-toolbar">Run <select id="graph-run"></select>
        <button id="graph-expand-all">expand all</button>
        <button id="graph-collapse-all">collapse all</button>
        <button id="graph-fit">fit</button>
        <span id="graph-info"></span></div>
      <div id="graph-view"></div>
      <p class="empty" id="graph-empty" hidden>No graph in the selected runs.</p></section>
  </main>
</div>
<div id="tooltip" hidden></div>
<script src="board.js"></script>
</body>
</html>
)HTML";

constexpr char kStyleCss[] = R"CSS(
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #212121; background: #f5f5f5; }
#topbar { display: flex; align-items: center; gap: 16px; height: 48px; padding: 0 16px;
  background: #37474f; color: #fff; position: sticky; top: 0; z-index: 5; }
#brand { font-weight: 600; font-size: 16px; letter-spacing: .02em; }
#tabs { display: flex; gap: 2px; flex: 1; }
.tab { background: none; border: 0; color: #cfd8dc; padding: 14px 12px; cursor: pointer;
  font: inherit; text-transform: uppercase; font-size: 12px; border-bottom: 2px solid transparent; }
.tab.active { color: #fff; border-bottom-color: #ffb74d; }
#status { font-size: 12px; color: #cfd8dc; }
#reload { background: #546e7a; color: #fff; border: 0; padding: 6px 10px; border-radius: 3px;
  cursor: pointer; }
#layout { display: flex; align-items: flex-start; }
#sidebar { width: 280px; flex: none; padding: 12px; position: sticky; top: 48px;
  max-height: calc(100vh - 48px); overflow: auto; background: #fff; border-right: 1px solid #ddd;
  min-height: calc(100vh - 48px); }
.settings { margin-bottom: 18px; }
.settings h3 { font-size: 12px; text-transform: uppercase; color: #616161; margin: 4px 0 8px; }
.setting-row { display: block; margin: 6px 0; }
#smoothing { width: 100%; }
#run-filter, #tag-filter { width: 100%; padding: 6px 8px; border: 1px solid #ccc;
  border-radius: 3px; font: inherit; }
.invalid { border-color: #e53935 !important; background: #ffebee; }
.run-item { display: flex; align-items: center; gap: 6px; padding: 2px 0; cursor: pointer;
  word-break: break-all; }
.swatch { width: 12px; height: 12px; border-radius: 2px; flex: none; }
#content { flex: 1; min-width: 0; padding: 12px 16px; }
#toolbar { margin-bottom: 12px; max-width: 480px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 12px; }
.card, .scalar-chart, .histogram-chart { background: #fff; border: 1px solid #e0e0e0;
  border-radius: 4px; padding: 8px 10px; min-width: 0; }
.chart-title { font-weight: 600; margin-bottom: 4px; word-break: break-all; }
.chart-canvas { width: 100%; height: 260px; display: block; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 12px; margin-top: 6px; font-size: 12px;
  max-height: 88px; overflow: auto; }
.legend-item { display: flex; align-items: center; gap: 4px; }
.legend a { color: #1e88e5; text-decoration: none; font-size: 11px; }
.chart-links { float: right; font-size: 11px; font-weight: normal; }
.chart-links a { color: #1e88e5; margin-left: 6px; text-decoration: none; }
.empty { color: #757575; }
#problems { background: #fff3e0; border: 1px solid #ffb74d; border-radius: 4px;
  padding: 6px 10px; margin-bottom: 12px; }
#problem-list { margin: 6px 0 0; padding-left: 18px; font-family: monospace; font-size: 12px; }
#tooltip { position: fixed; pointer-events: none; background: rgba(33,33,33,.92); color: #fff;
  padding: 6px 8px; border-radius: 3px; font-size: 12px; z-index: 10; max-width: 480px; }
#tooltip table { border-collapse: collapse; }
#tooltip td { padding: 0 6px 0 0; white-space: nowrap; }
.image-card img { max-width: 100%; image-rendering: pixelated; display: block;
  margin: 6px 0; min-height: 32px; background: #eee; }
.image-card input[type=range] { width: 100%; }
.text-card { background: #fff; border: 1px solid #e0e0e0; border-radius: 4px;
  padding: 8px 10px; margin-bottom: 12px; }
.text-entry { border-top: 1px solid #eee; padding: 4px 0; }
.text-entry pre { margin: 2px 0; white-space: pre-wrap; word-break: break-word; }
.step-label { color: #757575; font-size: 12px; }
#graph-toolbar { margin-bottom: 8px; display: flex; gap: 8px; align-items: center; }
#graph-view { background: #fff; border: 1px solid #e0e0e0; border-radius: 4px;
  height: calc(100vh - 150px); overflow: hidden; }
#graph-view svg { width: 100%; height: 100%; cursor: grab; user-select: none; }
.graph-node rect { fill: #e3f2fd; stroke: #64b5f6; }
.graph-scope rect { fill: #fff3e0; stroke: #ffb74d; stroke-width: 1.5; cursor: pointer; }
.graph-node text, .graph-scope text { font-size: 11px; fill: #263238; pointer-events: none; }
.graph-scope text.count { fill: #8d6e63; font-size: 10px; }
.graph-edge { fill: none; stroke: #90a4ae; stroke-width: 1.2; }
.graph-edge.control { stroke-dasharray: 4 3; stroke: #cfd8dc; }
#graph-info { color: #616161; font-size: 12px; }
.expanded-scopes { font-size: 12px; }
)CSS";

}  // namespace

const std::vector<WebAsset>& WebAssets() {
  static const std::vector<WebAsset> assets = [] {
    std::string js;
    for (const char* part :
         {kBoardJsCore, kBoardJsChart, kBoardJsScalars, kBoardJsViews, kBoardJsGraph}) {
      js += part;
      js += "\n";
    }
    const std::string html_type = "text/html; charset=utf-8";
    return std::vector<WebAsset>{
        {"/", html_type, kIndexHtml},
        {"/index.html", html_type, kIndexHtml},
        {"/board.css", "text/css; charset=utf-8", kStyleCss},
        {"/board.js", "application/javascript; charset=utf-8", js},
    };
  }();
  return assets;
}

}  // namespace braid::board
