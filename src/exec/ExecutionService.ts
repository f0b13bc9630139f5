import type { Histogram } from 'hdr-histogram-js';
import type { Instrument } from '../core/Instrument.js';
import { SymbolRegistry } from '../core/SymbolRegistry.js';
import type { SpscRing } from '../ring/SpscRing.js';
import { AsyncRingConsumer } from '../ring/WaitStrategy.js';
import type { SymbolFilters } from '../venues/binance/filters.js';
import { BinanceOrderEncoder } from '../venues/binance/OrderEncoder.js';
import { RateBudget } from '../venues/binance/RateBudget.js';
import { BinanceRestClient } from '../venues/binance/RestClient.js';
import { UndiciUserStreamRest, UserDataStream } from '../venues/binance/UserDataStream.js';
import { WsApiClient } from '../venues/binance/WsApiClient.js';
import { TimeSync } from '../venues/binance/TimeSync.js';
import { OrderGateway, type IntentJournal } from './OrderGateway.js';
import type { SlotWriter } from '../ring/SlotWriter.js';

export type LogFn = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface ExecutionServiceOptions {
  /** ring B (intents in) and ring C (reports out; this thread is its only producer) */
  ringB: SpscRing;
  /** ring C, or a writer over it (the journal's tee, which copies each committed report to the journal feed) */
  ringC: SlotWriter;
  /** the journal feed: every intent drained from ring B is copied to it */
  journal?: IntentJournal;
  symbols: readonly string[];
  instruments: readonly Instrument[];
  filters?: readonly SymbolFilters[];
  restUrl: string;
  /** 'wsapi': orders over the WebSocket API while it is connected, REST ('http') otherwise */
  transport: 'undici' | 'http' | 'wsapi';
  /** WebSocket API URL (`.../ws-fapi/v1`); needed with transport 'wsapi' */
  wsApiUrl: string;
  /** keep a user data stream writing fills and account updates into ring C */
  userStream: boolean;
  /** user-data WebSocket base (the market-data base, e.g. wss://fstream.binance.com) */
  userStreamWsUrl: string;
  /** legacy `/ws/<listenKey>` or the 2026 `/private/ws?listenKey=...` */
  userStreamUrlStyle: 'legacy' | 'private';
  listenKeyKeepAliveMs: number;
  apiKey: string;
  apiSecret: string;
  recvWindow: number;
  requestTimeoutMs: number;
  keepAliveMs: number;
  /**
   * Dead-man switch: keep the venue's countdown cancel-all armed with this countdown (ms), renewed every
   * quarter of it, for every symbol; if this process dies or loses the venue, the venue cancels our open
   * orders when it runs out. 0 = off. Disarmed (countdown 0) on a clean stop.
   */
  deadManMs?: number;
  warmIntervalMs: number;
  clientIdPrefix: string;
  /** venue clock minus local wall clock, ms (refreshed by the keep-alive requests) */
  timeOffsetMs: number;
  /** ns since the process epoch */
  now: () => number;
  hists: { hopB?: Histogram; send?: Histogram; tickToOrder?: Histogram; venueRtt?: Histogram };
  log: LogFn;
  /** resolve Unknown outcomes by client order id (default true) */
  resolveUnknown?: boolean;
  /** how long start() waits for the WS API and the user stream before going on without them. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** WS API / user stream reconnect backoff */
  backoff?: { initialMs: number; maxMs: number };
}

/**
 * Everything the execution worker runs, free of the worker plumbing so tests can run it in-process: the
 * order gateway with its REST transport and (transport 'wsapi') the WebSocket API client, the rate budget
 * they share, the Unknown-outcome resolver (BinanceRestClient), the user data stream writing into ring C
 * behind the gateway's queue, and the timers that keep connections and code warm.
 */
export class ExecutionService {
  readonly budget: RateBudget;
  readonly gateway: OrderGateway;
  readonly wsApi: WsApiClient | undefined;
  readonly userStream: UserDataStream | undefined;
  readonly restClient: BinanceRestClient;
  private readonly usRest: UndiciUserStreamRest | undefined;
  private readonly consumer: AsyncRingConsumer;
  /** venue clock: offset and uncertainty from the fastest of several /fapi/v1/time round trips; resynced every minute and on -1021 */
  readonly timeSync: TimeSync;
  private deadManTimer: NodeJS.Timeout | undefined;
  /** countdown cancel-all renewals that succeeded and failed */
  readonly deadMan = { arms: 0, failures: 0 };
  private warmTimer: NodeJS.Timeout | undefined;
  private warmCodeTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly gate: ReturnType<OrderGateway['gatedWriter']> | undefined;
  private readonly userStreamEvents = { connected: 0, disconnected: 0, listenKeyExpired: 0, reconciled: 0, error: 0 };

