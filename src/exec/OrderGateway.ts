import { Client, type Dispatcher } from 'undici';
import type { Histogram } from 'hdr-histogram-js';
import { ExecType, IN, OrderStatus, RecordType, RejectReason, RP, W, packHeader, REPORT_MSG_MAX } from '../ring/layout.js';
import type { SpscRing } from '../ring/SpscRing.js';
import type { Drainable } from '../ring/WaitStrategy.js';
import { recordNs } from '../metrics/StageHistograms.js';
import { BinanceOrderEncoder } from '../venues/binance/OrderEncoder.js';
import { classifyOrderResponse } from '../venues/binance/orderResponse.js';
import { HttpConnection, type HttpResponseHandler } from '../net/HttpConnection.js';
import { checkOrder, type CheckOutcome, type SymbolFilters } from '../venues/binance/filters.js';
import { Refusal, type RateBudget } from '../venues/binance/RateBudget.js';

/**
 * How orders reach the venue: `undici` (a keep-alive undici Client) or `http` (our HttpConnection: one
 * synchronous socket write per order, no per-request objects; see bench/httpTransport.ts for the proof).
 */
export type OrderTransport = 'undici' | 'http';

export interface GatewayCounters {
  intents: number;
  sent: number;
  responses: number;
  acks: number;
  fills: number;
  rejects: number;
  expired: number;
  unknown: number;
  transportErrors: number;
  reportOverflow: number;
  encodeErrors: number;
  /** refused before sending: exchangeInfo filters */
  filterRejects: number;
  /** refused before sending: local order budget, 429 backoff or a halt */
  budgetRejects: number;
}

export interface GatewayOptions {
  restUrl: string;
  transport?: OrderTransport;
  apiKey: string;
  requestTimeoutMs: number;
  /** ns since the process epoch */
  now: () => number;
  /** wall-clock ms adjusted to the venue's clock */
  venueTimeMs: () => number;
  hists: { hopB?: Histogram; send?: Histogram; tickToOrder?: Histogram; venueRtt?: Histogram };
  /** exchangeInfo filters per symbol id: an order that breaks one is rejected locally with the reason. */
  filters?: readonly SymbolFilters[];
  /** order-rate budget (300/10 s, 1200/min, minus headroom), fed by the venue's headers; 429 backs off, 418 halts */
  budget?: RateBudget;
  /** Called for each reject or unknown outcome (rare; the worker logs them, rate-limited). */
  onReject?: (symbolId: number, intentId: number, code: number, message: string, unknown: boolean) => void;
}

const BODY_BYTES = 1024;
const EMPTY = Buffer.alloc(0);
const UTF8 = new TextEncoder();
const MAX_IN_FLIGHT = 256;
const REFUSAL_TEXT: Record<number, string> = {
  [Refusal.Orders10s]: 'local budget: order count per 10 s',
  [Refusal.Orders1m]: 'local budget: order count per minute',
  [Refusal.Weight1m]: 'local budget: request weight per minute',
  [Refusal.Backoff]: 'backing off after HTTP 429',
};

/**
 * One in-flight request: its body buffer, its state, and the response callbacks of both transports (the
 * undici legacy dispatch handler, which undici uses without wrapper objects, and HttpResponseHandler).
 */
class InFlight implements Dispatcher.DispatchHandler, HttpResponseHandler {
  readonly body = Buffer.allocUnsafe(BODY_BYTES);
  bodyLen = 0;
  symbolId = 0;
  intentId = 0;
  side = 0;
  recvTs = 0;
  readTs = 0;
  sentTs = 0;
  status = 0;
  chunks: Buffer[] = [];
  done = false;

  constructor(private readonly gw: OrderGateway) {}

