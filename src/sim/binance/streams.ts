import type { WebSocket } from 'uWebSockets.js';
import { KLINE_INTERVALS, type KlineInterval } from '../market/Klines.js';
import type { ActiveStream } from '../market/Scheduler.js';
import type { MarketEventKind, MarketSource } from '../market/types.js';

/**
 * Binance market-data WebSocket dialect: stream names, base paths, per-socket state, the subscription
 * registry, and the JSON control protocol (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY,
 * GET_PROPERTY) with its error frames (protocols.md §1.2).
 */

/** Which base path a socket came in on: legacy root (`/ws`, `/stream`), `/public`, `/market` or `/private`. */
export type BasePath = 'legacy' | 'public' | 'market' | 'private';

export const MAX_STREAMS_PER_CONNECTION = 1024;

/** A user-data subscription of a socket: a listen key and an optional event-type filter. */
export interface UserSub {
  readonly key: string;
  /** Event types (`e`) delivered; null = all. */
  readonly events: ReadonlySet<string> | null;
  readonly sock: MdSocket;
}

/** Per-socket state of a market-data / user-data connection (the uWS user data). */
export interface MdSocket {
  readonly kind: 'md';
  readonly id: number;
  readonly base: BasePath;
  /** Frames wrapped as {"stream","data"}: true on /stream, false on /ws, changeable by SET_PROPERTY. */
  combined: boolean;
  /** Streams requested on the URL, applied at open. */
  readonly initial: string[];
  /** User-data subscriptions requested on the URL, applied at open. */
  readonly initialUser: Array<{ key: string; events: ReadonlySet<string> | null }>;
  /** Names the client subscribed (as LIST_SUBSCRIPTIONS reports them). */
  readonly names: Set<string>;
  /** Registry entries this socket receives. */
  readonly entries: Set<StreamEntry>;
  /** Listen keys this socket receives. */
  readonly userSubs: UserSub[];
  /** Frames waiting for the next flush. */
  readonly pending: string[];
  ws: WebSocket<MdSocket> | null;
  closed: boolean;
  inWindowStart: number;
  inCount: number;
  lastPong: number;
}

/**
 * What a stream carries. Per-symbol slots hold the entries the emitter looks up for a symbol; the
 * all-market `!markPrice@arr` streams are kept apart (one frame for every symbol).
 */
export type WireKind = 'bookTicker' | 'aggTrade' | 'trade' | 'depth' | 'depthPartial' | 'markPrice' | 'forceOrder' | 'kline' | 'markPriceArr';

export const enum Slot {
  BookTicker = 0,
  AggTrade = 1,
  Trade = 2,
  Depth = 3,
  DepthPartial = 4,
  MarkPrice = 5,
  ForceOrder = 6,
  Kline = 7,
}
const NSLOT = 8;

const SLOT_OF: Record<Exclude<WireKind, 'markPriceArr'>, Slot> = {
  bookTicker: Slot.BookTicker,
  aggTrade: Slot.AggTrade,
  trade: Slot.Trade,
  depth: Slot.Depth,
  depthPartial: Slot.DepthPartial,
  markPrice: Slot.MarkPrice,
  forceOrder: Slot.ForceOrder,
  kline: Slot.Kline,
};

/** One distinct stream name with the sockets receiving it. */
export interface StreamEntry {
  readonly name: string;
  /** Instrument index; -1 for an all-market stream (`!bookTicker`, `!forceOrder@arr`, `!markPrice@arr`). */
  readonly sym: number;
  readonly kind: WireKind;
  /** `{"stream":"<name>","data":` — the combined-envelope prefix. */
  readonly prefix: string;
  readonly socks: Set<MdSocket>;
  /** Partial depth: levels (5/10/20). */
  readonly levels: number;
  /** Update period (ms) of periodic streams: partial depth, markPrice (1000/3000). 0 = every event. */
  readonly periodMs: number;
  /** Kline interval. */
  readonly interval: KlineInterval | null;
  /** Emitter state of periodic streams: last emission time and last `u` sent (partial depth `pu`). */
  lastEmit: number;
  lastU: number;
  /** Partial depth: `U` of the first diff event since the last emission (0 = none). */
  firstU: number;
}

