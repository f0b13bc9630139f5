import { ByteScanner, Ch, POW10, ascii, bytesEqual } from '../../core/ByteScanner.js';
import type { SymbolRegistry } from '../../core/SymbolRegistry.js';
import type { SlotWriter } from '../../ring/SlotWriter.js';
import { countMalformed, unparsedStatus, DecodeStatus } from '../../feed/decodeStatus.js';
import {
  AT,
  BT,
  DEPTH,
  DEPTH_LEVELS_PER_RECORD,
  FO,
  KL,
  MP,
  RecordFlag,
  RecordType,
  W,
  depthCount,
  packHeader,
} from '../../ring/layout.js';

export { DecodeStatus, isMalformedStatus } from '../../feed/decodeStatus.js';

/**
 * Inlined constants.
 *
 * KEY_*: key codes (a one-letter key's code is its byte; a few longer keys get codes above 255).
 * EV_*: the event being decoded (value of `e`).
 * S_*: slots of `vals`, one per key we read. K_* = 1 << slot: in `has`, the key was read with its expected
 * type; in `bad`, the key was there with a value we could not read (`badNum`: ... because it was a bad
 * number rather than another type). K_S is the symbol; H_*_LEVELS mark `b` / `a` read as level arrays (K_B /
 * K_A in `has` mean their decimal form); H_O / H_K mark the forceOrder `o` / kline `k` objects. USED_* are
 * the keys an event type reads, NEED_* those it requires. The nested objects have their own slots (I_*) in
 * `ivals` and masks (`ihas`, ...), with IUSED_* / INEED_*.
 * KIND_*: what a key holds, in the high byte of KEY_INFO (the slot is in the low byte).
 */
const enum C {
  KEY_OTHER = 0,
  KEY_PU = 256,
  KEY_STREAM = 257,
  KEY_DATA = 258,
  KEY_AP = 259,
  KEY_TABLE_SIZE = 260,

  EV_NONE = 0,
  EV_BOOK_TICKER = 1,
  EV_AGG_TRADE = 2,
  EV_TRADE = 3,
  EV_DEPTH = 4,
  EV_MARK_PRICE = 5,
  EV_FORCE_ORDER = 6,
  EV_KLINE = 7,
  EV_OTHER = 8,

  S_LU = 0, // u
  S_UU = 1, // U
  S_PU = 2, // pu
  S_E = 3,
  S_T = 4,
  S_B = 5, // b: a decimal in bookTicker (levels in depth go to the level scratch)
  S_BQ = 6, // B
  S_A = 7, // a: a decimal in bookTicker, the id in aggTrade
  S_AQ = 8, // A
  S_P = 9,
  S_Q = 10,
  S_F = 11,
  S_L = 12,
  S_TID = 13, // t
  S_M = 14,
  S_I = 15, // i: index price (markPrice)
  S_PP = 16, // P: estimated settle price (markPrice)
  S_R = 17, // r: funding rate (markPrice)
  N_SLOTS = 18,
  S_SYM = 18,
  S_OBJ_O = 21,
  S_OBJ_K = 22,

  K_LU = 1 << S_LU,
  K_UU = 1 << S_UU,
  K_PU = 1 << S_PU,
  K_E = 1 << S_E,
  K_T = 1 << S_T,
  K_B = 1 << S_B,
  K_BQ = 1 << S_BQ,
  K_A = 1 << S_A,
  K_AQ = 1 << S_AQ,
  K_P = 1 << S_P,
  K_Q = 1 << S_Q,
  K_F = 1 << S_F,
  K_L = 1 << S_L,
  K_TID = 1 << S_TID,
  K_M = 1 << S_M,
  K_I = 1 << S_I,
  K_PP = 1 << S_PP,
  K_R = 1 << S_R,
  K_S = 1 << S_SYM,
  H_B_LEVELS = 1 << 19,
  H_A_LEVELS = 1 << 20,
  H_O = 1 << S_OBJ_O,
  H_K = 1 << S_OBJ_K,

  USED_BOOK_TICKER = K_S | K_LU | K_E | K_T | K_B | K_BQ | K_A | K_AQ,
  NEED_BOOK_TICKER = K_S | K_B | K_BQ | K_A | K_AQ,
  USED_AGG_TRADE = K_S | K_E | K_T | K_A | K_P | K_Q | K_F | K_L | K_M,
  NEED_AGG_TRADE = K_S | K_P | K_Q | K_M,
  USED_TRADE = K_S | K_E | K_T | K_TID | K_P | K_Q | K_M,
  NEED_TRADE = K_S | K_P | K_Q | K_M,
  USED_DEPTH = K_S | K_UU | K_LU | K_PU | K_E | K_T | K_B | K_A,
  NEED_DEPTH = K_S | K_UU | K_LU | H_B_LEVELS | H_A_LEVELS,
  /** `has` after a depth event read by the template (every key, levels form) */
  HAS_DEPTH_TPL = K_S | K_UU | K_LU | K_PU | K_E | K_T | H_B_LEVELS | H_A_LEVELS,
  USED_MARK_PRICE = K_S | K_E | K_P | K_I | K_PP | K_R | K_T,
  NEED_MARK_PRICE = K_S | K_P,
  USED_FORCE_ORDER = K_E | H_O,
  NEED_FORCE_ORDER = H_O,
  USED_KLINE = K_S | K_E | H_K,
  NEED_KLINE = K_S | H_K,

  // nested objects: forceOrder `o` (I_O_*) and kline `k` (I_K_*) share `ivals`
  I_O_SIDE = 0, // S
  I_O_QTY = 1, // q
  I_O_PRICE = 2, // p
  I_O_AVG = 3, // ap
  I_O_LAST = 4, // l
  I_O_CUM = 5, // z
  I_O_TIME = 6, // T
  I_K_OPEN_TIME = 7, // t
  I_K_CLOSE_TIME = 8, // T
  I_K_OPEN = 9, // o
  I_K_HIGH = 10, // h
  I_K_LOW = 11, // l
  I_K_CLOSE = 12, // c
  I_K_VOL = 13, // v
  I_K_QVOL = 14, // q
  I_K_TRADES = 15, // n
  I_K_CLOSED = 16, // x
  I_K_TBVOL = 17, // V
  I_K_TBQVOL = 18, // Q
  N_ISLOTS = 19,
  I_O_SYM = 19, // o.s

  IK_O_SIDE = 1 << I_O_SIDE,
  IK_O_QTY = 1 << I_O_QTY,
  IK_O_PRICE = 1 << I_O_PRICE,
  IK_O_AVG = 1 << I_O_AVG,
  IK_O_LAST = 1 << I_O_LAST,
  IK_O_CUM = 1 << I_O_CUM,
  IK_O_TIME = 1 << I_O_TIME,
  IK_O_SYM = 1 << I_O_SYM,
  IK_K_OPEN_TIME = 1 << I_K_OPEN_TIME,
  IK_K_CLOSE_TIME = 1 << I_K_CLOSE_TIME,
  IK_K_OPEN = 1 << I_K_OPEN,
  IK_K_HIGH = 1 << I_K_HIGH,
  IK_K_LOW = 1 << I_K_LOW,
  IK_K_CLOSE = 1 << I_K_CLOSE,
  IK_K_VOL = 1 << I_K_VOL,
  IK_K_QVOL = 1 << I_K_QVOL,
  IK_K_TRADES = 1 << I_K_TRADES,
  IK_K_CLOSED = 1 << I_K_CLOSED,
  IK_K_TBVOL = 1 << I_K_TBVOL,
  IK_K_TBQVOL = 1 << I_K_TBQVOL,

  IUSED_FORCE_ORDER = IK_O_SYM | IK_O_SIDE | IK_O_QTY | IK_O_PRICE | IK_O_AVG | IK_O_LAST | IK_O_CUM | IK_O_TIME,
  INEED_FORCE_ORDER = IK_O_SYM | IK_O_SIDE | IK_O_QTY | IK_O_PRICE,
  IUSED_KLINE = IK_K_OPEN_TIME |
    IK_K_CLOSE_TIME |
    IK_K_OPEN |
    IK_K_HIGH |
    IK_K_LOW |
    IK_K_CLOSE |
    IK_K_VOL |
    IK_K_QVOL |
    IK_K_TRADES |
    IK_K_CLOSED |
    IK_K_TBVOL |
    IK_K_TBQVOL,
  INEED_KLINE = IK_K_OPEN_TIME | IK_K_CLOSE_TIME | IK_K_OPEN | IK_K_HIGH | IK_K_LOW | IK_K_CLOSE | IK_K_VOL | IK_K_CLOSED,

  KIND_INT = 1 << 8,
  KIND_DEC = 2 << 8,
  /** b, a: a decimal, or (depth) an array of levels */
  KIND_DEC_OR_LEVELS = 3 << 8,
  KIND_BOOL = 4 << 8,
  KIND_EVENT = 5 << 8,
  KIND_SYMBOL = 6 << 8,
  /** o (forceOrder), k (kline): a nested object with keys of its own */
  KIND_OBJ = 7 << 8,
  /** o.S: "BUY" / "SELL" */
  KIND_SIDE = 8 << 8,

  /** check(): the event is ours and complete */
  OK = 0,
  TWO_53 = 9007199254740992,
}

const LIT_BOOK_TICKER = ascii('bookTicker');
const LIT_AGG_TRADE = ascii('aggTrade');
const LIT_TRADE = ascii('trade');
const LIT_DEPTH_UPDATE = ascii('depthUpdate');
const LIT_MARK_PRICE = ascii('markPriceUpdate');
const LIT_FORCE_ORDER = ascii('forceOrder');
const LIT_KLINE = ascii('kline');
const LIT_STREAM = ascii('stream');
const LIT_DATA = ascii('data');

