import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { signHex, wsApiPayload } from '../src/venues/binance/sign.js';
import { BinanceOrderEncoder } from '../src/venues/binance/OrderEncoder.js';
import { classifyAlgoResponse, classifyOrderResponse } from '../src/venues/binance/orderResponse.js';
import { makeInstrument, formatSteps, parseStep, qtyToSteps } from '../src/core/Instrument.js';
import { writeScaled } from '../src/core/Instrument.js';
import { ExecType, IN, IntentFlag, OrderStatus, OrderType, Side, TimeInForce } from '../src/ring/layout.js';

// protocols.md §1.5: the official USDT-M signature vectors.
const KEY = 'dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83';
const SECRET = '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9';

describe('Binance signing', () => {
  it('reproduces the official HMAC-SHA256 vector (query string or body)', () => {
    expect(signHex(SECRET, 'symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943')).toBe(
      '3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9',
    );
  });
  it('mixed query + body: concatenated without "&" (the doc example reproduces only with its stray space)', () => {
    const q = 'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC';
    expect(signHex(SECRET, q + 'quantity=1&price=9000&recvWindow=5000&timestamp= 1591702613943')).toBe('f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2');
    expect(signHex(SECRET, q + 'quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943')).toBe('30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4');
  });
  it('WS API payload: params sorted by key, signature excluded (derived vector)', () => {
    const p = wsApiPayload({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '1', price: '9000', recvWindow: 5000, timestamp: 1591702613943, apiKey: KEY, signature: 'x' });
    expect(p).toBe(`apiKey=${KEY}&price=9000&quantity=1&recvWindow=5000&side=BUY&symbol=BTCUSDT&timeInForce=GTC&timestamp=1591702613943&type=LIMIT`);
    expect(signHex(SECRET, p)).toBe('5b8fe2b962b8e1b2b82fb40e548d56147c2a8f835b5f1393ae4b4b90c38b527f');
  });
});

describe('exact decimals', () => {
  it('parses steps and formats integer ticks/steps without float artefacts', () => {
    expect(parseStep('0.0010')).toEqual({ units: 1, scale: 3 });
    expect(parseStep('0.005')).toEqual({ units: 5, scale: 3 });
    expect(parseStep('1')).toEqual({ units: 1, scale: 0 });
    expect(() => parseStep('1e-3')).toThrow(/plain decimal/);
    expect(formatSteps(15, 1, 3)).toBe('0.015');
    expect(formatSteps(3, 1, 1)).toBe('0.3');
    expect(formatSteps(7, 5, 1)).toBe('3.5');
    expect(formatSteps(1042357, 1, 1)).toBe('104235.7');
    expect(formatSteps(0, 1, 2)).toBe('0.00');
    expect(formatSteps(12, 1, 0)).toBe('12');
    const inst = makeInstrument('BTCUSDT', '0.10', '0.001', '0.001', '100');
    // 0.1 + 0.2 in floats is 0.30000000000000004; as steps it is exactly 300 of 0.001
    expect(formatSteps(qtyToSteps(inst, 0.1 + 0.2), inst.stepUnits, inst.qtyScale)).toBe('0.300');
    // the allocation-free writer used by the order encoder agrees with the string formatter
    const buf = new Uint8Array(32);
    for (const [c, u, sc] of [[15, 1, 3], [7, 5, 1], [1042357, 1, 1], [0, 1, 2], [12, 1, 0], [-25, 1, 2]] as const) {
      expect(Buffer.from(buf.subarray(0, writeScaled(buf, 0, c, u, sc))).toString('latin1')).toBe(formatSteps(c, u, sc));
    }
  });
});

