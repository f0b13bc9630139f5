import { ByteScanner, Ch, POW10, ascii, bytesEqual } from '../../core/ByteScanner.js';
import type { SymbolRegistry } from '../../core/SymbolRegistry.js';
import type { SlotWriter } from '../../ring/SlotWriter.js';
import { countMalformed, unparsedStatus, DecodeStatus as GateDecodeStatus } from '../../feed/decodeStatus.js';
import {
  AT,
  BT,
  DEPTH,
  DEPTH_LEVELS_PER_RECORD,
  KL,
  MP,
  RecordFlag,
  RecordType,
  W,
  depthCount,
  packHeader,
} from '../../ring/layout.js';

// The statuses are the feed's, shared with the Binance decoder (Control is Gate's own); the Gate names stay.
export { DecodeStatus as GateDecodeStatus, isMalformedStatus as isGateMalformed } from '../../feed/decodeStatus.js';

/**
 * What a feed needs from a market-data decoder (the shape `BinanceMarketDecoder` already offers and
 * FeedHandler uses): decode one frame into ring records, and the counters it reports.
 */
export interface MarketFrameDecoder {
  decode(buf: Uint8Array, start: number, end: number, recvTs: number, out: SlotWriter): number;
  readonly frames: number;
  readonly records: number;
  readonly malformed: number;
  readonly ignored: number;
  readonly unknownSymbol: number;
  readonly ringFull: number;
}

/** Inlined constants: channels, events, value slots and their bits. */
const enum C {
  CH_NONE = 0,
  CH_BOOK_TICKER = 1,
  CH_TRADES = 2,
  CH_ORDER_BOOK_UPDATE = 3,
  CH_CANDLESTICKS = 4,
  CH_TICKERS = 5,
  CH_PONG = 6,
  CH_OTHER = 7,

  EV_NONE = 0,
  EV_UPDATE = 1,
  EV_SUBSCRIBE = 2,
  EV_UNSUBSCRIBE = 3,
  EV_OTHER = 4,

  // value slots of one result object (meaning depends on the channel)
  S_T = 0, // t (ms; candlestick: open time in s)
  S_U_LAST = 1, // u
  S_U_FIRST = 2, // U
  S_BID = 3, // b (book_ticker)
  S_BID_QTY = 4, // B
  S_ASK = 5, // a (book_ticker)
  S_ASK_QTY = 6, // A
  S_ID = 7, // id (trade)
  S_PRICE = 8, // price (trade), mark_price (ticker)
  S_SIZE = 9, // size (trade), v (candlestick)
  S_TIME_MS = 10, // create_time_ms
  S_TIME_S = 11, // create_time
  S_OPEN = 12, // o
  S_HIGH = 13, // h
  S_LOW = 14, // l
  S_CLOSE = 15, // c
  S_INDEX = 16, // index_price
  S_FUNDING = 17, // funding_rate
  S_FLAG = 18, // full (order_book_update), w (candlestick), is_internal (trade)
  N_SLOTS = 19,
  S_SYM = 19,
  S_LEVELS_B = 20,
  S_LEVELS_A = 21,
  S_NAME = 22, // candlestick n

  B_T = 1 << S_T,
  B_U_LAST = 1 << S_U_LAST,
  B_U_FIRST = 1 << S_U_FIRST,
  B_BID = 1 << S_BID,
  B_BID_QTY = 1 << S_BID_QTY,
  B_ASK = 1 << S_ASK,
  B_ASK_QTY = 1 << S_ASK_QTY,
  B_ID = 1 << S_ID,
  B_PRICE = 1 << S_PRICE,
  B_SIZE = 1 << S_SIZE,
  B_TIME_MS = 1 << S_TIME_MS,
  B_TIME_S = 1 << S_TIME_S,
  B_OPEN = 1 << S_OPEN,
  B_HIGH = 1 << S_HIGH,
  B_LOW = 1 << S_LOW,
  B_CLOSE = 1 << S_CLOSE,
  B_INDEX = 1 << S_INDEX,
  B_FUNDING = 1 << S_FUNDING,
  B_FLAG = 1 << S_FLAG,
  B_SYM = 1 << S_SYM,
  B_LEVELS_B = 1 << S_LEVELS_B,
  B_LEVELS_A = 1 << S_LEVELS_A,
  B_NAME = 1 << S_NAME,

  NEED_BOOK_TICKER = B_SYM | B_U_LAST | B_BID | B_BID_QTY | B_ASK | B_ASK_QTY,
  NEED_TRADE = B_SYM | B_PRICE | B_SIZE | B_ID,
  NEED_DEPTH = B_SYM | B_U_FIRST | B_U_LAST,
  NEED_CANDLE = B_NAME | B_T | B_OPEN | B_HIGH | B_LOW | B_CLOSE | B_SIZE,
  NEED_TICKER = B_SYM | B_PRICE,

  /** value kinds of a key in a result object */
  K_SKIP = 0,
  K_INT = 1,
  /** a decimal: JSON string or number; "" reads as absent */
  K_DEC = 2,
  K_SYM = 3,
  K_BOOL = 4,
  K_LEVELS = 5,
  K_NAME = 6,

  TWO_53 = 9007199254740992,
}

const LIT_CHANNEL = ascii('channel');
const LIT_EVENT = ascii('event');
const LIT_RESULT = ascii('result');
const LIT_TIME_MS = ascii('time_ms');
const LIT_TIME = ascii('time');
const LIT_ERROR = ascii('error');

