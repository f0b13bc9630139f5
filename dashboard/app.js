// hft-engine control dashboard: plain browser JavaScript, no dependencies, no build step.
// Reads the control API of the same origin (GET JSON endpoints, `WS /ws` topics) and drives its POST endpoints
// with the bearer token kept in sessionStorage. Charts are drawn on <canvas> by the small helpers below.

const TOKEN_KEY = 'hft.controlToken';
const PNL_POLL_MS = 2000;
const LAT_MAX_SAMPLES = 1200; // 10 min at 2 Hz
const STAGE_ORDER = ['decode', 'hopA', 'strategy', 'hopB', 'send', 'tickToOrder', 'venueRtt'];

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------------------
// formatting

const esc = (v) =>
  String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const pad = (n, w = 2) => String(n).padStart(w, '0');

function fmtTime(ms, withMs = false) {
  const d = new Date(ms);
  const s = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${s}.${pad(d.getMilliseconds(), 3)}` : s;
}

function fmtDateTime(ms) {
  const d = new Date(ms);
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fmtNum(v, digits = 6) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return v === undefined || v === null ? '' : String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return v.toLocaleString('en-US');
  const a = Math.abs(v);
  if (a >= 1000) return v.toLocaleString('en-US', { maximumFractionDigits: 2 });
  if (a >= 1) return v.toLocaleString('en-US', { maximumFractionDigits: 4 });
  return Number(v.toPrecision(digits)).toString();
}

/** nanoseconds → a short human value */
function fmtNs(ns) {
  if (typeof ns !== 'number' || !Number.isFinite(ns)) return '';
  const a = Math.abs(ns);
  if (a < 1e3) return `${Math.round(ns)} ns`;
  if (a < 1e6) return `${(ns / 1e3).toFixed(a < 1e4 ? 2 : 1)} µs`;
  if (a < 1e9) return `${(ns / 1e6).toFixed(a < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

// epoch-millisecond columns (the journal's wall_ms, venue_time_ms; generic t/time) and enum columns of journal rows
const TIME_KEYS = new Set(['t', 'time', 'ts', 'timestamp', 'wall_ms', 'venue_time_ms', 'updateTime', 'createdAt', 'updatedAt', 'transactTime']);
const ORDER_TYPES = { 1: 'MARKET', 2: 'LIMIT', 3: 'STOP_MARKET', 4: 'TAKE_PROFIT_MARKET', 5: 'TRAILING_STOP_MARKET' };
const TIFS = { 0: '', 1: 'GTC', 2: 'IOC', 3: 'FOK', 4: 'GTX' };
const FLAG_KEYS = new Set(['reduce_only', 'reduceOnly', 'is_maker', 'foreign_order']);

function fmtCell(key, v) {
  if (v === null || v === undefined) return { text: '' };
  if (TIME_KEYS.has(key) && typeof v === 'number' && v > 1e11) return { text: fmtTime(v, true) };
  // *_ts_ns: shown as a time only when it is epoch-based (a monotonic clock reading stays a number)
  if (/_ts_ns$/.test(key) && typeof v === 'number' && v > 1e17) return { text: fmtTime(v / 1e6, true) };
  if (key === 'side') {
    const name = v === 1 ? 'BUY' : v === -1 ? 'SELL' : String(v);
    return { text: name, cls: /^(buy|long)$/i.test(name) ? 'buy' : /^(sell|short)$/i.test(name) ? 'sell' : '' };
  }
  if (key === 'order_type' && typeof v === 'number') return { text: ORDER_TYPES[v] ?? String(v) };
  if (key === 'tif' && typeof v === 'number') return { text: TIFS[v] ?? String(v) };
  if (FLAG_KEYS.has(key) && (typeof v === 'number' || typeof v === 'boolean')) return { text: v ? 'yes' : '' };
  if (typeof v === 'number') {
    const signed = /pnl|unreali[sz]ed|reali[sz]ed|^position$|^venuePosition$/i.test(key);
    return { text: fmtNum(v), cls: signed && v > 0 ? 'pos' : signed && v < 0 ? 'neg' : '' };
  }
  if (typeof v === 'object') return { text: JSON.stringify(v) };
  return { text: String(v) };
}

/** bookkeeping columns of journal rows, left out of the tables (GET /orders, /fills have them all) */
const HIDDEN_COLUMNS = new Set(['session_id', 'order_ref', 'event_seq', 'intent_id', 'ts_ns', 'updated_ts_ns', 'reports', 'reject_reason', 'error_code', 'foreign_order', 'snapshotId', 'fillsAfterSnapshot', 'lastFillId', 'venue_time_ms']);

const COLUMN_LABELS = {
  wall_ms: 'time',
  created_ts_ns: 'created',
  client_order_id: 'client id',
  order_type: 'type',
  cum_qty: 'filled',
  avg_price: 'avg price',
  reduce_only: 'reduce',
  is_maker: 'maker',
  venue_order_id: 'venue id',
  avgCost: 'avg cost',
  realizedPnl: 'realized',
  venuePosition: 'venue pos',
};

/**
 * Renders rows of objects into a <table>: `prefer` orders the known columns, any other key follows.
 * Skips the DOM write when nothing changed (the topics repeat at 2 Hz).
 */
function renderTable(table, rows, prefer, emptyText) {
  let html;
  if (!Array.isArray(rows) || rows.length === 0) {
    html = `<tbody><tr><td class="empty">${esc(emptyText)}</td></tr></tbody>`;
  } else {
    const keys = new Set();
    for (const r of rows) if (r && typeof r === 'object') for (const k of Object.keys(r)) keys.add(k);
    const cols = prefer.filter((k) => keys.has(k));
    for (const k of keys) if (!cols.includes(k) && !HIDDEN_COLUMNS.has(k)) cols.push(k);
    const head = cols.map((c) => `<th title="${esc(c)}">${esc(COLUMN_LABELS[c] ?? c)}</th>`).join('');
    const body = rows
      .map((r) => {
        const o = r && typeof r === 'object' ? r : { value: r };
        return `<tr>${cols
          .map((c) => {
            const { text, cls } = fmtCell(c, o[c]);
            return cls ? `<td class="${cls}">${esc(text)}</td>` : `<td>${esc(text)}</td>`;
          })
          .join('')}</tr>`;
      })
      .join('');
    html = `<thead><tr>${head}</tr></thead><tbody>${body}</tbody>`;
  }
  if (table._html !== html) {
    table.innerHTML = html;
    table._html = html;
  }
  table.dataset.rows = String(Array.isArray(rows) ? rows.length : 0);
}

// ---------------------------------------------------------------------------------------------------------
// messages, token, API calls

let messageTimer = 0;
function showMessage(kind, text) {
  const el = $('message');
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(messageTimer);
  if (kind === 'ok') messageTimer = setTimeout(() => (el.hidden = true), 4000);
}
$('message').addEventListener('click', () => ($('message').hidden = true));

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

function setToken(tok) {
  try {
    if (tok) sessionStorage.setItem(TOKEN_KEY, tok);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the input still works for this page */
  }
  renderTokenStatus(tok ? 'saved' : 'none');
}

function renderTokenStatus(kind) {
  const el = $('token-status');
  el.dataset.state = kind;
  el.textContent = kind === 'saved' ? 'token saved for this tab' : kind === 'rejected' ? 'token rejected' : 'no token';
  $('token-input').placeholder = kind === 'saved' ? '•••••••• (saved)' : 'bearer token';
}

/** The token for a mutating call: what is typed in the field (then kept), else the saved one. */
function currentToken() {
  const typed = $('token-input').value.trim();
  if (typed) {
    setToken(typed);
    $('token-input').value = '';
    return typed;
  }
  return storedToken();
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const typed = $('token-input').value.trim();
  if (!typed) {
    showMessage('error', 'Enter the API token first (it was printed when the engine first started).');
    return;
  }
  setToken(typed);
  $('token-input').value = '';
  showMessage('ok', 'Token saved for this browser tab.');
});
$('token-clear').addEventListener('click', () => {
  setToken('');
  showMessage('ok', 'Token forgotten.');
});

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function apiGet(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  const body = await readBody(res);
  if (!res.ok) throw new ApiError(res.status, errorText(res, body));
  return body;
}

async function apiPost(path, body) {
  const token = currentToken();
  if (!token) throw new ApiError(0, 'Enter the API token (top right) before using the controls.');
  let res;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(body ?? {}),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, `cannot reach the control API: ${e.message}`);
  }
  const parsed = await readBody(res);
  if (res.status === 401) {
    setToken('');
    renderTokenStatus('rejected');
    throw new ApiError(401, 'Unauthorized (401): the API token is missing or wrong. Enter the correct token at the top right and try again.');
  }
  if (!res.ok) throw new ApiError(res.status, errorText(res, parsed));
  return parsed;
}

