import type { WebSocket } from 'uWebSockets.js';
import type { ActiveStream } from '../market/Scheduler.js';
import type { MarketEventKind, MarketSource } from '../market/types.js';

/**
 * Binance market-data WebSocket dialect: stream names, base paths, per-socket state, the subscription
 * registry, and the JSON control protocol (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY,
 * GET_PROPERTY) with its error frames (protocols.md §1.2).
 */

/** Which base path a socket came in on: legacy root (`/ws`, `/stream`), `/public/...` or `/market/...`. */
export type BasePath = 'legacy' | 'public' | 'market';

export const MAX_STREAMS_PER_CONNECTION = 1024;

/** Per-socket state of a market-data connection (the uWS user data). */
export interface MdSocket {
  readonly kind: 'md';
  readonly id: number;
  readonly base: BasePath;
  /** Frames wrapped as {"stream","data"}: true on /stream, false on /ws, changeable by SET_PROPERTY. */
  combined: boolean;
  /** Streams requested on the URL, applied at open. */
  readonly initial: string[];
  /** Names the client subscribed (as LIST_SUBSCRIPTIONS reports them). */
  readonly names: Set<string>;
  /** Registry entries this socket receives. */
  readonly entries: Set<StreamEntry>;
  /** Frames waiting for the next flush. */
  readonly pending: string[];
  ws: WebSocket<MdSocket> | null;
  closed: boolean;
  inWindowStart: number;
  inCount: number;
  lastPong: number;
}

/** One distinct stream name with the sockets receiving it. */
export interface StreamEntry {
  readonly name: string;
  readonly sym: number;
  readonly kind: MarketEventKind;
  /** `{"stream":"<name>","data":` — the combined-envelope prefix. */
  readonly prefix: string;
  readonly socks: Set<MdSocket>;
}

export interface ParsedStream {
  /** Canonical name: lower-case symbol, canonical event suffix. */
  name: string;
  /** Instrument index, -1 when the stream is not one the simulator produces. */
  sym: number;
  kind: MarketEventKind | null;
}

const SUFFIXES: ReadonlyArray<[string, MarketEventKind]> = [
  ['bookTicker', 'bookTicker'],
  ['aggTrade', 'trade'],
  ['depth', 'depth'],
  ['depth@100ms', 'depth'],
  ['depth@250ms', 'depth'],
  ['depth@500ms', 'depth'],
  ['depth@0ms', 'depth'],
];
const SUFFIX_BY_LOWER = new Map(SUFFIXES.map(([s, k]) => [s.toLowerCase(), [s, k] as const]));

/**
 * Parses `btcusdt@bookTicker`, `btcusdt@aggTrade`, `btcusdt@depth`, `btcusdt@depth@100ms` (also @250ms,
 * @500ms, @0ms). All depth variants carry the same diff events (one update-id chain per symbol). Names the
 * simulator does not produce are accepted (as the venue does) but never deliver anything.
 */
export function parseStreamName(raw: string, market: MarketSource): ParsedStream {
  const at = raw.indexOf('@');
  if (at <= 0) return { name: raw, sym: -1, kind: null };
  const symbol = raw.slice(0, at).toUpperCase();
  const suffix = SUFFIX_BY_LOWER.get(raw.slice(at + 1).toLowerCase());
  const inst = market.instrument(symbol);
  if (!suffix || !inst) return { name: raw, sym: -1, kind: null };
  return { name: `${inst.lower}@${suffix[0]}`, sym: inst.idx, kind: suffix[1] };
}

/**
 * Kinds a base path serves when paths are strict (the 2026 URL split): `/public` the high-frequency book
 * streams, `/market` the rest (trades), and the legacy root only what `/public` serves (market streams
 * starve there, as observed after the split).
 */
export function pathServes(base: BasePath, kind: MarketEventKind, strict: boolean): boolean {
  if (!strict) return true;
  if (base === 'market') return kind === 'trade';
  return kind === 'bookTicker' || kind === 'depth';
}

