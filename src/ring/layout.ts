/**
 * Record layouts shared by every ring. A record is exactly one slot. Slots are read and written through
 * Float64Array / Int32Array views over the ring's data area, so a field is addressed as a word index
 * relative to the slot's base: `f64[base + F.PRICE]`. Word 0 of every slot holds two int32s: the record
 * header (type | flags << 8 | count << 16) and the interned symbol id.
 *
 * Times: RECV_TS and PUB_TS are float64 nanoseconds since the process epoch (see util/clock.ts).
 */

/** Slot sizes in bytes; power-of-two multiples of 64. */
export const MARKET_SLOT_BYTES = 128; // ring A
export const INTENT_SLOT_BYTES = 128; // ring B
export const REPORT_SLOT_BYTES = 256; // ring C

export const enum RecordType {
  // ring A: market data
  BookTicker = 1,
  AggTrade = 2,
  Depth = 3,
  Trade = 4,
  MarkPrice = 5,
  ForceOrder = 6,
  Kline = 7,
  FeedStatus = 15,
  // ring B: order intents
  OrderNew = 32,
  OrderCancel = 33,
  /** change a resting LIMIT order's price and quantity (the venue re-queues it) */
  OrderAmend = 34,
  // ring C: execution reports
  ExecReport = 64,
  /** ring C: a position/balance change from the user data stream (ACCOUNT_UPDATE) or a REST reconcile */
  AccountUpdate = 65,
}

/** Header flags (bits 8..15 of header word). */
export const enum RecordFlag {
  /** Ring A: records for this symbol were dropped before this one; the view is stale until a full state. */
  GapBefore = 1 << 0,
  /** Ring A depth: first record of one depth event. */
  First = 1 << 1,
  /** Ring A depth: last record of one depth event. */
  Last = 1 << 2,
  /** Ring A depth: the event is a partial-depth snapshot (top N), not a diff. */
  Snapshot = 1 << 3,
  /** Ring A kline: the candle is closed (`x: true`). */
  Closed = 1 << 4,
  /** Ring A depth: a full book (REST snapshot or re-emitted local book); clear the side(s) before applying. */
  Reset = 1 << 5,
}

// ---- header word helpers (int32 index = base*2 for word 0) ----
export function packHeader(type: number, flags: number, count: number): number {
  return (type & 0xff) | ((flags & 0xff) << 8) | ((count & 0xffff) << 16);
}
export function headerType(h: number): number {
  return h & 0xff;
}
export function headerFlags(h: number): number {
  return (h >>> 8) & 0xff;
}
export function headerCount(h: number): number {
  return (h >>> 16) & 0xffff;
}

/** Common word indices (float64 words). Word 0 = [int32 header, int32 symbolId]. */
export const enum W {
  HEADER = 0,
  RECV_TS = 1,
  PUB_TS = 2,
}

/** bookTicker: best bid/ask. */
export const enum BT {
  UPDATE_ID = 3,
  EVENT_TIME = 4,
  TX_TIME = 5,
  BID = 6,
  BID_QTY = 7,
  ASK = 8,
  ASK_QTY = 9,
}

/** aggTrade (and trade): price, qty, aggressor. */
export const enum AT {
  TRADE_ID = 3,
  EVENT_TIME = 4,
  TRADE_TIME = 5,
  PRICE = 6,
  QTY = 7,
  /** 1 if the buyer is the maker (aggressor sold), else 0. */
  BUYER_MAKER = 8,
  FIRST_ID = 9,
  LAST_ID = 10,
}

/**
 * depthUpdate: one event is split over one or more records of up to DEPTH_LEVELS_PER_RECORD levels.
 * Header count field = depthCount(levels, askMask): bit i of askMask set = level i is an ask (else a bid).
 * First/Last flags delimit the event; Snapshot marks a partial-depth (top N) event. Qty 0 deletes a level.
 */
export const DEPTH_LEVELS_PER_RECORD = 4;
export const enum DEPTH {
  FIRST_UPDATE_ID = 3, // U
  FINAL_UPDATE_ID = 4, // u
  PREV_UPDATE_ID = 5, // pu
  EVENT_TIME = 6,
  TX_TIME = 7,
  LEVELS = 8, // 8..15: price0, qty0, price1, qty1, price2, qty2, price3, qty3
}
export function depthCount(levels: number, askMask: number): number {
  return (levels & 0xff) | ((askMask & 0xff) << 8);
}
export function depthLevels(count: number): number {
  return count & 0xff;
}
export function depthAskMask(count: number): number {
  return (count >>> 8) & 0xff;
}

