// biocluster serve: the page. Hand-written, no libraries, nothing loaded from the network.
// The server simulates; this script plays the years back at the chosen speed, draws SVG charts,
// keeps pinned runs for comparison, and talks to the JSON API (src/serve/api.rs).
'use strict';

const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#d55e00', '#cc79a7', '#56b4e9', '#f0e442', '#000000'];
const KIND_NAMES = ['firm', 'university / institute', 'pharma partner', 'investor'];
const PIN_DASH = ['6 3', '2 3', '8 3 2 3', '1 2'];
const PIN_LETTERS = ['A', 'B', 'C', 'D'];
const CHARTS = [
  { id: 'firms', title: 'Firms alive', unit: 'firms at year end', metric: 'firms_alive' },
  { id: 'alliances', title: 'Active alliances, by kind', unit: 'alliances at year end', kinds: true },
  { id: 'revenue', title: "Firms' revenue", unit: 'M$ per year', metric: 'revenue_total_musd' },
  { id: 'approvals', title: 'Drug approvals', unit: 'per year', metric: 'approvals' },
  { id: 'public', title: 'Public money spent', unit: 'M$ per year (to firms and programmes)', metric: 'public_spend_musd' },
  { id: 'listed', title: 'Listed firms', unit: 'firms at year end', metric: 'firms_listed' },
];
const OUTCOMES = {
  firms_alive: ['Firms alive at the end', 'firms'],
  revenue_musd: ["Firms' revenue in the last year", 'M$'],
  approvals: ['Drug approvals over the run', 'approvals'],
  public_spend_musd: ['Public money spent over the run', 'M$'],
  alliances_active: ['Active alliances at the end', 'alliances'],
};
const FAN_METRICS = {
  firms_alive: 'Firms alive', alliances_active_tech: 'Technological alliances', alliances_active_nontech:
    'Non-technological alliances', revenue_total_musd: "Firms' revenue (M$/yr)", approvals: 'Drug approvals per year',
  public_spend_musd: 'Public money spent (M$/yr)',
};
// TS_COLUMNS order of the server (observe/mod.rs); filled from the first year received.
let COLUMNS = null;

const S = {
  token: null, role: null, info: null, scenario: null, settings: {}, run: null, shown: 0, playing: false,
  pins: [], baseline: null, batch: null, exercise: null, pushed: null, timer: null,
};

// ---------------------------------------------------------------------------------------------
// Small helpers

const $ = (id) => document.getElementById(id);
// A button on every chart: the picture as an SVG file, for slides.
const SAVE = '<button class="save-svg link" title="save this chart as an SVG file, for slides">save SVG</button>';
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}
function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
function fmt(x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  const a = Math.abs(x);
  const d = digits !== undefined ? digits : a >= 100 ? 0 : a >= 10 ? 1 : 2;
  return x.toLocaleString('en-GB', { maximumFractionDigits: d, minimumFractionDigits: 0 });
}
function keyId(key) { return 'err-' + key.replace(/[^a-zA-Z0-9_-]/g, '_'); }
function setStatus(text) { $('run-status').textContent = text; }

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : 'HTTP ' + status);
    this.status = status; this.field = body && body.field; this.problems = (body && body.problems) || [];
  }
}

async function api(method, path, body, raw) {
  const headers = {};
  if (S.token) headers['x-session'] = S.token;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) {
    let parsed = null;
    try { parsed = await response.json(); } catch (_) { parsed = null; }
    throw new ApiError(response.status, parsed);
  }
  return raw ? response : response.json();
}

async function saveDownload(method, path, body, fallbackName) {
  const response = await api(method, path, body, true);
  const disposition = response.headers.get('content-disposition') || '';
  const match = /filename="([^"]+)"/.exec(disposition);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: match ? match[1] : fallbackName });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return blob;
}

function clearErrors() {
  for (const e of document.querySelectorAll('.err')) e.textContent = '';
  for (const e of document.querySelectorAll('.invalid')) e.classList.remove('invalid');
}

// Puts an API error beside its field (a lever, the upload, the replication) or in the status line.
function showError(err, fallback) {
  if (!(err instanceof ApiError)) { setStatus('Error: ' + err.message); return; }
  const problems = err.problems.length ? err.problems : [{ key: err.field, message: err.message }];
  let placed = 0;
  for (const p of problems) {
    const target = $(keyId(p.key || '')) || (p.key && p.key.startsWith('baseline.') && $(keyId(p.key.slice(9))));
    if (target) {
      target.textContent = (p.key && p.key.startsWith('baseline.') ? 'baseline: ' : '') + p.message;
      const input = document.querySelector('[data-key="' + CSS.escape(p.key) + '"]');
      if (input) input.classList.add('invalid');
      const details = target.closest('details');
      if (details) details.open = true;
      placed++;
    }
  }
  if (fallback && $(fallback) && placed === 0) { $(fallback).textContent = err.message; placed++; }
  setStatus(placed ? 'Please correct the fields marked in red.' : 'Error: ' + err.message);
}

// ---------------------------------------------------------------------------------------------
// SVG charts

function niceTicks(lo, hi, n) {
  if (!(hi > lo)) { hi = lo + 1; }
  const span = hi - lo, raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= n) || 10 * mag;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.round(t / step) * step);
  return ticks;
}

// Ticks of an axis that covers [lo, hi]: its first tick at or below lo, its last at or above hi.
function axisTicks(lo, hi) {
  const inner = niceTicks(lo, hi, 5), step = inner.length > 1 ? inner[1] - inner[0] : 1;
  const ticks = [];
  for (let t = Math.floor(lo / step) * step; t < hi + step - step * 1e-9; t += step) ticks.push(Math.round(t / step) * step);
  return ticks.length > 1 ? ticks : [lo, lo + step];
}