const CHANNELS: Array<[Uint8Array, number]> = [
  [ascii('futures.book_ticker'), C.CH_BOOK_TICKER],
  [ascii('futures.order_book_update'), C.CH_ORDER_BOOK_UPDATE],
  [ascii('futures.trades'), C.CH_TRADES],
  [ascii('futures.candlesticks'), C.CH_CANDLESTICKS],
  [ascii('futures.tickers'), C.CH_TICKERS],
  [ascii('futures.pong'), C.CH_PONG],
];
const EVENTS: Array<[Uint8Array, number]> = [
  [ascii('update'), C.EV_UPDATE],
  [ascii('subscribe'), C.EV_SUBSCRIBE],
  [ascii('unsubscribe'), C.EV_UNSUBSCRIBE],
];

/** A key of a result object: its bytes, value kind and slot. */
type KeySpec = [Uint8Array, number, number];
const key = (k: string, kind: number, slot: number): KeySpec => [ascii(k), kind, slot];

const KEYS_BOOK_TICKER: KeySpec[] = [
  key('t', C.K_INT, C.S_T),
  key('u', C.K_INT, C.S_U_LAST),
  key('s', C.K_SYM, C.S_SYM),
  key('b', C.K_DEC, C.S_BID),
  key('B', C.K_DEC, C.S_BID_QTY),
  key('a', C.K_DEC, C.S_ASK),
  key('A', C.K_DEC, C.S_ASK_QTY),
];
const KEYS_DEPTH: KeySpec[] = [
  key('U', C.K_INT, C.S_U_FIRST),
  key('u', C.K_INT, C.S_U_LAST),
  key('s', C.K_SYM, C.S_SYM),
  key('t', C.K_INT, C.S_T),
  key('b', C.K_LEVELS, C.S_LEVELS_B),
  key('a', C.K_LEVELS, C.S_LEVELS_A),
  key('full', C.K_BOOL, C.S_FLAG),
];
const KEYS_TRADE: KeySpec[] = [
  key('size', C.K_DEC, C.S_SIZE),
  key('id', C.K_INT, C.S_ID),
  key('price', C.K_DEC, C.S_PRICE),
  key('contract', C.K_SYM, C.S_SYM),
  key('create_time_ms', C.K_INT, C.S_TIME_MS),
  key('create_time', C.K_INT, C.S_TIME_S),
  key('is_internal', C.K_BOOL, C.S_FLAG),
];
const KEYS_CANDLE: KeySpec[] = [
  key('t', C.K_INT, C.S_T),
  key('v', C.K_DEC, C.S_SIZE),
  key('c', C.K_DEC, C.S_CLOSE),
  key('h', C.K_DEC, C.S_HIGH),
  key('l', C.K_DEC, C.S_LOW),
  key('o', C.K_DEC, C.S_OPEN),
  key('n', C.K_NAME, C.S_NAME),
  key('w', C.K_BOOL, C.S_FLAG),
];
const KEYS_TICKER: KeySpec[] = [
  key('contract', C.K_SYM, C.S_SYM),
  key('mark_price', C.K_DEC, C.S_PRICE),
  key('index_price', C.K_DEC, C.S_INDEX),
  key('funding_rate', C.K_DEC, C.S_FUNDING),
];
const LIT_P = ascii('p');
const LIT_S = ascii('s');

/** Candlestick interval prefixes of `n` ("1m_BTC_USDT") and their length in ms. */
const INTERVALS: Array<[Uint8Array, number]> = (
  [
    ['10s', 10_000],
    ['1m', 60_000],
    ['5m', 300_000],
    ['15m', 900_000],
    ['30m', 1_800_000],
    ['1h', 3_600_000],
    ['4h', 14_400_000],
    ['8h', 28_800_000],
    ['1d', 86_400_000],
    ['7d', 604_800_000],
  ] as Array<[string, number]>
).map(([k, v]): [Uint8Array, number] => [ascii(k), v]);

/**
 * A number at `i`, bare or quoted (`814`, `"0.7379"`, `"-0.25"`), into dst[slot]; the index after it, or -1.
 * Writes the double straight into the typed array: a double kept in an object field or returned from a call
 * may be boxed on the heap, and the decoder must not allocate per frame. `intOnly` refuses a fraction. Digits
 * of 2^53 or more, more than 22 decimals or an exponent return -2: the caller then takes ByteScanner's exact
 * slow path (decimals) or refuses the value (ids).
 */
function numberAt(buf: Uint8Array, i: number, end: number, dst: Float64Array, slot: number, intOnly: boolean): number {
  if (i >= end) return -1;
  const quoted = buf[i] === Ch.Quote;
  if (quoted) i++;
  let neg = false;
  if (i < end && buf[i] === Ch.Minus) {
    neg = true;
    i++;
  }
  const d0 = i;
  let m = 0;
  let d = 0;
  while (i < end && (d = (buf[i]! - Ch.Zero) >>> 0) <= 9) {
    m = m * 10 + d;
    i++;
  }
  const intDigits = i - d0;
  let k = 0;
  if (i < end && buf[i] === Ch.Dot) {
    if (intOnly) return -1;
    const f0 = ++i;
    while (i < end && (d = (buf[i]! - Ch.Zero) >>> 0) <= 9) {
      m = m * 10 + d;
      i++;
    }
    k = i - f0;
    if (k === 0 && !quoted) return -1;
  }
  if (intDigits + k === 0 || (!quoted && intDigits === 0)) return -1;
  if (i < end && (buf[i]! | 0x20) === Ch.LowerE) return -2;
  if (m >= C.TWO_53 || k > 22) return -2;
  if (quoted) {
    if (i >= end || buf[i] !== Ch.Quote) return -1;
    i++;
  }
  const v = m / POW10[k]!;
  dst[slot] = neg ? -v : v;
  return i;
}

