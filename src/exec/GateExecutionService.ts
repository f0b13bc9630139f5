import type { Histogram } from 'hdr-histogram-js';
import { SymbolRegistry } from '../core/SymbolRegistry.js';
import type { Instrument } from '../core/Instrument.js';
import type { SpscRing } from '../ring/SpscRing.js';
import type { SlotWriter } from '../ring/SlotWriter.js';
import { AsyncRingConsumer } from '../ring/WaitStrategy.js';
import type { GateContractRules } from '../venues/gate/contracts.js';
import { GateUserStream } from '../venues/gate/UserStream.js';
import { BinanceOrderEncoder } from '../venues/binance/OrderEncoder.js';
import { GateClock } from '../venues/gate/clock.js';
import { GateRestClient } from '../venues/gate/RestClient.js';
import { GateEntryGuard, GateOrderTransport } from './GateOrderTransport.js';
import { GateUnknownResolver } from './GateUnknownResolver.js';
import { OrderGateway, type IntentJournal } from './OrderGateway.js';
import type { LogFn } from './ExecutionService.js';

export interface GateExecutionOptions {
  ringB: SpscRing;
  ringC: SlotWriter;
  journal?: IntentJournal;
  symbols: readonly string[];
  instruments: readonly Instrument[];
  /** contract rules by symbol id (quanto multiplier, price round, size limits) */
  contracts: readonly GateContractRules[];
  /** REST base with the version prefix (`.../api/v4`) */
  restUrl: string;
  /** the WebSocket `/v4/ws/usdt` URL (private channels) */
  wsUrl: string;
  apiKey: string;
  apiSecret: string;
  userId: string | number;
  /** at most 12 of [0-9A-Za-z_.]: client ids are `t-<prefix><intentId>` */
  clientIdPrefix: string;
  requestTimeoutMs: number;
  now: () => number;
  hists: { hopB?: Histogram; send?: Histogram; tickToOrder?: Histogram; venueRtt?: Histogram };
  log: LogFn;
  /** IOC-then-market for market intents: premium over the reference price and how long the IOC may take */
  iocPremium?: number;
  /** `x-gate-exptime` window of new orders (ms): the bound after which a lost order "never arrived". Default 5000. */
  orderExpiryMs?: number;
  /** Resolve Unknown outcomes by the order's text (default true). */
  resolveUnknown?: boolean;
}

/**
 * The execution worker's core on Gate.io USDT futures: the same OrderGateway drains ring B and writes ring C
 * (one report format, one overflow queue, the journal tee), with Gate's REST order transport as its venue
 * transport (conditional orders become price-triggered orders there; amends are refused locally) and Gate's
 * private channels (orders, user trades, positions) writing fills and positions into ring C behind it.
 */
export class GateExecutionService {
  readonly gateway: OrderGateway;
  readonly transport: GateOrderTransport;
  readonly userStream: GateUserStream;
  /** our estimate of the venue clock (re-synced when the venue answers REQUEST_EXPIRED) */
  readonly clock = new GateClock();
  /** backoff after TOO_MANY_REQUESTS, halt (with an alarm) after an auth / ban answer */
  readonly guard: GateEntryGuard;
  readonly resolver: GateUnknownResolver | undefined;
  private readonly queryClient: GateRestClient | undefined;
  private readonly consumer: AsyncRingConsumer;

