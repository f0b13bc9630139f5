import { IN, IntentFlag, OrderType, Side, TimeInForce } from '../../ring/layout.js';
import { writeScaled, type Instrument } from '../../core/Instrument.js';
import { signInto } from './sign.js';

/**
 * Encodes a ring-B order intent as the x-www-form-urlencoded body of `POST /fapi/v1/order`, signed, into
 * a caller-supplied buffer, without building strings: constant fragments are pre-encoded bytes and numbers
 * are written digit by digit. Prices and quantities come from integer ticks/steps (exact decimals).
 */
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const K_SYMBOL = enc('symbol=');
const K_SIDE_BUY = enc('&side=BUY');
const K_SIDE_SELL = enc('&side=SELL');
const K_TYPE: Record<number, Uint8Array> = {
  [OrderType.Market]: enc('&type=MARKET'),
  [OrderType.Limit]: enc('&type=LIMIT'),
  [OrderType.StopMarket]: enc('&type=STOP_MARKET'),
  [OrderType.TakeProfitMarket]: enc('&type=TAKE_PROFIT_MARKET'),
  [OrderType.TrailingStopMarket]: enc('&type=TRAILING_STOP_MARKET'),
};
const K_TIF: Record<number, Uint8Array> = {
  [TimeInForce.Gtc]: enc('&timeInForce=GTC'),
  [TimeInForce.Ioc]: enc('&timeInForce=IOC'),
  [TimeInForce.Fok]: enc('&timeInForce=FOK'),
  [TimeInForce.Gtx]: enc('&timeInForce=GTX'),
};
const K_QTY = enc('&quantity=');
const K_PRICE = enc('&price=');
const K_REDUCE = enc('&reduceOnly=true');
const K_CLID = enc('&newClientOrderId=');
const K_RESP = enc('&newOrderRespType=RESULT');
const K_RECV = enc('&recvWindow=');
const K_TS = enc('&timestamp=');
const K_SIG = enc('&signature=');
const K_ORIG_CLID = enc('&origClientOrderId=');
const K_ALGO_TYPE = enc('&algoType=CONDITIONAL');
const K_TRIGGER = enc('&triggerPrice=');
const K_CALLBACK = enc('&callbackRate=');
const K_ACTIVATE = enc('&activatePrice=');
const K_CLOSE = enc('&closePosition=true');
const K_MARK = enc('&workingType=MARK_PRICE');
const K_CLIENT_ALGO = enc('&clientAlgoId=');

export class BinanceOrderEncoder {
  private readonly symbolBytes: Uint8Array[];
  private readonly secret: Buffer;
  private readonly clidPrefix: Uint8Array;

  /**
   * @param clientIdPrefix session tag; client order ids are `<prefix><intentId>` (unique, traceable to the
   *   intent, within Binance's `^[.A-Z:/a-z0-9_-]{1,36}$`)
   */
  constructor(
    private readonly instruments: readonly Instrument[],
    apiSecret: string,
    clientIdPrefix: string,
    private readonly recvWindow: number,
  ) {
    if (!/^[.A-Z:/a-z0-9_-]{1,20}$/.test(clientIdPrefix)) throw new Error(`client id prefix must match [.A-Z:/a-z0-9_-]{1,20}: ${clientIdPrefix}`);
    this.symbolBytes = instruments.map((i) => enc(i.symbol));
    this.secret = Buffer.from(apiSecret, 'utf8');
    this.clidPrefix = enc(clientIdPrefix);
  }

  clientOrderId(intentId: number): string {
    return new TextDecoder().decode(this.clidPrefix) + String(intentId);
  }