/** What each key of an event object holds (by key code): kind | slot; 0 = a key we skip. */
const KEY_INFO = new Uint16Array(C.KEY_TABLE_SIZE);
KEY_INFO[117] = C.KIND_INT | C.S_LU; // u
KEY_INFO[85] = C.KIND_INT | C.S_UU; // U
KEY_INFO[C.KEY_PU] = C.KIND_INT | C.S_PU;
KEY_INFO[69] = C.KIND_INT | C.S_E; // E
KEY_INFO[84] = C.KIND_INT | C.S_T; // T
KEY_INFO[102] = C.KIND_INT | C.S_F; // f
KEY_INFO[108] = C.KIND_INT | C.S_L; // l
KEY_INFO[116] = C.KIND_INT | C.S_TID; // t
KEY_INFO[98] = C.KIND_DEC_OR_LEVELS | C.S_B; // b
KEY_INFO[66] = C.KIND_DEC | C.S_BQ; // B
KEY_INFO[97] = C.KIND_DEC_OR_LEVELS | C.S_A; // a
KEY_INFO[65] = C.KIND_DEC | C.S_AQ; // A
KEY_INFO[112] = C.KIND_DEC | C.S_P; // p
KEY_INFO[113] = C.KIND_DEC | C.S_Q; // q
KEY_INFO[109] = C.KIND_BOOL | C.S_M; // m
KEY_INFO[105] = C.KIND_DEC | C.S_I; // i
KEY_INFO[80] = C.KIND_DEC | C.S_PP; // P
KEY_INFO[114] = C.KIND_DEC | C.S_R; // r
KEY_INFO[111] = C.KIND_OBJ | C.S_OBJ_O; // o
KEY_INFO[107] = C.KIND_OBJ | C.S_OBJ_K; // k
KEY_INFO[101] = C.KIND_EVENT; // e
KEY_INFO[115] = C.KIND_SYMBOL; // s

/** Keys of a forceOrder's `o` object (`o`, `f`, `X`, `ps`, `st` ... are skipped). */
const KEY_INFO_O = new Uint16Array(C.KEY_TABLE_SIZE);
KEY_INFO_O[115] = C.KIND_SYMBOL; // s
KEY_INFO_O[83] = C.KIND_SIDE | C.I_O_SIDE; // S
KEY_INFO_O[113] = C.KIND_DEC | C.I_O_QTY; // q
KEY_INFO_O[112] = C.KIND_DEC | C.I_O_PRICE; // p
KEY_INFO_O[C.KEY_AP] = C.KIND_DEC | C.I_O_AVG;
KEY_INFO_O[108] = C.KIND_DEC | C.I_O_LAST; // l
KEY_INFO_O[122] = C.KIND_DEC | C.I_O_CUM; // z
KEY_INFO_O[84] = C.KIND_INT | C.I_O_TIME; // T

/** Keys of a kline's `k` object (`s`, `i`, `f`, `L`, `B` are skipped: the symbol is the event's `s`). */
const KEY_INFO_K = new Uint16Array(C.KEY_TABLE_SIZE);
KEY_INFO_K[116] = C.KIND_INT | C.I_K_OPEN_TIME; // t
KEY_INFO_K[84] = C.KIND_INT | C.I_K_CLOSE_TIME; // T
KEY_INFO_K[111] = C.KIND_DEC | C.I_K_OPEN; // o
KEY_INFO_K[104] = C.KIND_DEC | C.I_K_HIGH; // h
KEY_INFO_K[108] = C.KIND_DEC | C.I_K_LOW; // l
KEY_INFO_K[99] = C.KIND_DEC | C.I_K_CLOSE; // c
KEY_INFO_K[118] = C.KIND_DEC | C.I_K_VOL; // v
KEY_INFO_K[113] = C.KIND_DEC | C.I_K_QVOL; // q
KEY_INFO_K[110] = C.KIND_INT | C.I_K_TRADES; // n
KEY_INFO_K[120] = C.KIND_BOOL | C.I_K_CLOSED; // x
KEY_INFO_K[86] = C.KIND_DEC | C.I_K_TBVOL; // V
KEY_INFO_K[81] = C.KIND_DEC | C.I_K_TBQVOL; // Q

const SYM_CACHE_MASK = 1023;

/**
 * The fast paths' decimal: the digits at `v` (after the opening quote) up to the closing quote, `digits`,
 * `digits.digits`, `.digits` or `digits.` (as Number reads them), into dst[slot]; the index of the closing
 * quote, or -1. The same double as Number(text): the digits as one integer m < 2^53 and k <= 22 decimals
 * make m / 10^k one correctly rounded division of two exact doubles. Up to 9 digits m is summed in int32
 * (no overflow checks: the common prices and sizes); a longer run is summed again in doubles. No end checks:
 * the fast paths only run on a frame whose last byte is '}', which stops every digit run.
 */
function decimalAt(buf: Uint8Array, v: number, dst: Float64Array, slot: number): number {
  const d0 = v;
  let m = 0;
  let d = 0;
  // two digits per step: half the loop's branches
  while ((d = (buf[v]! - Ch.Zero) >>> 0) <= 9) {
    const d2 = (buf[v + 1]! - Ch.Zero) >>> 0;
    if (d2 > 9) {
      m = (m * 10 + d) | 0;
      v++;
      break;
    }
    m = (m * 100 + (d * 10 + d2)) | 0;
    v += 2;
  }
  let k = 0;
  let dot = 0;
  if (buf[v] === Ch.Dot) {
    dot = 1;
    const f0 = ++v;
    while ((d = (buf[v]! - Ch.Zero) >>> 0) <= 9) {
      const d2 = (buf[v + 1]! - Ch.Zero) >>> 0;
      if (d2 > 9) {
        m = (m * 10 + d) | 0;
        v++;
        break;
      }
      m = (m * 100 + (d * 10 + d2)) | 0;
      v += 2;
    }
    k = v - f0;
  }
  const nd = v - d0 - dot;
  if (buf[v] !== Ch.Quote || nd === 0 || k > 22) return -1;
  if (nd <= 9) {
    dst[slot] = m / POW10[k]!;
    return v;
  }
  return longDecimal(buf, d0, v, k, dst, slot);
}

/**
 * decimalAt's rare long decimal: the digits of buf[s..e) (its '.' skipped) summed again in doubles, into
 * dst[slot] as m / 10^k; e, or -1 if m >= 2^53. (Writes the value rather than returning it: a double
 * returned from a call that is not inlined would be boxed on the heap.)
 */
function longDecimal(buf: Uint8Array, s: number, e: number, k: number, dst: Float64Array, slot: number): number {
  let m = 0;
  for (let p = s; p < e; p++) {
    const c = buf[p]!;
    if (c !== Ch.Dot) m = m * 10 + (c - Ch.Zero);
  }
  if (m >= C.TWO_53) return -1;
  dst[slot] = m / POW10[k]!;
  return e;
}

/**
 * The closing quote of a plain string whose bytes start at `i` (after its opening quote): every byte above
 * '"' and not a backslash (no escapes, controls, space or '!'), else -1. Four bytes per step (stream names
 * and symbols are 7 to 30 bytes); the end is checked, '}' being a plain byte.
 */
function plainEnd(buf: Uint8Array, i: number, end: number): number {
  for (; i + 3 < end; i += 4) {
    const a = buf[i]!;
    if (a <= Ch.Quote || a === Ch.Backslash) return a === Ch.Quote ? i : -1;
    const b = buf[i + 1]!;
    if (b <= Ch.Quote || b === Ch.Backslash) return b === Ch.Quote ? i + 1 : -1;
    const c = buf[i + 2]!;
    if (c <= Ch.Quote || c === Ch.Backslash) return c === Ch.Quote ? i + 2 : -1;
    const d = buf[i + 3]!;
    if (d <= Ch.Quote || d === Ch.Backslash) return d === Ch.Quote ? i + 3 : -1;
  }
  for (; i < end; i++) {
    const a = buf[i]!;
    if (a <= Ch.Quote || a === Ch.Backslash) return a === Ch.Quote ? i : -1;
  }
  return -1;
}

/** Kinds of template steps. */
const enum T {
  Int = 1,
  Dec = 2,
  Sym = 3,
  Bool = 4,
  Levels = 5,
  /** an optional key (skipped if present) */
  Opt = 6,
  /** an object whose keys follow (to ivals, the kline's `k`) */
  Obj = 7,
  /** (no key) the object's closing brace */
  End = 8,
}

/**
 * Keys of each event in the order Binance writes them (after `e`), one int per key: first letter | second
 * letter (or 0) << 8 | kind << 16 | slot << 24.
 */
function makeTemplate(steps: Array<[string, number, number]>): Int32Array {
  return Int32Array.from(
    steps.map(([k, kind, slot]) => k.charCodeAt(0) | ((k.length > 1 ? k.charCodeAt(1) : 0) << 8) | (kind << 16) | (slot << 24)),
  );
}
const TPL_BOOK_TICKER = makeTemplate([
  ['u', T.Int, C.S_LU],
  ['s', T.Sym, 0],
  ['b', T.Dec, C.S_B],
  ['B', T.Dec, C.S_BQ],
  ['a', T.Dec, C.S_A],
  ['A', T.Dec, C.S_AQ],
  ['T', T.Int, C.S_T],
  ['E', T.Int, C.S_E],
]);
const TPL_AGG_TRADE = makeTemplate([
  ['E', T.Int, C.S_E],
  ['a', T.Int, C.S_A],
  ['s', T.Sym, 0],
  ['p', T.Dec, C.S_P],
  ['q', T.Dec, C.S_Q],
  ['nq', T.Opt, 0],
  ['f', T.Int, C.S_F],
  ['l', T.Int, C.S_L],
  ['T', T.Int, C.S_T],
  ['m', T.Bool, C.S_M],
  ['st', T.Opt, 0],
]);
const TPL_TRADE = makeTemplate([
  ['E', T.Int, C.S_E],
  ['T', T.Int, C.S_T],
  ['s', T.Sym, 0],
  ['t', T.Int, C.S_TID],
  ['p', T.Dec, C.S_P],
  ['q', T.Dec, C.S_Q],
  ['X', T.Opt, 0],
  ['m', T.Bool, C.S_M],
]);
const TPL_KLINE = makeTemplate([
  ['E', T.Int, C.S_E],
  ['s', T.Sym, 0],
  ['k', T.Obj, 0],
  ['t', T.Int, C.I_K_OPEN_TIME],
  ['T', T.Int, C.I_K_CLOSE_TIME],
  ['s', T.Opt, 0],
  ['i', T.Opt, 0],
  ['f', T.Opt, 0],
  ['L', T.Opt, 0],
  ['o', T.Dec, C.I_K_OPEN],
  ['c', T.Dec, C.I_K_CLOSE],
  ['h', T.Dec, C.I_K_HIGH],
  ['l', T.Dec, C.I_K_LOW],
  ['v', T.Dec, C.I_K_VOL],
  ['n', T.Int, C.I_K_TRADES],
  ['x', T.Bool, C.I_K_CLOSED],
  ['q', T.Dec, C.I_K_QVOL],
  ['V', T.Dec, C.I_K_TBVOL],
  ['Q', T.Dec, C.I_K_TBQVOL],
  ['B', T.Opt, 0],
  ['}', T.End, 0],
]);
const TPL_DEPTH = makeTemplate([
  ['E', T.Int, C.S_E],
  ['T', T.Int, C.S_T],
  ['s', T.Sym, 0],
  ['U', T.Int, C.S_UU],
  ['u', T.Int, C.S_LU],
  ['pu', T.Int, C.S_PU],
  ['b', T.Levels, C.S_B],
  ['a', T.Levels, C.S_A],
]);