/** Index of the spec whose key equals buf[s..e), or -1 (length, then first byte, then the rest). */
function findKey(buf: Uint8Array, s: number, e: number, specs: KeySpec[]): number {
  const len = e - s;
  const c0 = buf[s];
  for (let k = 0; k < specs.length; k++) {
    const lit = specs[k]![0];
    if (lit.length === len && lit[0] === c0 && bytesEqual(buf, s, e, lit)) return k;
  }
  return -1;
}

function findLit(buf: Uint8Array, s: number, e: number, table: Array<[Uint8Array, number]>, dflt: number): number {
  const len = e - s;
  for (let k = 0; k < table.length; k++) {
    const lit = table[k]![0];
    if (lit.length === len && bytesEqual(buf, s, e, lit)) return table[k]![1];
  }
  return dflt;
}

/**
 * Decodes Gate USDT-futures market-data frames (protocols.md §2.2, §2.4) straight from their bytes into
 * ring-A records, with the same record layouts as the Binance dialect:
 *
 * - `futures.book_ticker` -> BookTicker: UPDATE_ID = `u` (the order-book id space), TX_TIME = `t`,
 *   EVENT_TIME = the envelope's `time_ms`. An empty side (`"b":""`, `"B":0`) is price NaN, size 0.
 * - `futures.trades` -> one Trade per element: PRICE, QTY = |size|, BUYER_MAKER = 1 when size < 0 (the
 *   taker sold), TRADE_ID = FIRST_ID = LAST_ID = `id`, TRADE_TIME = create_time_ms (else create_time * 1000).
 *   `is_internal` trades (insurance / ADL takeovers) are written too and counted in `internalTrades`.
 * - `futures.order_book_update` -> Depth records of up to 4 levels (bids, then asks; sizes absolute, 0
 *   deletes): FIRST_UPDATE_ID = U, FINAL_UPDATE_ID = u and PREV_UPDATE_ID = U - 1, so Gate's continuity rule
 *   `U == previous u + 1` is the `pu == previous u` rule of BookSync. `full: true` flags the event Reset.
 * - `futures.candlesticks` -> Kline: OPEN_TIME = t * 1000, CLOSE_TIME = OPEN_TIME + interval - 1 (interval
 *   and contract from `n`, "1m_BTC_USDT"), VOLUME = `v`; the Closed flag when `w` is true. Mark / index
 *   candles ("1m_mark_BTC_USDT") name no registered contract and count as unknown symbols.
 * - `futures.tickers` -> MarkPrice: MARK = mark_price, INDEX = index_price, FUNDING_RATE = funding_rate;
 *   `result` as an array, a nested array or a bare object (all seen on the wire).
 *
 * Sizes are contracts, read from JSON integers or decimal strings (decimal-size mode) alike. Update and
 * trade ids are exact doubles: an id of 2^53 or more is refused as BadNumber rather than rounded (the
 * market channels carry none; ids beyond 2^53 are order ids, kept as text by the private decoder and the
 * REST client). Keys may come in any order with any JSON whitespace; unknown keys are skipped.
 *
 * The whole frame is validated before anything is committed; a malformed frame is counted under one reason
 * and leaves no record. Nothing is allocated per frame (no JSON.parse, no strings) except when a level
 * scratch grows for an unusually large event, or on the counted slow path of numbers.
 */
export class GateMarketDecoder implements MarketFrameDecoder {
  frames = 0;
  records = 0;
  /** malformed frames of every reason (the sum of the reason counters) */
  malformed = 0;
  syntaxErrors = 0;
  truncated = 0;
  missingField = 0;
  wrongType = 0;
  badNumber = 0;
  badValue = 0;
  ignored = 0;
  unknownSymbol = 0;
  /** elements of array pushes skipped because their contract is not registered */
  unknownSymbolElements = 0;
  ringFull = 0;
  /** subscribe / unsubscribe replies and pongs */
  controlFrames = 0;
  /** subscribe / unsubscribe replies with a non-null `error` */
  controlErrors = 0;
  internalTrades = 0;
  /** order_book_update pushes with `full: true` */
  fullBookUpdates = 0;

  private readonly sc = new ByteScanner();
  private readonly gap: Uint8Array;
  // ---- envelope of the frame being decoded
  private channel: number = C.CH_NONE;
  private event: number = C.EV_NONE;
  private resultStart = -1;
  private errorNull = true;
  /** time_ms, time (s) and the event time they give (ms, NaN if neither): doubles in a typed array, never boxed */
  private readonly env = new Float64Array(3);
  // ---- the result object being decoded
  private has = 0;
  private badType = 0;
  private badNum = 0;
  private readonly vals = new Float64Array(C.N_SLOTS);
  private symStart = 0;
  private symEnd = 0;
  private nameStart = 0;
  private nameEnd = 0;
  private bids = new Float64Array(256);
  private asks = new Float64Array(256);
  private nBids = 0;
  private nAsks = 0;
  /** why readLevels failed: WrongType / BadNumber / MissingField */
  private levelsStatus = 0;
  /** a level without its `p` or `s` */
  private levelsMissing = false;
  /** word bases and symbols of the slots claimed for the current frame */
  private bases = new Int32Array(64);
  private recSym = new Int32Array(64);
  private nBases = 0;