  /**
   * Writes the signed body of the intent at ring words f64[base..] into out; returns its length.
   * `timestampMs` is the venue-time-adjusted wall clock.
   */
  encode(f64: Float64Array, symbolId: number, base: number, timestampMs: number, out: Uint8Array): number {
    const inst = this.instruments[symbolId]!;
    let p = put(out, 0, K_SYMBOL);
    p = put(out, p, this.symbolBytes[symbolId]!);
    p = put(out, p, f64[base + IN.SIDE] === Side.Buy ? K_SIDE_BUY : K_SIDE_SELL);
    const type = f64[base + IN.ORDER_TYPE]!;
    const t = K_TYPE[type];
    if (!t) throw new Error(`unsupported order type ${type}`);
    p = put(out, p, t);
    const tif = K_TIF[f64[base + IN.TIF]!];
    if (tif && type === OrderType.Limit) p = put(out, p, tif);
    p = put(out, p, K_QTY);
    p = writeScaled(out, p, f64[base + IN.QTY_STEPS]!, inst.stepUnits, inst.qtyScale);
    if (type === OrderType.Limit) {
      p = put(out, p, K_PRICE);
      p = writeScaled(out, p, f64[base + IN.PRICE_TICKS]!, inst.tickUnits, inst.priceScale);
    }
    if ((f64[base + IN.FLAGS]! & IntentFlag.ReduceOnly) !== 0) p = put(out, p, K_REDUCE);
    p = put(out, p, K_CLID);
    p = put(out, p, this.clidPrefix);
    p = writeScaled(out, p, f64[base + IN.INTENT_ID]!, 1, 0);
    p = put(out, p, K_RESP);
    return this.finish(out, p, timestampMs);
  }

  /**
   * Writes the signed body of `POST /fapi/v1/algoOrder` (algoType CONDITIONAL) for a ring-B OrderNew of a
   * conditional type: STOP_MARKET / TAKE_PROFIT_MARKET with `triggerPrice` (IN.STOP_PRICE_TICKS), or
   * TRAILING_STOP_MARKET with `callbackRate` (IN.CALLBACK_RATE, one decimal) and `activatePrice` when set.
   * `clientAlgoId` is the intent's client order id: the venue gives the order it places on trigger that id,
   * so its fills come back on the user stream under our intent.
   */
  encodeAlgo(f64: Float64Array, symbolId: number, base: number, timestampMs: number, out: Uint8Array): number {
    const inst = this.instruments[symbolId]!;
    const type = f64[base + IN.ORDER_TYPE]!;
    if (type !== OrderType.StopMarket && type !== OrderType.TakeProfitMarket && type !== OrderType.TrailingStopMarket) throw new Error(`not a conditional order type: ${type}`);
    const flags = f64[base + IN.FLAGS]!;
    let p = put(out, 0, K_SYMBOL);
    p = put(out, p, this.symbolBytes[symbolId]!);
    p = put(out, p, f64[base + IN.SIDE] === Side.Buy ? K_SIDE_BUY : K_SIDE_SELL);
    p = put(out, p, K_ALGO_TYPE);
    p = put(out, p, K_TYPE[type]!);
    if ((flags & IntentFlag.ClosePosition) !== 0) p = put(out, p, K_CLOSE);
    else {
      p = put(out, p, K_QTY);
      p = writeScaled(out, p, f64[base + IN.QTY_STEPS]!, inst.stepUnits, inst.qtyScale);
      if ((flags & IntentFlag.ReduceOnly) !== 0) p = put(out, p, K_REDUCE);
    }
    const stopTicks = f64[base + IN.STOP_PRICE_TICKS]!;
    if (type === OrderType.TrailingStopMarket) {
      const tenths = Math.round(f64[base + IN.CALLBACK_RATE]! * 10);
      if (!(tenths >= 1 && tenths <= 100)) throw new Error(`callback rate must be 0.1..10 percent; got ${f64[base + IN.CALLBACK_RATE]}`);
      p = put(out, p, K_CALLBACK);
      p = writeScaled(out, p, tenths, 1, 1);
      if (stopTicks > 0) {
        p = put(out, p, K_ACTIVATE);
        p = writeScaled(out, p, stopTicks, inst.tickUnits, inst.priceScale);
      }
    } else {
      if (!(stopTicks > 0)) throw new Error('a stop or take-profit order needs a trigger price');
      p = put(out, p, K_TRIGGER);
      p = writeScaled(out, p, stopTicks, inst.tickUnits, inst.priceScale);
    }
    if ((flags & IntentFlag.TriggerOnMark) !== 0) p = put(out, p, K_MARK);
    p = put(out, p, K_CLIENT_ALGO);
    p = put(out, p, this.clidPrefix);
    p = writeScaled(out, p, f64[base + IN.INTENT_ID]!, 1, 0);
    return this.finish(out, p, timestampMs);
  }