/**
 * Decodes Binance USD-M market-data WebSocket text frames straight from their bytes into ring-A records.
 *
 * One `decode` call takes one frame: a raw event (`{"e":"bookTicker",...}`), a combined-stream envelope
 * (`{"stream":"btcusdt@bookTicker","data":{...}}`) or an array of events (`!markPrice@arr`, raw `[...]` or
 * enveloped `"data":[...]`: one record per element of a registered symbol, elements of other symbols
 * skipped and counted in `unknownSymbolElements`), told apart by content, in any key order, with any JSON
 * whitespace. Handled events: bookTicker, aggTrade, trade, depthUpdate (diff and partial depth),
 * markPriceUpdate, forceOrder (fields of its `o` object), kline (fields of its `k` object, `x` -> the
 * Closed flag). Unknown keys are skipped whatever they hold.
 *
 * Optional fields missing from an event (`a` in 2019 aggTrades, `i` / `P` in 2019 markPrice, `pu`, `E`,
 * `T`, `o.ap`, `k.n`, ...) are written as NaN, never as a number that could pass for a value (0 is a real
 * funding rate, `T: 0` a real delivery-contract field). An empty string where a decimal goes counts as
 * missing too.
 *
 * A malformed frame (see DecodeStatus) is counted by reason and skipped: nothing is committed, claimed
 * slots are aborted. The whole frame must be valid JSON before anything is committed, so a frame with
 * garbage after a good event, or an array with one bad element of ours, yields no records at all.
 *
 * Hot path: no JSON.parse, and nothing is allocated per frame except on the counted slow path of numbers
 * (`slowPathNumbers`) and when the level or slot scratch has to grow for an unusually large event.
 */
export class BinanceMarketDecoder {
  frames = 0;
  records = 0;
  /** Malformed frames of every reason (the sum of the reason counters below). */
  malformed = 0;
  /** per reason: DecodeStatus.Malformed (not JSON) */
  syntaxErrors = 0;
  /** DecodeStatus.Truncated */
  truncated = 0;
  /** DecodeStatus.MissingField */
  missingField = 0;
  /** DecodeStatus.WrongType */
  wrongType = 0;
  /** DecodeStatus.BadNumber */
  badNumber = 0;
  /** DecodeStatus.BadValue */
  badValue = 0;
  ignored = 0;
  unknownSymbol = 0;
  /** Elements of array frames (`!markPrice@arr`) skipped because their symbol is not registered. */
  unknownSymbolElements = 0;
  ringFull = 0;
  /** Numbers that needed the exact slow path (more than 2^53 as digits, more than 22 decimals, exponent). */
  slowPathNumbers = 0;
  /**
   * Raw (`/ws/<symbol>@depth<N>`) connections carry no stream name, so a partial-depth event cannot be told
   * from a diff by its content: the feed sets this for such a connection to flag its depth events Snapshot.
   */
  rawDepthIsSnapshot = false;

  private readonly sc = new ByteScanner();
  /** Per symbol: 1 if records were dropped (ring full) since the last committed record. */
  private readonly gap: Uint8Array;
  /** Symbol names as bytes, and the lookup cache (symbol id by a hash of a few bytes, -1 = empty). */
  private readonly symNames: Uint8Array[];
  private readonly symCache = new Int32Array(SYM_CACHE_MASK + 1).fill(-1);

  // ---- the event being decoded (reset per frame, and per element of an array frame)
  private ev: number = C.EV_NONE;
  private has = 0;
  private bad = 0;
  private badNum = 0;
  /** Keys of the nested `o` / `k` object (same meaning as has / bad / badNum; ibadVal: a bad side). */
  private ihas = 0;
  private ibad = 0;
  private ibadNum = 0;
  private ibadVal = 0;
  private inData = false;
  /** The envelope's `data` is an array: index of its `[` (decoded once the whole frame is known valid). */
  private arrStart = -1;
  private symBuf: Uint8Array;
  private symStart = 0;
  private symEnd = 0;
  /** forceOrder: the symbol is `o.s`, kept apart from any top-level `s`. */
  private foSymBuf: Uint8Array;
  private foSymStart = 0;
  private foSymEnd = 0;
  /** Stream name of a combined-stream envelope: streamBuf[streamStart .. +streamLen); streamLen -1 = none. */
  private streamBuf: Uint8Array;
  private streamStart = 0;
  private streamLen = -1;
  /** Code of the last key read by `longKey`. */
  private keyCode: number = C.KEY_OTHER;
  // scratch for the rare escaped key / event name / symbol / stream name
  private readonly keyScratch = new Uint8Array(32);
  private readonly symScratch = new Uint8Array(64);
  private readonly foSymScratch = new Uint8Array(64);
  private readonly streamScratch = new Uint8Array(256);
  /** Whether the last `symbolField` / `eventType` value was a string. */
  private strOk = false;
  /** Set by `readLevels` when it failed on a number rather than on the shape. */
  private levelsBadNum = false;
  /** Values of the event's keys by slot, and of its nested object's keys. */
  private readonly vals = new Float64Array(C.N_SLOTS);
  private readonly ivals = new Float64Array(C.N_ISLOTS);
  /** Bid / ask levels of a depth event: price, qty interleaved. */
  private bids = new Float64Array(256);
  private asks = new Float64Array(256);
  private nBids = 0;
  private nAsks = 0;
  /**
   * The template's levels, joined in record order: bids from 0, asks after them (`joined` true when this
   * event's levels are there rather than in bids / asks, which the general scan fills in any key order).
   */
  private levels = new Float64Array(512);
  private joined = false;
  /** Levels read by the last templateLevels. */
  private nRead = 0;
  /** Word bases and symbols of the slots claimed for the current frame (published together). */
  private bases = new Int32Array(256);
  private recSym = new Int32Array(256);
  private nBases = 0;

  constructor(
    private readonly symbols: SymbolRegistry,
    private readonly now: () => number,
  ) {
    this.gap = new Uint8Array(symbols.size);
    this.symNames = symbols.names.map(ascii);
    this.symBuf = this.symScratch;
    this.foSymBuf = this.foSymScratch;
    this.streamBuf = this.streamScratch;
  }

  /**
   * Decodes the frame in buf[start..end). Returns the number of records committed to `out` (>= 1), or a
   * negative DecodeStatus. Never throws on bad input and never leaves a partial record behind.
   */
  decode(buf: Uint8Array, start: number, end: number, recvTs: number, out: SlotWriter): number {
    this.frames++;
    const sc = this.sc;
    sc.reset(buf, end);
    this.resetEvent();
    this.streamLen = -1;
    this.arrStart = -1;
    this.nBases = 0;

    const sp0 = sc.slowPathNumbers;
    let i = start < end && buf[start] === Ch.LBrace ? start : sc.ws(start);
    const c0 = sc.at(i);
    if (c0 !== Ch.LBrace) {
      // a top-level array: `!markPrice@arr` on a raw connection. Validated in full before any element is
      // decoded, so a bad tail never leaves records behind.
      if (c0 === Ch.LBracket && (i = sc.skipValue(i, 0)) >= 0 && sc.ws(i) === end) {
        const n = this.decodeArray(sc.ws(start), recvTs, out);
        this.slowPathNumbers += sc.slowPathNumbers - sp0;
        return n;
      }
      this.slowPathNumbers += sc.slowPathNumbers - sp0;
      return this.syntaxFail(buf, start, end);
    }
    // The fast paths (envelope, template) rely on the frame's last byte being its closing '}': a digit run
    // then always ends inside the frame, so their digit loops need no end check.
    let j = -2;
    if (end > i && buf[end - 1] === Ch.RBrace) {
      j = this.envelope(i);
      if (j === -2) j = this.template(i); // a raw event as Binance writes it
    }
    if (j !== -2) {
      i = j;
    } else {
      // another shape (whitespace, other key order, escapes, an array under data, ...): the general scan
      sc.slowPathNumbers = sp0;
      this.resetEvent();
      this.streamLen = -1;
      i = this.scanObject(i, true);
    }
    if (i < 0 || (i !== end && sc.ws(i) !== end)) {
      this.slowPathNumbers += sc.slowPathNumbers - sp0;
      return this.syntaxFail(buf, start, end);
    }
    if (this.arrStart >= 0) {
      const n = this.decodeArray(this.arrStart, recvTs, out);
      this.slowPathNumbers += sc.slowPathNumbers - sp0;
      return n;
    }
    this.slowPathNumbers += sc.slowPathNumbers - sp0;

    const st = this.check();
    if (st !== C.OK) return st === DecodeStatus.Ignored ? this.ignore() : this.reject(st);
    const sym = this.eventSymbol();
    if (sym < 0) return this.unknown();
    if (this.emit(sym, recvTs, out) < 0) return this.full(out);
    return this.publish(out);
  }

  /**
   * The elements of the (already validated) array at `i`: events of ours are decoded in order, those of an
   * unregistered symbol skipped, anything else (other events, non-objects) ignored. One malformed event of
   * ours rejects the whole frame.
   */
  private decodeArray(i: number, recvTs: number, out: SlotWriter): number {
    const sc = this.sc;
    const buf = sc.buf;
    let ours = 0;
    let full = false;
    i = sc.ws(i + 1);
    if (buf[i] !== Ch.RBracket) {
      for (;;) {
        if (buf[i] === Ch.LBrace) {
          this.resetEvent();
          i = this.scanObject(i, false);
          if (i < 0) {
            // cannot happen after skipValue accepted the array; kept so a scanner bug cannot commit
            out.abort();
            this.nBases = 0;
            return this.reject(DecodeStatus.Malformed);
          }
          const st = this.check();
          if (st !== DecodeStatus.Ignored) {
            if (st !== C.OK) {
              out.abort();
              this.nBases = 0;
              return this.reject(st);
            }
            ours++;
            const sym = this.eventSymbol();
            if (sym < 0) {
              this.unknownSymbolElements++;
            } else if (full) {
              this.gap[sym] = 1; // dropped with the rest of the frame
            } else if (this.emit(sym, recvTs, out) < 0) {
              full = true;
            }
          }
        } else {
          i = sc.skipValue(i, 1);
        }
        i = sc.ws(i);
        if (buf[i] !== Ch.Comma) break;
        i = sc.ws(i + 1);
      }
    }
    if (full) return this.full(out);
    if (this.nBases === 0) return ours === 0 ? this.ignore() : this.unknown();
    return this.publish(out);
  }