export interface ParsedStream {
  /** Canonical name: lower-case symbol, canonical event suffix. */
  name: string;
  /** Instrument index, -1 for all-market streams or streams the simulator does not produce. */
  sym: number;
  kind: WireKind | null;
  levels: number;
  periodMs: number;
  interval: KlineInterval | null;
}

const DIFF_SPEEDS = new Map([
  ['', ''],
  ['@100ms', '@100ms'],
  ['@250ms', '@250ms'],
  ['@500ms', '@500ms'],
  ['@0ms', '@0ms'],
]);
const PARTIAL_RE = /^depth(5|10|20)(@100ms|@250ms|@500ms)?$/i;
const INTERVALS = new Set<string>(KLINE_INTERVALS);

function unknown(raw: string): ParsedStream {
  return { name: raw, sym: -1, kind: null, levels: 0, periodMs: 0, interval: null };
}

/**
 * Parses stream names: `<s>@bookTicker`, `<s>@aggTrade`, `<s>@trade`, `<s>@depth[@100ms|@250ms|@500ms|@0ms]`
 * (all diff variants carry the same events: one update-id chain per symbol), `<s>@depth<5|10|20>[@100ms|@500ms]`,
 * `<s>@markPrice[@1s]`, `<s>@forceOrder`, `<s>@kline_<interval>`, and the all-market `!bookTicker`,
 * `!forceOrder@arr`, `!markPrice@arr[@1s]`. Names the simulator does not produce are accepted (as the
 * venue does) but never deliver anything.
 */
export function parseStreamName(raw: string, market: MarketSource): ParsedStream {
  const lower = raw.toLowerCase();
  const all = (name: string, kind: WireKind, periodMs = 0): ParsedStream => ({ name, sym: -1, kind, levels: 0, periodMs, interval: null });
  if (lower === '!bookticker') return all('!bookTicker', 'bookTicker');
  if (lower === '!forceorder@arr') return all('!forceOrder@arr', 'forceOrder');
  if (lower === '!markprice@arr') return all('!markPrice@arr', 'markPriceArr', 3000);
  if (lower === '!markprice@arr@1s') return all('!markPrice@arr@1s', 'markPriceArr', 1000);
  const at = raw.indexOf('@');
  if (at <= 0) return unknown(raw);
  const inst = market.instrument(raw.slice(0, at).toUpperCase());
  if (!inst) return unknown(raw);
  const suffix = raw.slice(at + 1);
  const ls = suffix.toLowerCase();
  const mk = (canon: string, kind: WireKind, levels = 0, periodMs = 0, interval: KlineInterval | null = null): ParsedStream => ({
    name: `${inst.lower}@${canon}`,
    sym: inst.idx,
    kind,
    levels,
    periodMs,
    interval,
  });
  if (ls === 'bookticker') return mk('bookTicker', 'bookTicker');
  if (ls === 'aggtrade') return mk('aggTrade', 'aggTrade');
  if (ls === 'trade') return mk('trade', 'trade');
  if (ls === 'forceorder') return mk('forceOrder', 'forceOrder');
  if (ls === 'markprice') return mk('markPrice', 'markPrice', 0, 3000);
  if (ls === 'markprice@1s') return mk('markPrice@1s', 'markPrice', 0, 1000);
  if (ls.startsWith('depth')) {
    const speed = DIFF_SPEEDS.get(ls.slice(5));
    if (speed !== undefined) return mk(`depth${speed}`, 'depth');
    const m = PARTIAL_RE.exec(suffix);
    if (m) {
      const sp = (m[2] ?? '').toLowerCase();
      return mk(`depth${m[1]}${sp}`, 'depthPartial', Number(m[1]), sp === '@100ms' ? 100 : sp === '@500ms' ? 500 : 250);
    }
    return unknown(raw);
  }
  if (ls.startsWith('kline_')) {
    const interval = suffix.slice(6);
    if (INTERVALS.has(interval)) return mk(`kline_${interval}`, 'kline', 0, 0, interval as KlineInterval);
  }
  return unknown(raw);
}

