// The dashboard script, part 1: page state, fetching, tabs, the run list,
// problems, settings and polling for new data.
#include "braid/board/web_assets.h"

namespace braid::board {

const char kBoardJsCore[] = R"JS('use strict';
// State shared by every tab. Each tab is a view {refresh(), redraw()}:
// refresh fetches its data, redraw re-renders from what it has (after a
// settings change or a run being toggled).
const board = {
  tab: 'scalars',
  runs: [],               // every run, sorted as the server lists them
  runIndex: new Map(),    // run -> position in runs (its color)
  selected: new Set(),    // runs shown
  seen: new Set(),        // runs met so far: a new run starts selected
  runFilter: '',
  tagFilter: '',
  smoothing: 0.6,
  xAxis: 'step',          // step | relative | wall
  logScale: false,
  statusKey: null,        // what /data/status said last; a change means new data
  pollMs: 5000,
  views: {},
};

const PALETTE = ['#1e88e5', '#e53935', '#43a047', '#fb8c00', '#8e24aa', '#00acc1',
                 '#6d4c41', '#d81b60', '#7cb342', '#3949ab', '#c0ca33', '#546e7a'];

function runColor(run) {
  const i = board.runIndex.get(run);
  if (i === undefined) return '#9e9e9e';
  if (i < PALETTE.length) return PALETTE[i];
  return `hsl(${(i * 137.508) % 360}, 65%, 45%)`;  // golden-angle hues beyond the palette
}

// el('div', {class: 'x', dataset: {tag}, onclick: f}, child, 'text', ...)
function el(tag, attrs = {}, ...children) {
  const e = tag === 'svg' || attrs.svg ? document.createElementNS('http://www.w3.org/2000/svg', tag)
                                       : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'svg' || v === undefined || v === null) continue;
    if (k === 'class') e.setAttribute('class', v);
    else if (k === 'text') e.textContent = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}
function svgEl(tag, attrs = {}, ...children) { return el(tag, {...attrs, svg: true}, ...children); }

// Fetches JSON; a non-2xx answer throws an Error carrying the server's
// {"error": ...} message and the HTTP status.
async function fetchJson(url) {
  const r = await fetch(url, {cache: 'no-store'});
  let body = null;
  try { body = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) {
    const err = new Error((body && body.error) || `${r.status} ${r.statusText}`);
    err.status = r.status;
    throw err;
  }
  return body;
}

function query(params) {
  return Object.entries(params)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

// Runs fn over items, at most `limit` at once (a browser's connections).
async function forEachLimit(items, limit, fn) {
  let next = 0;
  const worker = async () => { while (next < items.length) await fn(items[next++]); };
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker));
}

// A predicate from a filter box: a case-insensitive regex, or a plain
// substring while the text is not a valid regex (the box turns red).
function makeMatcher(text, input) {
  if (input) input.classList.remove('invalid');
  if (!text) return () => true;
  try {
    const re = new RegExp(text, 'i');
    return s => re.test(s);
  } catch (e) {
    if (input) input.classList.add('invalid');
    const t = text.toLowerCase();
    return s => s.toLowerCase().includes(t);
  }
}
function tagMatcher() { return makeMatcher(board.tagFilter, document.getElementById('tag-filter')); }
function visibleRuns() { return board.runs.filter(r => board.selected.has(r)); }

function compareTags(a, b) { return a.localeCompare(b, undefined, {numeric: true}); }

async function refreshRuns() {
  const runs = await fetchJson('/data/runs');
  for (const r of runs) {
    if (!board.seen.has(r)) { board.seen.add(r); board.selected.add(r); }
  }
  if (runs.join('\n') !== board.runs.join('\n')) {
    board.runs = runs;
    board.runIndex = new Map(runs.map((r, i) => [r, i]));
    renderRunList();
  }
}

function renderRunList() {
  const match = makeMatcher(board.runFilter, document.getElementById('run-filter'));
  const items = board.runs.filter(match).map(run => {
    const box = el('input', {type: 'checkbox', class: 'run-toggle', dataset: {run}});
    box.checked = board.selected.has(run);
    box.addEventListener('change', () => {
      if (box.checked) board.selected.add(run); else board.selected.delete(run);
      updateRunCount();
      redrawView();
    });
    const swatch = el('span', {class: 'swatch'});
    swatch.style.background = runColor(run);
    return el('label', {class: 'run-item', title: run}, box, swatch, el('span', {text: run}));
  });
  document.getElementById('run-list').replaceChildren(...items);
  updateRunCount();
}
function updateRunCount() {
  document.getElementById('run-count').textContent =
      `(${visibleRuns().length}/${board.runs.length})`;
}