// series: [{points: [[x, y]], color, dash, width, opacity}], bands: [{points: [[x, lo, hi]], color, opacity}]
function lineChart(spec) {
  const W = 400, H = 260, L = 50, R = 10, T = 38, B = 48;
  const xs = [], ys = [0];
  for (const s of spec.series) for (const p of s.points) { xs.push(p[0]); ys.push(p[1]); }
  for (const b of spec.bands || []) for (const p of b.points) { xs.push(p[0]); ys.push(p[1], p[2]); }
  const x0 = spec.xRange ? spec.xRange[0] : Math.min(...xs), x1 = spec.xRange ? spec.xRange[1] : Math.max(...xs);
  let y1 = Math.max(...ys.filter(Number.isFinite)); if (!(y1 > 0)) y1 = 1;
  const yTicks = niceTicks(0, y1, 5); const yMax = Math.max(y1, yTicks[yTicks.length - 1]);
  const X = (x) => L + (W - L - R) * (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5);
  const Y = (y) => T + (H - T - B) * (1 - y / yMax);
  let svg = `<svg font-family="DejaVu Sans, sans-serif" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(spec.title)}" data-series="${spec.series.length}">`;
  svg += `<text x="8" y="16" font-size="15" font-weight="bold">${esc(spec.title)}</text>`;
  svg += `<text x="8" y="31" font-size="11.5" fill="#666">${esc(spec.unit || '')}</text>`;
  for (const t of yTicks) {
    svg += `<line x1="${L}" x2="${W - R}" y1="${Y(t)}" y2="${Y(t)}" stroke="#eee"/>`;
    svg += `<text x="${L - 5}" y="${Y(t) + 4}" font-size="11" text-anchor="end">${fmt(t)}</text>`;
  }
  const xTicks = niceTicks(x0, x1, 6).filter((t) => Number.isInteger(t) && t >= x0 && t <= x1);
  for (const t of xTicks) svg += `<text x="${X(t)}" y="${H - B + 16}" font-size="11" text-anchor="middle">${t}</text>`;
  svg += `<line x1="${L}" x2="${W - R}" y1="${Y(0)}" y2="${Y(0)}" stroke="#999"/>`;
  for (const b of spec.bands || []) {
    if (!b.points.length) continue;
    const top = b.points.map((p) => `${X(p[0])},${Y(p[2])}`), bottom = b.points.slice().reverse().map((p) => `${X(p[0])},${Y(p[1])}`);
    svg += `<polygon points="${top.concat(bottom).join(' ')}" fill="${b.color}" fill-opacity="${b.opacity || 0.2}"/>`;
  }
  for (const s of spec.series) {
    if (!s.points.length) continue;
    const d = s.points.map((p, i) => (i ? 'L' : 'M') + X(p[0]).toFixed(1) + ',' + Y(p[1]).toFixed(1)).join('');
    svg += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width || 2}" stroke-opacity="${s.opacity || 1}"` +
      (s.dash ? ` stroke-dasharray="${s.dash}"` : '') + '/>';
    if (s.points.length === 1) svg += `<circle cx="${X(s.points[0][0])}" cy="${Y(s.points[0][1])}" r="2.5" fill="${s.color}"/>`;
  }
  // Legend strip under the axis, wrapped onto as many rows as it needs (the picture grows).
  let lx = 8, ly = H - 12;
  for (const item of spec.legend || []) {
    const width = 30 + 6.3 * item.label.length;
    if (lx + width > W && lx > 8) { lx = 8; ly += 15; }
    svg += `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${item.color}" stroke-width="2"` +
      (item.dash ? ` stroke-dasharray="${item.dash}"` : '') + '/>';
    svg += `<text x="${lx + 22}" y="${ly}" font-size="11">${esc(item.label)}</text>`;
    lx += width;
  }
  return svg.replace(`viewBox="0 0 ${W} ${H}"`, `viewBox="0 0 ${W} ${ly + 6}"`) + '</svg>';
}

function clusterColor(i) { return PALETTE[i % PALETTE.length]; }

function column(name) { return COLUMNS ? COLUMNS.indexOf(name) : -1; }

// Points of one metric of one cluster over the first `n` years of a run.
function seriesOf(years, cluster, metric, n) {
  const c = column(metric), out = [];
  for (const y of years.slice(0, n)) { const row = y.clusters[cluster]; if (row && c >= 0) out.push([y.year, row[c]]); }
  return out;
}

function drawCharts() {
  const box = $('charts');
  if (!S.scenario) return;
  const clusters = S.scenario.clusters.map((c) => c.name);
  const first = S.scenario.start_year, last = first + S.scenario.years - 1;
  const runs = [];
  if ($('overlay') === null || $('overlay').checked) {
    S.pins.forEach((p, i) => { if (p.scenarioId === S.scenario.id) runs.push({ years: p.years, n: p.years.length, dash: PIN_DASH[i], width: 1.3, opacity: 0.75, label: 'pin ' + p.letter }); });
  }
  if (S.run) runs.push({ years: S.run.years, n: S.shown, dash: null, width: 2.2, opacity: 1, label: 'this run' });
  let html = '';
  for (const chart of CHARTS) {
    const series = [], legend = [];
    if (chart.kinds) {
      for (const r of runs) {
        series.push({ points: seriesOf(r.years, 'all', 'alliances_active_tech', r.n), color: '#333', dash: r.dash, width: r.width, opacity: r.opacity });
        series.push({ points: seriesOf(r.years, 'all', 'alliances_active_nontech', r.n), color: '#999', dash: r.dash, width: r.width, opacity: r.opacity });
      }
      legend.push({ label: 'technological', color: '#333' }, { label: 'non-technological', color: '#999' });
    } else {
      for (const r of runs) clusters.forEach((c, i) => series.push({ points: seriesOf(r.years, c, chart.metric, r.n), color: clusterColor(i), dash: r.dash, width: r.width, opacity: r.opacity }));
      clusters.forEach((c, i) => legend.push({ label: c, color: clusterColor(i) }));
    }
    S.pins.forEach((p, i) => { if (p.scenarioId === S.scenario.id) legend.push({ label: 'pin ' + p.letter, color: '#555', dash: PIN_DASH[i] }); });
    html += `<div class="card chart" id="chart-${chart.id}">${SAVE}` + lineChart({ title: chart.title, unit: chart.unit, series, legend, xRange: [first, last] }) + '</div>';
  }
  box.innerHTML = html;
}

