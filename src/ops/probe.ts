import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Client, WebSocket } from 'undici';
import { UsageError, flag, num, only, parseArgs, str } from '../cli/args.js';

/**
 * `hft probe`: how far is each venue endpoint from this box. Per endpoint and sample: DNS resolution, TCP
 * connect, TLS handshake (https only), a REST round trip on a warm keep-alive connection (the transport the
 * engine uses), and a fresh WebSocket: handshake done (wsOpen) and first book-ticker frame after the
 * subscribe (wsFirst). Samples run one after another (no self-inflicted queueing); an endpoint that fails is
 * reported with its error and the others go on.
 */

export type ProbeVenue = 'binance' | 'gate';

export interface ProbeTarget {
  name: string;
  venue: ProbeVenue;
  /** REST base: https://fapi.binance.com, or Gate's with its prefix: https://api.gateio.ws/api/v4 */
  rest: string;
  /** market-data WebSocket: Binance's base (…/ws is appended), Gate's full URL (…/v4/ws/usdt) */
  ws: string;
  /** book ticker to subscribe (default BTCUSDT / BTC_USDT) */
  symbol?: string;
}

/**
 * Built-in endpoints. Neither venue documents regional hosts for its futures API; the list holds the
 * production hosts (Gate serves its API from two edge hosts), the testnets and Binance's demo environment.
 * A targets file replaces it (colocation or proxy endpoints, the simulator).
 */
export const BUILTIN_TARGETS: readonly ProbeTarget[] = [
  { name: 'binance-prod', venue: 'binance', rest: 'https://fapi.binance.com', ws: 'wss://fstream.binance.com' },
  { name: 'binance-testnet', venue: 'binance', rest: 'https://testnet.binancefuture.com', ws: 'wss://fstream.binancefuture.com' },
  { name: 'binance-demo', venue: 'binance', rest: 'https://demo-fapi.binance.com', ws: 'wss://demo-fstream.binance.com' },
  { name: 'gate-prod', venue: 'gate', rest: 'https://api.gateio.ws/api/v4', ws: 'wss://fx-ws.gateio.ws/v4/ws/usdt' },
  { name: 'gate-prod-fx', venue: 'gate', rest: 'https://fx-api.gateio.ws/api/v4', ws: 'wss://fx-ws.gateio.ws/v4/ws/usdt' },
  { name: 'gate-testnet', venue: 'gate', rest: 'https://fx-api-testnet.gateio.ws/api/v4', ws: 'wss://ws-testnet.gate.com/v4/ws/futures/usdt' },
];

export const STAGE_NAMES = ['dns', 'tcp', 'tls', 'rest', 'wsOpen', 'wsFirst'] as const;
export type ProbeStage = (typeof STAGE_NAMES)[number];

export interface StageSummary {
  /** samples taken */
  n: number;
  /** milliseconds */
  p50?: number;
  p90?: number;
  p99?: number;
  min?: number;
  max?: number;
  /** why the stage stopped (or did not run) */
  error?: string;
}

export interface ProbeResult {
  name: string;
  venue: ProbeVenue;
  rest: string;
  ws: string;
  /** the REST path timed */
  restPath: string;
  stages: Record<ProbeStage, StageSummary>;
  /** the first error met, for the table */
  error?: string;
}

export interface ProbeOptions {
  samples: number;
  /** per operation */
  timeoutMs: number;
}

// ------------------------------------------------------------------ statistics

