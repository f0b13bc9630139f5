import { afterEach, describe, expect, it } from 'vitest';
import { startGateVenue, type GateVenueHandle } from '../src/sim/gate/GateVenue.js';

/**
 * A third-party client against the Gate dialect of the simulator: ccxt's `gate` (REST) and `pro.gate`
 * (WebSocket) pointed at the simulator's URLs and nothing else changed in how they talk. ccxt is a
 * devDependency; the tests skip when it is absent.
 */

type Json = Record<string, unknown>;
interface CcxtBook {
  bids: number[][];
  asks: number[][];
  nonce?: number;
}
/** The slice of ccxt's gate these tests call. */
interface CcxtGate {
  urls: { api: Record<string, Record<string, string>> };
  has: Record<string, unknown>;
  markets: Record<string, Json>;
  loadMarkets(): Promise<Record<string, Json>>;
  loadHttpProxyAgent(): Promise<unknown>;
  fetchOrderBook(s: string, limit?: number): Promise<CcxtBook>;
  fetchBalance(params?: Json): Promise<Record<string, { free?: number; used?: number; total?: number }>>;
  setLeverage(l: number, s: string): Promise<Json>;
  createOrder(s: string, t: string, side: string, amount: number, price?: number, params?: Json): Promise<Json>;
  fetchOrder(id: string, s: string): Promise<Json>;
  fetchOpenOrders(s: string, since?: number, limit?: number, params?: Json): Promise<Json[]>;
  cancelOrder(id: string, s: string, params?: Json): Promise<Json>;
  fetchPositions(s: string[]): Promise<Json[]>;
  fetchMyTrades(s: string): Promise<Json[]>;
  watchOrderBook(s: string, limit?: number): Promise<CcxtBook>;
  watchTrades(s: string): Promise<Json[]>;
  watchOrders(s: string): Promise<Json[]>;
  watchMyTrades(s: string): Promise<Json[]>;
  close(): Promise<void>;
}
type CcxtGateClass = new (cfg: Json) => CcxtGate;
const ccxtMod = await import('ccxt').then(
  (m) => m as unknown as { gate: CcxtGateClass; pro: { gate: CcxtGateClass } },
  () => null,
);

const S = 'BTC/USDT:USDT';
const venues: GateVenueHandle[] = [];
const clients: CcxtGate[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  for (const v of venues.splice(0)) await v.close();
});

/** A ccxt gate client for USDT perpetuals whose every REST base (and the USDT swap WS) is the simulator. */
async function client(v: GateVenueHandle, ws: boolean): Promise<CcxtGate> {
  const Cls = ws ? ccxtMod!.pro.gate : ccxtMod!.gate;
  const ex = new Cls({
    apiKey: v.apiKey,
    secret: v.apiSecret,
    uid: String(v.userId),
    options: { defaultType: 'swap', fetchMarkets: { types: ['swap'] }, swap: { fetchMarkets: { settlementCurrencies: ['usdt'] } }, unifiedAccount: false },
  });
  clients.push(ex);
  for (const side of ['public', 'private']) for (const k of Object.keys(ex.urls.api[side]!)) ex.urls.api[side]![k] = v.restUrl;
  // the simulator lists futures contracts, not spot currencies
  ex.has['fetchCurrencies'] = false;
  if (ws) {
    (ex.urls.api as unknown as { swap: Record<string, string> }).swap['usdt'] = v.wsUrl;
    await ex.loadHttpProxyAgent(); // ccxt's requirement for plain ws:// URLs
  }
  await ex.loadMarkets();
  return ex;
}