function drawNetwork() {
  const box = $('network');
  const year = S.run && S.shown > 0 ? S.run.years[S.shown - 1] : null;
  if (!year || !year.network) { box.innerHTML = '<p class="hint">The alliance network of the year shown appears here.</p>'; return; }
  const { nodes, edges } = year.network;
  const W = 560, pad = 16;
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (const n of nodes) { xmin = Math.min(xmin, n[0]); xmax = Math.max(xmax, n[0]); ymin = Math.min(ymin, n[1]); ymax = Math.max(ymax, n[1]); }
  if (!Number.isFinite(xmin)) { xmin = -1; xmax = 1; ymin = -1; ymax = 1; }
  const scale = Math.min((W - 2 * pad) / Math.max(xmax - xmin, 1e-6), 380 / Math.max(ymax - ymin, 1e-6));
  const H = 44 + 2 * pad + (ymax - ymin) * scale + 26;
  const X = (x) => pad + (x - xmin) * scale + (W - 2 * pad - (xmax - xmin) * scale) / 2;
  const Y = (y) => 44 + pad + (ymax - y) * scale;
  const tech = edges.filter((e) => e[2]).length;
  let svg = `<svg font-family="DejaVu Sans, sans-serif" viewBox="0 0 ${W} ${H}" role="img" aria-label="Alliance network" data-nodes="${nodes.length}" data-edges="${edges.length}">`;
  svg += `<text x="8" y="17" font-size="15" font-weight="bold">Alliance network, end of ${year.year}</text>`;
  svg += `<text x="8" y="34" font-size="11.5" fill="#666">${nodes.length} actors; alliances: ${tech} technological (solid), ${edges.length - tech} other (dashed); colour: cluster</text>`;
  for (const e of edges) {
    const a = nodes[e[0]], b = nodes[e[1]];
    if (!a || !b) continue;
    svg += `<line x1="${X(a[0]).toFixed(1)}" y1="${Y(a[1]).toFixed(1)}" x2="${X(b[0]).toFixed(1)}" y2="${Y(b[1]).toFixed(1)}" stroke="${e[2] ? '#333' : '#888'}" stroke-opacity="0.35" stroke-width="0.8"${e[2] ? '' : ' stroke-dasharray="3 2"'}/>`;
  }
  for (const n of nodes) {
    const [x, y, kind, cluster, degree] = n, r = 2 + 1.4 * Math.sqrt(degree), cx = X(x), cy = Y(y), fill = clusterColor(cluster);
    const title = `<title>${KIND_NAMES[kind]}, ${S.scenario.clusters[cluster] ? S.scenario.clusters[cluster].name : ''}, ${degree} alliances</title>`;
    if (kind === 0) svg += `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${r.toFixed(1)}" fill="${fill}" stroke="#fff" stroke-width="0.5">${title}</circle>`;
    else if (kind === 1) svg += `<rect x="${(cx - r).toFixed(1)}" y="${(cy - r).toFixed(1)}" width="${(2 * r).toFixed(1)}" height="${(2 * r).toFixed(1)}" fill="${fill}" stroke="#222">${title}</rect>`;
    else if (kind === 2) svg += `<polygon points="${cx},${cy - r * 1.2} ${cx + r * 1.1},${cy + r * 0.8} ${cx - r * 1.1},${cy + r * 0.8}" fill="${fill}" stroke="#222">${title}</polygon>`;
    else svg += `<polygon points="${cx},${cy - r * 1.2} ${cx + r * 1.2},${cy} ${cx},${cy + r * 1.2} ${cx - r * 1.2},${cy}" fill="${fill}" stroke="#222">${title}</polygon>`;
  }
  let lx = 8;
  const shapes = ['circle: firm', 'square: university', 'triangle: pharma', 'diamond: investor'];
  for (const s of shapes) { svg += `<text x="${lx}" y="${H - 8}" font-size="11.5" fill="#444">${s}</text>`; lx += 6.6 * s.length + 16; }
  box.innerHTML = SAVE + svg + '</svg>';
}

function drawSurvey() {
  const box = $('survey');
  const survey = S.run && S.run.status === 'done' && S.shown >= S.run.years.length ? S.run.survey : null;
  if (!survey) { box.innerHTML = '<p class="hint">The survey of this run (ln sales on cooperation, by cluster type, as the Korean Bio-industry Status Survey study) appears when the run has been played to its end.</p>'; return; }
  const rows = survey.rows;
  const W = 560, rowH = 28, T = 48, L = 270, R = 20, H = T + rowH * rows.length + 40;
  const lo = Math.min(0, ...rows.map((r) => r.coef - 1.96 * r.se)), hi = Math.max(0, ...rows.map((r) => r.coef + 1.96 * r.se));
  const X = (x) => L + (W - L - R) * (x - lo) / Math.max(hi - lo, 1e-9);
  const names = { oi: 'open innovation', tech: 'technological cooperation', nontech: 'non-technological cooperation' };
  let svg = `<svg font-family="DejaVu Sans, sans-serif" viewBox="0 0 ${W} ${H}" role="img" aria-label="Survey regressions" data-rows="${rows.length}">`;
  svg += `<text x="8" y="17" font-size="15" font-weight="bold">The survey of this run: effect on ln sales, 95 % intervals</text>`;
  svg += `<text x="8" y="34" font-size="12" fill="#666">${survey.responses} responses, ${esc(survey.standard_errors)} standard errors; filled dot: significant at 5 %</text>`;
  svg += `<line x1="${X(0)}" x2="${X(0)}" y1="${T - 4}" y2="${H - 34}" stroke="#999"/>`;
  rows.forEach((r, i) => {
    const y = T + rowH * i + rowH / 2, color = r.sample === 'government_led' ? PALETTE[0] : PALETTE[1];
    svg += `<text x="${L - 10}" y="${y + 4}" font-size="12" text-anchor="end">${r.sample === 'government_led' ? 'gov.-led' : 'private-led'}: ${names[r.term] || r.term}</text>`;
    svg += `<line x1="${X(r.coef - 1.96 * r.se)}" x2="${X(r.coef + 1.96 * r.se)}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"/>`;
    svg += `<circle cx="${X(r.coef)}" cy="${y}" r="4.5" fill="${r.p < 0.05 ? color : '#fff'}" stroke="${color}" stroke-width="2"><title>coefficient ${fmt(r.coef, 3)}, t = ${fmt(r.t, 2)}, p = ${fmt(r.p, 3)}, n = ${r.n}</title></circle>`;
  });
  for (const t of niceTicks(lo, hi, 5)) svg += `<text x="${X(t)}" y="${H - 18}" font-size="11" text-anchor="middle">${fmt(t, 2)}</text>`;
  box.innerHTML = SAVE + svg + '</svg>';
}