  onConnect(_abort: (err?: Error) => void): void {}
  onHeaders(statusCode: number, headers: Buffer[] | string[] | null): boolean {
    this.status = statusCode;
    if (headers !== null) this.gw.observeRawHeaders(statusCode, headers);
    return true;
  }
  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }
  /** Fires as soon as the request bytes were written to the socket (just after undici publishes `undici:request:bodySent`). */
  onRequestSent(): void {
    this.sentTs = this.gw.now();
    this.gw.onSent(this);
  }
  onComplete(): void {
    if (this.done) return;
    this.done = true;
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.gw.onResponse(this, body);
  }
  onError(err: Error, written = this.sentTs > 0): void {
    if (this.done) return;
    this.done = true;
    this.gw.onTransportError(this, err, written);
  }
  // HttpConnection
  onWritten(ts: number): void {
    this.sentTs = ts;
    this.gw.onSent(this);
  }
  onResponse(status: number, body: Buffer): void {
    if (this.done) return;
    this.done = true;
    this.status = status;
    this.gw.onResponse(this, body);
  }
}

/**
 * The execution worker's core: drains ring B, encodes and signs each intent, sends it on one warm
 * keep-alive undici connection, and turns each response into ring-C execution reports. A full ring C
 * never loses a report: it waits in an overflow queue (counted) and is flushed first next time.
 */
export class OrderGateway implements Drainable {
  readonly counters: GatewayCounters = { intents: 0, sent: 0, responses: 0, acks: 0, fills: 0, rejects: 0, expired: 0, unknown: 0, transportErrors: 0, reportOverflow: 0, encodeErrors: 0, filterRejects: 0, budgetRejects: 0 };
  private readonly checkOut: CheckOutcome = { reason: RejectReason.None, text: '' };
  readonly now: () => number;
  private readonly client: Client | undefined;
  private readonly conn: HttpConnection | undefined;
  private readonly headerBlock: Buffer;
  private readonly pool: InFlight[] = [];
  private inFlight = 0;
  private readonly overflow: Float64Array[] = [];
  private readonly headers: string[];
  private readonly origin: string;
  /** rejects and unknown outcomes by venue code (0 = local or transport) */
  readonly rejectsByCode = new Map<number, number>();

  constructor(
    private readonly intents: SpscRing,
    private readonly reports: SpscRing,
    private readonly encoder: BinanceOrderEncoder,
    private readonly opts: GatewayOptions,
  ) {
    this.now = opts.now;
    const u = new URL(opts.restUrl);
    this.origin = u.origin;
    this.headers = ['x-mbx-apikey', opts.apiKey, 'content-type', 'application/x-www-form-urlencoded'];
    this.headerBlock = Buffer.from(`x-mbx-apikey: ${opts.apiKey}\r\ncontent-type: application/x-www-form-urlencoded\r\n`, 'latin1');
    if ((opts.transport ?? 'undici') === 'http') {
      this.conn = new HttpConnection(this.origin, { maxInFlight: 1, requestTimeoutMs: opts.requestTimeoutMs, clock: opts.now });
    } else {
      this.client = new Client(this.origin, {
        keepAliveTimeout: 60_000,
        keepAliveMaxTimeout: 600_000,
        pipelining: 1,
        headersTimeout: opts.requestTimeoutMs,
        bodyTimeout: opts.requestTimeoutMs,
        connect: { noDelay: true },
      });
    }
    for (let i = 0; i < MAX_IN_FLIGHT; i++) this.pool.push(new InFlight(this));
  }

  /** Opens the connection ahead of the first order (and keeps it warm when called periodically). */
  async warm(): Promise<number> {
    let text: string;
    if (this.conn) {
      const conn = this.conn;
      text = await new Promise<string>((resolve, reject) => {
        conn.request('GET', '/fapi/v1/time', EMPTY, null, {
          onWritten: () => undefined,
          onResponse: (status, body) => (status === 200 ? resolve(body.toString('utf8')) : reject(new Error(`GET /fapi/v1/time: HTTP ${status}`))),
          onError: (err) => reject(err),
        });
      });
    } else {
      const { body } = await this.client!.request({ path: '/fapi/v1/time', method: 'GET' });
      text = await body.text();
    }
    const j = JSON.parse(text) as { serverTime?: number };
    return j.serverTime ?? 0;
  }

  private readonly warmIntent = new Float64Array(16);
  private readonly warmBody = Buffer.allocUnsafe(BODY_BYTES);

