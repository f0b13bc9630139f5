import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import uWS from 'uWebSockets.js';
import type { HttpResponse, WebSocket } from 'uWebSockets.js';
import { listenExclusive } from '../../net/uwsListen.js';
import { readBody, trackAborted } from '../../net/uwsBody.js';
import { formatScaled, parseScaled } from '../../core/decimal.js';
import { resolveInstruments, type InstrumentSpec } from '../instruments.js';
import { KlineBook } from '../market/Klines.js';
import { MarkPrices } from '../market/MarkPrice.js';
import { FrameKind, ReplayPlayer, ReplaySource, type ReplayFrame, type ReplaySourceOptions, type ReplayStats } from '../market/ReplaySource.js';
import { MirrorSource, type MirrorSourceOptions, type MirrorStats } from '../market/MirrorSource.js';
import { DEFAULT_MIX, EmissionScheduler, type EventMix } from '../market/Scheduler.js';
import { SyntheticMarket } from '../market/SyntheticMarket.js';
import type { BookTop, MarketEvent, MarketSource } from '../market/types.js';
import { Rng } from '../rng.js';
import { MONEY_DECIMALS, VenueCore, type SimFill, type SimPosition } from '../Venue.js';
import { errorJson, E } from './errors.js';
import { aggTradeJson, bookTickerJson, depthUpdateJson, forceOrderJson, klineJson, markPriceJson, partialDepthJson, tradeJsons } from './format.js';
import { BinanceRest, DEFAULT_RATE_LIMITS, type RateLimits, type RestRequest, type RestResponse } from './rest.js';
import { handleControl, parseMdPath, parseStreamName, pathServes, Slot, StreamRegistry, type MdSocket, type StreamEntry } from './streams.js';
import { BinanceUserEvents, UserStreams } from './userData.js';
import { BinanceWsApi, type ApiSocket } from './wsApi.js';
import { BinanceWire, type FaultControl, type WireStats } from '../faults/BinanceWire.js';
import { FaultInjector, type FaultSpec } from '../faults/Faults.js';
import { LatencyModel, type LatencyOptions } from '../latency/Latency.js';

export interface BinanceVenueOptions {
  /** Bind address. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 (default) = ephemeral, read the real one from the handle. */
  port?: number;
  /** Seed of the synthetic market and of ids. Default 1. */
  seed?: number;
  /** Instruments: names of built-in specs (BTCUSDT, ETHUSDT, SOLUSDT, XRPUSDT) or full specs. Default BTCUSDT, ETHUSDT. */
  symbols?: ReadonlyArray<string | InstrumentSpec>;
  /**
   * Market events generated per second, over all streams someone listens to (each event goes to every
   * socket subscribed to its stream). Intended range 1_000..200_000; default 10_000.
   */
  rate?: number;
  /** Share of each event kind among the listened streams. Default 60% bookTicker, 25% aggTrade, 15% depth. */
  mix?: Partial<EventMix>;
  /** Key of the default account (random 64 hex chars when absent). */
  apiKey?: string;
  /** Secret of the default account (random 64 hex chars when absent). */
  apiSecret?: string;
  /** More accounts (each with its own positions, orders and order counters). */
  accounts?: ReadonlyArray<{ id?: string; apiKey: string; apiSecret: string }>;
  /** Stop generating market events after this many (the market then stays still). Default: no limit. */
  maxTicks?: number;
  /** Levels per side of each synthetic book. Default 20. */
  bookLevels?: number;
  /** Emission timer period (ms). Default 1. */
  tickIntervalMs?: number;
  /**
   * A socket whose unsent bytes exceed this is a slow consumer: its frames are dropped and counted
   * (`slowConsumerDrops`) instead of buffered. Default 8 MiB.
   */
  maxBufferedBytes?: number;
  /** Close slow consumers (as the real venue does) instead of only dropping their frames. Default false. */
  disconnectSlowConsumers?: boolean;
  /** Inbound control frames allowed per second per connection before the venue disconnects. Default 10. */
  maxIncomingPerSecond?: number;
  /**
   * Enforce the 2026 URL split: `/public` serves bookTicker/depth, `/market` serves aggTrade, the legacy
   * root serves only what `/public` serves. Default false (every path serves every stream).
   */
  strictPaths?: boolean;
  /**
   * Answer 429 (-1003 / -1015, with Retry-After) past the request-weight and order-count limits, and
   * 418 (IP banned for 2 min, doubling) after repeated 429s. Default false.
   */
  enforceRateLimits?: boolean;
  /** The limits (also reported by exchangeInfo). Default 2400 weight/min, 300 orders/10 s, 1200 orders/min. */
  rateLimits?: Partial<RateLimits>;
  /** Starting wallet balance of every account, per quote asset (decimal). Default "100000". */
  initialBalance?: string;
  /** Initial leverage of every symbol until changed with POST /fapi/v1/leverage. Default 20. */
  defaultLeverage?: number;
  /** Commission rates as decimals. Default maker "0.0002", taker "0.0005". */
  fees?: { maker?: string; taker?: string };
  /** Reject orders needing more initial margin than available (-2019). Default true. */
  marginCheck?: boolean;
  /** Resting LIMIT orders fill (as maker) when the market crosses them. Default true. */
  restingFills?: boolean;
  /**
   * Queue-position model of resting orders: 'risk-averse' (default; only trades move them forward),
   * 'probabilistic' (cancels ahead with a probability; seeded by `seed`) or 'none' (always first in line).
   */
  queueModel?: import('../matching/QueueModel.js').QueueModelSpec;
  /** Validity of a listen key after creation / the last keep-alive (ms). Default 3_600_000 (60 min). */
  listenKeyValidityMs?: number;
  /**
   * Chance per second and symbol that the synthetic market liquidates someone (a forceOrder event that
   * takes liquidity), while someone listens to that symbol's liquidation stream. Default 0.05.
   */
  liquidationProbability?: number;
  /** Server ping period on market-data sockets (ms). Default 180_000 (3 min). */
  pingIntervalMs?: number;
  /** Close a market-data socket with no pong for this long (ms). Default 600_000 (10 min). */
  pongTimeoutMs?: number;
  /** Venue clock (ms since the epoch). Default Date.now. */
  clock?: () => number;
  /** Start with emission paused. */
  paused?: boolean;
  /**
   * Where market data comes from: the seeded synthetic market (default) or the replay of a recording
   * (shared recordings format), whose symbols then replace `symbols` and whose frames go out byte-exact,
   * or a mirror of a real venue's market data (shadow mode: `symbols` are the venue's names, their rules
   * come from its exchangeInfo, its frames go out as received; the venue itself never sees an order).
   */
  source?: { kind: 'synthetic' } | ReplaySourceOptions | MirrorSourceOptions;
  logger?: Logger;
  /**
   * Delays of market-data frames (`feed`), user-data frames (`user`), orders (`order`: arrival to matching)
   * and responses (`ack`: matching to the response), or a round trip (`rtt`, e.g. replayed from the
   * engine's latency histogram file). See src/sim/latency/Latency.ts. Default none (the direct path).
   */
  latency?: LatencyOptions;
  /** Faults armed at start (src/sim/faults/Faults.ts); more with handle.faults or `POST /_sim/faults`. */
  faults?: readonly FaultSpec[];
  /** Serve the `/_sim/faults` and `/_sim/latency` control endpoints on the REST port. Default true. */
  controlEndpoint?: boolean;
}