  constructor(private readonly o: ExecutionServiceOptions) {
    this.timeSync = new TimeSync({ fetchServerTime: () => this.gateway.warm(), now: Date.now, samples: 3, resyncIntervalMs: 60_000, minResyncGapMs: 250 });
    this.timeSync.offsetMs = o.timeOffsetMs;
    const ts = this.timeSync;
    const venueTimeMs = (): number => Date.now() + ts.offsetMs;
    const log = o.log;
    this.budget = new RateBudget({
      onAlarm: (reason, until) => log('error', `ALARM: order entry halted: ${reason}${Number.isFinite(until) ? ` until ${new Date(until).toISOString()}` : ' until an operator clears it'}`),
      onResume: () => log('warn', 'order entry resumed'),
    });
    // Off the hot path: order queries for the resolver. Shares the budget (limits are per IP / account).
    this.restClient = new BinanceRestClient({ baseUrl: o.restUrl, apiKey: o.apiKey, apiSecret: o.apiSecret, recvWindow: o.recvWindow, timeoutMs: Math.max(o.requestTimeoutMs, 2000), budget: this.budget, timeSync: this.timeSync });
    let rejectLogBudget = 20;
    this.resetLogBudget = () => (rejectLogBudget = 20);
    this.gateway = new OrderGateway(o.ringB, o.ringC, new BinanceOrderEncoder(o.instruments, o.apiSecret, o.clientIdPrefix, o.recvWindow), {
      restUrl: o.restUrl,
      // behind the WS API, REST is the fallback: the hand-written connection
      transport: o.transport === 'wsapi' ? 'http' : o.transport,
      filters: o.filters,
      budget: this.budget,
      ...(o.journal ? { journal: o.journal } : {}),
      apiKey: o.apiKey,
      requestTimeoutMs: o.requestTimeoutMs,
      now: o.now,
      venueTimeMs,
      hists: o.hists,
      onReject: (symbolId, intentId, code, message, unknown) => {
        // -1021: our timestamp fell outside the venue's window: resync the clock now (one resync per burst)
        if (code === -1021) void ts.onInvalidTimestamp();
        // Rejects are rare and operators need their reasons: log them, at most 20 per stats interval.
        if (rejectLogBudget-- > 0) log('warn', `order ${o.clientIdPrefix}${intentId} ${o.symbols[symbolId]} ${unknown ? 'outcome unknown' : 'rejected'}: code ${code} ${message}`);
      },
      ...(o.resolveUnknown ?? true
        ? { resolve: { query: this.restClient, symbols: o.symbols, clientIdPrefix: o.clientIdPrefix, recvWindow: o.recvWindow, onEvent: (level: 'info' | 'warn', msg: string) => log(level, msg) } }
        : {}),
    });
    const backoff = o.backoff ?? { initialMs: 100, maxMs: 5000 };
    if (o.transport === 'wsapi') {
      if (!o.wsApiUrl) throw new Error('execution.transport "wsapi" needs a WebSocket API URL (venue.wsApiUrl)');
      const gw = this.gateway;
      this.wsApi = new WsApiClient({
        url: o.wsApiUrl,
        apiKey: o.apiKey,
        apiSecret: o.apiSecret,
        instruments: o.instruments,
        clientIdPrefix: o.clientIdPrefix,
        recvWindow: o.recvWindow,
        sink: gw,
        now: o.now,
        venueTimeMs,
        requestTimeoutMs: o.requestTimeoutMs,
        hists: o.hists,
        onRateLimits: (w, o10, o1m) => gw.observeRateLimits(w, o10, o1m),
        onThrottle: (status, msg) => gw.observeThrottle(status, msg),
        onUnsolicited: (status, code, msg) => log('warn', `ws-api: unsolicited ${status} ${code} ${msg}`),
        onConnect: () => log('info', 'ws-api connected'),
        onDisconnect: (code, reason) => {
          if (!this.stopped) log('warn', `ws-api disconnected (${code} ${reason}); orders go over REST until it is back`);
        },
        ws: { backoff: { initialMs: backoff.initialMs, maxMs: backoff.maxMs, jitter: 0.3 } },
      });
      gw.setPreferred(this.wsApi);
    }
    if (o.userStream) {
      this.usRest = new UndiciUserStreamRest({ restUrl: o.restUrl, apiKey: o.apiKey, apiSecret: o.apiSecret, recvWindow: o.recvWindow, venueTimeMs });
      this.gate = this.gateway.gatedWriter(o.ringC);
      const ev = this.userStreamEvents;
      this.userStream = new UserDataStream({
        wsBaseUrl: o.userStreamWsUrl,
        urlStyle: o.userStreamUrlStyle,
        rest: this.usRest,
        decoder: { symbols: new SymbolRegistry(o.symbols), clientIdPrefix: o.clientIdPrefix, now: o.now },
        out: this.gate,
        keepAliveMs: o.listenKeyKeepAliveMs,
        backoff: { initialMs: backoff.initialMs, maxMs: backoff.maxMs },
        onEvent: (kind, detail) => {
          ev[kind]++;
          if (kind === 'error' || kind === 'disconnected' || kind === 'listenKeyExpired') log('warn', `user stream ${kind}: ${detail}`);
          else if (kind === 'reconciled') log('info', `user stream reconciled: ${detail}`);
        },
      });
      this.gateway.setTracker(this.userStream);
    }
    this.consumer = new AsyncRingConsumer(o.ringB.doorbell, this.gateway, 100);
  }

