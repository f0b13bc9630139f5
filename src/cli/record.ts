import { closeSync, openSync, writeSync } from 'node:fs';
import { request } from 'undici';
import { WsClient, type WsClientOptions } from '../net/WsClient.js';
import { nowNs } from '../util/clock.js';
import { UsageError, flag, num, only, parseArgs, str } from './args.js';

/**
 * `hft record`: records a venue's market-data WebSocket (and, on request, REST depth snapshots) in the shared
 * recordings format (fixtures/MANIFEST.md): one JSON object per line,
 * `{"ts": <receive time, unix seconds>, "src": "connect"|"ws"|"ws_out"|"rest", "url": "...", "msg": <payload>}`,
 * with `msg` the payload byte-exact. Frames come from WsClient as (buf, start, end, recvTs) and are copied
 * straight from the socket buffer into the output buffer: no string, no parse per frame.
 */

export type RecordVenue = 'binance' | 'gate';

export interface RecorderOptions {
  venue: RecordVenue;
  /** WebSocket URL to connect to (streams in it or not). */
  url: string;
  /** Output file (created or truncated). */
  out: string;
  /** Text frames sent after every (re)connect, recorded as `ws_out` (SUBSCRIBE, Gate subscribe requests). */
  send?: readonly string[];
  /**
   * Fetch a REST depth snapshot per symbol once that symbol's first diff-depth frame arrived on the
   * connection (again after each reconnect), as the book-sync procedure needs; recorded as `rest` lines.
   */
  snapshot?: { restBase: string; limit: number; symbols?: readonly string[] } | null;
  /** WsClient options (reconnect backoff, timeouts). */
  ws?: WsClientOptions;
  /** Record at most this many `ws` frames (later ones are ignored). Default: no limit. */
  maxFrames?: number;
  /** Output buffer size, bytes (written out when full and at the end). Default 1 MiB. */
  bufferBytes?: number;
  onStatus?: (msg: string) => void;
}

export interface RecorderStats {
  out: string;
  url: string;
  connects: number;
  /** `ws` lines written, and their payload bytes. */
  frames: number;
  bytes: number;
  /** `ws_out` lines. */
  sent: number;
  /** `rest` lines, and snapshot requests that failed (not recorded). */
  snapshots: number;
  snapshotErrors: number;
}

export interface RecorderHandle {
  stats(): RecorderStats;
  /** Resolves at the first open connection. */
  connected(): Promise<void>;
  /** Closes the connection, waits for pending snapshot requests (5 s at most), writes out and closes the file. */
  stop(): Promise<RecorderStats>;
}

/** Buffered line writer on a file descriptor. */
class LineWriter {
  private buf: Buffer;
  private pos = 0;
  private fd: number;

  constructor(path: string, size: number) {
    this.fd = openSync(path, 'w');
    this.buf = Buffer.allocUnsafe(Math.max(4096, size));
  }

