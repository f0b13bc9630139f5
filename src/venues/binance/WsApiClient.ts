import type { Histogram } from 'hdr-histogram-js';
import { ByteScanner, Ch, ascii, bytesEqual } from '../../core/ByteScanner.js';
import { writeScaled, type Instrument } from '../../core/Instrument.js';
import type { ExecReportSink, OrderTransport } from '../../exec/OrderTransport.js';
import { recordNs } from '../../metrics/StageHistograms.js';
import { WsClient, type WsClientOptions, type WsHandler } from '../../net/WsClient.js';
import { ExecType, IN, IntentFlag, OrderStatus, OrderType, RejectReason, Side, TimeInForce, W } from '../../ring/layout.js';
import { signInto } from './sign.js';
import { classifyOrderError } from './orderResponse.js';

/**
 * Binance USD-M WebSocket API order entry (`/ws-fapi/v1`, protocols.md §1.9) as an OrderTransport: one
 * persistent connection, `order.place` / `order.cancel` requests signed one by one (HMAC keys cannot use
 * session.logon), responses decoded from bytes into the same ExecReports the REST path writes.
 *
 * Per order: the request JSON and its signing payload are written into reused buffers (no JSON.stringify,
 * no param objects); what still allocates is node:crypto's Hmac (~2 µs, unavoidable in Node) and the
 * frame buffer WsClient.sendText hands to the socket (which may hold it after write() returns).
 *
 * Request ids index a preallocated table (`id mod capacity` = slot, the rest a per-slot round counter), so
 * matching a response is an array read. A request without a response within `requestTimeoutMs` is reported
 * Unknown (RejectReason.Timeout) and its slot kept for `lateGraceMs`: a late response then reports the real
 * outcome. A dropped connection reports every request in flight Unknown (RejectReason.Transport); the
 * client reconnects with backoff. Unknown means: resolve by client order id, never resend blindly.
 */

export interface WsApiClientOptions {
  /** `wss://ws-fapi.binance.com/ws-fapi/v1` (or the simulator's). */
  url: string;
  apiKey: string;
  apiSecret: string;
  /** By symbol id, as for OrderEncoder. */
  instruments: readonly Instrument[];
  /** Client order ids are `<prefix><intentId>`, as on the REST path. */
  clientIdPrefix: string;
  recvWindow: number;
  sink: ExecReportSink;
  /** ns since the process epoch */
  now: () => number;
  /** wall-clock ms adjusted to the venue's clock */
  venueTimeMs: () => number;
  requestTimeoutMs: number;
  /** A timed-out request's slot waits this long for a late response. Default 60_000. */
  lateGraceMs?: number;
  /** Requests in flight at most (power of two). Default 256. */
  maxInFlight?: number;
  hists?: { send?: Histogram; tickToOrder?: Histogram; venueRtt?: Histogram };
  /** Order-count and weight usage from each response's `rateLimits` (-1 when a counter is absent). */
  onRateLimits?: (weight1m: number, orders10s: number, orders1m: number) => void;
  /** An answer with HTTP-like status 429 (rate limited) or 418 (IP banned): the caller's budget backs off / halts. */
  onThrottle?: (status: number, message: string) => void;
  /** Pushes without a request id (e.g. `{"id":null,"status":401,"error":{"code":-2015}}`: key revoked). */
  onUnsolicited?: (status: number, code: number, message: string) => void;
  onConnect?: () => void;
  onDisconnect?: (code: number, reason: string) => void;
  ws?: WsClientOptions;
}

export interface WsApiCounters {
  sent: number;
  responses: number;
  acks: number;
  fills: number;
  canceled: number;
  expired: number;
  rejects: number;
  unknown: number;
  timeouts: number;
  lateResponses: number;
  /** requests reported Unknown because the connection dropped */
  lostInFlight: number;
  notConnected: number;
  tableFull: number;
  encodeErrors: number;
  malformedResponses: number;
  unmatchedResponses: number;
  unsolicited: number;
}

// ---------------------------------------------------------------------------------------------- encoder

const K_API_KEY = ascii('apiKey');
const K_CLID = ascii('newClientOrderId');
const K_ORIG_CLID = ascii('origClientOrderId');
const K_RESP_TYPE = ascii('newOrderRespType');
const K_PRICE = ascii('price');
const K_QTY = ascii('quantity');
const K_RECV = ascii('recvWindow');
const K_REDUCE = ascii('reduceOnly');
const K_SIDE = ascii('side');
const K_SYMBOL = ascii('symbol');
const K_TIF = ascii('timeInForce');
const K_TS = ascii('timestamp');
const K_TYPE = ascii('type');
const V_RESULT = ascii('RESULT');
const V_TRUE = ascii('true');
const V_BUY = ascii('BUY');
const V_SELL = ascii('SELL');
const V_TYPE: Record<number, Uint8Array> = { [OrderType.Market]: ascii('MARKET'), [OrderType.Limit]: ascii('LIMIT') };
const V_TIF: Record<number, Uint8Array> = {
  [TimeInForce.Gtc]: ascii('GTC'),
  [TimeInForce.Ioc]: ascii('IOC'),
  [TimeInForce.Fok]: ascii('FOK'),
  [TimeInForce.Gtx]: ascii('GTX'),
};
const J_ID = ascii('{"id":');
const J_PLACE = ascii(',"method":"order.place","params":{');
const J_CANCEL = ascii(',"method":"order.cancel","params":{');
const J_SIG = ascii('"signature":"');
const J_END = ascii('"}}');