/**
 * Kinds a base path serves when paths are strict (the 2026 URL split): `/public` the high-frequency
 * streams (bookTicker, depth, trade), `/market` the rest (aggTrade, markPrice, kline, forceOrder), the
 * legacy root only what `/public` serves (market streams starve there, as observed after the split),
 * and `/private` only user data.
 */
export function pathServes(base: BasePath, kind: WireKind, strict: boolean): boolean {
  if (base === 'private') return false;
  if (!strict) return true;
  const pub = kind === 'bookTicker' || kind === 'depth' || kind === 'depthPartial' || kind === 'trade';
  return base === 'market' ? !pub : pub;
}

/** Who listens to what. `slot(sym, Slot.X)` is the hot lookup of the emitter. */
export class StreamRegistry {
  private readonly entries = new Map<string, StreamEntry>();
  /** Live entries (with at least one socket) per sym * NSLOT + slot. */
  private readonly live: StreamEntry[][];
  /** Live `!markPrice@arr` entries. */
  readonly markArr: StreamEntry[] = [];
  private activeCache: ActiveStream[] | null = null;

  constructor(
    private readonly market: MarketSource,
    private readonly strictPaths: boolean,
    private readonly onChange: () => void,
  ) {
    this.live = Array.from({ length: market.instruments.length * NSLOT }, () => []);
  }

  slot(sym: number, slot: Slot): readonly StreamEntry[] {
    return this.live[sym * NSLOT + slot]!;
  }

  /** Entries delivering a market event kind (the first slot; aggTrade for trades). */
  entriesFor(sym: number, kind: MarketEventKind): readonly StreamEntry[] {
    return this.slot(sym, kind === 'bookTicker' ? Slot.BookTicker : kind === 'trade' ? Slot.AggTrade : Slot.Depth);
  }

  /** Someone receives events of this market kind for the symbol (in any form). */
  hasListeners(sym: number, kind: MarketEventKind): boolean {
    const b = sym * NSLOT;
    const l = this.live;
    if (kind === 'bookTicker') return l[b + Slot.BookTicker]!.length > 0;
    if (kind === 'trade') return l[b + Slot.AggTrade]!.length > 0 || l[b + Slot.Trade]!.length > 0 || l[b + Slot.Kline]!.length > 0;
    return l[b + Slot.Depth]!.length > 0 || l[b + Slot.DepthPartial]!.length > 0;
  }

  /** (symbol, kind) pairs the market must generate: someone receives them (klines are built from trades). */
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
        e = {
          name: p.name,
          sym: p.sym,
          kind: p.kind,
          prefix: `{"stream":${JSON.stringify(p.name)},"data":`,
          socks: new Set(),
          levels: p.levels,
          periodMs: p.periodMs,
          interval: p.interval,
          lastEmit: 0,
          lastU: 0,
          firstU: 0,
        };
        this.entries.set(p.name, e);
      }
      if (e.socks.size === 0) {
        for (const list of this.listsOf(e)) list.push(e);
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

  /** The per-symbol lists an entry belongs to (every symbol's for an all-market stream). */
  private listsOf(e: StreamEntry): StreamEntry[][] {
    if (e.kind === 'markPriceArr') return [this.markArr];
    const slot = SLOT_OF[e.kind];
    if (e.sym >= 0) return [this.live[e.sym * NSLOT + slot]!];
    return this.market.instruments.map((i) => this.live[i.idx * NSLOT + slot]!);
  }

  private detach(e: StreamEntry, s: MdSocket): boolean {
    e.socks.delete(s);
    if (e.socks.size > 0) return false;
    for (const list of this.listsOf(e)) {
      const i = list.indexOf(e);
      if (i >= 0) list.splice(i, 1);
    }
    e.lastEmit = 0;
    e.lastU = 0;
    e.firstU = 0;
    return true;
  }

  private changed(): void {
    this.activeCache = null;
    this.onChange();
  }
}

const KINDS: readonly MarketEventKind[] = ['bookTicker', 'trade', 'depth'];

