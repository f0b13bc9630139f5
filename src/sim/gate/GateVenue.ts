import { randomBytes } from 'node:crypto';
import { listenExclusive } from '../../net/uwsListen.js';
import { readBody, trackAborted } from '../../net/uwsBody.js';
import type { Logger } from 'pino';
import uWS from 'uWebSockets.js';
import type { HttpResponse } from 'uWebSockets.js';
import { parseScaled } from '../../core/decimal.js';
import { MarkPrices } from '../market/MarkPrice.js';
import { DEFAULT_MIX, EmissionScheduler, type EventMix } from '../market/Scheduler.js';
import { SyntheticMarket } from '../market/SyntheticMarket.js';
import type { MarketEvent } from '../market/types.js';
import { Rng } from '../rng.js';
import { MONEY_DECIMALS, VenueCore, type SimFill, type SimPosition } from '../Venue.js';
import { GateLedger } from './account.js';
import { GateChannels } from './channels.js';
import { resolveContracts, type GateContract, type GateContractSpec } from './contracts.js';
import { errorJson, GE } from './errors.js';
import { Raw, trim } from './json.js';
import { GateMarketData } from './marketData.js';
import { GateOrderBook, type FeeRates } from './orders.js';
import { GatePrivate } from './private.js';
import { API_PREFIX, GateRest, type GateRestRequest, type GateRestResponse } from './rest.js';
import { updateFrame, type GateSocket } from './socket.js';
import { GateTrading, type GateContext } from './trading.js';
import { GateWsApi } from './wsApi.js';
import { GatePriceOrders } from './priceOrders.js';
import type { ReplayStats } from '../market/ReplaySource.js';
import { GateReplayPlayer, GateReplaySource, replayOrderBookResponse, type GateReplayControl, type GateReplayOptions } from './replay.js';
import type { FaultControl, WireStats } from '../faults/WireCore.js';
import { FaultInjector, type FaultSpec } from '../faults/Faults.js';
import { GateWire } from '../faults/GateWire.js';
import { LatencyModel, type LatencyOptions } from '../latency/Latency.js';

export interface GateVenueOptions {
  /** Bind address. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 (default) = ephemeral, read the real one from the handle. */
  port?: number;
  /** Seed of the synthetic market and of ids. Default 1. */
  seed?: number;
  /** Contracts: built-in names (BTC_USDT, ETH_USDT) or full specs. Default BTC_USDT, ETH_USDT. */
  contracts?: ReadonlyArray<string | GateContractSpec>;
  /** Alias of `contracts` (the option name the Binance venue uses). */
  symbols?: ReadonlyArray<string | GateContractSpec>;
  /** Market events generated per second over the contracts someone listens to. Default 10_000. */
  rate?: number;
  mix?: Partial<EventMix>;
  /** Key / secret of the default account (random 64 hex chars when absent). */
  apiKey?: string;
  apiSecret?: string;
  /** Gate user id of the default account. Default a seeded 8-digit number. */
  userId?: number;
  /** More accounts. */
  accounts?: ReadonlyArray<{ id?: string; apiKey: string; apiSecret: string; userId?: number }>;
  /** Stop generating market events after this many. Default: no limit. */
  maxTicks?: number;
  /** Price levels (ticks) per side of each synthetic book; every level param sees the whole book. Default 20. */
  bookLevels?: number;
  /** Emission timer period (ms). Default 1. */
  tickIntervalMs?: number;
  /** Frames to a socket with more unsent bytes than this are dropped (and counted). Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Starting USDT balance of every account. Default "100000". */
  initialBalance?: string;
  /** Leverage of every contract until changed. Default 10. */
  defaultLeverage?: number;
  /** Fee rates as decimals (negative maker = rebate). Default maker "0.0002", taker "0.0005". */
  fees?: { maker?: string; taker?: string };
  /** Reject orders needing more margin than available (INSUFFICIENT_AVAILABLE). Default true. */
  marginCheck?: boolean;
  /** Resting orders fill as maker when the market crosses them. Default true. */
  restingFills?: boolean;
  /**
   * Queue-position model of resting orders: 'risk-averse' (default; only trades move them forward),
   * 'probabilistic' (cancels ahead with a probability; seeded by `seed`) or 'none' (always first in line).
   */
  queueModel?: import('../matching/QueueModel.js').QueueModelSpec;
  /** Refuse orders past 100/s and cancels past 200/s per account (TOO_MANY_REQUESTS). Default false. */
  enforceRateLimits?: boolean;
  /** Max open orders per contract and account (`orders_limit`). Default 100. */
  maxOpenOrders?: number;
  /** Protocol-level ping period (ms) and the silence after which a socket is closed. Defaults 20 s / 120 s. */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  /** Venue clock (ms since the epoch). Default Date.now. */
  clock?: () => number;
  /** Start with emission paused. */
  paused?: boolean;
  logger?: Logger;
  /**
   * Market source: the seeded synthetic market (default) or the replay of a Gate recording (src/sim/gate/replay.ts),
   * whose contracts then replace `contracts` (specs of the same name still apply) and whose pushes go out byte-exact.
   */
  source?: { kind: 'synthetic' } | GateReplayOptions;
  /** Delays of feed / private frames and of order requests and answers (src/sim/latency/Latency.ts). Default none. */
  latency?: LatencyOptions;
  /** Faults armed at start (src/sim/faults/Faults.ts, applied by GateWire); more with handle.faults or `POST /_sim/faults`. */
  faults?: readonly FaultSpec[];
  /** Serve `/_sim/faults` and `/_sim/latency` on the REST port. Default true. */
  controlEndpoint?: boolean;
}