  /** Whether the event just scanned is one of ours and complete: C.OK, Ignored, or a malformed reason. */
  private check(): number {
    switch (this.ev) {
      case C.EV_BOOK_TICKER:
        if ((this.has & (C.H_B_LEVELS | C.H_A_LEVELS)) !== 0) return DecodeStatus.WrongType;
        return this.need(C.USED_BOOK_TICKER, C.NEED_BOOK_TICKER);
      case C.EV_AGG_TRADE:
        return this.need(C.USED_AGG_TRADE, C.NEED_AGG_TRADE);
      case C.EV_TRADE:
        return this.need(C.USED_TRADE, C.NEED_TRADE);
      case C.EV_DEPTH:
        // b / a read as plain decimals: the wrong type for a depth event
        if ((this.has & (C.K_B | C.K_A)) !== 0) return DecodeStatus.WrongType;
        return this.need(C.USED_DEPTH, C.NEED_DEPTH);
      case C.EV_MARK_PRICE:
        return this.need(C.USED_MARK_PRICE, C.NEED_MARK_PRICE);
      case C.EV_FORCE_ORDER: {
        const st = this.need(C.USED_FORCE_ORDER, C.NEED_FORCE_ORDER);
        return st !== C.OK ? st : this.needInner(C.IUSED_FORCE_ORDER, C.INEED_FORCE_ORDER);
      }
      case C.EV_KLINE: {
        const st = this.need(C.USED_KLINE, C.NEED_KLINE);
        return st !== C.OK ? st : this.needInner(C.IUSED_KLINE, C.INEED_KLINE);
      }
      default:
        return DecodeStatus.Ignored;
    }
  }

  /** A bad key among `used` (wrong type first, then bad number), else a missing one of `need`, else OK. */
  private need(used: number, need: number): number {
    const b = this.bad & used;
    if (b !== 0) return (b & ~this.badNum) !== 0 ? DecodeStatus.WrongType : DecodeStatus.BadNumber;
    return (this.has & need) === need ? C.OK : DecodeStatus.MissingField;
  }

  private needInner(used: number, need: number): number {
    const b = this.ibad & used;
    if (b !== 0) {
      if ((b & ~(this.ibadNum | this.ibadVal)) !== 0) return DecodeStatus.WrongType;
      return (b & this.ibadVal) !== 0 ? DecodeStatus.BadValue : DecodeStatus.BadNumber;
    }
    return (this.ihas & need) === need ? C.OK : DecodeStatus.MissingField;
  }

  /** Per-event state (not the stream name, which an array frame's elements share). */
  private resetEvent(): void {
    this.ev = C.EV_NONE;
    this.has = 0;
    this.bad = 0;
    this.badNum = 0;
    this.ihas = 0;
    this.ibad = 0;
    this.ibadNum = 0;
    this.ibadVal = 0;
    this.inData = false;
    this.nBids = 0;
    this.nAsks = 0;
    this.joined = false;
  }

  private ignore(): number {
    this.ignored++;
    return DecodeStatus.Ignored;
  }

  /** Counts a malformed frame under its reason. */
  private reject(st: number): number {
    return countMalformed(this, st);
  }

  /**
   * The frame is not valid JSON: Truncated if it ends inside a string or with an object / array still
   * open (what a frame cut short looks like), else Malformed. Cold path: one pass over the bytes.
   */
  private syntaxFail(buf: Uint8Array, start: number, end: number): number {
    return this.reject(unparsedStatus(buf, start, end));
  }

  private unknown(): number {
    this.unknownSymbol++;
    return DecodeStatus.UnknownSymbol;
  }

  /** The event's symbol id (forceOrder: `o.s`), or -1. */
  private eventSymbol(): number {
    if (this.ev === C.EV_FORCE_ORDER) {
      this.symBuf = this.foSymBuf;
      this.symStart = this.foSymStart;
      this.symEnd = this.foSymEnd;
    }
    return this.symbolId();
  }

  /**
   * Symbol id of symBuf[symStart..symEnd), or -1. A small direct-mapped cache keyed by a few of the bytes
   * sits in front of the registry's hash table (hit: one table read and one byte compare).
   */
  private symbolId(): number {
    const b = this.symBuf;
    const s = this.symStart;
    const e = this.symEnd;
    const len = e - s;
    if (len < 2) return len < 0 ? -1 : this.symbols.lookup(b, s, e);
    const h = (len * 31 + b[s]! * 7 + b[s + 1]! * 3 + b[e - 1]! + (len > 4 ? b[e - 5]! << 4 : 0)) & SYM_CACHE_MASK;
    const id = this.symCache[h]!;
    if (id >= 0 && bytesEqual(b, s, e, this.symNames[id]!)) return id;
    const found = this.symbols.lookup(b, s, e);
    if (found >= 0) this.symCache[h] = found;
    return found;
  }

