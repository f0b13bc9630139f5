import { ByteScanner, Ch, ascii, bytesEqual } from '../../core/ByteScanner.js';
import type { SymbolRegistry } from '../../core/SymbolRegistry.js';
import type { SlotWriter } from '../../ring/SlotWriter.js';
import {
  AU,
  AccountFlag,
  ExecFlag,
  OrderOrigin,
  AccountUpdateReason,
  ExecType,
  OrderStatus,
  RP,
  RecordType,
  RejectReason,
  REPORT_MSG_MAX,
  W,
  packHeader,
} from '../../ring/layout.js';

/**
 * Binance USD-M user-data stream (protocols.md §1.8) decoded straight from frame bytes into ring-C records.
 *
 * Representation decisions (ring C; the flag enums live in ring/layout.ts):
 *
 * ExecReport header flags (`ExecFlag`, bits 8..15 of the header word) and header count (`OrderOrigin`):
 * - Our orders carry client order ids `<clientIdPrefix><intentId>` (OrderEncoder); INTENT_ID is that id.
 * - Any other client order id is *foreign* (liquidation `autoclose-`, ADL `adl_autoclose`, delivery
 *   `settlement_autoclose-`, orders from the web/app or another session): INTENT_ID = -1, flag Foreign, the
 *   header count holds the OrderOrigin, and MSG holds the raw client order id (MSG_LEN bytes). Foreign fills
 *   still move the position, so consumers must apply them.
 * - TRADE_LITE gives a Fill record flagged Lite: LAST_QTY / LAST_PRICE / IS_MAKER / ORDER_ID are set; CUM_QTY,
 *   AVG_PRICE and FEE are NaN (not in the event); STATUS is Filled when the fill equals the order quantity,
 *   else PartiallyFilled (a lower bound).
 * - The ORDER_TRADE_UPDATE of a fill already reported by a TRADE_LITE is written flagged Dup: apply its
 *   STATUS / CUM_QTY / AVG_PRICE / FEE, do not add its LAST_QTY again. A TRADE_LITE arriving after its
 *   ORDER_TRADE_UPDATE writes nothing. So summing LAST_QTY over Fill records without Dup counts each fill once.
 * - Every record decoded here has flag Stream (transport responses have flags 0), because a RESULT
 *   response and the stream both report the same executions.
 * - Absent optional decimals are NaN (e.g. `ap`, `bep` in 2022 frames); absent optional times are -1.
 *
 * AccountUpdate: one record per position of `P` (symbol id in the header; flags Long/Short for hedge-mode
 * sides, Isolated), each carrying the balance of the configured margin asset from `B` when present
 * (HAS_BALANCE). With no position record, the margin asset's balance goes in one record with symbol -1.
 * Balances of other assets are counted, not written (AU has no asset word). MARGIN_CALL: one record per
 * position flagged MarginCall (REASON Other; POSITION_AMT, UNREALIZED_PNL, CROSS_WALLET_BALANCE set, other
 * values NaN) plus the listener's `onMarginCall` with mark price and maintenance margin.
 */

/** Negative results of `decode` (a result >= 0 is the number of records committed, possibly 0). */
export const enum UserDataStatus {
  /** Valid JSON that is not an event we decode (unknown or unhandled `e`, or no `e`). */
  Ignored = -1,
  /** See `malformedByReason`. Nothing was written. */
  Malformed = -2,
  /** An order event for a symbol the registry does not hold. Nothing was written. */
  UnknownSymbol = -3,
  /** Ring C had no room: nothing was written and the dedup state is unchanged, so the frame may be retried. */
  RingFull = -4,
  /** `listenKeyExpired`: the stream owner must get a new key and reconnect. */
  ListenKeyExpired = -5,
}

export const enum MalformedReason {
  /** not JSON, truncated, not an object */
  Syntax = 0,
  /** a field the event needs is absent */
  MissingField = 1,
  /** a field we read has the wrong type or an unreadable number */
  BadValue = 2,
  /** an enum string (status, execution type, side) we do not know */
  BadEnum = 3,
}

export { ExecFlag, OrderOrigin, AccountFlag } from '../../ring/layout.js';

export interface UserDataListener {
  /** After an ORDER_TRADE_UPDATE was committed (not TRADE_LITE: its cumulative state is unknown). */
  onOrderEvent?(symbolId: number, orderId: number, intentId: number, status: OrderStatus, cumQty: number, avgPrice: number, side: number, venueTime: number): void;
  /** After an ACCOUNT_UPDATE's records were committed, once per position written. */
  onPosition?(symbolId: number, sideFlags: number, positionAmt: number, eventTime: number): void;
  /** After a MARGIN_CALL's records were committed, once per position. `sideFlags` = AccountFlag Long/Short. */
  onMarginCall?(symbolId: number, sideFlags: number, positionAmt: number, markPrice: number, unrealizedPnl: number, maintMargin: number, crossWallet: number, eventTime: number): void;
}

export interface UserDataDecoderOptions {
  symbols: SymbolRegistry;
  /** The session's client order id prefix (OrderEncoder): ids `<prefix><digits>` are ours. */
  clientIdPrefix: string;
  /** Asset whose balance goes into AccountUpdate records. Default USDT. */
  marginAsset?: string;
  /** Clock for PUB_TS (ns since the process epoch). */
  now: () => number;
  listener?: UserDataListener;
  /** Dedup sets (power of two, 4 entries each). Default 256 (1024 recent fills). */
  dedupSets?: number;
}

// ---------------------------------------------------------------------------------------------- keys

/** The keys we read, as small dense ids (switches on them compile to jump tables). */
const enum K {
  Other = 0,
  data = 1,
  e = 2,
  E = 3,
  T = 4,
  o = 5,
  a = 6,
  p = 7,
  s = 8,
  c = 9,
  S = 10,
  q = 11,
  L = 12,
  l = 13,
  t = 14,
  i = 15,
  m = 16,
  x = 17,
  X = 18,
  z = 19,
  n = 20,
  B = 21,
  P = 22,
  ap = 23,
  aq = 24,
  aid = 25,
  caid = 26,
  rm = 27,
  cw = 28,
  wb = 29,
  pa = 30,
  ep = 31,
  bep = 32,
  cr = 33,
  up = 34,
  mt = 35,
  ps = 36,
  mp = 37,
  mm = 38,
}
const KEY_NAMES: ReadonlyArray<[string, K]> = [
  ['data', K.data],
  ['e', K.e],
  ['E', K.E],
  ['T', K.T],
  ['o', K.o],
  ['a', K.a],
  ['p', K.p],
  ['s', K.s],
  ['c', K.c],
  ['S', K.S],
  ['q', K.q],
  ['L', K.L],
  ['l', K.l],
  ['t', K.t],
  ['i', K.i],
  ['m', K.m],
  ['x', K.x],
  ['X', K.X],
  ['z', K.z],
  ['n', K.n],
  ['B', K.B],
  ['P', K.P],
  ['ap', K.ap],
  ['aq', K.aq],
  ['aid', K.aid],
  ['caid', K.caid],
  ['rm', K.rm],
  ['cw', K.cw],
  ['wb', K.wb],
  ['pa', K.pa],
  ['ep', K.ep],
  ['bep', K.bep],
  ['cr', K.cr],
  ['up', K.up],
  ['mt', K.mt],
  ['ps', K.ps],
  ['mp', K.mp],
  ['mm', K.mm],
];