export interface GateVenueStats {
  connections: number;
  connectionsTotal: number;
  eventsGenerated: number;
  /** Pushes that reached at least one socket, by channel. */
  bookTicker: number;
  trades: number;
  orderBookUpdates: number;
  tickers: number;
  candlesticks: number;
  privateFrames: number;
  framesSent: number;
  bytesSent: number;
  slowConsumerDrops: number;
  controlMessages: number;
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
  /** Injected faults and applied delays. */
  faults: WireStats;
  /** Progress of a replay (`source.kind === 'replay'` only). */
  replay?: ReplayStats;
}

/** URLs and keys of a running Gate venue (what `hft sim --venue gate` prints). */
export interface GateVenueDescription {
  venue: 'gate-futures';
  /** REST base, like https://api.gateio.ws/api/v4. */
  rest: string;
  /** USDT-settled futures WebSocket, like wss://fx-ws.gateio.ws/v4/ws/usdt (the WS API shares it). */
  ws: string;
  wsApi: string;
  apiKey: string;
  apiSecret: string;
  userId: number;
}

export interface GateVenueHandle {
  readonly venue: 'gate-futures';
  readonly host: string;
  readonly port: number;
  /** `http://host:port/api/v4` (the REST base; signed paths include /api/v4). */
  readonly restUrl: string;
  /** `http://host:port`. */
  readonly origin: string;
  /** `ws://host:port/v4/ws/usdt`: market data, private channels and the WS API. */
  readonly wsUrl: string;
  readonly wsApiUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly userId: number;
  describe(): GateVenueDescription;
  stats(): GateVenueStats;
  /** The venue's fills, oldest first, in Gate units: `qty` in contracts, `symbol` the contract name. */
  fills(): SimFill[];
  /** Positions of every account, `positionAmt` in contracts (signed). */
  positions(): SimPosition[];
  /** Best bid/ask of a contract (prices as strings, sizes in contracts) with the book update id. */
  top(contract: string): { u: number; bid: string; bidSize: number; ask: string; askSize: number };
  /** Closes every WebSocket abruptly; returns how many. */
  dropStreams(): number;
  /** Fault injection: inject(spec), clear(id?), active(), stats() (also `POST/GET/DELETE /_sim/faults`). */
  readonly faults: FaultControl;
  /** The replay, when the venue replays a recording; null with the synthetic market. */
  readonly replay: GateReplayControl | null;
  setRate(n: number): void;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  404: '404 Not Found',
  413: '413 Payload Too Large',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
};

