// The dashboard script, part 2: a small canvas plotting kit (axes with round
// ticks, linear or log y, step / duration / clock-time x) and the line chart
// the scalars tab draws, with a hover read-out.
#include "braid/board/web_assets.h"

namespace braid::board {

const char kBoardJsChart[] = R"JS(
// A round tick spacing near span / n: 1, 2 or 5 times a power of ten.
function niceStep(span, n) {
  const raw = span / Math.max(1, n);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}
function niceTicks(lo, hi, n) {
  if (!(hi > lo)) return [lo];
  const s = niceStep(hi - lo, n);
  const out = [];
  for (let i = Math.ceil(lo / s); i * s <= hi + s * 1e-9 && out.length < 50; i++) {
    out.push(Number((i * s).toPrecision(12)));
  }
  return out;
}
function fmtNum(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return Number(v.toPrecision(3)).toExponential().replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}
function fmtDuration(sec) {
  const s = Math.abs(sec), sign = sec < 0 ? '-' : '';
  if (s < 60) return sign + `${Number(s.toPrecision(3))}s`;
  if (s < 3600) return sign + `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
  if (s < 86400) return sign + `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
  return sign + `${Math.floor(s / 86400)}d ${Math.round((s % 86400) / 3600)}h`;
}
function fmtClock(sec, span) {
  const d = new Date(sec * 1000);
  const two = n => String(n).padStart(2, '0');
  const hm = `${two(d.getHours())}:${two(d.getMinutes())}`;
  if (span > 2 * 86400) return `${d.getMonth() + 1}/${d.getDate()} ${hm}`;
  return span < 600 ? `${hm}:${two(d.getSeconds())}` : hm;
}
function fmtX(v, kind, span) {
  if (kind === 'relative') return fmtDuration(v);
  if (kind === 'wall') return fmtClock(v, span);
  return fmtNum(v);
}
// Ticks for clock time and durations fall on round seconds, minutes, hours.
function timeTicks(lo, hi, n) {
  const span = hi - lo;
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                 43200, 86400, 172800, 604800];
  const step = steps.find(s => span / s <= n) || niceStep(span, n);
  if (step < 1) return niceTicks(lo, hi, n);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi && out.length < 50; v += step) out.push(v);
  return out;
}

// A canvas sized to its element (sharp on high-density screens) with a plot
// area, x and y domains and the mapping between data and pixels.
class Plot {
  constructor(canvas, opts) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 420, h = canvas.clientHeight || 260;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    this.ctx = canvas.getContext('2d');
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.ctx.clearRect(0, 0, w, h);
    this.w = w; this.h = h;
    this.box = {l: 58, r: w - 12, t: 8, b: h - 26};
    this.xKind = opts.xKind || 'step';
    this.logY = !!opts.logY;
    this.setDomain(opts.x0, opts.x1, opts.y0, opts.y1);
  }
  setDomain(x0, x1, y0, y1) {
    if (!(x1 > x0)) { x0 -= 1; x1 += 1; }
    if (this.logY) { y0 = Math.log10(y0); y1 = Math.log10(y1); }
    if (!(y1 > y0)) { const d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
    const pad = (y1 - y0) * 0.05;
    this.x0 = x0; this.x1 = x1; this.y0 = y0 - pad; this.y1 = y1 + pad;
  }
  px(x) { return this.box.l + (x - this.x0) / (this.x1 - this.x0) * (this.box.r - this.box.l); }
  // y in data units; NaN for values a log axis cannot show.
  py(y) {
    const v = this.logY ? (y > 0 ? Math.log10(y) : NaN) : y;
    return this.box.b - (v - this.y0) / (this.y1 - this.y0) * (this.box.b - this.box.t);
  }
  dataX(px) { return this.x0 + (px - this.box.l) / (this.box.r - this.box.l) * (this.x1 - this.x0); }
  drawAxes() {
    const {ctx, box} = this;
    ctx.font = '11px system-ui, sans-serif';
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#eceff1';
    ctx.fillStyle = '#616161';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    let yTicks = niceTicks(this.y0, this.y1, 6);
    if (this.logY) {  // powers of ten when the range spans a few of them
      const powers = niceTicks(Math.floor(this.y0), Math.ceil(this.y1), 6).filter(Number.isInteger);
      if (powers.filter(t => t >= this.y0 && t <= this.y1).length >= 2) yTicks = powers;
    }
    for (const t of yTicks) {
      const y = this.logY ? box.b - (t - this.y0) / (this.y1 - this.y0) * (box.b - box.t) : this.py(t);
      if (y < box.t - 0.5 || y > box.b + 0.5) continue;
      ctx.beginPath(); ctx.moveTo(box.l, y); ctx.lineTo(box.r, y); ctx.stroke();
      ctx.fillText(this.logY ? fmtNum(Math.pow(10, t)) : fmtNum(t), box.l - 6, y);
    }
    const span = this.x1 - this.x0;
    const xTicks = this.xKind === 'step' ? niceTicks(this.x0, this.x1, Math.max(2, (box.r - box.l) / 90))
                                         : timeTicks(this.x0, this.x1, Math.max(2, (box.r - box.l) / 90));
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of xTicks) {
      const x = this.px(t);
      if (x < box.l - 0.5 || x > box.r + 0.5) continue;
      ctx.beginPath(); ctx.moveTo(x, box.t); ctx.lineTo(x, box.b); ctx.stroke();
      ctx.fillText(fmtX(t, this.xKind, span), x, box.b + 6);
    }
    ctx.strokeStyle = '#9e9e9e';
    ctx.beginPath(); ctx.moveTo(box.l, box.t); ctx.lineTo(box.l, box.b); ctx.lineTo(box.r, box.b); ctx.stroke();
  }
  clip() {
    const {ctx, box} = this;
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.l - 3, box.t - 3, box.r - box.l + 6, box.b - box.t + 6);  // whole dots at the edges
    ctx.clip();
  }
  // A polyline through (xs[i], ys[i]); gaps where a value is not finite.
  line(xs, ys, color, width, alpha) {
    const ctx = this.ctx;
    ctx.strokeStyle = color;
    ctx.globalAlpha = alpha;
    ctx.lineWidth = width;
    ctx.lineJoin = 'round';
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < xs.length; i++) {
      const y = this.py(ys[i]);
      if (!Number.isFinite(y) || !Number.isFinite(xs[i])) { pen = false; continue; }
      const x = this.px(xs[i]);
      if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      pen = true;
    }
    ctx.stroke();
    if (xs.length === 1 && Number.isFinite(this.py(ys[0]))) {  // a lone point as a dot
      ctx.fillStyle = color;
      ctx.beginPath(); ctx.arc(this.px(xs[0]), this.py(ys[0]), 2.5, 0, 7); ctx.fill();
    }
    ctx.globalAlpha = 1;
  }
}