  /**
   * Runs the encoder and signer on a dummy intent (nothing is sent). Called every millisecond or so, it
   * keeps that code and its data hot in the caches of a thread that otherwise wakes only for real orders:
   * on this VM a cold encode+sign costs ~60 µs against ~4 µs warm.
   */
  keepWarm(): void {
    const f = this.warmIntent;
    f[IN.INTENT_ID] = 0;
    f[IN.SIDE] = 1;
    f[IN.ORDER_TYPE] = 1;
    f[IN.QTY_STEPS] = 1;
    this.encoder.encode(f, 0, 0, this.opts.venueTimeMs(), this.warmBody);
  }

  hasWork(): boolean {
    return this.intents.hasData() || this.overflow.length > 0;
  }

  drain(): number {
    if (this.overflow.length > 0) this.flushOverflow();
    const ring = this.intents;
    const n = ring.poll(64);
    if (n === 0) return 0;
    const readTs = this.now();
    const f64 = ring.f64;
    const i32 = ring.i32;
    for (let i = 0; i < n; i++) {
      const base = ring.readBase(i);
      const type = i32[base * 2]! & 0xff;
      this.counters.intents++;
      if (this.opts.hists.hopB) recordNs(this.opts.hists.hopB, readTs - f64[base + W.PUB_TS]!);
      if (type === RecordType.OrderNew) this.sendNew(f64, i32[base * 2 + 1]!, base, readTs);
      else this.rejectLocal(i32[base * 2 + 1]!, f64[base + IN.INTENT_ID]!, f64[base + IN.SIDE]!, f64[base + W.RECV_TS]!, RejectReason.Unknown, 0, 'unsupported intent type');
    }
    ring.release(n);
    return n;
  }

  private sendNew(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    const intentId = f64[base + IN.INTENT_ID]!;
    const side = f64[base + IN.SIDE]!;
    const recvTs = f64[base + W.RECV_TS]!;
    if (!this.preSendCheck(f64, symbolId, base, intentId, side, recvTs)) return;
    const h = this.pool.pop();
    if (!h) {
      this.rejectLocal(symbolId, intentId, side, recvTs, RejectReason.Transport, 0, `more than ${MAX_IN_FLIGHT} orders in flight`);
      return;
    }
    try {
      h.bodyLen = this.encoder.encode(f64, symbolId, base, this.opts.venueTimeMs(), h.body);
    } catch (e) {
      this.pool.push(h);
      this.counters.encodeErrors++;
      this.rejectLocal(symbolId, intentId, side, recvTs, RejectReason.Unknown, 0, `encode: ${(e as Error).message}`);
      return;
    }
    h.symbolId = symbolId;
    h.intentId = intentId;
    h.side = side;
    h.recvTs = recvTs;
    h.readTs = readTs;
    h.sentTs = 0;
    h.status = 0;
    h.chunks.length = 0;
    h.done = false;
    this.inFlight++;
    const body = h.body.subarray(0, h.bodyLen);
    if (this.conn) this.conn.request('POST', '/fapi/v1/order', this.headerBlock, body, h);
    else this.client!.dispatch({ origin: this.origin, path: '/fapi/v1/order', method: 'POST', headers: this.headers, body }, h);
  }

  /**
   * Checks that need no I/O, in the order a venue would apply them: exchangeInfo filters (exact integer
   * ticks and steps), then the order-rate budget. A refusal is a local reject with its reason.
   */
  private preSendCheck(f64: Float64Array, symbolId: number, base: number, intentId: number, side: number, recvTs: number): boolean {
    const filters = this.opts.filters?.[symbolId];
    if (filters !== undefined) {
      const r = checkOrder(filters, side, f64[base + IN.ORDER_TYPE]!, f64[base + IN.PRICE_TICKS]!, f64[base + IN.QTY_STEPS]!, undefined, (f64[base + IN.FLAGS]! & 1) !== 0, this.checkOut);
      if (r !== RejectReason.None) {
        this.counters.filterRejects++;
        this.rejectLocal(symbolId, intentId, side, recvTs, r, 0, this.checkOut.text);
        return false;
      }
    }
    const budget = this.opts.budget;
    if (budget !== undefined && !budget.tryAcquireOrder(this.opts.venueTimeMs())) {
      this.counters.budgetRejects++;
      const halted = budget.lastRefusal === Refusal.Halted;
      this.rejectLocal(symbolId, intentId, side, recvTs, halted ? RejectReason.Halted : RejectReason.RateLimited, 0, halted ? `order entry halted: ${budget.haltReason}` : REFUSAL_TEXT[budget.lastRefusal] ?? 'rate budget');
      return false;
    }
    return true;
  }