  constructor(
    private readonly symbols: SymbolRegistry,
    private readonly now: () => number,
  ) {
    this.gap = new Uint8Array(symbols.size);
  }

  /**
   * Decodes the frame in buf[start..end): the number of records committed to `out` (>= 1), or a negative
   * GateDecodeStatus. Never throws on bad input and never leaves a partial record behind.
   */
  decode(buf: Uint8Array, start: number, end: number, recvTs: number, out: SlotWriter): number {
    this.frames++;
    const sc = this.sc;
    sc.reset(buf, end);
    this.nBases = 0;
    const i = this.envelope(sc.ws(start));
    if (i < 0 || sc.ws(i) !== end) return this.syntaxFail(buf, start, end);
    const ev = this.event;
    const ch = this.channel;
    if (ch === C.CH_PONG || ev === C.EV_SUBSCRIBE || ev === C.EV_UNSUBSCRIBE) {
      this.controlFrames++;
      if (!this.errorNull) this.controlErrors++;
      return GateDecodeStatus.Control;
    }
    if (ev !== C.EV_UPDATE || ch === C.CH_NONE || ch === C.CH_OTHER) return this.ignore();
    const rs = this.resultStart;
    if (rs < 0) return this.reject(GateDecodeStatus.MissingField);
    const c = buf[rs]!;
    switch (ch) {
      case C.CH_BOOK_TICKER:
        if (c !== Ch.LBrace) return this.reject(GateDecodeStatus.WrongType);
        return this.single(rs, KEYS_BOOK_TICKER, recvTs, out);
      case C.CH_ORDER_BOOK_UPDATE:
        if (c !== Ch.LBrace) return this.reject(GateDecodeStatus.WrongType);
        return this.single(rs, KEYS_DEPTH, recvTs, out);
      case C.CH_TRADES:
        if (c !== Ch.LBracket) return this.reject(GateDecodeStatus.WrongType);
        return this.list(rs, KEYS_TRADE, recvTs, out);
      case C.CH_CANDLESTICKS:
        if (c !== Ch.LBracket) return this.reject(GateDecodeStatus.WrongType);
        return this.list(rs, KEYS_CANDLE, recvTs, out);
      default:
        // tickers: an object, an array of objects, or an array of arrays of objects
        if (c === Ch.LBrace) return this.single(rs, KEYS_TICKER, recvTs, out);
        if (c !== Ch.LBracket) return this.reject(GateDecodeStatus.WrongType);
        return this.list(rs, KEYS_TICKER, recvTs, out);
    }
  }

  // ------------------------------------------------------------------ envelope

  /** The top-level object: channel, event, error, time(_ms), and where `result` starts. Validates it all. */
  private envelope(i: number): number {
    const sc = this.sc;
    const buf = sc.buf;
    this.channel = C.CH_NONE;
    this.event = C.EV_NONE;
    this.resultStart = -1;
    this.errorNull = true;
    const env = this.env;
    env[0] = NaN;
    env[1] = NaN;
    env[2] = NaN;
    if (sc.at(i) !== Ch.LBrace) return -1;
    i = sc.ws(i + 1);
    if (sc.at(i) === Ch.RBrace) return i + 1;
    for (;;) {
      i = sc.string(i);
      if (i < 0) return -1;
      const ks = sc.strStart;
      const ke = sc.strEnd;
      i = sc.ws(i);
      if (sc.at(i) !== Ch.Colon) return -1;
      i = sc.ws(i + 1);
      const len = ke - ks;
      const v0 = i;
      i = sc.skipValue(i, 0);
      if (i < 0) return -1;
      if (len === 7 && bytesEqual(buf, ks, ke, LIT_CHANNEL)) {
        this.channel = buf[v0] === Ch.Quote ? findLit(buf, v0 + 1, i - 1, CHANNELS, C.CH_OTHER) : C.CH_OTHER;
      } else if (len === 5 && bytesEqual(buf, ks, ke, LIT_EVENT)) {
        this.event = buf[v0] === Ch.Quote ? findLit(buf, v0 + 1, i - 1, EVENTS, C.EV_OTHER) : C.EV_OTHER;
      } else if (len === 6 && bytesEqual(buf, ks, ke, LIT_RESULT)) {
        this.resultStart = v0;
      } else if (len === 5 && bytesEqual(buf, ks, ke, LIT_ERROR)) {
        this.errorNull = buf[v0] === Ch.LowerN;
      } else if (len === 7 && bytesEqual(buf, ks, ke, LIT_TIME_MS)) {
        if (numberAt(buf, v0, i, env, 0, true) !== i || !(env[0]! > 0)) env[0] = NaN;
      } else if (len === 4 && bytesEqual(buf, ks, ke, LIT_TIME)) {
        if (numberAt(buf, v0, i, env, 1, true) !== i || !(env[1]! > 0)) env[1] = NaN;
      }
      i = sc.ws(i);
      const c = sc.at(i);
      if (c === Ch.RBrace) {
        // the push's event time: time_ms, else time * 1000
        env[2] = env[0]!;
        if (env[2] !== env[2]) env[2] = env[1]! * 1000;
        return i + 1;
      }
      if (c !== Ch.Comma) return -1;
      i = sc.ws(i + 1);
    }
  }

