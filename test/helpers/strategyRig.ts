import type { Instrument } from '../../src/core/Instrument.js';
import { ArraySlotWriter } from '../../src/ring/SlotWriter.js';
import {
  AT,
  BT,
  DEPTH,
  FO,
  FS,
  IN,
  INTENT_SLOT_BYTES,
  KL,
  MARKET_SLOT_BYTES,
  MP,
  REPORT_SLOT_BYTES,
  RP,
  RecordFlag,
  RecordType,
  W,
  depthCount,
  packHeader,
  type BookState,
  type ExecType,
  type OrderStatus,
  type Side,
} from '../../src/ring/layout.js';
import { PreTradeLimits } from '../../src/risk/PreTradeLimits.js';
import type { Strategy } from '../../src/strategy/Strategy.js';
import { StrategyRunner } from '../../src/strategy/StrategyRunner.js';

/** One level of a hand-built book: [price, qty, isAsk]. */
export type RigLevel = [number, number, boolean];

type Fill = (f64: Float64Array, i32: Int32Array, b: number) => void;

/**
 * A StrategyRunner in-process around one strategy, as the strategy worker runs it: hand-built ring-A and
 * ring-C records go in one at a time, the intents it writes to ring B are read back. Shared by the strategy
 * tests so each writes only its scenario.
 */
