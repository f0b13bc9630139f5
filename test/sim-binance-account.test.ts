import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { request, WebSocket } from 'undici';
import { startBinanceVenue, type BinanceVenueHandle, type BinanceVenueOptions } from '../src/sim/binance/BinanceVenue.js';
import { wsApiPayload } from '../src/sim/binance/signing.js';
import { fixtureLines, fixturePath, HAVE_SHARED_FIXTURES } from './helpers/fixtures.js';
import { readFileSync } from 'node:fs';

// ---- helpers --------------------------------------------------------------------------------------------

const venues: BinanceVenueHandle[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) {
    try {
      ws.close();
    } catch {
      /* already closed */
    }
  }
  for (const v of venues.splice(0)) await v.close();
});

/** A venue with a still market (no scheduler flow unless resumed), so books and prices only move when told. */
async function venue(opts: BinanceVenueOptions = {}): Promise<BinanceVenueHandle> {
  const v = await startBinanceVenue({ host: '127.0.0.1', port: 0, rate: 2000, paused: true, ...opts });
  venues.push(v);
  return v;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred: () => boolean, timeoutMs = 4000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting for condition');
    await sleep(5);
  }
}

type Json = Record<string, unknown>;

interface Conn {
  ws: WebSocket;
  frames: string[];
  /** Parsed frames, combined envelopes unwrapped. */
  events(): Json[];
}

async function connect(url: string): Promise<Conn> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const frames: string[] = [];
  ws.addEventListener('message', (e) => frames.push(String(e.data)));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)));
  });
  return {
    ws,
    frames,
    events: () =>
      frames.map((f) => {
        const m = JSON.parse(f) as Json;
        return 'data' in m && 'stream' in m ? (m['data'] as Json) : m;
      }),
  };
}

function hmac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

interface Reply {
  status: number;
  json: unknown;
  obj: Json;
  headers: Record<string, string | string[] | undefined>;
}

/** A REST call: GET/DELETE parameters in the query, POST/PUT in the body; signed unless `key` security. */
async function call(
  v: BinanceVenueHandle,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  params: Record<string, string> = {},
  o: { security?: 'signed' | 'key' | 'none'; apiKey?: string | null } = {},
): Promise<Reply> {
  const security = o.security ?? 'signed';
  const p = new URLSearchParams(params);
  if (security === 'signed') p.set('timestamp', String(Date.now()));
  let payload = p.toString();
  if (security === 'signed') payload += `${payload ? '&' : ''}signature=${hmac(v.apiSecret, payload)}`;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (security !== 'none' && o.apiKey !== null) headers['x-mbx-apikey'] = o.apiKey ?? v.apiKey;
  const inBody = method === 'POST' || method === 'PUT';
  const url = `${v.restUrl}${path}${!inBody && payload ? `?${payload}` : ''}`;
  const r = await request(url, { method, headers, body: inBody ? payload : undefined });
  const json = (await r.body.json()) as unknown;
  return { status: r.statusCode, json, obj: json as Json, headers: r.headers };
}

async function listenKey(v: BinanceVenueHandle): Promise<string> {
  const r = await call(v, 'POST', '/fapi/v1/listenKey', {}, { security: 'key' });
  expect(r.status).toBe(200);
  return r.obj['listenKey'] as string;
}

const o = (e: Json): Json => e['o'] as Json;
/** A BTCUSDT price (tick 0.10) as the venue prints it. */
const btc = (x: number): string => (Math.round(x * 10) / 10).toFixed(2);
const dec = (s: unknown): number => Number(s as string);
/** Exact decimal arithmetic on 8-decimal strings (scaled bigints), for balance checks. */
const u8 = (s: unknown): bigint => {
  const [i, f = ''] = String(s).split('.');
  const neg = i!.startsWith('-');
  const v = BigInt(i!.replace('-', '')) * 10n ** 8n + BigInt((f + '00000000').slice(0, 8));
  return neg ? -v : v;
};

function fixtureJson(rel: string, line: number): Json {
  const raw = JSON.parse(fixtureLines(rel)[line - 1]!) as Json;
  return 'data' in raw && 'stream' in raw ? (raw['data'] as Json) : raw;
}

// ---- listen keys ----------------------------------------------------------------------------------------