// TensorBoard-style smoothing: an exponential moving average with weight w,
// divided by (1 - w^n) so that the first points are not pulled toward zero.
function smoothSeries(ys, weight) {
  const out = new Float64Array(ys.length);
  let acc = 0, n = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (!Number.isFinite(y)) { out[i] = y; continue; }
    acc = acc * weight + (1 - weight) * y;
    n++;
    out[i] = weight > 0 ? acc / (1 - Math.pow(weight, n)) : y;
  }
  return out;
}

function showTooltip(html, clientX, clientY) {
  const tip = document.getElementById('tooltip');
  tip.innerHTML = html;
  tip.hidden = false;
  const r = tip.getBoundingClientRect();
  tip.style.left = `${Math.min(clientX + 14, window.innerWidth - r.width - 6)}px`;
  tip.style.top = `${Math.min(clientY + 14, window.innerHeight - r.height - 6)}px`;
}
function hideTooltip() { document.getElementById('tooltip').hidden = true; }
function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
}

// Lines of several runs on one canvas. series: [{name, color, xs, ys,
// smooth (or null), steps}], xs ascending within a series.
class LineChart {
  constructor(parent) {
    this.canvas = el('canvas', {class: 'chart-canvas'});
    parent.append(this.canvas);
    this.series = [];
    this.opts = {};
    this.hoverX = null;
    this.canvas.addEventListener('mousemove', e => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => { this.hoverX = null; hideTooltip(); this.draw(); });
  }
  setData(series, opts) { this.series = series; this.opts = opts; this.draw(); }
  extent() {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    const logY = this.opts.logY;
    for (const s of this.series) {
      for (let i = 0; i < s.xs.length; i++) {
        const x = s.xs[i], y = s.ys[i];
        if (!Number.isFinite(x) || !Number.isFinite(y) || (logY && y <= 0)) continue;
        if (x < x0) x0 = x; if (x > x1) x1 = x;
        if (y < y0) y0 = y; if (y > y1) y1 = y;
      }
    }
    if (x0 === Infinity) return {x0: 0, x1: 1, y0: logY ? 0.1 : 0, y1: 1};
    return {x0, x1, y0, y1};
  }
  draw() {
    const plot = new Plot(this.canvas, {...this.opts, ...this.extent()});
    this.plot = plot;
    plot.drawAxes();
    plot.clip();
    for (const s of this.series) {
      if (s.smooth) {
        plot.line(s.xs, s.ys, s.color, 1, 0.25);
        plot.line(s.xs, s.smooth, s.color, 1.6, 1);
      } else {
        plot.line(s.xs, s.ys, s.color, 1.6, 1);
      }
    }
    if (this.hoverX !== null) {
      const x = plot.px(this.hoverX);
      plot.ctx.strokeStyle = '#757575';
      plot.ctx.setLineDash([3, 3]);
      plot.ctx.beginPath(); plot.ctx.moveTo(x, plot.box.t); plot.ctx.lineTo(x, plot.box.b); plot.ctx.stroke();
      plot.ctx.setLineDash([]);
    }
    plot.ctx.restore();
  }
  hover(e) {
    if (!this.plot || this.series.length === 0) return;
    const rect = this.canvas.getBoundingClientRect();
    const x = this.plot.dataX(e.clientX - rect.left);
    const rows = [];
    for (const s of this.series) {
      let best = -1, dist = Infinity;
      for (let i = 0; i < s.xs.length; i++) {
        const d = Math.abs(s.xs[i] - x);
        if (d < dist) { dist = d; best = i; }
      }
      if (best >= 0) rows.push({s, i: best});
    }
    if (rows.length === 0) return;
    this.hoverX = rows[0].s.xs[rows[0].i];
    this.draw();
    const value = r => r.s.smooth ? r.s.smooth[r.i] : r.s.ys[r.i];
    rows.sort((a, b) => value(b) - value(a));
    const shown = rows.slice(0, 12).map(r =>
        `<tr><td><span class="swatch" style="display:inline-block;background:${r.s.color}"></span></td>` +
        `<td>${escapeHtml(r.s.name)}</td><td>step ${r.s.steps[r.i]}</td>` +
        `<td>${fmtNum(r.s.ys[r.i])}</td>` + (r.s.smooth ? `<td>(smoothed ${fmtNum(r.s.smooth[r.i])})</td>` : '') +
        '</tr>');
    const more = rows.length > 12 ? `<div>… and ${rows.length - 12} more runs</div>` : '';
    showTooltip(`<table>${shown.join('')}</table>${more}`, e.clientX, e.clientY);
  }
}
)JS";

}  // namespace braid::board