export interface BinanceVenueStats {
  /** Open market-data sockets. */
  connections: number;
  connectionsTotal: number;
  apiConnections: number;
  /** Events produced by the rate scheduler. */
  eventsGenerated: number;
  /** Events that reached at least one socket, by kind (scheduler and order-driven). */
  bookTicker: number;
  aggTrade: number;
  depthUpdate: number;
  /** WebSocket frames written to market-data sockets, and their bytes. */
  framesSent: number;
  bytesSent: number;
  /** Frames not sent because the socket's buffer was over maxBufferedBytes. */
  slowConsumerDrops: number;
  slowConsumerDisconnects: number;
  inboundLimitDisconnects: number;
  controlMessages: number;
  /** Times the emitter fell >100 ms behind and dropped its backlog. */
  schedulerLagResets: number;
  rate: number;
  paused: boolean;
  restRequests: number;
  restErrors: number;
  wsApiRequests: number;
  orderRequests: number;
  ordersAccepted: number;
  ordersRejected: number;
  fills: number;
  usedWeight1m: number;
  /** 429 answers (REST) and requests refused during an IP ban (418). */
  rateLimited: number;
  banned: number;
  /** User-data events sent (to at least one socket), frames written for them, listen keys expired. */
  userDataEvents: number;
  userDataFrames: number;
  listenKeysExpired: number;
  /** Synthetic liquidations (forceOrder events). */
  forceOrders: number;
  /** Progress of a replay (`source.kind === 'replay'` only). */
  replay?: ReplayStats;
  /** The mirror's intake from the real venue (`source.kind === 'mirror'` only). */
  mirror?: MirrorStats;
  /** Injected faults and applied delays. */
  faults: WireStats;
}

/** Control of a replay source. */
export interface BinanceReplayControl {
  /** Starts now (otherwise it starts on the first market-data subscription, or never with manualStart). */
  start(): void;
  /** Resolves when the replay is done (end of the recording without loop, or maxFrames). */
  whenDone(): Promise<void>;
  stats(): ReplayStats;
}

export interface BinanceVenueHandle {
  readonly venue: 'binance-usdm';
  readonly host: string;
  readonly port: number;
  /** `http://host:port` (REST base, like https://fapi.binance.com). */
  readonly restUrl: string;
  /** `ws://host:port` (market-data base, like wss://fstream.binance.com): append `/ws/<s>` or `/stream?streams=`. */
  readonly wsUrl: string;
  /** `ws://host:port/ws-fapi/v1` (WebSocket API). */
  readonly wsApiUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  stats(): BinanceVenueStats;
  /** The venue's own record of fills, oldest first. */
  fills(): SimFill[];
  /** Positions of every account. */
  positions(): SimPosition[];
  /** Current best bid/ask of a symbol as decimal strings, with the book update id. */
  top(symbol: string): { u: number; bid: string; bidQty: string; ask: string; askQty: string };
  /** Closes every stream WebSocket, market and user data (abruptly, no close frame); returns how many. */
  dropStreams(): number;
  /**
   * Expires every live listen key now, as if its 60 minutes had run out: subscribers get
   * `listenKeyExpired` and nothing more; keep-alives answer -1125. Returns how many keys expired.
   */
  expireListenKeys(): number;
  /**
   * Pins a symbol's mark price (decimal string, any precision up to 8 decimals) until released with
   * null, and fires the conditional orders working on MARK_PRICE that it triggers.
   */
  setMarkPrice(symbol: string, price: string | null): void;
  /** Current mark price of a symbol (8 decimals). */
  markPrice(symbol: string): string;
  setRate(n: number): void;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
  /** The replay, when the venue replays a recording; null with the synthetic market. */
  readonly replay: BinanceReplayControl | null;
  /** The mirror of a real venue's market data, when the venue mirrors one; null otherwise. */
  readonly mirror: { stats(): MirrorStats } | null;
  /** Fault injection: inject(spec), clear(id?), active(), stats() (also `POST/GET/DELETE /_sim/faults`). */
  readonly faults: FaultControl;
}

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  413: '413 Payload Too Large',
  418: "418 I'm a teapot",
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