/** Nearest-rank percentile of ascending `sorted` (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: readonly number[], error?: string): StageSummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const out: StageSummary = { n: sorted.length };
  if (sorted.length > 0) {
    out.p50 = round3(percentile(sorted, 50));
    out.p90 = round3(percentile(sorted, 90));
    out.p99 = round3(percentile(sorted, 99));
    out.min = round3(sorted[0]!);
    out.max = round3(sorted[sorted.length - 1]!);
  }
  if (error !== undefined) out.error = error;
  return out;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const msSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

// ------------------------------------------------------------------ targets

/** Reads and checks a targets file: a JSON array of {name, rest, ws[, venue][, symbol]}. */
export function parseTargets(text: string, defaultVenue?: ProbeVenue): ProbeTarget[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`targets: not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw) || raw.length === 0) throw new UsageError('targets: must be a non-empty JSON array of {name, rest, ws}');
  return raw.map((t: unknown, i) => {
    if (t === null || typeof t !== 'object' || Array.isArray(t)) throw new UsageError(`targets[${i}]: must be an object {name, rest, ws}`);
    const o = t as Record<string, unknown>;
    const field = (k: string, protocols: readonly string[]): string => {
      const v = o[k];
      if (typeof v !== 'string' || v === '') throw new UsageError(`targets[${i}].${k}: must be a non-empty string`);
      if (protocols.length > 0) {
        let u: URL;
        try {
          u = new URL(v);
        } catch {
          throw new UsageError(`targets[${i}].${k}: not a URL: ${JSON.stringify(v)}`);
        }
        if (!protocols.includes(u.protocol)) throw new UsageError(`targets[${i}].${k}: must be ${protocols.map((p) => p.slice(0, -1)).join(' or ')}; got ${JSON.stringify(v)}`);
      }
      return v.replace(/\/+$/, '');
    };
    const name = field('name', []);
    const rest = field('rest', ['http:', 'https:']);
    const ws = field('ws', ['ws:', 'wss:']);
    const venueRaw = o['venue'];
    if (venueRaw !== undefined && venueRaw !== 'binance' && venueRaw !== 'gate') throw new UsageError(`targets[${i}].venue: must be binance or gate; got ${JSON.stringify(venueRaw)}`);
    const symbol = o['symbol'];
    if (symbol !== undefined && (typeof symbol !== 'string' || !/^[A-Z0-9_]{2,30}$/.test(symbol))) throw new UsageError(`targets[${i}].symbol: must be a venue symbol such as BTCUSDT or BTC_USDT`);
    const venue: ProbeVenue = venueRaw ?? defaultVenue ?? (/\/api\/v4$/.test(rest) ? 'gate' : 'binance');
    return { name, venue, rest, ws, ...(symbol !== undefined ? { symbol } : {}) };
  });
}

// ------------------------------------------------------------------ one endpoint

function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout?.();
        reject(new Error(`${what}: timed out after ${ms} ms`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function errText(e: unknown): string {
  const err = e as Error & { code?: string; cause?: unknown };
  const cause = err.cause as (Error & { code?: string }) | undefined;
  const code = err.code ?? cause?.code;
  const msg = cause?.message && cause.message !== err.message ? `${err.message}: ${cause.message}` : err.message;
  return code && !msg.includes(code) ? `${code} ${msg}` : msg;
}

async function resolveHost(host: string): Promise<{ address: string; ms: number }> {
  const bare = host.replace(/^\[|\]$/g, '');
  const t0 = process.hrtime.bigint();
  if (isIP(bare)) return { address: bare, ms: msSince(t0) };
  const r = await lookup(bare);
  return { address: r.address, ms: msSince(t0) };
}

/** TCP connect, then (https) the TLS handshake on that socket; each timed on its own. */
async function connectTimes(address: string, port: number, servername: string | undefined, timeoutMs: number): Promise<{ tcp: number; tls?: number; tlsError?: string }> {
  let sock: Socket | undefined;
  try {
    const t0 = process.hrtime.bigint();
    sock = netConnect({ host: address, port, noDelay: true });
    const s = sock;
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('error', reject);
      }),
      timeoutMs,
      'tcp connect',
    );
    const tcp = msSince(t0);
    if (servername === undefined) return { tcp };
    const t1 = process.hrtime.bigint();
    const secure = tlsConnect({ socket: s, servername, ALPNProtocols: ['http/1.1'] });
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          secure.once('secureConnect', () => resolve());
          secure.once('error', reject);
        }),
        timeoutMs,
        'tls handshake',
      );
      return { tcp, tls: msSince(t1) };
    } catch (e) {
      return { tcp, tlsError: `tls ${servername}: ${errText(e)}` };
    } finally {
      secure.destroy();
    }
  } finally {
    sock?.destroy();
  }
}

function restTimePath(venue: ProbeVenue): string {
  return venue === 'binance' ? '/fapi/v1/time' : '/spot/time';
}

/** The simulator speaks Gate's futures API only: its contracts list is the cheapest public GET there. */
const GATE_FALLBACK_PATH = '/futures/usdt/contracts';

async function restGet(client: Client, path: string, timeoutMs: number): Promise<number> {
  const res = await client.request({ method: 'GET', path, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  await res.body.dump({ limit: 16 * 1024 * 1024 });
  return res.statusCode;
}

function wsUrlFor(t: ProbeTarget): string {
  if (t.venue === 'gate') return t.ws;
  return /\/ws$/.test(t.ws) ? t.ws : `${t.ws}/ws`;
}

function subscribeFrame(t: ProbeTarget, symbol: string): string {
  return t.venue === 'binance'
    ? JSON.stringify({ method: 'SUBSCRIBE', params: [`${symbol.toLowerCase()}@bookTicker`], id: 1 })
    : JSON.stringify({ time: Math.floor(Date.now() / 1000), channel: 'futures.book_ticker', event: 'subscribe', payload: [symbol] });
}

/** A book-ticker data frame (not the subscribe acknowledgement). */
export function isBookTickerFrame(venue: ProbeVenue, text: string): boolean {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return false;
  }
  if (m === null || typeof m !== 'object') return false;
  const o = m as Record<string, unknown>;
  const data = (o['data'] && typeof o['data'] === 'object' ? o['data'] : o) as Record<string, unknown>;
  if (venue === 'binance') return data['e'] === 'bookTicker' || (typeof data['b'] === 'string' && typeof data['a'] === 'string' && typeof data['s'] === 'string');
  return o['channel'] === 'futures.book_ticker' && o['event'] === 'update';
}

/** Opens a WebSocket, subscribes, waits for the first book-ticker frame; closes it. */
async function wsSample(t: ProbeTarget, symbol: string, timeoutMs: number): Promise<{ open: number; first: number }> {
  const url = wsUrlFor(t);
  const ws = new WebSocket(url);
  const t0 = process.hrtime.bigint();
  let open = 0;
  let t1 = t0;
  try {
    return await withTimeout(
      new Promise<{ open: number; first: number }>((resolve, reject) => {
        ws.addEventListener('open', () => {
          open = msSince(t0);
          t1 = process.hrtime.bigint();
          ws.send(subscribeFrame(t, symbol));
        });
        ws.addEventListener('message', (ev) => {
          const text = typeof ev.data === 'string' ? ev.data : Buffer.from(ev.data as ArrayBuffer).toString('utf8');
          if (isBookTickerFrame(t.venue, text)) resolve({ open, first: msSince(t1) });
        });
        ws.addEventListener('error', (ev) => reject(new Error(`websocket ${url}: ${(ev as { message?: string }).message || 'connection failed'}`)));
        ws.addEventListener('close', (ev) => reject(new Error(`websocket ${url}: closed (${ev.code}${ev.reason ? ' ' + ev.reason : ''}) before a book ticker`)));
      }),
      timeoutMs,
      `websocket ${url}`,
    );
  } finally {
    try {
      ws.close();
    } catch {
      // already closed
    }
  }
}

/** Probes one endpoint; never throws. */
export async function probeTarget(t: ProbeTarget, opts: ProbeOptions): Promise<ProbeResult> {
  const samples: Record<ProbeStage, number[]> = { dns: [], tcp: [], tls: [], rest: [], wsOpen: [], wsFirst: [] };
  const errors: Partial<Record<ProbeStage, string>> = {};
  const restUrl = new URL(t.rest);
  const https = restUrl.protocol === 'https:';
  const port = restUrl.port !== '' ? Number(restUrl.port) : https ? 443 : 80;
  const host = restUrl.hostname;
  const symbol = t.symbol ?? (t.venue === 'binance' ? 'BTCUSDT' : 'BTC_USDT');
  const basePath = restUrl.pathname.replace(/\/+$/, '');
  let restPath = basePath + restTimePath(t.venue);

  // connection stages: DNS, TCP, TLS on the REST host
  let address: string | undefined;
  for (let i = 0; i < opts.samples && errors.dns === undefined && errors.tcp === undefined; i++) {
    try {
      const r = await withTimeout(resolveHost(host), opts.timeoutMs, `dns ${host}`);
      samples.dns.push(r.ms);
      address = r.address;
    } catch (e) {
      errors.dns = `dns ${host}: ${errText(e)}`;
      break;
    }
    try {
      const c = await connectTimes(address, port, https ? host : undefined, opts.timeoutMs);
      samples.tcp.push(c.tcp);
      if (c.tls !== undefined) samples.tls.push(c.tls);
      if (c.tlsError !== undefined) errors.tls ??= c.tlsError;
    } catch (e) {
      errors.tcp = `tcp ${address}:${port}: ${errText(e)}`;
    }
  }
  const unreachable = errors.dns ?? errors.tcp;

  // REST on one warm keep-alive connection: the first request opens it and is not counted
  if (unreachable !== undefined) errors.rest = `skipped: ${unreachable}`;
  else {
    const client = new Client(restUrl.origin, { connectTimeout: opts.timeoutMs, keepAliveTimeout: 30_000, pipelining: 1 });
    try {
      let status = await withTimeout(restGet(client, restPath, opts.timeoutMs), opts.timeoutMs, `GET ${restPath}`);
      if (status === 404 && t.venue === 'gate') {
        restPath = basePath + GATE_FALLBACK_PATH;
        status = await withTimeout(restGet(client, restPath, opts.timeoutMs), opts.timeoutMs, `GET ${restPath}`);
      }
      if (status < 200 || status >= 300) throw new Error(`GET ${restPath}: HTTP ${status}`);
      for (let i = 0; i < opts.samples; i++) {
        const t0 = process.hrtime.bigint();
        const s = await withTimeout(restGet(client, restPath, opts.timeoutMs), opts.timeoutMs, `GET ${restPath}`);
        if (s < 200 || s >= 300) throw new Error(`GET ${restPath}: HTTP ${s}`);
        samples.rest.push(msSince(t0));
      }
    } catch (e) {
      errors.rest = errText(e);
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  // WebSocket: a fresh connection per sample (the handshake is what a reconnect costs)
  for (let i = 0; i < opts.samples; i++) {
    try {
      const r = await wsSample(t, symbol, opts.timeoutMs);
      samples.wsOpen.push(r.open);
      samples.wsFirst.push(r.first);
    } catch (e) {
      errors.wsOpen = errText(e);
      errors.wsFirst = errors.wsOpen;
      break;
    }
  }

  if (!https) errors.tls ??= 'n/a (http)';
  const stages = Object.fromEntries(STAGE_NAMES.map((s) => [s, summarize(samples[s], errors[s])])) as Record<ProbeStage, StageSummary>;
  const firstError = STAGE_NAMES.map((s) => errors[s]).find((e) => e !== undefined && !e.startsWith('n/a') && !e.startsWith('skipped'));
  return { name: t.name, venue: t.venue, rest: t.rest, ws: t.ws, restPath, stages, ...(firstError !== undefined ? { error: firstError } : {}) };
}

/** Probes each endpoint in turn; ranked by REST p50 (unreachable last, in input order). */
export async function probeTargets(targets: readonly ProbeTarget[], opts: ProbeOptions): Promise<ProbeResult[]> {
  const out: ProbeResult[] = [];
  for (const t of targets) out.push(await probeTarget(t, opts));
  return rankResults(out);
}

export function rankResults(results: readonly ProbeResult[]): ProbeResult[] {
  const key = (r: ProbeResult): number => r.stages.rest.p50 ?? Number.POSITIVE_INFINITY;
  return results
    .map((r, i) => ({ r, i }))
    .sort((a, b) => key(a.r) - key(b.r) || a.i - b.i)
    .map((x) => x.r);
}

// ------------------------------------------------------------------ output

const fmt = (v: number | undefined): string => (v === undefined ? '-' : v < 10 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(1));

/** The ranked table, milliseconds. */
export function formatProbeTable(results: readonly ProbeResult[], samples: number): string {
  const header = ['#', 'endpoint', 'venue', 'REST p50', 'p90', 'p99', 'DNS p50', 'TCP p50', 'TLS p50', 'WS open p50', 'WS 1st p50', 'error'];
  const rows = results.map((r, i) => [
    String(i + 1),
    r.name,
    r.venue,
    fmt(r.stages.rest.p50),
    fmt(r.stages.rest.p90),
    fmt(r.stages.rest.p99),
    fmt(r.stages.dns.p50),
    fmt(r.stages.tcp.p50),
    fmt(r.stages.tls.p50),
    fmt(r.stages.wsOpen.p50),
    fmt(r.stages.wsFirst.p50),
    r.error ?? '',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (c >= 3 && c <= 10 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [`latency in ms over ${samples} sample(s) per stage; ranked by REST p50 (WS 1st: subscribe -> first book ticker)`, line(header), ...rows.map(line)].join('\n') + '\n';
}

export const PROBE_HELP = `  probe    Measure the network path to each venue endpoint: DNS, TCP connect, TLS handshake,
           REST round trip (warm keep-alive GET of the server time), WebSocket handshake and first
           book-ticker frame after subscribing; p50/p90/p99 per stage, ranked by REST p50
             --venue binance|gate  only that venue's built-in endpoints (production, testnet, demo);
                                with --targets: the dialect of entries without a "venue"
             --targets FILE     JSON array of {"name","rest","ws"[,"venue"][,"symbol"]} replacing the
                                built-in list (e.g. the simulator: hft sim prints its URLs)
             --samples N        samples per stage, 1..1000 (default 5; each WS sample is a new connection)
             --timeout MS       per operation (default 5000)
             --json             results as JSON
           Unreachable endpoints are listed with their error; exit 0 when at least one answered REST
`;

/** `hft probe`. Usage errors are thrown as UsageError (main prints them, exit 2). */
export async function probeCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  only(args, ['venue', 'targets', 'samples', 'timeout', 'json'], 'probe');
  if (args.positional.length > 0) throw new UsageError(`hft probe: unexpected argument ${JSON.stringify(args.positional[0])}`);
  const venueArg = str(args, 'venue');
  if (venueArg !== undefined && venueArg !== 'binance' && venueArg !== 'gate') throw new UsageError(`hft probe: --venue must be binance or gate; got ${JSON.stringify(venueArg)}`);
  const venue = venueArg as ProbeVenue | undefined;
  const samples = num(args, 'samples', { min: 1, max: 1000, int: true }) ?? 5;
  const timeoutMs = num(args, 'timeout', { min: 100, max: 120_000, int: true }) ?? 5000;
  const file = str(args, 'targets');
  let targets: ProbeTarget[];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`hft probe: cannot read --targets ${file}: ${(e as Error).message}`);
    }
    targets = parseTargets(text, venue);
  } else {
    targets = BUILTIN_TARGETS.filter((t) => venue === undefined || t.venue === venue);
  }
  const results = await probeTargets(targets, { samples, timeoutMs });
  if (flag(args, 'json')) process.stdout.write(JSON.stringify({ samples, unit: 'ms', results }, null, 2) + '\n');
  else process.stdout.write(formatProbeTable(results, samples));
  return results.some((r) => r.stages.rest.p50 !== undefined) ? 0 : 1;
}