  // ------------------------------------------------------------------ results

  /** A result that is one object (book_ticker, order_book_update, a bare tickers object). */
  private single(i: number, specs: KeySpec[], recvTs: number, out: SlotWriter): number {
    this.resetObject();
    this.readObject(i, specs);
    const st = this.check(specs);
    if (st !== 0) return this.reject(st);
    const sym = this.symbolOf();
    if (sym < 0) return this.unknown();
    if (this.emit(specs, sym, recvTs, out) < 0) return this.full(out);
    return this.publish(out);
  }

  /**
   * A result that is an array of objects (trades, candlesticks, tickers; for tickers also an array of
   * arrays). Elements of unregistered contracts are skipped; one malformed element rejects the frame.
   */
  private list(i: number, specs: KeySpec[], recvTs: number, out: SlotWriter): number {
    const sc = this.sc;
    const buf = sc.buf;
    let ours = 0;
    let full = false;
    let depth = 0;
    i = sc.ws(i + 1);
    for (;;) {
      const c = buf[i];
      if (c === Ch.RBracket) {
        if (depth === 0) break;
        depth--;
        i = sc.ws(i + 1);
      } else if (c === Ch.LBracket && specs === KEYS_TICKER && depth === 0) {
        depth = 1; // the nested form of tickers
        i = sc.ws(i + 1);
        continue;
      } else if (c === Ch.LBrace) {
        this.resetObject();
        i = this.readObject(i, specs);
        const st = this.check(specs);
        if (st !== 0) {
          out.abort();
          this.nBases = 0;
          return this.reject(st);
        }
        ours++;
        const sym = this.symbolOf();
        if (sym < 0) this.unknownSymbolElements++;
        else if (full) this.gap[sym] = 1;
        else if (this.emit(specs, sym, recvTs, out) < 0) full = true;
        i = sc.ws(i);
      } else {
        out.abort();
        this.nBases = 0;
        return this.reject(GateDecodeStatus.WrongType);
      }
      if (buf[i] === Ch.Comma) i = sc.ws(i + 1);
    }
    if (full) return this.full(out);
    if (this.nBases === 0) return ours === 0 ? this.ignore() : this.unknown();
    return this.publish(out);
  }

  private resetObject(): void {
    this.has = 0;
    this.badType = 0;
    this.badNum = 0;
    this.nBids = 0;
    this.nAsks = 0;
    this.levelsStatus = 0;
    this.levelsMissing = false;
    this.vals.fill(NaN);
  }

  /**
   * Reads the keys of one (already validated) object at `i` into the value slots; returns the index after
   * it. A value of the wrong JSON type sets its bit in `badType`, an unreadable number in `badNum`.
   */
  private readObject(i: number, specs: KeySpec[]): number {
    const sc = this.sc;
    const buf = sc.buf;
    const vals = this.vals;
    i = sc.ws(i + 1);
    if (buf[i] === Ch.RBrace) return i + 1;
    for (;;) {
      // keys are plain ASCII; an escaped key matches nothing we read and is skipped
      const ke0 = i + 1;
      i = sc.string(i);
      const ke = sc.strEnd;
      const k = sc.strEscaped ? -1 : findKey(buf, ke0, ke, specs);
      i = sc.ws(sc.ws(i) + 1); // past the colon
      const v0 = i;
      if (k < 0) {
        i = sc.skipValue(i, 0);
      } else {
        const spec = specs[k]!;
        const slot = spec[2];
        const bit = 1 << slot;
        const c = buf[v0]!;
        switch (spec[1]) {
          case C.K_INT: {
            const j = numberAt(buf, v0, sc.end, vals, slot, true);
            if (j >= 0) {
              this.has |= bit;
              i = j;
            } else {
              if (c === Ch.Quote || c === Ch.Minus || (c >= Ch.Zero && c <= Ch.Nine)) this.badNum |= bit;
              else this.badType |= bit;
              i = sc.skipValue(v0, 0);
            }
            break;
          }
          case C.K_DEC: {
            if (c === Ch.Quote && buf[v0 + 1] === Ch.Quote) {
              i = v0 + 2; // "" : an empty book side's price; reads as absent
              vals[slot] = NaN;
              this.has |= bit;
              break;
            }
            let j = numberAt(buf, v0, sc.end, vals, slot, false);
            if (j === -2 && (j = sc.decimal(v0)) >= 0) vals[slot] = sc.num; // exponent or long digits: exact slow path
            if (j >= 0) {
              this.has |= bit;
              i = j;
            } else {
              if (c === Ch.Quote || c === Ch.Minus || (c >= Ch.Zero && c <= Ch.Nine)) this.badNum |= bit;
              else if (c !== Ch.LowerN) this.badType |= bit; // null: absent
              i = sc.skipValue(v0, 0);
            }
            break;
          }
          case C.K_BOOL: {
            const j = sc.bool(v0);
            if (j >= 0) {
              vals[slot] = sc.num;
              this.has |= bit;
              i = j;
            } else {
              if (c !== Ch.LowerN) this.badType |= bit;
              i = sc.skipValue(v0, 0);
            }
            break;
          }
          case C.K_SYM:
          case C.K_NAME: {
            i = sc.skipValue(v0, 0);
            if (c === Ch.Quote && !sc.strEscaped) {
              this.has |= bit;
              if (slot === C.S_SYM) {
                this.symStart = v0 + 1;
                this.symEnd = i - 1;
              } else {
                this.nameStart = v0 + 1;
                this.nameEnd = i - 1;
              }
            } else if (c !== Ch.Quote) {
              this.badType |= bit;
            }
            break;
          }
          default: {
            // levels
            if (c !== Ch.LBracket) {
              this.badType |= bit;
              i = sc.skipValue(v0, 0);
              break;
            }
            const j = this.readLevels(v0, slot === C.S_LEVELS_B);
            if (j >= 0) {
              this.has |= bit;
              i = j;
            } else {
              if (this.levelsStatus === GateDecodeStatus.BadNumber) this.badNum |= bit;
              else if (this.levelsStatus === GateDecodeStatus.MissingField) this.levelsMissing = true;
              else this.badType |= bit;
              i = sc.skipValue(v0, 0);
            }
          }
        }
      }
      i = sc.ws(i);
      if (buf[i] === Ch.RBrace) return i + 1;
      i = sc.ws(i + 1); // past the comma
    }
  }

