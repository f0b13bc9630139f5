import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { request, WebSocket } from 'undici';
import { startBinanceVenue, type BinanceVenueHandle } from '../src/sim/binance/BinanceVenue.js';
import { resolveInstruments } from '../src/sim/instruments.js';
import { SyntheticMarket } from '../src/sim/market/SyntheticMarket.js';
import type { BookTickerEvent, DepthEvent, TradeEvent } from '../src/sim/market/types.js';
import { PassiveBook, type RestingEntry } from '../src/sim/matching/PassiveBook.js';
import { createQueueModel, type QueueModelSpec } from '../src/sim/matching/QueueModel.js';
import { Rng } from '../src/sim/rng.js';
import { VenueCore, type NewOrder, type SimAccount } from '../src/sim/Venue.js';

// ---- hand-built events (symbol 0, prices in ticks, quantities in steps) --------------------------------

/** A trade at `price`; `seller` = the taker sold (hits resting buys). */
function trade(price: number, qty: number, seller: boolean): TradeEvent {
  return { kind: 'trade', sym: 0, id: 1, firstTradeId: 1, lastTradeId: 1, price, qty, buyerMaker: seller, time: 1 };
}
function depth(bids: number[], asks: number[] = []): DepthEvent {
  return { kind: 'depth', sym: 0, U: 1, u: 1, pu: 0, bids, asks, time: 1 };
}
function ticker(bid: number, bidQty: number, ask: number, askQty: number): BookTickerEvent {
  return { kind: 'bookTicker', sym: 0, u: 1, bid, bidQty, ask, askQty, time: 1 };
}

/** A passive book with the market at 100 / 101 (applies events with that top unless told otherwise). */
class Harness {
  readonly book: PassiveBook<string>;
  bid = 100;
  ask = 101;
  constructor(spec: QueueModelSpec, rng: Rng | null = null) {
    this.book = new PassiveBook<string>(createQueueModel(spec), rng);
  }
  buy(id: string, price: number, qty: number, levelQty: number): RestingEntry<string> {
    return this.book.add(0, 'BUY', price, qty, levelQty, id);
  }
  sell(id: string, price: number, qty: number, levelQty: number): RestingEntry<string> {
    return this.book.add(0, 'SELL', price, qty, levelQty, id);
  }
  /** Applies the event; the fills as "id:qty". */
  on(ev: TradeEvent | DepthEvent | BookTickerEvent): string[] {
    const n = this.book.apply(ev, this.bid, this.ask);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(`${this.book.fill(i).entry.ref}:${this.book.fill(i).qty}`);
    return out;
  }
}

