// The dashboard script, part 5: the graph tab. Nodes are grouped by name
// scope ("dense_1/MatMul" lies in "dense_1"); a collapsed scope is drawn as
// one box, a click expands it. The visible boxes are laid out in layers
// (longest path from the inputs, then a few barycenter sweeps to untangle
// edges) and drawn in SVG with pan and zoom.
#include "braid/board/web_assets.h"

namespace braid::board {

const char kBoardJsGraph[] = R"JS(
function scopesOf(name) {
  const parts = name.split('/');
  const out = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}
function shorten(s, n) { return s.length <= n ? s : '…' + s.slice(s.length - n + 1); }

// units: [{id, w, h}]; edges: [{from, to}] by unit id. Returns a Map id ->
// {x, y} (box centers) and the bounds.
function layeredLayout(units, edges) {
  const n = units.length;
  const index = new Map(units.map((u, i) => [u.id, i]));
  const succ = units.map(() => []), pred = units.map(() => []);
  for (const e of edges) {
    const f = index.get(e.from), t = index.get(e.to);
    if (f === undefined || t === undefined || f === t) continue;
    succ[f].push(t);
    pred[t].push(f);
  }
  // Longest-path layers in topological order; a cycle is entered at its
  // member with the fewest unvisited inputs.
  const indeg = pred.map(p => p.length), layer = new Array(n).fill(0), done = new Array(n).fill(false);
  const queue = [];
  for (let i = n - 1; i >= 0; i--) if (indeg[i] === 0) queue.push(i);
  for (let processed = 0; processed < n;) {
    if (queue.length === 0) {
      let best = -1;
      for (let i = 0; i < n; i++) if (!done[i] && (best < 0 || indeg[i] < indeg[best])) best = i;
      queue.push(best);
    }
    const v = queue.pop();
    if (done[v]) continue;
    done[v] = true;
    processed++;
    for (const w of succ[v]) {
      if (done[w]) continue;
      layer[w] = Math.max(layer[w], layer[v] + 1);
      if (--indeg[w] === 0) queue.push(w);
    }
  }
  const layers = [];
  for (let i = 0; i < n; i++) (layers[layer[i]] = layers[layer[i]] || []).push(i);
  const pos = new Array(n).fill(0.5);
  const place = L => L.forEach((v, i) => { pos[v] = (i + 0.5) / L.length; });
  layers.forEach(L => L && place(L));
  for (let sweep = 0; sweep < 8; sweep++) {
    const down = sweep % 2 === 0;
    const order = layers.map((_, i) => i);
    if (!down) order.reverse();
    for (const li of order) {
      const L = layers[li];
      if (!L) continue;
      const bary = new Map(L.map(v => {
        const nb = down ? pred[v] : succ[v];
        return [v, nb.length ? nb.reduce((a, u) => a + pos[u], 0) / nb.length : pos[v]];
      }));
      L.sort((a, b) => bary.get(a) - bary.get(b));
      place(L);
    }
  }
  const at = new Map();
  const gapX = 22, gapY = 64;
  let minX = Infinity, maxX = -Infinity, y = 0, maxY = 0;
  for (const L of layers) {
    if (!L) continue;
    const width = L.reduce((a, v) => a + units[v].w, 0) + gapX * (L.length - 1);
    const rowH = Math.max(...L.map(v => units[v].h));
    let x = -width / 2;
    for (const v of L) {
      at.set(units[v].id, {x: x + units[v].w / 2, y: y + rowH / 2});
      x += units[v].w + gapX;
    }
    minX = Math.min(minX, -width / 2);
    maxX = Math.max(maxX, width / 2);
    maxY = y + rowH;
    y += rowH + gapY;
  }
  return {at, bounds: {x0: minX, x1: maxX, y0: 0, y1: maxY}};
}

board.views.graph = {
  run: null,
  nodes: [],
  scopeSize: new Map(),   // scope -> nodes inside it
  expanded: new Set(),
  view: {x: 0, y: 0, k: 1},
  wired: false,

  async refresh() {
    this.wire();
    const runs = await fetchJson('/data/plugin/graphs/runs');
    const select = document.getElementById('graph-run');
    if ([...select.options].map(o => o.value).join('\n') !== runs.join('\n')) {
      select.replaceChildren(...runs.map(r => el('option', {value: r, text: r})));
    }
    document.getElementById('graph-empty').hidden = runs.length > 0;
    const run = runs.includes(this.run) ? this.run : runs[0];
    if (!run) {
      document.getElementById('graph-view').replaceChildren();
      return;
    }
    select.value = run;
    if (run !== this.run) await this.load(run);
  },

  wire() {
    if (this.wired) return;
    this.wired = true;
    document.getElementById('graph-run').addEventListener('change', e => this.load(e.target.value));
    document.getElementById('graph-expand-all').addEventListener('click', () => {
      this.expanded = new Set(this.scopeSize.keys());
      this.render(true);
    });
    document.getElementById('graph-collapse-all').addEventListener('click', () => {
      this.expanded.clear();
      this.render(true);
    });
    document.getElementById('graph-fit').addEventListener('click', () => this.fit());
  },

  async load(run) {
    const g = await fetchJson('/data/plugin/graphs/graph?' + query({run}));
    this.run = run;
    this.nodes = g.nodes;
    this.scopeSize = new Map();
    for (const node of this.nodes) {
      for (const s of scopesOf(node.name)) this.scopeSize.set(s, (this.scopeSize.get(s) || 0) + 1);
    }
    // Start collapsed, but open the biggest scopes while little is shown
    // (a model whose every node sits in one scope).
    this.expanded = new Set();
    for (let i = 0; i < 6 && this.units().units.size < 8; i++) {
      let best = null;
      for (const u of this.units().units.values()) {
        if (u.kind === 'scope' && (!best || u.count > best.count)) best = u;
      }
      if (!best) break;
      this.expanded.add(best.name);
    }
    this.render(true);
  },

  unitOf(name) {
    for (const s of scopesOf(name)) if (!this.expanded.has(s)) return 'scope:' + s;
    return 'node:' + name;
  },

  // The boxes to draw and the edges between them.
  units() {
    const units = new Map(), edges = new Map();
    const known = new Set(this.nodes.map(n => n.name));
    for (const node of this.nodes) {
      const id = this.unitOf(node.name);
      if (!units.has(id)) {
        if (id.startsWith('scope:')) {
          const name = id.slice(6);
          units.set(id, {id, kind: 'scope', name, count: this.scopeSize.get(name)});
        } else {
          units.set(id, {id, kind: 'node', name: node.name, node});
        }
      }
      for (const input of node.inputs || []) {
        const control = input.startsWith('^');
        const src = input.replace(/^\^/, '').replace(/:\d+$/, '');
        if (!known.has(src)) continue;
        const from = this.unitOf(src);
        if (from === id) continue;
        const key = `${from}\u0000${id}`;
        const e = edges.get(key);
        if (e) e.control = e.control && control;
        else edges.set(key, {from, to: id, control});
      }
    }
    return {units, edges: [...edges.values()]};
  },

  render(fit) {
    const {units, edges} = this.units();
    const list = [...units.values()];
    for (const u of list) {
      const label = shorten(u.name, 34);
      u.label = label;
      u.sub = u.kind === 'scope' ? `${u.count} nodes` : u.node.op;
      u.w = Math.max(90, 6.6 * Math.max(label.length, u.sub.length) + 20);
      u.h = u.kind === 'scope' ? 38 : 34;
    }
    const {at, bounds} = layeredLayout(list, edges);
    this.bounds = bounds;
    const svg = svgEl('svg', {id: 'graph-svg', dataset: {units: list.length, edges: edges.length}});
    const arrow = svgEl('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5,
                                   markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'},
                        svgEl('path', {d: 'M0,0 L10,5 L0,10 z', fill: '#90a4ae'}));
    const root = svgEl('g', {id: 'graph-root'});
    svg.append(svgEl('defs', {}, arrow), root);
    for (const e of edges) {
      const a = at.get(e.from), b = at.get(e.to);
      const ua = units.get(e.from), ub = units.get(e.to);
      const y1 = a.y + ua.h / 2, y2 = b.y - ub.h / 2;
      const bend = Math.max(24, Math.abs(y2 - y1) / 2);
      root.append(svgEl('path', {class: 'graph-edge' + (e.control ? ' control' : ''),
                                 d: `M${a.x},${y1} C${a.x},${y1 + bend} ${b.x},${y2 - bend} ${b.x},${y2}`,
                                 'marker-end': 'url(#arrow)'}));
    }
    for (const u of list) {
      const p = at.get(u.id);
      const g = svgEl('g', {class: u.kind === 'scope' ? 'graph-scope' : 'graph-node',
                            transform: `translate(${p.x - u.w / 2},${p.y - u.h / 2})`,
                            dataset: u.kind === 'scope' ? {scope: u.name} : {name: u.name, op: u.node.op}});
      const title = u.kind === 'scope'
          ? `${u.name}: ${u.count} nodes (click to expand)`
          : [`${u.name}`, `op: ${u.node.op}`, u.node.device ? `device: ${u.node.device}` : '',
             u.node.output_shapes ? `shapes: ${u.node.output_shapes.join(' ')}` : '',
             (u.node.inputs || []).length ? `inputs: ${u.node.inputs.join(', ')}` : '']
                .filter(Boolean).join('\n');
      g.append(svgEl('title', {text: title}),
               svgEl('rect', {width: u.w, height: u.h, rx: u.kind === 'scope' ? 8 : 4}),
               svgEl('text', {x: 10, y: 15, text: (u.kind === 'scope' ? '+ ' : '') + u.label}),
               svgEl('text', {x: 10, y: u.h - 8, class: 'count', text: u.sub}));
      if (u.kind === 'scope') {
        g.addEventListener('click', () => { this.expanded.add(u.name); this.render(false); });
      }
      root.append(g);
    }
    const view = document.getElementById('graph-view');
    view.replaceChildren(svg);
    this.svg = svg;
    this.root = root;
    this.enablePanZoom(svg);
    this.renderInfo(list.length);
    if (fit) this.fit(); else this.applyView();
  },

  renderInfo(shown) {
    const info = document.getElementById('graph-info');
    const open = [...this.expanded].sort();
    info.replaceChildren(`${this.nodes.length} nodes, ${shown} boxes shown`,
        ...(open.length ? [' · expanded: '] : []),
        ...open.slice(0, 12).map(s => el('button', {class: 'collapse-scope', title: `collapse ${s}`,
            text: `− ${shorten(s, 24)}`, onclick: () => {
              for (const e of [...this.expanded]) if (e === s || e.startsWith(s + '/')) this.expanded.delete(e);
              this.render(false);
            }})));
  },

  fit() {
    if (!this.svg || !this.bounds) return;
    const w = this.svg.clientWidth || 800, h = this.svg.clientHeight || 600;
    const b = this.bounds, pad = 24;
    const k = Math.min(1.5, (w - 2 * pad) / Math.max(1, b.x1 - b.x0), (h - 2 * pad) / Math.max(1, b.y1 - b.y0));
    this.view = {k, x: w / 2 - k * (b.x0 + b.x1) / 2, y: pad - k * b.y0};
    this.applyView();
  },
  applyView() {
    if (this.root) this.root.setAttribute('transform', `translate(${this.view.x},${this.view.y}) scale(${this.view.k})`);
  },
  enablePanZoom(svg) {
    svg.addEventListener('wheel', e => {
      e.preventDefault();
      const r = svg.getBoundingClientRect();
      const px = e.clientX - r.left, py = e.clientY - r.top;
      const k = Math.min(4, Math.max(0.05, this.view.k * Math.exp(-e.deltaY * 0.0015)));
      this.view = {k, x: px - (px - this.view.x) * k / this.view.k, y: py - (py - this.view.y) * k / this.view.k};
      this.applyView();
    }, {passive: false});
    let drag = null;
    svg.addEventListener('pointerdown', e => {
      if (e.target.closest('.graph-scope')) return;
      drag = {x: e.clientX - this.view.x, y: e.clientY - this.view.y};
      svg.setPointerCapture(e.pointerId);
    });
    svg.addEventListener('pointermove', e => {
      if (!drag) return;
      this.view = {...this.view, x: e.clientX - drag.x, y: e.clientY - drag.y};
      this.applyView();
    });
    svg.addEventListener('pointerup', () => { drag = null; });
  },
};
)JS";

}  // namespace braid::board