  /** `[{"p":"0.7717","s":677},...]` at `i` into the bid or ask scratch; index after it, or -1. */
  private readLevels(i: number, isBid: boolean): number {
    const sc = this.sc;
    const buf = sc.buf;
    let arr = isBid ? this.bids : this.asks;
    let n = 0;
    i = sc.ws(i + 1);
    if (buf[i] === Ch.RBracket) {
      i++;
    } else {
      for (;;) {
        if (buf[i] !== Ch.LBrace) {
          this.levelsStatus = GateDecodeStatus.WrongType;
          return -1;
        }
        if (2 * n + 2 > arr.length) {
          const grown = new Float64Array(arr.length * 2);
          grown.set(arr);
          arr = grown;
          if (isBid) this.bids = grown;
          else this.asks = grown;
        }
        let got = 0;
        i = sc.ws(i + 1);
        if (buf[i] !== Ch.RBrace) {
          for (;;) {
            const k0 = i + 1;
            i = sc.string(i);
            const k1 = sc.strEnd;
            i = sc.ws(sc.ws(i) + 1);
            let which = -1;
            if (k1 - k0 === 1) {
              if (buf[k0] === LIT_P[0]) which = 0;
              else if (buf[k0] === LIT_S[0]) which = 1;
            }
            if (which < 0) {
              i = sc.skipValue(i, 0);
            } else {
              const c = buf[i]!;
              let j = numberAt(buf, i, sc.end, arr, 2 * n + which, false);
              if (j === -2 && (j = sc.decimal(i)) >= 0) arr[2 * n + which] = sc.num;
              if (j < 0) {
                this.levelsStatus =
                  c === Ch.Quote || c === Ch.Minus || (c >= Ch.Zero && c <= Ch.Nine) ? GateDecodeStatus.BadNumber : GateDecodeStatus.WrongType;
                return -1;
              }
              got |= 1 << which;
              i = j;
            }
            i = sc.ws(i);
            if (buf[i] === Ch.RBrace) break;
            i = sc.ws(i + 1);
          }
        }
        if (got !== 3) {
          this.levelsStatus = GateDecodeStatus.MissingField;
          return -1;
        }
        n++;
        i = sc.ws(i + 1);
        const c = buf[i];
        if (c === Ch.Comma) {
          i = sc.ws(i + 1);
          continue;
        }
        i++;
        break;
      }
    }
    if (isBid) this.nBids = n;
    else this.nAsks = n;
    return i;
  }

  /** 0 when the object holds what its channel needs, else the malformed reason. */
  private check(specs: KeySpec[]): number {
    const bad = this.badType | this.badNum;
    if (bad !== 0) return (this.badType & bad) !== 0 ? GateDecodeStatus.WrongType : GateDecodeStatus.BadNumber;
    const need =
      specs === KEYS_BOOK_TICKER
        ? C.NEED_BOOK_TICKER
        : specs === KEYS_DEPTH
          ? C.NEED_DEPTH
          : specs === KEYS_TRADE
            ? C.NEED_TRADE
            : specs === KEYS_CANDLE
              ? C.NEED_CANDLE
              : C.NEED_TICKER;
    if ((this.has & need) !== need || this.levelsMissing) return GateDecodeStatus.MissingField;
    const v = this.vals;
    // a trade needs a price and a non-zero size, a ticker a mark price: "" does not do
    if (specs === KEYS_TRADE && (!(v[C.S_PRICE]! === v[C.S_PRICE]!) || !(v[C.S_SIZE]! === v[C.S_SIZE]!))) return GateDecodeStatus.MissingField;
    if (specs === KEYS_TICKER && !(v[C.S_PRICE]! === v[C.S_PRICE]!)) return GateDecodeStatus.MissingField;
    if (specs === KEYS_CANDLE) {
      for (let s = C.S_OPEN; s <= C.S_CLOSE; s++) if (!(v[s]! === v[s]!)) return GateDecodeStatus.MissingField;
      if (this.candleInterval() < 0) return GateDecodeStatus.BadValue;
    }
    return 0;
  }