async function refreshProblems() {
  const problems = await fetchJson('/data/problems');
  const box = document.getElementById('problems');
  box.hidden = problems.length === 0;
  document.getElementById('problems-summary').textContent =
      `${problems.length} problem${problems.length === 1 ? '' : 's'} reading the logdir`;
  document.getElementById('problem-list').replaceChildren(
      ...problems.map(p => el('li', {text: (p.run ? `[${p.run}] ` : '') + p.message})));
}

function setStatus(text) { document.getElementById('status').textContent = text; }

let refreshing = null;      // the refresh in flight: polls and clicks do not pile up
let refreshAgain = false;  // asked for while one was in flight: run once more
async function refreshAll() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      try {
        await refreshRuns();
        await refreshProblems();
        await board.views[board.tab].refresh();
      } catch (e) {
        setStatus(`error: ${e.message}`);
      }
    } while (refreshAgain);
    refreshing = null;
  })();
  return refreshing;
}

function redrawView() {
  const view = board.views[board.tab];
  if (view.redraw) view.redraw(); else view.refresh();
}

async function poll() {
  try {
    const s = await fetchJson('/data/status');
    setStatus(`${s.runs} run${s.runs === 1 ? '' : 's'} · ${s.events.toLocaleString()} events` +
              (s.loaded ? '' : ' · loading…'));
    const key = `${s.events}/${s.runs}/${s.problems}/${s.loaded}`;
    if (key !== board.statusKey) {
      board.statusKey = key;
      await refreshAll();
    }
  } catch (e) {
    setStatus(`server unreachable (${e.message})`);
  }
  setTimeout(poll, board.pollMs);
}

function showTab(tab) {
  if (!board.views[tab]) tab = 'scalars';
  board.tab = tab;
  for (const b of document.querySelectorAll('.tab')) b.classList.toggle('active', b.dataset.tab === tab);
  for (const p of document.querySelectorAll('.panel')) p.hidden = p.id !== `panel-${tab}`;
  document.getElementById('scalar-settings').hidden = tab !== 'scalars';
  if (location.hash !== `#${tab}`) history.replaceState(null, '', `#${tab}`);
  refreshAll();
}

function saveSettings() {
  try {
    localStorage.setItem('braid-board', JSON.stringify(
        {smoothing: board.smoothing, xAxis: board.xAxis, logScale: board.logScale}));
  } catch (e) { /* storage may be off */ }
}
function loadSettings() {
  try {
    Object.assign(board, JSON.parse(localStorage.getItem('braid-board') || '{}'));
  } catch (e) { /* keep the defaults */ }
  document.getElementById('smoothing').value = board.smoothing;
  document.getElementById('smoothing-value').textContent = board.smoothing.toFixed(2);
  document.getElementById('log-scale').checked = board.logScale;
  const radio = document.getElementById(`xaxis-${board.xAxis}`);
  if (radio) radio.checked = true;
}

function debounce(fn, ms) {
  let t = null;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

function wireControls() {
  for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => showTab(b.dataset.tab));
  const smoothing = document.getElementById('smoothing');
  smoothing.addEventListener('input', () => {
    board.smoothing = Number(smoothing.value);
    document.getElementById('smoothing-value').textContent = board.smoothing.toFixed(2);
    saveSettings();
    board.views.scalars.redraw();
  });
  for (const r of document.querySelectorAll('input[name=xaxis]')) {
    r.addEventListener('change', () => { board.xAxis = r.value; saveSettings(); board.views.scalars.redraw(); });
  }
  document.getElementById('log-scale').addEventListener('change', e => {
    board.logScale = e.target.checked;
    saveSettings();
    board.views.scalars.redraw();
  });
  document.getElementById('tag-filter').addEventListener('input', debounce(e => {
    board.tagFilter = e.target.value;
    redrawView();
  }, 150));
  document.getElementById('run-filter').addEventListener('input', debounce(e => {
    board.runFilter = e.target.value;
    renderRunList();
  }, 150));
  const setAll = on => {
    const match = makeMatcher(board.runFilter, null);
    for (const r of board.runs) if (match(r)) { if (on) board.selected.add(r); else board.selected.delete(r); }
    renderRunList();
    redrawView();
  };
  document.getElementById('runs-all').addEventListener('click', () => setAll(true));
  document.getElementById('runs-none').addEventListener('click', () => setAll(false));
  document.getElementById('reload').addEventListener('click', async () => {
    await fetch('/data/reload', {cache: 'no-store'});
    setTimeout(refreshAll, 700);
  });
  window.addEventListener('resize', debounce(() => redrawView(), 200));
  window.addEventListener('hashchange', () => showTab(location.hash.slice(1)));
}

window.addEventListener('DOMContentLoaded', () => {
  loadSettings();
  wireControls();
  showTab(location.hash.slice(1) || 'scalars');
  poll();
});
)JS";

}  // namespace braid::board