function put(out: Uint8Array, pos: number, b: Uint8Array): number {
  out.set(b, pos);
  return pos + b.length;
}

/**
 * Writes signed `order.place` / `order.cancel` requests into a caller's buffer. The params go in key order,
 * so the signing payload (params sorted by key, `k=v&...`, protocols.md §1.9) is written alongside in one
 * pass; the JSON then copies each value from it, quoted unless the param is an integer (timestamp,
 * recvWindow). Values never need JSON escapes: symbols, decimals and ids match `[.A-Z:/a-z0-9_-]`.
 */
export class WsApiRequestEncoder {
  private readonly symbols: Uint8Array[];
  private readonly secret: Buffer;
  private readonly apiKey: Uint8Array;
  private readonly prefix: Uint8Array;
  /** signing payload */
  private readonly pl = new Uint8Array(1024);
  private p = 0;
  /** per param: key start, value start, value end, numeric (1/0) */
  private readonly seg = new Int32Array(64);
  private nSeg = 0;

  constructor(
    private readonly instruments: readonly Instrument[],
    apiKey: string,
    apiSecret: string,
    clientIdPrefix: string,
    private readonly recvWindow: number,
  ) {
    if (!/^[.A-Z:/a-z0-9_-]{1,20}$/.test(clientIdPrefix)) throw new Error(`client id prefix must match [.A-Z:/a-z0-9_-]{1,20}: ${clientIdPrefix}`);
    if (!/^[\x21-\x7e]+$/.test(apiKey) || apiKey.includes('"') || apiKey.includes('\\') || apiKey.includes('&')) throw new Error('apiKey must be printable ASCII without quotes, backslashes or &');
    this.symbols = instruments.map((i) => ascii(i.symbol));
    this.secret = Buffer.from(apiSecret, 'utf8');
    this.apiKey = ascii(apiKey);
    this.prefix = ascii(clientIdPrefix);
  }

  /** pl[0..p) as a view, cached per length (requests of one shape have one length most of the time). */
  private view: Uint8Array = new Uint8Array(0);
  private payloadView(): Uint8Array {
    if (this.view.length !== this.p) this.view = this.pl.subarray(0, this.p);
    return this.view;
  }

  private begin(key: Uint8Array, numeric: boolean): void {
    let p = this.p;
    if (this.nSeg > 0) this.pl[p++] = 38; // &
    const s = this.nSeg * 4;
    this.seg[s] = p;
    p = put(this.pl, p, key);
    this.pl[p++] = 61; // =
    this.seg[s + 1] = p;
    this.seg[s + 3] = numeric ? 1 : 0;
    this.p = p;
  }

  private end(): void {
    this.seg[this.nSeg * 4 + 2] = this.p;
    this.nSeg++;
  }

  private param(key: Uint8Array, value: Uint8Array): void {
    this.begin(key, false);
    this.p = put(this.pl, this.p, value);
    this.end();
  }

  private intParam(key: Uint8Array, v: number): void {
    this.begin(key, true);
    this.p = writeScaled(this.pl, this.p, v, 1, 0);
    this.end();
  }

  private clid(key: Uint8Array, intentId: number): void {
    this.begin(key, false);
    this.p = put(this.pl, this.p, this.prefix);
    this.p = writeScaled(this.pl, this.p, intentId, 1, 0);
    this.end();
  }

  /** JSON request from the params written so far, signed; returns its length in `out`. */
  private finish(id: number, method: Uint8Array, out: Uint8Array): number {
    const pl = this.pl;
    const seg = this.seg;
    let j = put(out, 0, J_ID);
    j = writeScaled(out, j, id, 1, 0);
    j = put(out, j, method);
    for (let k = 0; k < this.nSeg; k++) {
      const s = k * 4;
      const ks = seg[s]!;
      const vs = seg[s + 1]!;
      const ve = seg[s + 2]!;
      const num = seg[s + 3] === 1;
      // byte loops, not out.set(pl.subarray(...)): a subarray is an object per param
      out[j++] = Ch.Quote;
      for (let k = ks; k < vs - 1; k++) out[j++] = pl[k]!;
      out[j++] = Ch.Quote;
      out[j++] = Ch.Colon;
      if (!num) out[j++] = Ch.Quote;
      for (let k = vs; k < ve; k++) out[j++] = pl[k]!;
      if (!num) out[j++] = Ch.Quote;
      out[j++] = Ch.Comma;
    }
    j = put(out, j, J_SIG);
    j = signInto(this.secret, this.payloadView(), out, j);
    return put(out, j, J_END);
  }