function drawAll() { drawCharts(); drawNetwork(); drawSurvey(); }

// ---------------------------------------------------------------------------------------------
// Levers

function leverValue(lever) { return Object.prototype.hasOwnProperty.call(S.settings, lever.key) ? S.settings[lever.key] : (lever.kind === 'bool' ? lever.value === 1 : lever.value); }

function setLever(lever, value) {
  const original = lever.kind === 'bool' ? lever.value === 1 : lever.value;
  if (value === original) delete S.settings[lever.key]; else S.settings[lever.key] = value;
  const row = document.querySelector('.lever[data-lever="' + CSS.escape(lever.key) + '"]');
  if (row) row.classList.toggle('changed', value !== original);
}

function renderLevers() {
  const box = $('levers');
  box.innerHTML = '';
  const groups = new Map();
  for (const lever of S.scenario.levers) { if (!groups.has(lever.group)) groups.set(lever.group, []); groups.get(lever.group).push(lever); }
  let first = true;
  for (const [group, levers] of groups) {
    const details = el('details', { open: first || group === 'Run' ? true : null }, el('summary', {}, group));
    first = false;
    for (const lever of levers) {
      const value = leverValue(lever);
      const tip = `${lever.meaning} (${lever.unit}; allowed ${lever.kind === 'bool' ? 'on or off' : fmt(lever.min) + ' to ' + fmt(lever.max)})`;
      const row = el('div', { class: 'lever', 'data-lever': lever.key });
      const id = 'lever-' + lever.key.replace(/[^a-zA-Z0-9]/g, '_');
      const line = el('div', { class: 'lever-row' }, el('label', { for: id, title: tip }, lever.label));
      if (lever.kind === 'bool') {
        const box2 = el('input', { type: 'checkbox', id, 'data-key': lever.key, title: tip });
        box2.checked = value;
        box2.addEventListener('change', () => { setLever(lever, box2.checked); clearField(lever.key); });
        line.append(box2);
      } else {
        const number = el('input', { type: 'number', id, 'data-key': lever.key, min: lever.min, max: lever.max, step: lever.kind === 'integer' ? 1 : 'any', title: tip });
        number.value = value;
        let slider = null;
        if (lever.key !== 'scenario.seed') {
          slider = el('input', { type: 'range', min: lever.slider_min, max: lever.slider_max, step: lever.step, 'aria-label': lever.label, title: tip, 'data-slider': lever.key });
          slider.value = value;
          slider.addEventListener('input', () => { number.value = slider.value; commit(); });
          line.append(slider);
        }
        const commit = () => {
          const v = Number(number.value);
          clearField(lever.key);
          if (number.value === '' || !Number.isFinite(v)) { fieldError(lever.key, 'must be a number'); return; }
          if (lever.kind === 'integer' && !Number.isInteger(v)) { fieldError(lever.key, 'must be a whole number'); return; }
          if (v < lever.min || v > lever.max) { fieldError(lever.key, `must be in [${lever.min}, ${lever.max}] (got ${v})`); return; }
          setLever(lever, v);
        };
        number.addEventListener('change', () => { if (slider) slider.value = number.value; commit(); });
        line.append(number);
      }
      row.append(line, el('div', { class: 'hint' }, lever.unit), el('div', { class: 'err', id: keyId(lever.key) }));
      if (Object.prototype.hasOwnProperty.call(S.settings, lever.key)) row.classList.add('changed');
      details.append(row);
    }
    box.append(details);
  }
}

function clearField(key) {
  const e = $(keyId(key)); if (e) e.textContent = '';
  const input = document.querySelector('[data-key="' + CSS.escape(key) + '"]'); if (input) input.classList.remove('invalid');
}
function fieldError(key, message) {
  const e = $(keyId(key)); if (e) e.textContent = message;
  const input = document.querySelector('[data-key="' + CSS.escape(key) + '"]'); if (input) input.classList.add('invalid');
}

async function loadScenario(id, keepSettings) {
  const scenario = await api('GET', '/api/scenarios/' + encodeURIComponent(id));
  S.scenario = scenario;
  if (!keepSettings) S.settings = {};
  $('scenario-description').textContent = scenario.description + ' (' + scenario.file + ', ' + scenario.start_year + '-' + (scenario.start_year + scenario.years - 1) + ')' + (scenario.note ? '. Note: ' + scenario.note : '');
  const select = $('scenario-select');
  if (![...select.options].some((o) => o.value === scenario.id)) select.append(el('option', { value: scenario.id }, scenario.id + ' (uploaded)'));
  select.value = scenario.id;
  renderLevers();
  drawAll();
}

// ---------------------------------------------------------------------------------------------
// Running and playing back

function runRequest() {
  const replication = Number($('replication').value);
  return { scenario: S.scenario.id, settings: { ...S.settings }, replication: Number.isFinite(replication) ? replication : -1 };
}

async function startRun() {
  clearErrors();
  const request = runRequest();
  if (S.exercise) {
    const p = $('prediction').value;
    if (p === '' || !Number.isFinite(Number(p))) { $('err-prediction').textContent = 'Write down your prediction first.'; return; }
    request.exercise = S.exercise.id; request.prediction = Number(p);
    $('exercise-result').hidden = true; $('exercise-explain').hidden = true;
  }
  if (S.run && (S.run.status === 'queued' || S.run.status === 'running')) await cancelRun();
  try {
    const started = await api('POST', '/api/runs', request);
    S.run = { id: started.id, years: [], status: 'queued', survey: null, outcomes: null, settings: request.settings, scenarioId: request.scenario, replication: request.replication, queue: started.queue_position, prediction: request.prediction, exercise: S.exercise };
    S.shown = 0; S.playing = true;
    updateFiles(); drawAll(); poll(S.run);
  } catch (err) { showError(err, 'err-replication'); }
}