/** Packs a key of 1..4 ASCII bytes into an int (its code in the tables below). */
function packKey(b: Uint8Array, s: number, len: number): number {
  let c = 0;
  for (let k = 0; k < len; k++) c |= b[s + k]! << (8 * k);
  return c;
}
/** One-byte keys: id by byte. */
const KEY1 = new Uint8Array(128);
/** Keys of 2..4 bytes: open-addressed table of packed codes (0 = empty) and their ids. */
const KEYN_CODE = new Int32Array(128);
const KEYN_ID = new Uint8Array(128);
function keySlot(code: number): number {
  return Math.imul(code, 0x9e3779b1) >>> 25;
}
for (const [name, id] of KEY_NAMES) {
  const b = ascii(name);
  if (b.length === 1) {
    KEY1[b[0]!] = id;
  } else {
    const code = packKey(b, 0, b.length);
    let h = keySlot(code);
    while (KEYN_CODE[h] !== 0) h = (h + 1) & 127;
    KEYN_CODE[h] = code;
    KEYN_ID[h] = id;
  }
}

/** Slots of `vals` (one per numeric field) and the bit of each in `has` / `bad`. */
const enum S {
  E = 0,
  TT = 1, // top-level T
  OT = 2, // o.T
  Q = 3,
  P = 4,
  AP = 5,
  L = 6, // l: last qty
  LP = 7, // L: last price
  Z = 8,
  N = 9,
  TID = 10,
  I = 11,
  M = 12,
  AQ = 13,
  AID = 14,
  CW = 15,
  WB = 16, // balance of the margin asset
  BCW = 17,
  N_SLOTS = 18,
  // bits without a value slot
  B_SYM = 20,
  B_CLID = 21,
  B_SIDE = 22,
  B_EXEC = 23,
  B_STATUS = 24,
  B_ACCOUNT = 25,
  B_POSITIONS = 26,
  B_REASON = 27,
  B_BAL = 28,
}

/** Event codes. */
const enum EV {
  None = 0,
  OrderTradeUpdate = 1,
  TradeLite = 2,
  AccountUpdate = 3,
  AlgoUpdate = 4,
  MarginCall = 5,
  ListenKeyExpired = 6,
  Other = 7,
}

/** Position fields (bits of posHas). */
const enum PF {
  SYM = 1 << 0,
  PA = 1 << 1,
  EP = 1 << 2,
  BEP = 1 << 3,
  CR = 1 << 4,
  UP = 1 << 5,
  MP = 1 << 6,
  MM = 1 << 7,
  BAD = 1 << 8,
  UNKNOWN_SYM = 1 << 9,
}

function words(list: string[]): Uint8Array[] {
  return list.map(ascii);
}
const EVENT_WORDS = words(['ORDER_TRADE_UPDATE', 'TRADE_LITE', 'ACCOUNT_UPDATE', 'ALGO_UPDATE', 'MARGIN_CALL', 'listenKeyExpired']);
const EVENT_CODES = [EV.OrderTradeUpdate, EV.TradeLite, EV.AccountUpdate, EV.AlgoUpdate, EV.MarginCall, EV.ListenKeyExpired];

/** `X` words of orders and algo orders (indexes are the XS codes below). */
const STATUS_WORDS = words([
  'NEW',
  'PARTIALLY_FILLED',
  'FILLED',
  'CANCELED',
  'EXPIRED',
  'EXPIRED_IN_MATCH',
  'REJECTED',
  'NEW_INSURANCE',
  'NEW_ADL',
  'TRIGGERING',
  'TRIGGERED',
  'FINISHED',
]);
const enum XS {
  New = 0,
  PartiallyFilled = 1,
  Filled = 2,
  Canceled = 3,
  Expired = 4,
  ExpiredInMatch = 5,
  Rejected = 6,
  NewInsurance = 7,
  NewAdl = 8,
  Triggering = 9,
  Triggered = 10,
  Finished = 11,
}
/** Order status of each XS code for ORDER_TRADE_UPDATE (-1: not an order status). */
const ORDER_STATUS = [
  OrderStatus.New,
  OrderStatus.PartiallyFilled,
  OrderStatus.Filled,
  OrderStatus.Canceled,
  OrderStatus.Expired,
  OrderStatus.Expired,
  OrderStatus.Rejected,
  OrderStatus.New,
  OrderStatus.New,
  -1,
  -1,
  -1,
];

const EXEC_WORDS = words(['NEW', 'TRADE', 'CANCELED', 'EXPIRED', 'CALCULATED', 'AMENDMENT', 'EXPIRED_IN_MATCH', 'REJECTED']);
const enum XE {
  New = 0,
  Trade = 1,
  Canceled = 2,
  Expired = 3,
  Calculated = 4,
  Amendment = 5,
  ExpiredInMatch = 6,
  Rejected = 7,
}

const REASON_WORDS = words(['ORDER', 'FUNDING_FEE', 'DEPOSIT', 'WITHDRAW']);
const REASON_CODES = [AccountUpdateReason.Order, AccountUpdateReason.FundingFee, AccountUpdateReason.Deposit, AccountUpdateReason.Withdraw];

const LIT_BUY = ascii('BUY');
const LIT_SELL = ascii('SELL');
const LIT_LONG = ascii('LONG');
const LIT_SHORT = ascii('SHORT');
const LIT_AUTOCLOSE = ascii('autoclose-');
const LIT_ADL = ascii('adl_autoclose');
const LIT_SETTLEMENT = ascii('settlement_autoclose-');

function matchWord(buf: Uint8Array, s: number, e: number, list: readonly Uint8Array[]): number {
  const n = e - s;
  for (let k = 0; k < list.length; k++) {
    const w = list[k]!;
    if (w.length === n && bytesEqual(buf, s, e, w)) return k;
  }
  return -1;
}

function startsWith(buf: Uint8Array, s: number, e: number, lit: Uint8Array): boolean {
  return e - s >= lit.length && bytesEqual(buf, s, s + lit.length, lit);
}

/**
 * Whose order a client order id names (the rule `decode` applies to the bytes): ours when it is the prefix
 * followed by 1..15 digits (the intent id), else foreign with the origin its prefix tells. Allocates; for
 * REST replies (reconcile), not the stream.
 */
export function parseClientOrderId(clid: string, prefix: string): { intentId: number; origin: OrderOrigin } {
  if (clid.startsWith(prefix) && /^\d{1,15}$/.test(clid.slice(prefix.length))) return { intentId: Number(clid.slice(prefix.length)), origin: OrderOrigin.Ours };
  if (clid.startsWith('autoclose-')) return { intentId: -1, origin: OrderOrigin.Liquidation };
  if (clid.startsWith('adl_autoclose')) return { intentId: -1, origin: OrderOrigin.Adl };
  if (clid.startsWith('settlement_autoclose-')) return { intentId: -1, origin: OrderOrigin.Settlement };
  return { intentId: -1, origin: OrderOrigin.Manual };
}

// ---------------------------------------------------------------------------------------------- dedup

const LITE_SEEN = 1;
const FULL_SEEN = 2;
const WAYS = 4;

/**
 * Recently seen fills keyed by (orderId, tradeId): a set-associative table (`sets` x 4 ways, oldest way
 * replaced), fixed size, no allocation. An entry that has seen both its TRADE_LITE and its
 * ORDER_TRADE_UPDATE is freed at once, so in steady state only fills waiting for their second message
 * occupy it. Losing an entry that saw only its TRADE_LITE would count that fill twice: counted in
 * `evictedPending` (it needs 4 newer fills hashing to the same set before the ORDER_TRADE_UPDATE lands).
 */
export class FillDedup {
  evictedPending = 0;
  private readonly orderIds: Float64Array;
  private readonly tradeIds: Float64Array;
  private readonly state: Uint8Array;
  private readonly age: Float64Array;
  private readonly mask: number;
  private clock = 0;

