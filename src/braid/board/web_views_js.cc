// The dashboard script, part 4: the histograms tab (distributions over steps:
// percentile bands as TensorBoard draws them), the images tab (a step slider
// per image series) and the text tab.
#include "braid/board/web_assets.h"

namespace braid::board {

const char kBoardJsViews[] = R"JS(
// The (run, tag) pairs of a plugin's /tags answer that are shown: selected
// runs, tags passing the filter; sorted by tag, then run.
function shownPairs(byRun) {
  const match = tagMatcher();
  const pairs = [];
  for (const run of visibleRuns()) {
    const tags = Array.isArray(byRun[run]) ? byRun[run] : Object.keys(byRun[run] || {});
    for (const tag of tags) if (match(tag)) pairs.push({run, tag});
  }
  pairs.sort((a, b) => compareTags(a.tag, b.tag) || board.runIndex.get(a.run) - board.runIndex.get(b.run));
  return pairs;
}

// Keeps one card per (run, tag) in `container`, in the order of `pairs`,
// creating missing ones with make(pair) and removing the rest.
function syncCards(container, cards, pairs, make) {
  const key = p => `${p.run}\u0000${p.tag}`;
  const keep = new Set(pairs.map(key));
  for (const [k, card] of cards) if (!keep.has(k)) { card.div.remove(); cards.delete(k); }
  pairs.forEach((p, i) => {
    let card = cards.get(key(p));
    if (!card) { card = make(p); cards.set(key(p), card); }
    if (container.children[i] !== card.div) container.insertBefore(card.div, container.children[i] || null);
  });
  return pairs.map(p => cards.get(key(p)));
}

function cardTitle(p) {
  const swatch = el('span', {class: 'swatch'});
  swatch.style.background = runColor(p.run);
  swatch.style.display = 'inline-block';
  return el('div', {class: 'chart-title'}, swatch, ' ', p.tag, el('span', {class: 'step-label', text: `  ${p.run}`}));
}

// Fractions of the values below each band edge, as TensorBoard's
// distributions: the median, then +-0.5, 1, 1.5 standard deviations of a
// normal distribution, then min and max.
const BAND_FRACTIONS = [0, 0.0668, 0.1587, 0.3085, 0.5, 0.6915, 0.8413, 0.9332, 1];

// The value at each fraction of a histogram's count, interpolating linearly
// within a bucket.
function histogramPercentiles(buckets) {
  let total = 0;
  for (const b of buckets) total += b[2];
  if (!(total > 0)) return null;
  const out = [];
  let i = 0, below = 0;
  for (const f of BAND_FRACTIONS) {
    const target = f * total;
    while (i < buckets.length - 1 && below + buckets[i][2] < target) { below += buckets[i][2]; i++; }
    const [left, right, count] = buckets[i];
    const t = count > 0 ? Math.min(1, Math.max(0, (target - below) / count)) : 0;
    out.push(left + (right - left) * t);
  }
  return out;
}

function drawDistribution(canvas, points, color) {
  const rows = [];
  for (const [, step, buckets] of points) {
    const q = histogramPercentiles(buckets);
    if (q) rows.push({step, q});
  }
  let y0 = Infinity, y1 = -Infinity;
  for (const r of rows) { y0 = Math.min(y0, r.q[0]); y1 = Math.max(y1, r.q[8]); }
  if (rows.length === 0) { y0 = 0; y1 = 1; }
  const plot = new Plot(canvas, {xKind: 'step', x0: rows.length ? rows[0].step : 0,
                                 x1: rows.length ? rows[rows.length - 1].step : 1, y0, y1});
  plot.drawAxes();
  plot.clip();
  const ctx = plot.ctx;
  ctx.fillStyle = color;
  for (let band = 0; band < 4; band++) {  // outer band first, denser toward the median
    ctx.globalAlpha = 0.12 + 0.1 * band;
    ctx.beginPath();
    rows.forEach((r, i) => {
      const x = plot.px(r.step), y = plot.py(r.q[band]);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    for (let i = rows.length - 1; i >= 0; i--) ctx.lineTo(plot.px(rows[i].step), plot.py(rows[i].q[8 - band]));
    ctx.closePath();
    ctx.fill();
  }
  ctx.globalAlpha = 1;
  plot.line(rows.map(r => r.step), rows.map(r => r.q[4]), color, 1.5, 1);
  ctx.restore();
  return rows.length;
}

board.views.histograms = {
  cards: new Map(),
  async refresh() {
    const pairs = shownPairs(await fetchJson('/data/plugin/histograms/tags'));
    const container = document.getElementById('histogram-charts');
    const cards = syncCards(container, this.cards, pairs, p => {
      const div = el('div', {class: 'histogram-chart', dataset: {run: p.run, tag: p.tag}}, cardTitle(p));
      const canvas = el('canvas', {class: 'chart-canvas'});
      div.append(canvas);
      return {div, canvas, p, points: []};
    });
    await forEachLimit(cards, 6, async card => {
      card.points = await fetchJson('/data/plugin/histograms/histograms?' + query(card.p));
    });
    this.draw();
  },
  draw() {  // no redraw(): a run toggle refreshes, adding and removing cards
    for (const card of this.cards.values()) {
      const drawn = drawDistribution(card.canvas, card.points, runColor(card.p.run));
      card.div.dataset.points = String(drawn);
      card.div.dataset.drawn = 'true';
    }
    document.getElementById('histograms-empty').hidden = this.cards.size > 0;
  },
};

board.views.images = {
  cards: new Map(),
  async refresh() {
    const pairs = shownPairs(await fetchJson('/data/plugin/images/tags'));
    const container = document.getElementById('image-cards');
    const cards = syncCards(container, this.cards, pairs, p => {
      const img = el('img', {class: 'image', alt: `${p.tag} (${p.run})`});
      const slider = el('input', {type: 'range', class: 'image-step', min: 0, max: 0, value: 0});
      const label = el('div', {class: 'step-label'});
      const div = el('div', {class: 'card image-card', dataset: {run: p.run, tag: p.tag}},
                     cardTitle(p), label, img, slider);
      const card = {div, img, slider, label, p, entries: [], pinned: false};
      slider.addEventListener('input', () => {
        card.pinned = Number(slider.value) < card.entries.length - 1;  // off the latest: stay there
        this.show(card);
      });
      return card;
    });
    await forEachLimit(cards, 6, async card => {
      card.entries = await fetchJson('/data/plugin/images/images?' + query(card.p));
      card.slider.max = Math.max(0, card.entries.length - 1);
      if (!card.pinned) card.slider.value = card.slider.max;
      this.show(card);
    });
    document.getElementById('images-empty').hidden = cards.length > 0;
  },
  show(card) {
    const e = card.entries[Number(card.slider.value)];
    if (!e) return;
    if (card.img.getAttribute('src') !== e.url) card.img.src = e.url;
    // Small images (28x28 digits) are scaled up by a whole factor, pixelated.
    card.img.width = e.width * Math.max(1, Math.floor(224 / Math.max(1, e.width)));
    card.label.textContent = `step ${e.step} · ${e.width}×${e.height} · ${new Date(e.wall_time * 1000).toLocaleString()}`;
    card.div.dataset.step = String(e.step);
  },
};

board.views.text = {
  cards: new Map(),
  async refresh() {
    const pairs = shownPairs(await fetchJson('/data/plugin/text/tags'));
    const container = document.getElementById('text-cards');
    const cards = syncCards(container, this.cards, pairs, p => {
      const list = el('div', {class: 'text-entries'});
      return {div: el('div', {class: 'text-card', dataset: {run: p.run, tag: p.tag}}, cardTitle(p), list),
              list, p};
    });
    await forEachLimit(cards, 6, async card => {
      const entries = await fetchJson('/data/plugin/text/text?' + query(card.p));
      card.list.replaceChildren(...entries.slice().reverse().map(e =>
          el('div', {class: 'text-entry'}, el('span', {class: 'step-label', text: `step ${e.step}`}),
             el('pre', {text: e.text}))));
    });
    document.getElementById('text-empty').hidden = cards.length > 0;
  },
};
)JS";

}  // namespace braid::board