/** markPriceUpdate. */
export const enum MP {
  EVENT_TIME = 3,
  MARK = 4,
  INDEX = 5,
  /** estimated settle price */
  SETTLE = 6,
  FUNDING_RATE = 7,
  NEXT_FUNDING_TIME = 8,
}

/** forceOrder (a liquidation order's fill). Side is Side (1 buy, -1 sell) of the liquidation order. */
export const enum FO {
  EVENT_TIME = 3,
  TRADE_TIME = 4,
  SIDE = 5,
  PRICE = 6,
  QTY = 7,
  AVG_PRICE = 8,
  LAST_QTY = 9,
  CUM_QTY = 10,
}

/** kline; header flag Closed marks a final candle. Interval = CLOSE_TIME + 1 - OPEN_TIME. */
export const enum KL {
  EVENT_TIME = 3,
  OPEN_TIME = 4,
  CLOSE_TIME = 5,
  OPEN = 6,
  HIGH = 7,
  LOW = 8,
  CLOSE = 9,
  VOLUME = 10,
  QUOTE_VOLUME = 11,
  TRADES = 12,
  TAKER_BUY_VOLUME = 13,
  TAKER_BUY_QUOTE_VOLUME = 14,
}

/** Per-symbol order-book state as the feed sees it; strategies that quote need Live. */
export const enum BookState {
  Syncing = 1,
  Live = 2,
  Stale = 3,
}

/** FeedStatus: a change of one symbol's book state (or of the connection). */
export const enum FS {
  BOOK_STATE = 3,
  GAPS = 4,
  RESYNCS = 5,
  /** 1 while the market-data connection is up */
  CONNECTED = 6,
  /** last applied depth update id */
  LAST_UPDATE_ID = 7,
}

// ---------------------------------------------------------------- ring B: order intents

export const enum Side {
  Buy = 1,
  Sell = -1,
}
export const enum OrderType {
  Market = 1,
  Limit = 2,
  StopMarket = 3,
  TakeProfitMarket = 4,
  TrailingStopMarket = 5,
}
export const enum TimeInForce {
  None = 0,
  Gtc = 1,
  Ioc = 2,
  Fok = 3,
  /** post-only */
  Gtx = 4,
}
export const enum IntentFlag {
  ReduceOnly = 1 << 0,
  /** conditional orders: close the whole position when triggered (no quantity is sent) */
  ClosePosition = 1 << 1,
  /** conditional orders: trigger on the mark price (workingType MARK_PRICE) rather than the last price */
  TriggerOnMark = 1 << 2,
}

/** Order intent: strategy -> execution. Prices and quantities are exact integers of ticks and steps. */
export const enum IN {
  INTENT_ID = 3,
  SIDE = 4,
  ORDER_TYPE = 5,
  TIF = 6,
  PRICE_TICKS = 7,
  QTY_STEPS = 8,
  FLAGS = 9,
  /** price the strategy saw when it decided (for slippage) */
  DECISION_PRICE = 10,
  STOP_PRICE_TICKS = 11,
  /** when the strategy worker read the triggering record (strategy stage = PUB_TS - READ_TS) */
  READ_TS = 12,
  /** venue event time (ms) of the triggering market record */
  EVENT_TIME = 13,
  /** OrderCancel / OrderAmend: the intent id of the order to cancel or amend (ORDER_TYPE is then the target's type) */
  TARGET_ID = 14,
  /** TRAILING_STOP_MARKET: callback rate in percent (0.1..10); STOP_PRICE_TICKS is then the activation price (0 = none) */
  CALLBACK_RATE = 15,
}

// ---------------------------------------------------------------- ring C: execution reports

