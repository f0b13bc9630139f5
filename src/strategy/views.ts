import {
  AT,
  BT,
  DEPTH,
  FO,
  KL,
  MP,
  RP,
  RecordFlag,
  RecordType,
  W,
  headerCount,
  headerFlags,
  headerType,
  depthLevels,
  depthAskMask,
  type OrderStatus,
  type ExecType,
} from '../ring/layout.js';

/**
 * The word holding the venue event time, by record type (0: the type has none). Each record type keeps it in
 * its own word; a table lookup instead of a switch keeps readers small enough to inline, so the double is
 * never boxed on the way out.
 */
export const EVENT_TIME_WORD: Uint8Array = (() => {
  const t = new Uint8Array(256);
  t[RecordType.BookTicker] = BT.EVENT_TIME;
  t[RecordType.AggTrade] = AT.EVENT_TIME;
  t[RecordType.Trade] = AT.EVENT_TIME;
  t[RecordType.Depth] = DEPTH.EVENT_TIME;
  t[RecordType.MarkPrice] = MP.EVENT_TIME;
  t[RecordType.ForceOrder] = FO.EVENT_TIME;
  t[RecordType.Kline] = KL.EVENT_TIME;
  return t;
})();

/**
 * Flyweight views over ring slots: one object per consumer, re-pointed at each record with `wrap`, so a
 * strategy reads fields through getters without anything being allocated per event.
 */
export class MarketEvent {
  f64: Float64Array = new Float64Array(0);
  i32: Int32Array = new Int32Array(0);
  base = 0;

  wrap(f64: Float64Array, i32: Int32Array, base: number): this {
    this.f64 = f64;
    this.i32 = i32;
    this.base = base;
    return this;
  }

  get type(): RecordType {
    return headerType(this.i32[this.base * 2]!) as RecordType;
  }
  get flags(): number {
    return headerFlags(this.i32[this.base * 2]!);
  }
  get symbolId(): number {
    return this.i32[this.base * 2 + 1]!;
  }
  get recvTs(): number {
    return this.f64[this.base + W.RECV_TS]!;
  }
  get pubTs(): number {
    return this.f64[this.base + W.PUB_TS]!;
  }
  /** venue event time (ms); NaN if the event carried none, 0 for a record type without one (FeedStatus) */
  get eventTime(): number {
    const w = EVENT_TIME_WORD[headerType(this.i32[this.base * 2]!)]!;
    return w === 0 ? 0 : this.f64[this.base + w]!;
  }
  // bookTicker
  get bid(): number {
    return this.f64[this.base + BT.BID]!;
  }
  get bidQty(): number {
    return this.f64[this.base + BT.BID_QTY]!;
  }
  get ask(): number {
    return this.f64[this.base + BT.ASK]!;
  }
  get askQty(): number {
    return this.f64[this.base + BT.ASK_QTY]!;
  }
  get bookUpdateId(): number {
    return this.f64[this.base + BT.UPDATE_ID]!;
  }
  // aggTrade / trade
  get price(): number {
    return this.f64[this.base + AT.PRICE]!;
  }
  get qty(): number {
    return this.f64[this.base + AT.QTY]!;
  }
  /** true when the buyer was the maker, i.e. the aggressor sold */
  get buyerMaker(): boolean {
    return this.f64[this.base + AT.BUYER_MAKER] === 1;
  }
  // depth
  get depthLevelCount(): number {
    return depthLevels(headerCount(this.i32[this.base * 2]!));
  }
  depthIsAsk(i: number): boolean {
    return ((depthAskMask(headerCount(this.i32[this.base * 2]!)) >>> i) & 1) === 1;
  }
  depthPrice(i: number): number {
    return this.f64[this.base + DEPTH.LEVELS + 2 * i]!;
  }
  depthQty(i: number): number {
    return this.f64[this.base + DEPTH.LEVELS + 2 * i + 1]!;
  }
  get finalUpdateId(): number {
    return this.f64[this.base + DEPTH.FINAL_UPDATE_ID]!;
  }
  // markPriceUpdate (missing fields read NaN: 2019 events carry no index / settle price)
  get mark(): number {
    return this.f64[this.base + MP.MARK]!;
  }
  get index(): number {
    return this.f64[this.base + MP.INDEX]!;
  }
  /** estimated settle price (meaningful in the last hour before a delivery) */
  get settlePrice(): number {
    return this.f64[this.base + MP.SETTLE]!;
  }
  get fundingRate(): number {
    return this.f64[this.base + MP.FUNDING_RATE]!;
  }
  /** ms; 0 for delivery contracts */
  get nextFundingTime(): number {
    return this.f64[this.base + MP.NEXT_FUNDING_TIME]!;
  }
  // forceOrder: the liquidation order (Side.Sell = a long was liquidated)
  get liquidationSide(): number {
    return this.f64[this.base + FO.SIDE]!;
  }
  get liquidationPrice(): number {
    return this.f64[this.base + FO.PRICE]!;
  }
  /** original quantity of the liquidation order */
  get liquidationQty(): number {
    return this.f64[this.base + FO.QTY]!;
  }
  get liquidationAvgPrice(): number {
    return this.f64[this.base + FO.AVG_PRICE]!;
  }
  get liquidationLastQty(): number {
    return this.f64[this.base + FO.LAST_QTY]!;
  }
  get liquidationCumQty(): number {
    return this.f64[this.base + FO.CUM_QTY]!;
  }
  get liquidationTime(): number {
    return this.f64[this.base + FO.TRADE_TIME]!;
  }
  // kline
  get openTime(): number {
    return this.f64[this.base + KL.OPEN_TIME]!;
  }
  get closeTime(): number {
    return this.f64[this.base + KL.CLOSE_TIME]!;
  }
  /** candle length in ms (close time is the last ms of the candle) */
  get intervalMs(): number {
    return this.f64[this.base + KL.CLOSE_TIME]! + 1 - this.f64[this.base + KL.OPEN_TIME]!;
  }
  get open(): number {
    return this.f64[this.base + KL.OPEN]!;
  }
  get high(): number {
    return this.f64[this.base + KL.HIGH]!;
  }
  get low(): number {
    return this.f64[this.base + KL.LOW]!;
  }
  get close(): number {
    return this.f64[this.base + KL.CLOSE]!;
  }
  /** base-asset volume */
  get volume(): number {
    return this.f64[this.base + KL.VOLUME]!;
  }
  get quoteVolume(): number {
    return this.f64[this.base + KL.QUOTE_VOLUME]!;
  }
  get trades(): number {
    return this.f64[this.base + KL.TRADES]!;
  }
  get takerBuyVolume(): number {
    return this.f64[this.base + KL.TAKER_BUY_VOLUME]!;
  }
  get takerBuyQuoteVolume(): number {
    return this.f64[this.base + KL.TAKER_BUY_QUOTE_VOLUME]!;
  }
  /** the candle is final (`x: true`) */
  get closed(): boolean {
    return (headerFlags(this.i32[this.base * 2]!) & RecordFlag.Closed) !== 0;
  }
}