describe('sim matching: queue models on hand-built events', () => {
  it('risk-averse: trades at the price use up the queue ahead, the overshoot fills (partially), a trade through fills the rest', () => {
    const h = new Harness('risk-averse');
    const a = h.buy('a', 100, 3, 5);
    expect(a.ahead).toBe(5);
    expect(h.on(trade(100, 2, true))).toEqual([]);
    expect(h.on(trade(100, 2, true))).toEqual([]);
    expect(a.ahead).toBe(1);
    // A buyer's trade (against the asks) changes nothing for a buy.
    expect(h.on(trade(101, 5, false))).toEqual([]);
    expect(a.ahead).toBe(1);
    expect(h.on(trade(100, 2, true))).toEqual(['a:1']);
    expect([a.rem, a.ahead]).toEqual([2, 0]);
    expect(h.on(trade(100, 1, true))).toEqual(['a:1']);
    expect(h.on(trade(99, 1, true))).toEqual(['a:1']);
    expect([a.rem, a.level, h.book.count(0)]).toEqual([0, null, 0]);
  });

  it('a trade through the price fills completely whatever the queue (both sides)', () => {
    const h = new Harness('risk-averse');
    h.buy('b', 100, 10, 50);
    h.sell('s', 101, 7, 40);
    expect(h.on(trade(99, 1, true))).toEqual(['b:10']);
    expect(h.on(trade(101, 3, false))).toEqual([]);
    expect(h.on(trade(102, 1, false))).toEqual(['s:7']);
    expect(h.book.size).toBe(0);
  });

  it('the opposite best reaching the price fills completely (book ticker or the top after a depth diff)', () => {
    const h = new Harness('risk-averse');
    h.buy('b', 100, 4, 9);
    h.sell('s', 103, 2, 9);
    expect(h.on(ticker(99, 5, 100, 3))).toEqual(['b:4']);
    h.bid = 103;
    h.ask = 104;
    expect(h.on(depth([103, 6]))).toEqual(['s:2']);
  });

  it('a level decrease does not move a risk-averse order, only caps it; probabilistic moves by the expected share', () => {
    const ra = new Harness('risk-averse');
    const pr = new Harness('probabilistic'); // power, n = 2, expected share
    const x = ra.buy('x', 100, 2, 10);
    const y = pr.buy('y', 100, 2, 10);
    // 5 join behind, then 3 leave: ahead 10, behind 5 -> front share p = 10^2 / (10^2 + 5^2) = 0.8.
    for (const h of [ra, pr]) {
      expect(h.on(depth([100, 15]))).toEqual([]);
      expect(h.on(depth([100, 12]))).toEqual([]);
    }
    expect(x.ahead).toBe(10);
    expect(y.ahead).toBeCloseTo(10 - 3 * 0.8, 12);
    expect(pr.book.model.frontShare(10, 5)).toBeCloseTo(0.8, 12);
    // A trade of 9: 1.4 past the probabilistic estimate (fills 1 whole step), short of the risk-averse one.
    expect(ra.on(trade(100, 9, true))).toEqual([]);
    expect(pr.on(trade(100, 9, true))).toEqual(['y:1']);
    expect(x.ahead).toBe(1);
    // The level falling below the estimate caps it, in every model.
    expect(ra.on(depth([100, 0]))).toEqual([]);
    expect(x.ahead).toBe(0);
  });

  it('probabilistic: a decrease larger than what was behind takes the excess from the front; log weights', () => {
    const h = new Harness({ kind: 'probabilistic', fn: 'power', n: 2 });
    const e = h.buy('e', 100, 1, 2);
    h.on(depth([100, 12])); // 2 ahead, 10 behind
    h.on(depth([100, 1])); // 11 left: at least 1 of them was in front
    expect(e.ahead).toBeCloseTo(1, 12);
    const lg = new Harness({ kind: 'probabilistic', fn: 'log' });
    const f = lg.buy('f', 100, 1, 10);
    lg.on(depth([100, 16]));
    lg.on(depth([100, 13]));
    const p = Math.log(11) / (Math.log(11) + Math.log(7));
    expect(lg.book.model.frontShare(10, 6)).toBeCloseTo(p, 12);
    expect(f.ahead).toBeCloseTo(10 - 3 * p, 12);
  });

  it('probabilistic draw mode: seeded all-or-nothing attribution whose mean is the expected share', () => {
    const run = (seed: number, trials: number): number[] => {
      const h = new Harness({ kind: 'probabilistic', sampling: 'draw' }, new Rng(seed));
      const out: number[] = [];
      for (let i = 0; i < trials; i++) {
        const e = h.book.add(0, 'BUY', 100 - i, 1, 10, `o${i}`);
        const lvl = 100 - i;
        h.on(depth([lvl, 15]));
        h.on(depth([lvl, 12]));
        out.push(e.ahead);
      }
      return out;
    };
    const a = run(7, 4000);
    expect(run(7, 4000)).toEqual(a);
    expect(new Set(a)).toEqual(new Set([7, 10]));
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    expect(mean).toBeGreaterThan(7.6 - 0.06);
    expect(mean).toBeLessThan(7.6 + 0.06);
    expect(() => new PassiveBook(createQueueModel({ kind: 'probabilistic', sampling: 'draw' }))).toThrow(/seeded/);
  });

  it('trades already counted are not taken for cancellations when the diff shows the level', () => {
    const h = new Harness('probabilistic');
    const e = h.buy('e', 100, 1, 10);
    h.on(depth([100, 15]));
    h.on(trade(100, 4, true));
    expect(e.ahead).toBe(6);
    h.on(depth([100, 11])); // 15 - 4 traded: nothing cancelled
    expect(e.ahead).toBe(6);
    h.on(ticker(100, 11, 101, 3));
    expect(e.ahead).toBe(6);
  });

  it('a book ticker below the price empties the level: the order is first in line', () => {
    const h = new Harness('risk-averse');
    const e = h.buy('e', 100, 3, 8);
    expect(h.on(ticker(99, 4, 101, 2))).toEqual([]);
    expect(e.ahead).toBe(0);
    expect(h.on(trade(100, 2, true))).toEqual(['e:2']);
  });

  it('cancel removes the order; the next in line moves up', () => {
    const h = new Harness('none');
    const a = h.buy('a', 100, 3, 10);
    const b = h.buy('b', 100, 2, 10);
    expect(h.book.remove(a)).toBe(true);
    expect(h.book.remove(a)).toBe(false);
    expect(h.on(trade(100, 1, true))).toEqual(['b:1']);
    expect(h.book.remove(b)).toBe(true);
    expect(h.book.count(0)).toBe(0);
    expect(h.on(trade(99, 5, true))).toEqual([]);
  });

  it('price-time priority among participants at one price', () => {
    // No queue: both at the front of the market's queue, a before b.
    const n = new Harness('none');
    n.buy('a', 100, 3, 10);
    n.buy('b', 100, 2, 10);
    expect(n.on(trade(100, 4, true))).toEqual(['a:3', 'b:1']);
    // Risk-averse: 5 of the market ahead of both; b also behind a.
    const h = new Harness('risk-averse');
    const a = h.buy('a', 100, 3, 5);
    const b = h.buy('b', 100, 2, 5);
    expect(h.on(trade(100, 7, true))).toEqual(['a:2']);
    expect([a.rem, a.ahead, b.rem, b.ahead]).toEqual([1, 0, 2, 0]);
    expect(h.on(trade(100, 2, true))).toEqual(['a:1', 'b:1']);
    // Better price first on a trade through: 101 before 100.
    const t = new Harness('risk-averse');
    t.bid = 101;
    t.ask = 102;
    t.buy('lo', 100, 1, 5);
    t.buy('hi', 101, 1, 5);
    expect(t.on(trade(99, 1, true))).toEqual(['hi:1', 'lo:1']);
  });
});