  /** Room for `n` more bytes (writes out first if needed; grows for a line longer than the buffer). */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  ascii(s: string): void {
    this.reserve(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  utf8(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.reserve(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  bytes(src: Buffer, start: number, end: number): void {
    this.reserve(end - start);
    this.pos += src.copy(this.buf, this.pos, start, end);
  }

  flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.pos = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }

  get closed(): boolean {
    return this.fd < 0;
  }
}

/** Unix ms at nowNs() == 0: recvTs (ns on the process clock) -> wall time. performance gives sub-ms. */
function unixMsAtClockZero(): number {
  return performance.timeOrigin + performance.now() - nowNs() / 1e6;
}

/** `"ts"` value: unix seconds with microseconds, as the shared recordings print it. */
function tsText(unixMs: number): string {
  return (unixMs / 1000).toFixed(6);
}

/** A payload that is not a JSON object or array (never seen from these venues) is recorded as a JSON string. */
function isJsonContainer(buf: Buffer, start: number, end: number): boolean {
  let i = start;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  return i < end && (buf[i] === 0x7b || buf[i] === 0x5b);
}

const Q_E_DEPTH = Buffer.from('"e":"depthUpdate"');
const Q_GATE_OBU = Buffer.from('"channel":"futures.order_book_update"');
const Q_GATE_UPDATE = Buffer.from('"event":"update"');
const Q_S = Buffer.from('"s":"');
const Q_CONTRACT = Buffer.from('"contract":"');

/** The symbol of a frame's first diff-depth event (Binance depthUpdate, Gate order_book_update push), or null. */
function depthSymbol(venue: RecordVenue, buf: Buffer, start: number, end: number): string | null {
  const view = buf.subarray(start, end);
  let at: number;
  if (venue === 'binance') {
    if (view.indexOf(Q_E_DEPTH) < 0) return null;
    at = view.indexOf(Q_S);
    if (at < 0) return null;
    at += Q_S.length;
  } else {
    if (view.indexOf(Q_GATE_OBU) < 0 || view.indexOf(Q_GATE_UPDATE) < 0) return null;
    const s = view.indexOf(Q_S);
    const c = view.indexOf(Q_CONTRACT);
    if (s >= 0) at = s + Q_S.length;
    else if (c >= 0) at = c + Q_CONTRACT.length;
    else return null;
  }
  const q = view.indexOf(0x22, at);
  return q > at ? view.toString('latin1', at, q) : null;
}

/** REST depth snapshot URL of a symbol. */
export function snapshotUrl(venue: RecordVenue, restBase: string, symbol: string, limit: number): string {
  const base = restBase.replace(/\/+$/, '');
  return venue === 'binance'
    ? `${base}/fapi/v1/depth?symbol=${encodeURIComponent(symbol)}&limit=${limit}`
    : `${base}/futures/usdt/order_book?contract=${encodeURIComponent(symbol)}&limit=${limit}&with_id=true`;
}

/**
 * The REST base that goes with a market-data WebSocket URL: the venue's production host for its
 * production stream host, the same host (http/https) for anything else (the simulator, a proxy).
 */
export function defaultRestBase(venue: RecordVenue, wsUrl: string): string {
  const u = new URL(wsUrl);
  const http = u.protocol === 'wss:' ? 'https:' : 'http:';
  if (venue === 'binance') {
    if (u.hostname === 'fstream.binance.com') return 'https://fapi.binance.com';
    if (u.hostname === 'fstream.binancefuture.com' || u.hostname === 'stream.binancefuture.com') return 'https://testnet.binancefuture.com';
    return `${http}//${u.host}`;
  }
  if (u.hostname === 'fx-ws.gateio.ws') return 'https://fx-api.gateio.ws/api/v4';
  return `${http}//${u.host}/api/v4`;
}

/** Starts recording; resolves once the output file is open and the connection attempt started. */
export function startRecorder(opts: RecorderOptions): RecorderHandle {
  const w = new LineWriter(opts.out, opts.bufferBytes ?? 1 << 20);
  const url = opts.url;
  const urlJson = JSON.stringify(url);
  const wsHead = `,"src":"ws","url":${urlJson},"msg":`;
  const st: RecorderStats = { out: opts.out, url, connects: 0, frames: 0, bytes: 0, sent: 0, snapshots: 0, snapshotErrors: 0 };
  const msAtZero = unixMsAtClockZero();
  const wallNow = (): number => performance.timeOrigin + performance.now();
  const snap = opts.snapshot ?? null;
  const maxFrames = opts.maxFrames ?? Number.POSITIVE_INFINITY;
  const wantSyms = snap?.symbols ? new Set(snap.symbols.map((s) => s.toUpperCase())) : null;
  /** Symbols whose snapshot was requested on the current connection. */
  const snapped = new Set<string>();
  let snapshotsDone = snap === null;
  const pending = new Set<Promise<void>>();
  let stopped = false;
  let onConnected: (() => void) | null = null;
  const connectedP = new Promise<void>((r) => (onConnected = r));

  const line = (ts: string, src: string, lineUrl: string, msg: string): void => {
    w.utf8(`{"ts":${ts},"src":"${src}","url":${JSON.stringify(lineUrl)},"msg":${msg}}\n`);
  };

  const fetchSnapshot = (symbol: string): void => {
    const restUrl = snapshotUrl(opts.venue, snap!.restBase, symbol, snap!.limit);
    const p = (async (): Promise<void> => {
      try {
        const res = await request(restUrl, { headersTimeout: 10_000, bodyTimeout: 10_000 });
        const body = await res.body.text();
        if (w.closed) return;
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`);
        JSON.parse(body); // a line must stay valid JSON
        line(tsText(wallNow()), 'rest', restUrl, body);
        st.snapshots++;
      } catch (e) {
        st.snapshotErrors++;
        opts.onStatus?.(`snapshot ${restUrl} failed: ${(e as Error).message}`);
      }
    })();
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const client = new WsClient(
    url,
    {
      onOpen: () => {
        st.connects++;
        line(tsText(wallNow()), 'connect', url, 'null');
        snapped.clear();
        snapshotsDone = snap === null;
        for (const text of opts.send ?? []) {
          if (!client.send(text)) continue;
          const t = text.trim();
          line(tsText(wallNow()), 'ws_out', url, t.startsWith('{') || t.startsWith('[') ? text : JSON.stringify(text));
          st.sent++;
        }
        opts.onStatus?.(`connected to ${url}`);
        onConnected?.();
        onConnected = null;
      },
      onMessage: (buf, start, end, recvTs) => {
        if (st.frames >= maxFrames || stopped) return;
        const ts = tsText(msAtZero + recvTs / 1e6);
        w.ascii('{"ts":');
        w.ascii(ts);
        w.utf8(wsHead);
        if (isJsonContainer(buf, start, end)) w.bytes(buf, start, end);
        else w.utf8(JSON.stringify(buf.toString('utf8', start, end)));
        w.ascii('}\n');
        st.frames++;
        st.bytes += end - start;
        if (!snapshotsDone) {
          const sym = depthSymbol(opts.venue, buf, start, end);
          if (sym !== null && !snapped.has(sym) && (wantSyms === null || wantSyms.has(sym.toUpperCase()))) {
            snapped.add(sym);
            fetchSnapshot(sym);
            if (wantSyms !== null && snapped.size >= wantSyms.size) snapshotsDone = true;
          }
        }
      },
      onClose: (code, reason, willReconnect) => {
        if (!stopped) opts.onStatus?.(`connection closed (${code} ${reason})${willReconnect ? ', reconnecting' : ''}`);
      },
      onError: (err) => {
        if (!stopped) opts.onStatus?.(`connection error: ${err.message}`);
      },
    },
    opts.ws,
  );
  client.connect();

  return {
    stats: () => ({ ...st }),
    connected: () => connectedP,
    async stop(): Promise<RecorderStats> {
      if (stopped) return { ...st };
      stopped = true;
      client.close();
      if (pending.size > 0) {
        let timer: NodeJS.Timeout | null = null;
        await Promise.race([Promise.allSettled([...pending]), new Promise<void>((r) => (timer = setTimeout(r, 5000)))]);
        if (timer !== null) clearTimeout(timer);
      }
      w.close();
      return { ...st };
    },
  };
}

// ---- CLI ----------------------------------------------------------------------------------------------

const DEFAULT_BINANCE_KINDS = ['bookTicker', 'aggTrade', 'depth@100ms'];
const DEFAULT_GATE_CHANNELS = ['futures.book_ticker', 'futures.order_book_update', 'futures.trades'];

function list(v: string | undefined): string[] {
  return v === undefined ? [] : v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Binance stream names: kinds x symbols when symbols are given, else the names as given. */
export function binanceStreamNames(streams: readonly string[], symbols: readonly string[]): string[] {
  if (symbols.length === 0) return [...streams];
  const kinds = streams.length > 0 ? streams : DEFAULT_BINANCE_KINDS;
  const out: string[] = [];
  for (const s of symbols) for (const k of kinds) out.push(`${s.toLowerCase()}@${k}`);
  return out;
}

/**
 * Gate subscribe requests (protocols.md §2.2/§2.4): one per channel, or one per contract where the payload
 * names a single contract (order_book_update `[c, "100ms", "100"]`, candlesticks `["1m", c]`).
 */
export function gateSubscribeFrames(channels: readonly string[], contracts: readonly string[], timeS: number): string[] {
  const out: string[] = [];
  const frame = (channel: string, payload: unknown[]): string => JSON.stringify({ time: timeS, channel, event: 'subscribe', payload });
  for (const ch of channels.length > 0 ? channels : DEFAULT_GATE_CHANNELS) {
    if (ch === 'futures.order_book_update') for (const c of contracts) out.push(frame(ch, [c, '100ms', '100']));
    else if (ch === 'futures.candlesticks') for (const c of contracts) out.push(frame(ch, ['1m', c]));
    else if (ch === 'futures.order_book') for (const c of contracts) out.push(frame(ch, [c, '20', '0']));
    else out.push(frame(ch, [...contracts]));
  }
  return out;
}

/** What `hft record` was asked, resolved into recorder options (exported for tests). */
export function recordOptionsFromArgs(argv: string[]): RecorderOptions & { durationS: number | undefined } {
  const args = parseArgs(argv, ['snapshot']);
  only(args, ['venue', 'url', 'out', 'streams', 'symbols', 'duration', 'snapshot', 'snapshot-limit', 'rest', 'subscribe', 'send', 'max-messages'], 'record');
  const venue = str(args, 'venue') ?? 'binance';
  if (venue !== 'binance' && venue !== 'gate') throw new UsageError(`hft record: --venue must be binance or gate; got ${JSON.stringify(venue)}`);
  const urlArg = str(args, 'url');
  const out = str(args, 'out');
  if (urlArg === undefined) throw new UsageError('hft record: --url is required (a WebSocket URL or the simulator base ws://host:port)');
  if (out === undefined) throw new UsageError('hft record: --out FILE is required');
  let u: URL;
  try {
    u = new URL(urlArg);
  } catch {
    throw new UsageError(`hft record: --url is not a URL: ${JSON.stringify(urlArg)}`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new UsageError('hft record: --url must be ws:// or wss://');
  const streams = list(str(args, 'streams'));
  const symbols = list(str(args, 'symbols'));
  const mode = str(args, 'subscribe') ?? 'url';
  if (mode !== 'url' && mode !== 'message') throw new UsageError(`hft record: --subscribe must be url or message; got ${JSON.stringify(mode)}`);
  const send: string[] = [];
  for (const s of args.options.get('send') ?? []) {
    try {
      JSON.parse(s);
    } catch {
      throw new UsageError(`hft record: --send must be a JSON frame; got ${JSON.stringify(s)}`);
    }
    send.push(s);
  }
  const bare = u.pathname === '' || u.pathname === '/';
  let url = urlArg;
  if (venue === 'binance') {
    const names = binanceStreamNames(streams, symbols);
    if (names.length > 0) {
      if (mode === 'message') {
        if (bare) url = `${urlArg.replace(/\/+$/, '')}/stream`;
        send.unshift(JSON.stringify({ method: 'SUBSCRIBE', params: names, id: 1 }));
      } else if (bare || /\/stream\/?$/.test(u.pathname)) {
        if (u.searchParams.has('streams')) throw new UsageError('hft record: streams given both in --url and in --streams/--symbols');
        url = `${urlArg.replace(/\/+$/, '').replace(/\/stream$/, '')}/stream?streams=${names.join('/')}`;
      } else throw new UsageError('hft record: with --streams/--symbols, --url must be a base (ws://host:port) or end in /stream');
    } else if (bare && send.length === 0) {
      throw new UsageError('hft record: nothing to record: give --symbols (and --streams kinds), --streams names, streams in --url, or --send');
    }
  } else {
    if (bare) url = `${urlArg.replace(/\/+$/, '')}/v4/ws/usdt`;
    if (symbols.length > 0) send.push(...gateSubscribeFrames(streams, symbols, Math.floor(Date.now() / 1000)));
    else if (send.length === 0) throw new UsageError('hft record --venue gate: give --symbols (contracts, e.g. BTC_USDT) with --streams channels, or --send subscribe frames');
  }
  const maxFrames = num(args, 'max-messages', { min: 1, max: 1e12, int: true });
  const snapshotLimit = num(args, 'snapshot-limit', { min: 1, max: 5000, int: true }) ?? (venue === 'binance' ? 1000 : 100);
  const snapshot = flag(args, 'snapshot')
    ? { restBase: str(args, 'rest') ?? defaultRestBase(venue, url), limit: snapshotLimit, ...(symbols.length > 0 ? { symbols } : {}) }
    : null;
  return {
    venue,
    url,
    out,
    send,
    snapshot,
    durationS: num(args, 'duration', { min: 0.01, max: 1e7 }),
    ...(maxFrames !== undefined ? { maxFrames } : {}),
  };
}

/**
 * `hft record --venue binance|gate --url URL --out FILE [--streams a,b] [--symbols A,B] [--duration S]
 * [--snapshot] [--snapshot-limit N] [--rest URL] [--subscribe url|message] [--send JSON]... [--max-messages N]`.
 * Runs until --duration, --max-messages, SIGINT or SIGTERM; prints one JSON line of counts.
 */
export async function recordCommand(argv: string[]): Promise<number> {
  const o = recordOptionsFromArgs(argv);
  const rec = startRecorder({ ...o, onStatus: (m) => void process.stderr.write(`hft record: ${m}\n`) });
  await new Promise<void>((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    const done = (): void => {
      for (const t of timers) clearInterval(t);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (o.durationS !== undefined) timers.push(setTimeout(done, o.durationS * 1000));
    if (o.maxFrames !== undefined) {
      const max = o.maxFrames;
      timers.push(setInterval(() => rec.stats().frames >= max && done(), 20));
    }
  });
  const st = await rec.stop();
  process.stdout.write(JSON.stringify(st) + '\n');
  return 0;
}

/** Help lines for `hft record` (main.ts HELP). */
export const RECORD_HELP = `  record   Record a venue's market-data WebSocket in the shared recordings format (one JSON line per frame,
           payload byte-exact; replay it with hft sim --source, check it with hft verify-book)
             --venue binance|gate  dialect (default binance)
             --url URL          WebSocket URL, or a base (ws://host:port of hft sim, wss://fstream.binance.com)
             --out FILE         output .jsonl
             --symbols A,B      symbols (Gate: contracts like BTC_USDT)
             --streams a,b      with --symbols: stream kinds (default bookTicker,aggTrade,depth@100ms; Gate:
                                channels, default futures.book_ticker,futures.order_book_update,futures.trades);
                                without: full stream names
             --subscribe url|message  Binance: streams in the URL (default) or a SUBSCRIBE frame
             --send JSON        an extra frame to send after connecting (repeatable; recorded as ws_out)
             --snapshot         fetch a REST depth snapshot per symbol after its first depth frame (rest lines)
             --snapshot-limit N depth limit (default 1000 Binance, 100 Gate); --rest URL  REST base override
             --duration S       stop after S seconds (else at SIGINT/SIGTERM); --max-messages N  after N frames
`;