/** View over a ring-C execution report. */
export class ExecReportView {
  f64: Float64Array = new Float64Array(0);
  i32: Int32Array = new Int32Array(0);
  u8: Uint8Array = new Uint8Array(0);
  base = 0;

  wrap(f64: Float64Array, i32: Int32Array, u8: Uint8Array, base: number): this {
    this.f64 = f64;
    this.i32 = i32;
    this.u8 = u8;
    this.base = base;
    return this;
  }
  get symbolId(): number {
    return this.i32[this.base * 2 + 1]!;
  }
  get intentId(): number {
    return this.f64[this.base + RP.INTENT_ID]!;
  }
  get status(): OrderStatus {
    return this.f64[this.base + RP.STATUS]! as OrderStatus;
  }
  get execType(): ExecType {
    return this.f64[this.base + RP.EXEC_TYPE]! as ExecType;
  }
  get side(): number {
    return this.f64[this.base + RP.SIDE]!;
  }
  get lastQty(): number {
    return this.f64[this.base + RP.LAST_QTY]!;
  }
  get lastPrice(): number {
    return this.f64[this.base + RP.LAST_PRICE]!;
  }
  get cumQty(): number {
    return this.f64[this.base + RP.CUM_QTY]!;
  }
  get avgPrice(): number {
    return this.f64[this.base + RP.AVG_PRICE]!;
  }
  get errorCode(): number {
    return this.f64[this.base + RP.ERROR_CODE]!;
  }
  get reason(): number {
    return this.f64[this.base + RP.REASON]!;
  }
  get recvTs(): number {
    return this.f64[this.base + W.RECV_TS]!;
  }
  get sentTs(): number {
    return this.f64[this.base + RP.SENT_TS]!;
  }
  get ackTs(): number {
    return this.f64[this.base + RP.ACK_TS]!;
  }
  /** The venue's message (allocates a string: for rejects and logs, not the fill path). */
  message(): string {
    const len = this.f64[this.base + RP.MSG_LEN]!;
    const start = (this.base + RP.MSG) * 8;
    return Buffer.from(this.u8.buffer, this.u8.byteOffset + start, len).toString('utf8');
  }
}