// ---- the venue core: resting orders through the passive book, and the aggressive rules ----------------

function core(queueModel: QueueModelSpec = 'risk-averse'): { core: VenueCore; acc: SimAccount; m: SyntheticMarket } {
  const m = new SyntheticMarket(resolveInstruments(['BTCUSDT']), { seed: 5 });
  const c = new VenueCore(m, { rng: new Rng(1), queueModel });
  return { core: c, acc: c.addAccount('a', 'k', 's'), m };
}

let cid = 0;
function order(c: VenueCore, p: Partial<NewOrder>): NewOrder {
  return {
    inst: c.market.instruments[0]!,
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    qty: 10,
    price: 0,
    clientOrderId: `c${++cid}`,
    reduceOnly: false,
    positionSide: 'BOTH',
    goodTillDate: 0,
    ...p,
  };
}

describe('sim matching: venue core', () => {
  it('a GTC buy at the best bid queues behind the level, fills partially then fully as maker; cancel takes it out', () => {
    const { core: c, acc, m } = core();
    const top = m.top(0);
    const r = c.placeOrder(acc, order(c, { price: top.bid, qty: 100 }), 1);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.order.status).toBe('NEW');
    expect(c.queueAhead(r.order.orderId)).toBe(top.bidQty);
    // Sellers take the level down to 30 in front, then 50 more: 20 past the queue.
    c.matchResting(trade(top.bid, top.bidQty - 30, true));
    expect(r.order.status).toBe('NEW');
    c.matchResting(trade(top.bid, 50, true));
    expect([r.order.status, r.order.executedQty]).toEqual(['PARTIALLY_FILLED', 20]);
    c.matchResting(trade(top.bid - 1, 1, true));
    expect([r.order.status, r.order.executedQty, c.hasResting(0), c.queueAhead(r.order.orderId)]).toEqual(['FILLED', 100, false, undefined]);
    const fills = c.fills();
    expect(fills.map((f) => [f.qty, f.maker, f.price])).toEqual([
      ['0.020', true, m.instruments[0]!.priceStr(top.bid)],
      ['0.080', true, m.instruments[0]!.priceStr(top.bid)],
    ]);
    // Maker fee 0.02 % of the notional (8 decimals).
    expect(Number(fills[0]!.commission)).toBeCloseTo((Number(fills[0]!.price) * 0.02 * 2) / 10_000, 8);
    const again = c.placeOrder(acc, order(c, { price: top.bid - 3, qty: 5 }), 2);
    expect(again.ok && c.queueAhead(again.order.orderId) !== undefined).toBe(true);
    if (!again.ok) return;
    expect(c.cancelOrder(acc, 0, again.order.orderId, null, 3).ok).toBe(true);
    expect([c.hasResting(0), c.queueAhead(again.order.orderId)]).toEqual([false, undefined]);
    c.matchResting(trade(top.bid - 10, 1, true));
    expect(c.fills()).toHaveLength(2);
  });

  it('aggressive orders walk the levels and deplete them; GTX that would take, IOC, FOK, reduce-only and margin', () => {
    const { core: c, acc, m } = core();
    const before = m.levels(0, 3).asks;
    const [a0, a1] = before;
    // Takes all of the best ask and some of the next: two fills, the book keeps the rest.
    const mk = c.placeOrder(acc, order(c, { type: 'MARKET', qty: a0![1] + 1, price: 0 }), 1);
    expect(mk.ok && mk.fills.map((f) => f.price)).toEqual([m.instruments[0]!.priceStr(a0![0]), m.instruments[0]!.priceStr(a1![0])]);
    expect(m.levels(0, 1).asks[0]).toEqual([a1![0], a1![1] - 1]);
    // Post-only at the ask would take: rejected (-5022 on the wire).
    const ask = m.top(0).ask;
    expect(c.placeOrder(acc, order(c, { timeInForce: 'GTX', price: ask, qty: 1 }), 2)).toMatchObject({ ok: false, reason: 'POST_ONLY_WOULD_TAKE' });
    // IOC below the ask: EXPIRED without fills; FOK for more than the book holds up to its price: rejected.
    const ioc = c.placeOrder(acc, order(c, { timeInForce: 'IOC', price: ask - 5, qty: 2 }), 3);
    expect(ioc.ok && [ioc.order.status, ioc.order.executedQty]).toEqual(['EXPIRED', 0]);
    expect(c.placeOrder(acc, order(c, { timeInForce: 'FOK', price: ask, qty: m.top(0).askQty + 1 }), 4)).toMatchObject({ ok: false, reason: 'FOK_NOT_FILLED' });
    // Reduce-only buy while long: rejected; a reduce-only sell is clamped to the position.
    expect(c.placeOrder(acc, order(c, { type: 'MARKET', qty: 1, reduceOnly: true }), 5)).toMatchObject({ ok: false, reason: 'REDUCE_ONLY_REJECTED' });
    const pos = acc.positions.get(0)!.qty;
    const ro = c.placeOrder(acc, order(c, { side: 'SELL', type: 'MARKET', qty: pos + 50, reduceOnly: true }), 6);
    expect(ro.ok && ro.order.executedQty).toBe(pos);
    // 100 000 USDT at 20x: 30 BTC at ~100k needs ~150 000 of margin (-2019 on the wire).
    expect(c.placeOrder(acc, order(c, { price: m.top(0).bid - 10, qty: 30_000 }), 7)).toMatchObject({ ok: false, reason: 'MARGIN_INSUFFICIENT' });
  });

  it('the fill log keeps the newest maxFillLog fills', () => {
    const m = new SyntheticMarket(resolveInstruments(['BTCUSDT']), { seed: 5 });
    const c = new VenueCore(m, { rng: new Rng(1), maxFillLog: 3 });
    const acc = c.addAccount('a', 'k', 's');
    let last = 0;
    for (let i = 0; i < 5000; i++) {
      const r = c.placeOrder(acc, order(c, { side: i % 2 === 0 ? 'BUY' : 'SELL', type: 'MARKET', qty: 2 }), i);
      if (r.ok) last = r.order.orderId;
    }
    const ids = c.fills().map((f) => f.orderId);
    expect(ids).toHaveLength(3);
    expect(ids[2]).toBe(last);
    expect(ids[0]! <= ids[1]! && ids[1]! <= ids[2]!).toBe(true);
    expect(c.fillCount).toBeGreaterThanOrEqual(5000);
    expect(c.accountFills(acc, 'BTCUSDT').map((f) => f.orderId)).toEqual(ids);
  });

  it('the no-queue model fills on the first trade at the price; risk-averse waits for the queue', () => {
    const filledAfterOneTrade = (model: QueueModelSpec): number => {
      const { core: c, acc, m } = core(model);
      const top = m.top(0);
      const r = c.placeOrder(acc, order(c, { price: top.bid, qty: 10 }), 1);
      c.matchResting(trade(top.bid, 4, true));
      return r.ok ? r.order.executedQty : -1;
    };
    expect(filledAfterOneTrade('none')).toBe(4);
    expect(filledAfterOneTrade('risk-averse')).toBe(0);
    expect(filledAfterOneTrade('probabilistic')).toBe(0);
  });
});