  /** Writes the signed body of `DELETE /fapi/v1/algoOrder` for the conditional order of intent `targetIntentId`. */
  encodeAlgoCancel(symbolId: number, targetIntentId: number, timestampMs: number, out: Uint8Array): number {
    const sym = this.symbolBytes[symbolId];
    if (sym === undefined) throw new Error(`unknown symbol id ${symbolId}`);
    let p = put(out, 0, K_SYMBOL);
    p = put(out, p, sym);
    p = put(out, p, K_CLIENT_ALGO);
    p = put(out, p, this.clidPrefix);
    p = writeScaled(out, p, targetIntentId, 1, 0);
    return this.finish(out, p, timestampMs);
  }

  /**
   * Writes the signed body of `PUT /fapi/v1/order` for a ring-B OrderAmend: the order of intent IN.TARGET_ID
   * (by client order id) gets the new price and total quantity; the venue wants both, and the side.
   */
  encodeAmend(f64: Float64Array, symbolId: number, base: number, timestampMs: number, out: Uint8Array): number {
    const inst = this.instruments[symbolId];
    if (inst === undefined) throw new Error(`unknown symbol id ${symbolId}`);
    let p = put(out, 0, K_SYMBOL);
    p = put(out, p, this.symbolBytes[symbolId]!);
    p = put(out, p, K_ORIG_CLID);
    p = put(out, p, this.clidPrefix);
    p = writeScaled(out, p, f64[base + IN.TARGET_ID]!, 1, 0);
    p = put(out, p, f64[base + IN.SIDE] === Side.Buy ? K_SIDE_BUY : K_SIDE_SELL);
    p = put(out, p, K_QTY);
    p = writeScaled(out, p, f64[base + IN.QTY_STEPS]!, inst.stepUnits, inst.qtyScale);
    p = put(out, p, K_PRICE);
    p = writeScaled(out, p, f64[base + IN.PRICE_TICKS]!, inst.tickUnits, inst.priceScale);
    return this.finish(out, p, timestampMs);
  }

  /**
   * Writes the signed body of `DELETE /fapi/v1/order` for the order of intent `targetIntentId`, by its
   * client order id (the venue takes DELETE parameters in the body as well, §1.5; one place for all of
   * them keeps the signature simple).
   */
  encodeCancel(symbolId: number, targetIntentId: number, timestampMs: number, out: Uint8Array): number {
    const sym = this.symbolBytes[symbolId];
    if (sym === undefined) throw new Error(`unknown symbol id ${symbolId}`);
    let p = put(out, 0, K_SYMBOL);
    p = put(out, p, sym);
    p = put(out, p, K_ORIG_CLID);
    p = put(out, p, this.clidPrefix);
    p = writeScaled(out, p, targetIntentId, 1, 0);
    return this.finish(out, p, timestampMs);
  }

  /** Every body ends alike: recvWindow, timestamp, then the signature over all bytes before it. */
  private finish(out: Uint8Array, pos: number, timestampMs: number): number {
    let p = put(out, pos, K_RECV);
    p = writeScaled(out, p, this.recvWindow, 1, 0);
    p = put(out, p, K_TS);
    p = writeScaled(out, p, Math.floor(timestampMs), 1, 0);
    return this.sign(out, p);
  }

  private sign(out: Uint8Array, payloadEnd: number): number {
    const p = put(out, payloadEnd, K_SIG);
    return signInto(this.secret, out.subarray(0, payloadEnd), out, p);
  }
}

function put(out: Uint8Array, pos: number, bytes: Uint8Array): number {
  out.set(bytes, pos);
  return pos + bytes.length;
}