async function poll(run) {
  while (S.run === run && (run.status === 'queued' || run.status === 'running')) {
    try {
      const view = await api('GET', `/api/runs/${run.id}?from=${run.years.length}`);
      if (!COLUMNS && view.years.length) COLUMNS = S.info.columns;
      run.years.push(...view.years);
      run.status = typeof view.status === 'string' ? view.status : 'failed';
      run.error = typeof view.status === 'object' ? view.status.failed : null;
      run.queue = view.queue_position; run.total = view.years_total;
      if (view.survey) run.survey = view.survey;
      if (view.outcomes) run.outcomes = view.outcomes;
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) { await sleep(1000); continue; }
      run.status = 'failed'; run.error = err.message;
    }
    describe();
    if (run.status === 'queued' || run.status === 'running') await sleep(run.status === 'queued' ? 500 : 250);
  }
  describe(); updateFiles();
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

function describe() {
  const run = S.run;
  if (!run) { setStatus('Set the levers, then Run.'); return; }
  const shownYear = S.shown > 0 ? run.years[S.shown - 1].year : null;
  let text;
  if (run.status === 'queued') text = `Run ${run.id}: waiting for a free simulation worker` + (run.queue !== null && run.queue !== undefined ? ` (${run.queue} ahead of it)` : '') + '.';
  else if (run.status === 'running') text = `Run ${run.id}: simulated ${run.years.length} of ${run.total} years`;
  else if (run.status === 'done') text = `Run ${run.id}: finished (${run.years.length} years)`;
  else if (run.status === 'cancelled') text = `Run ${run.id}: stopped.`;
  else text = `Run ${run.id} failed: ${run.error || 'unknown error'}`;
  if (shownYear !== null && run.status !== 'queued') text += `; showing ${shownYear}` + (S.playing ? '' : ' (paused)') + '.';
  setStatus(text);
  $('pin-button').disabled = !(run.status === 'done');
}

// One tick of playback: reveal the next year if it has been simulated.
function tick() {
  const run = S.run;
  if (run) {
    const speed = Number($('speed').value);
    if (S.playing && S.shown < run.years.length) {
      S.shown = speed === 0 ? run.years.length : S.shown + 1;
      drawAll(); describe();
    }
    maybeFinish();
  }
  schedule();
}

// Once the last year of a finished run is on screen: the survey and the exercise's answer.
function maybeFinish() {
  const run = S.run;
  if (!run || run.status !== 'done' || S.shown !== run.years.length || run.finishShown) return;
  run.finishShown = true;
  drawSurvey(); finishExercise(); describe();
}
function schedule() {
  clearTimeout(S.timer);
  const speed = Number($('speed').value);
  S.timer = setTimeout(tick, speed === 0 ? 100 : 1000 / speed);
}

async function cancelRun() {
  const run = S.run;
  if (!run) return;
  if (run.status === 'queued' || run.status === 'running') {
    try { await api('DELETE', '/api/runs/' + run.id); } catch (_) { /* already gone */ }
    run.status = 'cancelled';
  }
}

async function reset() {
  await cancelRun();
  S.run = null; S.shown = 0; S.playing = false;
  updateFiles(); drawAll(); describe();
}

function finishExercise() {
  const run = S.run;
  if (!run || !run.exercise || !run.outcomes) return;
  const e = run.exercise, [label, unit] = OUTCOMES[e.outcome];
  const result = run.outcomes[e.outcome], predicted = run.prediction;
  const off = predicted !== 0 ? Math.abs(result - predicted) / Math.max(Math.abs(predicted), 1e-9) : null;
  const box = $('exercise-result');
  box.innerHTML = `<table><tr><th></th><th>${esc(label)}</th></tr><tr><td>your prediction</td><td>${fmt(predicted)} ${esc(unit)}</td></tr>` +
    `<tr><td>this run</td><td>${fmt(result)} ${esc(unit)}</td></tr></table>` +
    `<p class="${off !== null && off <= 0.15 ? 'result-good' : ''}">${off === null ? '' : off <= 0.15 ? 'Within 15 % of the result.' : 'Off by ' + fmt(100 * off, 0) + ' %.'} Is the difference the model or the luck of this history? Replicate to see.</p>`;
  box.hidden = false;
  $('exercise-explain').textContent = e.explain; $('exercise-explain').hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Pins, replications, downloads

function renderPins() {
  const box = $('pins'); box.innerHTML = '';
  S.pins.forEach((p, i) => {
    const radio = el('input', { type: 'radio', name: 'baseline', title: 'use as the baseline of Replicate' });
    radio.checked = S.baseline === p; radio.addEventListener('change', () => { S.baseline = p; });
    const changedText = Object.entries(p.settings).map(([k, v]) => k + ' = ' + v).join('; ') || 'scenario as written';
    const swatch = el('span', {});
    swatch.innerHTML = `<svg width="22" height="8"><line x1="0" x2="22" y1="4" y2="4" stroke="#555" stroke-width="2" stroke-dasharray="${PIN_DASH[i]}"/></svg>`;
    box.append(el('span', { class: 'pin', title: `${p.scenarioId}, replication ${p.replication}: ${changedText}` },
      swatch, `pin ${p.letter} (run ${p.id})`, radio,
      el('button', { title: 'unpin', 'aria-label': 'unpin ' + p.letter, onclick: () => { S.pins.splice(i, 1); if (S.baseline === p) S.baseline = null; relabelPins(); } }, '×')));
  });
  if (S.pins.length) box.append(el('label', { title: 'draw the pinned runs in the charts' }, (() => { const c = el('input', { type: 'checkbox', id: 'overlay' }); c.checked = S.overlay !== false; c.addEventListener('change', () => { S.overlay = c.checked; drawCharts(); }); return c; })(), ' compare'));
  $('pin-button').disabled = !(S.run && S.run.status === 'done') || S.pins.length >= 4;
}
function relabelPins() { S.pins.forEach((p, i) => { p.letter = PIN_LETTERS[i]; }); renderPins(); drawCharts(); }

function pin() {
  const run = S.run;
  if (!run || run.status !== 'done' || S.pins.length >= 4) return;
  if (S.pins.some((p) => p.id === run.id)) return;
  const p = { id: run.id, years: run.years, settings: run.settings, scenarioId: run.scenarioId, replication: run.replication, outcomes: run.outcomes, letter: PIN_LETTERS[S.pins.length] };
  S.pins.push(p);
  if (!S.baseline) S.baseline = p;
  renderPins(); drawCharts();
}

async function replicate() {
  clearErrors();
  const n = Number($('replicate-n').value);
  const request = { scenario: S.scenario.id, settings: { ...S.settings }, replications: n, first_replication: Number($('replication').value) };
  if (S.baseline) {
    if (S.baseline.scenarioId !== S.scenario.id) { $('err-replications').textContent = 'The baseline pin is of another scenario; pin a run of this one.'; return; }
    request.baseline = S.baseline.settings;
  }
  if (S.batch && !S.batch.finished) { try { await api('DELETE', '/api/batches/' + S.batch.id); } catch (_) { /* gone */ } }
  try {
    const started = await api('POST', '/api/batches', request);
    S.batch = { id: started.id, view: null, finished: false, baselineLetter: S.baseline ? S.baseline.letter : null };
    $('replicate-view').hidden = false;
    pollBatch(S.batch);
  } catch (err) { showError(err, 'err-replications'); if (err.field === 'replications') $('err-replications').textContent = err.message; }
}

async function pollBatch(batch) {
  while (S.batch === batch && !batch.finished) {
    try {
      batch.view = await api('GET', '/api/batches/' + batch.id);
      batch.finished = batch.view.done === batch.view.total || batch.view.cancelled;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 429)) { $('batch-status').textContent = 'Error: ' + err.message; return; }
    }
    drawBatch();
    if (!batch.finished) await sleep(600);
  }
}