  constructor(sets: number) {
    if (sets < 1 || (sets & (sets - 1)) !== 0) throw new Error(`FillDedup: sets must be a power of two (got ${sets})`);
    this.mask = sets - 1;
    this.orderIds = new Float64Array(sets * WAYS);
    this.tradeIds = new Float64Array(sets * WAYS);
    this.state = new Uint8Array(sets * WAYS);
    this.age = new Float64Array(sets * WAYS);
  }

  private set(orderId: number, tradeId: number): number {
    // exact integers < 2^53: mix both 32-bit halves of each
    let h = Math.imul((orderId >>> 0) ^ Math.floor(orderId / 4294967296), 0x9e3779b1);
    h ^= Math.imul((tradeId >>> 0) ^ Math.floor(tradeId / 4294967296), 0x85ebca77);
    h ^= h >>> 15;
    return (h & this.mask) * WAYS;
  }

  /** LITE_SEEN | FULL_SEEN bits recorded for the fill, 0 if none. */
  lookup(orderId: number, tradeId: number): number {
    const b = this.set(orderId, tradeId);
    for (let w = b; w < b + WAYS; w++) {
      if (this.state[w] !== 0 && this.tradeIds[w] === tradeId && this.orderIds[w] === orderId) return this.state[w]!;
    }
    return 0;
  }

  /** Records `bit` for the fill; frees the entry once both messages were seen. */
  mark(orderId: number, tradeId: number, bit: number): void {
    const b = this.set(orderId, tradeId);
    let victim = b;
    for (let w = b; w < b + WAYS; w++) {
      const st = this.state[w]!;
      if (st !== 0 && this.tradeIds[w] === tradeId && this.orderIds[w] === orderId) {
        const next = st | bit;
        this.state[w] = next === (LITE_SEEN | FULL_SEEN) ? 0 : next;
        return;
      }
      if (st === 0) {
        if (this.state[victim] !== 0) victim = w;
      } else if (this.state[victim] !== 0 && this.age[w]! < this.age[victim]!) {
        victim = w;
      }
    }
    if (this.state[victim] === LITE_SEEN) this.evictedPending++;
    this.orderIds[victim] = orderId;
    this.tradeIds[victim] = tradeId;
    this.state[victim] = bit;
    this.age[victim] = ++this.clock;
  }
}

// ---------------------------------------------------------------------------------------------- decoder

const POS_CAP = 32;
const CLID_MAX = 64;

/**
 * Decodes one user-data frame per `decode` call: a raw event or a combined-stream envelope
 * (`{"stream":"<listenKey>","data":{...}}`), in any key order, unknown keys skipped. Events:
 * ORDER_TRADE_UPDATE, TRADE_LITE (deduplicated against the former), ACCOUNT_UPDATE, ALGO_UPDATE, MARGIN_CALL,
 * listenKeyExpired. Never throws on input, never commits part of an event.
 *
 * Hot path: no JSON.parse, no allocation per frame (except ByteScanner's counted slow number path and the
 * position scratch growing for an ACCOUNT_UPDATE with more than 32 positions).
 */
export class UserDataDecoder {
  frames = 0;
  records = 0;
  orderUpdates = 0;
  tradeLites = 0;
  /** TRADE_LITE frames that wrote nothing because their ORDER_TRADE_UPDATE came first (or a repeat) */
  liteDropped = 0;
  /** ORDER_TRADE_UPDATE fills written with Dup (already reported by TRADE_LITE) */
  dupFills = 0;
  accountUpdates = 0;
  algoUpdates = 0;
  marginCalls = 0;
  listenKeyExpired = 0;
  ignored = 0;
  /** events with an `e` we do not decode (ACCOUNT_CONFIG_UPDATE, STRATEGY_UPDATE, ...) */
  unknownEvents = 0;
  unknownSymbol = 0;
  /** ACCOUNT_UPDATE / MARGIN_CALL positions skipped because of an unknown symbol */
  unknownSymbolPositions = 0;
  /** balances in `B` of assets other than the margin asset */
  otherAssetBalances = 0;
  ringFull = 0;
  malformed = 0;
  /** by MalformedReason */
  readonly malformedByReason = new Uint32Array(4);
  readonly dedup: FillDedup;

  private readonly sc = new ByteScanner();
  private readonly symbols: SymbolRegistry;
  private readonly prefix: Uint8Array;
  private readonly marginAsset: Uint8Array;
  private readonly now: () => number;
  private readonly listener: UserDataListener | undefined;

  // ---- the event being decoded
  private ev: number = EV.None;
  private has = 0;
  private bad = 0;
  private inData = false;
  private key = 0;
  private readonly vals = new Float64Array(S.N_SLOTS);
  private sym = -1;
  private side = 0;
  private execCode = -1;
  private statusCode = -1;
  private reason: number = AccountUpdateReason.Other;
  private intentId = -1;
  private origin: number = OrderOrigin.Manual;
  private readonly clid = new Uint8Array(CLID_MAX);
  private clidLen = 0;
  private readonly rm = new Uint8Array(REPORT_MSG_MAX);
  private rmLen = 0;
  // positions of ACCOUNT_UPDATE.a.P / MARGIN_CALL.p
  private nPos = 0;
  private posSym = new Int32Array(POS_CAP);
  private posHas = new Int32Array(POS_CAP);
  private posFlags = new Uint8Array(POS_CAP);
  /** 8 values per position: pa, ep, bep, cr, up, mp, mm, (spare) */
  private posVals = new Float64Array(POS_CAP * 8);
  // current string span (frame bytes or the scratch)
  private spanBuf: Uint8Array;
  private spanStart = 0;
  private spanEnd = 0;
  private strOk = false;
  private readonly scratch = new Uint8Array(256);
  /** Word bases of the records claimed for the current event. */
  private lastBases = new Int32Array(POS_CAP + 1);

  constructor(opts: UserDataDecoderOptions) {
    this.symbols = opts.symbols;
    if (!/^[.A-Z:/a-z0-9_-]{1,20}$/.test(opts.clientIdPrefix)) throw new Error(`client id prefix must match [.A-Z:/a-z0-9_-]{1,20}: ${opts.clientIdPrefix}`);
    this.prefix = ascii(opts.clientIdPrefix);
    this.marginAsset = ascii(opts.marginAsset ?? 'USDT');
    this.now = opts.now;
    this.listener = opts.listener;
    this.dedup = new FillDedup(opts.dedupSets ?? 256);
    this.spanBuf = this.scratch;
  }

  /**
   * Decodes the frame in buf[start..end) into `out`. Returns the number of records committed (>= 0) or a
   * negative UserDataStatus.
   */
  decode(buf: Uint8Array, start: number, end: number, recvTs: number, out: SlotWriter): number {
    this.frames++;
    const sc = this.sc;
    sc.reset(buf, end);
    this.resetEvent();
    this.inData = false;
    let i = sc.ws(start);
    if (sc.at(i) !== Ch.LBrace) return this.malform(MalformedReason.Syntax);
    i = this.scanEvent(i, true);
    if (i < 0 || sc.ws(i) !== end) return this.malform(MalformedReason.Syntax);
    switch (this.ev) {
      case EV.OrderTradeUpdate:
        return this.orderTradeUpdate(recvTs, out);
      case EV.TradeLite:
        return this.tradeLite(recvTs, out);
      case EV.AccountUpdate:
        return this.accountUpdate(recvTs, out);
      case EV.AlgoUpdate:
        return this.algoUpdate(recvTs, out);
      case EV.MarginCall:
        return this.marginCall(recvTs, out);
      case EV.ListenKeyExpired:
        this.listenKeyExpired++;
        return UserDataStatus.ListenKeyExpired;
      case EV.Other:
        this.unknownEvents++;
        this.ignored++;
        return UserDataStatus.Ignored;
      default:
        this.ignored++;
        return UserDataStatus.Ignored;
    }
  }