/** Listen keys as stream names (SUBSCRIBE on a combined stream, `/ws/<listenKey>`). */
export interface UserKeyHook {
  isLive(key: string): boolean;
  attach(s: MdSocket, key: string, events: ReadonlySet<string> | null): void;
  detach(s: MdSocket, key: string): void;
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
export function handleControl(s: MdSocket, text: string, registry: StreamRegistry, userKeys?: UserKeyHook): string {
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
      // Listen keys may be (un)subscribed like streams on the user-data-capable paths.
      const keys = userKeys && s.base !== 'public' && s.base !== 'market' ? params.filter((p) => userKeys.isLive(p) || s.userSubs.some((u) => u.key === p)) : [];
      const streams = keys.length === 0 ? params : params.filter((p) => !keys.includes(p));
      if (method === 'SUBSCRIBE') {
        if (!registry.subscribe(s, streams)) return errorFrame(2, `Invalid request: too many streams (max ${MAX_STREAMS_PER_CONNECTION})`, id);
        for (const k of keys) if (userKeys!.isLive(k)) userKeys!.attach(s, k, null);
      } else {
        registry.unsubscribe(s, streams);
        for (const k of keys) userKeys!.detach(s, k);
      }
      return JSON.stringify({ result: null, id });
    }
    case 'LIST_SUBSCRIPTIONS':
      return JSON.stringify({ result: [...s.names, ...s.userSubs.map((u) => u.key)], id });
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

/** A WebSocket URL's streams and user-data subscriptions. */
export interface ParsedPath {
  base: BasePath;
  combined: boolean;
  streams: string[];
  /** Listen keys given as such (`/private/...`); listen keys among `streams` are found by the caller. */
  userKeys: Array<{ key: string; events: ReadonlySet<string> | null }>;
}

/**
 * Parses a stream WebSocket URL. Returns null for paths that are not stream endpoints.
 * `/ws`, `/ws/<s1>/<s2>`, `/stream?streams=s1/s2`, the same under `/public` and `/market`, and the
 * user-data forms `/private/ws/<listenKey>`, `/private/ws?listenKey=<k>&events=A/B` and
 * `/private/stream?listenKey=<k1>&events=...&listenKey=<k2>...` (an `events` applies to the key before it).
 */
export function parseMdPath(url: string, query: string): ParsedPath | null {
  let base: BasePath = 'legacy';
  let rest = url;
  if (rest.startsWith('/public/')) {
    base = 'public';
    rest = rest.slice(7);
  } else if (rest.startsWith('/market/')) {
    base = 'market';
    rest = rest.slice(7);
  } else if (rest.startsWith('/private/')) {
    base = 'private';
    rest = rest.slice(8);
  }
  if (base === 'private') {
    const userKeys: ParsedPath['userKeys'] = [];
    for (const [k, v] of new URLSearchParams(query)) {
      if (k === 'listenKey' && v.length > 0) userKeys.push({ key: v, events: null });
      else if (k === 'events' && userKeys.length > 0) {
        const last = userKeys[userKeys.length - 1]!;
        const ev = v.split(/[/,]/).filter((x) => x.length > 0);
        userKeys[userKeys.length - 1] = { key: last.key, events: ev.length > 0 ? new Set(ev) : null };
      }
    }
    if (rest === '/stream' || rest === '/stream/') return { base, combined: true, streams: [], userKeys };
    if (rest === '/ws' || rest === '/ws/') return { base, combined: false, streams: [], userKeys };
    if (rest.startsWith('/ws/')) {
      for (const k of splitStreams(decodeURIComponentSafe(rest.slice(4)))) userKeys.push({ key: k, events: null });
      return { base, combined: false, streams: [], userKeys };
    }
    return null;
  }
  if (rest === '/stream' || rest === '/stream/') {
    const streams = new URLSearchParams(query).get('streams') ?? '';
    return { base, combined: true, streams: splitStreams(streams), userKeys: [] };
  }
  if (rest === '/ws' || rest === '/ws/') return { base, combined: false, streams: [], userKeys: [] };
  if (rest.startsWith('/ws/')) return { base, combined: false, streams: splitStreams(decodeURIComponentSafe(rest.slice(4))), userKeys: [] };
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
