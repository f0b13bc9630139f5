import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { Logger } from 'pino';
import uWS from 'uWebSockets.js';
import type { HttpResponse, WebSocket } from 'uWebSockets.js';
import { resolveInstruments, type InstrumentSpec } from '../instruments.js';
import { DEFAULT_MIX, EmissionScheduler, type EventMix } from '../market/Scheduler.js';
import { SyntheticMarket } from '../market/SyntheticMarket.js';
import type { BookTop, MarketEvent } from '../market/types.js';
import { Rng } from '../rng.js';
import { VenueCore, type SimFill, type SimPosition } from '../Venue.js';
import { errorJson, E } from './errors.js';
import { eventJson } from './format.js';
import { BinanceRest, type RestResponse } from './rest.js';
import { handleControl, parseMdPath, StreamRegistry, type MdSocket } from './streams.js';
import { BinanceWsApi, type ApiSocket } from './wsApi.js';

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
  /** Answer 429 (-1003 / -1015) past the request-weight and order-count limits. Default false. */
  enforceRateLimits?: boolean;
  /** Server ping period on market-data sockets (ms). Default 180_000 (3 min). */
  pingIntervalMs?: number;
  /** Close a market-data socket with no pong for this long (ms). Default 600_000 (10 min). */
  pongTimeoutMs?: number;
  /** Venue clock (ms since the epoch). Default Date.now. */
  clock?: () => number;
  /** Start with emission paused. */
  paused?: boolean;
  logger?: Logger;
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
  /** Closes every market-data WebSocket (abruptly, no close frame); returns how many. */
  dropStreams(): number;
  setRate(n: number): void;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
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

/** uSockets' LIBUS_LISTEN_EXCLUSIVE_PORT: no SO_REUSEPORT (a second listener on the port fails). */
const LISTEN_EXCLUSIVE = 1;

type ListenCb = (ls: uWS.us_listen_socket | false) => void;
/** The native listen(host, port, options, cb) overload, missing from this build's typings. */
interface ListenWithOptions {
  listen(host: string, port: number, options: number, cb: ListenCb): unknown;
}

async function probeFreePort(host: string): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, host, () => resolve());
  });
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('sim binance: cannot probe a free port');
  return addr.port;
}

/**
 * Listens on an explicit port (an ephemeral one is probed first). uSockets sets SO_REUSEADDR only for a
 * non-zero port; without it, the TIME_WAIT connections left by close() would keep a restarted venue from
 * binding the same port for a minute. Exclusive mode keeps two venues from sharing a port silently.
 */
async function listenExclusive(app: uWS.TemplatedApp, host: string, wanted: number): Promise<{ listenSocket: uWS.us_listen_socket; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = wanted !== 0 ? wanted : await probeFreePort(host);
    let got: uWS.us_listen_socket | false = false;
    (app as unknown as ListenWithOptions).listen(host, port, LISTEN_EXCLUSIVE, (ls) => {
      got = ls;
    });
    const ls = got as uWS.us_listen_socket | false;
    if (ls) return { listenSocket: ls, port: uWS.us_socket_local_port(ls as unknown as uWS.us_socket) };
    if (wanted !== 0 || attempt >= 4) throw new Error(`sim binance: cannot listen on ${host}:${port}`);
  }
}

function checkRate(n: number): number {
  if (!Number.isFinite(n) || n < 1 || n > MAX_RATE) throw new RangeError(`rate must be within 1..${MAX_RATE} messages/s (got ${n})`);
  return n;
}

/**
 * Starts a simulated Binance USD-M futures venue on uWebSockets.js: market-data WebSocket streams fed by
 * a seeded synthetic market, the REST endpoints an engine needs (time, exchangeInfo, depth, order entry),
 * and the WebSocket API order subset. Resolves once listening.
 */