// ---- end to end through the Binance REST API and user stream ---------------------------------------------

const venues: BinanceVenueHandle[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.close();
  for (const v of venues.splice(0)) await v.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function waitFor(pred: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting for condition');
    await sleep(5);
  }
}

type Json = Record<string, unknown>;

async function connect(url: string): Promise<Json[]> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const events: Json[] = [];
  ws.addEventListener('message', (e) => events.push(JSON.parse(String(e.data)) as Json));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)));
  });
  return events;
}

async function call(v: BinanceVenueHandle, method: 'GET' | 'POST', path: string, params: Record<string, string>, signed = true): Promise<Json> {
  const p = new URLSearchParams(params);
  if (signed) {
    p.set('timestamp', String(Date.now()));
    p.set('signature', createHmac('sha256', v.apiSecret).update(p.toString()).digest('hex'));
  }
  const body = p.toString();
  const r = await request(`${v.restUrl}${path}${method === 'GET' ? `?${body}` : ''}`, {
    method,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-mbx-apikey': v.apiKey },
    body: method === 'POST' ? body : undefined,
  });
  return (await r.body.json()) as Json;
}

describe('sim matching: Binance REST end to end', () => {
  it('a GTC buy at the best bid rests (NEW), then fills as maker, partially and then fully, as the market trades', async () => {
    // Paused from the start: the order joins the initial book, and the seeded flow that follows is fixed
    // (with seed 3: five partial fills at the price as the queue runs out, then a trade through the level).
    const v = await startBinanceVenue({ host: '127.0.0.1', port: 0, rate: 4000, paused: true, seed: 3 });
    venues.push(v);
    const key = (await call(v, 'POST', '/fapi/v1/listenKey', {}, false))['listenKey'] as string;
    const user = await connect(`${v.wsUrl}/ws/${key}`);
    // Trades and depth changes (no book-ticker moves): the level is traded down while orders come and go.
    await connect(`${v.wsUrl}/stream?streams=btcusdt@aggTrade/btcusdt@depth@100ms`);
    const top = v.top('BTCUSDT');
    const r = await call(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.300', price: top.bid });
    expect(r).toMatchObject({ status: 'NEW', executedQty: '0.000', price: top.bid });
    v.resume();
    const updates = (): Json[] => user.filter((e) => e['e'] === 'ORDER_TRADE_UPDATE').map((e) => e['o'] as Json);
    await waitFor(() => updates().some((o) => o['X'] === 'FILLED'), 15_000);
    const u = updates();
    expect(u[0]).toMatchObject({ x: 'NEW', X: 'NEW', S: 'BUY', o: 'LIMIT', f: 'GTC', p: top.bid, q: '0.300' });
    const trades = u.filter((o) => o['x'] === 'TRADE');
    expect(trades.length).toBeGreaterThanOrEqual(2);
    expect(trades.slice(0, -1).every((o) => o['X'] === 'PARTIALLY_FILLED')).toBe(true);
    expect(trades[trades.length - 1]).toMatchObject({ X: 'FILLED', z: '0.300' });
    let sum = 0;
    for (const o of trades) {
      expect(o).toMatchObject({ m: true, L: top.bid, N: 'USDT' });
      // Maker fee: 0.02 % of the fill.
      expect(Number(o['n'])).toBeCloseTo((Number(top.bid) * Number(o['l']) * 2) / 10_000, 7);
      sum += Math.round(Number(o['l']) * 1000);
    }
    expect(sum).toBe(300);
    const q = await call(v, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(r['orderId']) });
    expect(q).toMatchObject({ status: 'FILLED', executedQty: '0.300', avgPrice: top.bid });
  });
});