function drawBatch() {
  const batch = S.batch;
  if (!batch || !batch.view) return;
  const v = batch.view, metric = $('fan-metric').value;
  $('batch-status').textContent = `${v.done} of ${v.total} simulations done` + (v.cancelled ? ' (stopped)' : '') + (v.waiting ? `, ${v.waiting} others' ahead` : '');
  const series = [], bands = [], legend = [];
  v.fans.forEach((fan, i) => {
    const color = i === 0 ? PALETTE[0] : '#777';
    const bandsOf = fan.metrics[metric] || [];
    bands.push({ color, opacity: 0.18, points: bandsOf.map((b, y) => [fan.first_year + y, b[0], b[2]]) });
    series.push({ color, points: bandsOf.map((b, y) => [fan.first_year + y, b[1]]) });
    legend.push({ label: (i === 0 ? 'these settings' : 'baseline (pin ' + batch.baselineLetter + ')') + `: median of ${fan.runs}, band 10-90 %`, color });
  });
  $('fan').innerHTML = SAVE + lineChart({ title: FAN_METRICS[metric], unit: 'per year, over the replications', series, bands, legend });
  const e = v.effects;
  if (!e) { $('effects').innerHTML = '<p class="hint">Pin a run and mark it as the baseline (the round button on its pin) to measure the effect of your settings against it, replication by replication.</p>'; return; }
  let html = `<table><caption>Effect of these settings against pin ${esc(batch.baselineLetter)}, paired by replication (mean difference, 95 % interval)</caption><tr><th>outcome</th><th>difference</th><th>95 % interval</th><th>clear?</th></tr>`;
  for (const [k, [label, unit]] of Object.entries(OUTCOMES)) {
    const x = e[k]; if (!x) continue;
    const clear = x.n >= 2 && (x.lo > 0 || x.hi < 0);
    html += `<tr><td>${esc(label)}</td><td>${fmt(x.mean)} ${esc(unit)}</td><td>${x.n >= 2 ? fmt(x.lo) + ' to ' + fmt(x.hi) : '-'}</td><td>${x.n < 2 ? 'too few' : clear ? 'yes' : 'no'}</td></tr>`;
  }
  $('effects').innerHTML = html + '</table>';
}

function updateFiles() {
  const box = $('run-files'); box.innerHTML = '';
  const run = S.run;
  if (!run || run.status !== 'done') return;
  box.append('this run: ');
  box.append(el('button', { class: 'link', id: 'download-run-toml', onclick: () => saveDownload('GET', `/api/runs/${run.id}/scenario.toml`, undefined, 'scenario.toml').catch(showError) }, 'its scenario file'));
  for (const f of S.info.files) box.append(el('button', { class: 'link', 'data-file': f, onclick: () => saveDownload('GET', `/api/runs/${run.id}/files/${f}`, undefined, f).catch(showError) }, f));
}

// ---------------------------------------------------------------------------------------------
// Exercises

function fillExercises(select, blank) {
  select.innerHTML = '';
  select.append(el('option', { value: '' }, blank));
  for (const e of S.info.exercises || []) select.append(el('option', { value: e.id }, e.title));
}

async function openExercise(id) {
  const e = (S.info.exercises || []).find((x) => x.id === id);
  S.exercise = e || null;
  $('exercise-select').value = e ? e.id : '';
  $('exercise-box').hidden = !e;
  if (!e) return;
  await loadScenario(e.scenario, false);
  for (const [k, v] of Object.entries(e.settings || {})) {
    const lever = S.scenario.levers.find((l) => l.key === k);
    if (lever) setLever(lever, v);
  }
  renderLevers();
  $('exercise-title').textContent = e.title;
  $('exercise-question').textContent = e.question;
  $('exercise-predict').textContent = e.predict + ' ';
  $('prediction').value = '';
  $('exercise-result').hidden = true; $('exercise-explain').hidden = true;
  await reset();
}