  /**
   * @internal Venue counters from a response's raw headers (undici hands them as name/value pairs): the
   * venue's view of the order and weight windows wins when it is higher; 429 backs off, 418 halts.
   */
  observeRawHeaders(status: number, headers: Buffer[] | string[]): void {
    const budget = this.opts.budget;
    if (budget === undefined) return;
    let w = NaN;
    let o10 = NaN;
    let o1m = NaN;
    let retry = -1;
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i]!;
      const len = name.length;
      // cheap length filter before comparing: x-mbx-used-weight-1m (20), x-mbx-order-count-10s/-1m (22/21), retry-after (11)
      if (len !== 20 && len !== 21 && len !== 22 && len !== 11) continue;
      const n = name.toString().toLowerCase();
      const v = Number(headers[i + 1]!.toString());
      if (n === 'x-mbx-used-weight-1m') w = v;
      else if (n === 'x-mbx-order-count-10s') o10 = v;
      else if (n === 'x-mbx-order-count-1m') o1m = v;
      else if (n === 'retry-after') retry = v;
    }
    const now = this.opts.venueTimeMs();
    budget.observeHeaders(now, w, o10, o1m);
    if (status === 429) budget.onRateLimited(now, retry);
    else if (status === 418) budget.onBanned(now, retry, '');
  }

  /** @internal called by InFlight */
  onSent(h: InFlight): void {
    this.counters.sent++;
    const hs = this.opts.hists;
    if (hs.send) recordNs(hs.send, h.sentTs - h.readTs);
    if (hs.tickToOrder) recordNs(hs.tickToOrder, h.sentTs - h.recvTs);
  }

  /** @internal called by InFlight */
  onResponse(h: InFlight, body: Buffer): void {
    const ackTs = this.now();
    this.counters.responses++;
    if (this.opts.hists.venueRtt && h.sentTs > 0) recordNs(this.opts.hists.venueRtt, ackTs - h.sentTs);
    if (this.conn !== undefined && (h.status === 429 || h.status === 418) && this.opts.budget !== undefined) {
      // HttpConnection does not surface headers: react to the status alone (back off to the window's end).
      if (h.status === 429) this.opts.budget.onRateLimited(this.opts.venueTimeMs(), -1);
      else this.opts.budget.onBanned(this.opts.venueTimeMs(), -1, body.toString('utf8', 0, Math.min(body.length, 200)));
    }
    const c = classifyOrderResponse(h.status, body);
    if (c.execType === ExecType.Fill) this.counters.fills++;
    else if (c.execType === ExecType.Ack) this.counters.acks++;
    else if (c.execType === ExecType.Expired) this.counters.expired++;
    else if (c.status === OrderStatus.Unknown) this.counters.unknown++;
    else this.counters.rejects++;
    this.writeReport(h.symbolId, h.intentId, h.side, h.recvTs, h.sentTs, ackTs, c.status, c.execType, c.lastQty, c.lastPrice, c.cumQty, c.avgPrice, c.orderId, c.code, c.venueTime, c.reason, c.message);
    this.release(h);
  }

  /** @internal called by InFlight */
  onTransportError(h: InFlight, err: Error, written: boolean): void {
    this.counters.transportErrors++;
    if (written) {
      // The venue may or may not have the order: report Unknown (resolved later by client order id), never resend blindly.
      this.counters.unknown++;
      this.writeReport(h.symbolId, h.intentId, h.side, h.recvTs, h.sentTs, this.now(), OrderStatus.Unknown, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, RejectReason.Transport, `transport: ${err.message}`);
    } else {
      // Never left this process: a definite reject.
      this.counters.rejects++;
      this.writeReport(h.symbolId, h.intentId, h.side, h.recvTs, 0, this.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, RejectReason.Transport, `not sent: ${err.message}`);
    }
    this.release(h);
  }

  private release(h: InFlight): void {
    h.chunks.length = 0;
    this.inFlight--;
    this.pool.push(h);
  }

  private rejectLocal(symbolId: number, intentId: number, side: number, recvTs: number, reason: RejectReason, code: number, msg: string): void {
    this.counters.rejects++;
    this.writeReport(symbolId, intentId, side, recvTs, 0, this.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, code, 0, reason, msg);
  }

  private writeReport(
    symbolId: number, intentId: number, side: number, recvTs: number, sentTs: number, ackTs: number,
    status: OrderStatus, execType: ExecType, lastQty: number, lastPrice: number, cumQty: number, avgPrice: number,
    orderId: number, code: number, venueTime: number, reason: RejectReason, message: string,
  ): void {
    const ring = this.reports;
    const scratch = this.overflow.length > 0 ? -1 : ring.claim();
    let f64: Float64Array;
    let u8: Uint8Array;
    let base: number;
    let i32: Int32Array;
    let spill: Float64Array | undefined;
    if (scratch >= 0) {
      f64 = ring.f64;
      i32 = ring.i32;
      u8 = ring.u8;
      base = scratch;
    } else {
      // Ring C full (or older reports still waiting): keep this one, in order, for the next flush.
      this.counters.reportOverflow++;
      spill = new Float64Array(ring.slotWords);
      f64 = spill;
      i32 = new Int32Array(spill.buffer);
      u8 = new Uint8Array(spill.buffer);
      base = 0;
    }
    i32[base * 2] = packHeader(RecordType.ExecReport, 0, 0);
    i32[base * 2 + 1] = symbolId;
    f64[base + W.RECV_TS] = recvTs;
    f64[base + RP.INTENT_ID] = intentId;
    f64[base + RP.STATUS] = status;
    f64[base + RP.EXEC_TYPE] = execType;
    f64[base + RP.SIDE] = side;
    f64[base + RP.LAST_QTY] = lastQty;
    f64[base + RP.LAST_PRICE] = lastPrice;
    f64[base + RP.CUM_QTY] = cumQty;
    f64[base + RP.AVG_PRICE] = avgPrice;
    f64[base + RP.FEE] = 0;
    f64[base + RP.ORDER_ID] = orderId;
    f64[base + RP.ERROR_CODE] = code;
    f64[base + RP.SENT_TS] = sentTs;
    f64[base + RP.ACK_TS] = ackTs;
    f64[base + RP.VENUE_TIME] = venueTime;
    f64[base + RP.IS_MAKER] = 0;
    f64[base + RP.REASON] = reason;
    let len = 0;
    if (message.length > 0) {
      const r = UTF8.encodeInto(message, u8.subarray((base + RP.MSG) * 8, (base + RP.MSG) * 8 + REPORT_MSG_MAX));
      len = r.written;
    }
    f64[base + RP.MSG_LEN] = len;
    f64[base + W.PUB_TS] = this.now();
    if (spill) this.overflow.push(spill);
    else ring.commit();
    if (execType === ExecType.Reject || status === OrderStatus.Unknown) {
      this.rejectsByCode.set(code, (this.rejectsByCode.get(code) ?? 0) + 1);
      this.opts.onReject?.(symbolId, intentId, code, message, status === OrderStatus.Unknown);
    }
  }

  private flushOverflow(): void {
    const ring = this.reports;
    while (this.overflow.length > 0) {
      const base = ring.claim();
      if (base < 0) break;
      const rec = this.overflow.shift()!;
      ring.f64.set(rec, base);
      ring.commit();
    }
  }

  inFlightCount(): number {
    return this.inFlight;
  }

  async close(): Promise<void> {
    if (this.conn) await this.conn.close().catch(() => undefined);
    if (this.client) await this.client.close().catch(() => undefined);
  }
}