export function strategyRig(strat: Strategy, instruments: Instrument[], risk = { maxOrderQty: 1, maxPosition: 1 }, intentCapacity = 64) {
  const intents = new ArraySlotWriter(INTENT_SLOT_BYTES, intentCapacity);
  let t = 1000;
  const runner = new StrategyRunner(strat, instruments, intents, new PreTradeLimits(risk), { now: () => ++t });
  const market = new ArraySlotWriter(MARKET_SLOT_BYTES, 1);
  const reports = new ArraySlotWriter(REPORT_SLOT_BYTES, 1);
  const feed = (fill: Fill): void => {
    market.reset();
    const b = market.claim();
    fill(market.f64, market.i32, b);
    market.f64[b + W.RECV_TS] = 500;
    market.commit();
    runner.beginBatch(900);
    runner.onMarketRecord(market.f64, market.i32, b);
  };
  /** `sold` = the aggressor sold (buyer is maker) */
  const trade = (price: number, eventTime: number, qty = 0.1, sym = 0, sold = false): void =>
    feed((f64, i32, b) => {
      i32[b * 2] = packHeader(RecordType.AggTrade, 0, 0);
      i32[b * 2 + 1] = sym;
      f64[b + AT.PRICE] = price;
      f64[b + AT.QTY] = qty;
      f64[b + AT.EVENT_TIME] = eventTime;
      f64[b + AT.BUYER_MAKER] = sold ? 1 : 0;
    });
  const ticker = (bid: number, ask: number, eventTime: number, sym = 0): void =>
    feed((f64, i32, b) => {
      i32[b * 2] = packHeader(RecordType.BookTicker, 0, 0);
      i32[b * 2 + 1] = sym;
      f64[b + BT.BID] = bid;
      f64[b + BT.ASK] = ask;
      f64[b + BT.BID_QTY] = 1;
      f64[b + BT.ASK_QTY] = 1;
      f64[b + BT.EVENT_TIME] = eventTime;
    });
  /** a whole book (Reset) of at most 4 levels */
  const depthReset = (levels: RigLevel[], eventTime: number, sym = 0): void =>
    feed((f64, i32, b) => {
      let mask = 0;
      levels.forEach(([px, q, ask], j) => {
        f64[b + DEPTH.LEVELS + 2 * j] = px;
        f64[b + DEPTH.LEVELS + 2 * j + 1] = q;
        if (ask) mask |= 1 << j;
      });
      i32[b * 2] = packHeader(RecordType.Depth, RecordFlag.First | RecordFlag.Last | RecordFlag.Reset, depthCount(levels.length, mask));
      i32[b * 2 + 1] = sym;
      f64[b + DEPTH.FINAL_UPDATE_ID] = 1;
      f64[b + DEPTH.EVENT_TIME] = eventTime;
    });
  const bookState = (st: BookState, sym = 0): void =>
    feed((f64, i32, b) => {
      i32[b * 2] = packHeader(RecordType.FeedStatus, 0, 0);
      i32[b * 2 + 1] = sym;
      f64[b + FS.BOOK_STATE] = st;
      f64[b + FS.CONNECTED] = 1;
    });
  const markPrice = (mark: number, nextFundingTime: number, eventTime: number): void =>
    feed((f64, i32, b) => {
      i32[b * 2] = packHeader(RecordType.MarkPrice, 0, 0);
      i32[b * 2 + 1] = 0;
      f64[b + MP.EVENT_TIME] = eventTime;
      f64[b + MP.MARK] = mark;
      f64[b + MP.NEXT_FUNDING_TIME] = nextFundingTime;
    });
  /** a forceOrder: `avgPrice`/`cumQty` 0 for a snapshot before any fill */
  const liquidation = (side: Side, price: number, qty: number, avgPrice: number, cumQty: number, eventTime: number): void =>
    feed((f64, i32, b) => {
      i32[b * 2] = packHeader(RecordType.ForceOrder, 0, 0);
      i32[b * 2 + 1] = 0;
      f64[b + FO.EVENT_TIME] = eventTime;
      f64[b + FO.TRADE_TIME] = eventTime;
      f64[b + FO.SIDE] = side;
      f64[b + FO.PRICE] = price;
      f64[b + FO.QTY] = qty;
      f64[b + FO.AVG_PRICE] = avgPrice;
      f64[b + FO.LAST_QTY] = cumQty;
      f64[b + FO.CUM_QTY] = cumQty;
    });
  /** a 1 m kline whose close time is `eventTime`, flat at `close` */
  const kline = (close: number, eventTime: number, closed: boolean): void =>
    feed((f64, i32, b) => {
      i32[b * 2] = packHeader(RecordType.Kline, closed ? RecordFlag.Closed : 0, 0);
      i32[b * 2 + 1] = 0;
      f64[b + KL.EVENT_TIME] = eventTime;
      f64[b + KL.OPEN_TIME] = eventTime - 59_999;
      f64[b + KL.CLOSE_TIME] = eventTime;
      f64[b + KL.OPEN] = close;
      f64[b + KL.HIGH] = close;
      f64[b + KL.LOW] = close;
      f64[b + KL.CLOSE] = close;
    });
  /** an execution report; `qty`/`price` are both the last and the cumulative fill */
  const report = (intentId: number, execType: ExecType, status: OrderStatus, side: Side, qty = 0, price = 0, reason = 0): void => {
    reports.reset();
    const b = reports.claim();
    reports.i32[b * 2] = packHeader(RecordType.ExecReport, 0, 0);
    reports.i32[b * 2 + 1] = 0;
    reports.f64[b + RP.INTENT_ID] = intentId;
    reports.f64[b + RP.EXEC_TYPE] = execType;
    reports.f64[b + RP.STATUS] = status;
    reports.f64[b + RP.SIDE] = side;
    reports.f64[b + RP.LAST_QTY] = qty;
    reports.f64[b + RP.LAST_PRICE] = price;
    reports.f64[b + RP.CUM_QTY] = qty;
    reports.f64[b + RP.AVG_PRICE] = price;
    reports.f64[b + RP.REASON] = reason;
    reports.commit();
    runner.onReportRecord(reports.f64, reports.i32, reports.u8, b);
  };
  /** intent i of ring B as plain fields */
  const intent = (i: number) => {
    const b = intents.base(i);
    const f = intents.f64;
    return {
      kind: intents.i32[b * 2]! & 0xff, sym: intents.i32[b * 2 + 1]!, id: f[b + IN.INTENT_ID]!, side: f[b + IN.SIDE]!, type: f[b + IN.ORDER_TYPE]!, tif: f[b + IN.TIF]!,
      priceTicks: f[b + IN.PRICE_TICKS]!, qtySteps: f[b + IN.QTY_STEPS]!, flags: f[b + IN.FLAGS]!, eventTime: f[b + IN.EVENT_TIME]!, target: f[b + IN.TARGET_ID]!,
      // conditional orders only, so the plain orders' expected objects stay as they were
      ...(f[b + IN.STOP_PRICE_TICKS]! !== 0 ? { stopTicks: f[b + IN.STOP_PRICE_TICKS]! } : {}),
    };
  };
  return { runner, intents, feed, trade, ticker, depthReset, bookState, markPrice, liquidation, kline, report, intent };
}