describe('sim binance: listen keys', () => {
  it('POST creates or returns and extends the key, PUT keeps it alive, DELETE closes it, -1125 after', async () => {
    const v = await venue();
    const noKey = await call(v, 'POST', '/fapi/v1/listenKey', {}, { security: 'key', apiKey: null });
    expect({ status: noKey.status, code: noKey.obj['code'] }).toEqual({ status: 401, code: -2015 });
    const k1 = await listenKey(v);
    expect(k1).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(await listenKey(v)).toBe(k1);
    const put = await call(v, 'PUT', '/fapi/v1/listenKey', {}, { security: 'key' });
    expect(put.status).toBe(200);
    expect(put.obj).toEqual({ listenKey: k1 });
    expect(put.headers['x-mbx-used-weight-1m']).toBeDefined();
    const wrong = await call(v, 'PUT', '/fapi/v1/listenKey', { listenKey: 'x'.repeat(64) }, { security: 'key' });
    expect({ status: wrong.status, json: wrong.json }).toEqual({ status: 400, json: { code: -1125, msg: 'This listenKey does not exist.' } });
    const del = await call(v, 'DELETE', '/fapi/v1/listenKey', {}, { security: 'key' });
    expect({ status: del.status, json: del.json }).toEqual({ status: 200, json: {} });
    expect((await call(v, 'PUT', '/fapi/v1/listenKey', {}, { security: 'key' })).obj['code']).toBe(-1125);
    expect((await call(v, 'DELETE', '/fapi/v1/listenKey', {}, { security: 'key' })).obj['code']).toBe(-1125);
    const k2 = await listenKey(v);
    expect(k2).not.toBe(k1);
  });

  it('sends listenKeyExpired when the validity runs out without keep-alive, and on expireListenKeys()', async () => {
    const v = await venue({ listenKeyValidityMs: 300 });
    const key = await listenKey(v);
    const c = await connect(`${v.wsUrl}/private/ws?listenKey=${key}`);
    // Kept alive once: it must outlive its first 300 ms.
    await sleep(200);
    expect((await call(v, 'PUT', '/fapi/v1/listenKey', {}, { security: 'key' })).status).toBe(200);
    await sleep(200);
    expect(c.frames).toHaveLength(0);
    await waitFor(() => c.frames.length > 0, 2000);
    const ev = JSON.parse(c.frames[0]!) as Json;
    expect(Object.keys(ev)).toEqual(['e', 'E', 'listenKey']);
    expect(ev['e']).toBe('listenKeyExpired');
    expect(typeof ev['E']).toBe('string'); // as in the venue's example
    expect(Math.abs(Number(ev['E']) - Date.now())).toBeLessThan(2000);
    expect(ev['listenKey']).toBe(key);
    expect((await call(v, 'PUT', '/fapi/v1/listenKey', {}, { security: 'key' })).obj['code']).toBe(-1125);
    // Nothing more on the dead key, even when the account trades.
    await call(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002' });
    await sleep(50);
    expect(c.frames).toHaveLength(1);

    // Control: a long-lived key on the combined private path, expired on demand.
    const v2 = await venue();
    const key2 = await listenKey(v2);
    const c2 = await connect(`${v2.wsUrl}/private/stream?listenKey=${key2}`);
    expect(v2.expireListenKeys()).toBe(1);
    await waitFor(() => c2.frames.length === 1);
    const framed = JSON.parse(c2.frames[0]!) as Json;
    expect(framed['stream']).toBe(key2);
    expect(framed['data']).toMatchObject({ e: 'listenKeyExpired', listenKey: key2 });
    expect(v2.stats().listenKeysExpired).toBe(1);
  });
});

// ---- user data events -----------------------------------------------------------------------------------

describe('sim binance: user data events', () => {
  it('an order fill gives TRADE_LITE, then ORDER_TRADE_UPDATE, then ACCOUNT_UPDATE, with consistent numbers', async () => {
    const v = await venue({ seed: 7 });
    const key = await listenKey(v);
    const c = await connect(`${v.wsUrl}/ws/${key}`);
    const ask = v.top('BTCUSDT').ask;
    const buy = await call(v, 'POST', '/fapi/v1/order', {
      symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002', newOrderRespType: 'RESULT', newClientOrderId: 'acct-buy-1',
    });
    expect(buy.status).toBe(200);
    expect(buy.obj).toMatchObject({ status: 'FILLED', avgPrice: ask, executedQty: '0.002' });
    await waitFor(() => c.frames.length >= 4);
    const evs = c.events();
    expect(evs.map((e) => (e['e'] === 'ORDER_TRADE_UPDATE' ? `OTU:${o(e)['x']}` : e['e']))).toEqual([
      'OTU:NEW',
      'TRADE_LITE',
      'OTU:TRADE',
      'ACCOUNT_UPDATE',
    ]);
    const [nw, tl, fill, au] = evs as [Json, Json, Json, Json];
    expect(o(nw)).toMatchObject({ s: 'BTCUSDT', c: 'acct-buy-1', S: 'BUY', o: 'MARKET', X: 'NEW', l: '0', z: '0', p: '0', ap: '0', t: 0, i: buy.obj['orderId'] });
    expect(o(fill)).toMatchObject({ X: 'FILLED', l: '0.002', z: '0.002', L: ask, N: 'USDT', m: false, rp: '0', R: false, ps: 'BOTH', ot: 'MARKET', er: '0' });
    expect(dec(o(fill)['ap'])).toBe(dec(ask));
    expect((o(fill)['ap'] as string).split('.')[1]).toHaveLength(5); // priceDecimals + 3, as captured
    // Commission: taker 0.05 % of the fill's notional, 8 decimals.
    const fee = (u8(ask) * 2n * 5n) / 10_000n / 1000n;
    expect(u8(o(fill)['n'])).toBe(fee);
    expect(tl).toMatchObject({ s: 'BTCUSDT', q: '0.002', p: '0.00', m: false, c: 'acct-buy-1', S: 'BUY', L: ask, l: '0.002', t: o(fill)['t'], i: buy.obj['orderId'] });
    expect(tl['T']).toBe(fill['T']);
    const a = au['a'] as { m: string; B: Json[]; P: Json[] };
    expect(a.m).toBe('ORDER');
    expect(a.B).toEqual([{ a: 'USDT', wb: expect.any(String), cw: a.B[0]!['wb'], bc: '0' }]);
    expect(u8(a.B[0]!['wb'])).toBe(u8('100000') - fee);
    expect(a.P[0]).toMatchObject({ s: 'BTCUSDT', pa: '0.002', ep: ask.replace(/0+$/, '').replace(/\.$/, ''), cr: '0', mt: 'cross', iw: '0', ps: 'BOTH', ma: 'USDT' });
    // Break-even = entry x (1 + taker fee).
    expect(dec(a.P[0]!['bep'])).toBeCloseTo(dec(ask) * 1.0005, 4);

    // Closing it realizes the PnL; the wallet moves by rp - fees, exactly.
    const bid = v.top('BTCUSDT').bid;
    const sell = await call(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.002', reduceOnly: 'true' });
    expect(sell.status).toBe(200);
    await waitFor(() => c.frames.length >= 8);
    const close = c.events().slice(4);
    const cfill = close.find((e) => e['e'] === 'ORDER_TRADE_UPDATE' && o(e)['x'] === 'TRADE')!;
    const cau = close.find((e) => e['e'] === 'ACCOUNT_UPDATE')!['a'] as { B: Json[]; P: Json[] };
    const rp = u8(bid) * 2n / 1000n - u8(ask) * 2n / 1000n;
    expect(u8(o(cfill)['rp'])).toBe(rp);
    expect(o(cfill)['R']).toBe(true);
    expect(cau.P[0]).toMatchObject({ pa: '0.000', ep: '0', up: '0', bep: '0' });
    expect(u8(cau.P[0]!['cr'])).toBe(rp);
    expect(u8(cau.B[0]!['wb'])).toBe(u8('100000') - fee - u8(o(cfill)['n']) + rp);

    // The venue's trade records agree.
    const trades = (await call(v, 'GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT' })).json as Json[];
    expect(trades.map((t) => [t['side'], t['price'], t['commission'], t['realizedPnl']])).toEqual([
      ['BUY', ask, o(fill)['n'], '0.00000000'],
      ['SELL', bid, o(cfill)['n'], o(cfill)['rp']],
    ]);
  });

  it('frames carry the keys of real frames, in order', async () => {
    if (!HAVE_SHARED_FIXTURES) return;
    const v = await venue();
    const key = await listenKey(v);
    const c = await connect(`${v.wsUrl}/ws/${key}`);
    await call(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002' });
    await waitFor(() => c.frames.length >= 4);
    const [, tl, fill, au] = c.events() as [Json, Json, Json, Json];
    const realOtu = fixtureJson('binance-usdm/orderTradeUpdate.jsonl', 9);
    expect(Object.keys(fill)).toEqual(Object.keys(realOtu));
    // The 2025 `er` field comes after the fields of the 2024 capture.
    expect(Object.keys(o(fill))).toEqual([...Object.keys(o(realOtu)), 'er']);
    expect(Object.keys(tl)).toEqual(Object.keys(fixtureJson('binance-usdm/tradeLite.jsonl', 1)));
    const realAu = fixtureJson('binance-usdm/accountUpdate.jsonl', 4);
    expect(Object.keys(au)).toEqual(Object.keys(realAu));
    const ra = realAu['a'] as { B: Json[]; P: Json[] };
    const a = au['a'] as { B: Json[]; P: Json[] };
    expect(Object.keys(au['a'] as Json)).toEqual(Object.keys(realAu['a'] as Json));
    expect(Object.keys(a.B[0]!)).toEqual(Object.keys(ra.B[0]!));
    expect(Object.keys(a.P[0]!)).toEqual(Object.keys(ra.P[0]!));
    // Types as in the real frames.
    for (const [k, val] of Object.entries(o(realOtu))) expect([k, typeof o(fill)[k]]).toEqual([k, typeof val]);
    for (const [k, val] of Object.entries(fixtureJson('binance-usdm/tradeLite.jsonl', 1))) expect([k, typeof tl[k]]).toEqual([k, typeof val]);
  });

  it('filters events on /private/ws, wraps them on /private/stream and /stream, and sends resting/cancel updates', async () => {
    const v = await venue();
    const key = await listenKey(v);
    const onlyAcc = await connect(`${v.wsUrl}/private/ws?listenKey=${key}&events=ACCOUNT_UPDATE`);
    const wrapped = await connect(`${v.wsUrl}/private/stream?listenKey=${key}&events=ORDER_TRADE_UPDATE/TRADE_LITE`);
    const legacy = await connect(`${v.wsUrl}/stream?streams=${key}`);
    // A listen key can also be SUBSCRIBEd like a stream on the legacy root.
    const sub = await connect(`${v.wsUrl}/ws`);
    sub.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: [key, 'btcusdt@markPrice'], id: 1 }));
    await waitFor(() => sub.frames.length === 1);
    expect(JSON.parse(sub.frames[0]!)).toEqual({ result: null, id: 1 });
    sub.ws.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 2 }));
    await waitFor(() => sub.frames.length === 2);
    expect(JSON.parse(sub.frames[1]!)).toEqual({ result: ['btcusdt@markPrice', key], id: 2 });
    const below = (dec(v.top('BTCUSDT').bid) - 100).toFixed(2);
    const rest = await call(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.002', price: below });
    await call(v, 'DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(rest.obj['orderId']) });
    await call(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002' });
    await waitFor(() => legacy.frames.length >= 6);
    await sleep(30);
    expect(legacy.events().map((e) => (e['e'] === 'ORDER_TRADE_UPDATE' ? `${o(e)['x']}/${o(e)['X']}` : e['e']))).toEqual([
      'NEW/NEW', 'CANCELED/CANCELED', 'NEW/NEW', 'TRADE_LITE', 'TRADE/FILLED', 'ACCOUNT_UPDATE',
    ]);
    // A resting order shows in the open-order notional `b`, and no account update is sent for it.
    const resting = o(legacy.events()[0]!);
    expect(dec(resting['b'])).toBeCloseTo(dec(below) * 0.002, 6);
    expect(onlyAcc.events().map((e) => e['e'])).toEqual(['ACCOUNT_UPDATE']);
    expect(wrapped.events().map((e) => e['e'])).toEqual(['ORDER_TRADE_UPDATE', 'ORDER_TRADE_UPDATE', 'ORDER_TRADE_UPDATE', 'TRADE_LITE', 'ORDER_TRADE_UPDATE']);
    for (const f of [...wrapped.frames, ...legacy.frames]) expect(JSON.parse(f)).toMatchObject({ stream: key });
    expect(JSON.parse(onlyAcc.frames[0]!)).toHaveProperty('e', 'ACCOUNT_UPDATE');
    await waitFor(() => sub.frames.length >= 8);
    expect(sub.events().slice(2).map((e) => e['e'])).toEqual(legacy.events().map((e) => e['e']));
  });

  it('a resting order the market crosses fills as maker at its price, with the maker fee', async () => {
    const v = await venue({ seed: 3, paused: false, rate: 4000 });
    const key = await listenKey(v);
    const c = await connect(`${v.wsUrl}/ws/${key}`);
    const md = await connect(`${v.wsUrl}/ws/btcusdt@bookTicker`);
    await waitFor(() => md.frames.length > 5);
    v.pause();
    const bid = v.top('BTCUSDT').bid;
    const r = await call(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: bid });
    expect(r.obj['status']).toBe('NEW');
    v.resume();
    await waitFor(() => c.events().some((e) => e['e'] === 'ORDER_TRADE_UPDATE' && o(e)['X'] === 'FILLED'), 15_000);
    const fills = c.events().filter((e) => e['e'] === 'ORDER_TRADE_UPDATE' && o(e)['x'] === 'TRADE');
    let sum = 0n;
    for (const f of fills) {
      expect(o(f)).toMatchObject({ m: true, L: bid, f: 'GTX' });
      // Maker: 0.02 % of the fill's notional.
      expect(u8(o(f)['n'])).toBe((u8(bid) * u8(o(f)['l'])) / 10n ** 8n / 5000n);
      sum += u8(o(f)['l']);
    }
    expect(sum).toBe(u8('0.010'));
    const q = await call(v, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(r.obj['orderId']) });
    expect(q.obj).toMatchObject({ status: 'FILLED', executedQty: '0.010', avgPrice: bid });
  });
});