  private resetEvent(): void {
    this.ev = EV.None;
    this.has = 0;
    this.bad = 0;
    this.sym = -1;
    this.side = 0;
    this.execCode = -1;
    this.statusCode = -1;
    this.reason = AccountUpdateReason.Other;
    this.intentId = -1;
    this.origin = OrderOrigin.Manual;
    this.clidLen = 0;
    this.rmLen = 0;
    this.nPos = 0;
  }

  private malform(reason: MalformedReason): number {
    this.malformed++;
    this.malformedByReason[reason]!++;
    return UserDataStatus.Malformed;
  }

  // ------------------------------------------------------------------ scanning

  /**
   * A key string at `i`: sets `key` to its K id (K.Other for keys we skip, such as the envelope's
   * `stream`); returns the index after its closing quote, or -1.
   */
  private readKey(i: number): number {
    const sc = this.sc;
    const buf = sc.buf;
    if (buf[i] !== Ch.Quote) return -1;
    const c1 = buf[i + 1]!;
    if (buf[i + 2] === Ch.Quote && c1 > Ch.Quote && c1 < 128 && c1 !== Ch.Backslash && i + 2 < sc.end) {
      // a plain one-letter key, the common case
      this.key = KEY1[c1]!;
      return i + 3;
    }
    let b: Uint8Array = buf;
    let s = i + 1;
    let e = sc.plainStringEnd(s);
    let next: number;
    if (e >= 0) {
      next = e + 1;
    } else {
      next = sc.string(i);
      if (next < 0) return -1;
      s = sc.strStart;
      e = sc.strEnd;
      if (sc.strEscaped) {
        const n = sc.unescapeAscii(sc.strStart, sc.strEnd, this.scratch);
        if (n < 0) {
          // not ASCII: not one of our keys
          this.key = K.Other;
          return next;
        }
        b = this.scratch;
        s = 0;
        e = n;
      }
    }
    const len = e - s;
    let id: number = K.Other;
    if (len === 1) {
      const c = b[s]!;
      id = c < 128 ? KEY1[c]! : K.Other;
    } else if (len >= 2 && len <= 4) {
      const code = packKey(b, s, len);
      let h = keySlot(code);
      for (;;) {
        const k = KEYN_CODE[h]!;
        if (k === code) {
          id = KEYN_ID[h]!;
          break;
        }
        if (k === 0) break;
        h = (h + 1) & 127;
      }
    }
    this.key = id;
    return next;
  }

  /** `:` after a key, whitespace around it; index of the value, or -1. */
  private colon(i: number): number {
    const sc = this.sc;
    const buf = sc.buf;
    if (buf[i] !== Ch.Colon) {
      i = sc.ws(i);
      if (sc.at(i) !== Ch.Colon) return -1;
    }
    i++;
    const c = sc.at(i);
    if (c >= 0 && c <= Ch.Space) i = sc.ws(i);
    return i < sc.end ? i : -1;
  }

  /** `,` (returns the index of the next key), `}` (returns -(index after it) - 2), else -1. */
  private next(i: number, close: number): number {
    const sc = this.sc;
    let c = sc.at(i);
    if (c >= 0 && c <= Ch.Space) {
      i = sc.ws(i);
      c = sc.at(i);
    }
    if (c === Ch.Comma) {
      i++;
      c = sc.at(i);
      if (c >= 0 && c <= Ch.Space) i = sc.ws(i);
      return i;
    }
    if (c === close) return -(i + 1) - 2;
    return -1;
  }

  /** Opening `{` or `[` at `i`: index of the first content byte, or -(index after the empty container) - 2. */
  private open(i: number, close: number): number {
    const sc = this.sc;
    i++;
    let c = sc.at(i);
    if (c >= 0 && c <= Ch.Space) {
      i = sc.ws(i);
      c = sc.at(i);
    }
    if (c === close) return -(i + 1) - 2;
    return i < sc.end ? i : -1;
  }

  private int(i: number, slot: number): number {
    const j = this.sc.int(i);
    if (j >= 0) {
      this.vals[slot] = this.sc.num;
      this.has |= 1 << slot;
      this.bad &= ~(1 << slot);
      return j;
    }
    this.has &= ~(1 << slot);
    this.bad |= 1 << slot;
    return this.sc.skipValue(i, 1);
  }

  private dec(i: number, slot: number): number {
    const j = this.sc.decimal(i);
    if (j >= 0) {
      this.vals[slot] = this.sc.num;
      this.has |= 1 << slot;
      this.bad &= ~(1 << slot);
      return j;
    }
    this.has &= ~(1 << slot);
    this.bad |= 1 << slot;
    return this.sc.skipValue(i, 1);
  }

  private bool(i: number, slot: number): number {
    const j = this.sc.bool(i);
    if (j >= 0) {
      this.vals[slot] = this.sc.num;
      this.has |= 1 << slot;
      this.bad &= ~(1 << slot);
      return j;
    }
    this.has &= ~(1 << slot);
    this.bad |= 1 << slot;
    return this.sc.skipValue(i, 1);
  }

  private setBit(b: number, ok: boolean): void {
    if (ok) {
      this.has |= 1 << b;
      this.bad &= ~(1 << b);
    } else {
      this.has &= ~(1 << b);
      this.bad |= 1 << b;
    }
  }

  /**
   * A string value at `i`: spanBuf[spanStart..spanEnd) holds its (unescaped ASCII) bytes and strOk is true;
   * strOk is false if the value is another type or a string we cannot hold. Index after the value, or -1.
   */
  private str(i: number): number {
    const sc = this.sc;
    const buf = sc.buf;
    if (buf[i] !== Ch.Quote) {
      this.strOk = false;
      return sc.skipValue(i, 1);
    }
    const q = sc.plainStringEnd(i + 1);
    if (q >= 0) {
      this.spanBuf = buf;
      this.spanStart = i + 1;
      this.spanEnd = q;
      this.strOk = true;
      return q + 1;
    }
    const j = sc.string(i);
    if (j < 0) return -1;
    if (sc.strEscaped) {
      const n = sc.unescapeAscii(sc.strStart, sc.strEnd, this.scratch);
      this.spanBuf = this.scratch;
      this.spanStart = 0;
      this.spanEnd = n < 0 ? 0 : n;
      this.strOk = n >= 0;
    } else {
      this.spanBuf = buf;
      this.spanStart = sc.strStart;
      this.spanEnd = sc.strEnd;
      this.strOk = true;
    }
    return j;
  }

  /**
   * An event object (top: the frame itself, where `data` holding an object means a combined-stream
   * envelope: keys before it are discarded, keys after it ignored). Index after the `}`, or -1.
   */
  private scanEvent(i: number, top: boolean): number {
    const sc = this.sc;
    i = this.open(i, Ch.RBrace);
    if (i < -1) return -i - 2;
    while (i >= 0) {
      i = this.readKey(i);
      if (i < 0) return -1;
      const key = this.key;
      i = this.colon(i);
      if (i < 0) return -1;
      const c = sc.buf[i]!;
      if (top && this.inData) {
        i = this.skip(i);
      } else if (top && key === K.data && c === Ch.LBrace) {
        this.resetEvent();
        this.inData = true;
        i = this.scanEvent(i, false);
      } else {
        switch (key) {
          case K.e:
            i = this.str(i);
            if (i >= 0) {
              const k = this.strOk ? matchWord(this.spanBuf, this.spanStart, this.spanEnd, EVENT_WORDS) : -1;
              this.ev = k >= 0 ? EVENT_CODES[k]! : EV.Other;
            }
            break;
          case K.E:
            i = this.int(i, S.E);
            break;
          case K.T:
            i = this.int(i, S.TT);
            break;
          case K.o:
            i = c === Ch.LBrace ? this.scanOrder(i) : sc.skipValue(i, 1);
            break;
          case K.a:
            if (c === Ch.LBrace) {
              i = this.scanAccount(i);
              this.setBit(S.B_ACCOUNT, true);
            } else i = sc.skipValue(i, 1);
            break;
          case K.p:
            if (c === Ch.LBracket) {
              i = this.scanPositions(i);
              this.setBit(S.B_POSITIONS, true);
            } else i = this.dec(i, S.P);
            break;
          case K.cw:
            i = this.dec(i, S.CW);
            break;
          default:
            // TRADE_LITE keeps its fields at top level, with the same meaning as in ORDER_TRADE_UPDATE.o
            i = this.orderField(key, i);
        }
      }
      if (i < 0) return -1;
      i = this.next(i, Ch.RBrace);
      if (i < -1) return -i - 2;
    }
    return -1;
  }

