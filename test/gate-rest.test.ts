import { afterEach, describe, expect, it } from 'vitest';
import { startGateVenue, type GateVenueHandle } from '../src/sim/gate/GateVenue.js';
import { GateErrorHandling, GateErrorKind } from '../src/venues/gate/errors.js';
import { GateRestClient } from '../src/venues/gate/RestClient.js';
import { formatPriceTicks, priceTicks } from '../src/venues/gate/contracts.js';

const venues: GateVenueHandle[] = [];
const clients: GateRestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const v of venues.splice(0)) await v.close();
});

async function setup(): Promise<{ v: GateVenueHandle; c: GateRestClient }> {
  const v = await startGateVenue({ host: '127.0.0.1', port: 0, tickIntervalMs: 2, seed: 7, paused: true });
  venues.push(v);
  const c = new GateRestClient({ baseUrl: v.restUrl, apiKey: v.apiKey, apiSecret: v.apiSecret });
  clients.push(c);
  return { v, c };
}

describe('GateRestClient against the simulator (127.0.0.1, ephemeral port)', () => {
  it('reads contracts and a snapshot with its id', async () => {
    const { v, c } = await setup();
    const contracts = await c.contracts();
    expect(contracts.ok && contracts.value.map((k) => k.name)).toEqual(['BTC_USDT', 'ETH_USDT']);
    const book = await c.orderBook('BTC_USDT', 5);
    expect(book.ok).toBe(true);
    if (!book.ok) return;
    expect(book.value.id).toBe(v.top('BTC_USDT').u);
    expect(book.value.bids[0]).toBe(Number(v.top('BTC_USDT').bid));
  });

  it('places (exact id above 2^53, client id), lists, cancels by client id, cancels all, countdown', async () => {
    const { v, c } = await setup();
    const btc = await c.contract('BTC_USDT');
    expect(btc.ok).toBe(true);
    if (!btc.ok) return;
    const bidTicks = priceTicks(btc.value, v.top('BTC_USDT').bid);
    const far = formatPriceTicks(btc.value, Math.floor(bidTicks * 0.9));
    const placed = await c.placeOrder({ contract: 'BTC_USDT', size: 3, price: far, tif: 'gtc', text: 't-rest-1' });
    expect(placed.ok).toBe(true);
    if (!placed.ok) return;
    expect(placed.status).toBe(201);
    expect(placed.value).toMatchObject({ contract: 'BTC_USDT', size: 3, left: 3, status: 'open', text: 't-rest-1', tif: 'gtc' });
    expect(priceTicks(btc.value, placed.value.price)).toBe(Math.floor(bidTicks * 0.9));
    expect(placed.value.id).toMatch(/^\d{17,20}$/);
    expect(BigInt(placed.value.id) > 2n ** 53n).toBe(true);
    const again = await c.getOrder(placed.value.id);
    expect(again.ok && again.value.id).toBe(placed.value.id);
    const second = await c.placeOrder({ contract: 'BTC_USDT', size: -2, price: formatPriceTicks(btc.value, Math.ceil(bidTicks * 1.1)), tif: 'gtc', text: 't-rest-2' });
    expect(second.ok && second.value.size).toBe(-2);
    const open = await c.listOrders('BTC_USDT', 'open');
    expect(open.ok && open.value.map((o) => o.text).sort()).toEqual(['t-rest-1', 't-rest-2']);
    const cancelled = await c.cancelOrder('t-rest-1');
    expect(cancelled.ok && [cancelled.value.id, cancelled.value.status, cancelled.value.finish_as]).toEqual([placed.value.id, 'finished', 'cancelled']);
    const twice = await c.cancelOrder(placed.value.id);
    expect(twice.ok).toBe(false);
    if (!twice.ok) expect([twice.kind, twice.handling]).toEqual([GateErrorKind.OrderFinished, GateErrorHandling.AlreadyClosed]);
    const all = await c.cancelAll('BTC_USDT');
    expect(all.ok && all.value.map((o) => o.text)).toEqual(['t-rest-2']);
    const cd = await c.countdownCancelAll(30, 'BTC_USDT');
    expect(cd.ok && /^\d+$/.test(cd.value.triggerTime)).toBe(true);
    expect((await c.countdownCancelAll(0)).ok).toBe(true);
  });

  it('a marketable order fills and shows in the position; leverage and account', async () => {
    const { c } = await setup();
    const mkt = await c.placeOrder({ contract: 'BTC_USDT', size: 2, price: '0', tif: 'ioc', text: 't-mkt' });
    expect(mkt.ok).toBe(true);
    if (!mkt.ok) return;
    expect([mkt.value.status, mkt.value.left]).toEqual(['finished', 0]);
    const pos = await c.position('BTC_USDT');
    expect(pos.ok && pos.value.size).toBe(2);
    const lev = await c.setLeverage('BTC_USDT', 5);
    expect(lev.ok && lev.value.leverage).toBe('5');
    const positions = await c.positions(true);
    expect(positions.ok && positions.value.map((p) => [p.contract, p.size])).toEqual([['BTC_USDT', 2]]);
    const acc = await c.account();
    expect(acc.ok && acc.value.currency).toBe('USDT');
    const close = await c.placeOrder({ contract: 'BTC_USDT', size: 0, price: '0', tif: 'ioc', close: true });
    expect(close.ok).toBe(true);
    const after = await c.position('BTC_USDT');
    expect(after.ok && after.value.size).toBe(0);
  });

  it('venue errors come back typed: post-only would take, size limits, reduce-only, bad key, bad signature', async () => {
    const { v, c } = await setup();
    const ask = v.top('BTC_USDT').ask;
    const poc = await c.placeOrder({ contract: 'BTC_USDT', size: 1, price: ask, tif: 'poc' });
    expect(poc.ok).toBe(false);
    if (!poc.ok) expect([poc.status, poc.label, poc.kind, poc.handling]).toEqual([400, 'ORDER_POC_IMMEDIATE', GateErrorKind.PocImmediate, GateErrorHandling.Expected]);
    const big = await c.placeOrder({ contract: 'BTC_USDT', size: 100_000_000, price: ask, tif: 'gtc' });
    expect(!big.ok && big.kind).toBe(GateErrorKind.SizeTooLarge);
    const ro = await c.placeOrder({ contract: 'BTC_USDT', size: 1, price: '0', tif: 'ioc', reduceOnly: true });
    expect(!ro.ok && ro.label).toBe('INCREASE_POSITION');
    const local = await c.placeOrder({ contract: 'BTC_USDT', size: 1, price: ask, text: 'no-prefix' });
    expect(!local.ok && [local.kind, local.status]).toEqual([GateErrorKind.LocalInvalid, 0]);
    const wrongKey = new GateRestClient({ baseUrl: v.restUrl, apiKey: 'nope', apiSecret: v.apiSecret });
    clients.push(wrongKey);
    const k = await wrongKey.account();
    expect(!k.ok && [k.status, k.kind, k.handling]).toEqual([401, GateErrorKind.InvalidKey, GateErrorHandling.Halt]);
    const wrongSecret = new GateRestClient({ baseUrl: v.restUrl, apiKey: v.apiKey, apiSecret: 'x'.repeat(64) });
    clients.push(wrongSecret);
    const s = await wrongSecret.account();
    expect(!s.ok && s.kind).toBe(GateErrorKind.InvalidSignature);
    const skewed = new GateRestClient({ baseUrl: v.restUrl, apiKey: v.apiKey, apiSecret: v.apiSecret, clock: () => Date.now() - 120_000 });
    clients.push(skewed);
    const e = await skewed.account();
    expect(!e.ok && [e.kind, e.handling]).toEqual([GateErrorKind.RequestExpired, GateErrorHandling.RetryAfterClockSync]);
  });

  it('a closed port is a definite transport failure', async () => {
    const { v } = await setup();
    const url = v.restUrl;
    await venues.pop()!.close();
    const c = new GateRestClient({ baseUrl: url, apiKey: 'k', apiSecret: 's', timeoutMs: 2000 });
    clients.push(c);
    const r = await c.account();
    expect(!r.ok && [r.kind, r.handling]).toEqual([GateErrorKind.TransportNotSent, GateErrorHandling.Definite]);
  });
});