describe('BinanceOrderEncoder', () => {
  const inst = makeInstrument('BTCUSDT', '0.10', '0.001', '0.001', '100');
  const enc = new BinanceOrderEncoder([inst], SECRET, 'htest-', 5000);
  const intent = (over: Partial<Record<number, number>>): Float64Array => {
    const f = new Float64Array(16);
    f[IN.INTENT_ID] = 42;
    f[IN.SIDE] = Side.Buy;
    f[IN.ORDER_TYPE] = OrderType.Market;
    f[IN.QTY_STEPS] = 15;
    for (const [k, v] of Object.entries(over)) f[Number(k)] = v!;
    return f;
  };
  const encode = (f: Float64Array): string => {
    const out = Buffer.alloc(1024);
    const n = enc.encode(f, 0, 0, 1591702613943, out);
    return out.toString('latin1', 0, n);
  };

  it('writes a market order body and a signature over exactly the bytes before it', () => {
    const body = encode(intent({}));
    const [payload, sig] = body.split('&signature=') as [string, string];
    expect(payload).toBe('symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.015&newClientOrderId=htest-42&newOrderRespType=RESULT&recvWindow=5000&timestamp=1591702613943');
    expect(sig).toBe(createHmac('sha256', SECRET).update(payload).digest('hex'));
  });

  it('writes limit IOC sell with exact price and reduce-only', () => {
    const body = encode(intent({ [IN.SIDE]: Side.Sell, [IN.ORDER_TYPE]: OrderType.Limit, [IN.TIF]: TimeInForce.Ioc, [IN.PRICE_TICKS]: 1042357, [IN.FLAGS]: IntentFlag.ReduceOnly }));
    expect(body).toMatch(/^symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=IOC&quantity=0\.015&price=104235\.7&reduceOnly=true&newClientOrderId=htest-42&/);
    expect(enc.clientOrderId(42)).toBe('htest-42');
    expect(enc.clientOrderId(42)).toMatch(/^[.A-Z:/a-z0-9_-]{1,36}$/);
  });

  const encodeWith = (fn: 'encodeAlgo' | 'encodeAmend', f: Float64Array): string => {
    const out = Buffer.alloc(1024);
    const n = enc[fn](f, 0, 0, 1591702613943, out);
    const body = out.toString('latin1', 0, n);
    const [payload, sig] = body.split('&signature=') as [string, string];
    expect(sig).toBe(createHmac('sha256', SECRET).update(payload).digest('hex'));
    return payload;
  };

  it('conditional orders: POST /fapi/v1/algoOrder bodies (close-position stop on the mark price, reduce-only take-profit, trailing stop)', () => {
    expect(encodeWith('encodeAlgo', intent({ [IN.SIDE]: Side.Sell, [IN.ORDER_TYPE]: OrderType.StopMarket, [IN.STOP_PRICE_TICKS]: 1000005, [IN.FLAGS]: IntentFlag.ClosePosition | IntentFlag.TriggerOnMark }))).toBe(
      'symbol=BTCUSDT&side=SELL&algoType=CONDITIONAL&type=STOP_MARKET&closePosition=true&triggerPrice=100000.5&workingType=MARK_PRICE&clientAlgoId=htest-42&recvWindow=5000&timestamp=1591702613943',
    );
    expect(encodeWith('encodeAlgo', intent({ [IN.ORDER_TYPE]: OrderType.TakeProfitMarket, [IN.STOP_PRICE_TICKS]: 990000, [IN.FLAGS]: IntentFlag.ReduceOnly }))).toBe(
      'symbol=BTCUSDT&side=BUY&algoType=CONDITIONAL&type=TAKE_PROFIT_MARKET&quantity=0.015&reduceOnly=true&triggerPrice=99000.0&clientAlgoId=htest-42&recvWindow=5000&timestamp=1591702613943',
    );
    expect(encodeWith('encodeAlgo', intent({ [IN.SIDE]: Side.Sell, [IN.ORDER_TYPE]: OrderType.TrailingStopMarket, [IN.CALLBACK_RATE]: 0.8, [IN.STOP_PRICE_TICKS]: 1010000, [IN.FLAGS]: IntentFlag.ReduceOnly }))).toBe(
      'symbol=BTCUSDT&side=SELL&algoType=CONDITIONAL&type=TRAILING_STOP_MARKET&quantity=0.015&reduceOnly=true&callbackRate=0.8&activatePrice=101000.0&clientAlgoId=htest-42&recvWindow=5000&timestamp=1591702613943',
    );
    expect(() => encodeWith('encodeAlgo', intent({ [IN.ORDER_TYPE]: OrderType.StopMarket }))).toThrow(/trigger price/);
    expect(() => encodeWith('encodeAlgo', intent({ [IN.ORDER_TYPE]: OrderType.TrailingStopMarket, [IN.CALLBACK_RATE]: 11 }))).toThrow(/callback rate/);
    expect(() => encodeWith('encodeAlgo', intent({}))).toThrow(/not a conditional/);
  });

  it('amend: PUT /fapi/v1/order by the target\'s client order id with side, new quantity and price', () => {
    expect(encodeWith('encodeAmend', intent({ [IN.SIDE]: Side.Sell, [IN.ORDER_TYPE]: OrderType.Limit, [IN.TARGET_ID]: 17, [IN.PRICE_TICKS]: 1042357, [IN.QTY_STEPS]: 20 }))).toBe(
      'symbol=BTCUSDT&origClientOrderId=htest-17&side=SELL&quantity=0.020&price=104235.7&recvWindow=5000&timestamp=1591702613943',
    );
  });
});

