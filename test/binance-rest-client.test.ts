import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startBinanceVenue, type BinanceVenueHandle, type BinanceVenueOptions } from '../src/sim/binance/BinanceVenue.js';
import { BinanceRestClient, type RestClientOptions, type RestResult } from '../src/venues/binance/RestClient.js';
import { BinanceErrorKind, ErrorHandling, errorKindName } from '../src/venues/binance/errors.js';
import { RateBudget } from '../src/venues/binance/RateBudget.js';
import { Rounding, checkOrder, formatPrice, formatQty, parseExchangeInfoFilters, priceToTicks, type SymbolFilters } from '../src/venues/binance/filters.js';
import { OrderType, RejectReason, Side } from '../src/ring/layout.js';

const KEY = 'a'.repeat(64);
const SECRET = 'b'.repeat(64);

const clients: BinanceRestClient[] = [];
const venues: BinanceVenueHandle[] = [];
const servers: Scripted[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const v of venues.splice(0)) await v.close();
  for (const s of servers.splice(0)) await s.close();
});

function client(opts: Partial<RestClientOptions> & { baseUrl: string }): BinanceRestClient {
  const c = new BinanceRestClient({ apiKey: KEY, apiSecret: SECRET, ...opts });
  clients.push(c);
  return c;
}

async function venue(opts: BinanceVenueOptions = {}): Promise<BinanceVenueHandle> {
  const v = await startBinanceVenue({ host: '127.0.0.1', port: 0, paused: true, apiKey: KEY, apiSecret: SECRET, ...opts });
  venues.push(v);
  return v;
}

function expectErr<T>(r: RestResult<T>, kind: BinanceErrorKind, handling: ErrorHandling): asserts r is Extract<RestResult<T>, { ok: false }> {
  expect(r.ok, JSON.stringify(r)).toBe(false);
  if (r.ok) return;
  expect(errorKindName(r.kind), r.msg).toBe(errorKindName(kind));
  expect(r.handling).toBe(handling);
}

function okData<T>(r: RestResult<T>): T {
  if (!r.ok) throw new Error(`expected success, got ${errorKindName(r.kind)} ${r.status} ${r.code} ${r.msg}`);
  return r.data;
}

// ---------------------------------------------------------------------------------------- simulator