async function readBody(res) {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

function errorText(res, body) {
  const detail = body && typeof body === 'object' && typeof body.error === 'string' ? body.error : typeof body === 'string' && body ? body : res.statusText;
  return `${res.status}: ${detail}`;
}

/** Runs one mutating call with its button disabled; shows the outcome. */
async function act(button, label, path, body, after) {
  if (button) button.disabled = true;
  try {
    const r = await apiPost(path, body);
    if (after) after(r);
    showMessage('ok', `${label}: done`);
    return r;
  } catch (e) {
    showMessage('error', e instanceof ApiError && e.status === 401 ? e.message : `${label} failed — ${e.message}`);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

function confirmDialog(text) {
  const dlg = $('confirm-dialog');
  $('confirm-text').textContent = text;
  return new Promise((resolve) => {
    const onClose = () => {
      dlg.removeEventListener('close', onClose);
      resolve(dlg.returnValue === 'ok');
    };
    dlg.returnValue = '';
    dlg.addEventListener('close', onClose);
    dlg.showModal();
    $('confirm-cancel').focus();
  });
}

// ---------------------------------------------------------------------------------------------------------
// canvas helpers

const COLORS = {
  grid: '#26303b',
  axis: '#8592a0',
  line: '#4da3ff',
  fill: 'rgba(77,163,255,0.12)',
  p50: '#4da3ff',
  p99: '#f0883e',
  cross: '#d7dde4',
  bar: '#4da3ff',
};
const FONT = '11px system-ui, sans-serif';
const PAD = { l: 62, r: 12, t: 10, b: 22 };

/** Sizes the backing store to the element (device pixels) and returns a context in CSS pixels. */
function prepCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(50, Math.round(canvas.clientWidth));
  const h = Math.max(50, Math.round(canvas.clientHeight));
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = FONT;
  return { ctx, w, h };
}

function niceStep(span, target) {
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].map((s) => s * 1000);

function timeTicks(x0, x1, target) {
  const span = x1 - x0;
  const step = TIME_STEPS.find((s) => span / s <= target) ?? TIME_STEPS[TIME_STEPS.length - 1];
  const tzOff = new Date(x0).getTimezoneOffset() * 60_000;
  const ticks = [];
  // align to local time so that hour/day ticks fall on round local times
  let t = Math.ceil((x0 - tzOff) / step) * step + tzOff;
  for (; t <= x1; t += step) ticks.push(t);
  const fmt = span > 2 * 86_400_000 || step >= 86_400_000 ? fmtDateTime : step >= 60_000 ? (v) => fmtTime(v).slice(0, 5) : (v) => fmtTime(v);
  return { ticks, fmt };
}

function yRange(lo, hi) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo === hi) {
    const d = Math.abs(lo) * 0.001 || 1;
    return [lo - d, hi + d];
  }
  const m = (hi - lo) * 0.08;
  return [lo - m, hi + m];
}

