import { Client, type Dispatcher } from 'undici';
import type { Histogram } from 'hdr-histogram-js';
import { ExecType, IN, OrderStatus, RejectReason, W } from '../ring/layout.js';
import { recordNs } from '../metrics/StageHistograms.js';
import type { BinanceOrderEncoder } from '../venues/binance/OrderEncoder.js';
import { classifyAlgoResponse, classifyOrderResponse } from '../venues/binance/orderResponse.js';
import { HttpConnection, type HttpHeaderView, type HttpResponseHandler } from '../net/HttpConnection.js';
import type { RateBudget } from '../venues/binance/RateBudget.js';
import type { ExecReportSink, OrderTransport } from './OrderTransport.js';

/**
 * How REST orders reach the venue: `undici` (a keep-alive undici Client) or `http` (our HttpConnection: one
 * synchronous socket write per order, no per-request objects; see bench/httpTransport.ts for the proof).
 */
export type RestTransportKind = 'undici' | 'http';

export interface RestOrderTransportOptions {
  restUrl: string;
  kind?: RestTransportKind;
  apiKey: string;
  requestTimeoutMs: number;
  /** ns since the process epoch */
  now: () => number;
  /** wall-clock ms adjusted to the venue's clock */
  venueTimeMs: () => number;
  hists: { send?: Histogram; tickToOrder?: Histogram; venueRtt?: Histogram };
  /** fed with the venue's rate headers; 429 backs off, 418 halts */
  budget?: RateBudget;
}

export interface RestTransportCounters {
  sent: number;
  responses: number;
  transportErrors: number;
  encodeErrors: number;
  /** refused: every pooled request slot was in flight */
  tooManyInFlight: number;
}

const BODY_BYTES = 1024;
const EMPTY = Buffer.alloc(0);
const MAX_IN_FLIGHT = 256;
const ORDER_PATH = '/fapi/v1/order';
const ALGO_PATH = '/fapi/v1/algoOrder';
const KIND_PLACE = 1;
const KIND_CANCEL = 2;
const KIND_ALGO_PLACE = 3;
const KIND_ALGO_CANCEL = 4;
const KIND_AMEND = 5;

/**
 * One in-flight request: its body buffer, its state, and the response callbacks of both transports (the
 * undici legacy dispatch handler, which undici uses without wrapper objects, and HttpResponseHandler).
 */
class InFlight implements Dispatcher.DispatchHandler, HttpResponseHandler {
  readonly body = Buffer.allocUnsafe(BODY_BYTES);
  bodyLen = 0;
  kind = KIND_PLACE;
  symbolId = 0;
  intentId = 0;
  /** cancel: the intent whose order is cancelled */
  targetId = 0;
  side = 0;
  recvTs = 0;
  readTs = 0;
  sentTs = 0;
  status = 0;
  chunks: Buffer[] = [];
  done = false;

  constructor(private readonly t: RestOrderTransport) {}

  onConnect(_abort: (err?: Error) => void): void {}
  onHeaders(statusCode: number, headers: Buffer[] | string[] | null): boolean {
    this.status = statusCode;
    if (headers !== null) this.t.observeRawHeaders(statusCode, headers);
    return true;
  }
  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }
  /** Fires as soon as the request bytes were written to the socket (just after undici publishes `undici:request:bodySent`). */
  onRequestSent(): void {
    this.sentTs = this.t.now();
    this.t.onSent(this);
  }
  onComplete(): void {
    if (this.done) return;
    this.done = true;
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.t.onResponse(this, body);
  }
  onError(err: Error, written = this.sentTs > 0): void {
    if (this.done) return;
    this.done = true;
    this.t.onTransportError(this, err, written);
  }
  // HttpConnection
  onWritten(ts: number): void {
    this.sentTs = ts;
    this.t.onSent(this);
  }
  onResponse(status: number, body: Buffer, headers: HttpHeaderView): void {
    if (this.done) return;
    this.done = true;
    this.status = status;
    this.t.onResponse(this, body);
    // After the report (venueRtt is taken first); before this callback returns, so before the next intent.
    this.t.observeHeaderView(status, headers, body);
  }
}