describe('BinanceRestClient against the simulator', () => {
  async function setup(opts: BinanceVenueOptions = {}): Promise<{ v: BinanceVenueHandle; c: BinanceRestClient; btc: SymbolFilters }> {
    const v = await venue(opts);
    const c = client({ baseUrl: v.restUrl });
    await c.init();
    const info = okData(await c.exchangeInfo());
    const btc = parseExchangeInfoFilters(info).get('BTCUSDT')!;
    return { v, c, btc };
  }

  /** A passive buy price `below` ticks under the best bid. */
  function passiveBid(v: BinanceVenueHandle, f: SymbolFilters, below: number): number {
    return priceToTicks(f, Number(v.top('BTCUSDT').bid), Rounding.Down) - below;
  }

  it('reference data: time, exchangeInfo, depth, with the clock synced', async () => {
    const { v, c, btc } = await setup();
    expect(c.timeSync.synced).toBe(true);
    expect(Math.abs(c.timeSync.offsetMs)).toBeLessThan(50);
    const t = okData(await c.time());
    expect(Math.abs(t.serverTime - Date.now())).toBeLessThan(1000);
    expect(btc).toMatchObject({ priceScale: 1, tickUnits: 1, qtyScale: 3, minNotionalUnits: 100 * 10 ** 4 });
    const d = okData(await c.depth('BTCUSDT', 100));
    expect(d.bids.length).toBeGreaterThan(0);
    expect(d.asks.length).toBeGreaterThan(0);
    expect(Number(d.bids[0]![0])).toBeLessThan(Number(d.asks[0]![0]));
    expect(v.stats().restRequests).toBeGreaterThanOrEqual(7); // 5 time samples + exchangeInfo + time + depth
    // the venue's weight headers reached the budget
    expect(c.budget.counters.headerUpdates).toBe(c.counters.requests);
    expect(c.budget.weight1m.used(c.timeSync.serverNow())).toBe(v.stats().usedWeight1m);
  });

  it('places, lists, cancels orders; duplicates, post-only and FOK outcomes are typed', async () => {
    const { v, c, btc } = await setup();
    const px = passiveBid(v, btc, 100);
    const placed = okData(
      await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: formatPrice(btc, px), quantity: '0.002', newClientOrderId: 'rc-1', newOrderRespType: 'RESULT' }),
    );
    expect(placed).toMatchObject({ symbol: 'BTCUSDT', status: 'NEW', clientOrderId: 'rc-1', side: 'BUY', type: 'LIMIT', origQty: '0.002' });
    expect(Number(placed.price)).toBe(Number(formatPrice(btc, px)));

    const open = okData(await c.openOrders('BTCUSDT'));
    expect(open.map((o) => o.clientOrderId)).toEqual(['rc-1']);
    const openAll = okData(await c.openOrders());
    expect(openAll).toHaveLength(1);

    const dup = await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: formatPrice(btc, px), quantity: '0.002', newClientOrderId: 'rc-1' });
    expectErr(dup, BinanceErrorKind.DuplicateClientOrderId, ErrorHandling.Definite);
    expect(dup.code).toBe(-4116);
    expect(dup.status).toBe(400);

    const ask = priceToTicks(btc, Number(v.top('BTCUSDT').ask), Rounding.Up);
    const gtx = await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', price: formatPrice(btc, ask), quantity: '0.002' });
    expectErr(gtx, BinanceErrorKind.PostOnlyWouldTake, ErrorHandling.Expected);
    const fok = await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'FOK', price: formatPrice(btc, ask), quantity: '5' });
    expectErr(fok, BinanceErrorKind.FokNotFilled, ErrorHandling.Expected);

    const cancelled = okData(await c.cancelOrder('BTCUSDT', { origClientOrderId: 'rc-1' }));
    expect(cancelled).toMatchObject({ status: 'CANCELED', clientOrderId: 'rc-1' });
    const again = await c.cancelOrder('BTCUSDT', { orderId: placed.orderId });
    expectErr(again, BinanceErrorKind.CancelRejected, ErrorHandling.AlreadyClosed);
    expect(again.code).toBe(-2011);

    for (const id of ['rc-2', 'rc-3']) {
      okData(await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: formatPrice(btc, px), quantity: '0.002', newClientOrderId: id }));
    }
    const all = okData(await c.cancelAllOpenOrders('BTCUSDT'));
    expect(all.code).toBe(200);
    expect(okData(await c.openOrders('BTCUSDT'))).toEqual([]);
    // order-count headers came back with the orders
    expect(c.budget.orders10s.used(c.timeSync.serverNow())).toBeGreaterThanOrEqual(5);
  });

  it('MARKET with RESULT fills; reduce-only closes; local filter checks agree with the venue\'s rejects', async () => {
    const { v, c, btc } = await setup();
    const filled = okData(await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: formatQty(btc, 2), newOrderRespType: 'RESULT' }));
    expect(filled).toMatchObject({ status: 'FILLED', executedQty: '0.002' });
    const closed = okData(await c.newOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.002', reduceOnly: true, newOrderRespType: 'RESULT' }));
    expect(closed).toMatchObject({ status: 'FILLED', reduceOnly: true });
    const nothingToReduce = await c.newOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.002', reduceOnly: true });
    expectErr(nothingToReduce, BinanceErrorKind.ReduceOnlyRejected, ErrorHandling.Definite);

    // 1 step (0.001) at <= 99 000.0 is under the simulator's MIN_NOTIONAL of 100
    const px = Math.min(passiveBid(v, btc, 10), 990_000);
    expect(checkOrder(btc, Side.Buy, OrderType.Limit, px, 1, undefined, false)).toBe(RejectReason.MinNotional);
    const small = await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: formatPrice(btc, px), quantity: formatQty(btc, 1) });
    expectErr(small, BinanceErrorKind.MinNotional, ErrorHandling.Definite);
    expect(small.reason).toBe(RejectReason.MinNotional);

    const belowMin = Math.ceil(btc.minPriceUnits / btc.tickUnits) - 1;
    expect(checkOrder(btc, Side.Buy, OrderType.Limit, belowMin, 1000, undefined, false)).toBe(RejectReason.PriceFilter);
    const low = await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: formatPrice(btc, belowMin), quantity: '1.000' });
    expectErr(low, BinanceErrorKind.PriceBelowMin, ErrorHandling.Definite);
    expect(low.reason).toBe(RejectReason.PriceFilter);

    // one more decimal than the step: the venue answers -1111
    const precise = await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: formatPrice(btc, px), quantity: '0.0025' });
    expectErr(precise, BinanceErrorKind.BadPrecision, ErrorHandling.Definite);
  });

  it('refuses malformed orders locally, without a request', async () => {
    const { v, c } = await setup();
    const before = v.stats().restRequests;
    const noPrice = await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.002' });
    expectErr(noPrice, BinanceErrorKind.LocalInvalid, ErrorHandling.Definite);
    expect(noPrice.status).toBe(0);
    expectErr(await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', price: '1.0', quantity: '0.002' }), BinanceErrorKind.LocalInvalid, ErrorHandling.Definite);
    expectErr(await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', price: '1.0', quantity: '0.002' }), BinanceErrorKind.LocalInvalid, ErrorHandling.Definite);
    expectErr(await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '1e-3' }), BinanceErrorKind.LocalInvalid, ErrorHandling.Definite);
    expectErr(await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002', newClientOrderId: 'x'.repeat(37) }), BinanceErrorKind.LocalInvalid, ErrorHandling.Definite);
    expectErr(await c.leverage('BTCUSDT', 126), BinanceErrorKind.LocalInvalid, ErrorHandling.Definite);
    expectErr(await c.newAlgoOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET', quantity: '0.002' }), BinanceErrorKind.LocalInvalid, ErrorHandling.Definite);
    expect(v.stats().restRequests).toBe(before);
    expect(c.counters.localRefusals).toBe(7);
  });

  it('local order budget refuses before the venue sees the order', async () => {
    const v = await venue();
    const c = client({ baseUrl: v.restUrl, budget: new RateBudget({ headroom: 0, orderLimit10s: 2 }) });
    await c.init();
    const order = { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002' } as const;
    okData(await c.newOrder(order));
    okData(await c.newOrder(order));
    const before = v.stats().orderRequests;
    const third = await c.newOrder(order);
    expectErr(third, BinanceErrorKind.LocalRateLimited, ErrorHandling.Backoff);
    expect(third.reason).toBe(RejectReason.RateLimited);
    expect(third.msg).toMatch(/10 s/);
    expect(v.stats().orderRequests).toBe(before);
    expect(c.budget.counters.refusedOrders10s).toBe(1);
  });

  it('-1021 from a skewed venue clock: resync, resend once, succeed', async () => {
    const v = await venue({ clock: () => Date.now() + 20_000 });
    const c = client({ baseUrl: v.restUrl });
    // no init(): the first signed request goes out with offset 0, 20 s behind the venue
    const r = await c.openOrders('BTCUSDT');
    expect(okData(r)).toEqual([]);
    expect(c.counters.clockRetries).toBe(1);
    expect(Math.abs(c.timeSync.offsetMs - 20_000)).toBeLessThan(100);
    expect(c.timeSync.counters.clockRejects).toBe(1);

    const strict = client({ baseUrl: v.restUrl, retryAfterClockSync: false });
    const r2 = await strict.openOrders('BTCUSDT');
    expectErr(r2, BinanceErrorKind.InvalidTimestamp, ErrorHandling.RetryAfterClockSync);
    expect(r2.code).toBe(-1021);
  });

  it('bad signature is a definite error; a bad API key halts the client (-2015)', async () => {
    const v = await venue();
    const wrongSecret = client({ baseUrl: v.restUrl, apiSecret: 'c'.repeat(64) });
    await wrongSecret.init();
    const sig = await wrongSecret.openOrders('BTCUSDT');
    expectErr(sig, BinanceErrorKind.InvalidSignature, ErrorHandling.Definite);
    expect(wrongSecret.budget.halted).toBe(false);

    const alarms: string[] = [];
    const wrongKey = client({ baseUrl: v.restUrl, apiKey: 'd'.repeat(64), budget: new RateBudget({ onAlarm: (r) => alarms.push(r) }) });
    await wrongKey.init();
    const auth = await wrongKey.openOrders('BTCUSDT');
    expectErr(auth, BinanceErrorKind.InvalidApiKey, ErrorHandling.Halt);
    expect(auth.status).toBe(401);
    expect(wrongKey.budget.halted).toBe(true);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatch(/InvalidApiKey.*-2015/);
    const before = v.stats().restRequests;
    const next = await wrongKey.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002' });
    expectErr(next, BinanceErrorKind.LocalHalted, ErrorHandling.Halt);
    expect(v.stats().restRequests).toBe(before);
    wrongKey.budget.clearHalt();
    expectErr(await wrongKey.openOrders('BTCUSDT'), BinanceErrorKind.InvalidApiKey, ErrorHandling.Halt);
  });

  it('queryOrder and resolveOrder (GET /fapi/v1/order): open, filled, never sent', async () => {
    const { v, c, btc } = await setup();
    const px = passiveBid(v, btc, 100);
    const placed = okData(await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: formatPrice(btc, px), quantity: '0.002', newClientOrderId: 'q-1' }));
    const q = okData(await c.queryOrder('BTCUSDT', { orderId: placed.orderId }));
    expect(q).toMatchObject({ clientOrderId: 'q-1', status: 'NEW' });
    const found = await c.resolveOrder('BTCUSDT', 'q-1');
    expect(found.state).toBe('found');
    if (found.state === 'found') expect(String(found.order.orderId)).toBe(String(placed.orderId));
    okData(await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002', newClientOrderId: 'q-2' }));
    const filled = await c.resolveOrder('BTCUSDT', 'q-2');
    expect(filled.state === 'found' && filled.order.status).toBe('FILLED');
    const missing = await c.resolveOrder('BTCUSDT', 'never-sent');
    expect(missing).toEqual({ state: 'notFound' });
    const byId = await c.queryOrder('BTCUSDT', { orderId: 999_999_999 });
    expectErr(byId, BinanceErrorKind.NoSuchOrder, ErrorHandling.Definite);
  });

  it('countdownCancelAll (the dead-man switch fires) and leverage', async () => {
    const { v, c, btc } = await setup();
    okData(await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: formatPrice(btc, passiveBid(v, btc, 100)), quantity: '0.002' }));
    const cd = okData(await c.countdownCancelAll('BTCUSDT', 120_000));
    expect(cd).toMatchObject({ symbol: 'BTCUSDT', countdownTime: '120000' });
    okData(await c.countdownCancelAll('BTCUSDT', 40));
    const t0 = Date.now();
    while ((okData(await c.openOrders('BTCUSDT'))).length > 0) {
      expect(Date.now() - t0).toBeLessThan(2000);
      await new Promise((r) => setTimeout(r, 20));
    }
    okData(await c.countdownCancelAll('BTCUSDT', 0));
    const lev = okData(await c.leverage('BTCUSDT', 21));
    expect(lev).toMatchObject({ symbol: 'BTCUSDT', leverage: 21 });
  });

  it('positionRisk v3, account (v3 and v2), balance', async () => {
    const { v, c } = await setup();
    okData(await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.003' }));
    const pos = okData(await c.positionRisk('BTCUSDT'));
    expect(pos.find((p) => p.symbol === 'BTCUSDT')?.positionAmt).toBe('0.003');
    const acct = okData(await c.account());
    expect(typeof acct.totalWalletBalance).toBe('string');
    expect(acct.assets.some((a) => a.asset === 'USDT')).toBe(true);
    const bal = okData(await c.balance());
    expect(bal.some((b) => b.asset === 'USDT')).toBe(true);
    const v2 = client({ baseUrl: v.restUrl, accountVersion: 'v2' });
    await v2.init();
    expect(okData(await v2.account()).positions.some((p) => p.symbol === 'BTCUSDT')).toBe(true);
  });

  it('listenKey create / keep-alive / close, then -1125 on a closed key', async () => {
    const { c } = await setup();
    const k = okData(await c.createListenKey());
    expect(k.listenKey).toMatch(/^\w{10,}$/);
    okData(await c.keepAliveListenKey());
    okData(await c.closeListenKey());
    const gone = await c.keepAliveListenKey();
    expectErr(gone, BinanceErrorKind.InvalidListenKey, ErrorHandling.Definite);
    expect(gone.code).toBe(-1125);
  });

  it('algo orders: place, query, list, cancel, cancel all', async () => {
    const { v, c, btc } = await setup();
    okData(await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.004' }));
    const stop = formatPrice(btc, passiveBid(v, btc, 1000));
    const a = okData(await c.newAlgoOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET', triggerPrice: stop, quantity: '0.002', reduceOnly: true, clientAlgoId: 'algo-1', workingType: 'MARK_PRICE' }));
    expect(a).toMatchObject({ clientAlgoId: 'algo-1', symbol: 'BTCUSDT', orderType: 'STOP_MARKET', algoType: 'CONDITIONAL' });
    okData(await c.newAlgoOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'TAKE_PROFIT_MARKET', triggerPrice: formatPrice(btc, passiveBid(v, btc, -1000)), quantity: '0.002', clientAlgoId: 'algo-2' }));
    okData(await c.newAlgoOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'TRAILING_STOP_MARKET', callbackRate: '1', quantity: '0.002', clientAlgoId: 'algo-3' }));
    const q = okData(await c.queryAlgoOrder({ algoId: a.algoId }));
    expect(q.clientAlgoId).toBe('algo-1');
    const open = okData(await c.openAlgoOrders('BTCUSDT'));
    expect(open.map((o) => o.clientAlgoId).sort()).toEqual(['algo-1', 'algo-2', 'algo-3']);
    okData(await c.cancelAlgoOrder({ clientAlgoId: 'algo-1' }, 'BTCUSDT'));
    expect(okData(await c.openAlgoOrders())).toHaveLength(2);
    expect(okData(await c.cancelAllAlgoOpenOrders('BTCUSDT')).code).toBe(200);
    expect(okData(await c.openAlgoOrders('BTCUSDT'))).toEqual([]);
    // a stop that would fire at once is a definite reject
    const now = await c.newAlgoOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET', triggerPrice: formatPrice(btc, passiveBid(v, btc, -1000)), quantity: '0.002' });
    expectErr(now, BinanceErrorKind.WouldImmediatelyTrigger, ErrorHandling.Definite);
    expect(now.code).toBe(-2021);
  });
});