// ---------------------------------------------------------------------------------------------
// Class mode: student join, teacher view

async function join(event) {
  event.preventDefault(); clearErrors();
  try {
    const joined = await api('POST', '/api/join', { name: $('join-name').value, code: $('join-code').value });
    S.token = joined.token; S.role = 'student';
    sessionStorage.setItem('biocluster-token', joined.token);
    await openApp(joined.name);
  } catch (err) {
    if (err instanceof ApiError && $('err-' + err.field)) $('err-' + err.field).textContent = err.message; else showError(err);
  }
}

async function teacherLogin(event) {
  event.preventDefault(); clearErrors();
  try {
    const t = await api('POST', '/api/teacher', { code: $('teacher-code').value });
    S.token = t.token; S.role = 'teacher';
    sessionStorage.setItem('biocluster-teacher-token', t.token);
    openTeacher();
  } catch (err) { $('err-teacher-code').textContent = err.message; }
}

function openTeacher() {
  $('teacher-login').hidden = true; $('teacher-view').hidden = false;
  $('mode-label').textContent = 'class mode: teacher';
  fillExercises($('push-select'), '(none: free play)');
  fillExercises($('class-filter'), 'all exercises');
  for (const id of ['class-x', 'class-y']) {
    $(id).innerHTML = '';
    for (const [k, [label]] of Object.entries(OUTCOMES)) $(id).append(el('option', { value: k }, label));
  }
  $('class-x').value = 'public_spend_musd'; $('class-y').value = 'firms_alive';
  refreshClass();
  setInterval(refreshClass, 2000);
}

async function refreshClass() {
  let view;
  try { view = await api('GET', '/api/class'); } catch (err) { $('server-state').textContent = 'Error: ' + err.message; return; }
  S.classView = view;
  $('class-code').textContent = view.join_code;
  $('class-folder').textContent = view.folder;
  $('pushed').textContent = view.exercise ? 'pushed: ' + view.exercise : 'no exercise pushed';
  if (!S.classSeen) { S.classSeen = true; $('push-select').value = view.exercise || ''; }
  $('server-state').textContent = `${view.students.length} students, ${view.results.length} runs, ${view.queued} simulations waiting`;
  drawClass();
}

function drawClass() {
  const view = S.classView; if (!view) return;
  const xk = $('class-x').value, yk = $('class-y').value, filter = $('class-filter').value;
  const results = view.results.filter((r) => !filter || r.exercise === filter);
  const students = [...new Set(results.map((r) => r.student))];
  const W = 520, H = 340, L = 64, R = 16, T = 34, B = 44;
  const xs = results.map((r) => r.outcomes[xk]), ys = results.map((r) => r.outcomes[yk]);
  const xt = axisTicks(Math.min(0, ...xs), Math.max(1, ...xs)), yt = axisTicks(Math.min(0, ...ys), Math.max(1, ...ys));
  const X = (x) => L + (W - L - R) * (x - xt[0]) / (xt[xt.length - 1] - xt[0]);
  const Y = (y) => T + (H - T - B) * (1 - (y - yt[0]) / (yt[yt.length - 1] - yt[0]));
  let svg = `<svg font-family="DejaVu Sans, sans-serif" viewBox="0 0 ${W} ${H}" role="img" aria-label="Class results" data-points="${results.length}">`;
  svg += `<text x="${L}" y="16" font-size="13" font-weight="bold">${esc(OUTCOMES[yk][0])} against ${esc(OUTCOMES[xk][0].toLowerCase())}</text>`;
  svg += `<text x="${L}" y="29" font-size="10.5" fill="#666">one dot per run, colour per student (${students.length} students, ${results.length} runs)</text>`;
  for (const t of yt) svg += `<line x1="${L}" x2="${W - R}" y1="${Y(t)}" y2="${Y(t)}" stroke="#eee"/><text x="${L - 5}" y="${Y(t) + 4}" font-size="10" text-anchor="end">${fmt(t)}</text>`;
  for (const t of xt) svg += `<text x="${X(t)}" y="${H - B + 15}" font-size="10" text-anchor="middle">${fmt(t)}</text>`;
  svg += `<text x="${(L + W) / 2}" y="${H - 8}" font-size="10.5" text-anchor="middle">${esc(OUTCOMES[xk][0])} (${esc(OUTCOMES[xk][1])})</text>`;
  results.forEach((r) => {
    const i = students.indexOf(r.student);
    svg += `<circle cx="${X(r.outcomes[xk])}" cy="${Y(r.outcomes[yk])}" r="5" fill="${clusterColor(i)}" fill-opacity="0.8"><title>${esc(r.student)}: ${esc(r.settings || 'scenario as written')}, replication ${r.replication}</title></circle>`;
  });
  $('class-chart').innerHTML = SAVE + svg + '</svg>';
  let table = '<table><tr><th>student</th><th>runs</th>' + Object.values(OUTCOMES).map(([l]) => `<th>${esc(l)}</th>`).join('') + '</tr>';
  for (const s of view.students) table += `<tr><td>${esc(s.name)}</td><td>${s.runs}</td>` + Object.keys(OUTCOMES).map((k) => `<td>${s.last ? fmt(s.last[k]) : '-'}</td>`).join('') + '</tr>';
  $('class-table').innerHTML = table + '</table>';
  let runs = '<table><tr><th>student</th><th>exercise</th><th>prediction</th><th>levers changed</th><th>rep.</th>' + Object.values(OUTCOMES).map(([l]) => `<th>${esc(l)}</th>`).join('') + '</tr>';
  for (const r of results.slice().reverse()) runs += `<tr><td>${esc(r.student)}</td><td>${esc(r.exercise)}</td><td>${r.prediction === null ? '-' : fmt(r.prediction)}</td><td>${esc(r.settings || '-')}</td><td>${r.replication}</td>` + Object.keys(OUTCOMES).map((k) => `<td>${fmt(r.outcomes[k])}</td>`).join('') + '</tr>';
  $('class-runs').innerHTML = runs + '</table>';
}