  /** One field of an order object (or of TRADE_LITE); unknown keys skipped. */
  private orderField(key: number, i: number): number {
    switch (key) {
      case K.s: {
        i = this.str(i);
        if (i >= 0) {
          this.sym = this.strOk ? this.symbols.lookup(this.spanBuf, this.spanStart, this.spanEnd) : -1;
          this.setBit(S.B_SYM, this.strOk);
        }
        return i;
      }
      case K.c:
      case K.caid:
        i = this.str(i);
        if (i >= 0) {
          if (this.strOk) this.clientId(this.spanBuf, this.spanStart, this.spanEnd);
          this.setBit(S.B_CLID, this.strOk);
        }
        return i;
      case K.S:
        i = this.str(i);
        if (i >= 0) {
          const b = this.spanBuf;
          this.side = !this.strOk ? 0 : bytesEqual(b, this.spanStart, this.spanEnd, LIT_BUY) ? 1 : bytesEqual(b, this.spanStart, this.spanEnd, LIT_SELL) ? -1 : 0;
          this.setBit(S.B_SIDE, this.strOk);
        }
        return i;
      case K.x:
        i = this.str(i);
        if (i >= 0) {
          this.execCode = this.strOk ? matchWord(this.spanBuf, this.spanStart, this.spanEnd, EXEC_WORDS) : -1;
          this.setBit(S.B_EXEC, this.strOk);
        }
        return i;
      case K.X:
        i = this.str(i);
        if (i >= 0) {
          this.statusCode = this.strOk ? matchWord(this.spanBuf, this.spanStart, this.spanEnd, STATUS_WORDS) : -1;
          this.setBit(S.B_STATUS, this.strOk);
        }
        return i;
      case K.rm:
        i = this.str(i);
        if (i >= 0 && this.strOk) {
          const n = Math.min(this.spanEnd - this.spanStart, this.rm.length);
          for (let k = 0; k < n; k++) this.rm[k] = this.spanBuf[this.spanStart + k]!;
          this.rmLen = n;
        }
        return i;
      case K.q:
        return this.dec(i, S.Q);
      case K.p:
        return this.dec(i, S.P);
      case K.ap:
        return this.dec(i, S.AP);
      case K.l:
        return this.dec(i, S.L);
      case K.L:
        return this.dec(i, S.LP);
      case K.z:
        return this.dec(i, S.Z);
      case K.n:
        return this.dec(i, S.N);
      case K.aq:
        return this.dec(i, S.AQ);
      case K.t:
        return this.int(i, S.TID);
      case K.i:
        return this.int(i, S.I);
      case K.aid:
        return this.int(i, S.AID);
      case K.m:
        return this.bool(i, S.M);
      default:
        return this.skip(i);
    }
  }

  /**
   * Skips a value we do not read. Inline for what order events are full of (plain strings, non-negative
   * ints, booleans), validated in full by ByteScanner.skipValue otherwise.
   */
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

  /** The `o` object of ORDER_TRADE_UPDATE / ALGO_UPDATE. */
  private scanOrder(i: number): number {
    i = this.open(i, Ch.RBrace);
    if (i < -1) return -i - 2;
    while (i >= 0) {
      i = this.readKey(i);
      if (i < 0) return -1;
      const key = this.key;
      i = this.colon(i);
      if (i < 0) return -1;
      i = key === K.T ? this.int(i, S.OT) : this.orderField(key, i);
      if (i < 0) return -1;
      i = this.next(i, Ch.RBrace);
      if (i < -1) return -i - 2;
    }
    return -1;
  }