function drawAxes(ctx, w, h, x0, x1, y0, y1, yFmt) {
  const pw = w - PAD.l - PAD.r;
  const ph = h - PAD.t - PAD.b;
  ctx.strokeStyle = COLORS.grid;
  ctx.fillStyle = COLORS.axis;
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const ys = niceStep(y1 - y0, Math.max(2, Math.floor(ph / 40)));
  for (let v = Math.ceil(y0 / ys) * ys; v <= y1; v += ys) {
    const y = Math.round(PAD.t + ph - ((v - y0) / (y1 - y0)) * ph) + 0.5;
    ctx.beginPath();
    ctx.moveTo(PAD.l, y);
    ctx.lineTo(w - PAD.r, y);
    ctx.stroke();
    ctx.fillText(yFmt(v, ys), PAD.l - 6, y);
  }
  const { ticks, fmt } = timeTicks(x0, x1, Math.max(2, Math.floor(pw / 90)));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of ticks) {
    const x = Math.round(PAD.l + ((t - x0) / (x1 - x0)) * pw) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, PAD.t);
    ctx.lineTo(x, PAD.t + ph);
    ctx.stroke();
    ctx.fillText(fmt(t), x, PAD.t + ph + 5);
  }
}

/**
 * A polyline of (xs[i], ys[i]) for xs within [x0, x1]; when there are more points than pixels, draws each
 * pixel column's min and max so that spikes survive and the cost stays O(width).
 */
function drawSeries(ctx, xs, ys, x0, x1, y0, y1, w, h, color, fill) {
  const pw = w - PAD.l - PAD.r;
  const ph = h - PAD.t - PAD.b;
  const sx = (x) => PAD.l + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y) => PAD.t + ph - ((y - y0) / (y1 - y0)) * ph;
  let i0 = lowerBound(xs, x0);
  if (i0 > 0) i0--; // one point outside so the line reaches the edge
  let i1 = lowerBound(xs, x1);
  if (i1 < xs.length) i1++;
  if (i1 - i0 < 1) return;
  ctx.save();
  ctx.beginPath();
  ctx.rect(PAD.l, PAD.t, pw, ph);
  ctx.clip();
  ctx.beginPath();
  const dense = i1 - i0 > pw * 2;
  let first = true;
  let firstX = 0;
  let lastX = 0;
  if (dense) {
    let col = -1;
    let mn = 0;
    let mx = 0;
    const flush = () => {
      if (col < 0) return;
      const x = col + 0.5;
      if (first) {
        ctx.moveTo(x, sy(mn));
        firstX = x;
        first = false;
      } else ctx.lineTo(x, sy(mn));
      ctx.lineTo(x, sy(mx));
      lastX = x;
    };
    for (let i = i0; i < i1; i++) {
      const c = Math.floor(sx(xs[i]));
      if (c !== col) {
        flush();
        col = c;
        mn = mx = ys[i];
      } else {
        if (ys[i] < mn) mn = ys[i];
        if (ys[i] > mx) mx = ys[i];
      }
    }
    flush();
  } else {
    for (let i = i0; i < i1; i++) {
      const x = sx(xs[i]);
      if (first) {
        ctx.moveTo(x, sy(ys[i]));
        firstX = x;
        first = false;
      } else ctx.lineTo(x, sy(ys[i]));
      lastX = x;
    }
  }
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.6;
  ctx.lineJoin = 'round';
  ctx.stroke();
  if (fill) {
    ctx.lineTo(lastX, PAD.t + ph);
    ctx.lineTo(firstX, PAD.t + ph);
    ctx.closePath();
    ctx.fillStyle = fill;
    ctx.fill();
  }
  ctx.restore();
}

function lowerBound(arr, v) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function minMaxIn(xs, ys, x0, x1) {
  let lo = Infinity;
  let hi = -Infinity;
  const a = Math.max(0, lowerBound(xs, x0) - 1);
  const b = Math.min(xs.length, lowerBound(xs, x1) + 1);
  for (let i = a; i < b; i++) {
    if (ys[i] < lo) lo = ys[i];
    if (ys[i] > hi) hi = ys[i];
  }
  return [lo, hi];
}

function drawEmpty(ctx, w, h, text) {
  ctx.fillStyle = COLORS.axis;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, w / 2, h / 2);
}

// ---------------------------------------------------------------------------------------------------------
// render scheduling: at most one paint per frame, only for what changed