describe('sim gate: ccxt against the simulator', () => {
  it.skipIf(ccxtMod === null)('REST: markets, book, balance, leverage, market / limit / trigger orders, positions and trades', async () => {
    const v = await startGateVenue({ host: '127.0.0.1', port: 0, seed: 3, paused: true });
    venues.push(v);
    const ex = await client(v, false);
    const m = ex.markets[S]!;
    expect(m).toMatchObject({ id: 'BTC_USDT', swap: true, linear: true, settle: 'USDT', contractSize: 0.0001 });

    const top = v.top('BTC_USDT');
    const book = await ex.fetchOrderBook(S, 10);
    expect(book.bids[0]).toEqual([Number(top.bid), top.bidSize]);
    expect(book.asks[0]).toEqual([Number(top.ask), top.askSize]);
    expect(book.nonce).toBe(top.u);

    expect((await ex.fetchBalance({ type: 'swap' }))['USDT']).toMatchObject({ free: 100000, used: 0, total: 100000 });
    expect((await ex.setLeverage(10, S))['leverage']).toBe('10');

    // a market buy of 3 contracts takes the best ask (its size is far above 3)
    const buy = await ex.createOrder(S, 'market', 'buy', 3);
    expect(await ex.fetchOrder(buy['id'] as string, S)).toMatchObject({ status: 'closed', filled: 3, remaining: 0, average: Number(top.ask) });
    const pos = await ex.fetchPositions([S]);
    expect(pos).toEqual([expect.objectContaining({ symbol: S, contracts: 3, entryPrice: Number(top.ask), side: 'long' })]);
    expect(v.positions().find((p) => p.symbol === 'BTC_USDT')?.positionAmt).toBe('3');

    // a resting limit bid below the book, listed, then cancelled
    const bid = await ex.createOrder(S, 'limit', 'buy', 1, Number(top.bid) - 50);
    expect(bid).toMatchObject({ status: 'open', price: Number(top.bid) - 50, remaining: 1 });
    expect((await ex.fetchOpenOrders(S)).map((o) => o['id'])).toEqual([bid['id']]);
    expect(await ex.cancelOrder(bid['id'] as string, S)).toMatchObject({ status: 'canceled' });
    expect(await ex.fetchOpenOrders(S)).toEqual([]);

    // a reduce-only stop (Gate price order), listed and cancelled
    const stop = await ex.createOrder(S, 'market', 'sell', 3, undefined, { stopLossPrice: Math.round(Number(top.bid) - 1000), reduceOnly: true });
    const triggers = await ex.fetchOpenOrders(S, undefined, undefined, { trigger: true });
    expect(triggers).toEqual([expect.objectContaining({ id: stop['id'], triggerPrice: Math.round(Number(top.bid) - 1000), status: 'open' })]);
    await ex.cancelOrder(stop['id'] as string, S, { trigger: true });
    expect(await ex.fetchOpenOrders(S, undefined, undefined, { trigger: true })).toEqual([]);

    // the one fill, with its taker fee on the notional (3 contracts x 0.0001 BTC x price x 0.0005)
    const trades = await ex.fetchMyTrades(S);
    expect(trades).toEqual([expect.objectContaining({ side: 'buy', price: Number(top.ask), amount: 3, takerOrMaker: 'taker', order: buy['id'] })]);
    expect((trades[0]!['fee'] as { cost: number }).cost).toBeCloseTo(Number(top.ask) * 3 * 0.0001 * 0.0005, 7); // the venue keeps fees to 8 decimals
    expect(v.fills()).toHaveLength(1);
  });

  it.skipIf(ccxtMod === null)('WebSocket: the order book follows the venue, and our order and fill arrive on the private channels', async () => {
    const v = await startGateVenue({ host: '127.0.0.1', port: 0, seed: 5, rate: 2000 });
    venues.push(v);
    const ex = await client(v, true);
    // ccxt syncs its book from the REST snapshot and the update stream (§2.5) and keeps it in step
    let book = await ex.watchOrderBook(S, 20);
    for (let i = 0; i < 20; i++) book = await ex.watchOrderBook(S, 20);
    const trades = await ex.watchTrades(S);
    expect(trades.length).toBeGreaterThan(0);
    expect(trades[0]).toMatchObject({ symbol: S });
    v.pause();
    // after the pause, the last update ccxt applied is the venue's book: wait for it to catch up, then compare
    const top = v.top('BTC_USDT');
    for (let i = 0; i < 200 && book.nonce !== top.u; i++) book = await Promise.race([ex.watchOrderBook(S, 20), new Promise<CcxtBook>((r) => setTimeout(() => r(book), 20))]);
    expect(book.nonce).toBe(top.u);
    expect(book.bids[0]).toEqual([Number(top.bid), top.bidSize]);
    expect(book.asks[0]).toEqual([Number(top.ask), top.askSize]);

    const orders = ex.watchOrders(S);
    const fills = ex.watchMyTrades(S);
    await new Promise((r) => setTimeout(r, 200)); // both subscriptions acknowledged
    const buy = await ex.createOrder(S, 'market', 'buy', 2);
    const [o, f] = await Promise.all([orders, fills]);
    expect(o).toEqual([expect.objectContaining({ id: buy['id'], status: 'closed', filled: 2 })]);
    expect(f).toEqual([expect.objectContaining({ order: buy['id'], amount: 2, price: Number(top.ask), side: 'buy' })]);
  });
});