  /**
   * `order.place` for the ring-B OrderNew at f64[base..] (MARKET and LIMIT; RESULT responses). Throws on
   * an order type it cannot express.
   */
  encodePlace(id: number, f64: Float64Array, symbolId: number, base: number, timestampMs: number, out: Uint8Array): number {
    const inst = this.instruments[symbolId];
    if (inst === undefined) throw new Error(`unknown symbol id ${symbolId}`);
    const type = f64[base + IN.ORDER_TYPE]!;
    const typeBytes = V_TYPE[type];
    if (typeBytes === undefined) throw new Error(`unsupported order type ${type}`);
    this.p = 0;
    this.nSeg = 0;
    // key order: apiKey newClientOrderId newOrderRespType price quantity recvWindow reduceOnly side symbol timeInForce timestamp type
    this.param(K_API_KEY, this.apiKey);
    this.clid(K_CLID, f64[base + IN.INTENT_ID]!);
    this.param(K_RESP_TYPE, V_RESULT);
    if (type === OrderType.Limit) {
      this.begin(K_PRICE, false);
      this.p = writeScaled(this.pl, this.p, f64[base + IN.PRICE_TICKS]!, inst.tickUnits, inst.priceScale);
      this.end();
    }
    this.begin(K_QTY, false);
    this.p = writeScaled(this.pl, this.p, f64[base + IN.QTY_STEPS]!, inst.stepUnits, inst.qtyScale);
    this.end();
    this.intParam(K_RECV, this.recvWindow);
    if ((f64[base + IN.FLAGS]! & IntentFlag.ReduceOnly) !== 0) this.param(K_REDUCE, V_TRUE);
    this.param(K_SIDE, f64[base + IN.SIDE] === Side.Buy ? V_BUY : V_SELL);
    this.param(K_SYMBOL, this.symbols[symbolId]!);
    if (type === OrderType.Limit) {
      const tif = V_TIF[f64[base + IN.TIF]!];
      if (tif === undefined) throw new Error(`LIMIT order without a supported time in force (${f64[base + IN.TIF]})`);
      this.param(K_TIF, tif);
    }
    this.intParam(K_TS, Math.floor(timestampMs));
    this.param(K_TYPE, typeBytes);
    return this.finish(id, J_PLACE, out);
  }

  /** `order.cancel` of the order of intent `targetIntentId` (by its client order id). */
  encodeCancel(id: number, symbolId: number, targetIntentId: number, timestampMs: number, out: Uint8Array): number {
    if (this.symbols[symbolId] === undefined) throw new Error(`unknown symbol id ${symbolId}`);
    this.p = 0;
    this.nSeg = 0;
    this.param(K_API_KEY, this.apiKey);
    this.clid(K_ORIG_CLID, targetIntentId);
    this.intParam(K_RECV, this.recvWindow);
    this.param(K_SYMBOL, this.symbols[symbolId]!);
    this.intParam(K_TS, Math.floor(timestampMs));
    return this.finish(id, J_CANCEL, out);
  }

  /** The signing payload of the last request (tests). */
  lastPayload(): string {
    return Buffer.from(this.pl.subarray(0, this.p)).toString('latin1');
  }
}

// ---------------------------------------------------------------------------------------------- responses

const RL_WEIGHT = ascii('REQUEST_WEIGHT');
const RL_ORDERS = ascii('ORDERS');
const IV_SECOND = ascii('SECOND');
const IV_MINUTE = ascii('MINUTE');

/** Keys we read, by id. */
const enum R {
  Other = 0,
  Id,
  Status,
  Result,
  Error,
  RateLimits,
  OrderId,
  ExecutedQty,
  AvgPrice,
  UpdateTime,
  Code,
  Msg,
  RateLimitType,
  Interval,
  IntervalNum,
  Count,
}
const KEYS: ReadonlyArray<[string, R]> = [
  ['id', R.Id],
  ['status', R.Status],
  ['result', R.Result],
  ['error', R.Error],
  ['rateLimits', R.RateLimits],
  ['orderId', R.OrderId],
  ['executedQty', R.ExecutedQty],
  ['avgPrice', R.AvgPrice],
  ['updateTime', R.UpdateTime],
  ['code', R.Code],
  ['msg', R.Msg],
  ['rateLimitType', R.RateLimitType],
  ['interval', R.Interval],
  ['intervalNum', R.IntervalNum],
  ['count', R.Count],
];
/**
 * Candidates by (length, first byte, last byte): at most one key per triple here, so one byte compare
 * confirms it. Index = len * 65536 + first * 256 + last, kept in a Map built once (lookups do not allocate).
 */
const KEY_BY_SHAPE = new Map<number, [Uint8Array, R]>();
for (const [name, id] of KEYS) {
  const b = ascii(name);
  const shape = b.length * 65536 + b[0]! * 256 + b[b.length - 1]!;
  if (KEY_BY_SHAPE.has(shape)) throw new Error(`key shape clash: ${name}`);
  KEY_BY_SHAPE.set(shape, [b, id]);
}