const MAX_BODY = 64 * 1024;
const MAX_RATE = 500_000;

/** A decimal commission rate ("0.0005") in millionths. */
function feePpm(rate: string | undefined, dflt: number): number {
  if (rate === undefined) return dflt;
  const v = parseScaled(rate, 6);
  if (typeof v !== 'number') throw new RangeError(`fee rate must be a decimal with at most 6 decimals (got ${rate})`);
  return v;
}

function checkRate(n: number): number {
  if (!Number.isFinite(n) || n < 1 || n > MAX_RATE) throw new RangeError(`rate must be within 1..${MAX_RATE} messages/s (got ${n})`);
  return n;
}

/**
 * Starts a simulated Binance USD-M futures venue on uWebSockets.js: market-data WebSocket streams fed by
 * a seeded synthetic market (bookTicker, aggTrade, trade, diff and partial depth, markPrice, forceOrder,
 * kline; legacy root or the 2026 `/public` / `/market` split), the user data stream (listen keys,
 * `/ws/<listenKey>`, `/private/ws`, `/private/stream`), REST order entry, account, algo-order and
 * dead-man-switch endpoints, and the WebSocket API. Resolves once listening.
 */
export async function startBinanceVenue(opts: BinanceVenueOptions = {}): Promise<BinanceVenueHandle> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.logger;
  const baseClock = opts.clock ?? Date.now;
  const faults = new FaultInjector(opts.seed ?? 1);
  // The clockSkew fault moves the venue clock (0 otherwise).
  const clock = (): number => baseClock() + faults.skewMs;
  const rootRng = new Rng(opts.seed ?? 1);
  const replayOpts = opts.source?.kind === 'replay' ? opts.source : null;
  const replaySource = replayOpts ? ReplaySource.load(replayOpts.file) : null;
  const mirrorOpts = opts.source?.kind === 'mirror' ? opts.source : null;
  const mirrorSymbols = (opts.symbols && opts.symbols.length > 0 ? opts.symbols : ['BTCUSDT', 'ETHUSDT']).map((s) => (typeof s === 'string' ? s.toUpperCase() : s.symbol));
  const mirror = mirrorOpts ? await MirrorSource.open(mirrorOpts, mirrorSymbols) : null;
  const instruments = replaySource ? replaySource.instruments : mirror ? mirror.instruments : resolveInstruments(opts.symbols);
  const marketSeed = rootRng.nextU32();
  const market: MarketSource = replaySource ?? mirror ?? new SyntheticMarket(instruments, { seed: marketSeed, levels: opts.bookLevels ?? 20 });
  /** Synthetic periodic streams (markPrice, kline, forceOrder) are off during a replay or a mirror: they send what the venue sent. */
  const synthetic = replaySource === null && mirror === null;
  const core = new VenueCore(market, {
    rng: rootRng.fork(),
    initialBalance: opts.initialBalance,
    defaultLeverage: opts.defaultLeverage,
    makerFeePpm: feePpm(opts.fees?.maker, 200),
    takerFeePpm: feePpm(opts.fees?.taker, 500),
    marginCheck: opts.marginCheck,
    queueModel: opts.queueModel,
  });
  const apiKey = opts.apiKey ?? randomBytes(32).toString('hex');
  const apiSecret = opts.apiSecret ?? randomBytes(32).toString('hex');
  core.addAccount('default', apiKey, apiSecret, clock());
  opts.accounts?.forEach((a, i) => core.addAccount(a.id ?? `account-${i + 1}`, a.apiKey, a.apiSecret, clock()));

  const mix: EventMix = { ...DEFAULT_MIX, ...opts.mix };
  const scheduler = new EmissionScheduler(market, rootRng.fork(), checkRate(opts.rate ?? 10_000), mix, synthetic ? (opts.maxTicks ?? Number.POSITIVE_INFINITY) : 0);
  if (opts.paused) scheduler.pause();
  // Forked after the older consumers of the root generator, so their draws stay what they were.
  const marks = new MarkPrices(market, rootRng.fork());
  core.marks = marks;
  const liqRng = rootRng.fork();
  const klines = new KlineBook();
  const registry = new StreamRegistry(market, opts.strictPaths ?? false, () => {
    scheduler.setActive(registry.active());
    if (synthetic) syncKlines();
  });

  const maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
  const disconnectSlow = opts.disconnectSlowConsumers ?? false;
  const maxIncoming = opts.maxIncomingPerSecond ?? 10;
  const pingIntervalMs = opts.pingIntervalMs ?? 180_000;
  const pongTimeoutMs = opts.pongTimeoutMs ?? 600_000;
  const restingFills = opts.restingFills ?? true;
  const liqProbability = Math.min(1, Math.max(0, opts.liquidationProbability ?? 0.05));

  const counters = {
    connectionsTotal: 0,
    bookTicker: 0,
    aggTrade: 0,
    depthUpdate: 0,
    framesSent: 0,
    bytesSent: 0,
    slowConsumerDrops: 0,
    slowConsumerDisconnects: 0,
    inboundLimitDisconnects: 0,
    controlMessages: 0,
    forceOrders: 0,
  };

  const sockets = new Set<MdSocket>();
  const apiSockets = new Set<WebSocket<ApiSocket>>();
  const dirty: MdSocket[] = [];
  let nextSocketId = 1;
  let closed = false;

  // ---- emission ---------------------------------------------------------------------------------------

  let flushQueued = false;
  /** Frames queued outside the emission timer (order-driven events, user data) go out on the next turn. */
  const scheduleFlush = (): void => {
    if (flushQueued || dirty.length === 0) return;
    flushQueued = true;
    setImmediate(() => {
      flushQueued = false;
      if (!closed) flush();
    });
  };

  /** Queues one payload on every socket of the entries (combined sockets get the envelope). */
  const push = (entries: readonly StreamEntry[], json: string): void => {
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      let framed: string | null = null;
      for (const s of e.socks) {
        if (s.pending.length === 0) dirty.push(s);
        if (s.combined) {
          if (framed === null) framed = e.prefix + json + '}';
          s.pending.push(framed);
        } else s.pending.push(json);
      }
    }
  };

  const enqueueUser = (s: MdSocket, frame: string): void => {
    if (s.pending.length === 0) dirty.push(s);
    s.pending.push(frame);
    scheduleFlush();
  };
  const users = new UserStreams(rootRng.fork(), Math.max(1, opts.listenKeyValidityMs ?? 3_600_000), enqueueUser);
  core.listener = new BinanceUserEvents(core, users);

  /** Symbols whose last price moved while they have conditional orders (checked after the batch). */
  const triggerSyms = new Set<number>();

  /**
   * Routes one market event: trades feed last price, klines and trigger checks; events from the market
   * itself (`external`) may cross resting orders; then the frames of every stream carrying it.
   */
  const deliver = (ev: MarketEvent, external = true): void => {
    const sym = ev.sym;
    const inst = instruments[sym]!;
    if (ev.kind === 'trade') {
      core.noteTrade(sym, ev.price);
      if (klines.hasAny(sym)) klines.onTrade(ev);
      if (core.hasAlgos(sym)) triggerSyms.add(sym);
    }
    if (external && restingFills && core.hasResting(sym)) core.matchResting(ev);
    if (ev.kind === 'bookTicker') {
      const entries = registry.slot(sym, Slot.BookTicker);
      if (entries.length === 0) return;
      counters.bookTicker++;
      push(entries, bookTickerJson(ev, inst));
    } else if (ev.kind === 'trade') {
      const agg = registry.slot(sym, Slot.AggTrade);
      const raw = registry.slot(sym, Slot.Trade);
      if (agg.length === 0 && raw.length === 0) return;
      counters.aggTrade++;
      if (agg.length > 0) push(agg, aggTradeJson(ev, inst));
      if (raw.length > 0) for (const j of tradeJsons(ev, inst)) push(raw, j);
    } else {
      const diff = registry.slot(sym, Slot.Depth);
      const partial = registry.slot(sym, Slot.DepthPartial);
      if (diff.length === 0 && partial.length === 0) return;
      counters.depthUpdate++;
      if (diff.length > 0) push(diff, depthUpdateJson(ev, inst));
      for (let i = 0; i < partial.length; i++) {
        const e = partial[i]!;
        if (e.firstU === 0) e.firstU = ev.U;
        if (ev.time - e.lastEmit < e.periodMs) continue;
        const json = partialDepthJson(inst, ev.time, e.firstU, ev.u, e.lastU === 0 ? ev.pu : e.lastU, market.levels(sym, e.levels));
        e.lastEmit = ev.time;
        e.lastU = ev.u;
        e.firstU = 0;
        push([e], json);
      }
    }
  };

  let inTriggers = false;
  /** Fires conditional orders whose trigger price was reached; their own trades may fire more. */
  const runTriggers = (now: number): void => {
    if (inTriggers || triggerSyms.size === 0) return;
    inTriggers = true;
    try {
      for (let round = 0; round < 100 && triggerSyms.size > 0; round++) {
        const syms = [...triggerSyms];
        triggerSyms.clear();
        for (const sym of syms) for (const ev of core.checkTriggers(sym, now)) deliver(ev, false);
      }
    } finally {
      inTriggers = false;
    }
  };

  /** Writes the queued frames, one cork (one syscall) per socket. */
  const flush = (): void => {
    for (let i = 0; i < dirty.length; i++) {
      const s = dirty[i]!;
      const ws = s.ws;
      const frames = s.pending;
      if (s.closed || ws === null) {
        frames.length = 0;
        continue;
      }
      if (ws.getBufferedAmount() > maxBuffered) {
        counters.slowConsumerDrops += frames.length;
        frames.length = 0;
        if (disconnectSlow) {
          counters.slowConsumerDisconnects++;
          ws.end(1008, 'slow consumer');
        }
        continue;
      }
      // Delays and frame faults, while configured or armed; the direct write otherwise.
      if (wire.mdActive) wire.mdFrames(s, frames);
      else writeFrames(s, frames);
      frames.length = 0;
    }
    dirty.length = 0;
  };

  /** Writes frames to a socket now, one cork (one syscall). */
  const writeFrames = (s: MdSocket, frames: readonly string[]): void => {
    const ws = s.ws;
    if (s.closed || ws === null) return;
    ws.cork(() => {
      for (let k = 0; k < frames.length; k++) {
        const f = frames[k]!;
        if (ws.send(f, false) === 2) counters.slowConsumerDrops++;
        else {
          counters.framesSent++;
          counters.bytesSent += f.length;
        }
      }
    });
  };

  /** Events caused by orders (trade prints, new top of book): sent on the next turn of the loop. */
  const publish = (events: MarketEvent[]): void => {
    for (const ev of events) deliver(ev, false);
    runTriggers(clock());
    scheduleFlush();
  };

  const onTick = (): void => {
    const now = clock();
    scheduler.run(performance.now(), now, deliver);
    for (let sym = 0; sym < instruments.length; sym++) if (!registry.hasListeners(sym, 'depth')) market.discardDepth(sym);
    runTriggers(now);
    if (dirty.length > 0) flush();
  };

  // ---- replay: recorded frames, byte-exact, to the subscribers of their stream -------------------------

  /** Bumped whenever a socket's subscriptions may have changed: the replay's targets are looked up again. */
  let subsGen = 0;
  let targetsGen = -1;
  const strictPaths = opts.strictPaths ?? false;
  const replayStreams = (replaySource?.streams ?? mirror?.streams ?? []).map((n) => parseStreamName(n, market));
  /** Envelope head for frames recorded raw that go to a combined subscriber. */
  const replayPrefix = replayStreams.map((p) => `{"stream":${JSON.stringify(p.name)},"data":`);
  let replayTargets: Array<MdSocket[] | null> = [];
  const targetsOf = (streamId: number): MdSocket[] => {
    if (targetsGen !== subsGen) {
      replayTargets = replayStreams.map(() => null);
      targetsGen = subsGen;
    }
    let t = replayTargets[streamId];
    if (t === null || t === undefined) {
      const p = replayStreams[streamId]!;
      t = [];
      // s.names holds every name a socket subscribed, also those the synthetic market does not produce.
      for (const s of sockets) {
        if (!s.closed && s.names.has(p.name) && (p.kind === null ? s.base !== 'private' : pathServes(s.base, p.kind, strictPaths))) t.push(s);
      }
      replayTargets[streamId] = t;
    }
    return t;
  };

  /** One recorded frame: core bookkeeping (last price, resting fills, triggers), then the recorded bytes. */
  const deliverRecorded = (f: ReplayFrame): boolean => {
    const ev = f.event;
    if (ev !== null) {
      if (ev.kind === 'trade') {
        core.noteTrade(ev.sym, ev.price);
        if (core.hasAlgos(ev.sym)) triggerSyms.add(ev.sym);
      }
      if (restingFills && core.hasResting(ev.sym)) core.matchResting(ev);
    }
    const t = targetsOf(f.streamId);
    if (t.length === 0) return false;
    let wrapped: string | null = null;
    for (let i = 0; i < t.length; i++) {
      const s = t[i]!;
      if (s.closed) continue;
      if (s.pending.length === 0) dirty.push(s);
      if (!s.combined) s.pending.push(f.data);
      else if (f.combined) s.pending.push(f.text);
      else s.pending.push((wrapped ??= replayPrefix[f.streamId] + f.data + '}'));
    }
    if (f.kind === FrameKind.BookTicker) counters.bookTicker++;
    else if (f.kind === FrameKind.Trade) counters.aggTrade++;
    else if (f.kind === FrameKind.Depth) counters.depthUpdate++;
    return true;
  };

  /** An as-fast-as-possible replay waits while a subscriber has more than this unsent. */
  const replayHighWater = Math.max(64 * 1024, Math.min(1 << 20, maxBuffered >> 1));
  const player =
    replaySource !== null && replayOpts !== null
      ? new ReplayPlayer(
          replaySource,
          {
            deliver: deliverRecorded,
            flush: () => {
              runTriggers(clock());
              if (dirty.length > 0) flush();
            },
            congested: () => {
              for (const s of sockets) if (s.ws !== null && s.names.size > 0 && s.ws.getBufferedAmount() > replayHighWater) return true;
              return false;
            },
          },
          { file: replayOpts.file, speed: replayOpts.speed ?? 1, loop: replayOpts.loop ?? false, maxFrames: replayOpts.maxFrames ?? Number.POSITIVE_INFINITY },
        )
      : null;
  if (player !== null && opts.paused) player.pause();
  // A mirrored frame: the same bookkeeping as a recorded one, sent on the next turn with whatever else arrived.
  mirror?.attach((f) => {
    if (closed) return;
    deliverRecorded(f);
    runTriggers(clock());
    scheduleFlush();
  });
  /** Subscriptions changed on a socket: refresh the replay's targets, and start the replay on the first one. */
  const subscriptionsChanged = (s: MdSocket): void => {
    subsGen++;
    if (player !== null && replayOpts !== null && !replayOpts.manualStart && s.names.size > 0) player.start(replayOpts.startDelayMs ?? 100);
  };

  // ---- periodic streams: klines (250 ms), mark price (1 s / 3 s), liquidations, listen-key expiry ----------

  function syncKlines(): void {
    const now = clock();
    for (const inst of instruments) {
      const want = new Set(registry.slot(inst.idx, Slot.Kline).map((e) => e.interval!));
      for (const iv of want) {
        const t = market.top(inst.idx);
        klines.track(inst, iv, Math.round((t.bid + t.ask) / 2), now);
      }
      for (const iv of ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M'] as const) {
        if (!want.has(iv)) klines.untrack(inst.idx, iv);
      }
    }
  }

  const markJson = (sym: number, second: number): string =>
    markPriceJson(instruments[sym]!, second, marks.mark8(sym), marks.index8(sym), marks.fundingRate8(sym), marks.nextFundingTime(second));

  /** One synthetic liquidation: an IOC order of a liquidated account taking liquidity, printed on forceOrder. */
  const liquidate = (sym: number, now: number): void => {
    const inst = instruments[sym]!;
    const side = liqRng.chance(0.5) ? 'SELL' : 'BUY';
    const qty = Math.max(inst.minQtySteps, Math.round(inst.typicalLevelSteps * 0.3 * liqRng.logNormal(0, 0.8)));
    const r = market.take(sym, side, qty, null, now);
    if (r.filled === 0) return;
    let cum = 0n;
    let worst = r.fills[0]!.price;
    for (const f of r.fills) {
      cum += inst.quote(f.price, f.qty);
      worst = side === 'SELL' ? Math.min(worst, f.price) : Math.max(worst, f.price);
    }
    // The order's price is the bankruptcy price, beyond what it traded at.
    const off = Math.max(1, Math.round(worst * 0.005));
    const price = side === 'SELL' ? Math.max(1, worst - off) : worst + off;
    for (const ev of r.events) deliver(ev, true);
    counters.forceOrders++;
    push(registry.slot(sym, Slot.ForceOrder), forceOrderJson(inst, now, side, r.filled, price, cum, r.fills[r.fills.length - 1]!.qty, r.filled, now));
  };

  let lastSecond = Math.floor(clock() / 1000);
  const slowTick = (): void => {
    if (closed) return;
    const now = clock();
    users.expireDue(now);
    const second = Math.floor(now / 1000);
    if (second > lastSecond) {
      lastSecond = second;
      const E = second * 1000;
      marks.update();
      const every3 = second % 3 === 0;
      for (let sym = 0; sym < instruments.length; sym++) {
        if (core.hasAlgos(sym)) triggerSyms.add(sym);
        const mp = registry.slot(sym, Slot.MarkPrice);
        if (synthetic && mp.length > 0) {
          const due = mp.filter((e) => e.periodMs === 1000 || every3);
          if (due.length > 0) push(due, markJson(sym, E));
        }
        if (synthetic && registry.slot(sym, Slot.ForceOrder).length > 0 && liqRng.chance(liqProbability)) liquidate(sym, now);
      }
      const arr = registry.markArr.filter((e) => e.periodMs === 1000 || every3);
      if (synthetic && arr.length > 0) push(arr, '[' + instruments.map((i) => markJson(i.idx, E)).join(',') + ']');
    }
    for (let sym = 0; synthetic && sym < instruments.length; sym++) {
      const ks = registry.slot(sym, Slot.Kline);
      for (let i = 0; i < ks.length; i++) {
        const e = ks[i]!;
        const k = klines.roll(sym, e.interval!, now);
        if (!k) continue;
        if (k.finished) push([e], klineJson(k.finished, now));
        push([e], klineJson(k.current, now));
      }
    }
    runTriggers(now);
    if (dirty.length > 0) flush();
  };

  // ---- REST + WS API ------------------------------------------------------------------------------------

  const rest = new BinanceRest({
    market,
    core,
    now: clock,
    publish,
    enforceRateLimits: opts.enforceRateLimits ?? false,
    limits: { ...DEFAULT_RATE_LIMITS, ...opts.rateLimits },
    users,
    marks,
    ...(replaySource ? { recordedDepth: (symbol: string, limit: number) => replaySource.recordedDepthBody(symbol, limit) } : {}),
  });
  const wsApi = new BinanceWsApi(core, rest, users, clock);

  const writeResponse = (res: HttpResponse, r: RestResponse): void => {
    res.cork(() => {
      res.writeStatus(STATUS_TEXT[r.status] ?? `${r.status} Error`);
      res.writeHeader('Content-Type', 'application/json;charset=UTF-8');
      for (const [k, v] of r.headers) res.writeHeader(k, v);
      res.end(r.body);
    });
  };

  const safeRest = (req: RestRequest): RestResponse => {
    try {
      return rest.handle(req);
    } catch (e) {
      log?.error({ err: e, method: req.method, path: req.path }, 'sim binance: REST handler failed');
      return {
        status: 500,
        body: JSON.stringify({ code: -1000, msg: 'An unknown error occured while processing the request.' }),
        headers: [['X-MBX-USED-WEIGHT-1M', String(rest.usedWeight())]],
      };
    }
  };

  const latency = opts.latency !== undefined ? new LatencyModel(opts.latency, opts.seed ?? 1) : null;
  const wire = new BinanceWire(
    {
      mdSockets: () => sockets,
      apiSockets: () => apiSockets,
      writeFrames,
      rest: safeRest,
      wsApi: (text, sock) => wsApi.handle(text, sock),
      writeResponse,
      afterExec: () => scheduleFlush(),
      usedWeight: () => rest.usedWeight(),
      now: clock,
      onError: (e) => log?.error({ err: e }, 'sim binance: delayed frame or request failed'),
    },
    faults,
    latency,
    opts.seed ?? 1,
  );
  for (const f of opts.faults ?? []) wire.inject(f);
  const controlEndpoint = opts.controlEndpoint ?? true;

  const app = uWS.App();

  app.ws<ApiSocket>('/ws-fapi/v1', {
    compression: uWS.DISABLED,
    maxPayloadLength: 64 * 1024,
    idleTimeout: 0,
    maxBackpressure: 16 * 1024 * 1024,
    sendPingsAutomatically: false,
    upgrade: (res, req, ctx) => {
      const q = new URLSearchParams(req.getQuery() ?? '');
      const data: ApiSocket = { kind: 'api', id: nextSocketId++, closed: false, rateLimits: q.get('returnRateLimits') !== 'false' };
      res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), ctx);
    },
    open: (ws) => {
      apiSockets.add(ws);
    },
    message: (ws, message) => {
      const text = Buffer.from(message).toString('utf8');
      if (wire.apiActive) {
        wire.apiMessage(ws, text);
        return;
      }
      const reply = wsApi.handle(text, ws.getUserData());
      ws.send(reply, false);
      // Order-driven market and user-data frames follow the reply.
      scheduleFlush();
    },
    close: (ws) => {
      ws.getUserData().closed = true;
      apiSockets.delete(ws);
    },
  });

  app.ws<MdSocket>('/*', {
    compression: uWS.DISABLED,
    maxPayloadLength: 64 * 1024,
    idleTimeout: 0,
    // uWS drops (send() === 2) past this; our own check at maxBuffered comes first.
    maxBackpressure: maxBuffered + 16 * 1024 * 1024,
    sendPingsAutomatically: false,
    upgrade: (res, req, ctx) => {
      const url = req.getUrl();
      const query = req.getQuery() ?? '';
      const p = parseMdPath(url, query);
      if (p === null) {
        res.writeStatus('404 Not Found').writeHeader('Content-Type', 'application/json;charset=UTF-8').end(errorJson(E.notFound()));
        return;
      }
      // On the legacy root a live listen key is a stream name (`/ws/<listenKey>`, `/stream?streams=<listenKey>`).
      const userKeys = [...p.userKeys];
      let streams = p.streams;
      if (p.base === 'legacy' && streams.some((n) => users.isLive(n))) {
        for (const n of streams) if (users.isLive(n)) userKeys.push({ key: n, events: null });
        streams = streams.filter((n) => !users.isLive(n));
      }
      const data: MdSocket = {
        kind: 'md',
        id: nextSocketId++,
        base: p.base,
        combined: p.combined,
        initial: streams,
        initialUser: userKeys,
        names: new Set(),
        entries: new Set(),
        userSubs: [],
        pending: [],
        ws: null,
        closed: false,
        inWindowStart: 0,
        inCount: 0,
        lastPong: clock(),
      };
      res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), ctx);
    },
    open: (ws) => {
      const s = ws.getUserData();
      s.ws = ws;
      sockets.add(s);
      counters.connectionsTotal++;
      if (s.initial.length > 0) registry.subscribe(s, s.initial.slice(0, 1024));
      for (const u of s.initialUser) users.attach(s, u.key, u.events);
      subscriptionsChanged(s);
      log?.debug({ socket: s.id, base: s.base, combined: s.combined, streams: s.initial, user: s.userSubs.length }, 'sim binance: stream socket open');
    },
    message: (ws, message, isBinary) => {
      const s = ws.getUserData();
      counters.controlMessages++;
      const t = clock();
      if (t - s.inWindowStart >= 1000) {
        s.inWindowStart = t;
        s.inCount = 0;
      }
      if (++s.inCount > maxIncoming) {
        counters.inboundLimitDisconnects++;
        ws.end(1008, 'Too many requests');
        return;
      }
      if (isBinary) return;
      ws.send(handleControl(s, Buffer.from(message).toString('utf8'), registry, users), false);
      subscriptionsChanged(s);
    },
    drain: () => {
      player?.kick();
    },
    pong: (ws) => {
      ws.getUserData().lastPong = clock();
    },
    close: (ws) => {
      const s = ws.getUserData();
      s.closed = true;
      s.ws = null;
      s.pending.length = 0;
      registry.removeSocket(s);
      users.removeSocket(s);
      sockets.delete(s);
      subsGen++;
      log?.debug({ socket: s.id }, 'sim binance: stream socket closed');
    },
  });

  app.any('/*', (res, req) => {
    const method = req.getMethod();
    const path = req.getUrl();
    const query = req.getQuery() ?? '';
    const key = req.getHeader('x-mbx-apikey');
    const state = trackAborted(res);
    const tooLarge = (): void => writeResponse(res, { status: 413, body: errorJson(E.tooLarge()), headers: [['X-MBX-USED-WEIGHT-1M', String(rest.usedWeight())]] });
    readBody(res, state, MAX_BODY, tooLarge, (body) => {
      const ctl = controlEndpoint ? wire.control(method, path, query, body) : null;
      if (ctl !== null) {
        if (!state.aborted) writeResponse(res, ctl);
        return;
      }
      const req: RestRequest = { method, path, query, body, apiKey: key };
      // Order delays and request faults answer later (or never); the direct path otherwise.
      if (wire.restActive && wire.restRequest(req, res, () => state.aborted)) return;
      const r = safeRest(req);
      if (!state.aborted) writeResponse(res, r);
      scheduleFlush();
    });
  });

  const { listenSocket, port } = await listenExclusive(app, host, opts.port ?? 0, 'sim binance').catch((e: unknown) => {
    mirror?.close();
    throw e;
  });

  const timer = setInterval(onTick, Math.max(1, opts.tickIntervalMs ?? 1));
  const slowTimer = setInterval(slowTick, 250);
  const pinger = setInterval(() => {
    const t = clock();
    for (const s of [...sockets]) {
      const ws = s.ws;
      if (!ws) continue;
      if (t - s.lastPong > pongTimeoutMs) ws.end(1008, 'pong timeout');
      else ws.cork(() => ws.ping());
    }
  }, Math.max(10, pingIntervalMs));
  pinger.unref();

  const urlHost = host.includes(':') ? `[${host}]` : host;
  log?.info({ host, port, symbols: instruments.map((i) => i.symbol), rate: scheduler.getRate() }, 'sim binance: venue listening');

  const handle: BinanceVenueHandle = {
    venue: 'binance-usdm',
    host,
    port,
    restUrl: `http://${urlHost}:${port}`,
    wsUrl: `ws://${urlHost}:${port}`,
    wsApiUrl: `ws://${urlHost}:${port}/ws-fapi/v1`,
    apiKey,
    apiSecret,
    faults: wire,
    replay:
      player !== null
        ? {
            start: () => player.start(0),
            whenDone: () => player.whenDone(),
            stats: () => player.stats(),
          }
        : null,
    mirror: mirror !== null ? { stats: () => mirror.stats() } : null,
    stats(): BinanceVenueStats {
      const sch = scheduler.stats();
      return {
        connections: sockets.size,
        connectionsTotal: counters.connectionsTotal,
        apiConnections: apiSockets.size,
        eventsGenerated: sch.generated,
        bookTicker: counters.bookTicker,
        aggTrade: counters.aggTrade,
        depthUpdate: counters.depthUpdate,
        framesSent: counters.framesSent,
        bytesSent: counters.bytesSent,
        slowConsumerDrops: counters.slowConsumerDrops,
        slowConsumerDisconnects: counters.slowConsumerDisconnects,
        inboundLimitDisconnects: counters.inboundLimitDisconnects,
        controlMessages: counters.controlMessages,
        schedulerLagResets: sch.lagResets,
        rate: sch.rate,
        paused: sch.paused,
        restRequests: rest.counters.requests,
        restErrors: rest.counters.errors,
        wsApiRequests: wsApi.requests,
        orderRequests: rest.counters.orderRequests,
        ordersAccepted: core.ordersAccepted,
        ordersRejected: core.ordersRejected,
        fills: core.fillCount,
        usedWeight1m: rest.usedWeight(),
        rateLimited: rest.counters.rateLimited,
        banned: rest.counters.banned,
        userDataEvents: users.counters.events,
        userDataFrames: users.counters.frames,
        listenKeysExpired: users.counters.expired,
        forceOrders: counters.forceOrders,
        ...(player !== null ? { replay: player.stats() } : {}),
        ...(mirror !== null ? { mirror: mirror.stats() } : {}),
        faults: wire.stats(),
      };
    },
    fills: () => core.fills(),
    positions: () => core.positions(),
    top(symbol: string) {
      const inst = market.instrument(symbol.toUpperCase());
      if (!inst) throw new Error(`sim binance: unknown symbol ${symbol}`);
      const t: BookTop = market.top(inst.idx);
      return { u: t.u, bid: inst.priceStr(t.bid), bidQty: inst.qtyStr(t.bidQty), ask: inst.priceStr(t.ask), askQty: inst.qtyStr(t.askQty) };
    },
    dropStreams(): number {
      const list = [...sockets];
      for (const s of list) s.ws?.close();
      log?.info({ dropped: list.length }, 'sim binance: dropped market-data sockets');
      return list.length;
    },
    expireListenKeys(): number {
      const n = users.expireAll(clock());
      scheduleFlush();
      return n;
    },
    setMarkPrice(symbol: string, price: string | null): void {
      const inst = market.instrument(symbol.toUpperCase());
      if (!inst) throw new Error(`sim binance: unknown symbol ${symbol}`);
      if (price === null) marks.setOverride(inst.idx, null);
      else {
        const v = parseScaled(price, MONEY_DECIMALS);
        if (typeof v !== 'number' || v <= 0) throw new Error(`sim binance: bad mark price ${price}`);
        marks.setOverride(inst.idx, v);
      }
      if (core.hasAlgos(inst.idx)) triggerSyms.add(inst.idx);
      runTriggers(clock());
      scheduleFlush();
    },
    markPrice(symbol: string): string {
      const inst = market.instrument(symbol.toUpperCase());
      if (!inst) throw new Error(`sim binance: unknown symbol ${symbol}`);
      return formatScaled(marks.mark8(inst.idx), MONEY_DECIMALS);
    },
    setRate(n: number): void {
      scheduler.setRate(checkRate(n));
    },
    pause(): void {
      scheduler.pause();
      player?.pause();
    },
    resume(): void {
      scheduler.resume();
      player?.resume();
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      player?.stop();
      mirror?.close();
      clearInterval(timer);
      clearInterval(slowTimer);
      clearInterval(pinger);
      rest.close();
      wire.close();
      for (const s of [...sockets]) s.ws?.close();
      for (const ws of [...apiSockets]) ws.close();
      uWS.us_listen_socket_close(listenSocket);
      // Also ends idle keep-alive HTTP connections (not in the typings of this build).
      const closable = app as unknown as { close?: () => void };
      if (typeof closable.close === 'function') closable.close();
      await new Promise<void>((r) => setImmediate(r));
      log?.info({ port }, 'sim binance: venue closed');
    },
  };
  return handle;
}