  /** Interval (ms) named by the candlestick's `n`, with symStart / symEnd set to its contract; -1 if none. */
  private candleInterval(): number {
    const buf = this.sc.buf;
    const s = this.nameStart;
    const e = this.nameEnd;
    let us = s;
    while (us < e && buf[us] !== 95 /* _ */) us++;
    if (us >= e - 1) return -1;
    const ms = findLit(buf, s, us, INTERVALS, -1);
    if (ms < 0) return -1;
    this.symStart = us + 1;
    this.symEnd = e;
    return ms;
  }

  private symbolOf(): number {
    return this.symbols.lookup(this.sc.buf, this.symStart, this.symEnd);
  }

  // ------------------------------------------------------------------ records

  private emit(specs: KeySpec[], sym: number, recvTs: number, out: SlotWriter): number {
    if (specs === KEYS_BOOK_TICKER) return this.writeBookTicker(sym, recvTs, out);
    if (specs === KEYS_DEPTH) return this.writeDepth(sym, recvTs, out);
    if (specs === KEYS_TRADE) return this.writeTrade(sym, recvTs, out);
    if (specs === KEYS_CANDLE) return this.writeKline(sym, recvTs, out);
    return this.writeTicker(sym, recvTs, out);
  }

  /**
   * An optional value: its slot, NaN when absent (resetObject fills the slots with NaN). A conditional
   * expression choosing between a loaded double and NaN would box the double on the heap.
   */
  private opt(f64: Float64Array, w: number, slot: number): void {
    f64[w] = this.vals[slot]!;
  }

  private head(out: SlotWriter, base: number, type: number, flags: number, sym: number, recvTs: number): void {
    out.i32[base * 2] = packHeader(type, flags | (this.gap[sym] !== 0 ? RecordFlag.GapBefore : 0), 0);
    out.i32[base * 2 + 1] = sym;
    out.f64[base + W.RECV_TS] = recvTs;
  }

  private writeBookTicker(sym: number, recvTs: number, out: SlotWriter): number {
    const base = this.claim(sym, out);
    if (base < 0) return -1;
    const f64 = out.f64;
    const v = this.vals;
    this.head(out, base, RecordType.BookTicker, 0, sym, recvTs);
    f64[base + BT.UPDATE_ID] = v[C.S_U_LAST]!;
    f64[base + BT.EVENT_TIME] = this.env[2]!;
    this.opt(f64, base + BT.TX_TIME, C.S_T);
    f64[base + BT.BID] = v[C.S_BID]!;
    f64[base + BT.BID_QTY] = v[C.S_BID_QTY]!;
    f64[base + BT.ASK] = v[C.S_ASK]!;
    f64[base + BT.ASK_QTY] = v[C.S_ASK_QTY]!;
    return 1;
  }

  private writeTrade(sym: number, recvTs: number, out: SlotWriter): number {
    const base = this.claim(sym, out);
    if (base < 0) return -1;
    const f64 = out.f64;
    const v = this.vals;
    const has = this.has;
    this.head(out, base, RecordType.Trade, 0, sym, recvTs);
    const size = v[C.S_SIZE]!;
    const id = v[C.S_ID]!;
    f64[base + AT.TRADE_ID] = id;
    f64[base + AT.FIRST_ID] = id;
    f64[base + AT.LAST_ID] = id;
    f64[base + AT.EVENT_TIME] = this.env[2]!;
    // create_time_ms, else create_time * 1000 (NaN stays NaN); two stores rather than a conditional (no boxing)
    const wt = base + AT.TRADE_TIME;
    f64[wt] = v[C.S_TIME_MS]!;
    if (f64[wt] !== f64[wt]) f64[wt] = v[C.S_TIME_S]! * 1000;
    f64[base + AT.PRICE] = v[C.S_PRICE]!;
    f64[base + AT.QTY] = size < 0 ? -size : size;
    f64[base + AT.BUYER_MAKER] = size < 0 ? 1 : 0;
    if ((has & C.B_FLAG) !== 0 && v[C.S_FLAG] === 1) this.internalTrades++;
    return 1;
  }

  private writeTicker(sym: number, recvTs: number, out: SlotWriter): number {
    const base = this.claim(sym, out);
    if (base < 0) return -1;
    const f64 = out.f64;
    this.head(out, base, RecordType.MarkPrice, 0, sym, recvTs);
    f64[base + MP.EVENT_TIME] = this.env[2]!;
    f64[base + MP.MARK] = this.vals[C.S_PRICE]!;
    this.opt(f64, base + MP.INDEX, C.S_INDEX);
    f64[base + MP.SETTLE] = NaN;
    this.opt(f64, base + MP.FUNDING_RATE, C.S_FUNDING);
    f64[base + MP.NEXT_FUNDING_TIME] = NaN;
    return 1;
  }