const STATUS_WORDS = ['NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'EXPIRED_IN_MATCH'].map(ascii);
const STATUS_CODES = [
  OrderStatus.New,
  OrderStatus.PartiallyFilled,
  OrderStatus.Filled,
  OrderStatus.Canceled,
  OrderStatus.Rejected,
  OrderStatus.Expired,
  OrderStatus.Expired,
];

/**
 * Reads one WS API response `{"id","status","result"|"error","rateLimits"}` from bytes, any key order,
 * unknown keys skipped. Fields are left on the instance (valid until the next `read`).
 */
export class WsApiResponseDecoder {
  /** request id; -1 when null, absent or not an integer */
  id = -1;
  status = 0;
  hasResult = false;
  orderId = 0;
  /** OrderStatus of result.status; -1 absent, -2 a word we do not know */
  orderStatus = -1;
  executedQty = 0;
  avgPrice = 0;
  updateTime = 0;
  hasError = false;
  code = 0;
  weight1m = -1;
  orders10s = -1;
  orders1m = -1;
  private readonly msgBuf = new Uint8Array(256);
  private msgLen = 0;
  private readonly sc = new ByteScanner();
  private readonly keyScratch = new Uint8Array(64);
  private key: number = R.Other;
  // the rateLimits item being read
  private rlType = 0;
  private rlSecs = 0;
  private rlNum = 0;
  private rlCount = -1;

  /** false if the bytes are not a JSON object of that shape. */
  read(buf: Uint8Array, start: number, end: number): boolean {
    this.id = -1;
    this.status = 0;
    this.hasResult = false;
    this.orderId = 0;
    this.orderStatus = -1;
    this.executedQty = 0;
    this.avgPrice = 0;
    this.updateTime = 0;
    this.hasError = false;
    this.code = 0;
    this.msgLen = 0;
    this.weight1m = -1;
    this.orders10s = -1;
    this.orders1m = -1;
    const sc = this.sc;
    sc.reset(buf, end);
    const i = this.object(sc.ws(start), 0);
    return i >= 0 && sc.ws(i) === end;
  }

  /** The error message (allocates: error path only). */
  message(): string {
    return Buffer.from(this.msgBuf.subarray(0, this.msgLen)).toString('utf8');
  }

  /** A key at `i`: sets `key`; index after its closing quote, or -1. */
  private readKey(i: number): number {
    const sc = this.sc;
    let b: Uint8Array = sc.buf;
    if (b[i] !== Ch.Quote) return -1;
    let s = i + 1;
    let e = sc.plainStringEnd(s);
    let next = e + 1;
    if (e < 0) {
      next = sc.string(i);
      if (next < 0) return -1;
      s = sc.strStart;
      e = sc.strEnd;
      if (sc.strEscaped) {
        const n = sc.unescapeAscii(s, e, this.keyScratch);
        b = this.keyScratch;
        s = 0;
        e = n < 0 ? 0 : n;
      }
    }
    const len = e - s;
    this.key = R.Other;
    if (len > 0) {
      const hit = KEY_BY_SHAPE.get(len * 65536 + b[s]! * 256 + b[e - 1]!);
      if (hit !== undefined && bytesEqual(b, s, e, hit[0])) this.key = hit[1];
    }
    return next;
  }

  /** Skips a value: plain strings and non-negative ints inline, the rest through ByteScanner. */
  private skip(i: number): number {
    const sc = this.sc;
    const buf = sc.buf;
    const c = buf[i]!;
    if (c === Ch.Quote) {
      const q = sc.plainStringEnd(i + 1);
      if (q >= 0) return q + 1;
    } else if (c >= Ch.Zero && c <= Ch.Nine) {
      let j = i + 1;
      let d = 0;
      while (j < sc.end && (d = buf[j]!) >= Ch.Zero && d <= Ch.Nine) j++;
      if (j < sc.end && d !== Ch.Dot && (d | 0x20) !== Ch.LowerE && (c !== Ch.Zero || j === i + 1)) return j;
    }
    return sc.skipValue(i, 1);
  }

  /** One value of the object at nesting `where` (0 top, 1 result, 2 error, 3 rateLimits item); -2 = skip it. */
  private value(i: number, where: number): number {
    const sc = this.sc;
    const c = sc.buf[i];
    switch (this.key) {
      case R.Id: {
        // ours are bare numbers; a string id (even of digits) is someone else's
        if (where !== 0 || c === Ch.Quote) return -2;
        const j = sc.int(i);
        if (j < 0 || sc.num < 0) return -2;
        this.id = sc.num;
        return j;
      }
      case R.Status:
        if (where === 0) {
          const j = sc.int(i);
          if (j >= 0) this.status = sc.num;
          return j < 0 ? -2 : j;
        }
        if (where === 1) {
          const j = sc.string(i);
          if (j < 0) return -2;
          let k = -1;
          if (!sc.strEscaped) {
            for (let w = 0; w < STATUS_WORDS.length && k < 0; w++) if (bytesEqual(sc.buf, sc.strStart, sc.strEnd, STATUS_WORDS[w]!)) k = w;
          }
          this.orderStatus = k >= 0 ? STATUS_CODES[k]! : -2;
          return j;
        }
        return -2;
      case R.Result:
        if (where !== 0 || c !== Ch.LBrace) return -2;
        this.hasResult = true;
        return this.object(i, 1);
      case R.Error:
        if (where !== 0 || c !== Ch.LBrace) return -2;
        this.hasError = true;
        return this.object(i, 2);
      case R.RateLimits:
        if (where !== 0 || c !== Ch.LBracket) return -2;
        return this.rateLimits(i);
      case R.OrderId: {
        if (where !== 1) return -2;
        const j = sc.int(i);
        if (j >= 0) this.orderId = sc.num;
        return j < 0 ? -2 : j;
      }
      case R.ExecutedQty:
      case R.AvgPrice: {
        if (where !== 1) return -2;
        const j = sc.decimal(i);
        if (j < 0) return -2;
        if (this.key === R.ExecutedQty) this.executedQty = sc.num;
        else this.avgPrice = sc.num;
        return j;
      }
      case R.UpdateTime: {
        if (where !== 1) return -2;
        const j = sc.int(i);
        if (j >= 0) this.updateTime = sc.num;
        return j < 0 ? -2 : j;
      }
      case R.Code: {
        if (where !== 2) return -2;
        const j = sc.int(i);
        if (j >= 0) this.code = sc.num;
        return j < 0 ? -2 : j;
      }
      case R.Msg: {
        if (where !== 2) return -2;
        const j = sc.string(i);
        if (j < 0) return -2;
        // raw bytes (escapes kept): a log message, not compared with anything
        const n = Math.min(sc.strEnd - sc.strStart, this.msgBuf.length);
        for (let k = 0; k < n; k++) this.msgBuf[k] = sc.buf[sc.strStart + k]!;
        this.msgLen = n;
        return j;
      }
      case R.RateLimitType:
      case R.Interval: {
        if (where !== 3) return -2;
        const j = sc.string(i);
        if (j < 0) return -2;
        const b = sc.buf;
        if (this.key === R.RateLimitType) this.rlType = bytesEqual(b, sc.strStart, sc.strEnd, RL_WEIGHT) ? 1 : bytesEqual(b, sc.strStart, sc.strEnd, RL_ORDERS) ? 2 : 0;
        else this.rlSecs = bytesEqual(b, sc.strStart, sc.strEnd, IV_SECOND) ? 1 : bytesEqual(b, sc.strStart, sc.strEnd, IV_MINUTE) ? 60 : 0;
        return j;
      }
      case R.IntervalNum:
      case R.Count: {
        if (where !== 3) return -2;
        const j = sc.int(i);
        if (j < 0) return -2;
        if (this.key === R.Count) this.rlCount = sc.num;
        else this.rlNum = sc.num;
        return j;
      }
      default:
        return -2;
    }
  }

  /** An object at `i` (its `{`) at nesting `where`; index after it or -1. */
  private object(i: number, where: number): number {
    const sc = this.sc;
    if (sc.at(i) !== Ch.LBrace) return -1;
    i = sc.ws(i + 1);
    if (sc.at(i) === Ch.RBrace) return i + 1;
    if (where === 3) {
      this.rlType = 0;
      this.rlSecs = 0;
      this.rlNum = 0;
      this.rlCount = -1;
    }
    for (;;) {
      i = this.readKey(i);
      if (i < 0) return -1;
      if (sc.buf[i] !== Ch.Colon) {
        i = sc.ws(i);
        if (sc.at(i) !== Ch.Colon) return -1;
      }
      i = sc.ws(i + 1);
      if (i >= sc.end) return -1;
      // a key we skip, or a value of another type than expected (kept at its default): skipped
      let j = this.key === R.Other ? -2 : this.value(i, where);
      if (j === -2) j = this.skip(i);
      if (j < 0) return -1;
      i = sc.buf[j] === Ch.Comma || sc.buf[j] === Ch.RBrace ? j : sc.ws(j);
      const d = sc.at(i);
      if (d === Ch.Comma) {
        i = sc.ws(i + 1);
        continue;
      }
      if (d !== Ch.RBrace) return -1;
      if (where === 3 && this.rlCount >= 0) {
        const secs = this.rlSecs * this.rlNum;
        if (this.rlType === 1 && secs === 60) this.weight1m = this.rlCount;
        else if (this.rlType === 2 && secs === 10) this.orders10s = this.rlCount;
        else if (this.rlType === 2 && secs === 60) this.orders1m = this.rlCount;
      }
      return i + 1;
    }
  }

  private rateLimits(i: number): number {
    const sc = this.sc;
    i = sc.ws(i + 1);
    if (sc.at(i) === Ch.RBracket) return i + 1;
    for (;;) {
      i = sc.at(i) === Ch.LBrace ? this.object(i, 3) : sc.skipValue(i, 1);
      if (i < 0) return -1;
      i = sc.ws(i);
      const d = sc.at(i);
      if (d === Ch.Comma) {
        i = sc.ws(i + 1);
        continue;
      }
      return d === Ch.RBracket ? i + 1 : -1;
    }
  }
}

// ---------------------------------------------------------------------------------------------- client

const FREE = 0;
const IN_FLIGHT = 1;
const TIMED_OUT = 2;
const KIND_PLACE = 1;
const KIND_CANCEL = 2;
const REQUEST_BYTES = 2048;

export class WsApiClient implements OrderTransport {
  readonly name = 'ws-api';
  readonly counters: WsApiCounters = {
    sent: 0, responses: 0, acks: 0, fills: 0, canceled: 0, expired: 0, rejects: 0, unknown: 0, timeouts: 0, lateResponses: 0,
    lostInFlight: 0, notConnected: 0, tableFull: 0, encodeErrors: 0, malformedResponses: 0, unmatchedResponses: 0, unsolicited: 0,
  };
  readonly encoder: WsApiRequestEncoder;
  private readonly ws: WsClient;
  private readonly dec = new WsApiResponseDecoder();
  private readonly sink: ExecReportSink;
  private readonly now: () => number;
  private readonly req = Buffer.allocUnsafe(REQUEST_BYTES);
  private timer: NodeJS.Timeout | null = null;
  private openWaiters: Array<() => void> = [];

  // ---- request table, by slot
  private readonly cap: number;
  private readonly mask: number;
  private readonly state: Uint8Array;
  private readonly kind: Uint8Array;
  private readonly round: Float64Array;
  private readonly reqId: Float64Array;
  private readonly intentId: Float64Array;
  private readonly targetId: Float64Array;
  private readonly symbolId: Int32Array;
  private readonly side: Float64Array;
  private readonly recvTs: Float64Array;
  private readonly sentTs: Float64Array;
  /** ns: when the request times out (IN_FLIGHT) or its slot is released (TIMED_OUT) */
  private readonly deadline: Float64Array;
  private readonly free: Int32Array;
  private nFree: number;
  private inFlight = 0;
  private readonly timeoutNs: number;
  private readonly graceNs: number;

  constructor(private readonly opts: WsApiClientOptions) {
    const cap = opts.maxInFlight ?? 256;
    if (cap < 1 || (cap & (cap - 1)) !== 0) throw new Error(`maxInFlight must be a power of two (got ${cap})`);
    this.cap = cap;
    this.mask = cap - 1;
    this.state = new Uint8Array(cap);
    this.kind = new Uint8Array(cap);
    this.round = new Float64Array(cap);
    this.reqId = new Float64Array(cap);
    this.intentId = new Float64Array(cap);
    this.targetId = new Float64Array(cap);
    this.symbolId = new Int32Array(cap);
    this.side = new Float64Array(cap);
    this.recvTs = new Float64Array(cap);
    this.sentTs = new Float64Array(cap);
    this.deadline = new Float64Array(cap);
    this.free = new Int32Array(cap);
    for (let s = 0; s < cap; s++) this.free[s] = cap - 1 - s;
    this.nFree = cap;
    this.sink = opts.sink;
    this.now = opts.now;
    this.timeoutNs = opts.requestTimeoutMs * 1e6;
    this.graceNs = (opts.lateGraceMs ?? 60_000) * 1e6;
    this.encoder = new WsApiRequestEncoder(opts.instruments, opts.apiKey, opts.apiSecret, opts.clientIdPrefix, opts.recvWindow);
    const handler: WsHandler = {
      onOpen: () => this.onOpen(),
      onMessage: (buf, start, end, recvTs) => this.onMessage(buf, start, end, recvTs),
      onClose: (code, reason) => this.onClose(code, reason),
    };
    this.ws = new WsClient(opts.url, handler, opts.ws);
  }

  /** Connects (and keeps reconnecting). Resolves once open, or rejects after `timeoutMs`. */
  start(timeoutMs = 10_000): Promise<void> {
    this.ws.connect();
    if (this.timer === null) {
      const period = Math.max(5, Math.min(100, this.opts.requestTimeoutMs / 4));
      this.timer = setInterval(() => this.checkTimeouts(this.now()), period);
      this.timer.unref();
    }
    if (this.ws.state === 'open') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`ws-api: not connected after ${timeoutMs} ms`)), timeoutMs);
      this.openWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  get connection(): WsClient {
    return this.ws;
  }

  isReady(): boolean {
    return this.ws.state === 'open' && this.nFree > 0;
  }

  inFlightCount(): number {
    return this.inFlight;
  }

  async close(): Promise<void> {
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    this.ws.close();
    // a connection that was not open reports nothing through onClose: settle what is left here
    this.failAll('ws-api closed');
  }

  // ------------------------------------------------------------------ requests

  place(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    const intentId = f64[base + IN.INTENT_ID]!;
    const side = f64[base + IN.SIDE]!;
    const recvTs = f64[base + W.RECV_TS]!;
    const slot = this.acquire(symbolId, intentId, side, recvTs);
    if (slot < 0) return;
    let len: number;
    try {
      len = this.encoder.encodePlace(this.reqId[slot]!, f64, symbolId, base, this.opts.venueTimeMs(), this.req);
    } catch (e) {
      this.release(slot);
      this.counters.encodeErrors++;
      this.counters.rejects++;
      this.sink.execReport(symbolId, intentId, side, recvTs, 0, this.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, RejectReason.Unknown, `encode: ${(e as Error).message}`);
      return;
    }
    this.kind[slot] = KIND_PLACE;
    this.send(slot, len, readTs);
  }

  cancel(f64: Float64Array, symbolId: number, base: number, readTs: number): void {
    const intentId = f64[base + IN.INTENT_ID]!;
    const target = f64[base + IN.TARGET_ID]!;
    const side = f64[base + IN.SIDE]!;
    const recvTs = f64[base + W.RECV_TS]!;
    const slot = this.acquire(symbolId, intentId, side, recvTs);
    if (slot < 0) return;
    let len: number;
    try {
      len = this.encoder.encodeCancel(this.reqId[slot]!, symbolId, target, this.opts.venueTimeMs(), this.req);
    } catch (e) {
      this.release(slot);
      this.counters.encodeErrors++;
      this.counters.rejects++;
      this.sink.execReport(symbolId, intentId, side, recvTs, 0, this.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, RejectReason.Unknown, `encode: ${(e as Error).message}`);
      return;
    }
    this.targetId[slot] = target;
    this.kind[slot] = KIND_CANCEL;
    this.send(slot, len, readTs);
  }

  private readonly warmBuf = Buffer.allocUnsafe(REQUEST_BYTES);

  /** Encodes and signs `intent` into a scratch buffer, sending nothing: keeps that code hot between orders. */
  keepWarm(f64: Float64Array, symbolId: number, base: number): void {
    this.encoder.encodePlace(0, f64, symbolId, base, this.opts.venueTimeMs(), this.warmBuf);
  }

  /** A slot for a new request, or -1 after reporting why there is none. */
  private acquire(symbolId: number, intentId: number, side: number, recvTs: number): number {
    if (this.ws.state !== 'open') {
      this.counters.notConnected++;
      this.counters.rejects++;
      this.sink.execReport(symbolId, intentId, side, recvTs, 0, this.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, RejectReason.Transport, 'not sent: ws-api not connected');
      return -1;
    }
    if (this.nFree === 0) {
      this.counters.tableFull++;
      this.counters.rejects++;
      this.sink.execReport(symbolId, intentId, side, recvTs, 0, this.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, RejectReason.Transport, `not sent: ${this.cap} ws-api requests in flight`);
      return -1;
    }
    const slot = this.free[--this.nFree]!;
    const r = ++this.round[slot]!;
    this.round[slot] = r;
    this.reqId[slot] = r * this.cap + slot;
    this.symbolId[slot] = symbolId;
    this.intentId[slot] = intentId;
    this.side[slot] = side;
    this.recvTs[slot] = recvTs;
    this.targetId[slot] = 0;
    return slot;
  }

  private release(slot: number): void {
    if (this.state[slot] === IN_FLIGHT) this.inFlight--;
    this.state[slot] = FREE;
    this.free[this.nFree++] = slot;
  }

  private send(slot: number, len: number, readTs: number): void {
    this.state[slot] = IN_FLIGHT;
    this.inFlight++;
    if (!this.ws.sendText(this.req, 0, len)) {
      this.release(slot);
      this.counters.notConnected++;
      this.counters.rejects++;
      this.sink.execReport(this.symbolId[slot]!, this.intentId[slot]!, this.side[slot]!, this.recvTs[slot]!, 0, this.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, RejectReason.Transport, 'not sent: ws-api not connected');
      return;
    }
    const t = this.now();
    this.sentTs[slot] = t;
    this.deadline[slot] = t + this.timeoutNs;
    this.counters.sent++;
    const h = this.opts.hists;
    if (h?.send) recordNs(h.send, t - readTs);
    if (h?.tickToOrder && this.recvTs[slot]! > 0) recordNs(h.tickToOrder, t - this.recvTs[slot]!);
  }

  // ------------------------------------------------------------------ connection events

  private onOpen(): void {
    const w = this.openWaiters;
    this.openWaiters = [];
    for (const f of w) f();
    this.opts.onConnect?.();
  }

  private onClose(code: number, reason: string): void {
    this.failAll(`connection lost (${code}${reason ? ` ${reason}` : ''})`);
    this.opts.onDisconnect?.(code, reason);
  }

  /** Every request in flight: Unknown (it may have reached the venue); timed-out slots released. */
  private failAll(why: string): void {
    const ackTs = this.now();
    for (let s = 0; s < this.cap; s++) {
      const st = this.state[s];
      if (st === IN_FLIGHT) {
        this.counters.lostInFlight++;
        this.counters.unknown++;
        this.release(s);
        this.sink.execReport(this.symbolId[s]!, this.intentId[s]!, this.side[s]!, this.recvTs[s]!, this.sentTs[s]!, ackTs, OrderStatus.Unknown, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, RejectReason.Transport, `transport: ${why}`);
      } else if (st === TIMED_OUT) {
        this.release(s);
      }
    }
  }

  /** Timer: requests past their deadline become Unknown; timed-out slots past their grace are freed. */
  checkTimeouts(now: number): void {
    if (this.nFree === this.cap) return;
    for (let s = 0; s < this.cap; s++) {
      const st = this.state[s];
      if (st === FREE || this.deadline[s]! > now) continue;
      if (st === IN_FLIGHT) {
        this.state[s] = TIMED_OUT;
        this.inFlight--;
        this.deadline[s] = now + this.graceNs;
        this.counters.timeouts++;
        this.counters.unknown++;
        this.sink.execReport(this.symbolId[s]!, this.intentId[s]!, this.side[s]!, this.recvTs[s]!, this.sentTs[s]!, now, OrderStatus.Unknown, ExecType.Reject, 0, 0, 0, 0, 0, 0, 0, RejectReason.Timeout, `no response within ${this.opts.requestTimeoutMs} ms`);
      } else {
        this.release(s);
      }
    }
  }

  private onMessage(buf: Buffer, start: number, end: number, recvTs: number): void {
    const d = this.dec;
    if (!d.read(buf, start, end)) {
      this.counters.malformedResponses++;
      return;
    }
    if (d.weight1m >= 0 || d.orders10s >= 0 || d.orders1m >= 0) this.opts.onRateLimits?.(d.weight1m, d.orders10s, d.orders1m);
    if (d.status === 429 || d.status === 418) this.opts.onThrottle?.(d.status, d.hasError ? d.message() : '');
    if (d.id < 0) {
      this.counters.unsolicited++;
      this.opts.onUnsolicited?.(d.status, d.code, d.hasError ? d.message() : '');
      return;
    }
    const slot = d.id & this.mask;
    const st = this.state[slot];
    if (st === FREE || this.reqId[slot] !== d.id) {
      this.counters.unmatchedResponses++;
      return;
    }
    this.counters.responses++;
    if (st === TIMED_OUT) this.counters.lateResponses++;
    else if (this.opts.hists?.venueRtt) recordNs(this.opts.hists.venueRtt, recvTs - this.sentTs[slot]!);
    const kind = this.kind[slot];
    const sym = this.symbolId[slot]!;
    const side = this.side[slot]!;
    const rts = this.recvTs[slot]!;
    const sent = this.sentTs[slot]!;
    const intentId = this.intentId[slot]!;
    const target = this.targetId[slot]!;
    this.release(slot);
    const ackTs = this.now();

    if (d.hasError || d.status !== 200 || !d.hasResult) {
      const code = d.code;
      const msg = d.hasError ? d.message() : `status ${d.status}`;
      // Same rule as the REST path: Unknown when the venue may have acted, else a typed definite reject.
      const e = classifyOrderError(d.status === 0 ? 400 : d.status, code, d.hasError ? msg : '');
      if (e.unknown) this.counters.unknown++;
      else this.counters.rejects++;
      this.sink.execReport(sym, intentId, side, rts, sent, ackTs, e.unknown ? OrderStatus.Unknown : OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, code, 0, e.reason, msg);
      return;
    }
    const status = d.orderStatus;
    if (status < 0) {
      this.counters.unknown++;
      this.sink.execReport(sym, intentId, side, rts, sent, ackTs, OrderStatus.Unknown, ExecType.Reject, 0, 0, 0, 0, d.orderId, 0, d.updateTime, RejectReason.Unknown, 'unrecognised order status');
      return;
    }
    const executed = d.executedQty;
    const avg = d.avgPrice;
    if (kind === KIND_CANCEL) {
      // the cancelled order's state, reported under its own intent; nothing new was filled here
      const x = status === OrderStatus.Canceled ? ExecType.Canceled : status === OrderStatus.Expired ? ExecType.Expired : ExecType.Ack;
      if (x === ExecType.Canceled) this.counters.canceled++;
      else if (x === ExecType.Expired) this.counters.expired++;
      else this.counters.acks++;
      this.sink.execReport(sym, target, side, rts, sent, ackTs, status, x, 0, 0, executed, avg, d.orderId, 0, d.updateTime, RejectReason.None, '');
      return;
    }
    let x: ExecType;
    if (executed > 0) x = ExecType.Fill;
    else if (status === OrderStatus.Expired) x = ExecType.Expired;
    else if (status === OrderStatus.Canceled) x = ExecType.Canceled;
    else if (status === OrderStatus.Rejected) x = ExecType.Reject;
    else x = ExecType.Ack;
    if (x === ExecType.Fill) this.counters.fills++;
    else if (x === ExecType.Expired) this.counters.expired++;
    else if (x === ExecType.Canceled) this.counters.canceled++;
    else if (x === ExecType.Reject) this.counters.rejects++;
    else this.counters.acks++;
    this.sink.execReport(sym, intentId, side, rts, sent, ackTs, status, x, executed, avg, executed, avg, d.orderId, 0, d.updateTime, status === OrderStatus.Rejected ? RejectReason.Venue : RejectReason.None, '');
  }
}