  constructor(private readonly o: GateExecutionOptions) {
    const venueTimeMs = (): number => this.clock.now();
    this.guard = new GateEntryGuard((msg) => o.log('error', msg));
    // the gateway's Binance transport is built but never used here (no connection is opened until a request)
    this.gateway = new OrderGateway(o.ringB, o.ringC, new BinanceOrderEncoder(o.instruments, o.apiSecret, o.clientIdPrefix, 5000), {
      restUrl: o.restUrl,
      apiKey: o.apiKey,
      requestTimeoutMs: o.requestTimeoutMs,
      now: o.now,
      venueTimeMs,
      hists: o.hists,
      ...(o.journal ? { journal: o.journal } : {}),
      onReject: (symbolId, intentId, code, message, unknown) => o.log('warn', `order ${o.clientIdPrefix}${intentId} ${o.symbols[symbolId]} ${unknown ? 'outcome unknown' : 'rejected'}: ${code} ${message}`),
    });
    if (o.resolveUnknown ?? true) {
      // Off the hot path: order lookups on their own connection, only after an Unknown.
      this.queryClient = new GateRestClient({ baseUrl: o.restUrl, apiKey: o.apiKey, apiSecret: o.apiSecret, clock: venueTimeMs, timeoutMs: Math.max(1000, o.requestTimeoutMs * 4) });
      const reports = this.gateway.reports;
      this.resolver = new GateUnknownResolver({
        query: this.queryClient,
        // follow-ups are written, not counted again as transport outcomes
        sink: reports,
        venueTimeMs,
        now: o.now,
        onEvent: (level, msg) => o.log(level, `gate resolver: ${msg}`),
      });
    }
    this.transport = new GateOrderTransport(this.gateway, {
      restUrl: o.restUrl,
      apiKey: o.apiKey,
      apiSecret: o.apiSecret,
      contracts: o.contracts,
      clientIdPrefix: o.clientIdPrefix,
      requestTimeoutMs: o.requestTimeoutMs,
      now: o.now,
      venueTimeMs,
      clock: this.clock,
      guard: this.guard,
      ...(this.resolver ? { resolver: this.resolver } : {}),
      ...(o.orderExpiryMs !== undefined ? { orderExpiryMs: o.orderExpiryMs } : {}),
      hists: o.hists,
      ...(o.iocPremium !== undefined ? { iocFallback: { premium: o.iocPremium } } : {}),
    });
    this.gateway.setVenueTransport(this.transport);
    this.userStream = new GateUserStream(new SymbolRegistry(o.symbols), this.gateway.gatedWriter(o.ringC), {
      wsUrl: o.wsUrl,
      apiKey: o.apiKey,
      apiSecret: o.apiSecret,
      userId: o.userId,
      clientIdPrefix: o.clientIdPrefix,
      now: o.now,
      onEvent: (level, msg) => o.log(level, `gate private channels: ${msg}`),
    });
    this.consumer = new AsyncRingConsumer(o.ringB.doorbell, this.gateway, 100);
  }

  async start(): Promise<void> {
    this.userStream.start();
    this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
    // answers still in flight get their reports before the transport closes
    const end = Date.now() + this.o.requestTimeoutMs;
    while (this.gateway.inFlightCount() > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    // Unknown outcomes still being resolved get their follow-ups (bounded), then the resolver gives up
    if (this.resolver) await this.resolver.idle(Math.max(0, end + 2 * (this.o.orderExpiryMs ?? 5000) - Date.now()));
    this.resolver?.stop();
    this.userStream.stop();
    await this.gateway.close();
    await this.queryClient?.close().catch(() => undefined);
  }

  counters(): Record<string, number> {
    const g = this.gateway;
    const out: Record<string, number> = { ...g.counters, inFlight: g.inFlightCount(), ...this.transport.counters };
    for (const [code, n] of g.rejectsByCode) out[`reject_${code}`] = n;
    const u = this.userStream.counters;
    Object.assign(out, { userStreamEvents: u.frames, userStreamRecords: u.records, userStreamTrades: u.trades, userStreamDupTrades: u.duplicateTrades, userStreamMalformed: u.malformed });
    if (this.resolver) Object.assign(out, this.resolver.counters);
    const gc = this.guard.counters;
    Object.assign(out, { rateLimited: gc.rateLimited, refusedBackoff: gc.refusedBackoff, refusedHalted: gc.refusedHalted, halts: gc.halts, halted: this.guard.halted ? 1 : 0 });
    Object.assign(out, { clockOffsetMs: this.clock.offsetMs, clockResyncs: this.clock.counters.resyncs });
    return out;
  }
}