// ---------------------------------------------------------------------------------------- scripted venue

interface Seen {
  method: string;
  path: string;
  query: string;
  body: string;
  headers: IncomingHttpHeaders;
  at: number;
}
type Reply = { status: number; body: string; headers?: Record<string, string> } | 'hang' | 'destroy';

interface Scripted {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** A tiny HTTP server that answers what the test scripts (statuses the simulator never sends). */
async function scripted(handler: (req: Seen) => Reply): Promise<Scripted> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [path, query = ''] = (req.url ?? '').split('?') as [string, string?];
      const s: Seen = { method: req.method ?? '', path, query, body: Buffer.concat(chunks).toString('utf8'), headers: req.headers, at: Date.now() };
      const time = path === '/fapi/v1/time' && s.method === 'GET';
      if (!time) seen.push(s);
      const reply: Reply = time ? { status: 200, body: `{"serverTime":${Date.now()}}` } : handler(s);
      if (reply === 'hang') return;
      if (reply === 'destroy') {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const s: Scripted = {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  servers.push(s);
  return s;
}

function params(s: string): Map<string, string> {
  return new Map([...new URLSearchParams(s)]);
}

/** The signed payload as sent must verify, and `signature` must be its last parameter. */
function expectSigned(raw: string): Map<string, string> {
  const i = raw.lastIndexOf('&signature=');
  expect(i).toBeGreaterThan(0);
  const payload = raw.slice(0, i);
  const sig = raw.slice(i + '&signature='.length);
  expect(sig).toMatch(/^[0-9a-f]{64}$/);
  expect(sig).toBe(createHmac('sha256', SECRET).update(payload).digest('hex'));
  const p = params(raw);
  expect(p.get('recvWindow')).toBe('5000');
  expect(Math.abs(Number(p.get('timestamp')) - Date.now())).toBeLessThan(1000);
  return p;
}

const ORDER = '{"orderId":7,"symbol":"BTCUSDT","status":"NEW","clientOrderId":"c-1","price":"1.0","avgPrice":"0.0","origQty":"1","executedQty":"0","cumQuote":"0","timeInForce":"GTC","type":"LIMIT","reduceOnly":false,"closePosition":false,"side":"BUY","positionSide":"BOTH","stopPrice":"0","workingType":"CONTRACT_PRICE","priceProtect":false,"origType":"LIMIT","updateTime":1}';

describe('BinanceRestClient request encoding (scripted venue)', () => {
  it('signs exactly what it sends: body for POST/PUT, query for GET/DELETE; API-key-only for listenKey', async () => {
    const s = await scripted((req) => ({ status: 200, body: req.path.includes('listenKey') ? '{"listenKey":"abc"}' : req.method === 'GET' ? '[]' : '{}' }));
    const c = client({ baseUrl: s.url });
    await c.init();
    okData(await c.newOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTX', price: '100000.10', quantity: '0.010', reduceOnly: true, newClientOrderId: 'a.b:c/d_e-f', newOrderRespType: 'RESULT' }));
    okData(await c.cancelOrder('BTCUSDT', { origClientOrderId: 'a.b:c/d_e-f' }));
    okData(await c.countdownCancelAll('BTCUSDT', 120_000));
    okData(await c.positionRisk());
    okData(await c.newAlgoOrder({ symbol: 'ETHUSDT', side: 'BUY', type: 'TRAILING_STOP_MARKET', quantity: '1.5', callbackRate: '0.5', activatePrice: '3000.00', reduceOnly: true, priceProtect: true }));
    okData(await c.newAlgoOrder({ symbol: 'ETHUSDT', side: 'SELL', type: 'STOP_MARKET', triggerPrice: '2500.00', closePosition: true, workingType: 'MARK_PRICE' }));
    okData(await c.cancelAlgoOrder({ algoId: 99 }));
    okData(await c.createListenKey());
    okData(await c.keepAliveListenKey());
    okData(await c.account());
    expect(s.seen.map((x) => `${x.method} ${x.path}`)).toEqual([
      'POST /fapi/v1/order',
      'DELETE /fapi/v1/order',
      'POST /fapi/v1/countdownCancelAll',
      'GET /fapi/v3/positionRisk',
      'POST /fapi/v1/algoOrder',
      'POST /fapi/v1/algoOrder',
      'DELETE /fapi/v1/algoOrder',
      'POST /fapi/v1/listenKey',
      'PUT /fapi/v1/listenKey',
      'GET /fapi/v3/account',
    ]);
    for (const x of s.seen) expect(x.headers['x-mbx-apikey']).toBe(KEY);

    const [order, cancel, countdown, risk, trailing, stop, algoCancel, lkCreate, lkPut] = s.seen as [Seen, Seen, Seen, Seen, Seen, Seen, Seen, Seen, Seen];
    expect(order.query).toBe('');
    expect(order.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const o = expectSigned(order.body);
    expect(Object.fromEntries(o)).toMatchObject({ symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTX', price: '100000.10', quantity: '0.010', reduceOnly: 'true', newClientOrderId: 'a.b:c/d_e-f', newOrderRespType: 'RESULT' });
    expect(order.body.startsWith('symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTX&quantity=0.010&price=100000.10&reduceOnly=true&newClientOrderId=a.b%3Ac%2Fd_e-f&')).toBe(true);

    expect(cancel.body).toBe('');
    expect(expectSigned(cancel.query).get('origClientOrderId')).toBe('a.b:c/d_e-f');
    expect(expectSigned(countdown.body).get('countdownTime')).toBe('120000');
    const rp = expectSigned(risk.query);
    expect(rp.has('symbol')).toBe(false);
    expect(Object.fromEntries(expectSigned(trailing.body))).toMatchObject({
      algoType: 'CONDITIONAL',
      type: 'TRAILING_STOP_MARKET',
      callbackRate: '0.5',
      activatePrice: '3000.00',
      reduceOnly: 'true',
      priceProtect: 'TRUE',
      quantity: '1.5',
    });
    const sp = expectSigned(stop.body);
    expect(Object.fromEntries(sp)).toMatchObject({ algoType: 'CONDITIONAL', type: 'STOP_MARKET', triggerPrice: '2500.00', closePosition: 'true', workingType: 'MARK_PRICE' });
    expect(sp.has('quantity')).toBe(false);
    expect(expectSigned(algoCancel.query).get('algoId')).toBe('99');
    // USER_STREAM: key header only, nothing signed
    expect(lkCreate.body).toBe('');
    expect(lkCreate.query).toBe('');
    expect(lkPut.body).toBe('');
    // MARKET_DATA/NONE requests carry no key
    const t = await c.time();
    expect(okData(t).serverTime).toBeGreaterThan(0);
  });
});

describe('BinanceRestClient error paths (scripted venue)', () => {
  it('429 with Retry-After: typed Backoff, and the budget holds further requests locally', async () => {
    const s = await scripted(() => ({
      status: 429,
      body: '{"code":-1003,"msg":"Too many requests; current limit is 2400 request weight per 1 MINUTE."}',
      headers: { 'retry-after': '3', 'x-mbx-used-weight-1m': '2400' },
    }));
    const c = client({ baseUrl: s.url });
    await c.init();
    const r = await c.openOrders('BTCUSDT');
    expectErr(r, BinanceErrorKind.TooManyRequests, ErrorHandling.Backoff);
    expect(r.reason).toBe(RejectReason.RateLimited);
    const now = c.timeSync.serverNow();
    expect(c.budget.backoffUntil - now).toBeGreaterThan(2500);
    expect(c.budget.backoffUntil - now).toBeLessThanOrEqual(3000);
    const next = await c.cancelAllOpenOrders('BTCUSDT');
    expectErr(next, BinanceErrorKind.LocalRateLimited, ErrorHandling.Backoff);
    expect(next.msg).toMatch(/429/);
    expect(s.seen).toHaveLength(1);
  });

  it('418: IpBanned, budget halted with alarm, nothing more is sent', async () => {
    const s = await scripted(() => ({ status: 418, body: '{"code":-1003,"msg":"Way too many requests; IP banned until 4102444800000. Please use the websocket for live updates to avoid bans."}' }));
    const alarms: Array<[string, number]> = [];
    const c = client({ baseUrl: s.url, budget: new RateBudget({ onAlarm: (r, u) => alarms.push([r, u]) }) });
    await c.init();
    const r = await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '1' });
    expectErr(r, BinanceErrorKind.IpBanned, ErrorHandling.Halt);
    expect(r.reason).toBe(RejectReason.Halted);
    expect(c.budget.halted).toBe(true);
    expect(c.budget.haltUntil).toBe(4102444800000);
    expect(alarms).toHaveLength(1);
    expectErr(await c.time(), BinanceErrorKind.LocalHalted, ErrorHandling.Halt);
    expect(s.seen).toHaveLength(1);
  });

  it('the three 503s, a 502 page and a non-JSON 200', async () => {
    const replies: Reply[] = [
      { status: 503, body: '{"code":-1000,"msg":"Unknown error, please check your request or try again later."}' },
      { status: 503, body: '{"msg":"Service Unavailable."}' },
      { status: 503, body: '{"code":-1008,"msg":"Request throttled by system-level protection. Reduce-only/close-position orders are exempt. Please try again."}' },
      { status: 502, body: '<html><body>Bad Gateway</body></html>' },
      { status: 200, body: 'not json' },
      { status: 400, body: '{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}' },
    ];
    let i = 0;
    const s = await scripted(() => replies[i++]!);
    const c = client({ baseUrl: s.url });
    await c.init();
    const order = { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '1' } as const;
    expectErr(await c.newOrder(order), BinanceErrorKind.ExecutionUnknown, ErrorHandling.Unknown);
    expectErr(await c.newOrder(order), BinanceErrorKind.ServiceUnavailable, ErrorHandling.Backoff);
    expectErr(await c.newOrder(order), BinanceErrorKind.Throttled, ErrorHandling.Backoff);
    const page = await c.newOrder(order);
    expectErr(page, BinanceErrorKind.ServerError, ErrorHandling.Unknown);
    expect(page.msg).toMatch(/Bad Gateway/);
    expectErr(await c.newOrder(order), BinanceErrorKind.BadResponse, ErrorHandling.Unknown);
    expectErr(await c.newOrder(order), BinanceErrorKind.BackendTimeout, ErrorHandling.Unknown);
    expect(c.budget.halted).toBe(false);
    expect(c.budget.backoffUntil).toBe(0);
  });

  it('transport: timeout and dropped connection are Unknown; connection refused is Definite', async () => {
    let mode: 'hang' | 'destroy' = 'hang';
    const s = await scripted(() => mode);
    const c = client({ baseUrl: s.url, timeoutMs: 200 });
    await c.init();
    const t0 = Date.now();
    const hung = await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '1' });
    expectErr(hung, BinanceErrorKind.RequestTimeout, ErrorHandling.Unknown);
    expect(hung.status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    mode = 'destroy';
    const dropped = await c.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '1' });
    expectErr(dropped, BinanceErrorKind.NoResponse, ErrorHandling.Unknown);
    expect(c.counters.transportErrors).toBe(2);

    const dead = await scripted(() => ({ status: 200, body: '{}' }));
    const url = dead.url;
    await dead.close();
    servers.splice(servers.indexOf(dead), 1);
    const refused = client({ baseUrl: url, timeoutMs: 500 });
    const r = await refused.cancelAllOpenOrders('BTCUSDT');
    expectErr(r, BinanceErrorKind.TransportNotSent, ErrorHandling.Definite);
    expect(r.msg).toMatch(/ECONNREFUSED/);
  });

  it('resolveOrder: found, -2013 never arrived, and a failed query stays unknown', async () => {
    const replies: Reply[] = [
      { status: 200, body: ORDER },
      { status: 400, body: '{"code":-2013,"msg":"Order does not exist."}' },
      { status: 503, body: '{"msg":"Service Unavailable."}' },
    ];
    let i = 0;
    const s = await scripted(() => replies[i++]!);
    const c = client({ baseUrl: s.url });
    await c.init();
    const found = await c.resolveOrder('BTCUSDT', 'c-1');
    expect(found.state).toBe('found');
    if (found.state === 'found') expect(found.order).toMatchObject({ orderId: 7, clientOrderId: 'c-1', status: 'NEW' });
    expect(await c.resolveOrder('BTCUSDT', 'c-1')).toEqual({ state: 'notFound' });
    const u = await c.resolveOrder('BTCUSDT', 'c-1');
    expect(u.state).toBe('unknown');
    if (u.state === 'unknown') expect(u.error.kind).toBe(BinanceErrorKind.ServiceUnavailable);
    const q = params(s.seen[0]!.query);
    expect(q.get('origClientOrderId')).toBe('c-1');
    expect(q.get('symbol')).toBe('BTCUSDT');
  });

  it('resolveOrder with the lost request\'s timestamp waits until that request can no longer be accepted', async () => {
    const s = await scripted(() => ({ status: 400, body: '{"code":-2013,"msg":"Order does not exist."}' }));
    const c = client({ baseUrl: s.url, recvWindow: 300 });
    await c.init();
    const sentTs = c.timeSync.timestamp();
    const r = await c.resolveOrder('BTCUSDT', 'lost-1', sentTs);
    expect(r).toEqual({ state: 'notFound' });
    const q = s.seen[0]!;
    // the query arrived after sentTs + recvWindow on the venue's clock (the scripted venue serves Date.now),
    // within the sync's uncertainty and the 1 ms resolution of both clocks
    expect(q.at - sentTs).toBeGreaterThanOrEqual(300 - Math.ceil(c.timeSync.uncertaintyMs) - 2);
    expect(Number(params(q.query).get('timestamp'))).toBeGreaterThan(sentTs + 300);
  });
});