describe('order response classification', () => {
  const b = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
  it('FILLED market order with RESULT -> fill', () => {
    const r = classifyOrderResponse(200, b({ orderId: 7, status: 'FILLED', executedQty: '0.015', avgPrice: '104235.70', updateTime: 5 }));
    expect(r).toMatchObject({ status: OrderStatus.Filled, execType: ExecType.Fill, lastQty: 0.015, avgPrice: 104235.7, orderId: 7, venueTime: 5 });
  });
  it('NEW -> ack, EXPIRED with nothing filled -> expired', () => {
    expect(classifyOrderResponse(200, b({ status: 'NEW', executedQty: '0' })).execType).toBe(ExecType.Ack);
    expect(classifyOrderResponse(200, b({ status: 'EXPIRED', executedQty: '0.000' }))).toMatchObject({ execType: ExecType.Expired, status: OrderStatus.Expired });
  });
  it('venue error -> reject with its code and message', () => {
    const r = classifyOrderResponse(400, b({ code: -2019, msg: 'Margin is insufficient.' }));
    expect(r).toMatchObject({ status: OrderStatus.Rejected, execType: ExecType.Reject, code: -2019, message: 'Margin is insufficient.' });
  });
  it('unknown-execution outcomes are Unknown, never a definite reject', () => {
    expect(classifyOrderResponse(503, b({ code: -1007, msg: 'Timeout waiting for response from backend server.' })).status).toBe(OrderStatus.Unknown);
    expect(classifyOrderResponse(503, b({ msg: 'Unknown error, please check your request or try again later.' })).status).toBe(OrderStatus.Unknown);
    expect(classifyOrderResponse(502, Buffer.from('<html>bad gateway</html>')).status).toBe(OrderStatus.Unknown);
    expect(classifyOrderResponse(400, Buffer.from('garbage')).status).toBe(OrderStatus.Rejected);
  });
});

describe('algo-order response classification', () => {
  const b = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
  it('NEW algo object -> ack with the algo id; cancel answer (string code "200") -> canceled; errors as for orders', () => {
    expect(classifyAlgoResponse(200, b({ algoId: 123456789, clientAlgoId: 'x-1', algoType: 'CONDITIONAL', orderType: 'STOP_MARKET', algoStatus: 'NEW', updateTime: 9 }))).toMatchObject({
      status: OrderStatus.New, execType: ExecType.Ack, orderId: 123456789, venueTime: 9,
    });
    expect(classifyAlgoResponse(200, b({ algoId: 5, clientAlgoId: 'x-1', code: '200', msg: 'success' }))).toMatchObject({ status: OrderStatus.Canceled, execType: ExecType.Canceled, orderId: 5 });
    expect(classifyAlgoResponse(400, b({ code: -4045, msg: 'Reach max stop order limit.' }))).toMatchObject({ status: OrderStatus.Rejected, code: -4045 });
    expect(classifyAlgoResponse(200, b({ algoId: 5, algoStatus: 'WHATEVER' })).status).toBe(OrderStatus.Unknown);
  });
});

describe('REST cancel body', () => {
  it('DELETE /fapi/v1/order by origClientOrderId: every parameter in the body, signed over exactly those bytes', () => {
    const enc = new BinanceOrderEncoder([makeInstrument('BTCUSDT', '0.10', '0.001', '0.001', '100')], SECRET, 'hq1-', 5000);
    const out = Buffer.alloc(512);
    const n = enc.encodeCancel(0, 42, 1591702613943.7, out);
    const body = out.toString('latin1', 0, n);
    const payload = 'symbol=BTCUSDT&origClientOrderId=hq1-42&recvWindow=5000&timestamp=1591702613943';
    expect(body).toBe(`${payload}&signature=${signHex(SECRET, payload)}`);
    expect(() => enc.encodeCancel(3, 42, 1, out)).toThrow(/unknown symbol/);
  });
});