  private readonly resetLogBudget: () => void;

  /** REST keep-alive request: servers close idle keep-alive sockets. */
  private async warm(): Promise<void> {
    try {
      await this.gateway.warm();
    } catch (e) {
      this.o.log('warn', `keep-alive request failed: ${(e as Error).message}`);
    }
  }

  /** Connects everything and starts draining ring B. The WS API and the user stream keep trying in the background if slow. */
  async start(): Promise<void> {
    const o = this.o;
    const sync = await this.timeSync.sync();
    if (!sync.ok) o.log('warn', `venue clock sync failed: ${sync.error ?? 'no sample'}; using the offset given at start`);
    else o.log('info', `venue clock offset ${sync.offsetMs.toFixed(1)} ms ± ${sync.uncertaintyMs.toFixed(1)} ms`);
    this.timeSync.start();
    const connectMs = o.connectTimeoutMs ?? 5000;
    const waits: Array<Promise<unknown>> = [this.restClient.init()];
    if (this.wsApi) waits.push(this.wsApi.start(connectMs).catch((e: Error) => o.log('warn', `${e.message}; orders go over REST meanwhile`)));
    if (this.userStream) {
      const started = this.userStream.start();
      waits.push(Promise.race([started, new Promise((r) => setTimeout(r, connectMs).unref())]).then(() => {
        if (!this.userStream!.connected) o.log('warn', 'user stream not connected yet; still trying');
      }));
    }
    await Promise.all(waits);
    // servers close idle keep-alive sockets: a request at least every 5 s
    this.warmTimer = setInterval(() => void this.warm(), Math.min(o.keepAliveMs, 5000));
    const dm = o.deadManMs ?? 0;
    if (dm > 0) {
      await this.armDeadMan(dm);
      this.deadManTimer = setInterval(() => void this.armDeadMan(dm), Math.max(1000, Math.floor(dm / 4)));
    }
    if (o.warmIntervalMs > 0) this.warmCodeTimer = setInterval(() => this.gateway.keepWarm(), o.warmIntervalMs);
    this.consumer.start();
  }