const dirty = new Set();
let frameQueued = false;
function invalidate(part) {
  dirty.add(part);
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(() => {
    frameQueued = false;
    const parts = [...dirty];
    dirty.clear();
    for (const p of parts) {
      try {
        RENDER[p]();
      } catch (e) {
        console.error(`render ${p}:`, e);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// PnL chart: equity over time, wheel zoom, drag pan, range buttons

const pnl = {
  range: 'session',
  ts: [],
  eq: [],
  /** null = follow the data; else the visible [x0, x1] in ms */
  view: null,
  hoverX: -1,
  generation: 0,
  timer: 0,
};

function pnlExtent() {
  if (pnl.ts.length === 0) return null;
  let a = pnl.ts[0];
  let b = pnl.ts[pnl.ts.length - 1];
  if (b - a < 1000) {
    a -= 500;
    b += 500;
  }
  return [a, b];
}

function pnlView() {
  return pnl.view ?? pnlExtent();
}

function appendPnl(points) {
  let added = 0;
  for (const p of points) {
    if (!p || typeof p.t !== 'number' || typeof p.equity !== 'number') continue;
    const last = pnl.ts.length ? pnl.ts[pnl.ts.length - 1] : -Infinity;
    if (p.t <= last) continue;
    pnl.ts.push(p.t);
    pnl.eq.push(p.equity);
    added++;
  }
  return added;
}

async function loadPnl(full) {
  const gen = pnl.generation;
  const last = pnl.ts.length ? pnl.ts[pnl.ts.length - 1] : undefined;
  const q = new URLSearchParams({ range: pnl.range });
  if (!full && last !== undefined) q.set('from', String(last + 1));
  try {
    const pts = await apiGet(`/pnl?${q}`);
    if (gen !== pnl.generation) return; // the range changed while this was in flight
    if (full) {
      pnl.ts = [];
      pnl.eq = [];
    }
    appendPnl(Array.isArray(pts) ? pts : []);
    invalidate('pnl');
  } catch (e) {
    if (full) showMessage('error', `PnL (${pnl.range}) — ${e.message}`);
  }
}

function schedulePnlPoll() {
  clearTimeout(pnl.timer);
  pnl.timer = setTimeout(async () => {
    await loadPnl(false);
    schedulePnlPoll();
  }, PNL_POLL_MS);
}

function setPnlRange(range) {
  pnl.range = range;
  pnl.generation++;
  pnl.view = null;
  for (const b of document.querySelectorAll('.range-btn')) b.setAttribute('aria-pressed', String(b.dataset.range === range));
  $('pnl-chart').dataset.range = range;
  loadPnl(true).then(schedulePnlPoll);
}

function renderPnl() {
  const canvas = $('pnl-chart');
  const { ctx, w, h } = prepCanvas(canvas);
  canvas.dataset.points = String(pnl.ts.length);
  canvas.dataset.zoomed = String(pnl.view !== null);
  const v = pnlView();
  if (!v) {
    drawEmpty(ctx, w, h, 'no equity data yet');
    $('pnl-summary').textContent = '';
    return;
  }
  const [x0, x1] = v;
  canvas.dataset.viewFrom = String(Math.round(x0));
  canvas.dataset.viewTo = String(Math.round(x1));
  const [lo, hi] = minMaxIn(pnl.ts, pnl.eq, x0, x1);
  const [y0, y1] = yRange(lo, hi);
  drawAxes(ctx, w, h, x0, x1, y0, y1, (val, step) => val.toFixed(step < 1 ? 2 : 0));
  drawSeries(ctx, pnl.ts, pnl.eq, x0, x1, y0, y1, w, h, COLORS.line, COLORS.fill);
  const lastEq = pnl.eq[pnl.eq.length - 1];
  const firstEq = pnl.eq[0];
  canvas.dataset.lastEquity = String(lastEq);
  const ch = lastEq - firstEq;
  const sum = $('pnl-summary');
  sum.textContent = `equity ${fmtNum(lastEq)}  (${ch >= 0 ? '+' : ''}${fmtNum(ch)} over ${pnl.range})`;
  sum.className = ch >= 0 ? 'pos' : 'neg';
  // hover: the nearest point's value
  if (pnl.hoverX >= PAD.l && pnl.hoverX <= w - PAD.r) {
    const pw = w - PAD.l - PAD.r;
    const t = x0 + ((pnl.hoverX - PAD.l) / pw) * (x1 - x0);
    let i = lowerBound(pnl.ts, t);
    if (i >= pnl.ts.length || (i > 0 && t - pnl.ts[i - 1] < pnl.ts[i] - t)) i--;
    if (i >= 0) {
      const px = PAD.l + ((pnl.ts[i] - x0) / (x1 - x0)) * pw;
      const py = PAD.t + (h - PAD.t - PAD.b) * (1 - (pnl.eq[i] - y0) / (y1 - y0));
      ctx.strokeStyle = COLORS.cross;
      ctx.globalAlpha = 0.4;
      ctx.beginPath();
      ctx.moveTo(px + 0.5, PAD.t);
      ctx.lineTo(px + 0.5, h - PAD.b);
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.fillStyle = COLORS.line;
      ctx.beginPath();
      ctx.arc(px, py, 3, 0, Math.PI * 2);
      ctx.fill();
      const label = `${fmtDateTime(pnl.ts[i])}:${pad(new Date(pnl.ts[i]).getSeconds())}  ${fmtNum(pnl.eq[i])}`;
      ctx.font = FONT;
      const tw = ctx.measureText(label).width + 10;
      const bx = Math.min(Math.max(PAD.l, px - tw / 2), w - PAD.r - tw);
      ctx.fillStyle = 'rgba(15,20,25,0.9)';
      ctx.fillRect(bx, PAD.t, tw, 18);
      ctx.fillStyle = COLORS.cross;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      ctx.fillText(label, bx + 5, PAD.t + 9);
    }
  }
}

function setupPnlInteractions() {
  const canvas = $('pnl-chart');
  const timeAt = (clientX, v) => {
    const r = canvas.getBoundingClientRect();
    const pw = r.width - PAD.l - PAD.r;
    return v[0] + ((clientX - r.left - PAD.l) / pw) * (v[1] - v[0]);
  };
  canvas.addEventListener(
    'wheel',
    (e) => {
      const v = pnlView();
      if (!v) return;
      e.preventDefault();
      const at = Math.min(v[1], Math.max(v[0], timeAt(e.clientX, v)));
      const factor = Math.exp(Math.sign(e.deltaY) * Math.min(Math.abs(e.deltaY), 300) * 0.002);
      const span = Math.max(1000, (v[1] - v[0]) * factor);
      const f = (at - v[0]) / (v[1] - v[0]);
      pnl.view = [at - f * span, at + (1 - f) * span];
      const ext = pnlExtent();
      // zoomed back out past everything: follow the data again
      if (ext && pnl.view[0] <= ext[0] && pnl.view[1] >= ext[1]) pnl.view = null;
      invalidate('pnl');
    },
    { passive: false },
  );
  let drag = null;
  canvas.addEventListener('pointerdown', (e) => {
    const v = pnlView();
    if (!v || e.button !== 0) return;
    drag = { x: e.clientX, v };
    canvas.setPointerCapture(e.pointerId);
    canvas.classList.add('dragging');
  });
  canvas.addEventListener('pointermove', (e) => {
    const r = canvas.getBoundingClientRect();
    pnl.hoverX = e.clientX - r.left;
    if (drag) {
      const pw = r.width - PAD.l - PAD.r;
      const dt = ((e.clientX - drag.x) / pw) * (drag.v[1] - drag.v[0]);
      if (dt !== 0) pnl.view = [drag.v[0] - dt, drag.v[1] - dt];
    }
    invalidate('pnl');
  });
  const end = () => {
    drag = null;
    canvas.classList.remove('dragging');
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  canvas.addEventListener('pointerleave', () => {
    pnl.hoverX = -1;
    invalidate('pnl');
  });
  canvas.addEventListener('dblclick', () => {
    pnl.view = null;
    invalidate('pnl');
  });
  $('pnl-reset').addEventListener('click', () => {
    pnl.view = null;
    invalidate('pnl');
  });
  for (const b of document.querySelectorAll('.range-btn')) b.addEventListener('click', () => setPnlRange(b.dataset.range));
}

// ---------------------------------------------------------------------------------------------------------
// latency: p50/p99 over time per stage, distribution of the selected stage, percentile table

const lat = {
  /** stage → { t: [], p50: [], p99: [] } */
  series: new Map(),
  stage: 'tickToOrder',
  current: {},
};

function addLatency(t, stages) {
  if (!stages || typeof stages !== 'object') return;
  lat.current = stages;
  for (const [name, s] of Object.entries(stages)) {
    if (!s || typeof s.p50 !== 'number') continue;
    let ser = lat.series.get(name);
    if (!ser) {
      ser = { t: [], p50: [], p99: [] };
      lat.series.set(name, ser);
    }
    if (ser.t.length && t <= ser.t[ser.t.length - 1]) continue;
    ser.t.push(t);
    ser.p50.push(s.p50);
    ser.p99.push(typeof s.p99 === 'number' ? s.p99 : s.p50);
    if (ser.t.length > LAT_MAX_SAMPLES) {
      const cut = ser.t.length - LAT_MAX_SAMPLES;
      ser.t.splice(0, cut);
      ser.p50.splice(0, cut);
      ser.p99.splice(0, cut);
    }
  }
  syncStageSelect();
}

function stageNames() {
  const names = Object.keys(lat.current);
  return names.sort((a, b) => {
    const ia = STAGE_ORDER.indexOf(a);
    const ib = STAGE_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
}

function syncStageSelect() {
  const sel = $('stage-select');
  const names = stageNames();
  if (sel.options.length !== names.length || names.some((n, i) => sel.options[i].value !== n)) {
    sel.innerHTML = names.map((n) => `<option value="${esc(n)}">${esc(n)}</option>`).join('');
    if (!names.includes(lat.stage) && names.length) lat.stage = names.includes('tickToOrder') ? 'tickToOrder' : names[0];
    sel.value = lat.stage;
  }
}

function renderLatency() {
  const canvas = $('latency-chart');
  const { ctx, w, h } = prepCanvas(canvas);
  const ser = lat.series.get(lat.stage);
  canvas.dataset.stage = lat.stage;
  canvas.dataset.points = String(ser ? ser.t.length : 0);
  if (!ser || ser.t.length === 0) drawEmpty(ctx, w, h, 'waiting for stats…');
  else {
    let x0 = ser.t[0];
    let x1 = ser.t[ser.t.length - 1];
    if (x1 - x0 < 10_000) x0 = x1 - 10_000;
    const [lo1, hi1] = minMaxIn(ser.t, ser.p50, x0, x1);
    const [lo2, hi2] = minMaxIn(ser.t, ser.p99, x0, x1);
    const [, y1] = yRange(Math.min(lo1, lo2), Math.max(hi1, hi2));
    drawAxes(ctx, w, h, x0, x1, 0, y1, (v) => fmtNs(v));
    drawSeries(ctx, ser.t, ser.p50, x0, x1, 0, y1, w, h, COLORS.p50, null);
    drawSeries(ctx, ser.t, ser.p99, x0, x1, 0, y1, w, h, COLORS.p99, null);
    canvas.dataset.lastP50 = String(ser.p50[ser.p50.length - 1]);
    canvas.dataset.lastP99 = String(ser.p99[ser.p99.length - 1]);
  }
  renderHistogram();
  renderLatencyTable();
}

/** Bars of the selected stage: its buckets ([[upper ns, count], ...]) when the engine sends them, else its percentiles. */
function renderHistogram() {
  const canvas = $('latency-hist');
  const { ctx, w, h } = prepCanvas(canvas);
  const s = lat.current[lat.stage];
  if (!s) {
    drawEmpty(ctx, w, h, 'no histogram');
    return;
  }
  let bars;
  let title;
  if (Array.isArray(s.buckets) && s.buckets.length > 0) {
    bars = s.buckets.filter((b) => Array.isArray(b) && b.length >= 2).map(([upper, count]) => ({ label: `≤${fmtNs(upper)}`, value: count, text: fmtNum(count) }));
    title = `${lat.stage}: samples per bucket`;
  } else {
    bars = ['p50', 'p90', 'p99', 'p999', 'max'].filter((k) => typeof s[k] === 'number').map((k) => ({ label: k === 'p999' ? 'p99.9' : k, value: s[k], text: fmtNs(s[k]) }));
    title = `${lat.stage}: percentiles`;
  }
  const max = Math.max(1e-9, ...bars.map((b) => b.value));
  ctx.fillStyle = COLORS.axis;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.fillText(title, 8, 6);
  const top = 26;
  const rowH = Math.min(28, (h - top - 6) / Math.max(1, bars.length));
  const labelW = 78;
  const valW = 70;
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const bw = Math.max(1, ((w - labelW - valW - 16) * b.value) / max);
    ctx.fillStyle = COLORS.axis;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillText(b.label, labelW, y + rowH / 2);
    ctx.fillStyle = i === bars.length - 1 && !s.buckets ? COLORS.p99 : COLORS.bar;
    ctx.fillRect(labelW + 8, y + rowH * 0.2, bw, rowH * 0.6);
    ctx.fillStyle = COLORS.cross;
    ctx.textAlign = 'left';
    ctx.fillText(b.text, labelW + 12 + bw, y + rowH / 2);
  });
}

function renderLatencyTable() {
  const rows = stageNames().map((name) => {
    const s = lat.current[name] || {};
    return { stage: name, count: s.count, p50: fmtNs(s.p50), p90: fmtNs(s.p90), p99: fmtNs(s.p99), 'p99.9': fmtNs(s.p999), max: fmtNs(s.max) };
  });
  const table = $('latency-table');
  renderTable(table, rows, ['stage', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'], 'no latency data yet');
  for (const tr of table.querySelectorAll('tbody tr')) {
    const name = tr.firstElementChild?.textContent;
    tr.style.cursor = 'pointer';
    tr.style.background = name === lat.stage ? '#1c2835' : '';
    tr.onclick = () => {
      lat.stage = name;
      $('stage-select').value = name;
      invalidate('latency');
    };
  }
}

$('stage-select').addEventListener('change', (e) => {
  lat.stage = e.target.value;
  invalidate('latency');
});

// ---------------------------------------------------------------------------------------------------------
// stats: trading state, engine, rings, rate limits, counters, books

let lastStats = null;
const topicData = { positions: [], orders: { open: [] }, fills: [], logs: [] };

function setTradingState(state) {
  if (typeof state !== 'string' || !state) return;
  const el = $('trading-state');
  el.textContent = state;
  el.dataset.state = state;
}

function setEngineState(running) {
  if (typeof running !== 'boolean') return;
  const el = $('engine-state');
  el.textContent = running ? 'running' : 'stopped';
  el.dataset.state = running ? 'running' : 'stopped';
}

function setStrategyState(s) {
  if (!s || typeof s.name !== 'string') return;
  const el = $('strategy-state');
  el.textContent = `${s.name} · ${s.active ? 'on' : 'off'}`;
  el.dataset.state = s.active ? 'on' : 'off';
}

/** [{name, ...}] from an array or a name-keyed object */
function asNamedList(v) {
  if (Array.isArray(v)) return v.filter((x) => x && typeof x === 'object');
  if (v && typeof v === 'object') return Object.entries(v).map(([name, x]) => ({ name, ...(x && typeof x === 'object' ? x : { value: x }) }));
  return [];
}

const BOOK_STATES = { 1: 'SYNCING', 2: 'LIVE', 3: 'STALE' };

/**
 * Per-symbol book rows from either an object keyed by symbol ({BTCUSDT: {state, bid, ask, ...}}) or the feed
 * worker's flat counters (book_<SYMBOL> = BookState code, book_<SYMBOL>_<field> = a value). A field starts
 * lower-case, so Gate symbols with underscores (BTC_USDT) stay whole.
 */
function bookRows(v) {
  if (Array.isArray(v)) return v;
  if (!v || typeof v !== 'object') return [];
  const flat = Object.keys(v).length > 0 && Object.entries(v).every(([k, x]) => k.startsWith('book_') && typeof x === 'number');
  if (!flat) return asNamedList(v).map((b) => ({ ...b, state: typeof b.state === 'number' ? (BOOK_STATES[b.state] ?? b.state) : b.state }));
  const bySym = new Map();
  for (const [k, x] of Object.entries(v)) {
    const rest = k.slice(5);
    const m = /^(.+?)_([a-z][A-Za-z0-9]*)$/.exec(rest);
    const sym = m ? m[1] : rest;
    const field = m ? m[2] : 'state';
    if (!bySym.has(sym)) bySym.set(sym, { name: sym });
    bySym.get(sym)[field] = field === 'state' ? (BOOK_STATES[x] ?? x) : x;
  }
  return [...bySym.values()];
}

/**
 * Rate-limit meters [{name, used, limit}] from a list, a name-keyed object of {used, limit}, or flat counters
 * where `<name>Limit` is the limit of `<name>` (or `<name>Used`); other flat numbers come back as `other`.
 */
function rateRows(v) {
  if (!v || typeof v !== 'object') return { meters: [], other: [] };
  const entries = Object.entries(v);
  if (Array.isArray(v) || entries.some(([, x]) => x && typeof x === 'object')) {
    return { meters: asNamedList(v).map((l) => ({ name: l.name, used: Number(l.used ?? l.count) || 0, limit: Number(l.limit ?? l.capacity) || 0, refused: l.refused })), other: [] };
  }
  const meters = [];
  const used = new Set();
  for (const [k, x] of entries) {
    if (!k.endsWith('Limit') || typeof x !== 'number') continue;
    const base = k.slice(0, -5);
    const key = base in v ? base : `${base}Used` in v ? `${base}Used` : undefined;
    if (key === undefined) continue;
    meters.push({ name: base.replace(/^budget/, '') || base, used: Number(v[key]) || 0, limit: x });
    used.add(k).add(key);
  }
  return { meters, other: entries.filter(([k, x]) => !used.has(k) && typeof x === 'number') };
}

function meterHtml(label, value, cap, extra) {
  const frac = cap > 0 ? Math.min(1, Math.max(0, value / cap)) : 0;
  const level = frac >= 0.9 ? 'bad' : frac >= 0.7 ? 'warn' : 'ok';
  return `<div class="meter" data-name="${esc(label)}" data-value="${esc(value)}"><span>${esc(label)}</span><div class="bar" role="meter" aria-valuemin="0" aria-valuemax="${esc(cap)}" aria-valuenow="${esc(value)}"><div class="fill" data-level="${level}" style="width:${(frac * 100).toFixed(1)}%"></div></div><span class="val">${esc(fmtNum(value))} / ${esc(fmtNum(cap))}${extra ? ` · ${esc(extra)}` : ''}</span></div>`;
}

function setHtml(el, html) {
  if (el._html !== html) {
    el.innerHTML = html;
    el._html = html;
  }
}

function renderStats() {
  const s = lastStats;
  if (!s) return;
  setTradingState(s.tradingState);
  setEngineState(s.running);
  setStrategyState(s.strategy);
  const rings = asNamedList(s.rings);
  setHtml(
    $('ring-meters'),
    rings.length
      ? `<h3>Ring depth</h3>${rings
          .map((r) => {
            const drops = r.drops ?? r.fullEvents;
            return meterHtml(`ring ${r.name}`, Number(r.depth) || 0, Number(r.capacity) || 0, drops ? `${fmtNum(drops)} full` : '');
          })
          .join('')}`
      : '<p class="muted">no ring data</p>',
  );
  const rate = rateRows(s.rateLimits ?? s.rateBudget ?? s.rateBudgets);
  setHtml(
    $('rate-meters'),
    rate.meters.length
      ? `<h3>Rate limits</h3>${rate.meters.map((l) => meterHtml(l.name, l.used, l.limit, l.refused ? `${fmtNum(l.refused)} refused` : '')).join('')}`
      : '<p class="muted">no rate-limit data</p>',
  );
  // counters (nested ones flattened: ringDrops.A), then the leftover rate-budget and risk-reject counts
  const kvRows = [];
  const addKv = (prefix, obj) => {
    if (!obj || typeof obj !== 'object') return;
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v === 'number' || typeof v === 'string') kvRows.push([prefix + k, v]);
      else if (v && typeof v === 'object' && !Array.isArray(v) && !prefix) addKv(`${k}.`, v);
    }
  };
  addKv('', s.counters);
  for (const [k, v] of rate.other) kvRows.push([k, v]);
  addKv('', s.riskRejects);
  const kv = kvRows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(fmtNum(v))}</td></tr>`).join('');
  setHtml($('counters'), kv ? `<tbody>${kv}</tbody>` : '');
  const books = bookRows(s.books).map((b) => {
    const { name, symbol, state, bid, ask, ...rest } = b;
    const spread = typeof bid === 'number' && typeof ask === 'number' ? ask - bid : undefined;
    const row = { symbol: symbol ?? name, state };
    if (bid !== undefined) row.bid = bid;
    if (ask !== undefined) row.ask = ask;
    if (spread !== undefined) row.spread = spread;
    return Object.assign(row, rest);
  });
  renderTable($('books'), books, ['symbol', 'state', 'bid', 'bidQty', 'ask', 'askQty', 'spread'], 'no books');
  for (const td of $('books').querySelectorAll('tbody tr td:nth-child(2)')) td.className = /live/i.test(td.textContent) ? 'pos' : /stale|sync/i.test(td.textContent) ? 'neg' : '';
}

function renderPositions() {
  const rows = Array.isArray(topicData.positions) ? topicData.positions : [];
  renderTable($('positions'), rows, ['symbol', 'position', 'side', 'qty', 'avgCost', 'entryPrice', 'markPrice', 'unrealized', 'realizedPnl', 'fees', 'venuePosition'], 'no positions');
  const open = rows.filter((r) => r && Number(r.position ?? r.qty ?? r.size ?? 0) !== 0).length;
  $('positions').dataset.open = String(open);
}

function renderOrders() {
  const o = topicData.orders;
  const open = Array.isArray(o) ? o : o && Array.isArray(o.open) ? o.open : [];
  renderTable($('orders'), open, ['created_ts_ns', 't', 'client_order_id', 'id', 'symbol', 'side', 'order_type', 'type', 'tif', 'price', 'qty', 'cum_qty', 'filled', 'avg_price', 'state', 'status', 'reduce_only', 'origin'], 'no open orders');
}

function renderFills() {
  renderTable($('fills'), topicData.fills, ['wall_ms', 't', 'symbol', 'side', 'price', 'qty', 'fee', 'is_maker', 'client_order_id', 'orderId'], 'no fills yet');
}

function renderLogs() {
  const el = $('logs');
  const lines = Array.isArray(topicData.logs) ? topicData.logs : [];
  const html = lines
    .map((l) => {
      const lv = String(l.level ?? 'info').toLowerCase();
      const ts = typeof l.t === 'number' ? fmtTime(l.t, true) : '';
      return `<span class="lv-${esc(lv)}"><span class="ts">${esc(ts)}</span> ${esc(lv.toUpperCase().padEnd(5))} ${esc(l.msg ?? '')}</span>`;
    })
    .join('\n');
  if (el._html === html) return;
  el.innerHTML = html || '<span class="muted">no log lines</span>';
  el._html = html;
  el.dataset.lines = String(lines.length);
  if ($('logs-follow').checked) el.scrollTop = el.scrollHeight;
}

const RENDER = {
  pnl: renderPnl,
  latency: renderLatency,
  stats: renderStats,
  positions: renderPositions,
  orders: renderOrders,
  fills: renderFills,
  logs: renderLogs,
};

function onStats(t, s) {
  if (!s || typeof s !== 'object') return;
  lastStats = s;
  addLatency(typeof s.t === 'number' ? s.t : t, s.stages);
  invalidate('stats');
  invalidate('latency');
}

// ---------------------------------------------------------------------------------------------------------
// WebSocket feed with reconnect

let ws = null;
let wsBackoff = 500;
function connectWs() {
  const el = $('ws-state');
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  el.textContent = 'connecting';
  el.dataset.state = 'connecting';
  try {
    ws = new WebSocket(url);
  } catch {
    setTimeout(connectWs, wsBackoff);
    return;
  }
  ws.onopen = () => {
    wsBackoff = 500;
    el.textContent = 'live';
    el.dataset.state = 'open';
  };
  ws.onmessage = (ev) => {
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!m || typeof m.topic !== 'string') return;
    const t = typeof m.t === 'number' ? m.t : Date.now();
    if (m.topic === 'stats') onStats(t, m.data);
    else if (m.topic in topicData) {
      topicData[m.topic] = m.data;
      invalidate(m.topic);
    }
  };
  ws.onclose = () => {
    el.textContent = 'disconnected';
    el.dataset.state = 'closed';
    setTimeout(connectWs, wsBackoff);
    wsBackoff = Math.min(wsBackoff * 2, 5000);
  };
}

// ---------------------------------------------------------------------------------------------------------
// controls

function reasonBody() {
  const r = $('reason-input').value.trim();
  return r ? { reason: r.slice(0, 200) } : {};
}

function tradingAction(btn, action, label) {
  return act(btn, label, `/trading/${action}`, reasonBody(), (r) => {
    if (r && typeof r.state === 'string') setTradingState(r.state);
  });
}

$('halt-btn').addEventListener('click', (e) => tradingAction(e.currentTarget, 'halt', 'Halt'));
$('resume-btn').addEventListener('click', (e) => tradingAction(e.currentTarget, 'resume', 'Resume'));
$('reduce-only-btn').addEventListener('click', (e) => tradingAction(e.currentTarget, 'reduce-only', 'Reduce-only'));
$('flatten-btn').addEventListener('click', async (e) => {
  const btn = e.currentTarget;
  if (!(await confirmDialog('Flatten: close every open position at market and cancel open orders?'))) return;
  await tradingAction(btn, 'flatten', 'Flatten');
});
$('engine-start-btn').addEventListener('click', (e) => act(e.currentTarget, 'Engine start', '/engine/start', {}, (r) => setEngineState(r?.running)));
$('engine-stop-btn').addEventListener('click', async (e) => {
  const btn = e.currentTarget;
  if (!(await confirmDialog('Stop the engine? Market data, the strategy and order entry stop.'))) return;
  await act(btn, 'Engine stop', '/engine/stop', {}, (r) => setEngineState(r?.running));
});
$('history-clear-btn').addEventListener('click', async (e) => {
  const btn = e.currentTarget;
  const v = $('history-before').value;
  const before = v ? new Date(v).getTime() : undefined;
  if (v && !Number.isFinite(before)) {
    showMessage('error', 'the "before" time is not a valid date');
    return;
  }
  const what = before !== undefined ? `before ${new Date(before).toLocaleString()}` : 'all of it';
  if (!(await confirmDialog(`Clear stored history (${what})? This cannot be undone.`))) return;
  const r = await act(btn, 'Clear history', '/history/clear', before !== undefined ? { before } : {});
  if (r) {
    showMessage('ok', `History cleared: ${fmtNum(r.cleared ?? 0)} records removed.`);
    setPnlRange(pnl.range);
  }
});

// strategies: registry, current state, parameter form generated from the schema
const strat = { registry: [], current: null, formFor: '', dirty: false };

async function loadStrategies() {
  try {
    const r = await apiGet('/strategies');
    strat.registry = Array.isArray(r?.registry) ? r.registry : [];
    strat.current = r?.current ?? null;
    const sel = $('strategy-select');
    const keep = sel.value || strat.current?.name;
    sel.innerHTML = strat.registry.map((d) => `<option value="${esc(d.name)}">${esc(d.name)}${d.name === strat.current?.name ? ' (running)' : ''}</option>`).join('');
    if (keep) sel.value = keep;
    setStrategyState(strat.current);
    // a refresh never throws away what the operator is typing: the form is rebuilt only when it shows another
    // strategy, or has no edits
    if (!strat.dirty || strat.formFor !== sel.value) renderStrategyForm();
    // how many reloads completed (tests wait for the one an action started)
    document.body.dataset.strategiesLoaded = String(Number(document.body.dataset.strategiesLoaded ?? '0') + 1);
  } catch (e) {
    showMessage('error', `strategies — ${e.message}`);
  }
}

function renderStrategyForm() {
  const name = $('strategy-select').value;
  strat.formFor = name;
  strat.dirty = false;
  const def = strat.registry.find((d) => d.name === name);
  const form = $('strategy-params');
  form.innerHTML = '';
  $('strategy-desc').textContent = def ? def.description : '';
  if (!def) return;
  const values = strat.current && strat.current.name === name ? strat.current.params : {};
  for (const p of def.params) {
    const id = `param-${p.name}`;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = p.name;
    label.title = p.description;
    let input;
    const value = values[p.name] ?? p.default;
    if (p.type === 'boolean') {
      input = document.createElement('input');
      input.type = 'checkbox';
      input.checked = value === true;
    } else if (p.type === 'enum') {
      input = document.createElement('select');
      for (const a of p.allowed ?? []) input.add(new Option(a, a));
      input.value = String(value);
    } else {
      input = document.createElement('input');
      if (p.type === 'number' || p.type === 'integer') {
        input.type = 'number';
        input.step = p.type === 'integer' ? '1' : 'any';
        if (typeof p.min === 'number') input.min = String(p.min);
        if (typeof p.max === 'number') input.max = String(p.max);
      } else input.type = 'text';
      input.value = String(value);
    }
    input.id = id;
    input.name = p.name;
    input.dataset.type = p.type;
    input.title = `${p.description}${typeof p.min === 'number' ? ` [${p.min} … ${p.max}]` : ''}`;
    form.append(label, input);
  }
}

function strategyParamsFromForm() {
  const out = {};
  for (const el of $('strategy-params').elements) {
    if (!el.name) continue;
    const t = el.dataset.type;
    if (t === 'boolean') out[el.name] = el.checked;
    else if (t === 'number' || t === 'integer') {
      if (el.value.trim() === '') throw new Error(`${el.name} needs a value`);
      out[el.name] = Number(el.value);
    } else out[el.name] = el.value;
  }
  return out;
}

function afterStrategy(r) {
  if (r && typeof r.name === 'string') {
    strat.current = { name: r.name, params: r.params, active: r.active };
    setStrategyState(strat.current);
  }
  loadStrategies();
}

$('strategy-select').addEventListener('change', renderStrategyForm);
$('strategy-params').addEventListener('input', () => {
  strat.dirty = true;
});
$('strategy-activate-btn').addEventListener('click', (e) => {
  const name = $('strategy-select').value;
  if (name) act(e.currentTarget, `Activate ${name}`, `/strategies/${encodeURIComponent(name)}/activate`, {}, afterStrategy);
});
$('strategy-deactivate-btn').addEventListener('click', (e) => {
  const name = $('strategy-select').value;
  if (name) act(e.currentTarget, `Deactivate ${name}`, `/strategies/${encodeURIComponent(name)}/deactivate`, {}, afterStrategy);
});
$('strategy-params-btn').addEventListener('click', (e) => {
  const name = $('strategy-select').value;
  if (!name) return;
  let params;
  try {
    params = strategyParamsFromForm();
  } catch (err) {
    showMessage('error', err.message);
    return;
  }
  act(e.currentTarget, `Parameters of ${name}`, `/strategies/${encodeURIComponent(name)}/params`, params, (r) => {
    // applied: the form shows the running values again
    strat.dirty = false;
    afterStrategy(r);
  });
});

// ---------------------------------------------------------------------------------------------------------
// start

function init() {
  renderTokenStatus(storedToken() ? 'saved' : 'none');
  setupPnlInteractions();
  if (typeof ResizeObserver === 'function') {
    const ro = new ResizeObserver(() => {
      invalidate('pnl');
      invalidate('latency');
    });
    ro.observe($('pnl-chart'));
    ro.observe($('latency-chart'));
  }
  invalidate('pnl');
  invalidate('latency');
  for (const k of Object.keys(topicData)) invalidate(k);
  apiGet('/health')
    .then((hl) => {
      setTradingState(hl?.tradingState);
      if (hl?.status) setEngineState(hl.status !== 'stopped');
    })
    .catch((e) => showMessage('error', `health — ${e.message}`));
  apiGet('/stats')
    .then((s) => onStats(Date.now(), s))
    .catch(() => undefined);
  loadStrategies();
  setPnlRange('session');
  connectWs();
}

init();