export async function startBinanceVenue(opts: BinanceVenueOptions = {}): Promise<BinanceVenueHandle> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.logger;
  const clock = opts.clock ?? Date.now;
  const rootRng = new Rng(opts.seed ?? 1);
  const instruments = resolveInstruments(opts.symbols);
  const market = new SyntheticMarket(instruments, { seed: rootRng.nextU32(), levels: opts.bookLevels ?? 20 });
  const core = new VenueCore(market, { rng: rootRng.fork() });
  const apiKey = opts.apiKey ?? randomBytes(32).toString('hex');
  const apiSecret = opts.apiSecret ?? randomBytes(32).toString('hex');
  core.addAccount('default', apiKey, apiSecret);
  opts.accounts?.forEach((a, i) => core.addAccount(a.id ?? `account-${i + 1}`, a.apiKey, a.apiSecret));

  const mix: EventMix = { ...DEFAULT_MIX, ...opts.mix };
  const scheduler = new EmissionScheduler(market, rootRng.fork(), checkRate(opts.rate ?? 10_000), mix, opts.maxTicks ?? Number.POSITIVE_INFINITY);
  if (opts.paused) scheduler.pause();
  const registry = new StreamRegistry(market, opts.strictPaths ?? false, () => scheduler.setActive(registry.active()));

  const maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
  const disconnectSlow = opts.disconnectSlowConsumers ?? false;
  const maxIncoming = opts.maxIncomingPerSecond ?? 10;
  const pingIntervalMs = opts.pingIntervalMs ?? 180_000;
  const pongTimeoutMs = opts.pongTimeoutMs ?? 600_000;

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
  };

  const sockets = new Set<MdSocket>();
  const apiSockets = new Set<WebSocket<ApiSocket>>();
  const dirty: MdSocket[] = [];
  let nextSocketId = 1;
  let closed = false;

  // ---- emission ---------------------------------------------------------------------------------------

  /** Queues an event's frame on every socket listening to its stream. */
  const deliver = (ev: MarketEvent): void => {
    const entries = registry.entriesFor(ev.sym, ev.kind);
    if (entries.length === 0) return;
    const json = eventJson(ev, instruments[ev.sym]!);
    if (ev.kind === 'bookTicker') counters.bookTicker++;
    else if (ev.kind === 'trade') counters.aggTrade++;
    else counters.depthUpdate++;
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
      frames.length = 0;
    }
    dirty.length = 0;
  };

  let flushQueued = false;
  /** Events caused by orders (trade prints, new top of book): sent on the next turn of the loop. */
  const publish = (events: MarketEvent[]): void => {
    for (const ev of events) deliver(ev);
    if (!flushQueued && dirty.length > 0) {
      flushQueued = true;
      setImmediate(() => {
        flushQueued = false;
        if (!closed) flush();
      });
    }
  };

  const onTick = (): void => {
    scheduler.run(performance.now(), clock(), deliver);
    for (let sym = 0; sym < instruments.length; sym++) if (!registry.hasListeners(sym, 'depth')) market.discardDepth(sym);
    if (dirty.length > 0) flush();
  };

  // ---- REST + WS API ------------------------------------------------------------------------------------

  const rest = new BinanceRest(market, core, clock, publish, opts.enforceRateLimits ?? false);
  const wsApi = new BinanceWsApi(core, rest, clock);

  const writeResponse = (res: HttpResponse, r: RestResponse): void => {
    res.cork(() => {
      res.writeStatus(STATUS_TEXT[r.status] ?? `${r.status} Error`);
      res.writeHeader('Content-Type', 'application/json;charset=UTF-8');
      for (const [k, v] of r.headers) res.writeHeader(k, v);
      res.end(r.body);
    });
  };

  const app = uWS.App();

  app.ws<ApiSocket>('/ws-fapi/v1', {
    compression: uWS.DISABLED,
    maxPayloadLength: 64 * 1024,
    idleTimeout: 0,
    maxBackpressure: 16 * 1024 * 1024,
    sendPingsAutomatically: false,
    upgrade: (res, req, ctx) => {
      const data: ApiSocket = { kind: 'api', id: nextSocketId++, closed: false };
      res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), ctx);
    },
    open: (ws) => {
      apiSockets.add(ws);
    },
    message: (ws, message) => {
      const reply = wsApi.handle(Buffer.from(message).toString('utf8'));
      ws.send(reply, false);
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
      const data: MdSocket = {
        kind: 'md',
        id: nextSocketId++,
        base: p.base,
        combined: p.combined,
        initial: p.streams,
        names: new Set(),
        entries: new Set(),
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
      log?.debug({ socket: s.id, base: s.base, combined: s.combined, streams: s.initial }, 'sim binance: market-data socket open');
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
      ws.send(handleControl(s, Buffer.from(message).toString('utf8'), registry), false);
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
      sockets.delete(s);
      log?.debug({ socket: s.id }, 'sim binance: market-data socket closed');
    },
  });

  app.any('/*', (res, req) => {
    const method = req.getMethod();
    const path = req.getUrl();
    const query = req.getQuery() ?? '';
    const key = req.getHeader('x-mbx-apikey');
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.onData((chunk, isLast) => {
      if (aborted || done) return;
      if (chunk.byteLength > 0) {
        size += chunk.byteLength;
        if (size > MAX_BODY) {
          done = true;
          writeResponse(res, { status: 413, body: errorJson(E.tooLarge()), headers: [] });
          return;
        }
        // The chunk is neutered when this callback returns: copy it.
        chunks.push(Buffer.from(new Uint8Array(chunk)));
      }
      if (!isLast) return;
      done = true;
      const body = chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8');
      let r: RestResponse;
      try {
        r = rest.handle({ method, path, query, body, apiKey: key });
      } catch (e) {
        log?.error({ err: e, method, path }, 'sim binance: REST handler failed');
        r = { status: 500, body: JSON.stringify({ code: -1000, msg: 'An unknown error occured while processing the request.' }), headers: [] };
      }
      if (!aborted) writeResponse(res, r);
    });
  });

  const { listenSocket, port } = await listenExclusive(app, host, opts.port ?? 0);

  const timer = setInterval(onTick, Math.max(1, opts.tickIntervalMs ?? 1));
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
    setRate(n: number): void {
      scheduler.setRate(checkRate(n));
    },
    pause(): void {
      scheduler.pause();
    },
    resume(): void {
      scheduler.resume();
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      clearInterval(pinger);
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