  /** Counters for the stats message (allocates: once per interval). */
  counters(): Record<string, number> {
    const g = this.gateway;
    const out: Record<string, number> = {
      ...g.counters,
      inFlight: g.inFlightCount(),
      halted: this.budget.halted ? 1 : 0,
      deadManArms: this.deadMan.arms,
      deadManFailures: this.deadMan.failures,
      ...this.budget.counters,
      // the windows as the dashboard's meters show them: used and limit
      ...budgetUsage(this.budget, Date.now() + this.timeSync.offsetMs),
      clockOffsetMs: this.timeSync.offsetMs,
      clockUncertaintyMs: this.timeSync.uncertaintyMs,
      clockSyncs: this.timeSync.counters.syncs,
    };
    const rc = g.resolverCounters;
    if (rc) Object.assign(out, rc);
    for (const [code, n] of g.rejectsByCode) out[`reject_${code}`] = n;
    const ws = this.wsApi;
    if (ws) {
      const c = ws.counters;
      Object.assign(out, {
        wsApiConnected: ws.isReady() ? 1 : 0,
        wsApiSent: c.sent, wsApiTimeouts: c.timeouts, wsApiLateResponses: c.lateResponses, wsApiLostInFlight: c.lostInFlight,
        wsApiNotConnected: c.notConnected, wsApiMalformed: c.malformedResponses, wsApiUnmatched: c.unmatchedResponses,
      });
    }
    const us = this.userStream;
    if (us) {
      const c = us.counters;
      const d = us.decoder;
      Object.assign(out, {
        userStreamConnected: us.connected ? 1 : 0,
        userStreamEvents: d.frames,
        userStreamRecords: d.records,
        userStreamOrderUpdates: d.orderUpdates,
        userStreamTradeLites: d.tradeLites,
        userStreamDupFills: d.dupFills,
        userStreamAccountUpdates: d.accountUpdates,
        userStreamMalformed: d.malformed,
        userStreamConnects: c.connects,
        userStreamDisconnects: c.disconnects,
        userStreamReconciles: c.reconciles,
        userStreamReconcileOrders: c.reconcileOrders,
        userStreamReconcilePositions: c.reconcilePositions,
        userStreamBacklogged: c.backlogged,
        userStreamGateRefusals: this.gate?.refused ?? 0,
        listenKeyExpired: c.listenKeyExpired,
        listenKeyKeepAliveErrors: c.keepAliveErrors,
        trackedOrders: us.trackedOrders,
      });
    }
    this.resetLogBudget();
    return out;
  }

  /**
   * Drains what the strategy already sent, waits (bounded) for responses in flight and for Unknown outcomes
   * being resolved, then closes everything. Nothing untracked is left behind silently: what is abandoned
   * is counted.
   */
  /** Arms (or with 0 disarms) the venue's countdown cancel-all for every symbol; failures are counted and logged. */
  private async armDeadMan(ms: number): Promise<void> {
    for (const sym of this.o.symbols) {
      const r = await this.restClient.countdownCancelAll(sym, ms);
      if (r.ok) this.deadMan.arms++;
      else {
        this.deadMan.failures++;
        this.o.log('warn', `dead-man switch for ${sym} not ${ms > 0 ? 'armed' : 'disarmed'}: ${r.code} ${r.msg}`);
      }
    }
  }

  async stop(): Promise<void> {
    this.timeSync.stop();
    if (this.stopped) return;
    this.stopped = true;
    if (this.deadManTimer) {
      clearInterval(this.deadManTimer);
      await Promise.race([this.armDeadMan(0), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    if (this.warmTimer) clearInterval(this.warmTimer);
    if (this.warmCodeTimer) clearInterval(this.warmCodeTimer);
    const g = this.gateway;
    g.drain();
    const deadline = Date.now() + this.o.requestTimeoutMs;
    while (g.inFlightCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await this.consumer.stop();
    if (g.resolver) await g.resolver.idle(Math.max(0, deadline - Date.now()));
    // a venue that no longer answers must not hold the stop past the supervisor's patience
    const bounded = (p: Promise<unknown> | undefined): Promise<unknown> => (p === undefined ? Promise.resolve() : Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]));
    await bounded(this.userStream?.stop());
    await bounded(this.wsApi?.close());
    await bounded(g.close());
    await bounded(this.restClient.close());
    await bounded(this.usRest?.destroy());
    // reports still queued for a full ring C: one last try (the strategy may have stopped reading)
    g.reports.flush();
  }
}

function budgetUsage(b: RateBudget, now: number): Record<string, number> {
  return {
    budgetOrders10s: b.orders10s.used(now),
    budgetOrders10sLimit: b.orders10s.limit,
    budgetOrders1m: b.orders1m.used(now),
    budgetOrders1mLimit: b.orders1m.limit,
    budgetWeight1m: b.weight1m.used(now),
    budgetWeight1mLimit: b.weight1m.limit,
  };
}