const KINDS: readonly MarketEventKind[] = ['bookTicker', 'trade', 'depth'];
function kindIndex(k: MarketEventKind): number {
  return k === 'bookTicker' ? 0 : k === 'trade' ? 1 : 2;
}

/** Who listens to what. `entriesFor(sym, kind)` is the hot lookup of the emitter. */
export class StreamRegistry {
  private readonly entries = new Map<string, StreamEntry>();
  /** Live entries (with at least one socket) per sym * 3 + kind. */
  private readonly live: StreamEntry[][];
  private activeCache: ActiveStream[] | null = null;

  constructor(
    private readonly market: MarketSource,
    private readonly strictPaths: boolean,
    private readonly onChange: () => void,
  ) {
    this.live = Array.from({ length: market.instruments.length * 3 }, () => []);
  }

  entriesFor(sym: number, kind: MarketEventKind): readonly StreamEntry[] {
    return this.live[sym * 3 + kindIndex(kind)]!;
  }

  hasListeners(sym: number, kind: MarketEventKind): boolean {
    return this.live[sym * 3 + kindIndex(kind)]!.length > 0;
  }

  /** (symbol, kind) pairs someone receives. */
  active(): ActiveStream[] {
    if (this.activeCache) return this.activeCache;
    const out: ActiveStream[] = [];
    for (let sym = 0; sym < this.market.instruments.length; sym++) {
      for (const kind of KINDS) if (this.hasListeners(sym, kind)) out.push({ sym, kind });
    }
    this.activeCache = out;
    return out;
  }

  /** Subscribes; returns false when the connection would exceed MAX_STREAMS_PER_CONNECTION. */
  subscribe(s: MdSocket, rawNames: readonly string[]): boolean {
    const parsed = rawNames.map((n) => parseStreamName(n, this.market));
    let added = 0;
    for (const p of parsed) if (!s.names.has(p.name)) added++;
    if (s.names.size + added > MAX_STREAMS_PER_CONNECTION) return false;
    let changed = false;
    for (const p of parsed) {
      if (s.names.has(p.name)) continue;
      s.names.add(p.name);
      if (p.kind === null || !pathServes(s.base, p.kind, this.strictPaths)) continue;
      let e = this.entries.get(p.name);
      if (!e) {
        e = { name: p.name, sym: p.sym, kind: p.kind, prefix: `{"stream":${JSON.stringify(p.name)},"data":`, socks: new Set() };
        this.entries.set(p.name, e);
      }
      if (e.socks.size === 0) {
        this.live[e.sym * 3 + kindIndex(e.kind)]!.push(e);
        changed = true;
      }
      e.socks.add(s);
      s.entries.add(e);
    }
    if (changed) this.changed();
    return true;
  }

  unsubscribe(s: MdSocket, rawNames: readonly string[]): void {
    let changed = false;
    for (const raw of rawNames) {
      const p = parseStreamName(raw, this.market);
      if (!s.names.delete(p.name)) continue;
      const e = this.entries.get(p.name);
      if (e && s.entries.delete(e)) changed = this.detach(e, s) || changed;
    }
    if (changed) this.changed();
  }

  removeSocket(s: MdSocket): void {
    let changed = false;
    for (const e of s.entries) changed = this.detach(e, s) || changed;
    s.entries.clear();
    s.names.clear();
    if (changed) this.changed();
  }

  private detach(e: StreamEntry, s: MdSocket): boolean {
    e.socks.delete(s);
    if (e.socks.size > 0) return false;
    const list = this.live[e.sym * 3 + kindIndex(e.kind)]!;
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
    return true;
  }

  private changed(): void {
    this.activeCache = null;
    this.onChange();
  }
}

const METHODS = '`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`';

function errorFrame(code: number, msg: string, id: unknown): string {
  return id === undefined ? JSON.stringify({ code, msg }) : JSON.stringify({ code, msg, id });
}

function isUnsignedInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Handles one client text frame on a market-data socket. Replies as the venue does:
 * `{"result":null,"id":1}`, `{"result":[...],"id":3}`, or `{"code":0..3,"msg":"..."}` errors
 * (0 unknown property, 1 bad value type, 2 invalid request, 3 invalid JSON).
 */
export function handleControl(s: MdSocket, text: string, registry: StreamRegistry): string {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (e) {
    return errorFrame(3, `Invalid JSON: ${e instanceof Error ? e.message : 'parse error'}`, undefined);
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return errorFrame(2, 'Invalid request: expected an object', undefined);
  const req = msg as Record<string, unknown>;
  const id = req['id'];
  if (!isUnsignedInt(id)) return errorFrame(2, 'Invalid request: request ID must be an unsigned integer', undefined);
  const method = req['method'];
  if (method === undefined) return errorFrame(2, 'Invalid request: missing field `method`', id);
  if (typeof method !== 'string') return errorFrame(2, 'Invalid request: method must be a string', id);
  const params = req['params'];
  switch (method) {
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE': {
      if (!Array.isArray(params) || !params.every((p): p is string => typeof p === 'string')) {
        return errorFrame(2, 'Invalid request: params must be an array of stream names', id);
      }
      if (method === 'SUBSCRIBE') {
        if (!registry.subscribe(s, params)) return errorFrame(2, `Invalid request: too many streams (max ${MAX_STREAMS_PER_CONNECTION})`, id);
      } else registry.unsubscribe(s, params);
      return JSON.stringify({ result: null, id });
    }
    case 'LIST_SUBSCRIPTIONS':
      return JSON.stringify({ result: [...s.names], id });
    case 'SET_PROPERTY': {
      if (!Array.isArray(params) || params.length !== 2) return errorFrame(2, 'Invalid request: SET_PROPERTY takes [name, value]', id);
      if (typeof params[0] !== 'string') return errorFrame(2, 'Invalid request: property name must be a string', id);
      if (params[0] !== 'combined') return errorFrame(0, 'Unknown property', id);
      if (typeof params[1] !== 'boolean') return errorFrame(1, 'Invalid value type: expected Boolean', id);
      s.combined = params[1];
      return JSON.stringify({ result: null, id });
    }
    case 'GET_PROPERTY': {
      if (!Array.isArray(params) || params.length !== 1) return errorFrame(2, 'Invalid request: GET_PROPERTY takes [name]', id);
      if (typeof params[0] !== 'string') return errorFrame(2, 'Invalid request: property name must be a string', id);
      if (params[0] !== 'combined') return errorFrame(0, 'Unknown property', id);
      return JSON.stringify({ result: s.combined, id });
    }
    default:
      return errorFrame(2, `Invalid request: unknown variant \`${method}\`, expected one of ${METHODS}`, id);
  }
}

/**
 * Parses a market-data WebSocket URL. Returns null for paths that are not market-data endpoints.
 * `/ws`, `/ws/<s1>/<s2>`, `/stream?streams=s1/s2`, and the same under `/public` and `/market`.
 */
export function parseMdPath(url: string, query: string): { base: BasePath; combined: boolean; streams: string[] } | null {
  let base: BasePath = 'legacy';
  let rest = url;
  if (rest.startsWith('/public/')) {
    base = 'public';
    rest = rest.slice(7);
  } else if (rest.startsWith('/market/')) {
    base = 'market';
    rest = rest.slice(7);
  }
  if (rest === '/stream' || rest === '/stream/') {
    const streams = new URLSearchParams(query).get('streams') ?? '';
    return { base, combined: true, streams: splitStreams(streams) };
  }
  if (rest === '/ws' || rest === '/ws/') return { base, combined: false, streams: [] };
  if (rest.startsWith('/ws/')) return { base, combined: false, streams: splitStreams(decodeURIComponentSafe(rest.slice(4))) };
  return null;
}

function splitStreams(s: string): string[] {
  return s.split('/').filter((x) => x.length > 0);
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