  private writeKline(sym: number, recvTs: number, out: SlotWriter): number {
    const base = this.claim(sym, out);
    if (base < 0) return -1;
    const f64 = out.f64;
    const v = this.vals;
    const closed = (this.has & C.B_FLAG) !== 0 && v[C.S_FLAG] === 1;
    this.head(out, base, RecordType.Kline, closed ? RecordFlag.Closed : 0, sym, recvTs);
    const open = v[C.S_T]! * 1000;
    f64[base + KL.EVENT_TIME] = this.env[2]!;
    f64[base + KL.OPEN_TIME] = open;
    f64[base + KL.CLOSE_TIME] = open + this.candleInterval() - 1;
    f64[base + KL.OPEN] = v[C.S_OPEN]!;
    f64[base + KL.HIGH] = v[C.S_HIGH]!;
    f64[base + KL.LOW] = v[C.S_LOW]!;
    f64[base + KL.CLOSE] = v[C.S_CLOSE]!;
    f64[base + KL.VOLUME] = v[C.S_SIZE]!;
    f64[base + KL.QUOTE_VOLUME] = NaN;
    f64[base + KL.TRADES] = NaN;
    f64[base + KL.TAKER_BUY_VOLUME] = NaN;
    f64[base + KL.TAKER_BUY_QUOTE_VOLUME] = NaN;
    return 1;
  }

  /** Bids then asks, DEPTH_LEVELS_PER_RECORD to a record, First / Last on the event's first / last record. */
  private writeDepth(sym: number, recvTs: number, out: SlotWriter): number {
    const nb = this.nBids;
    const total = nb + this.nAsks;
    const L = DEPTH_LEVELS_PER_RECORD;
    const nRec = total === 0 ? 1 : ((total + L - 1) / L) | 0;
    const f64 = out.f64;
    const i32 = out.i32;
    const v = this.vals;
    const isFull = (this.has & C.B_FLAG) !== 0 && v[C.S_FLAG] === 1;
    if (isFull) this.fullBookUpdates++;
    const flags0 = isFull ? RecordFlag.Reset : 0;
    const gapFlag = this.gap[sym] !== 0 ? RecordFlag.GapBefore : 0;
    const first = v[C.S_U_FIRST]!;
    const last = v[C.S_U_LAST]!;
    const evTime = this.env[2]!;
    const txTime = v[C.S_T]!; // NaN when absent
    const bids = this.bids;
    const asks = this.asks;
    for (let r = 0; r < nRec; r++) {
      const base = this.claim(sym, out);
      if (base < 0) return -1;
      const l0 = r * L;
      let n = total - l0;
      if (n > L) n = L;
      let mask = 0;
      let w = base + DEPTH.LEVELS;
      for (let j = 0; j < n; j++, w += 2) {
        const lv = l0 + j;
        if (lv < nb) {
          f64[w] = bids[2 * lv]!;
          f64[w + 1] = bids[2 * lv + 1]!;
        } else {
          const a = lv - nb;
          f64[w] = asks[2 * a]!;
          f64[w + 1] = asks[2 * a + 1]!;
          mask |= 1 << j;
        }
      }
      for (let j = n; j < L; j++, w += 2) {
        f64[w] = 0;
        f64[w + 1] = 0;
      }
      let flags = flags0;
      if (r === 0) flags |= RecordFlag.First | gapFlag;
      if (r === nRec - 1) flags |= RecordFlag.Last;
      i32[base * 2] = packHeader(RecordType.Depth, flags, depthCount(n, mask));
      i32[base * 2 + 1] = sym;
      f64[base + W.RECV_TS] = recvTs;
      f64[base + DEPTH.FIRST_UPDATE_ID] = first;
      f64[base + DEPTH.FINAL_UPDATE_ID] = last;
      f64[base + DEPTH.PREV_UPDATE_ID] = first - 1;
      f64[base + DEPTH.EVENT_TIME] = evTime;
      f64[base + DEPTH.TX_TIME] = txTime;
    }
    return nRec;
  }

  // ------------------------------------------------------------------ claim / publish / counters

  private claim(sym: number, out: SlotWriter): number {
    const base = out.claim();
    if (base < 0) {
      this.gap[sym] = 1;
      return -1;
    }
    let n = this.nBases;
    if (n === this.bases.length) {
      const b = new Int32Array(n * 2);
      b.set(this.bases);
      this.bases = b;
      const s = new Int32Array(n * 2);
      s.set(this.recSym);
      this.recSym = s;
    }
    this.bases[n] = base;
    this.recSym[n] = sym;
    this.nBases = n + 1;
    return base;
  }

  /** Stamps PUB_TS (one clock read per frame) on every claimed record and commits them. */
  private publish(out: SlotWriter): number {
    const n = this.nBases;
    const bases = this.bases;
    const f64 = out.f64;
    const pub = this.now();
    for (let r = 0; r < n; r++) f64[bases[r]! + W.PUB_TS] = pub;
    out.commit();
    for (let r = 0; r < n; r++) this.gap[this.recSym[r]!] = 0;
    this.records += n;
    this.nBases = 0;
    return n;
  }

  private full(out: SlotWriter): number {
    out.abort();
    for (let r = 0; r < this.nBases; r++) this.gap[this.recSym[r]!] = 1;
    this.nBases = 0;
    this.ringFull++;
    return GateDecodeStatus.RingFull;
  }

  private ignore(): number {
    this.ignored++;
    return GateDecodeStatus.Ignored;
  }

  private unknown(): number {
    this.unknownSymbol++;
    return GateDecodeStatus.UnknownSymbol;
  }

  private reject(st: number): number {
    return countMalformed(this, st);
  }

  /** Not valid JSON: Truncated if it ends inside a string or an open object / array, else Malformed. */
  private syntaxFail(buf: Uint8Array, start: number, end: number): number {
    return this.reject(unparsedStatus(buf, start, end));
  }
}