const MAX_BODY = 256 * 1024;
const MAX_RATE = 500_000;
const WS_PATHS = ['/v4/ws/usdt', '/v4/ws/futures/usdt'];

function feePpm(rate: string | undefined, dflt: string): { ppm: number; text: string } {
  const text = rate ?? dflt;
  const v = parseScaled(text, 6);
  if (typeof v !== 'number') throw new RangeError(`fee rate must be a decimal with at most 6 decimals (got ${text})`);
  return { ppm: v, text: trim(text) };
}

function checkRate(n: number): number {
  if (!Number.isFinite(n) || n < 1 || n > MAX_RATE) throw new RangeError(`rate must be within 1..${MAX_RATE} messages/s (got ${n})`);
  return n;
}

/** URLs and keys of a running venue. */
export function describeGateVenue(h: GateVenueHandle): GateVenueDescription {
  return { venue: 'gate-futures', rest: h.restUrl, ws: h.wsUrl, wsApi: h.wsApiUrl, apiKey: h.apiKey, apiSecret: h.apiSecret, userId: h.userId };
}

/**
 * Starts a simulated Gate futures (USDT-settled) venue on uWebSockets.js over the venue-neutral core and
 * the seeded synthetic market: REST `/api/v4/futures/usdt/...` (public market data, signed order entry,
 * positions, account, leverage, dead-man switch), the WebSocket `/v4/ws/usdt` with public channels
 * (book_ticker, trades, order_book_update, candlesticks, tickers), private channels and the WS API.
 * Resolves once listening.
 */