  /** Claims a slot for a record of `sym`: its word base, or -1 when the ring is full. */
  private claim(sym: number, out: SlotWriter): number {
    const base = out.claim();
    if (base < 0) {
      this.gap[sym] = 1;
      return -1;
    }
    let n = this.nBases;
    if (n === this.bases.length) {
      // an event of more than 1000 levels or an array of more than 256 of our symbols: grow once
      const b = new Int32Array(n * 2);
      b.set(this.bases);
      this.bases = b;
      const s = new Int32Array(n * 2);
      s.set(this.recSym);
      this.recSym = s;
    }
    this.bases[n] = base;
    this.recSym[n] = sym;
    this.nBases = ++n;
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

  /** The ring is full: drop every record of the frame, flag their symbols (GapBefore on the next one). */
  private full(out: SlotWriter): number {
    out.abort();
    for (let r = 0; r < this.nBases; r++) this.gap[this.recSym[r]!] = 1;
    this.nBases = 0;
    this.ringFull++;
    return DecodeStatus.RingFull;
  }

  // ------------------------------------------------------------------ scanning

  /**
   * Fast path for the combined-stream envelope as Binance writes it, `{"stream":"<name>","data":{...}}`
   * byte for byte (no whitespace, no escapes, stream first). Returns the index after the closing `}`, -1 if
   * the data object is malformed, or -2 if the frame has another shape (the caller then scans it in full).
   */
  private envelope(i: number): number {
    const sc = this.sc;
    const buf = sc.buf;
    const end = sc.end;
    // {"stream":"
    if (
      i + 11 > end ||
      buf[i + 1] !== Ch.Quote ||
      buf[i + 2] !== 115 ||
      buf[i + 3] !== 116 ||
      buf[i + 4] !== 114 ||
      buf[i + 5] !== 101 ||
      buf[i + 6] !== 97 ||
      buf[i + 7] !== 109 ||
      buf[i + 8] !== Ch.Quote ||
      buf[i + 9] !== Ch.Colon ||
      buf[i + 10] !== Ch.Quote
    ) {
      return -2;
    }
    const s = i + 11;
    let j = plainEnd(buf, s, end);
    if (j < 0) return -2;
    const len = j - s;
    j++;
    // ,"data":{
    if (
      j + 9 > end ||
      buf[j] !== Ch.Comma ||
      buf[j + 1] !== Ch.Quote ||
      buf[j + 2] !== 100 ||
      buf[j + 3] !== 97 ||
      buf[j + 4] !== 116 ||
      buf[j + 5] !== 97 ||
      buf[j + 6] !== Ch.Quote ||
      buf[j + 7] !== Ch.Colon ||
      buf[j + 8] !== Ch.LBrace
    ) {
      return -2;
    }
    this.streamBuf = buf;
    this.streamStart = s;
    this.streamLen = len;
    this.inData = true;
    const k = this.template(j + 8);
    j = k !== -2 ? k : this.scanObject(j + 8, false);
    if (j < 0) return -1;
    if (j < end && buf[j]! <= Ch.Space) j = sc.ws(j);
    return j < end && buf[j] === Ch.RBrace ? j + 1 : -2;
  }

  /**
   * Fast path for an event object written exactly as Binance writes it: no whitespace, no escapes, the keys
   * of its type in Binance's order (templates TPL_*; optional keys such as `nq`, `st`, `X` are skipped),
   * plain ints and decimals. Returns the index after its `}` with ev / has / vals set, or -2 at the first
   * difference (the caller then scans the object with `scanObject`, which accepts any valid JSON).
   */
  private template(i: number): number {
    const sc = this.sc;
    const buf = sc.buf;
    const end = sc.end;
    const vals = this.vals;
    // {"e":"
    if (
      i + 8 >= end ||
      buf[i] !== Ch.LBrace ||
      buf[i + 1] !== Ch.Quote ||
      buf[i + 2] !== 101 ||
      buf[i + 3] !== Ch.Quote ||
      buf[i + 4] !== Ch.Colon ||
      buf[i + 5] !== Ch.Quote
    ) {
      return -2;
    }
    const c1 = buf[i + 6]!;
    let lit: Uint8Array;
    let tpl: Int32Array;
    let ev: number;
    let has: number;
    if (c1 === 98) {
      lit = LIT_BOOK_TICKER;
      tpl = TPL_BOOK_TICKER;
      ev = C.EV_BOOK_TICKER;
      has = C.USED_BOOK_TICKER;
    } else if (c1 === 100) {
      lit = LIT_DEPTH_UPDATE;
      tpl = TPL_DEPTH;
      ev = C.EV_DEPTH;
      has = C.HAS_DEPTH_TPL;
    } else if (c1 === 97) {
      lit = LIT_AGG_TRADE;
      tpl = TPL_AGG_TRADE;
      ev = C.EV_AGG_TRADE;
      has = C.USED_AGG_TRADE;
    } else if (c1 === 116) {
      lit = LIT_TRADE;
      tpl = TPL_TRADE;
      ev = C.EV_TRADE;
      has = C.USED_TRADE;
    } else if (c1 === 107) {
      lit = LIT_KLINE;
      tpl = TPL_KLINE;
      ev = C.EV_KLINE;
      has = C.USED_KLINE;
    } else {
      return -2;
    }
    let j = i + 6 + lit.length;
    if (j >= end || buf[j] !== Ch.Quote || !bytesEqual(buf, i + 6, j, lit)) return -2;
    j++;
    const n = tpl.length;
    // where values go (ivals inside the kline's `k`), and the byte before the next key (`{` for its first)
    let dst = vals;
    let sep: number = Ch.Comma;
    for (let t = 0; t < n; t++) {
      const step = tpl[t]!;
      const kind = (step >>> 16) & 0xff;
      if (kind === T.End) {
        if (buf[j] !== Ch.RBrace) return -2;
        j++;
        dst = vals;
        continue;
      }
      // ,"k": or ,"kk":
      let v = j + 3;
      if (v + 3 >= end || buf[j] !== sep || buf[j + 1] !== Ch.Quote || buf[j + 2] !== (step & 0xff)) {
        if (kind === T.Opt) continue;
        return -2;
      }
      const k2 = (step >>> 8) & 0xff;
      if (k2 !== 0) {
        if (buf[v] !== k2) {
          if (kind === T.Opt) continue;
          return -2;
        }
        v++;
      }
      if (buf[v] !== Ch.Quote || buf[v + 1] !== Ch.Colon) {
        if (kind === T.Opt) continue;
        return -2;
      }
      v += 2;
      sep = Ch.Comma;
      const slot = step >>> 24;
      let m = 0;
      let d = 0;
      switch (kind) {
        case T.Int: {
          const d0 = v;
          // two digits per step (half the loop overhead; m stays exact below 2^53 as with one). No end
          // check: the frame ends with '}' (see decode), which stops the run.
          while ((d = (buf[v]! - Ch.Zero) >>> 0) <= 9) {
            const d2 = (buf[v + 1]! - Ch.Zero) >>> 0;
            if (d2 > 9) {
              m = m * 10 + d;
              v++;
              break;
            }
            m = m * 100 + (d * 10 + d2);
            v += 2;
          }
          if (v === d0 || m >= C.TWO_53) return -2;
          dst[slot] = m;
          j = v; // a following '.' or 'e' fails the next key check
          break;
        }
        case T.Dec: {
          if (buf[v] !== Ch.Quote) return -2;
          v = decimalAt(buf, v + 1, dst, slot);
          if (v < 0) return -2;
          j = v + 1;
          break;
        }
        case T.Sym: {
          if (v >= end || buf[v] !== Ch.Quote) return -2;
          const s0 = v + 1;
          v = plainEnd(buf, s0, end);
          if (v < 0) return -2;
          this.symBuf = buf;
          this.symStart = s0;
          this.symEnd = v;
          j = v + 1;
          break;
        }
        case T.Bool:
          if (v + 4 < end && buf[v] === 116 && buf[v + 1] === 114 && buf[v + 2] === 117 && buf[v + 3] === 101) {
            dst[slot] = 1;
            j = v + 4;
          } else if (
            v + 5 < end &&
            buf[v] === 102 &&
            buf[v + 1] === 97 &&
            buf[v + 2] === 108 &&
            buf[v + 3] === 115 &&
            buf[v + 4] === 101
          ) {
            dst[slot] = 0;
            j = v + 5;
          } else {
            return -2;
          }
          break;
        case T.Levels:
          // b then a (TPL_DEPTH): the asks go after the bids in the joined scratch
          if (buf[v] !== Ch.LBracket) return -2;
          if (slot === C.S_B) {
            j = this.templateLevels(v, 0);
            this.nBids = this.nRead;
          } else {
            j = this.templateLevels(v, this.nBids);
            this.nAsks = this.nRead;
          }
          if (j < 0) return -2;
          break;
        case T.Obj:
          if (buf[v] !== Ch.LBrace) return -2;
          j = v;
          sep = Ch.LBrace;
          dst = this.ivals;
          break;
        default: {
          // T.Opt: a known extra key, skipped (a plain string or int inline, anything else in general)
          const v0 = v;
          let c = v < end ? buf[v]! : 0;
          if (c === Ch.Quote) {
            v = plainEnd(buf, v + 1, end);
            j = v >= 0 ? v + 1 : sc.skipValue(v0, 1);
          } else {
            if (c === Ch.Minus) c = buf[++v]!; // a negative int (the kline `f` / `L` of an empty candle)
            if (c >= Ch.Zero && c <= Ch.Nine) {
              while ((c = buf[v]!) >= Ch.Zero && c <= Ch.Nine) v++;
              j = v;
            } else {
              j = sc.skipValue(v0, 1);
            }
          }
          if (j < 0) return -2;
        }
      }
    }
    if (j >= end || buf[j] !== Ch.RBrace) return -2;
    this.ev = ev;
    this.has = has;
    this.bad = 0;
    this.joined = ev === C.EV_DEPTH;
    if (ev === C.EV_KLINE) {
      this.ihas = C.IUSED_KLINE;
      this.ibad = 0;
      this.ibadNum = 0;
      this.ibadVal = 0;
    }
    return j + 1;
  }

  /**
   * The object at `i` (its `{`); returns the index after its `}` or -1 if the bytes are not valid JSON. At
   * top level `stream` and `data` are recognised: an object under `data` holds the event (event keys seen at
   * top level before it are discarded, after it ignored). Leaves the event's keys in has / bad / vals.
   *
   * The common shapes (one-letter keys, no whitespace, plain ints, quoted plain decimals) are read inline;
   * anything else goes through the general ByteScanner methods.
   */
  private scanObject(i: number, top: boolean): number {
    const sc = this.sc;
    const buf = sc.buf;
    const end = sc.end;
    const vals = this.vals;
    let has = 0;
    let bad = 0;
    let badNum = 0;
    i++;
    if (i < end && buf[i]! <= Ch.Space) i = sc.ws(i);
    if (i < end && buf[i] === Ch.RBrace) {
      if (!this.inData || !top) this.setKeys(has, bad, badNum);
      return i + 1;
    }
    for (;;) {
      // ---- key
      let key = i + 3 < end && buf[i] === Ch.Quote && buf[i + 2] === Ch.Quote ? buf[i + 1]! : 0;
      if (key > Ch.Quote && key !== Ch.Backslash) {
        i += 3; // one-letter key, the common case
      } else if (
        i + 4 < end &&
        buf[i] === Ch.Quote &&
        buf[i + 3] === Ch.Quote &&
        buf[i + 1]! > Ch.Quote &&
        buf[i + 1] !== Ch.Backslash &&
        buf[i + 2]! > Ch.Quote &&
        buf[i + 2] !== Ch.Backslash
      ) {
        // two letters: `pu` or a key we skip (`nq`, `st`, `ps`, `ap`, ...)
        key = buf[i + 1] === 112 && buf[i + 2] === 117 ? C.KEY_PU : C.KEY_OTHER;
        i += 4;
      } else {
        i = this.longKey(i);
        if (i < 0) return -1;
        key = this.keyCode;
      }
      if (i < end && buf[i] === Ch.Colon) {
        i++;
      } else {
        i = sc.ws(i);
        if (i >= end || buf[i] !== Ch.Colon) return -1;
        i++;
      }
      if (i < end && buf[i]! <= Ch.Space) i = sc.ws(i);
      if (i >= end) return -1;

      // ---- value
      if (top && (key === C.KEY_STREAM || key === C.KEY_DATA || this.inData)) {
        if (key === C.KEY_DATA) {
          // combined-stream envelope: the event is the data object (or, `!markPrice@arr`, the array's
          // elements, decoded once the whole frame is known valid). As JSON.parse, the last `data` wins.
          has = bad = badNum = 0;
          this.resetEvent();
          this.arrStart = -1;
          this.inData = true;
          const c = buf[i];
          if (c === Ch.LBrace) {
            i = this.scanObject(i, false);
          } else {
            if (c === Ch.LBracket) this.arrStart = i;
            i = sc.skipValue(i, 1);
          }
        } else if (key === C.KEY_STREAM) {
          i = this.streamField(i);
        } else {
          i = sc.skipValue(i, 1);
        }
      } else {
        const info = key < KEY_INFO.length ? KEY_INFO[key]! : 0;
        const kind = info & 0xff00;
        const bit = 1 << (info & 0xff);
        let c = buf[i]!;
        if (kind === C.KIND_INT) {
          if (c >= Ch.Zero && c <= Ch.Nine) {
            // fast path: a bare non-negative int
            let j = i;
            let m = 0;
            let d = 0;
            while (j < end && (d = (buf[j]! - Ch.Zero) >>> 0) <= 9) {
              m = m * 10 + d;
              j++;
            }
            c = j < end ? buf[j]! : 0;
            if (m < C.TWO_53 && c !== Ch.Dot && (c | 0x20) !== Ch.LowerE) {
              vals[info & 0xff] = m;
              has |= bit;
              bad &= ~bit;
              i = j;
              c = -1;
            }
          }
          if (c >= 0) {
            const j = sc.int(i);
            if (j >= 0) {
              vals[info & 0xff] = sc.num;
              has |= bit;
              bad &= ~bit;
              i = j;
            } else {
              has &= ~bit;
              bad |= bit;
              badNum = numberLike(buf[i]!) ? badNum | bit : badNum & ~bit;
              i = sc.skipValue(i, 1);
            }
          }
        } else if (kind === C.KIND_DEC || kind === C.KIND_DEC_OR_LEVELS) {
          if (kind === C.KIND_DEC_OR_LEVELS) has &= info === (C.KIND_DEC_OR_LEVELS | C.S_B) ? ~C.H_B_LEVELS : ~C.H_A_LEVELS;
          if (c === Ch.Quote) {
            // fast path: "digits[.digits]" with m < 2^53 and <= 22 decimals (see ByteScanner.decimal)
            let j = i + 1;
            const d0 = j;
            let m = 0;
            let d = 0;
            while (j < end && (d = (buf[j]! - Ch.Zero) >>> 0) <= 9) {
              m = m * 10 + d;
              j++;
            }
            let k = 0;
            let dot = 0;
            if (j < end && buf[j] === Ch.Dot) {
              dot = 1;
              const f0 = ++j;
              while (j < end && (d = (buf[j]! - Ch.Zero) >>> 0) <= 9) {
                m = m * 10 + d;
                j++;
              }
              k = j - f0;
            }
            // at least one digit; as parseFloat, "5." and ".5" are fine
            if (j < end && buf[j] === Ch.Quote && j - d0 > dot && m < C.TWO_53 && k <= 22) {
              vals[info & 0xff] = m / POW10[k]!;
              has |= bit;
              bad &= ~bit;
              i = j + 1;
              c = -1;
            }
          } else if (c === Ch.LBracket && kind === C.KIND_DEC_OR_LEVELS) {
            const isBid = info === (C.KIND_DEC_OR_LEVELS | C.S_B);
            const hBit = isBid ? C.H_B_LEVELS : C.H_A_LEVELS;
            const j = this.readLevels(i, isBid);
            if (j >= 0) {
              has = (has & ~bit) | hBit;
              bad &= ~bit;
              i = j;
            } else {
              if (isBid) this.nBids = 0;
              else this.nAsks = 0;
              has &= ~bit;
              bad |= bit;
              badNum = this.levelsBadNum ? badNum | bit : badNum & ~bit;
              i = sc.skipValue(i, 1);
            }
            c = -1;
          }
          if (c >= 0) {
            const j = sc.decimal(i);
            if (j >= 0) {
              vals[info & 0xff] = sc.num;
              has |= bit;
              bad &= ~bit;
              i = j;
            } else if (buf[i] === Ch.Quote && i + 1 < end && buf[i + 1] === Ch.Quote) {
              // "" where a decimal goes: the field is absent (NaN if optional, MissingField if required)
              has &= ~bit;
              bad &= ~bit;
              i += 2;
            } else {
              has &= ~bit;
              bad |= bit;
              badNum = numberLike(buf[i]!) ? badNum | bit : badNum & ~bit;
              i = sc.skipValue(i, 1);
            }
          }
        } else if (kind === C.KIND_EVENT) {
          i = this.eventType(i);
        } else if (kind === C.KIND_SYMBOL) {
          i = this.symbolField(i);
          if (this.strOk) {
            has |= C.K_S;
            bad &= ~C.K_S;
          } else {
            has &= ~C.K_S;
            bad |= C.K_S;
            badNum &= ~C.K_S;
          }
        } else if (kind === C.KIND_BOOL) {
          const j = sc.bool(i);
          if (j >= 0) {
            vals[info & 0xff] = sc.num;
            has |= bit;
            bad &= ~bit;
            i = j;
          } else {
            has &= ~bit;
            bad |= bit;
            badNum &= ~bit;
            i = sc.skipValue(i, 1);
          }
        } else if (kind === C.KIND_OBJ) {
          // forceOrder `o` / kline `k`: its keys go to ivals / ihas
          if (c === Ch.LBrace) {
            i = this.scanInner(i, info === (C.KIND_OBJ | C.S_OBJ_O) ? KEY_INFO_O : KEY_INFO_K);
            has |= bit;
            bad &= ~bit;
          } else {
            has &= ~bit;
            bad |= bit;
            badNum &= ~bit;
            i = sc.skipValue(i, 1);
          }
        } else {
          i = sc.skipValue(i, 1);
        }
      }
      if (i < 0) return -1;

      // ---- , or }
      let c = i < end ? buf[i]! : -1;
      if (c >= 0 && c <= Ch.Space) {
        i = sc.ws(i);
        c = i < end ? buf[i]! : -1;
      }
      if (c === Ch.Comma) {
        i++;
        if (i < end && buf[i]! <= Ch.Space) i = sc.ws(i);
        continue;
      }
      if (c !== Ch.RBrace) return -1;
      if (!this.inData || !top) this.setKeys(has, bad, badNum);
      return i + 1;
    }
  }

  /**
   * The nested object at `i` (forceOrder `o`, kline `k`) with its own key table: values to ivals, keys to
   * ihas / ibad / ibadNum / ibadVal (the table's keys are cleared first, so a repeated key object wins as in
   * JSON.parse). Any valid JSON is accepted; returns the index after its `}` or -1. Cold compared with the
   * top-level scan (these events come at most a few times a second per symbol), so it keeps to the
   * ByteScanner methods.
   */
  private scanInner(i: number, table: Uint16Array): number {
    const sc = this.sc;
    const buf = sc.buf;
    const end = sc.end;
    const iv = this.ivals;
    const mask = table === KEY_INFO_O ? C.IUSED_FORCE_ORDER : C.IUSED_KLINE;
    let has = this.ihas & ~mask;
    let bad = this.ibad & ~mask;
    let badNum = this.ibadNum & ~mask;
    let badVal = this.ibadVal & ~mask;
    i = sc.ws(i + 1);
    if (i < end && buf[i] === Ch.RBrace) {
      i++;
    } else {
      for (;;) {
        // key: one letter inline, else the general path (which knows `ap`)
        let key = 0;
        if (i + 3 < end && buf[i] === Ch.Quote && buf[i + 2] === Ch.Quote && buf[i + 1]! > Ch.Quote && buf[i + 1] !== Ch.Backslash) {
          key = buf[i + 1]!;
          i += 3;
        } else {
          i = this.longKey(i);
          if (i < 0) return -1;
          key = this.keyCode;
        }
        i = sc.ws(i);
        if (i >= end || buf[i] !== Ch.Colon) return -1;
        i = sc.ws(i + 1);
        if (i >= end) return -1;
        const info = key < table.length ? table[key]! : 0;
        const kind = info & 0xff00;
        const slot = info & 0xff;
        if (kind === 0) {
          // a key we skip (`o`, `f`, `X`, `ps`, `st` in `o`; `s`, `i`, `f`, `L`, `B` in `k`; unknown ones)
          i = sc.skipValue(i, 1);
          if (i < 0) return -1;
        } else {
          const bit = kind === C.KIND_SYMBOL ? C.IK_O_SYM : 1 << slot;
          const c = buf[i]!;
          // j: the index after the value if read; -1 not readable as its kind; -2 a side string other
          // than BUY / SELL; -3 an empty string where a decimal goes (absent)
          let j = -1;
          if (kind === C.KIND_INT) {
            j = sc.int(i);
            if (j >= 0) iv[slot] = sc.num;
          } else if (kind === C.KIND_DEC) {
            j = sc.decimal(i);
            if (j >= 0) iv[slot] = sc.num;
            else if (c === Ch.Quote && i + 1 < end && buf[i + 1] === Ch.Quote) j = -3;
          } else if (kind === C.KIND_BOOL) {
            j = sc.bool(i);
            if (j >= 0) iv[slot] = sc.num;
          } else if (kind === C.KIND_SIDE) {
            j = this.side(i);
            if (j >= 0) iv[slot] = sc.num;
          } else {
            // KIND_SYMBOL (o.s)
            if (c === Ch.Quote) {
              j = this.symbolField(i);
              if (j < 0) return -1;
              if (this.symBuf === this.symScratch) {
                // an escaped symbol: keep its unescaped bytes apart from the top-level scratch
                const n = this.symEnd;
                for (let k = 0; k < n; k++) this.foSymScratch[k] = this.symScratch[k]!;
                this.foSymBuf = this.foSymScratch;
              } else {
                this.foSymBuf = this.symBuf;
              }
              this.foSymStart = this.symStart;
              this.foSymEnd = this.symEnd;
            }
          }
          if (j >= 0) {
            has |= bit;
            bad &= ~bit;
            i = j;
          } else if (j === -3) {
            has &= ~bit;
            bad &= ~bit;
            i += 2;
          } else {
            has &= ~bit;
            bad |= bit;
            badVal = j === -2 ? badVal | bit : badVal & ~bit;
            badNum = (kind === C.KIND_INT || kind === C.KIND_DEC) && numberLike(c) ? badNum | bit : badNum & ~bit;
            i = sc.skipValue(i, 1);
            if (i < 0) return -1;
          }
        }
        i = sc.ws(i);
        if (i >= end) return -1;
        const d = buf[i];
        if (d === Ch.Comma) {
          i = sc.ws(i + 1);
          continue;
        }
        if (d !== Ch.RBrace) return -1;
        i++;
        break;
      }
    }
    this.ihas = has;
    this.ibad = bad;
    this.ibadNum = badNum;
    this.ibadVal = badVal;
    return i;
  }

  /** `o.S` at `i`: num = 1 (BUY) / -1 (SELL); -2 for another string, -1 if not a string. */
  private side(i: number): number {
    const sc = this.sc;
    const buf = sc.buf;
    if (buf[i] !== Ch.Quote) return -1;
    const j = sc.string(i);
    if (j < 0) return -1;
    let b = sc.buf;
    let s = sc.strStart;
    let e = sc.strEnd;
    if (sc.strEscaped) {
      b = this.keyScratch;
      s = 0;
      e = sc.unescapeAscii(sc.strStart, sc.strEnd, b);
    }
    if (e - s === 3 && b[s] === 66 && b[s + 1] === 85 && b[s + 2] === 89) {
      sc.num = 1; // BUY
      return j;
    }
    if (e - s === 4 && b[s] === 83 && b[s + 1] === 69 && b[s + 2] === 76 && b[s + 3] === 76) {
      sc.num = -1; // SELL
      return j;
    }
    return -2;
  }

  private setKeys(has: number, bad: number, badNum: number): void {
    this.has = has;
    this.bad = bad;
    this.badNum = badNum;
  }

  /** A key that is not a plain one-letter key: sets `keyCode`; index after the closing quote, or -1. */
  private longKey(i: number): number {
    const sc = this.sc;
    i = sc.string(i);
    if (i < 0) return -1;
    let kb = sc.buf;
    let ks = sc.strStart;
    let len = sc.strEnd - ks;
    if (sc.strEscaped) {
      kb = this.keyScratch;
      ks = 0;
      len = sc.unescapeAscii(sc.strStart, sc.strEnd, kb);
    }
    let code: number = C.KEY_OTHER;
    if (len === 1) code = kb[ks]!;
    else if (len === 2 && kb[ks] === 112 /* p */ && kb[ks + 1] === 117 /* u */) code = C.KEY_PU;
    else if (len === 2 && kb[ks] === 97 /* a */ && kb[ks + 1] === 112 /* p */) code = C.KEY_AP;
    else if (len === 6 && bytesEqual(kb, ks, ks + 6, LIT_STREAM)) code = C.KEY_STREAM;
    else if (len === 4 && bytesEqual(kb, ks, ks + 4, LIT_DATA)) code = C.KEY_DATA;
    this.keyCode = code;
    return i;
  }

  /** The envelope's stream name (used to tell partial depth from diff depth). */
  private streamField(i: number): number {
    const sc = this.sc;
    this.streamLen = -1;
    if (sc.buf[i] !== Ch.Quote) return sc.skipValue(i, 1);
    i = sc.string(i);
    if (i < 0) return -1;
    if (sc.strEscaped) {
      this.streamBuf = this.streamScratch;
      this.streamStart = 0;
      this.streamLen = sc.unescapeAscii(sc.strStart, sc.strEnd, this.streamScratch);
    } else {
      this.streamBuf = sc.buf;
      this.streamStart = sc.strStart;
      this.streamLen = sc.strEnd - sc.strStart;
    }
    return i;
  }

  /** `e`: sets `ev`; index after the value, or -1 if it is not valid JSON. */
  private eventType(i: number): number {
    const sc = this.sc;
    const buf = sc.buf;
    if (buf[i] !== Ch.Quote) {
      this.ev = C.EV_OTHER;
      return sc.skipValue(i, 1);
    }
    // fast path: one of ours, unescaped
    const c1 = sc.at(i + 1);
    let lit: Uint8Array | null = null;
    let ev: number = C.EV_OTHER;
    switch (c1) {
      case 98:
        lit = LIT_BOOK_TICKER;
        ev = C.EV_BOOK_TICKER;
        break;
      case 100:
        lit = LIT_DEPTH_UPDATE;
        ev = C.EV_DEPTH;
        break;
      case 97:
        lit = LIT_AGG_TRADE;
        ev = C.EV_AGG_TRADE;
        break;
      case 116:
        lit = LIT_TRADE;
        ev = C.EV_TRADE;
        break;
      case 109:
        lit = LIT_MARK_PRICE;
        ev = C.EV_MARK_PRICE;
        break;
      case 102:
        lit = LIT_FORCE_ORDER;
        ev = C.EV_FORCE_ORDER;
        break;
      case 107:
        lit = LIT_KLINE;
        ev = C.EV_KLINE;
        break;
    }
    if (lit !== null) {
      const q = i + 1 + lit.length;
      if (q < sc.end && buf[q] === Ch.Quote && bytesEqual(buf, i + 1, q, lit)) {
        this.ev = ev;
        return q + 1;
      }
    }
    const j = sc.string(i);
    if (j < 0) return -1;
    let b = sc.buf;
    let s = sc.strStart;
    let e = sc.strEnd;
    if (sc.strEscaped) {
      b = this.keyScratch;
      s = 0;
      e = sc.unescapeAscii(sc.strStart, sc.strEnd, b);
    }
    ev = C.EV_OTHER;
    if (bytesEqual(b, s, e, LIT_BOOK_TICKER)) ev = C.EV_BOOK_TICKER;
    else if (bytesEqual(b, s, e, LIT_DEPTH_UPDATE)) ev = C.EV_DEPTH;
    else if (bytesEqual(b, s, e, LIT_AGG_TRADE)) ev = C.EV_AGG_TRADE;
    else if (bytesEqual(b, s, e, LIT_TRADE)) ev = C.EV_TRADE;
    else if (bytesEqual(b, s, e, LIT_MARK_PRICE)) ev = C.EV_MARK_PRICE;
    else if (bytesEqual(b, s, e, LIT_FORCE_ORDER)) ev = C.EV_FORCE_ORDER;
    else if (bytesEqual(b, s, e, LIT_KLINE)) ev = C.EV_KLINE;
    this.ev = ev;
    return j;
  }

  /** `s`: the symbol's bytes (strOk false if the value is not a string); index after it, or -1. */
  private symbolField(i: number): number {
    const sc = this.sc;
    const buf = sc.buf;
    if (buf[i] !== Ch.Quote) {
      this.strOk = false;
      return sc.skipValue(i, 1);
    }
    // fast path: no escapes, no control bytes, no space or '!'
    const q = sc.plainStringEnd(i + 1);
    if (q >= 0) {
      this.symBuf = buf;
      this.symStart = i + 1;
      this.symEnd = q;
      this.strOk = true;
      return q + 1;
    }
    const j = sc.string(i);
    if (j < 0) return -1;
    if (sc.strEscaped) {
      this.symBuf = this.symScratch;
      this.symStart = 0;
      this.symEnd = sc.unescapeAscii(sc.strStart, sc.strEnd, this.symScratch);
    } else {
      this.symBuf = sc.buf;
      this.symStart = sc.strStart;
      this.symEnd = sc.strEnd;
    }
    this.strOk = true;
    return j;
  }

  /**
   * Levels as Binance writes them, `[["7.5040","813"],...]` with no whitespace, for the template: into the
   * joined level scratch from level `first` on (the bids from 0, the asks after them, the order of the
   * records). Returns the index after the closing `]` with the number of levels read in `nRead`, or -2 at
   * the first other byte (the template then gives up on the frame).
   */
  private templateLevels(i: number, first: number): number {
    const buf = this.sc.buf;
    let arr = this.levels;
    let w = 2 * first;
    i++;
    if (buf[i] === Ch.RBracket) {
      i++;
    } else {
      for (;;) {
        if (w + 2 > arr.length) arr = this.growLevels();
        // ["price","qty"]
        if (buf[i] !== Ch.LBracket || buf[i + 1] !== Ch.Quote) return -2;
        i = decimalAt(buf, i + 2, arr, w);
        if (i < 0 || buf[i + 1] !== Ch.Comma || buf[i + 2] !== Ch.Quote) return -2;
        i = decimalAt(buf, i + 3, arr, w + 1);
        if (i < 0 || buf[i + 1] !== Ch.RBracket) return -2;
        w += 2;
        const c = buf[i + 2];
        i += 3;
        if (c === Ch.Comma) continue;
        if (c !== Ch.RBracket) return -2;
        break;
      }
    }
    this.nRead = (w >> 1) - first;
    return i;
  }

  /** Doubles the joined level scratch (an event with more levels than any before). */
  private growLevels(): Float64Array<ArrayBuffer> {
    const grown = new Float64Array(this.levels.length * 2);
    grown.set(this.levels);
    this.levels = grown;
    return grown;
  }

  /** `[[p,q],...]` at `i` into the bid or ask scratch (count in nBids / nAsks); index after it, or -1. */
  private readLevels(i: number, isBid: boolean): number {
    const sc = this.sc;
    const buf = sc.buf;
    const end = sc.end;
    let arr = isBid ? this.bids : this.asks;
    let n = 0;
    this.levelsBadNum = false;
    i++;
    if (i < end && buf[i]! <= Ch.Space) i = sc.ws(i);
    if (i < end && buf[i] === Ch.RBracket) {
      i++;
    } else {
      for (;;) {
        if (2 * n + 2 > arr.length) {
          const grown = new Float64Array(arr.length * 2);
          grown.set(arr);
          arr = grown;
          if (isBid) this.bids = grown;
          else this.asks = grown;
        }
        if (i >= end || buf[i] !== Ch.LBracket) return -1;
        i++;
        // price and qty: the inline fast path of ByteScanner.decimal for `"digits[.digits]"`, else the method
        for (let x = 0; x < 2; x++) {
          if (i < end && buf[i]! <= Ch.Space) i = sc.ws(i);
          let ok = false;
          if (i < end && buf[i] === Ch.Quote) {
            let j = i + 1;
            const d0 = j;
            let m = 0;
            let d = 0;
            while (j < end && (d = (buf[j]! - Ch.Zero) >>> 0) <= 9) {
              m = m * 10 + d;
              j++;
            }
            let k = 0;
            let dot = 0;
            if (j < end && buf[j] === Ch.Dot) {
              dot = 1;
              const f0 = ++j;
              while (j < end && (d = (buf[j]! - Ch.Zero) >>> 0) <= 9) {
                m = m * 10 + d;
                j++;
              }
              k = j - f0;
            }
            if (j < end && buf[j] === Ch.Quote && j - d0 > dot && m < C.TWO_53 && k <= 22) {
              arr[2 * n + x] = m / POW10[k]!;
              i = j + 1;
              ok = true;
            }
          }
          if (!ok) {
            const j = sc.decimal(i);
            if (j < 0) {
              this.levelsBadNum = numberLike(buf[i]!);
              return -1;
            }
            i = j;
            arr[2 * n + x] = sc.num;
          }
          if (i < end && buf[i]! <= Ch.Space) i = sc.ws(i);
          if (x === 0) {
            if (i >= end || buf[i] !== Ch.Comma) return -1;
            i++;
          }
        }
        while (i < end && buf[i] === Ch.Comma) {
          // extra elements in a level: tolerated, skipped
          if ((i = sc.skipValue(i + 1, 2)) < 0) return -1;
          i = sc.ws(i);
        }
        if (i >= end || buf[i] !== Ch.RBracket) return -1;
        i++;
        n++;
        if (i < end && buf[i]! <= Ch.Space) i = sc.ws(i);
        if (i >= end) return -1;
        const c = buf[i]!;
        i++;
        if (c === Ch.Comma) {
          if (i < end && buf[i]! <= Ch.Space) i = sc.ws(i);
          continue;
        }
        if (c !== Ch.RBracket) return -1;
        break;
      }
    }
    if (isBid) this.nBids = n;
    else this.nAsks = n;
    return i;
  }

  // ------------------------------------------------------------------ records

  /**
   * f64[w] = the value of slot `slot`, or NaN if the field is missing (see the class comment). Takes slot
   * numbers, not values, and returns nothing: doubles passed to or returned from a call that is not inlined
   * are boxed on the heap, and the decoder must not allocate per frame.
   */
  private opt(f64: Float64Array, w: number, bit: number, slot: number): void {
    f64[w] = (this.has & bit) !== 0 ? this.vals[slot]! : NaN;
  }

  /** opt for the keys of the nested `o` / `k` object. */
  private iopt(f64: Float64Array, w: number, bit: number, slot: number): void {
    f64[w] = (this.ihas & bit) !== 0 ? this.ivals[slot]! : NaN;
  }

  /** Claims and fills the records of the checked event of `sym`: their number, or -1 if the ring is full. */
  private emit(sym: number, recvTs: number, out: SlotWriter): number {
    switch (this.ev) {
      case C.EV_BOOK_TICKER:
        return this.writeBookTicker(sym, recvTs, out);
      case C.EV_AGG_TRADE:
        return this.writeTrade(RecordType.AggTrade, sym, recvTs, out);
      case C.EV_TRADE:
        return this.writeTrade(RecordType.Trade, sym, recvTs, out);
      case C.EV_DEPTH:
        return this.writeDepth(sym, recvTs, out);
      case C.EV_MARK_PRICE:
        return this.writeMarkPrice(sym, recvTs, out);
      case C.EV_FORCE_ORDER:
        return this.writeForceOrder(sym, recvTs, out);
      default:
        return this.writeKline(sym, recvTs, out);
    }
  }

  /** Header word, symbol and receive time of a fresh record. */
  private head(out: SlotWriter, base: number, type: number, flags: number, count: number, sym: number, recvTs: number): void {
    const i32 = out.i32;
    i32[base * 2] = packHeader(type, flags | (this.gap[sym] !== 0 ? RecordFlag.GapBefore : 0), count);
    i32[base * 2 + 1] = sym;
    out.f64[base + W.RECV_TS] = recvTs;
  }

  private writeBookTicker(sym: number, recvTs: number, out: SlotWriter): number {
    const base = this.claim(sym, out);
    if (base < 0) return -1;
    const f64 = out.f64;
    const vals = this.vals;
    this.head(out, base, RecordType.BookTicker, 0, 0, sym, recvTs);
    this.opt(f64, base + BT.UPDATE_ID, C.K_LU, C.S_LU);
    this.opt(f64, base + BT.EVENT_TIME, C.K_E, C.S_E);
    this.opt(f64, base + BT.TX_TIME, C.K_T, C.S_T);
    f64[base + BT.BID] = vals[C.S_B]!;
    f64[base + BT.BID_QTY] = vals[C.S_BQ]!;
    f64[base + BT.ASK] = vals[C.S_A]!;
    f64[base + BT.ASK_QTY] = vals[C.S_AQ]!;
    return 1;
  }

  private writeTrade(type: number, sym: number, recvTs: number, out: SlotWriter): number {
    const base = this.claim(sym, out);
    if (base < 0) return -1;
    const f64 = out.f64;
    const vals = this.vals;
    this.head(out, base, type, 0, 0, sym, recvTs);
    this.opt(f64, base + AT.EVENT_TIME, C.K_E, C.S_E);
    this.opt(f64, base + AT.TRADE_TIME, C.K_T, C.S_T);
    f64[base + AT.PRICE] = vals[C.S_P]!;
    f64[base + AT.QTY] = vals[C.S_Q]!;
    f64[base + AT.BUYER_MAKER] = vals[C.S_M]!;
    if (type === RecordType.AggTrade) {
      this.opt(f64, base + AT.TRADE_ID, C.K_A, C.S_A);
      this.opt(f64, base + AT.FIRST_ID, C.K_F, C.S_F);
      this.opt(f64, base + AT.LAST_ID, C.K_L, C.S_L);
    } else {
      const id = (this.has & C.K_TID) !== 0 ? vals[C.S_TID]! : NaN;
      f64[base + AT.TRADE_ID] = id;
      f64[base + AT.FIRST_ID] = id;
      f64[base + AT.LAST_ID] = id;
    }
    return 1;
  }

  private writeMarkPrice(sym: number, recvTs: number, out: SlotWriter): number {
    const base = this.claim(sym, out);
    if (base < 0) return -1;
    const f64 = out.f64;
    const vals = this.vals;
    this.head(out, base, RecordType.MarkPrice, 0, 0, sym, recvTs);
    this.opt(f64, base + MP.EVENT_TIME, C.K_E, C.S_E);
    f64[base + MP.MARK] = vals[C.S_P]!;
    this.opt(f64, base + MP.INDEX, C.K_I, C.S_I);
    this.opt(f64, base + MP.SETTLE, C.K_PP, C.S_PP);
    this.opt(f64, base + MP.FUNDING_RATE, C.K_R, C.S_R);
    this.opt(f64, base + MP.NEXT_FUNDING_TIME, C.K_T, C.S_T);
    return 1;
  }

  private writeForceOrder(sym: number, recvTs: number, out: SlotWriter): number {
    const base = this.claim(sym, out);
    if (base < 0) return -1;
    const f64 = out.f64;
    const iv = this.ivals;
    this.head(out, base, RecordType.ForceOrder, 0, 0, sym, recvTs);
    this.opt(f64, base + FO.EVENT_TIME, C.K_E, C.S_E);
    this.iopt(f64, base + FO.TRADE_TIME, C.IK_O_TIME, C.I_O_TIME);
    f64[base + FO.SIDE] = iv[C.I_O_SIDE]!;
    f64[base + FO.PRICE] = iv[C.I_O_PRICE]!;
    f64[base + FO.QTY] = iv[C.I_O_QTY]!;
    this.iopt(f64, base + FO.AVG_PRICE, C.IK_O_AVG, C.I_O_AVG);
    this.iopt(f64, base + FO.LAST_QTY, C.IK_O_LAST, C.I_O_LAST);
    this.iopt(f64, base + FO.CUM_QTY, C.IK_O_CUM, C.I_O_CUM);
    return 1;
  }

  private writeKline(sym: number, recvTs: number, out: SlotWriter): number {
    const base = this.claim(sym, out);
    if (base < 0) return -1;
    const f64 = out.f64;
    const iv = this.ivals;
    this.head(out, base, RecordType.Kline, iv[C.I_K_CLOSED] === 1 ? RecordFlag.Closed : 0, 0, sym, recvTs);
    this.opt(f64, base + KL.EVENT_TIME, C.K_E, C.S_E);
    f64[base + KL.OPEN_TIME] = iv[C.I_K_OPEN_TIME]!;
    f64[base + KL.CLOSE_TIME] = iv[C.I_K_CLOSE_TIME]!;
    f64[base + KL.OPEN] = iv[C.I_K_OPEN]!;
    f64[base + KL.HIGH] = iv[C.I_K_HIGH]!;
    f64[base + KL.LOW] = iv[C.I_K_LOW]!;
    f64[base + KL.CLOSE] = iv[C.I_K_CLOSE]!;
    f64[base + KL.VOLUME] = iv[C.I_K_VOL]!;
    this.iopt(f64, base + KL.QUOTE_VOLUME, C.IK_K_QVOL, C.I_K_QVOL);
    this.iopt(f64, base + KL.TRADES, C.IK_K_TRADES, C.I_K_TRADES);
    this.iopt(f64, base + KL.TAKER_BUY_VOLUME, C.IK_K_TBVOL, C.I_K_TBVOL);
    this.iopt(f64, base + KL.TAKER_BUY_QUOTE_VOLUME, C.IK_K_TBQVOL, C.I_K_TBQVOL);
    return 1;
  }

  /**
   * Partial depth (`<sym>@depth5|10|20[@...]`) by the envelope's stream name: any `@depth` followed by 5, 10
   * or 20 and then `@` or the end. Looks only at the `@`s (one compare per byte; runs for every depth event).
   */
  private isSnapshotStream(): boolean {
    if (this.streamLen < 0) return this.rawDepthIsSnapshot;
    const buf = this.streamBuf;
    const end = this.streamStart + this.streamLen;
    for (let i = this.streamStart; i + 6 < end; i++) {
      if (
        buf[i] !== Ch.At ||
        buf[i + 1] !== 100 ||
        buf[i + 2] !== 101 ||
        buf[i + 3] !== 112 ||
        buf[i + 4] !== 116 ||
        buf[i + 5] !== 104
      ) {
        continue;
      }
      // @depth<n>: n is 5, 10 or 20, then '@' or the end
      const d = buf[i + 6]!;
      let j = i + 7;
      if (d === 49 || d === 50) {
        if (j >= end || buf[j] !== Ch.Zero) continue;
        j++;
      } else if (d !== 53) {
        continue;
      }
      if (j === end || buf[j] === Ch.At) return true;
    }
    return false;
  }

  /**
   * A depth event's levels, bids first, DEPTH_LEVELS_PER_RECORD to a record (the ask mask marks the asks),
   * with First / Last on the event's first / last record and GapBefore on its first only.
   */
  private writeDepth(sym: number, recvTs: number, out: SlotWriter): number {
    const nb = this.nBids;
    const total = nb + this.nAsks;
    const L = DEPTH_LEVELS_PER_RECORD;
    const nRec = total === 0 ? 1 : ((total + L - 1) / L) | 0;
    if (!this.joined) this.joinLevels();
    const lv = this.levels;
    const f64 = out.f64;
    const i32 = out.i32;
    const vals = this.vals;
    const flags0 = this.isSnapshotStream() ? RecordFlag.Snapshot : 0;
    const gapFlag = this.gap[sym] !== 0 ? RecordFlag.GapBefore : 0;
    const uU = vals[C.S_UU]!;
    const lu = vals[C.S_LU]!;
    const has = this.has;
    const pu = (has & C.K_PU) !== 0 ? vals[C.S_PU]! : NaN;
    const evTime = (has & C.K_E) !== 0 ? vals[C.S_E]! : NaN;
    const txTime = (has & C.K_T) !== 0 ? vals[C.S_T]! : NaN;
    for (let r = 0; r < nRec; r++) {
      const base = this.claim(sym, out);
      if (base < 0) return -1;
      const l0 = r * L; // the record's first level
      let n = total - l0;
      if (n > L) n = L;
      // its levels as they lie in the joined scratch, then zeros
      const w0 = base + DEPTH.LEVELS;
      const s0 = 2 * l0;
      let k = 0;
      for (; k < 2 * n; k++) f64[w0 + k] = lv[s0 + k]!;
      for (; k < 2 * L; k++) f64[w0 + k] = 0;
      // asks: the record's levels from index nb on
      const a0 = nb - l0;
      const mask = a0 >= n ? 0 : ((1 << n) - 1) & ~((1 << (a0 > 0 ? a0 : 0)) - 1);
      let flags = flags0;
      if (r === 0) flags |= RecordFlag.First | gapFlag;
      if (r === nRec - 1) flags |= RecordFlag.Last;
      i32[base * 2] = packHeader(RecordType.Depth, flags, depthCount(n, mask));
      i32[base * 2 + 1] = sym;
      f64[base + W.RECV_TS] = recvTs;
      f64[base + DEPTH.FIRST_UPDATE_ID] = uU;
      f64[base + DEPTH.FINAL_UPDATE_ID] = lu;
      f64[base + DEPTH.PREV_UPDATE_ID] = pu;
      f64[base + DEPTH.EVENT_TIME] = evTime;
      f64[base + DEPTH.TX_TIME] = txTime;
    }
    return nRec;
  }

  /** The general scan's bids and asks copied into the joined level scratch (in record order). */
  private joinLevels(): void {
    const nb = this.nBids;
    const na = this.nAsks;
    while (this.levels.length < 2 * (nb + na)) this.growLevels();
    const lv = this.levels;
    for (let k = 0; k < 2 * nb; k++) lv[k] = this.bids[k]!;
    for (let k = 0; k < 2 * na; k++) lv[2 * nb + k] = this.asks[k]!;
    this.joined = true;
  }
}

/** First byte of a value that was meant as a number: a quote (Binance quotes decimals), a digit or '-'. */
function numberLike(c: number): boolean {
  return c === Ch.Quote || c === Ch.Minus || (c >= Ch.Zero && c <= Ch.Nine);
}
