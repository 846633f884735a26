// The dashboard script, part 3: the scalars tab. One chart per tag with every
// selected run overlaid; one request per tag fetches all runs' series
// (scalars_multirun), kept so that settings and run toggles redraw without
// fetching again.
#include "braid/board/web_assets.h"

namespace braid::board {

const char kBoardJsScalars[] = R"JS(
board.views.scalars = {
  tags: [],            // every scalar tag, sorted
  data: new Map(),     // tag -> {run: [[wall_time, step, value], ...]}
  charts: new Map(),   // tag -> {div, chart, legend}

  async refresh() {
    const byRun = await fetchJson('/data/plugin/scalars/tags');
    const tags = new Set();
    for (const run of Object.keys(byRun)) for (const tag of Object.keys(byRun[run])) tags.add(tag);
    this.tags = [...tags].sort(compareTags);
    for (const tag of [...this.data.keys()]) if (!tags.has(tag)) this.data.delete(tag);
    await forEachLimit(this.tags, 6, async tag => {
      try {
        this.data.set(tag, await fetchJson('/data/plugin/scalars/scalars_multirun?' + query({tag})));
      } catch (e) {
        if (e.status !== 404) throw e;
        this.data.delete(tag);
      }
    });
    this.redraw();
    // When the page first showed every chart, for bench/board_load.py.
    const charts = document.getElementById('scalar-charts');
    if (this.tags.length > 0 && !charts.dataset.loadMs) {
      charts.dataset.loadMs = String(Math.round(performance.now()));
      console.info(`braid board: ${this.charts.size} scalar charts drawn ${charts.dataset.loadMs} ms after navigation`);
    }
  },

  redraw() {
    const match = tagMatcher();
    const shown = this.tags.filter(match);
    const container = document.getElementById('scalar-charts');
    const keep = new Set(shown);
    for (const [tag, c] of this.charts) {
      if (!keep.has(tag)) { c.div.remove(); this.charts.delete(tag); }
    }
    shown.forEach((tag, i) => {
      let c = this.charts.get(tag);
      if (!c) { c = this.makeChart(tag); this.charts.set(tag, c); }
      if (container.children[i] !== c.div) container.insertBefore(c.div, container.children[i] || null);
      this.drawChart(tag, c);
    });
    document.getElementById('scalars-empty').hidden = shown.length > 0;
  },

  makeChart(tag) {
    const json = '/data/plugin/scalars/scalars_multirun?' + query({tag});
    const div = el('div', {class: 'scalar-chart', dataset: {tag}},
        el('div', {class: 'chart-title'}, tag,
           el('span', {class: 'chart-links'},
              el('a', {href: json, target: '_blank', class: 'download-json', title: 'all runs as JSON',
                       text: 'JSON'}))));
    const chart = new LineChart(div);
    const legend = el('div', {class: 'legend'});
    div.append(legend);
    return {div, chart, legend};
  },

  drawChart(tag, c) {
    const byRun = this.data.get(tag) || {};
    const series = [];
    let points = 0;
    for (const run of visibleRuns()) {
      const pts = byRun[run];
      if (!pts || pts.length === 0) continue;
      const n = pts.length;
      const xs = new Float64Array(n), ys = new Float64Array(n), steps = new Array(n);
      const wall0 = pts[0][0];
      for (let i = 0; i < n; i++) {
        const [wall, step, value] = pts[i];
        xs[i] = board.xAxis === 'wall' ? wall : board.xAxis === 'relative' ? wall - wall0 : step;
        ys[i] = value === null ? NaN : value;
        steps[i] = step;
      }
      const smooth = board.smoothing > 0 ? smoothSeries(ys, board.smoothing) : null;
      series.push({name: run, color: runColor(run), xs, ys, smooth, steps});
      points += n;
    }
    c.chart.setData(series, {xKind: board.xAxis, logY: board.logScale});
    c.legend.replaceChildren(...series.map(s => {
      const swatch = el('span', {class: 'swatch'});
      swatch.style.background = s.color;
      const q = query({run: s.name, tag});
      return el('span', {class: 'legend-item', dataset: {run: s.name}}, swatch, s.name,
          el('a', {href: `/data/plugin/scalars/scalars?${q}&format=csv`, class: 'download-csv',
                   download: '', title: `${s.name}: CSV`, text: 'csv'}),
          el('a', {href: `/data/plugin/scalars/scalars?${q}`, class: 'download-json',
                   target: '_blank', title: `${s.name}: JSON`, text: 'json'}));
    }));
    c.div.dataset.points = String(points);
    c.div.dataset.runs = String(series.length);
    c.div.dataset.drawn = 'true';
  },
};
)JS";

}  // namespace braid::board