async function watchPushed() {
  try {
    const state = await api('GET', '/api/state');
    if (state.exercise && state.exercise !== S.pushed) {
      S.pushed = state.exercise;
      await openExercise(state.exercise);
      setStatus('Your teacher set this exercise.');
    }
    if (!state.exercise) S.pushed = null;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) { sessionStorage.removeItem('biocluster-token'); location.reload(); return; }
  }
  setTimeout(watchPushed, 3000);
}

// ---------------------------------------------------------------------------------------------
// Start

async function openApp(name) {
  $('join-view').hidden = true; $('app-view').hidden = false;
  $('who').textContent = name ? 'signed in as ' + name : '';
  const select = $('scenario-select'); select.innerHTML = '';
  for (const s of S.info.scenarios) select.append(el('option', { value: s.id, title: s.description }, s.id));
  fillExercises($('exercise-select'), '(none: free play)');
  const fan = $('fan-metric'); fan.innerHTML = '';
  for (const [k, label] of Object.entries(FAN_METRICS)) fan.append(el('option', { value: k }, label));
  await loadScenario(S.info.scenarios[0].id, false);
  describe(); renderPins(); schedule();
  if (S.role === 'student') watchPushed();
}

function saveSvg(button) {
  const svg = button.parentElement.querySelector('svg');
  if (!svg) return;
  const text = new XMLSerializer().serializeToString(svg);
  const name = (svg.getAttribute('aria-label') || 'chart').toLowerCase().replace(/[^a-z0-9]+/g, '-') + '.svg';
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  const a = el('a', { href: url, download: name });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function wire() {
  document.addEventListener('click', (e) => { if (e.target.classList && e.target.classList.contains('save-svg')) saveSvg(e.target); });
  $('join-form').addEventListener('submit', join);
  $('teacher-form').addEventListener('submit', teacherLogin);
  $('scenario-select').addEventListener('change', async (e) => { try { await reset(); await loadScenario(e.target.value, false); } catch (err) { showError(err); } });
  $('upload').addEventListener('change', async (e) => {
    const file = e.target.files[0]; if (!file) return;
    clearErrors();
    try {
      const text = await file.text();
      const name = file.name.replace(/[^A-Za-z0-9._ -]/g, '_');
      const scenario = await api('POST', '/api/upload', { file_name: name, toml: text });
      await reset(); await loadScenario(scenario.id, false);
      if (scenario.note) $('err-toml').textContent = 'Note: ' + scenario.note;
    } catch (err) {
      const lines = err.problems && err.problems.length ? err.problems.map((p) => '`' + p.key + '` ' + p.message) : [err.message];
      $('err-toml').textContent = lines.join('\n');
    }
    e.target.value = '';
  });
  $('replication').addEventListener('change', () => clearField('replication'));
  $('scenario-values').addEventListener('click', () => { S.settings = {}; renderLevers(); clearErrors(); });
  $('run-button').addEventListener('click', startRun);
  $('pause-button').addEventListener('click', () => { S.playing = !S.playing; $('pause-button').textContent = S.playing ? 'Pause' : 'Play'; describe(); });
  $('step-button').addEventListener('click', () => {
    S.playing = false; $('pause-button').textContent = 'Play';
    if (S.run && S.shown < S.run.years.length) { S.shown += 1; drawAll(); maybeFinish(); }
    describe();
  });
  $('reset-button').addEventListener('click', () => { reset(); $('pause-button').textContent = 'Pause'; });
  $('speed').addEventListener('change', schedule);
  $('pin-button').addEventListener('click', pin);
  $('replicate-button').addEventListener('click', replicate);
  $('batch-cancel').addEventListener('click', async () => { if (S.batch) { try { await api('DELETE', '/api/batches/' + S.batch.id); } catch (_) { /* gone */ } } });
  $('fan-metric').addEventListener('change', drawBatch);
  $('download-toml').addEventListener('click', () => { clearErrors(); saveDownload('POST', '/api/toml', runRequest(), 'scenario.toml').catch((err) => showError(err, 'err-replication')); });
  $('exercise-select').addEventListener('change', (e) => openExercise(e.target.value).catch(showError));
  $('exercise-close').addEventListener('click', () => openExercise(''));
  $('prediction').addEventListener('input', () => { $('err-prediction').textContent = ''; });
  $('push-button').addEventListener('click', async () => {
    try { await api('POST', '/api/class/exercise', { exercise: $('push-select').value || null }); refreshClass(); } catch (err) { $('pushed').textContent = err.message; }
  });
  $('export-button').addEventListener('click', () => saveDownload('GET', '/api/class/results.csv', undefined, 'class-results.csv').catch((err) => { $('pushed').textContent = err.message; }));
  for (const id of ['class-x', 'class-y', 'class-filter']) $(id).addEventListener('change', drawClass);
}

async function main() {
  wire();
  S.info = await api('GET', '/api/info');
  COLUMNS = S.info.columns;
  const teacherPage = location.pathname === '/teacher';
  $('mode-label').textContent = S.info.mode === 'classroom' ? (teacherPage ? 'class mode: teacher' : 'class mode') : 'biocluster ' + S.info.version;
  if (teacherPage) {
    const saved = sessionStorage.getItem('biocluster-teacher-token');
    if (saved) { S.token = saved; try { await api('GET', '/api/class'); S.role = 'teacher'; openTeacher(); return; } catch (_) { S.token = null; } }
    $('teacher-login').hidden = false; return;
  }
  const saved = sessionStorage.getItem('biocluster-token');
  if (saved) {
    S.token = saved;
    try { const state = await api('GET', '/api/state'); S.role = state.role; await openApp(state.name); return; } catch (_) { S.token = null; }
  }
  if (S.info.mode === 'classroom') { $('join-view').hidden = false; return; }
  const session = await api('POST', '/api/session');
  S.token = session.token; S.role = 'solo';
  sessionStorage.setItem('biocluster-token', session.token);
  await openApp('');
}

main().catch((err) => { $('server-state').textContent = 'Cannot reach the biocluster server: ' + err.message; });