// ---- account REST ---------------------------------------------------------------------------------------

describe('sim binance: account REST', () => {
  it('positionRisk v2/v3, account v2/v3 and balance v2/v3 reflect fills, mark price and leverage', async () => {
    const v = await venue({ seed: 11, initialBalance: '200' });
    const lev = await call(v, 'POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: '10' });
    expect(lev.obj).toEqual({ leverage: 10, maxNotionalValue: expect.any(String), symbol: 'BTCUSDT' });
    expect(Object.keys(lev.obj)).toEqual(['leverage', 'maxNotionalValue', 'symbol']);
    for (const bad of ['0', '126']) {
      const r = await call(v, 'POST', '/fapi/v1/leverage', { symbol: 'BTCUSDT', leverage: bad });
      expect(r.obj).toEqual({ code: -4028, msg: `Leverage ${bad} is not valid` });
    }
    const ask = v.top('BTCUSDT').ask;
    const buy = await call(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010', newOrderRespType: 'RESULT' });
    expect(buy.obj['status']).toBe('FILLED');
    const fee = (u8(ask) * 10n * 5n) / 10_000n / 1000n;
    v.setMarkPrice('BTCUSDT', (dec(ask) + 50).toFixed(2));
    const mark = v.markPrice('BTCUSDT');
    const up = (u8(mark) - u8(ask)) / 100n; // 0.010 x (mark - entry)

    const v3 = await call(v, 'GET', '/fapi/v3/positionRisk');
    expect(v3.headers['x-mbx-used-weight-1m']).toBeDefined();
    const p3 = v3.json as Json[];
    expect(p3).toHaveLength(1); // only symbols with a position or open orders
    expect(p3[0]).toMatchObject({ symbol: 'BTCUSDT', positionSide: 'BOTH', positionAmt: '0.010', markPrice: mark, marginAsset: 'USDT', adl: 2 });
    expect(dec(p3[0]!['entryPrice'])).toBe(dec(ask));
    expect(u8(p3[0]!['unRealizedProfit'])).toBe(up);
    expect(u8(p3[0]!['notional'])).toBe(u8(mark) / 100n);
    expect(u8(p3[0]!['positionInitialMargin'])).toBe(u8(mark) / 100n / 10n);
    expect(typeof p3[0]!['updateTime']).toBe('number');
    // Long, cross: liquidation price below entry.
    expect(dec(p3[0]!['liquidationPrice'])).toBeGreaterThan(0);
    expect(dec(p3[0]!['liquidationPrice'])).toBeLessThan(dec(ask));
    if (HAVE_SHARED_FIXTURES) {
      const real = JSON.parse(readFileSync(fixturePath('binance-usdm/positionRisk_v3.json'), 'utf8')) as Json[];
      expect(Object.keys(p3[0]!)).toEqual(Object.keys(real[0]!));
    }
    const p2 = (await call(v, 'GET', '/fapi/v2/positionRisk')).json as Json[];
    expect(p2.map((p) => p['symbol'])).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(p2[0]).toMatchObject({ positionAmt: '0.010', leverage: '10', marginType: 'cross', isAutoAddMargin: 'false', markPrice: mark });
    expect(p2[1]).toMatchObject({ positionAmt: '0.000', leverage: '20', entryPrice: '0', unRealizedProfit: '0.00000000' });

    const wallet = u8('200') - fee;
    const a2 = (await call(v, 'GET', '/fapi/v2/account')).obj;
    expect(u8(a2['totalWalletBalance'])).toBe(wallet);
    expect(u8(a2['totalUnrealizedProfit'])).toBe(up);
    expect(u8(a2['totalMarginBalance'])).toBe(wallet + up);
    expect(u8(a2['availableBalance'])).toBe(wallet + up - u8(p3[0]!['positionInitialMargin']));
    expect((a2['positions'] as Json[]).length).toBe(2);
    if (HAVE_SHARED_FIXTURES) {
      const real = JSON.parse(readFileSync(fixturePath('binance-usdm/account_v2.json'), 'utf8')) as Json;
      expect(Object.keys(a2)).toEqual(Object.keys(real));
      expect(Object.keys((a2['assets'] as Json[])[0]!)).toEqual(Object.keys((real['assets'] as Json[])[0]!));
    }
    const a3 = (await call(v, 'GET', '/fapi/v3/account')).obj;
    expect(a3).not.toHaveProperty('feeTier');
    expect((a3['positions'] as Json[]).map((p) => p['symbol'])).toEqual(['BTCUSDT']);
    for (const path of ['/fapi/v2/balance', '/fapi/v3/balance']) {
      const b = (await call(v, 'GET', path)).json as Json[];
      expect(b).toHaveLength(1);
      expect(Object.keys(b[0]!)).toEqual([
        'accountAlias', 'asset', 'balance', 'crossWalletBalance', 'crossUnPnl', 'availableBalance', 'maxWithdrawAmount', 'marginAvailable', 'updateTime',
      ]);
      expect(u8(b[0]!['balance'])).toBe(wallet);
      expect(b[0]!['availableBalance']).toBe(a2['availableBalance']);
    }
  });

  it('GET /fapi/v1/order finds open and closed orders by id or client id; batch cancel reports per item', async () => {
    const v = await venue();
    const m = await call(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002', newClientOrderId: 'lost-1' });
    expect(m.obj['status']).toBe('NEW'); // ACK
    const byCid = await call(v, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'lost-1' });
    expect(byCid.obj).toMatchObject({ orderId: m.obj['orderId'], status: 'FILLED', executedQty: '0.002', clientOrderId: 'lost-1' });
    expect(Object.keys(byCid.obj)).not.toContain('cumQty');
    expect(Object.keys(byCid.obj).slice(-2)).toEqual(['time', 'updateTime']);
    const byId = await call(v, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(m.obj['orderId']) });
    expect(byId.json).toEqual(byCid.json);
    const unknown = await call(v, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'never-sent' });
    expect({ status: unknown.status, json: unknown.json }).toEqual({ status: 400, json: { code: -2013, msg: 'Order does not exist.' } });

    const px = (dec(v.top('BTCUSDT').bid) - 200).toFixed(2);
    const ids: number[] = [];
    for (const cid of ['b-1', 'b-2']) {
      const r = await call(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.002', price: px, newClientOrderId: cid });
      ids.push(r.obj['orderId'] as number);
    }
    const open = await call(v, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'b-2' });
    expect(open.obj['status']).toBe('NEW');
    const batch = await call(v, 'DELETE', '/fapi/v1/batchOrders', { symbol: 'BTCUSDT', orderIdList: JSON.stringify([...ids, 12345]) });
    const items = batch.json as Json[];
    expect(items.map((i) => i['status'] ?? i['code'])).toEqual(['CANCELED', 'CANCELED', -2011]);
    expect((await call(v, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'b-1' })).obj['status']).toBe('CANCELED');
  });

  it('countdownCancelAll cancels the symbol\'s open orders when not renewed; 0 stops it', async () => {
    const v = await venue();
    const key = await listenKey(v);
    const c = await connect(`${v.wsUrl}/ws/${key}`);
    const px = (dec(v.top('BTCUSDT').bid) - 200).toFixed(2);
    const ethPx = (dec(v.top('ETHUSDT').bid) - 20).toFixed(2);
    const place = (symbol: string, price: string): Promise<Reply> =>
      call(v, 'POST', '/fapi/v1/order', { symbol, side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price });
    await place('BTCUSDT', px);
    await place('BTCUSDT', px);
    await place('ETHUSDT', ethPx);
    const cd = await call(v, 'POST', '/fapi/v1/countdownCancelAll', { symbol: 'BTCUSDT', countdownTime: '300' });
    expect(cd.json).toEqual({ symbol: 'BTCUSDT', countdownTime: '300' });
    expect(Object.keys(cd.obj)).toEqual(['symbol', 'countdownTime']);
    // Renewed before it elapses: the deadline moves.
    await sleep(200);
    await call(v, 'POST', '/fapi/v1/countdownCancelAll', { symbol: 'BTCUSDT', countdownTime: '300' });
    await sleep(200);
    expect(((await call(v, 'GET', '/fapi/v1/openOrders', { symbol: 'BTCUSDT' })).json as Json[]).length).toBe(2);
    await sleep(250);
    expect(((await call(v, 'GET', '/fapi/v1/openOrders', { symbol: 'BTCUSDT' })).json as Json[]).length).toBe(0);
    expect(((await call(v, 'GET', '/fapi/v1/openOrders', { symbol: 'ETHUSDT' })).json as Json[]).length).toBe(1);
    await waitFor(() => c.events().filter((e) => e['e'] === 'ORDER_TRADE_UPDATE' && o(e)['x'] === 'CANCELED').length === 2);

    // 0 stops the countdown.
    await place('BTCUSDT', px);
    await call(v, 'POST', '/fapi/v1/countdownCancelAll', { symbol: 'BTCUSDT', countdownTime: '150' });
    const stop = await call(v, 'POST', '/fapi/v1/countdownCancelAll', { symbol: 'BTCUSDT', countdownTime: '0' });
    expect(stop.json).toEqual({ symbol: 'BTCUSDT', countdownTime: '0' });
    await sleep(300);
    expect(((await call(v, 'GET', '/fapi/v1/openOrders', { symbol: 'BTCUSDT' })).json as Json[]).length).toBe(1);
  });

  it('rejects with the venue error codes', async () => {
    const v = await venue({
      initialBalance: '500',
      symbols: ['BTCUSDT', 'ETHUSDT', { symbol: 'THINUSDT', baseAsset: 'THIN', quoteAsset: 'USDT', tickSize: '0.01', stepSize: '5', minPrice: '0.01', maxPrice: '10000', minQty: '5', maxQty: '100000', minNotional: '5', initialPrice: '10', typicalLevelQty: '5' }],
    });
    const err = async (params: Record<string, string>, code: number, path = '/fapi/v1/order'): Promise<Json> => {
      const r = await call(v, 'POST', path, params);
      expect({ code: r.obj['code'], status: r.status }).toEqual({ code, status: 400 });
      expect(r.headers['x-mbx-used-weight-1m']).toBeDefined();
      return r.obj;
    };
    const top = v.top('BTCUSDT');
    const mkt = { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET' };
    const lim = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC' };
    // Margin: 500 USDT x 20 = 10000 of notional at most.
    expect(await err({ ...mkt, quantity: '0.200' }, -2019)).toEqual({ code: -2019, msg: 'Margin is insufficient.' });
    expect(await err({ ...mkt, side: 'SELL', quantity: '0.002', reduceOnly: 'true' }, -2022)).toEqual({ code: -2022, msg: 'ReduceOnly Order is rejected.' });
    await err({ ...lim, quantity: '0.002', price: top.ask, timeInForce: 'GTX' }, -5022);
    await err({ symbol: 'THINUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'FOK', quantity: '100', price: v.top('THINUSDT').ask }, -5021);
    await err({ ...lim, quantity: '0.001', price: '1000.00' }, -4164);
    await err({ ...lim, quantity: '0.0015', price: '1000.00' }, -1111);
    await err({ ...lim, quantity: '0.002', price: '90000.05' }, -4014);
    await err({ symbol: 'THINUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '1.5', price: '9.00' }, -1111);
    await err({ symbol: 'THINUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '7', price: '9.00' }, -4023);
    await err({ ...mkt, type: 'STOP_MARKET', quantity: '0.002', stopPrice: '1.00' }, -4120);
    const below = (dec(top.bid) - 100).toFixed(2);
    const ok = await call(v, 'POST', '/fapi/v1/order', { ...lim, quantity: '0.002', price: below, newClientOrderId: 'dup' });
    expect(ok.status).toBe(200);
    expect(await err({ ...lim, quantity: '0.002', price: below, newClientOrderId: 'dup' }, -4116)).toEqual({ code: -4116, msg: 'ClientOrderId is duplicated.' });
    // Once closed, the client id is free again.
    await call(v, 'DELETE', '/fapi/v1/order', { symbol: 'BTCUSDT', origClientOrderId: 'dup' });
    expect((await call(v, 'POST', '/fapi/v1/order', { ...lim, quantity: '0.002', price: below, newClientOrderId: 'dup' })).status).toBe(200);
  });

  it('enforced limits: 429 with -1003 / -1015 and Retry-After, then a 418 ban; exchangeInfo reports the limits', async () => {
    const v = await venue({ enforceRateLimits: true, rateLimits: { weight1m: 45, orders10s: 2 } });
    const info = (await call(v, 'GET', '/fapi/v1/exchangeInfo', {}, { security: 'none' })).obj;
    expect(info['rateLimits']).toEqual([
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 45 },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 2 },
    ]);
    const order = { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002' };
    for (let i = 1; i <= 2; i++) {
      const r = await call(v, 'POST', '/fapi/v1/order', order);
      expect(r.status).toBe(200);
      expect(r.headers['x-mbx-order-count-10s']).toBe(String(i));
      expect(r.headers['x-mbx-order-count-1m']).toBe(String(i));
    }
    const third = await call(v, 'POST', '/fapi/v1/order', order);
    expect({ status: third.status, code: third.obj['code'] }).toEqual({ status: 429, code: -1015 });
    expect(third.headers['x-mbx-order-count-10s']).toBe('3');
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    expect(v.fills()).toHaveLength(2);

    const depth = (): Promise<Reply> => call(v, 'GET', '/fapi/v1/depth', { symbol: 'BTCUSDT', limit: '1000' }, { security: 'none' });
    expect((await depth()).status).toBe(200); // 1 + 20 weight
    const d2 = await depth();
    expect(d2.status).toBe(200);
    const d3 = await depth(); // 61 > 45: refused
    expect({ status: d3.status, code: d3.obj['code'] }).toEqual({ status: 429, code: -1003 });
    expect(Number(d3.headers['retry-after'])).toBeGreaterThan(0);
    expect(d3.headers['x-mbx-used-weight-1m']).toBe('61');
    // Hammering on: after repeated 429s the IP is banned (418) with a Retry-After of about 2 minutes.
    let last: Reply = d3;
    for (let i = 0; i < 5 && last.status !== 418; i++) last = await depth();
    expect(last.status).toBe(418);
    expect(last.obj['code']).toBe(-1003);
    expect(last.obj['msg']).toMatch(/banned until \d+/);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(100);
    expect((await call(v, 'GET', '/fapi/v1/time', {}, { security: 'none' })).status).toBe(418);
    expect(v.stats().rateLimited).toBeGreaterThanOrEqual(4);
  });
});

// ---- algo orders ----------------------------------------------------------------------------------------

describe('sim binance: algo (conditional) orders', () => {
  it('STOP_MARKET on mark price: -2021 when it would trigger, ALGO_UPDATE lifecycle and a fill on trigger', async () => {
    const v = await venue({ seed: 5 });
    const key = await listenKey(v);
    const c = await connect(`${v.wsUrl}/ws/${key}`);
    const mark = dec(v.markPrice('BTCUSDT'));
    const base = { algoType: 'CONDITIONAL', symbol: 'BTCUSDT', side: 'BUY', type: 'STOP_MARKET', quantity: '0.002', workingType: 'MARK_PRICE' };
    const now = await call(v, 'POST', '/fapi/v1/algoOrder', { ...base, triggerPrice: btc(mark - 10) });
    expect(now.json).toEqual({ code: -2021, msg: 'Order would immediately trigger.' });
    const trig = btc(mark + 20);
    const placed = await call(v, 'POST', '/fapi/v1/algoOrder', { ...base, triggerPrice: trig, clientAlgoId: 'stop-1' });
    expect(placed.status).toBe(200);
    expect(placed.headers['x-mbx-order-count-10s']).toBeDefined();
    expect(placed.obj).toMatchObject({
      clientAlgoId: 'stop-1', algoType: 'CONDITIONAL', orderType: 'STOP_MARKET', symbol: 'BTCUSDT', side: 'BUY', quantity: '0.002',
      algoStatus: 'NEW', triggerPrice: trig, workingType: 'MARK_PRICE', reduceOnly: false, closePosition: false, triggerTime: 0,
    });
    if (HAVE_SHARED_FIXTURES) {
      // Every key of the docs-derived response exists (the triggered-only ones once triggered).
      const real = Object.keys(JSON.parse(fixtureLines('binance-usdm/rest_responses.jsonl')[9]!) as Json);
      for (const k of real.filter((k) => !k.startsWith('actual'))) expect(placed.obj).toHaveProperty(k);
    }
    const algoId = placed.obj['algoId'] as number;
    const open = (await call(v, 'GET', '/fapi/v1/openAlgoOrders', { symbol: 'BTCUSDT' })).json as Json[];
    expect(open.map((a) => a['algoId'])).toEqual([algoId]);
    await waitFor(() => c.frames.length === 1);
    expect(o(c.events()[0]!)).toMatchObject({ caid: 'stop-1', aid: algoId, at: 'CONDITIONAL', o: 'STOP_MARKET', X: 'NEW', ai: '', tp: trig.replace(/0+$/, '').replace(/\.$/, ''), wt: 'MARK_PRICE' });
    if (HAVE_SHARED_FIXTURES) {
      const real = fixtureJson('binance-usdm/userDataOther.jsonl', 3);
      expect(Object.keys(c.events()[0]!)).toEqual(Object.keys(real));
      expect(Object.keys(o(c.events()[0]!))).toEqual(Object.keys(o(real)).filter((k) => k !== 'rm'));
    }

    // Mark below the trigger: nothing; at/above it: TRIGGERING, TRIGGERED (with the order id), the fill, FINISHED.
    v.setMarkPrice('BTCUSDT', btc(mark + 19));
    await sleep(30);
    expect(c.frames).toHaveLength(1);
    const ask = v.top('BTCUSDT').ask;
    v.setMarkPrice('BTCUSDT', trig);
    await waitFor(() => c.events().some((e) => e['e'] === 'ALGO_UPDATE' && o(e)['X'] === 'FINISHED'));
    const seq = c.events().slice(1).map((e) => (e['e'] === 'ALGO_UPDATE' ? `ALGO:${o(e)['X']}` : e['e'] === 'ORDER_TRADE_UPDATE' ? `OTU:${o(e)['x']}` : e['e']));
    expect(seq).toEqual(['ALGO:TRIGGERING', 'ALGO:TRIGGERED', 'OTU:NEW', 'TRADE_LITE', 'OTU:TRADE', 'ACCOUNT_UPDATE', 'ALGO:FINISHED']);
    const evs = c.events();
    const triggered = o(evs[2]!);
    const otuNew = o(evs[3]!);
    expect(triggered['ai']).toBe(String(otuNew['i']));
    expect(otuNew).toMatchObject({ o: 'MARKET', ot: 'STOP_MARKET', sp: trig, wt: 'MARK_PRICE', c: 'stop-1', q: '0.002' });
    const finished = o(evs[7]!);
    expect(finished).toMatchObject({ act: 'MARKET', aq: '0.002000', ai: String(otuNew['i']) });
    expect(dec(finished['ap'])).toBe(dec(ask));
    expect(finished['tt']).toBeGreaterThan(0);
    const q = (await call(v, 'GET', '/fapi/v1/algoOrder', { algoId: String(algoId) })).obj;
    expect(q).toMatchObject({ algoStatus: 'FINISHED', actualOrderId: String(otuNew['i']), actualPrice: ask });
    expect(((await call(v, 'GET', '/fapi/v1/openAlgoOrders')).json as Json[]).length).toBe(0);
    expect((await call(v, 'GET', '/fapi/v3/positionRisk')).json).toEqual([expect.objectContaining({ positionAmt: '0.002' })]);
    expect((await call(v, 'GET', '/fapi/v1/order', { symbol: 'BTCUSDT', orderId: String(otuNew['i']) })).obj).toMatchObject({
      status: 'FILLED', type: 'MARKET', origType: 'STOP_MARKET', stopPrice: trig, workingType: 'MARK_PRICE',
    });
  });

  it('cancel one / all, closePosition, a trailing stop, and a CONTRACT_PRICE trigger fired by a trade', async () => {
    const v = await venue({ seed: 9 });
    const key = await listenKey(v);
    const c = await connect(`${v.wsUrl}/ws/${key}`);
    const mark = dec(v.markPrice('BTCUSDT'));
    const tp = { algoType: 'CONDITIONAL', symbol: 'BTCUSDT', side: 'SELL', type: 'TAKE_PROFIT_MARKET', workingType: 'MARK_PRICE' };
    const a1 = await call(v, 'POST', '/fapi/v1/algoOrder', { ...tp, quantity: '0.002', triggerPrice: btc(mark + 100), clientAlgoId: 'tp-1' });
    const a2 = await call(v, 'POST', '/fapi/v1/algoOrder', { ...tp, quantity: '0.002', triggerPrice: btc(mark + 200) });
    const a3 = await call(v, 'POST', '/fapi/v1/algoOrder', { ...tp, quantity: '0.002', triggerPrice: btc(mark + 300) });
    const cancel = await call(v, 'DELETE', '/fapi/v1/algoOrder', { algoId: String(a1.obj['algoId']) });
    expect(cancel.json).toEqual({ algoId: a1.obj['algoId'], clientAlgoId: 'tp-1', code: '200', msg: 'success' });
    expect((await call(v, 'DELETE', '/fapi/v1/algoOrder', { clientAlgoId: 'tp-1' })).obj['code']).toBe(-2011);
    const all = await call(v, 'DELETE', '/fapi/v1/algoOpenOrders', { symbol: 'BTCUSDT' });
    expect(all.json).toEqual({ code: 200, msg: 'The operation of cancel all open order is done.' });
    for (const a of [a2, a3]) expect((await call(v, 'GET', '/fapi/v1/algoOrder', { algoId: String(a.obj['algoId']) })).obj['algoStatus']).toBe('CANCELED');
    await waitFor(() => c.events().filter((e) => o(e)['X'] === 'CANCELED').length === 3);

    // A long position, protected by a closePosition TAKE_PROFIT and a trailing stop (1 % callback).
    await call(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.004' });
    const tpClose = await call(v, 'POST', '/fapi/v1/algoOrder', { ...tp, closePosition: 'true', triggerPrice: btc(mark * 1.05) });
    expect(tpClose.obj).toMatchObject({ closePosition: true, quantity: '0.000' });
    const trail = await call(v, 'POST', '/fapi/v1/algoOrder', {
      algoType: 'CONDITIONAL', symbol: 'BTCUSDT', side: 'SELL', type: 'TRAILING_STOP_MARKET', workingType: 'MARK_PRICE', quantity: '0.002', callbackRate: '1', reduceOnly: 'true',
    });
    expect(trail.obj).toMatchObject({ orderType: 'TRAILING_STOP_MARKET', callbackRate: '1.0', activatePrice: '0' });
    const pos = async (): Promise<string> => ((await call(v, 'GET', '/fapi/v3/positionRisk')).json as Json[])[0]?.['positionAmt'] as string;
    v.setMarkPrice('BTCUSDT', (mark * 1.02).toFixed(2)); // new high
    v.setMarkPrice('BTCUSDT', (mark * 1.02 * 0.995).toFixed(2)); // 0.5 % off the high: holds
    expect(await pos()).toBe('0.004');
    v.setMarkPrice('BTCUSDT', (mark * 1.02 * 0.989).toFixed(2)); // 1.1 % off: fires
    expect(await pos()).toBe('0.002');
    expect((await call(v, 'GET', '/fapi/v1/algoOrder', { algoId: String(trail.obj['algoId']) })).obj['algoStatus']).toBe('FINISHED');
    v.setMarkPrice('BTCUSDT', (mark * 1.06).toFixed(2)); // take profit: closes what is left
    expect(await pos()).toBeUndefined();
    const closeFill = c.events().filter((e) => e['e'] === 'ORDER_TRADE_UPDATE' && o(e)['x'] === 'TRADE').pop()!;
    expect(o(closeFill)).toMatchObject({ S: 'SELL', R: true, cp: true, ot: 'TAKE_PROFIT_MARKET', z: '0.002' });

    // CONTRACT_PRICE: last trade price. Our own market buy sweeps up through the trigger.
    v.setMarkPrice('BTCUSDT', null);
    const levels = (await call(v, 'GET', '/fapi/v1/depth', { symbol: 'BTCUSDT', limit: '5' }, { security: 'none' })).obj['asks'] as string[][];
    const stop = await call(v, 'POST', '/fapi/v1/algoOrder', {
      algoType: 'CONDITIONAL', symbol: 'BTCUSDT', side: 'BUY', type: 'STOP_MARKET', quantity: '0.002', triggerPrice: levels[1]![0]!,
    });
    expect(stop.obj['workingType']).toBe('CONTRACT_PRICE');
    const sweep = levels.slice(0, 2).reduce((s, l) => s + dec(l[1]), 0);
    await call(v, 'POST', '/fapi/v1/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: sweep.toFixed(3) });
    expect((await call(v, 'GET', '/fapi/v1/algoOrder', { algoId: String(stop.obj['algoId']) })).obj['algoStatus']).toBe('FINISHED');
  });
});

// ---- WebSocket API --------------------------------------------------------------------------------------

describe('sim binance: WebSocket API', () => {
  it('signed order.place / order.status / algoOrder / account.* and userDataStream.*, errors in the envelope', async () => {
    const v = await venue();
    const c = await connect(v.wsApiUrl);
    let n = 0;
    const send = async (method: string, params: Record<string, unknown>, sign: 'ok' | 'bad' | 'none' = 'ok'): Promise<Json> => {
      const id = `r${++n}`;
      const p: Record<string, unknown> = { apiKey: v.apiKey, ...params };
      if (sign !== 'none') {
        p['timestamp'] = Date.now();
        const sig = hmac(v.apiSecret, wsApiPayload(p));
        p['signature'] = sign === 'bad' ? sig.replace(/^./, (ch) => (ch === '0' ? '1' : '0')) : sig;
      }
      const from = c.frames.length;
      c.ws.send(JSON.stringify({ id, method, params: p }));
      await waitFor(() => c.frames.length > from);
      const r = JSON.parse(c.frames[from]!) as Json;
      expect(r['id']).toBe(id);
      return r;
    };
    const placed = await send('order.place', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002', newClientOrderId: 'ws-1' });
    expect(placed).toMatchObject({ status: 200, result: { clientOrderId: 'ws-1', status: 'NEW' } });
    expect(placed['rateLimits']).toEqual([
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400, count: expect.any(Number) },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300, count: 1 },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200, count: 1 },
    ]);
    const bad = await send('order.place', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002' }, 'bad');
    expect(bad).toMatchObject({ status: 400, error: { code: -1022, msg: 'Signature for this request is not valid.' } });
    expect(Object.keys(bad)).toEqual(['id', 'status', 'error', 'rateLimits']);
    const unsigned = await send('order.status', { symbol: 'BTCUSDT', origClientOrderId: 'ws-1' }, 'none');
    expect(unsigned['error']).toMatchObject({ code: -1102 });
    const st = await send('order.status', { symbol: 'BTCUSDT', origClientOrderId: 'ws-1' });
    expect(st['result']).toMatchObject({ status: 'FILLED', executedQty: '0.002' });
    expect((await send('order.status', { symbol: 'BTCUSDT', orderId: 1 }))['error']).toEqual({ code: -2013, msg: 'Order does not exist.' });

    const mark = dec(v.markPrice('BTCUSDT'));
    const algo = await send('algoOrder.place', {
      algoType: 'CONDITIONAL', symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET', quantity: '0.002', triggerPrice: btc(mark - 500), workingType: 'MARK_PRICE', reduceOnly: 'true',
    });
    expect(algo['result']).toMatchObject({ algoStatus: 'NEW', orderType: 'STOP_MARKET' });
    const algoId = (algo['result'] as Json)['algoId'];
    expect((await send('algoOrder.cancel', { algoId }))['result']).toMatchObject({ algoId, code: '200', msg: 'success' });
    expect((await send('algoOrder.cancel', { algoId }))['error']).toMatchObject({ code: -2011 });

    const bal = await send('account.balance', {});
    const restBal = (await call(v, 'GET', '/fapi/v2/balance')).json;
    expect(bal['result']).toEqual(restBal);
    const stat = await send('account.status', {});
    expect(stat['result']).toMatchObject({ canTrade: true, totalWalletBalance: (restBal as Json[])[0]!['balance'] });
    expect(((await send('v2/account.status', {}))['result'] as Json)['positions']).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', positionAmt: '0.002' })]);
    expect((await send('v2/account.position', {}))['result']).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', positionAmt: '0.002' })]);

    // USER_STREAM: API key only. The same key as REST's.
    const started = await send('userDataStream.start', {}, 'none');
    const restKey = await listenKey(v);
    expect(started['result']).toEqual({ listenKey: restKey });
    expect((await send('userDataStream.ping', { listenKey: restKey }, 'none'))['result']).toEqual({ listenKey: restKey });
    expect((await send('userDataStream.stop', { listenKey: restKey }, 'none'))['result']).toEqual({});
    expect((await send('userDataStream.ping', { listenKey: restKey }, 'none'))['error']).toEqual({ code: -1125, msg: 'This listenKey does not exist.' });
    expect((await send('nope.nothing', {}, 'none'))['status']).toBe(400);

    const quiet = await connect(`${v.wsApiUrl}?returnRateLimits=false`);
    quiet.ws.send(JSON.stringify({ id: 1, method: 'time', params: {} }));
    await waitFor(() => quiet.frames.length === 1);
    expect(Object.keys(JSON.parse(quiet.frames[0]!) as Json)).toEqual(['id', 'status', 'result']);
  });
});

// ---- market streams -------------------------------------------------------------------------------------

describe('sim binance: derived market streams', () => {
  it('markPrice, !markPrice@arr, forceOrder and kline on /market, trade and partial depth on /public (strict paths)', async () => {
    const v = await venue({ paused: false, rate: 3000, strictPaths: true, liquidationProbability: 1, seed: 21 });
    const mkt = await connect(`${v.wsUrl}/market/stream?streams=btcusdt@markPrice@1s/!markPrice@arr@1s/btcusdt@forceOrder/!forceOrder@arr/btcusdt@kline_1m/btcusdt@trade`);
    const pub = await connect(`${v.wsUrl}/public/stream?streams=btcusdt@trade/btcusdt@depth5@100ms/btcusdt@markPrice@1s/!bookTicker`);
    await waitFor(() => {
      const s = new Set(mkt.frames.map((f) => (JSON.parse(f) as Json)['stream']));
      return s.has('btcusdt@markPrice@1s') && s.has('!markPrice@arr@1s') && s.has('btcusdt@forceOrder') && s.has('!forceOrder@arr') && s.has('btcusdt@kline_1m');
    }, 3500);
    const byStream = (c: Conn, name: string): Json[] =>
      c.frames.map((f) => JSON.parse(f) as Json).filter((m) => m['stream'] === name).map((m) => m['data'] as Json);

    const mp = byStream(mkt, 'btcusdt@markPrice@1s')[0]!;
    expect(mp).toMatchObject({ e: 'markPriceUpdate', s: 'BTCUSDT', st: 1 });
    expect(mp['p']).toMatch(/^\d+\.\d{8}$/);
    expect((mp['E'] as number) % 1000).toBe(0);
    expect(mp['T'] as number).toBeGreaterThan(mp['E'] as number);
    const arr = byStream(mkt, '!markPrice@arr@1s')[0] as unknown as Json[];
    expect(arr.map((x) => x['s'])).toEqual(['BTCUSDT', 'ETHUSDT']);
    const fo = byStream(mkt, 'btcusdt@forceOrder')[0]!;
    expect(o(fo)).toMatchObject({ s: 'BTCUSDT', o: 'LIMIT', f: 'IOC', X: 'FILLED' });
    expect(o(fo)['z']).toBe(o(fo)['q']);
    // A liquidated long sells below where it traded (bankruptcy price), a short buys above.
    expect(o(fo)['S'] === 'SELL' ? dec(o(fo)['p']) < dec(o(fo)['ap']) : dec(o(fo)['p']) > dec(o(fo)['ap'])).toBe(true);
    const kl = byStream(mkt, 'btcusdt@kline_1m').pop()!;
    const k = kl['k'] as Json;
    expect(k).toMatchObject({ s: 'BTCUSDT', i: '1m', x: false, B: '0' });
    expect((k['T'] as number) - (k['t'] as number)).toBe(59_999);
    expect(dec(k['h'])).toBeGreaterThanOrEqual(Math.max(dec(k['o']), dec(k['c'])));
    expect(dec(k['l'])).toBeLessThanOrEqual(Math.min(dec(k['o']), dec(k['c'])));
    if (HAVE_SHARED_FIXTURES) {
      expect(Object.keys(mp)).toEqual(Object.keys(fixtureJson('binance-usdm/markPrice.jsonl', 4)));
      expect(Object.keys(fo)).toEqual(Object.keys(fixtureJson('binance-usdm/forceOrder.jsonl', 4)));
      expect(Object.keys(o(fo))).toEqual(Object.keys(o(fixtureJson('binance-usdm/forceOrder.jsonl', 4))));
      const realK = fixtureJson('binance-usdm/kline.jsonl', 21);
      expect(Object.keys(kl)).toEqual(Object.keys(realK));
      expect(Object.keys(k)).toEqual(Object.keys(realK['k'] as Json));
    }
    // Strict split: trade lives on /public, markPrice on /market.
    expect(byStream(mkt, 'btcusdt@trade')).toHaveLength(0);
    expect(byStream(pub, 'btcusdt@markPrice@1s')).toHaveLength(0);
    const trades = byStream(pub, 'btcusdt@trade');
    expect(trades.length).toBeGreaterThan(0);
    if (HAVE_SHARED_FIXTURES) expect(Object.keys(trades[0]!)).toEqual(Object.keys(fixtureJson('binance-usdm/trade.jsonl', 4)));
    const ids = trades.map((t) => t['t'] as number);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
    // Partial depth: 5 levels a side, best first, its own pu chain.
    const parts = byStream(pub, 'btcusdt@depth5@100ms');
    expect(parts.length).toBeGreaterThan(1);
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      const b = p['b'] as string[][];
      const a = p['a'] as string[][];
      expect([b.length, a.length]).toEqual([5, 5]);
      for (let j = 1; j < 5; j++) {
        expect(dec(b[j]![0])).toBeLessThan(dec(b[j - 1]![0]));
        expect(dec(a[j]![0])).toBeGreaterThan(dec(a[j - 1]![0]));
      }
      expect(dec(b[0]![0])).toBeLessThan(dec(a[0]![0]));
      expect(p['U'] as number).toBeLessThanOrEqual(p['u'] as number);
      if (i > 0) expect(p['pu']).toBe(parts[i - 1]!['u']);
    }
    expect((parts[1]!['E'] as number) - (parts[0]!['E'] as number)).toBeGreaterThanOrEqual(100);
    expect(v.stats().forceOrders).toBeGreaterThan(0);
    await waitFor(() => new Set(byStream(pub, '!bookTicker').map((b) => b['s'])).size === 2);
  });
});

// ---- ccxt -----------------------------------------------------------------------------------------------

/** The slice of ccxt's binanceusdm these tests call (ccxt is a devDependency; skipped when absent). */
interface CcxtUsdm {
  urls: { api: Record<string, unknown> };
  loadMarkets(): Promise<unknown>;
  fetchBalance(): Promise<Record<string, { free: number; used: number; total: number }>>;
  setLeverage(l: number, s: string): Promise<Json>;
  createOrder(s: string, t: string, side: string, amount: number, price?: number, params?: Json): Promise<Json>;
  fetchOrder(id: string, s: string): Promise<Json>;
  fetchPositions(s: string[]): Promise<Json[]>;
  fetchOpenOrders(s: string, since?: number, limit?: number, params?: Json): Promise<Json[]>;
  cancelOrder(id: string, s: string, params?: Json): Promise<Json>;
  fetchMyTrades(s: string): Promise<Json[]>;
}
const ccxtMod = await import('ccxt').then(
  (m) => m as unknown as { binanceusdm: new (cfg: Json) => CcxtUsdm },
  () => null,
);

describe('sim binance: ccxt against the simulator', () => {
  it.skipIf(ccxtMod === null)('loads markets, trades, reads balance and positions, places and cancels a conditional order', async () => {
    const v = await venue({ seed: 4 });
    const ex = new ccxtMod!.binanceusdm({ apiKey: v.apiKey, secret: v.apiSecret, options: { fetchMarkets: ['linear'], fetchCurrencies: false } });
    for (const [k, u] of Object.entries(ex.urls.api)) if (typeof u === 'string') ex.urls.api[k] = u.replace(/^https:\/\/[^/]+/, v.restUrl);
    const S = 'BTC/USDT:USDT';
    await ex.loadMarkets();
    expect((await ex.fetchBalance())['USDT']).toMatchObject({ free: 100000, used: 0, total: 100000 });
    expect((await ex.setLeverage(10, S))['leverage']).toBe(10);
    const ask = Number(v.top('BTCUSDT').ask);
    const buy = await ex.createOrder(S, 'market', 'buy', 0.002);
    expect((await ex.fetchOrder(buy['id'] as string, S))).toMatchObject({ status: 'closed', filled: 0.002, average: ask });
    expect(await ex.fetchPositions([S])).toEqual([expect.objectContaining({ symbol: S, contracts: 0.002, entryPrice: ask, side: 'long' })]);
    const stop = await ex.createOrder(S, 'market', 'sell', 0.002, undefined, { stopLossPrice: Math.round(ask - 1000), reduceOnly: true });
    expect(stop).toMatchObject({ status: 'open', triggerPrice: Math.round(ask - 1000) });
    expect((await ex.fetchOpenOrders(S, undefined, undefined, { trigger: true })).map((x) => x['id'])).toEqual([stop['id']]);
    await ex.cancelOrder(stop['id'] as string, S, { trigger: true });
    expect(await ex.fetchOpenOrders(S, undefined, undefined, { trigger: true })).toEqual([]);
    const trades = await ex.fetchMyTrades(S);
    expect(trades).toEqual([expect.objectContaining({ side: 'buy', price: ask, amount: 0.002, takerOrMaker: 'taker' })]);
    expect((trades[0]!['fee'] as { cost: number }).cost).toBeCloseTo(ask * 0.002 * 0.0005, 8);
  });
});