  /** Client order id: ours (`<prefix><digits>`) sets intentId, else origin tells whose. Keeps the bytes. */
  private clientId(b: Uint8Array, s: number, e: number): void {
    const n = Math.min(e - s, CLID_MAX);
    for (let k = 0; k < n; k++) this.clid[k] = b[s + k]!;
    this.clidLen = n;
    this.intentId = -1;
    const p = this.prefix;
    const digits = e - s - p.length;
    if (digits >= 1 && digits <= 15 && bytesEqual(b, s, s + p.length, p)) {
      let v = 0;
      let k = s + p.length;
      for (; k < e; k++) {
        const d = b[k]! - Ch.Zero;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      if (k === e) {
        this.intentId = v;
        this.origin = OrderOrigin.Ours;
        return;
      }
    }
    if (startsWith(b, s, e, LIT_AUTOCLOSE)) this.origin = OrderOrigin.Liquidation;
    else if (startsWith(b, s, e, LIT_ADL)) this.origin = OrderOrigin.Adl;
    else if (startsWith(b, s, e, LIT_SETTLEMENT)) this.origin = OrderOrigin.Settlement;
    else this.origin = OrderOrigin.Manual;
  }

  /** ACCOUNT_UPDATE `a`: B (balances), P (positions), m (reason). */
  private scanAccount(i: number): number {
    const sc = this.sc;
    i = this.open(i, Ch.RBrace);
    if (i < -1) return -i - 2;
    while (i >= 0) {
      i = this.readKey(i);
      if (i < 0) return -1;
      const key = this.key;
      i = this.colon(i);
      if (i < 0) return -1;
      const c = sc.buf[i]!;
      if (key === K.B && c === Ch.LBracket) i = this.scanBalances(i);
      else if (key === K.P && c === Ch.LBracket) {
        i = this.scanPositions(i);
        this.setBit(S.B_POSITIONS, true);
      } else if (key === K.m) {
        i = this.str(i);
        if (i >= 0) {
          const k = this.strOk ? matchWord(this.spanBuf, this.spanStart, this.spanEnd, REASON_WORDS) : -1;
          this.reason = k >= 0 ? REASON_CODES[k]! : AccountUpdateReason.Other;
          this.setBit(S.B_REASON, this.strOk);
        }
      } else i = sc.skipValue(i, 1);
      if (i < 0) return -1;
      i = this.next(i, Ch.RBrace);
      if (i < -1) return -i - 2;
    }
    return -1;
  }

  /** `B`: keeps wb / cw of the margin asset. */
  private scanBalances(i: number): number {
    const sc = this.sc;
    i = this.open(i, Ch.RBracket);
    if (i < -1) return -i - 2;
    while (i >= 0) {
      if (sc.at(i) !== Ch.LBrace) {
        this.setBit(S.B_BAL, false);
        i = sc.skipValue(i, 1);
      } else {
        let mine = false;
        let wb = NaN;
        let cw = NaN;
        let ok = true;
        i = this.open(i, Ch.RBrace);
        if (i < -1) i = -i - 2;
        else {
          while (i >= 0) {
            i = this.readKey(i);
            if (i < 0) return -1;
            const key = this.key;
            i = this.colon(i);
            if (i < 0) return -1;
            if (key === K.a) {
              i = this.str(i);
              mine = this.strOk && bytesEqual(this.spanBuf, this.spanStart, this.spanEnd, this.marginAsset);
            } else if (key === K.wb || key === K.cw) {
              const j = sc.decimal(i);
              if (j >= 0) {
                if (key === K.wb) wb = sc.num;
                else cw = sc.num;
                i = j;
              } else {
                ok = false;
                i = sc.skipValue(i, 1);
              }
            } else i = sc.skipValue(i, 1);
            if (i < 0) return -1;
            i = this.next(i, Ch.RBrace);
            if (i < -1) {
              i = -i - 2;
              break;
            }
          }
          if (i < 0) return -1;
        }
        if (mine) {
          this.vals[S.WB] = wb;
          this.vals[S.BCW] = cw;
          this.setBit(S.B_BAL, ok);
        } else this.otherAssetBalances++;
      }
      if (i < 0) return -1;
      i = this.next(i, Ch.RBracket);
      if (i < -1) return -i - 2;
    }
    return -1;
  }

  private growPositions(): void {
    const cap = this.posSym.length * 2;
    const sym = new Int32Array(cap);
    sym.set(this.posSym);
    const has = new Int32Array(cap);
    has.set(this.posHas);
    const flags = new Uint8Array(cap);
    flags.set(this.posFlags);
    const vals = new Float64Array(cap * 8);
    vals.set(this.posVals);
    this.lastBases = new Int32Array(cap + 1);
    this.posSym = sym;
    this.posHas = has;
    this.posFlags = flags;
    this.posVals = vals;
  }

  /** Position objects of ACCOUNT_UPDATE `P` or MARGIN_CALL `p`. */
  private scanPositions(i: number): number {
    const sc = this.sc;
    i = this.open(i, Ch.RBracket);
    if (i < -1) return -i - 2;
    while (i >= 0) {
      if (this.nPos >= this.posSym.length) this.growPositions();
      const n = this.nPos++;
      let ph = 0;
      let flags = 0;
      const pv = this.posVals;
      const v0 = n * 8;
      for (let k = 0; k < 8; k++) pv[v0 + k] = NaN;
      this.posSym[n] = -1;
      if (sc.at(i) !== Ch.LBrace) {
        ph |= PF.BAD;
        i = sc.skipValue(i, 1);
      } else {
        i = this.open(i, Ch.RBrace);
        if (i < -1) i = -i - 2;
        else {
          while (i >= 0) {
            i = this.readKey(i);
            if (i < 0) return -1;
            const key = this.key;
            i = this.colon(i);
            if (i < 0) return -1;
            let slot = -1;
            let bit = 0;
            switch (key) {
              case K.s:
                i = this.str(i);
                if (this.strOk) {
                  const id = this.symbols.lookup(this.spanBuf, this.spanStart, this.spanEnd);
                  this.posSym[n] = id;
                  ph |= id >= 0 ? PF.SYM : PF.SYM | PF.UNKNOWN_SYM;
                } else ph |= PF.BAD;
                break;
              case K.ps:
                i = this.str(i);
                if (this.strOk) {
                  if (bytesEqual(this.spanBuf, this.spanStart, this.spanEnd, LIT_LONG)) flags |= AccountFlag.Long;
                  else if (bytesEqual(this.spanBuf, this.spanStart, this.spanEnd, LIT_SHORT)) flags |= AccountFlag.Short;
                }
                break;
              case K.mt:
                i = this.str(i);
                // cross / isolated (ACCOUNT_UPDATE), CROSSED / ISOLATED (MARGIN_CALL)
                if (this.strOk && this.spanEnd > this.spanStart && (this.spanBuf[this.spanStart]! | 0x20) === 105) flags |= AccountFlag.Isolated;
                break;
              case K.pa:
                slot = 0;
                bit = PF.PA;
                break;
              case K.ep:
                slot = 1;
                bit = PF.EP;
                break;
              case K.bep:
                slot = 2;
                bit = PF.BEP;
                break;
              case K.cr:
                slot = 3;
                bit = PF.CR;
                break;
              case K.up:
                slot = 4;
                bit = PF.UP;
                break;
              case K.mp:
                slot = 5;
                bit = PF.MP;
                break;
              case K.mm:
                slot = 6;
                bit = PF.MM;
                break;
              default:
                i = this.skip(i);
            }
            if (slot >= 0) {
              const j = sc.decimal(i);
              if (j >= 0) {
                pv[v0 + slot] = sc.num;
                ph |= bit;
                i = j;
              } else {
                ph |= PF.BAD;
                i = sc.skipValue(i, 1);
              }
            }
            if (i < 0) return -1;
            i = this.next(i, Ch.RBrace);
            if (i < -1) {
              i = -i - 2;
              break;
            }
          }
          if (i < 0) return -1;
        }
      }
      this.posHas[n] = ph;
      this.posFlags[n] = flags;
      if (i < 0) return -1;
      i = this.next(i, Ch.RBracket);
      if (i < -1) return -i - 2;
    }
    return -1;
  }

  // ------------------------------------------------------------------ records

  private need(mask: number): number {
    if ((this.bad & mask) !== 0) return MalformedReason.BadValue;
    if ((this.has & mask) !== mask) return MalformedReason.MissingField;
    return -1;
  }

  /** Fields every order event must carry with a readable value. */
  private static readonly NEED_OTU = (1 << S.B_SYM) | (1 << S.B_SIDE) | (1 << S.B_EXEC) | (1 << S.B_STATUS) | (1 << S.I) | (1 << S.L) | (1 << S.LP) | (1 << S.Z);
  /** Optional fields whose bad value still makes the frame malformed (we would write them). */
  private static readonly USED_OTU = (1 << S.AP) | (1 << S.N) | (1 << S.TID) | (1 << S.M) | (1 << S.OT) | (1 << S.TT) | (1 << S.E) | (1 << S.B_CLID);
  private static readonly NEED_LITE = (1 << S.B_SYM) | (1 << S.B_SIDE) | (1 << S.I) | (1 << S.TID) | (1 << S.L) | (1 << S.LP);
  private static readonly USED_LITE = (1 << S.Q) | (1 << S.M) | (1 << S.TT) | (1 << S.E) | (1 << S.B_CLID);
  private static readonly NEED_ALGO = (1 << S.B_SYM) | (1 << S.B_SIDE) | (1 << S.B_STATUS) | (1 << S.AID);
  private static readonly USED_ALGO = (1 << S.AQ) | (1 << S.AP) | (1 << S.TT) | (1 << S.E) | (1 << S.B_CLID);

  private opt(slot: number, missing: number): number {
    return (this.has & (1 << slot)) !== 0 ? this.vals[slot]! : missing;
  }

  /** Venue time of an order event: o.T, else T, else E, else -1. */
  private venueTime(): number {
    const h = this.has;
    if ((h & (1 << S.OT)) !== 0) return this.vals[S.OT]!;
    if ((h & (1 << S.TT)) !== 0) return this.vals[S.TT]!;
    if ((h & (1 << S.E)) !== 0) return this.vals[S.E]!;
    return -1;
  }

  private ringFullStatus(out: SlotWriter): number {
    out.abort();
    this.ringFull++;
    return UserDataStatus.RingFull;
  }

  /**
   * A value slot for writeExec: its value when read, else `absent`; slot -1 = NaN, -2 = 0. Slots rather
   * than values are passed so that no double crosses a call boundary (each would be a heap number).
   */
  private val(slot: number, absent: number): number {
    if (slot >= 0) return (this.has & (1 << slot)) !== 0 ? this.vals[slot]! : absent;
    return slot === -1 ? NaN : 0;
  }

  /**
   * Writes an ExecReport from the decoded event: quantities and prices from value slots (see `val`);
   * MSG = the client order id of a foreign order, else `rm` (algo reject reason) if any.
   */
  private writeExec(
    out: SlotWriter, base: number, flags: number, recvTs: number, status: number, execType: number,
    lastQtyS: number, lastPriceS: number, cumQtyS: number, avgPriceS: number, feeS: number, orderIdS: number, makerS: number,
  ): void {
    const f64 = out.f64;
    const foreign = this.intentId < 0;
    if (foreign) flags |= ExecFlag.Foreign;
    out.i32[base * 2] = packHeader(RecordType.ExecReport, flags | ExecFlag.Stream, foreign ? this.origin : OrderOrigin.Ours);
    out.i32[base * 2 + 1] = this.sym;
    f64[base + W.RECV_TS] = recvTs;
    f64[base + RP.INTENT_ID] = this.intentId;
    f64[base + RP.STATUS] = status;
    f64[base + RP.EXEC_TYPE] = execType;
    f64[base + RP.SIDE] = this.side;
    f64[base + RP.LAST_QTY] = this.val(lastQtyS, 0);
    f64[base + RP.LAST_PRICE] = this.val(lastPriceS, 0);
    f64[base + RP.CUM_QTY] = this.val(cumQtyS, NaN);
    f64[base + RP.AVG_PRICE] = this.val(avgPriceS, NaN);
    f64[base + RP.FEE] = this.val(feeS, 0);
    f64[base + RP.ORDER_ID] = this.val(orderIdS, 0);
    f64[base + RP.ERROR_CODE] = 0;
    f64[base + RP.SENT_TS] = 0;
    f64[base + RP.ACK_TS] = recvTs;
    f64[base + RP.VENUE_TIME] = this.venueTime();
    f64[base + RP.IS_MAKER] = this.val(makerS, 0);
    f64[base + RP.REASON] = status === OrderStatus.Rejected ? RejectReason.Venue : RejectReason.None;
    const u8 = out.u8;
    const m0 = (base + RP.MSG) * 8;
    let len = 0;
    if (foreign) {
      len = Math.min(this.clidLen, REPORT_MSG_MAX);
      for (let k = 0; k < len; k++) u8[m0 + k] = this.clid[k]!;
    } else if (this.rmLen > 0) {
      len = this.rmLen;
      for (let k = 0; k < len; k++) u8[m0 + k] = this.rm[k]!;
    }
    f64[base + RP.MSG_LEN] = len;
    f64[base + W.PUB_TS] = this.now();
  }

  private orderTradeUpdate(recvTs: number, out: SlotWriter): number {
    this.orderUpdates++;
    let r = this.need(UserDataDecoder.NEED_OTU);
    if (r < 0 && (this.bad & UserDataDecoder.USED_OTU) !== 0) r = MalformedReason.BadValue;
    if (r >= 0) return this.malform(r);
    const status = this.statusCode >= 0 ? ORDER_STATUS[this.statusCode]! : -1;
    if (status < 0 || this.execCode < 0 || this.side === 0) return this.malform(MalformedReason.BadEnum);
    if (this.sym < 0) {
      this.unknownSymbol++;
      return UserDataStatus.UnknownSymbol;
    }
    const v = this.vals;
    const lastQty = v[S.L]!;
    let execType: number;
    let flags = 0;
    switch (this.execCode) {
      case XE.New:
        execType = ExecType.Ack;
        break;
      case XE.Trade:
        execType = ExecType.Fill;
        break;
      case XE.Canceled:
        execType = ExecType.Canceled;
        break;
      case XE.Expired:
      case XE.ExpiredInMatch:
        execType = ExecType.Expired;
        break;
      case XE.Calculated:
        // a liquidation execution: a fill when it carries quantity
        flags |= ExecFlag.Liquidation;
        execType = lastQty > 0 ? ExecType.Fill : ExecType.Ack;
        break;
      case XE.Amendment:
        // the order stays open with a new price/quantity (no words for them in RP: consumers re-query if needed)
        flags |= ExecFlag.Amended;
        execType = ExecType.Ack;
        break;
      default:
        execType = ExecType.Reject;
    }
    const orderId = v[S.I]!;
    const tradeId = this.opt(S.TID, 0);
    const isFill = execType === ExecType.Fill && tradeId > 0;
    if (isFill && this.dedup.lookup(orderId, tradeId) !== 0) {
      flags |= ExecFlag.Dup;
      this.dupFills++;
    }
    const base = out.claim();
    if (base < 0) return this.ringFullStatus(out);
    this.writeExec(out, base, flags, recvTs, status, execType, S.L, S.LP, S.Z, S.AP, S.N, S.I, S.M);
    out.commit();
    if (isFill) this.dedup.mark(orderId, tradeId, FULL_SEEN);
    this.records++;
    this.listener?.onOrderEvent?.(this.sym, orderId, this.intentId, status, v[S.Z]!, this.opt(S.AP, NaN), this.side, this.venueTime());
    return 1;
  }

  private tradeLite(recvTs: number, out: SlotWriter): number {
    this.tradeLites++;
    let r = this.need(UserDataDecoder.NEED_LITE);
    if (r < 0 && (this.bad & UserDataDecoder.USED_LITE) !== 0) r = MalformedReason.BadValue;
    if (r >= 0) return this.malform(r);
    if (this.side === 0) return this.malform(MalformedReason.BadEnum);
    if (this.sym < 0) {
      this.unknownSymbol++;
      return UserDataStatus.UnknownSymbol;
    }
    const v = this.vals;
    const orderId = v[S.I]!;
    const tradeId = v[S.TID]!;
    if (this.dedup.lookup(orderId, tradeId) !== 0) {
      // its ORDER_TRADE_UPDATE (or this same TRADE_LITE) was already reported
      this.liteDropped++;
      return 0;
    }
    const lastQty = v[S.L]!;
    const status = (this.has & (1 << S.Q)) !== 0 && lastQty === v[S.Q]! ? OrderStatus.Filled : OrderStatus.PartiallyFilled;
    const base = out.claim();
    if (base < 0) return this.ringFullStatus(out);
    this.writeExec(out, base, ExecFlag.Lite, recvTs, status, ExecType.Fill, S.L, S.LP, -1, -1, -1, S.I, S.M);
    out.commit();
    this.dedup.mark(orderId, tradeId, LITE_SEEN);
    this.records++;
    return 1;
  }

  private algoUpdate(recvTs: number, out: SlotWriter): number {
    this.algoUpdates++;
    let r = this.need(UserDataDecoder.NEED_ALGO);
    if (r < 0 && (this.bad & UserDataDecoder.USED_ALGO) !== 0) r = MalformedReason.BadValue;
    if (r >= 0) return this.malform(r);
    let status: number;
    let execType: number;
    switch (this.statusCode) {
      case XS.New:
      case XS.Triggering:
      case XS.Triggered:
        status = OrderStatus.New;
        execType = ExecType.Ack;
        break;
      case XS.Finished:
        // triggered and done; its fills are reported by the triggered order's own ORDER_TRADE_UPDATE
        status = OrderStatus.Filled;
        execType = ExecType.Ack;
        break;
      case XS.Canceled:
        status = OrderStatus.Canceled;
        execType = ExecType.Canceled;
        break;
      case XS.Expired:
      case XS.ExpiredInMatch:
        status = OrderStatus.Expired;
        execType = ExecType.Expired;
        break;
      case XS.Rejected:
        status = OrderStatus.Rejected;
        execType = ExecType.Reject;
        break;
      default:
        return this.malform(MalformedReason.BadEnum);
    }
    if (this.side === 0) return this.malform(MalformedReason.BadEnum);
    if (this.sym < 0) {
      this.unknownSymbol++;
      return UserDataStatus.UnknownSymbol;
    }
    const base = out.claim();
    if (base < 0) return this.ringFullStatus(out);
    this.writeExec(out, base, ExecFlag.Algo, recvTs, status, execType, -2, -2, S.AQ, S.AP, -2, S.AID, -2);
    out.commit();
    this.records++;
    return 1;
  }

  /** Validates the position list; -1 if fine, else a MalformedReason. */
  private checkPositions(): number {
    for (let k = 0; k < this.nPos; k++) {
      const ph = this.posHas[k]!;
      if ((ph & PF.BAD) !== 0) return MalformedReason.BadValue;
      if ((ph & (PF.SYM | PF.PA)) !== (PF.SYM | PF.PA)) return MalformedReason.MissingField;
    }
    return -1;
  }

  private accountUpdate(recvTs: number, out: SlotWriter): number {
    this.accountUpdates++;
    if ((this.has & (1 << S.B_ACCOUNT)) === 0) return this.malform(MalformedReason.MissingField);
    if ((this.bad & ((1 << S.B_BAL) | (1 << S.E) | (1 << S.B_REASON))) !== 0) return this.malform(MalformedReason.BadValue);
    const pr = this.checkPositions();
    if (pr >= 0) return this.malform(pr);
    const hasBal = (this.has & (1 << S.B_BAL)) !== 0;
    const eventTime = this.opt(S.E, -1);
    const v = this.vals;
    const f64 = out.f64;
    const i32 = out.i32;
    let n = 0;
    for (let k = 0; k < this.nPos; k++) {
      if ((this.posHas[k]! & PF.UNKNOWN_SYM) !== 0) continue;
      const base = out.claim();
      if (base < 0) return this.ringFullStatus(out);
      this.lastBases[n] = base;
      const pv = this.posVals;
      const v0 = k * 8;
      i32[base * 2] = packHeader(RecordType.AccountUpdate, this.posFlags[k]!, 0);
      i32[base * 2 + 1] = this.posSym[k]!;
      f64[base + W.RECV_TS] = recvTs;
      f64[base + AU.EVENT_TIME] = eventTime;
      f64[base + AU.POSITION_AMT] = pv[v0]!;
      f64[base + AU.ENTRY_PRICE] = pv[v0 + 1]!;
      f64[base + AU.BREAK_EVEN_PRICE] = pv[v0 + 2]!;
      f64[base + AU.REALIZED_PNL] = pv[v0 + 3]!;
      f64[base + AU.UNREALIZED_PNL] = pv[v0 + 4]!;
      f64[base + AU.WALLET_BALANCE] = hasBal ? v[S.WB]! : 0;
      f64[base + AU.CROSS_WALLET_BALANCE] = hasBal ? v[S.BCW]! : 0;
      f64[base + AU.REASON] = this.reason;
      f64[base + AU.HAS_BALANCE] = hasBal ? 1 : 0;
      f64[base + AU.HAS_POSITION] = 1;
      n++;
    }
    if (n === 0 && hasBal) {
      const base = out.claim();
      if (base < 0) return this.ringFullStatus(out);
      this.lastBases[n] = base;
      i32[base * 2] = packHeader(RecordType.AccountUpdate, 0, 0);
      i32[base * 2 + 1] = -1;
      f64[base + W.RECV_TS] = recvTs;
      f64[base + AU.EVENT_TIME] = eventTime;
      f64[base + AU.POSITION_AMT] = 0;
      f64[base + AU.ENTRY_PRICE] = 0;
      f64[base + AU.BREAK_EVEN_PRICE] = 0;
      f64[base + AU.REALIZED_PNL] = 0;
      f64[base + AU.UNREALIZED_PNL] = 0;
      f64[base + AU.WALLET_BALANCE] = v[S.WB]!;
      f64[base + AU.CROSS_WALLET_BALANCE] = v[S.BCW]!;
      f64[base + AU.REASON] = this.reason;
      f64[base + AU.HAS_BALANCE] = 1;
      f64[base + AU.HAS_POSITION] = 0;
      n++;
    }
    this.finishRecords(out, n, f64);
    const l = this.listener;
    for (let k = 0; k < this.nPos; k++) {
      if ((this.posHas[k]! & PF.UNKNOWN_SYM) !== 0) this.unknownSymbolPositions++;
      else l?.onPosition?.(this.posSym[k]!, this.posFlags[k]! & (AccountFlag.Long | AccountFlag.Short), this.posVals[k * 8]!, eventTime);
    }
    return n;
  }

  /** Stamps PUB_TS on the n records just claimed and commits them. */
  private finishRecords(out: SlotWriter, n: number, f64: Float64Array): void {
    if (n === 0) return;
    const pub = this.now();
    const last = this.lastBases;
    for (let k = 0; k < n; k++) f64[last[k]! + W.PUB_TS] = pub;
    out.commit();
    this.records += n;
  }

  private marginCall(recvTs: number, out: SlotWriter): number {
    this.marginCalls++;
    if ((this.has & (1 << S.B_POSITIONS)) === 0) return this.malform(MalformedReason.MissingField);
    if ((this.bad & ((1 << S.CW) | (1 << S.E))) !== 0) return this.malform(MalformedReason.BadValue);
    const pr = this.checkPositions();
    if (pr >= 0) return this.malform(pr);
    const hasCw = (this.has & (1 << S.CW)) !== 0;
    const cw = hasCw ? this.vals[S.CW]! : NaN;
    const eventTime = this.opt(S.E, -1);
    const f64 = out.f64;
    const i32 = out.i32;
    let n = 0;
    for (let k = 0; k < this.nPos; k++) {
      if ((this.posHas[k]! & PF.UNKNOWN_SYM) !== 0) continue;
      const base = out.claim();
      if (base < 0) return this.ringFullStatus(out);
      this.lastBases[n] = base;
      const pv = this.posVals;
      const v0 = k * 8;
      i32[base * 2] = packHeader(RecordType.AccountUpdate, this.posFlags[k]! | AccountFlag.MarginCall, 0);
      i32[base * 2 + 1] = this.posSym[k]!;
      f64[base + W.RECV_TS] = recvTs;
      f64[base + AU.EVENT_TIME] = eventTime;
      f64[base + AU.POSITION_AMT] = pv[v0]!;
      f64[base + AU.ENTRY_PRICE] = NaN;
      f64[base + AU.BREAK_EVEN_PRICE] = NaN;
      f64[base + AU.REALIZED_PNL] = NaN;
      f64[base + AU.UNREALIZED_PNL] = pv[v0 + 4]!;
      f64[base + AU.WALLET_BALANCE] = NaN;
      f64[base + AU.CROSS_WALLET_BALANCE] = cw;
      f64[base + AU.REASON] = AccountUpdateReason.Other;
      f64[base + AU.HAS_BALANCE] = hasCw ? 1 : 0;
      f64[base + AU.HAS_POSITION] = 1;
      n++;
    }
    this.finishRecords(out, n, f64);
    const l = this.listener;
    for (let k = 0; k < this.nPos; k++) {
      if ((this.posHas[k]! & PF.UNKNOWN_SYM) !== 0) {
        this.unknownSymbolPositions++;
        continue;
      }
      const v0 = k * 8;
      const pv = this.posVals;
      l?.onMarginCall?.(this.posSym[k]!, this.posFlags[k]! & (AccountFlag.Long | AccountFlag.Short), pv[v0]!, pv[v0 + 5]!, pv[v0 + 4]!, pv[v0 + 6]!, cw, eventTime);
    }
    return n;
  }
}