/**
 * The REST order path as an OrderTransport: `POST /fapi/v1/order` (RESULT responses) and
 * `DELETE /fapi/v1/order` by origClientOrderId, encoded and signed into pooled buffers and sent on one warm
 * keep-alive connection. Every outcome becomes one ExecReport through the sink; a request whose bytes
 * were written but whose answer is lost is reported Unknown (never resent).
 */
export class RestOrderTransport implements OrderTransport {
  readonly name = 'rest';
  readonly counters: RestTransportCounters = { sent: 0, responses: 0, transportErrors: 0, encodeErrors: 0, tooManyInFlight: 0 };
  readonly now: () => number;
  private readonly client: Client | undefined;
  private readonly conn: HttpConnection | undefined;
  private readonly headerBlock: Buffer;
  private readonly headers: string[];
  private readonly origin: string;
  private readonly pool: InFlight[] = [];
  private inFlight = 0;
  private readonly warmIntent = new Float64Array(16);
  private readonly warmBody = Buffer.allocUnsafe(BODY_BYTES);

  constructor(
    private readonly encoder: BinanceOrderEncoder,
    private readonly sink: ExecReportSink,
    private readonly opts: RestOrderTransportOptions,
  ) {
    this.now = opts.now;
    this.origin = new URL(opts.restUrl).origin;
    this.headers = ['x-mbx-apikey', opts.apiKey, 'content-type', 'application/x-www-form-urlencoded'];
    this.headerBlock = Buffer.from(`x-mbx-apikey: ${opts.apiKey}\r\ncontent-type: application/x-www-form-urlencoded\r\n`, 'latin1');
    if ((opts.kind ?? 'undici') === 'http') {
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

  /** The connection opens on demand: an order can always be handed over. */
  isReady(): boolean {
    return this.pool.length > 0;
  }

  inFlightCount(): number {
    return this.inFlight;
  }

  /** Opens the connection ahead of the first order (and keeps it warm when called periodically); the venue's time. */
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

  place(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    const h = this.acquire(symbolId, f64[base + IN.INTENT_ID]!, f64[base + IN.SIDE]!, f64[base + W.RECV_TS]!, readTs);
    if (h === undefined) return;
    try {
      h.bodyLen = this.encoder.encode(f64, symbolId, base, this.opts.venueTimeMs(), h.body);
    } catch (e) {
      this.encodeFailed(h, e as Error);
      return;
    }
    h.kind = KIND_PLACE;
    this.dispatch(h, 'POST');
  }

  cancel(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    this.cancelVia(f64, symbolId, base, readTs, KIND_CANCEL);
  }

  /** A conditional order (stop, take-profit, trailing): `POST /fapi/v1/algoOrder`. */
  placeAlgo(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    const h = this.acquire(symbolId, f64[base + IN.INTENT_ID]!, f64[base + IN.SIDE]!, f64[base + W.RECV_TS]!, readTs);
    if (h === undefined) return;
    try {
      h.bodyLen = this.encoder.encodeAlgo(f64, symbolId, base, this.opts.venueTimeMs(), h.body);
    } catch (e) {
      this.encodeFailed(h, e as Error);
      return;
    }
    h.kind = KIND_ALGO_PLACE;
    this.dispatch(h, 'POST', ALGO_PATH);
  }

  /** Cancels the conditional order of intent IN.TARGET_ID: `DELETE /fapi/v1/algoOrder` by clientAlgoId. */
  cancelAlgo(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    this.cancelVia(f64, symbolId, base, readTs, KIND_ALGO_CANCEL);
  }

  /** A ring-B OrderAmend: `PUT /fapi/v1/order` with the target's new price and quantity. */
  amend(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    const h = this.acquire(symbolId, f64[base + IN.INTENT_ID]!, f64[base + IN.SIDE]!, f64[base + W.RECV_TS]!, readTs);
    if (h === undefined) return;
    try {
      h.bodyLen = this.encoder.encodeAmend(f64, symbolId, base, this.opts.venueTimeMs(), h.body);
    } catch (e) {
      this.encodeFailed(h, e as Error);
      return;
    }
    h.kind = KIND_AMEND;
    h.targetId = f64[base + IN.TARGET_ID]!;
    this.dispatch(h, 'PUT');
  }

  private cancelVia(f64: Float64Array, symbolId: number, base: number, readTs: number, kind: number): void {
    const h = this.acquire(symbolId, f64[base + IN.INTENT_ID]!, f64[base + IN.SIDE]!, f64[base + W.RECV_TS]!, readTs);
    if (h === undefined) return;
    const target = f64[base + IN.TARGET_ID]!;
    try {
      const ts = this.opts.venueTimeMs();
      h.bodyLen = kind === KIND_ALGO_CANCEL ? this.encoder.encodeAlgoCancel(symbolId, target, ts, h.body) : this.encoder.encodeCancel(symbolId, target, ts, h.body);
    } catch (e) {
      this.encodeFailed(h, e as Error);
      return;
    }
    h.kind = kind;
    h.targetId = target;
    this.dispatch(h, 'DELETE', kind === KIND_ALGO_CANCEL ? ALGO_PATH : ORDER_PATH);
  }

  private acquire(symbolId: number, intentId: number, side: number, recvTs: number, readTs: number): InFlight | undefined {
    const h = this.pool.pop();
    if (!h) {
      this.counters.tooManyInFlight++;
      this.sink.execReport(symbolId, intentId, side, recvTs, 0, this.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, RejectReason.Transport, `not sent: more than ${MAX_IN_FLIGHT} orders in flight`);
      return undefined;
    }
    h.symbolId = symbolId;
    h.intentId = intentId;
    h.targetId = 0;
    h.side = side;
    h.recvTs = recvTs;
    h.readTs = readTs;
    h.sentTs = 0;
    h.status = 0;
    h.chunks.length = 0;
    h.done = false;
    return h;
  }

  private encodeFailed(h: InFlight, e: Error): void {
    this.pool.push(h);
    this.counters.encodeErrors++;
    this.sink.execReport(h.symbolId, h.intentId, h.side, h.recvTs, 0, this.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, RejectReason.Unknown, `encode: ${e.message}`);
  }

  private dispatch(h: InFlight, method: 'POST' | 'DELETE' | 'PUT', path = ORDER_PATH): void {
    this.inFlight++;
    const body = h.body.subarray(0, h.bodyLen);
    if (this.conn) this.conn.request(method, path, this.headerBlock, body, h);
    else this.client!.dispatch({ origin: this.origin, path, method, headers: this.headers, body }, h);
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

  /**
   * @internal The same for HttpConnection's header view: the venue's counters, and on 429 a backoff until
   * Retry-After (the end of the minute window without it), on 418 a halt until Retry-After (or the time
   * the message names).
   */
  observeHeaderView(status: number, headers: HttpHeaderView, body: Buffer): void {
    const budget = this.opts.budget;
    if (budget === undefined) return;
    const n = (name: string): number => {
      const v = headers.get(name);
      if (v === undefined || v === '') return Number.NaN;
      const x = Number(v);
      return Number.isFinite(x) && x >= 0 ? x : Number.NaN;
    };
    const now = this.opts.venueTimeMs();
    budget.observeHeaders(now, n('x-mbx-used-weight-1m'), n('x-mbx-order-count-10s'), n('x-mbx-order-count-1m'));
    if (status !== 429 && status !== 418) return;
    const retry = n('retry-after');
    if (status === 429) budget.onRateLimited(now, retry >= 0 ? retry : -1);
    else budget.onBanned(now, retry >= 0 ? retry : -1, body.toString('utf8', 0, Math.min(body.length, 300)));
  }

  /** @internal called by InFlight */
  onSent(h: InFlight): void {
    this.counters.sent++;
    const hs = this.opts.hists;
    if (hs.send) recordNs(hs.send, h.sentTs - h.readTs);
    if (hs.tickToOrder && h.recvTs > 0) recordNs(hs.tickToOrder, h.sentTs - h.recvTs);
  }

  /** @internal called by InFlight */
  onResponse(h: InFlight, body: Buffer): void {
    const ackTs = this.now();
    this.counters.responses++;
    if (this.opts.hists.venueRtt && h.sentTs > 0) recordNs(this.opts.hists.venueRtt, ackTs - h.sentTs);
    const c = h.kind === KIND_ALGO_PLACE || h.kind === KIND_ALGO_CANCEL ? classifyAlgoResponse(h.status, body) : classifyOrderResponse(h.status, body);
    if (h.kind === KIND_AMEND && c.execType !== ExecType.Reject && c.status !== OrderStatus.Unknown) {
      // The amended order's state, under its own intent (Ack: resting at the new price and size; Canceled
      // when the amend cancelled it). Fills are reported by the order's own reports, not by the amend.
      const x = c.status === OrderStatus.Canceled ? ExecType.Canceled : c.status === OrderStatus.Expired ? ExecType.Expired : ExecType.Ack;
      this.sink.execReport(h.symbolId, h.targetId, h.side, h.recvTs, h.sentTs, ackTs, c.status, x, 0, 0, c.cumQty, c.avgPrice, c.orderId, 0, c.venueTime, RejectReason.None, 'amended');
    } else if ((h.kind === KIND_CANCEL || h.kind === KIND_ALGO_CANCEL) && c.execType !== ExecType.Reject && c.status !== OrderStatus.Unknown) {
      // The cancelled order's state, under its own intent; nothing new was filled by the cancel itself.
      const x = c.status === OrderStatus.Canceled ? ExecType.Canceled : c.status === OrderStatus.Expired ? ExecType.Expired : ExecType.Ack;
      this.sink.execReport(h.symbolId, h.targetId, h.side, h.recvTs, h.sentTs, ackTs, c.status, x, 0, 0, c.cumQty, c.avgPrice, c.orderId, 0, c.venueTime, RejectReason.None, '');
    } else {
      // a place outcome, or a refused / unknown cancel (reported under the cancel intent)
      this.sink.execReport(h.symbolId, h.intentId, h.side, h.recvTs, h.sentTs, ackTs, c.status, c.execType, c.lastQty, c.lastPrice, c.cumQty, c.avgPrice, c.orderId, c.code, c.venueTime, c.reason, c.message);
    }
    this.release(h);
  }

  /** @internal called by InFlight */
  onTransportError(h: InFlight, err: Error, written: boolean): void {
    this.counters.transportErrors++;
    if (written) {
      // The venue may or may not have it: Unknown (resolved later by client order id), never resent blindly.
      this.sink.execReport(h.symbolId, h.intentId, h.side, h.recvTs, h.sentTs, this.now(), OrderStatus.Unknown, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, RejectReason.Transport, `transport: ${err.message}`);
    } else {
      // Never left this process: a definite reject.
      this.sink.execReport(h.symbolId, h.intentId, h.side, h.recvTs, 0, this.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, RejectReason.Transport, `not sent: ${err.message}`);
    }
    this.release(h);
  }

  private release(h: InFlight): void {
    h.chunks.length = 0;
    this.inFlight--;
    this.pool.push(h);
  }

  async close(): Promise<void> {
    if (this.conn) await this.conn.close().catch(() => undefined);
    if (this.client) await this.client.close().catch(() => undefined);
  }
}