export async function startGateVenue(opts: GateVenueOptions = {}): Promise<GateVenueHandle> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.logger;
  const baseClock = opts.clock ?? Date.now;
  const faultInjector = new FaultInjector(opts.seed ?? 1);
  // The clockSkew fault moves the venue clock (0 otherwise).
  const clock = (): number => baseClock() + faultInjector.skewMs;
  const rootRng = new Rng(opts.seed ?? 1);
  const replayOpts = opts.source?.kind === 'replay' ? opts.source : null;
  const replaySource = replayOpts ? GateReplaySource.load(replayOpts.file, opts.contracts ?? opts.symbols) : null;
  const contracts = replaySource ? replaySource.contracts : resolveContracts(opts.contracts ?? opts.symbols);
  const byName = new Map<string, GateContract>(contracts.map((c) => [c.name, c]));
  const instruments = contracts.map((c) => c.inst);
  const market = replaySource?.market ?? new SyntheticMarket(instruments, { seed: rootRng.nextU32(), levels: opts.bookLevels ?? 20 });
  const maker = feePpm(opts.fees?.maker, '0.0002');
  const taker = feePpm(opts.fees?.taker, '0.0005');
  const fees: FeeRates = { maker: maker.text, taker: taker.text };
  const maxOpenOrders = opts.maxOpenOrders ?? 100;
  const defaultLeverage = opts.defaultLeverage ?? 10;
  const core = new VenueCore(market, {
    rng: rootRng.fork(),
    initialBalance: opts.initialBalance,
    defaultLeverage,
    makerFeePpm: maker.ppm,
    takerFeePpm: taker.ppm,
    maintMarginPpm: 5000,
    maxOpenOrders,
    marginCheck: opts.marginCheck,
    queueModel: opts.queueModel,
  });
  const initialBalance = parseScaled(opts.initialBalance ?? '100000', MONEY_DECIMALS);
  const ledger = new GateLedger(core, contracts, defaultLeverage, BigInt(typeof initialBalance === 'number' ? initialBalance : 0));
  const idRng = rootRng.fork();
  const apiKey = opts.apiKey ?? randomBytes(32).toString('hex');
  const apiSecret = opts.apiSecret ?? randomBytes(32).toString('hex');
  const userId = opts.userId ?? 10_000_000 + idRng.int(89_000_000);
  ledger.addAccount(core.addAccount('default', apiKey, apiSecret, clock()), userId);
  opts.accounts?.forEach((a, i) => ledger.addAccount(core.addAccount(a.id ?? `account-${i + 1}`, a.apiKey, a.apiSecret, clock()), a.userId ?? userId + i + 1));
  const accountsById = new Map(core.allAccounts().map((a) => [a.id, a]));

  const scheduler = new EmissionScheduler(market, rootRng.fork(), checkRate(opts.rate ?? 10_000), { ...DEFAULT_MIX, ...opts.mix }, replaySource ? 0 : (opts.maxTicks ?? Number.POSITIVE_INFINITY));
  if (opts.paused) scheduler.pause();
  const marks = new MarkPrices(market, rootRng.fork());
  core.marks = marks;
  const data = new GateMarketData(contracts, market, marks, clock());
  const orders = new GateOrderBook();

  const maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
  const restingFills = opts.restingFills ?? true;
  const pingIntervalMs = opts.pingIntervalMs ?? 20_000;
  const pongTimeoutMs = opts.pongTimeoutMs ?? 120_000;
  const counters = {
    connectionsTotal: 0,
    bookTicker: 0,
    trades: 0,
    orderBookUpdates: 0,
    tickers: 0,
    candlesticks: 0,
    framesSent: 0,
    bytesSent: 0,
    slowConsumerDrops: 0,
    controlMessages: 0,
  };

  const sockets = new Set<GateSocket>();
  const dirty: GateSocket[] = [];
  let nextSocketId = 1;
  let closed = false;

  const enqueue = (s: GateSocket, frame: string): void => {
    if (s.closed) return;
    if (s.pending.length === 0) dirty.push(s);
    s.pending.push(frame);
  };
  const pushAll = (socks: ReadonlySet<GateSocket>, frame: string): void => {
    for (const s of socks) enqueue(s, frame);
  };

  const priv = new GatePrivate(
    contracts,
    ledger,
    orders,
    fees,
    (s, f) => {
      enqueue(s, f);
      scheduleFlush();
    },
    (id) => accountsById.get(id),
    () => scheduleFlush(),
  );
  core.listener = priv;
  const channels = new GateChannels(contracts, market, priv, (k) => core.accountByApiKey(k), () => {
    scheduler.setActive(channels.active());
    replayPlayer?.subscriptionsChanged();
  });

  // ---- emission ---------------------------------------------------------------------------------------

  let flushQueued = false;
  const scheduleFlush = (): void => {
    if (flushQueued) return;
    flushQueued = true;
    setImmediate(() => {
      flushQueued = false;
      if (!closed) flush();
    });
  };

  /** Writes frames to a socket now, in one cork (slow consumers lose them, counted). */
  const writeFrames = (s: GateSocket, frames: readonly string[]): void => {
    const ws = s.ws;
    if (s.closed || ws === null) return;
    if (ws.getBufferedAmount() > maxBuffered) {
      counters.slowConsumerDrops += frames.length;
      return;
    }
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

  /** Writes the queued frames, one cork per socket; private order/position states are formatted first. */
  const flush = (): void => {
    priv.flush(clock());
    for (let i = 0; i < dirty.length; i++) {
      const s = dirty[i]!;
      const frames = s.pending;
      // Delays and frame faults, while configured or armed; the direct write otherwise.
      if (!s.closed && s.ws !== null && wire.framesActive) wire.frames(s, frames);
      else writeFrames(s, frames);
      frames.length = 0;
    }
    dirty.length = 0;
  };

  const bookTickerFrame = (c: GateContract, now: number): string => {
    const t = market.top(c.idx);
    return updateFrame('futures.book_ticker', now, data.bookTicker(c, t, now));
  };

  /** Routes one market event: trades feed statistics and candles; market events may cross resting orders. */
  const deliver = (ev: MarketEvent, external = true): void => {
    const sym = ev.sym;
    const c = contracts[sym]!;
    data.touchBook(sym, ev.time);
    if (ev.kind === 'trade') {
      core.noteTrade(sym, ev.price);
      data.onTrade(ev);
    }
    if (external && restingFills && core.hasResting(sym)) core.matchResting(ev);
    if (ev.kind === 'bookTicker') {
      const socks = channels.bookTicker[sym]!;
      if (socks.size === 0) return;
      counters.bookTicker++;
      pushAll(socks, updateFrame('futures.book_ticker', ev.time, data.bookTicker(c, ev, ev.time)));
    } else if (ev.kind === 'trade') {
      const socks = channels.trades[sym]!;
      if (socks.size > 0) {
        counters.trades++;
        pushAll(socks, updateFrame('futures.trades', ev.time, [data.tradeJson(c, ev)]));
      }
      // A print takes from the touch: the best level changed (order-driven takes send their own top).
      const bt = channels.bookTicker[sym]!;
      if (external && bt.size > 0) {
        counters.bookTicker++;
        pushAll(bt, bookTickerFrame(c, ev.time));
      }
    } else {
      channels.merge(ev);
    }
  };

  const publish = (events: MarketEvent[]): void => {
    for (const ev of events) deliver(ev, false);
    scheduleFlush();
  };

  /** A replay: recorded pushes go to the subscribers of their channel and contract; the venue keeps its books per event. */
  const replayPlayer =
    replaySource !== null && replayOpts !== null
      ? new GateReplayPlayer(
          replaySource,
          {
            channels,
            sockets,
            send: enqueue,
            flush: () => {
              if (dirty.length > 0) flush();
            },
            onEvent: (ev) => {
              if (ev.time === ev.time) data.touchBook(ev.sym, ev.time);
              if (ev.kind === 'trade') {
                core.noteTrade(ev.sym, ev.price);
                data.onTrade(ev);
              }
              if (restingFills && core.hasResting(ev.sym)) core.matchResting(ev);
            },
            highWaterBytes: Math.max(64 * 1024, Math.min(1 << 20, maxBuffered >> 1)),
          },
          replayOpts,
        )
      : null;
  if (replayPlayer !== null && opts.paused) replayPlayer.pause();

  const onTick = (): void => {
    const now = clock();
    scheduler.run(performance.now(), now, deliver);
    priceOrders.check(now);
    for (let sym = 0; sym < contracts.length; sym++) {
      const streams = channels.obu[sym]!;
      if (streams.size === 0) {
        market.discardDepth(sym);
        continue;
      }
      let drained = false;
      for (const st of streams.values()) {
        if (now < st.nextDue) continue;
        if (!drained) {
          channels.drain(sym, now);
          drained = true;
        }
        st.nextDue = Math.max(st.nextDue + st.intervalMs, now + 1);
        // Nothing changed: no push (the next one still starts at lastU + 1).
        if (st.curU === st.lastU) continue;
        counters.orderBookUpdates++;
        pushAll(st.socks, updateFrame('futures.order_book_update', now, new Raw(channels.obuResult(st, now))));
        st.lastU = st.curU;
        st.bids.clear();
        st.asks.clear();
      }
    }
    if (dirty.length > 0) flush();
  };

  /** Candles (on change), tickers and mark prices (each second). */
  let lastSecond = Math.floor(clock() / 1000);
  const slowTick = (): void => {
    if (closed) return;
    const now = clock();
    const second = Math.floor(now / 1000);
    const newSecond = second > lastSecond;
    if (newSecond) {
      lastSecond = second;
      marks.update();
    }
    // A replay sends the recorded candles and tickers only.
    for (const c of replaySource ? [] : contracts) {
      const sym = c.idx;
      for (const [iv, socks] of channels.candles[sym]!) {
        const pushed = channels.candlePushed[sym]!;
        const list = data.candlesToPush(sym, iv, now, pushed.get(iv) ?? 0);
        if (list.length === 0) continue;
        pushed.set(iv, list[list.length - 1]!.t);
        counters.candlesticks++;
        pushAll(socks, updateFrame('futures.candlesticks', now, list.map((k) => data.wsCandle(c, iv, k))));
      }
      const tk = channels.tickers[sym]!;
      if (newSecond && tk.size > 0) {
        counters.tickers++;
        pushAll(tk, updateFrame('futures.tickers', now, [data.wsTicker(c)]));
      }
    }
    if (dirty.length > 0) flush();
  };

  // ---- REST, WS API ---------------------------------------------------------------------------------

  const ctx: GateContext = {
    contracts,
    contract: (n) => byName.get(n),
    market,
    core,
    marks,
    orders,
    ledger,
    data,
    fees,
    maxOpenOrders,
    now: clock,
    publish,
  };
  const trading = new GateTrading(ctx, opts.enforceRateLimits ?? false);
  const priceOrders = new GatePriceOrders(ctx, trading);
  const rest = new GateRest(ctx, trading, priceOrders);
  const wsApi = new GateWsApi(ctx, trading);

  /** REST requests the venue acts on (direct path, and the wire's delayed / faulted path). */
  const restExec = (req: GateRestRequest): GateRestResponse => {
    try {
      // a replay answers order_book (with_id) from the recording or its rebuilt book
      return (replaySource !== null ? replayOrderBookResponse(replaySource, req.method, req.path, req.query, clock()) : null) ?? rest.handle(req);
    } catch (e) {
      log?.error({ err: e, method: req.method, path: req.path }, 'sim gate: REST handler failed');
      return { status: 500, body: errorJson(GE.internal()), headers: [] };
    }
  };
  const latencyModel = opts.latency !== undefined ? new LatencyModel(opts.latency, opts.seed ?? 1) : null;
  const controlEndpoint = opts.controlEndpoint ?? true;
  const wire = new GateWire(
    {
      sockets: () => sockets,
      writeFrames: (s, frames) => writeFrames(s, frames),
      message: (s, text) => onMessage(s, text, Date.now() * 1000),
      rest: restExec,
      writeResponse: (res, r) => writeResponse(res, r),
      afterExec: () => scheduleFlush(),
      now: clock,
      onError: (e) => log?.error({ err: e }, 'sim gate: delayed task failed'),
    },
    faultInjector,
    latencyModel,
    opts.seed ?? 1,
  );
  for (const f of opts.faults ?? []) wire.inject(f);

  const envelope = (channel: string, event: string, id: unknown, body: string): string => {
    const now = clock();
    const idPart = typeof id === 'number' || typeof id === 'string' ? `"id":${JSON.stringify(id)},` : '';
    return `{"time":${Math.floor(now / 1000)},"time_ms":${now},${idPart}"channel":${JSON.stringify(channel)},"event":${JSON.stringify(event)},${body}}`;
  };

  /** One client frame: ping, subscribe / unsubscribe, or a WS API request. Returns the direct replies. */
  const onMessage = (s: GateSocket, text: string, inUs: number): string[] => {
    counters.controlMessages++;
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return [envelope('', '', null, '"error":{"code":1,"message":"invalid argument struct"},"result":null')];
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return [envelope('', '', null, '"error":{"code":1,"message":"invalid argument struct"},"result":null')];
    const m = msg as Record<string, unknown>;
    const channel = typeof m['channel'] === 'string' ? m['channel'] : '';
    const event = typeof m['event'] === 'string' ? m['event'] : '';
    if (channel === 'futures.ping') return [envelope('futures.pong', '', m['id'], '"result":null')];
    if (event === 'api') return wsApi.handle(s, m, text, inUs);
    if (event !== 'subscribe' && event !== 'unsubscribe') return [envelope(channel, event, m['id'], `"error":{"code":2,"message":${JSON.stringify(`invalid event ${event}`)}},"result":{"status":"fail"}`)];
    const err = channels.apply(s, channel, event, m['payload'], m['time'], m['auth'], clock());
    if (err) return [envelope(channel, event, m['id'], `"error":${JSON.stringify(err)},"result":{"status":"fail"}`)];
    return [envelope(channel, event, m['id'], '"result":{"status":"success"}')];
  };

  const writeResponse = (res: HttpResponse, r: GateRestResponse): void => {
    res.cork(() => {
      res.writeStatus(STATUS_TEXT[r.status] ?? `${r.status} Error`);
      res.writeHeader('Content-Type', 'application/json');
      for (const [k, v] of r.headers) res.writeHeader(k, v);
      res.end(r.body);
    });
  };

  const app = uWS.App();
  const wsBehavior: uWS.WebSocketBehavior<GateSocket> = {
    compression: uWS.DISABLED,
    maxPayloadLength: 256 * 1024,
    idleTimeout: 0,
    maxBackpressure: maxBuffered + 16 * 1024 * 1024,
    sendPingsAutomatically: false,
    upgrade: (res, req, uctx) => {
      const id = nextSocketId++;
      const data: GateSocket = {
        id,
        connId: randomBytes(8).toString('hex'),
        clientId: `${host}-0x${(0xc000000000 + id).toString(16)}`,
        ws: null,
        closed: false,
        pending: [],
        pub: new Set(),
        priv: [],
        login: null,
        lastPong: clock(),
      };
      res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), uctx);
    },
    open: (ws) => {
      const s = ws.getUserData();
      s.ws = ws;
      sockets.add(s);
      counters.connectionsTotal++;
    },
    message: (ws, message, isBinary) => {
      if (isBinary) return;
      const s = ws.getUserData();
      if (wire.messagesActive) {
        // WS API request faults and delays, replies behind the socket's delayed frames
        wire.message(ws, Buffer.from(message).toString('utf8'));
        scheduleFlush();
        return;
      }
      const replies = onMessage(s, Buffer.from(message).toString('utf8'), Date.now() * 1000);
      ws.cork(() => {
        for (const r of replies) ws.send(r, false);
      });
      // Order-driven market frames and private pushes follow the replies.
      scheduleFlush();
    },
    pong: (ws) => {
      ws.getUserData().lastPong = clock();
    },
    close: (ws) => {
      const s = ws.getUserData();
      s.closed = true;
      s.ws = null;
      s.pending.length = 0;
      channels.removeSocket(s);
      sockets.delete(s);
    },
  };
  for (const p of WS_PATHS) app.ws<GateSocket>(p, wsBehavior);

  app.any('/*', (res, req) => {
    const method = req.getMethod();
    const path = req.getUrl();
    const query = req.getQuery() ?? '';
    const key = req.getHeader('key');
    const timestamp = req.getHeader('timestamp');
    const sign = req.getHeader('sign');
    const exptime = req.getHeader('x-gate-exptime');
    const state = trackAborted(res);
    const tooLarge = (): void => writeResponse(res, { status: 413, body: errorJson(GE.tooLarge()), headers: [] });
    readBody(res, state, MAX_BODY, tooLarge, (body) => {
      const ctl = controlEndpoint ? wire.control(method, path, query, body) : null;
      if (ctl !== null) {
        if (!state.aborted) writeResponse(res, ctl);
        return;
      }
      const req: GateRestRequest = { method, path, query, body, key, timestamp, sign, exptime };
      // Order delays and request faults answer later (or never); the direct path otherwise.
      if (wire.restActive && wire.restRequest(req, res, () => state.aborted)) return;
      const r = restExec(req);
      if (!state.aborted) writeResponse(res, r);
      scheduleFlush();
    });
  });

  const { listenSocket, port } = await listenExclusive(app, host, opts.port ?? 0, 'sim gate');
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
  const origin = `http://${urlHost}:${port}`;
  log?.info({ host, port, contracts: contracts.map((c) => c.name), rate: scheduler.getRate() }, 'sim gate: venue listening');

  const contractOf = (name: string): GateContract => {
    const c = byName.get(name.toUpperCase());
    if (!c) throw new Error(`sim gate: unknown contract ${name}`);
    return c;
  };
  /** Base-asset steps (as the core prints them) -> contracts. */
  const contractsOf = (c: GateContract, qty: string): string => {
    const units = parseScaled(qty.startsWith('-') ? qty.slice(1) : qty, c.inst.qtyDecimals);
    if (typeof units !== 'number') return qty;
    const n = units / c.inst.stepUnits;
    return qty.startsWith('-') && n !== 0 ? `-${n}` : String(n);
  };

  const handle: GateVenueHandle = {
    venue: 'gate-futures',
    host,
    port,
    restUrl: `${origin}${API_PREFIX}`,
    origin,
    wsUrl: `ws://${urlHost}:${port}${WS_PATHS[0]}`,
    wsApiUrl: `ws://${urlHost}:${port}${WS_PATHS[0]}`,
    apiKey,
    apiSecret,
    userId,
    describe: () => describeGateVenue(handle),
    stats(): GateVenueStats {
      const sch = scheduler.stats();
      return {
        connections: sockets.size,
        connectionsTotal: counters.connectionsTotal,
        eventsGenerated: sch.generated,
        bookTicker: counters.bookTicker,
        trades: counters.trades,
        orderBookUpdates: counters.orderBookUpdates,
        tickers: counters.tickers,
        candlesticks: counters.candlesticks,
        privateFrames: priv.counters.frames,
        framesSent: counters.framesSent,
        bytesSent: counters.bytesSent,
        slowConsumerDrops: counters.slowConsumerDrops,
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
        faults: wire.stats(),
        ...(replayPlayer !== null ? { replay: replayPlayer.stats() } : {}),
      };
    },
    fills: () => core.fills().map((f) => ({ ...f, qty: contractsOf(contractOf(f.symbol), f.qty) })),
    positions: () => core.positions().map((p) => ({ ...p, positionAmt: contractsOf(contractOf(p.symbol), p.positionAmt) })),
    top(contract: string) {
      const c = contractOf(contract);
      const t = market.top(c.idx);
      return { u: t.u, bid: t.bid >= 0 ? c.px(t.bid) : '', bidSize: Math.max(0, t.bidQty), ask: t.ask >= 0 ? c.px(t.ask) : '', askSize: Math.max(0, t.askQty) };
    },
    faults: wire,
    replay: replayPlayer,
    dropStreams(): number {
      const list = [...sockets];
      for (const s of list) s.ws?.close();
      return list.length;
    },
    setRate(n: number): void {
      scheduler.setRate(checkRate(n));
    },
    pause(): void {
      scheduler.pause();
      replayPlayer?.pause();
    },
    resume(): void {
      scheduler.resume();
      replayPlayer?.resume();
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      replayPlayer?.stop();
      clearInterval(timer);
      clearInterval(slowTimer);
      clearInterval(pinger);
      trading.close();
      wire.close();
      for (const s of [...sockets]) s.ws?.close();
      uWS.us_listen_socket_close(listenSocket);
      const closable = app as unknown as { close?: () => void };
      if (typeof closable.close === 'function') closable.close();
      await new Promise<void>((r) => setImmediate(r));
      log?.info({ port }, 'sim gate: venue closed');
    },
  };
  return handle;
}