export const enum OrderStatus {
  PendingNew = 0,
  New = 1,
  PartiallyFilled = 2,
  Filled = 3,
  Canceled = 4,
  Rejected = 5,
  Expired = 6,
  Unknown = 7,
}
export const enum ExecType {
  Ack = 1,
  Fill = 2,
  Reject = 3,
  Canceled = 4,
  Expired = 5,
}
/** Why an intent was rejected (venue rejects carry the venue's code in ERROR_CODE as well). */
export const enum RejectReason {
  None = 0,
  Venue = 1,
  RingFull = 2,
  Transport = 3,
  Timeout = 4,
  MaxOrderQty = 5,
  MaxPosition = 6,
  /** local exchangeInfo checks (before sending) */
  PriceFilter = 7,
  LotSize = 8,
  MinNotional = 9,
  PercentPrice = 10,
  /** a local order-rate or weight budget is exhausted, or the venue answered 429 */
  RateLimited = 11,
  /** order entry halted (418 ban, or an operator halt) */
  Halted = 12,
  /** the book or instrument is not ready (no exchangeInfo, book not live) */
  NotReady = 13,
  Unknown = 99,
  // ---- pre-trade risk (src/risk/RiskEngine.ts); MaxOrderQty, MaxPosition, Halted and NotReady above serve it too
  MaxOrderNotional = 100,
  MaxPositionNotional = 101,
  MaxTotalNotional = 102,
  MaxOpenOrders = 103,
  OrderRatePerSecond = 104,
  OrderRatePer10s = 105,
  OrderRatePerMinute = 106,
  /** limit price too far from mid */
  PriceBand = 107,
  MinSpread = 108,
  /** expected execution price too far from the decision price */
  MaxSlippage = 109,
  DailyLoss = 110,
  MaxDrawdown = 111,
  /** paused after N consecutive losing round trips */
  LossStreakPause = 112,
  MinTradeInterval = 113,
  MaxTradesPerMinute = 114,
  MaxTradesPerDay = 115,
  MaxLeverage = 116,
  /** one order's margin above its share of equity */
  MaxOrderMargin = 117,
  /** total margin in use above its share of equity */
  CapitalUsage = 118,
  /** equity fell below the floor fraction of initial capital */
  CapitalFloor = 119,
  TargetProfit = 120,
  /** an entry in the direction of an existing position */
  DuplicatePosition = 121,
  VenueLatency = 122,
  /** trading state is REDUCE_ONLY (set by an operator) and the order does not reduce */
  ReduceOnlyState = 123,
  MaxLossesPerDay = 124,
  MaxRealizedLoss = 125,
}

export const enum RP {
  INTENT_ID = 3,
  STATUS = 4,
  EXEC_TYPE = 5,
  SIDE = 6,
  LAST_QTY = 7,
  LAST_PRICE = 8,
  CUM_QTY = 9,
  AVG_PRICE = 10,
  FEE = 11,
  ORDER_ID = 12,
  ERROR_CODE = 13,
  /** request bytes written to the socket */
  SENT_TS = 14,
  /** response received */
  ACK_TS = 15,
  VENUE_TIME = 16,
  MSG_LEN = 17,
  IS_MAKER = 18,
  REASON = 19,
  /** message bytes (UTF-8, truncated to REPORT_MSG_MAX) start at this word */
  MSG = 20,
}
/** AccountUpdate (ring C): one position's state after a change, and the margin asset's wallet balance. */
export const enum AU {
  EVENT_TIME = 3,
  /** position amount, signed (base units) */
  POSITION_AMT = 4,
  ENTRY_PRICE = 5,
  BREAK_EVEN_PRICE = 6,
  UNREALIZED_PNL = 7,
  /** accumulated realized PnL (pre-fee) */
  REALIZED_PNL = 8,
  WALLET_BALANCE = 9,
  CROSS_WALLET_BALANCE = 10,
  /** AccountUpdateReason */
  REASON = 11,
  /** 1 = the balance words are valid */
  HAS_BALANCE = 12,
  /** 1 = the position words are valid */
  HAS_POSITION = 13,
}
export const enum AccountUpdateReason {
  Order = 1,
  FundingFee = 2,
  Deposit = 3,
  Withdraw = 4,
  Reconcile = 5,
  Other = 9,
}

/** ExecReport header flags (user data stream, reconcile; transport reports carry 0). See venues/binance/UserDataDecoder.ts. */
export const enum ExecFlag {
  Foreign = 1 << 0,
  Lite = 1 << 1,
  Dup = 1 << 2,
  /** written by a REST reconcile after a reconnect (UserDataStream) */
  Reconcile = 1 << 3,
  /** ALGO_UPDATE: ORDER_ID is the algo id, CUM_QTY/AVG_PRICE those of the triggered order */
  Algo = 1 << 4,
  /** x = CALCULATED: a liquidation execution */
  Liquidation = 1 << 5,
  /** x = AMENDMENT: price or quantity modified */
  Amended = 1 << 6,
  Stream = 1 << 7,
}

/** ExecReport header count for foreign orders: where the client order id says the order came from. */
export const enum OrderOrigin {
  Ours = 0,
  Manual = 1,
  Liquidation = 2,
  Adl = 3,
  Settlement = 4,
}

/** AccountUpdate header flags. */
export const enum AccountFlag {
  Long = 1 << 0,
  Short = 1 << 1,
  Isolated = 1 << 2,
  MarginCall = 1 << 3,
}

export const REPORT_MSG_MAX = (REPORT_SLOT_BYTES / 8 - RP.MSG) * 8; // 96 bytes
