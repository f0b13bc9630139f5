import { afterEach, describe, expect, it } from 'vitest';
import { request, WebSocket } from 'undici';
import { startGateVenue, type GateVenueHandle, type GateVenueOptions } from '../src/sim/gate/GateVenue.js';
import { hmacSha512Hex, restSignString, sha512Hex, signRest, signWsApi, signWsChannel } from '../src/sim/gate/signing.js';
import { rawValue } from '../src/sim/gate/wsApi.js';
import { fixtureLines, fixturePath, HAVE_SHARED_FIXTURES } from './helpers/fixtures.js';
import { readFileSync } from 'node:fs';

// ---- helpers --------------------------------------------------------------------------------------------

const venues: GateVenueHandle[] = [];
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

async function venue(opts: GateVenueOptions = {}): Promise<GateVenueHandle> {
  const v = await startGateVenue({ host: '127.0.0.1', port: 0, tickIntervalMs: 2, ...opts });
  venues.push(v);
  return v;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred: () => boolean, timeoutMs = 3000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting for condition');
    await sleep(5);
  }
}

interface Conn {
  ws: WebSocket;
  frames: string[];
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
  return { ws, frames };
}

type Obj = Record<string, unknown>;

/** Sends a frame and waits for the first new frame matching `pred`. */
async function send(c: Conn, msg: Obj | string, pred: (m: Obj, raw: string) => boolean): Promise<{ m: Obj; raw: string }> {
  const from = c.frames.length;
  c.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  let hit: { m: Obj; raw: string } | undefined;
  await waitFor(() => {
    for (let i = from; i < c.frames.length; i++) {
      const raw = c.frames[i]!;
      const m = JSON.parse(raw) as Obj;
      if (pred(m, raw)) {
        hit = { m, raw };
        return true;
      }
    }
    return false;
  });
  return hit!;
}

const nowS = (): number => Math.floor(Date.now() / 1000);

/** A subscribe / unsubscribe reply for `channel`. */
const replyTo = (channel: string, event = 'subscribe') => (m: Obj) => m['channel'] === channel && m['event'] === event;

async function subscribe(c: Conn, channel: string, payload: unknown[], extra: Obj = {}): Promise<Obj> {
  return (await send(c, { time: nowS(), channel, event: 'subscribe', payload, ...extra }, replyTo(channel))).m;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Same keys in the same order, and the same JSON types. */
function expectShape(ours: unknown, fixture: unknown, skipTypes: string[] = []): void {
  const o = ours as Obj;
  const f = fixture as Obj;
  expect(Object.keys(o)).toEqual(Object.keys(f));
  for (const k of Object.keys(f)) if (!skipTypes.includes(k)) expect(`${k}:${typeOf(o[k])}`).toBe(`${k}:${typeOf(f[k])}`);
}

interface Resp {
  status: number;
  text: string;
  json: unknown;
  headers: Record<string, unknown>;
}

async function http(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Resp> {
  const r = await request(url, { method: method as 'GET', headers, ...(body !== undefined && body !== '' ? { body } : {}) });
  const text = await r.body.text();
  return { status: r.statusCode, text, json: text === '' ? null : JSON.parse(text), headers: r.headers };
}

async function pub(v: GateVenueHandle, path: string, query = ''): Promise<Resp> {
  return http(`${v.restUrl}/futures/usdt${path}${query ? `?${query}` : ''}`, 'GET', {});
}

interface SignOpts {
  key?: string;
  secret?: string;
  ts?: string;
  tamper?: (sig: string) => string;
  sentBody?: string;
}

async function signed(v: GateVenueHandle, method: string, path: string, query = '', body = '', o: SignOpts = {}): Promise<Resp> {
  const full = `/api/v4/futures/usdt${path}`;
  const ts = o.ts ?? String(nowS());
  let sign = signRest(o.secret ?? v.apiSecret, method, full, query, body, ts);
  if (o.tamper) sign = o.tamper(sign);
  const headers: Record<string, string> = { KEY: o.key ?? v.apiKey, Timestamp: ts, SIGN: sign, 'Content-Type': 'application/json' };
  return http(`${v.origin}${full}${query ? `?${query}` : ''}`, method, headers, o.sentBody ?? body);
}

const fx = (rel: string): string[] => fixtureLines(`gateio-futures/${rel}`);
const fxJson = (rel: string): unknown => JSON.parse(readFileSync(fixturePath(`gateio-futures/${rel}`), 'utf8'));
const line = (rel: string, n: number): Obj => JSON.parse(fx(rel)[n - 1]!) as Obj;

/** Raw JSON digits of `"id":` fields (exact, whatever a double would make of them). */
function rawIds(text: string, key = 'id'): string[] {
  return [...text.matchAll(new RegExp(`"${key}":(\\d+)`, 'g'))].map((m) => m[1]!);
}

const TWO53 = 2n ** 53n;

// ---- signing --------------------------------------------------------------------------------------------

describe('sim gate: signing', () => {
  it('reproduces the §2.8 REST vectors and the derived WS vectors', () => {
    // Official (key `key`, secret `secret`, legacy path without settle).
    expect(sha512Hex('')).toBe(
      'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e',
    );
    expect(signRest('secret', 'GET', '/api/v4/futures/orders', 'contract=BTC_USD&status=finished&limit=50', '', '1541993715')).toBe(
      '55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a',
    );
    const body = '{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}';
    expect(restSignString('post', '/api/v4/futures/orders', '', body, '1541993715').split('\n')[3]).toBe(
      'ad3c169203dc3026558f01b4df307641fa1fa361f086b2306658886d5708767b1854797c68d9e62fef2f991645aa82673622ebf417e091d0bd22bafe5d956cca',
    );
    expect(signRest('secret', 'POST', '/api/v4/futures/orders', '', body, '1541993715')).toBe(
      'eae42da914a590ddf727473aff25fc87d50b64783941061f47a3fdb92742541fc4c2c14017581b4199a1418d54471c269c03a38d788d802e2c306c37636389f0',
    );
    // Third-party vector on the USDT path.
    expect(
      signRest(
        '3a98ab4e74b5a02acd5156184bf0e5ace7df76f5bafaa02ff3aedc4c22452bfe',
        'POST',
        '/api/v4/futures/usdt/orders',
        '',
        '{"contract":"BTC_USDT","size":1,"price":"93000","tif":"gtc"}',
        '1735736524',
      ),
    ).toBe('8c759c5cb2ae052e0868a120c759279e14a8fff5bba26ac4e1c9f202e124fe83baee060309d3144da9be96057ddf9451995725b3a8c04d3afa4876ec8a540ce9');
    expect(signWsChannel('secret', 'futures.orders', 'subscribe', 1541993715)).toBe(
      '4cdab02f21aba635fce8684a050806325cb4aa74a93d00c39f2084da73614d2e1d25878ca7c9ebcbde9541cddfc5ae36b1ccde10982eb82fd09f7a30a6d43d84',
    );
    expect(signWsApi('secret', 'futures.login', '', '1541993715')).toBe(
      '2085a2b6f0343904fb273d0dd6fbe5c4724286a72284822976925ec2496b8f744d33aab0f5edfb886c4661951a407fb02e9238cb18dee6743b1ff409b0ab783f',
    );
    expect(hmacSha512Hex('secret', 'api\nfutures.login\n\n1541993715')).toBe(signWsApi('secret', 'futures.login', '', '1541993715'));
  });

  it('extracts the raw req_param text for per-request WS API signatures', () => {
    const t = '{"time":1,"payload":{"req_id":"a","req_param": {"contract":"BTC_USDT","text":"t-x}"} ,"timestamp":"1"}}';
    expect(rawValue(t, 'req_param')).toBe('{"contract":"BTC_USDT","text":"t-x}"}');
    expect(rawValue('{"a":12,"b":1}', 'a')).toBe('12');
    expect(rawValue('{"a":"x"}', 'b')).toBeNull();
  });

  it('accepts a signed request and rejects bad signatures, stale timestamps, unknown keys and missing headers', async () => {
    const v = await venue({ paused: true });
    const ok = await signed(v, 'GET', '/accounts');
    expect(ok.status).toBe(200);
    expect(ok.headers['x-in-time']).toMatch(/^\d{16}$/);

    const bad = await signed(v, 'GET', '/accounts', '', '', { tamper: (s) => (s[0] === '0' ? '1' : '0') + s.slice(1) });
    expect(bad.status).toBe(401);
    expect(bad.json).toEqual({ label: 'INVALID_SIGNATURE', message: 'Signature mismatch' });

    const otherSecret = await signed(v, 'GET', '/accounts', '', '', { secret: 'x'.repeat(64) });
    expect((otherSecret.json as Obj)['label']).toBe('INVALID_SIGNATURE');

    const stale = await signed(v, 'GET', '/accounts', '', '', { ts: String(nowS() - 120) });
    expect(stale.status).toBe(401);
    expect((stale.json as Obj)['label']).toBe('REQUEST_EXPIRED');

    const unknown = await signed(v, 'GET', '/accounts', '', '', { key: 'nope' });
    expect(unknown.status).toBe(401);
    expect((unknown.json as Obj)['label']).toBe('INVALID_KEY');

    const missing = await http(`${v.restUrl}/futures/usdt/accounts`, 'GET', { KEY: v.apiKey });
    expect(missing.status).toBe(401);
    expect((missing.json as Obj)['label']).toBe('MISSING_REQUIRED_HEADER');

    // The body hash is signed: a different body than the one signed is refused.
    const body = '{"contract":"BTC_USDT","size":1,"price":"90000","tif":"poc"}';
    const swapped = await signed(v, 'POST', '/orders', '', body, { sentBody: body.replace('"size":1', '"size":2') });
    expect((swapped.json as Obj)['label']).toBe('INVALID_SIGNATURE');
    // So is the query string, exactly as sent.
    const q = await signed(v, 'GET', '/orders', 'status=open&contract=BTC_USDT');
    expect(q.status).toBe(200);
    expect(q.json).toEqual([]);
  });
});

// ---- REST shapes ----------------------------------------------------------------------------------------

describe.skipIf(!HAVE_SHARED_FIXTURES)('sim gate: REST shapes match the fixtures', () => {
  it('serves contracts, order book, tickers, trades and candlesticks', async () => {
    const v = await venue({ paused: true });
    const contract = fxJson('contract.json') as Obj;
    const list = await pub(v, '/contracts');
    expect(list.status).toBe(200);
    const arr = list.json as Obj[];
    expect(arr.map((c) => c['name'])).toEqual(['BTC_USDT', 'ETH_USDT']);
    for (const c of arr) expectShape(c, contract);
    const btc = arr[0]!;
    expect([btc['quanto_multiplier'], btc['order_price_round'], btc['order_size_min']]).toEqual(['0.0001', '0.1', 1]);
    expect([arr[1]!['quanto_multiplier'], arr[1]!['order_price_round']]).toEqual(['0.01', '0.05']);
    const one = await pub(v, '/contracts/ETH_USDT');
    expectShape(one.json, contract);
    expect((one.json as Obj)['name']).toBe('ETH_USDT');
    const none = await pub(v, '/contracts/DOGE_USDT');
    expect(none.status).toBe(400);
    expect((none.json as Obj)['label']).toBe('CONTRACT_NOT_FOUND');

    const fob = fxJson('order_book.json') as Obj;
    const ob = await pub(v, '/order_book', 'contract=BTC_USDT&limit=5&with_id=true');
    expectShape(ob.json, fob);
    const book = ob.json as { asks: Obj[]; bids: Obj[]; id: number };
    expect(book.asks.length).toBe(5);
    expectShape(book.asks[0], (fob['asks'] as Obj[])[0]);
    expect(Number(book.asks[0]!['p'])).toBeGreaterThan(Number(book.bids[0]!['p']));
    expect(book.id).toBe(v.top('BTC_USDT').u);
    // Without with_id there is no id; reading it did not change the book.
    const ob2 = await pub(v, '/order_book', 'contract=BTC_USDT&limit=5');
    expect(Object.keys(ob2.json as Obj)).toEqual(['current', 'update', 'asks', 'bids']);
    expect(v.top('BTC_USDT').u).toBe(book.id);

    const tk = await pub(v, '/tickers', 'contract=BTC_USDT');
    const t0 = (tk.json as Obj[])[0]!;
    for (const k of ['contract', 'last', 'mark_price', 'index_price', 'funding_rate', 'volume_24h', 'highest_bid', 'lowest_ask']) expect(typeof t0[k]).toBe('string');
    expect(t0['highest_bid']).toBe(v.top('BTC_USDT').bid);
    expect((await pub(v, '/tickers')).json).toHaveLength(2);

    const tr = await pub(v, '/trades', 'contract=BTC_USDT');
    expect(tr.json).toEqual([]);
    const cs = await pub(v, '/candlesticks', 'contract=BTC_USDT&interval=1m&limit=3');
    const candles = cs.json as Obj[];
    expect(candles.length).toBeGreaterThanOrEqual(1);
    expect(Object.keys(candles[0]!)).toEqual(['t', 'v', 'c', 'h', 'l', 'o', 'sum']);
    expect((await pub(v, '/candlesticks', 'contract=BTC_USDT&interval=2m')).status).toBe(400);
  });

  it('answers the account and an empty position like the fixtures', async () => {
    const v = await venue({ paused: true });
    const acc = await signed(v, 'GET', '/accounts');
    const facc = line('rest_responses.jsonl', 8);
    expectShape(acc.json, facc);
    expectShape((acc.json as Obj)['history'], facc['history']);
    expect((acc.json as Obj)['total']).toBe('100000');
    expect((acc.json as Obj)['user']).toBe(v.userId);

    const pos = await signed(v, 'GET', '/positions/BTC_USDT');
    expectShape(pos.json, line('rest_responses.jsonl', 7), ['close_order']);
    expect((pos.json as Obj)['size']).toBe(0);
    expect((pos.json as Obj)['close_order']).toBeNull();
    expect((await signed(v, 'GET', '/positions')).json).toHaveLength(2);
    expect((await signed(v, 'GET', '/positions', 'holding=true')).json).toEqual([]);
  });
});

// ---- order lifecycle -------------------------------------------------------------------------------------

describe.skipIf(!HAVE_SHARED_FIXTURES)('sim gate: orders', () => {
  it('places, queries, fills and cancels orders with positions and exact ids', async () => {
    const v = await venue({ paused: true });
    const top = v.top('BTC_USDT');
    const bid = Number(top.bid);
    const far = (bid - 500).toFixed(1);

    // A resting post-only buy with a client id.
    const body = JSON.stringify({ contract: 'BTC_USDT', size: 2, price: far, tif: 'poc', text: 't-rest-1' });
    const placed = await signed(v, 'POST', '/orders', '', body);
    expect(placed.status).toBe(201);
    const fresp = fxJson('order_response.json');
    expectShape(placed.json, fresp);
    const p = placed.json as Obj;
    expect([p['status'], p['size'], p['left'], p['tif'], p['text'], p['price'], p['fill_price']]).toEqual(['open', 2, 2, 'poc', 't-rest-1', trimDec(far), '0']);
    // The id is an exact integer above 2^53 on the wire.
    const [id] = rawIds(placed.text);
    expect(BigInt(id!)).toBeGreaterThan(TWO53);
    expect(placed.text).toContain(`"id":${id},`);

    const byId = await signed(v, 'GET', `/orders/${id}`);
    const byText = await signed(v, 'GET', '/orders/t-rest-1');
    expect(rawIds(byId.text)[0]).toBe(id);
    expect(rawIds(byText.text)[0]).toBe(id);
    const open = await signed(v, 'GET', '/orders', 'contract=BTC_USDT&status=open');
    expect(rawIds(open.text)).toEqual([id]);

    // Post-only that would take: the captured ORDER_POC_IMMEDIATE shape (detail, not message).
    const poc = await signed(v, 'POST', '/orders', '', JSON.stringify({ contract: 'BTC_USDT', size: 1, price: top.ask, tif: 'poc' }));
    expect(poc.status).toBe(400);
    expectShape(poc.json, line('errors.jsonl', 1));
    expect((poc.json as Obj)['label']).toBe('ORDER_POC_IMMEDIATE');
    // A bad client id: the documented INVALID_PARAM_VALUE text, byte for byte.
    const badText = await signed(v, 'POST', '/orders', '', JSON.stringify({ contract: 'BTC_USDT', size: 1, price: far, text: 'abc' }));
    expect(badText.text).toBe(fx('errors.jsonl')[3]);
    // Far from the mark: PRICE_TOO_DEVIATED.
    const dev = await signed(v, 'POST', '/orders', '', JSON.stringify({ contract: 'BTC_USDT', size: 1, price: String(Math.round(bid * 2)) }));
    expect((dev.json as Obj)['label']).toBe('PRICE_TOO_DEVIATED');

    // Market buy: price "0" + ioc, finished filled at the book's ask side.
    const mkt = await signed(v, 'POST', '/orders', '', JSON.stringify({ contract: 'BTC_USDT', size: 3, price: '0', tif: 'ioc', text: 't-mkt' }));
    expect(mkt.status).toBe(201);
    const mo = mkt.json as Obj;
    expect(Object.keys(mo)).toEqual([...Object.keys(fresp as Obj)].flatMap((k) => (k === 'status' ? ['finish_time', 'finish_as', 'status'] : [k])));
    expect([mo['status'], mo['finish_as'], mo['size'], mo['left'], mo['price']]).toEqual(['finished', 'filled', 3, 0, '0']);
    expect(Number(mo['fill_price'])).toBeGreaterThanOrEqual(Number(top.ask));

    const pos = (await signed(v, 'GET', '/positions/BTC_USDT')).json as Obj;
    expect(pos['size']).toBe(3);
    expect(Number(pos['entry_price'])).toBe(Number(mo['fill_price']));
    expect(pos['pending_orders']).toBe(1);
    expect(Number(pos['pnl_fee'])).toBeLessThan(0);
    // Fees: 3 contracts x 0.0001 BTC x price x 0.0005 taker.
    const fee = 3 * 0.0001 * Number(mo['fill_price']) * 0.0005;
    expect(Number(pos['pnl_fee'])).toBeCloseTo(-fee, 6);

    // Reduce-only that would grow the long: refused; reduce-only market sell closes it.
    const grow = await signed(v, 'POST', '/orders', '', JSON.stringify({ contract: 'BTC_USDT', size: 1, price: '0', tif: 'ioc', reduce_only: true }));
    expect((grow.json as Obj)['label']).toBe('INCREASE_POSITION');
    const closeIt = await signed(v, 'POST', '/orders', '', JSON.stringify({ contract: 'BTC_USDT', size: -3, price: '0', tif: 'ioc', reduce_only: true }));
    expect([(closeIt.json as Obj)['finish_as'], (closeIt.json as Obj)['size'], (closeIt.json as Obj)['is_reduce_only']]).toEqual(['filled', -3, true]);
    const flat = (await signed(v, 'GET', '/positions/BTC_USDT')).json as Obj;
    expect(flat['size']).toBe(0);
    expect(Number(flat['last_close_pnl'])).toBeLessThan(0);

    // The venue's own records, in contracts.
    const fills = v.fills();
    expect(fills.length).toBeGreaterThanOrEqual(2);
    expect(fills.reduce((s, f) => s + (f.side === 'BUY' ? Number(f.qty) : -Number(f.qty)), 0)).toBe(0);
    expect(fills.every((f) => f.symbol === 'BTC_USDT' && /^\d+$/.test(f.qty))).toBe(true);
    expect(v.positions().find((x) => x.symbol === 'BTC_USDT')?.positionAmt).toBe('0');
    const mine = await signed(v, 'GET', '/my_trades', 'contract=BTC_USDT');
    expect((mine.json as Obj[]).length).toBe(fills.length);
    expect((mine.json as Obj[]).every((t) => typeof t['order_id'] === 'string' && BigInt(t['order_id'] as string) > TWO53)).toBe(true);

    // Cancel by id; cancelling again is ORDER_FINISHED, an unknown id ORDER_NOT_FOUND (404).
    const cancelled = await signed(v, 'DELETE', `/orders/${id}`);
    expect([(cancelled.json as Obj)['status'], (cancelled.json as Obj)['finish_as']]).toEqual(['finished', 'cancelled']);
    expect(((await signed(v, 'DELETE', `/orders/${id}`)).json as Obj)['label']).toBe('ORDER_FINISHED');
    const nf = await signed(v, 'DELETE', '/orders/58828266000000001');
    expect(nf.status).toBe(404);
    expect((nf.json as Obj)['label']).toBe('ORDER_NOT_FOUND');
    const fin = await signed(v, 'GET', '/orders', 'contract=BTC_USDT&status=finished');
    expect(rawIds(fin.text)).toContain(id);

    // Cancel all of a contract; FOK that cannot fill; GTC limit crossing fills at once.
    for (const px of [far, (bid - 600).toFixed(1)]) await signed(v, 'POST', '/orders', '', JSON.stringify({ contract: 'BTC_USDT', size: 1, price: px }));
    const all = await signed(v, 'DELETE', '/orders', 'contract=BTC_USDT');
    expect((all.json as Obj[]).map((o) => o['finish_as'])).toEqual(['cancelled', 'cancelled']);
    const fok = await signed(v, 'POST', '/orders', '', JSON.stringify({ contract: 'BTC_USDT', size: 10_000_000, price: '0', tif: 'fok' }));
    expect((fok.json as Obj)['label']).toBe('SIZE_TOO_LARGE');
    // Enough margin at 100x, more than the whole synthetic ETH book holds.
    await signed(v, 'POST', '/positions/ETH_USDT/leverage', 'leverage=100');
    const fok2 = await signed(v, 'POST', '/orders', '', JSON.stringify({ contract: 'ETH_USDT', size: 100_000, price: '0', tif: 'fok' }));
    expect((fok2.json as Obj)['label']).toBe('ORDER_FOK');

    // Leverage (query parameters, no body) and the dead-man switch.
    const lev = await signed(v, 'POST', '/positions/BTC_USDT/leverage', 'leverage=5');
    expect((lev.json as Obj)['leverage']).toBe('5');
    const cross = await signed(v, 'POST', '/positions/BTC_USDT/leverage', 'leverage=0&cross_leverage_limit=20');
    expect([(cross.json as Obj)['leverage'], (cross.json as Obj)['cross_leverage_limit']]).toEqual(['0', '20']);
    expect(((await signed(v, 'POST', '/positions/BTC_USDT/leverage', 'leverage=500')).json as Obj)['label']).toBe('LEVERAGE_TOO_HIGH');
    const cd = await signed(v, 'POST', '/countdown_cancel_all', '', JSON.stringify({ timeout: 30, contract: 'BTC_USDT' }));
    expectShape(cd.json, line('rest_responses.jsonl', 6));
    expect(Number((cd.json as Obj)['triggerTime'])).toBeGreaterThan(Date.now() + 25_000);
    expect((await signed(v, 'POST', '/countdown_cancel_all', '', '{"timeout":0}')).json).toEqual({ triggerTime: '0' });
    expect(((await signed(v, 'POST', '/countdown_cancel_all', '', '{"timeout":3}')).json as Obj)['label']).toBe('INVALID_PARAM_VALUE');
  });

  it('fills a resting order as maker when the market crosses it', async () => {
    const v = await venue({ rate: 4000, seed: 3 });
    const c = await connect(v.wsUrl);
    await subscribe(c, 'futures.trades', ['ETH_USDT']);
    // A buy at the best bid rests (it does not cross) until the market trades through it. The random walk
    // may drift away from it for long, so a bid left behind is moved back to the touch (cancel, place).
    const makerFilled = (): boolean => v.fills().some((f) => f.maker);
    let id = '';
    for (let round = 0; round < 30 && !makerFilled(); round++) {
      if (id !== '') await signed(v, 'DELETE', `/orders/${id}`); // answers ORDER_FINISHED if it just filled
      if (makerFilled()) break;
      const r = await signed(v, 'POST', '/orders', '', JSON.stringify({ contract: 'ETH_USDT', size: 1, price: v.top('ETH_USDT').bid, tif: 'gtc' }));
      expect((r.json as Obj)['status']).toBe('open');
      id = rawIds(r.text)[0]!;
      await waitFor(makerFilled, 1000).catch(() => undefined);
    }
    expect(makerFilled()).toBe(true);
    const o = (await signed(v, 'GET', `/orders/${id}`)).json as Obj;
    expect([o['status'], o['finish_as'], o['left']]).toEqual(['finished', 'filled', 0]);
    expect(((await signed(v, 'GET', '/positions/ETH_USDT')).json as Obj)['size']).toBe(1);
  });
});

function trimDec(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

// ---- WebSocket: public --------------------------------------------------------------------------------------

describe.skipIf(!HAVE_SHARED_FIXTURES)('sim gate: public channels', () => {
  it('acks subscriptions, answers pings and pushes fixture-shaped updates', async () => {
    const v = await venue({ rate: 3000 });
    const c = await connect(v.wsUrl);
    const pong = await send(c, { time: nowS(), channel: 'futures.ping' }, (m) => m['channel'] === 'futures.pong');
    expectShape(pong.m, line('ws_api.jsonl', 6));

    const ackFixture = line('subscribe.jsonl', 23);
    const ack = await subscribe(c, 'futures.book_ticker', ['BTC_USDT']);
    expectShape(ack, ackFixture);
    expect(ack['result']).toEqual({ status: 'success' });
    const withId = await subscribe(c, 'futures.trades', ['BTC_USDT', 'ETH_USDT'], { id: 7 });
    expect(Object.keys(withId)).toEqual(['time', 'time_ms', 'id', 'channel', 'event', 'result']);
    expect(withId['id']).toBe(7);
    await subscribe(c, 'futures.candlesticks', ['1m', 'BTC_USDT']);
    await subscribe(c, 'futures.tickers', ['BTC_USDT']);
    const bad = await subscribe(c, 'futures.trades', ['NOPE_USDT']);
    expect(bad['error']).toEqual({ code: 2, message: 'unknown contract NOPE_USDT' });
    expect(bad['result']).toEqual({ status: 'fail' });
    const bad20 = await subscribe(c, 'futures.order_book_update', ['BTC_USDT', '20ms', '50']);
    expect((bad20['error'] as Obj)['code']).toBe(2);
    const privNoAuth = await subscribe(c, 'futures.orders', [String(v.userId), '!all']);
    expect((privNoAuth['error'] as Obj)['code']).toBe(4);

    const of = (ch: string): Obj[] => c.frames.map((f) => JSON.parse(f) as Obj).filter((m) => m['channel'] === ch && m['event'] === 'update');
    await waitFor(() => of('futures.book_ticker').length > 3 && of('futures.trades').length > 1 && of('futures.candlesticks').length > 0 && of('futures.tickers').length > 0, 4000);

    const bt = of('futures.book_ticker')[0]!;
    const fbt = line('book_ticker.jsonl', 1);
    expectShape(bt, fbt);
    expectShape(bt['result'], fbt['result']);
    const tr = of('futures.trades')[0]!;
    const ftr = line('trades.jsonl', 3);
    expect(Object.keys(tr)).toEqual(['time', 'time_ms', 'channel', 'event', 'result']);
    expectShape((tr['result'] as Obj[])[0], (ftr['result'] as Obj[])[0]);
    const trades = of('futures.trades').flatMap((m) => m['result'] as Obj[]);
    expect(trades.some((t) => (t['size'] as number) < 0) || trades.some((t) => (t['size'] as number) > 0)).toBe(true);
    expect(new Set(trades.map((t) => t['contract']))).toEqual(new Set(['BTC_USDT', 'ETH_USDT'].filter((n) => trades.some((t) => t['contract'] === n))));
    const cs = of('futures.candlesticks')[0]!;
    expectShape((cs['result'] as Obj[])[0], (line('candlesticks.jsonl', 2)['result'] as Obj[])[0]);
    expect((cs['result'] as Obj[])[0]!['n']).toBe('1m_BTC_USDT');
    const tk = of('futures.tickers')[0]!;
    expectShape((tk['result'] as Obj[])[0], (line('tickers.jsonl', 1)['result'] as Obj[])[0]);

    // Unsubscribe: acked, and no more book tickers after the ack.
    const un = await send(c, { time: nowS(), channel: 'futures.book_ticker', event: 'unsubscribe', payload: ['BTC_USDT'] }, replyTo('futures.book_ticker', 'unsubscribe'));
    expectShape(un.m, line('subscribe.jsonl', 46));
    const at = c.frames.indexOf(un.raw);
    await sleep(150);
    expect(c.frames.slice(at + 1).some((f) => f.includes('"futures.book_ticker"'))).toBe(false);
  });

  it('keeps order_book_update in sync with the REST snapshot (U <= id+1 <= u, then U == prev u + 1)', async () => {
    const v = await venue({ rate: 4000, seed: 9 });
    const c = await connect(v.wsUrl);
    await subscribe(c, 'futures.book_ticker', ['BTC_USDT']);
    const ack = await subscribe(c, 'futures.order_book_update', ['BTC_USDT', '100ms', '100']);
    expect(ack['result']).toEqual({ status: 'success' });
    const updates = (): Obj[] =>
      c.frames
        .map((f) => JSON.parse(f) as Obj)
        .filter((m) => m['channel'] === 'futures.order_book_update' && m['event'] === 'update')
        .map((m) => m['result'] as Obj);
    await waitFor(() => updates().length >= 1, 3000);
    const snap = (await pub(v, '/order_book', 'contract=BTC_USDT&limit=100&with_id=true')).json as { id: number; asks: Obj[]; bids: Obj[] };
    await waitFor(() => updates().some((u) => (u['u'] as number) >= snap.id + 1), 3000);
    await sleep(300);

    const bids = new Map<string, number>();
    const asks = new Map<string, number>();
    for (const l of snap.bids) bids.set(l['p'] as string, l['s'] as number);
    for (const l of snap.asks) asks.set(l['p'] as string, l['s'] as number);
    const apply = (side: Map<string, number>, levels: Obj[]): void => {
      for (const l of levels) {
        if (l['s'] === 0) side.delete(l['p'] as string);
        else side.set(l['p'] as string, l['s'] as number);
      }
    };
    const topOf = (): [string, number, string, number] => {
      const b = [...bids.keys()].sort((x, y) => Number(y) - Number(x))[0]!;
      const a = [...asks.keys()].sort((x, y) => Number(x) - Number(y))[0]!;
      return [b, bids.get(b)!, a, asks.get(a)!];
    };
    const tickers = new Map<number, Obj>();
    let lastU = snap.id;
    let synced = false;
    let applied = 0;
    let tickerChecks = 0;
    const replay = (): void => {
      for (const m of c.frames.map((f) => JSON.parse(f) as Obj)) {
        if (m['channel'] === 'futures.book_ticker' && m['event'] === 'update') {
          const r = m['result'] as Obj;
          tickers.set(r['u'] as number, r);
        }
      }
      for (const u of updates()) {
        const U = u['U'] as number;
        const uu = u['u'] as number;
        if (uu <= lastU && !synced) continue;
        if (!synced) {
          expect(U <= snap.id + 1 && snap.id + 1 <= uu).toBe(true);
          synced = true;
        } else {
          if (uu <= lastU) continue;
          expect(U).toBe(lastU + 1);
        }
        apply(bids, u['b'] as Obj[]);
        apply(asks, u['a'] as Obj[]);
        lastU = uu;
        applied++;
        const bt = tickers.get(uu);
        if (bt) {
          tickerChecks++;
          expect(topOf()).toEqual([bt['b'], bt['B'], bt['a'], bt['A']]);
        }
      }
    };
    // Every push has the recorded key set plus `l`, and level entries {p, s}.
    const first = updates()[0]!;
    expect(Object.keys(first)).toEqual([...Object.keys(line('order_book_update.jsonl', 3)['result'] as Obj), 'l'].sort());
    expect(first['l']).toBe('100');
    replay();
    expect(synced).toBe(true);
    expect(applied).toBeGreaterThan(0);

    // Pause, let the last pushes out, and compare with a fresh snapshot.
    v.pause();
    await sleep(350);
    lastU = snap.id;
    synced = false;
    bids.clear();
    asks.clear();
    for (const l of snap.bids) bids.set(l['p'] as string, l['s'] as number);
    for (const l of snap.asks) asks.set(l['p'] as string, l['s'] as number);
    replay();
    const after = (await pub(v, '/order_book', 'contract=BTC_USDT&limit=100&with_id=true')).json as { id: number; asks: Obj[]; bids: Obj[] };
    expect(lastU).toBe(after.id);
    const norm = (m: Map<string, number>, asc: boolean): Array<[string, number]> => [...m.entries()].sort((x, y) => (asc ? Number(x[0]) - Number(y[0]) : Number(y[0]) - Number(x[0])));
    expect(norm(bids, false)).toEqual(after.bids.map((l) => [l['p'], l['s']]));
    expect(norm(asks, true)).toEqual(after.asks.map((l) => [l['p'], l['s']]));
    expect(after.bids.length).toBeGreaterThan(5);
    expect(tickerChecks).toBeGreaterThan(0);

    // A 20 ms stream on another connection: its own gapless chain, pushed more often.
    v.resume();
    const c20 = await connect(v.wsUrl);
    await subscribe(c20, 'futures.order_book_update', ['BTC_USDT', '20ms', '20']);
    const n100 = updates().length;
    await sleep(400);
    const u20 = c20.frames.map((f) => JSON.parse(f) as Obj).filter((m) => m['event'] === 'update').map((m) => m['result'] as Obj);
    expect(u20.length).toBeGreaterThan(updates().length - n100);
    for (let i = 1; i < u20.length; i++) expect(u20[i]!['U']).toBe((u20[i - 1]!['u'] as number) + 1);
    expect(u20.every((r) => r['l'] === '20')).toBe(true);
  });
});

// ---- WebSocket: private and the WS API ----------------------------------------------------------------

describe.skipIf(!HAVE_SHARED_FIXTURES)('sim gate: private channels and WS API', () => {
  it('pushes orders, user trades, positions and balances to authenticated subscriptions', async () => {
    const v = await venue({ paused: true });
    const c = await connect(v.wsUrl);
    const auth = (channel: string, time: number, secret = v.apiSecret): Obj => ({ method: 'api_key', KEY: v.apiKey, SIGN: signWsChannel(secret, channel, 'subscribe', time) });
    const t = nowS();
    const badAuth = await subscribe(c, 'futures.orders', [String(v.userId), 'BTC_USDT'], { time: t, auth: auth('futures.orders', t, 'wrong') });
    expect((badAuth['error'] as Obj)['code']).toBe(4);
    for (const [ch, payload] of [
      ['futures.orders', [String(v.userId), 'BTC_USDT']],
      ['futures.usertrades', [String(v.userId), '!all']],
      ['futures.positions', [String(v.userId), '!all']],
      ['futures.balances', [String(v.userId)]],
    ] as const) {
      const ack = await subscribe(c, ch, [...payload], { time: t, auth: auth(ch, t) });
      expect(ack['result']).toEqual({ status: 'success' });
    }
    const r = await signed(v, 'POST', '/orders', '', JSON.stringify({ contract: 'BTC_USDT', size: 2, price: '0', tif: 'ioc', text: 't-ws-1' }));
    const [id] = rawIds(r.text);
    const raws = (ch: string): string[] => c.frames.filter((f) => f.includes(`"channel":"${ch}","event":"update"`));
    await waitFor(() => raws('futures.orders').length > 0 && raws('futures.usertrades').length > 0 && raws('futures.positions').length > 0 && raws('futures.balances').length > 0);

    const oraw = raws('futures.orders')[0]!;
    const om = JSON.parse(oraw) as Obj;
    const fo = line('private_ws.jsonl', 1);
    expectShape(om, fo);
    const item = (om['result'] as Obj[])[0]!;
    expectShape(item, (fo['result'] as Obj[])[0]);
    expect([item['status'], item['finish_as'], item['size'], item['left'], item['text'], item['user']]).toEqual(['finished', 'filled', 2, 0, 't-ws-1', String(v.userId)]);
    // Numbers on the wire for price/fees, and the id digits exact.
    expect(oraw).toContain(`"id":${id},`);
    expect(oraw).toMatch(/"tkfr":0\.0005,/);
    expect(BigInt(id!)).toBeGreaterThan(TWO53);

    const ut = JSON.parse(raws('futures.usertrades')[0]!) as Obj;
    const fut = line('private_ws.jsonl', 3);
    expectShape((ut['result'] as Obj[])[0], (fut['result'] as Obj[])[0]);
    expect((ut['result'] as Obj[])[0]!['order_id']).toBe(id);
    const ps = JSON.parse(raws('futures.positions')[0]!) as Obj;
    const fps = line('private_ws.jsonl', 4);
    expectShape((ps['result'] as Obj[])[0], (fps['result'] as Obj[])[0]);
    expect((ps['result'] as Obj[])[0]!['size']).toBe(2);
    const bal = JSON.parse(raws('futures.balances')[0]!) as Obj;
    const b0 = (bal['result'] as Obj[])[0]!;
    expect(Object.keys(b0)).toEqual(['balance', 'change', 'text', 'time', 'time_ms', 'type', 'user', 'currency']);
    expect([b0['type'], typeof b0['change'], (b0['change'] as number) < 0]).toEqual(['fee', 'number', true]);

    // An ETH order is not pushed on the BTC_USDT orders subscription (but its fill is on usertrades !all).
    const before = raws('futures.orders').length;
    await signed(v, 'POST', '/orders', '', JSON.stringify({ contract: 'ETH_USDT', size: 1, price: '0', tif: 'ioc' }));
    await waitFor(() => raws('futures.usertrades').length >= 2);
    await sleep(30);
    expect(raws('futures.orders').length).toBe(before);
  });

  it('logs in, places (ack then result), queries and cancels over the WS API', async () => {
    const v = await venue({ paused: true });
    const c = await connect(v.wsApiUrl);
    const apiReq = (channel: string, reqId: string, payload: Obj): Obj => ({ time: nowS(), channel, event: 'api', payload: { req_id: reqId, ...payload } });
    const byReq = (reqId: string, ack?: boolean) => (m: Obj) => m['request_id'] === reqId && (ack === undefined || m['ack'] === ack);

    // Not logged in yet.
    const early = await send(c, apiReq('futures.order_place', 'r0', { req_param: { contract: 'BTC_USDT', size: 1, price: '0', tif: 'ioc' } }), byReq('r0'));
    expect((early.m['header'] as Obj)['status']).toBe('401');
    const ts = String(nowS());
    const badLogin = await send(c, apiReq('futures.login', 'l0', { api_key: v.apiKey, timestamp: ts, signature: signWsApi('nope', 'futures.login', '', ts) }), byReq('l0'));
    expectShape(badLogin.m, line('errors.jsonl', 5));
    expect((badLogin.m['data'] as Obj)['errs']).toEqual({ label: 'INVALID_SIGNATURE', message: 'Signature mismatch' });

    const login = await send(c, apiReq('futures.login', 'l1', { api_key: v.apiKey, timestamp: ts, signature: signWsApi(v.apiSecret, 'futures.login', '', ts) }), byReq('l1'));
    const fl = line('ws_api.jsonl', 1);
    expectShape(login.m, fl);
    expectShape(login.m['header'], fl['header']);
    expect((login.m['data'] as Obj)['result']).toEqual({ uid: String(v.userId), api_key: v.apiKey });

    const far = (Number(v.top('BTC_USDT').bid) - 300).toFixed(1);
    const param = { contract: 'BTC_USDT', size: 4, price: far, tif: 'gtc', text: 't-wsapi' };
    const from = c.frames.length;
    await send(c, apiReq('futures.order_place', 'p1', { req_param: param }), byReq('p1', false));
    const replies = c.frames.slice(from).filter((f) => f.includes('"request_id":"p1"'));
    expect(replies).toHaveLength(2);
    const ack = JSON.parse(replies[0]!) as Obj;
    const res = JSON.parse(replies[1]!) as Obj;
    expectShape(ack, line('ws_api.jsonl', 4));
    expectShape(ack['header'], line('ws_api.jsonl', 4)['header']);
    expect(ack['ack']).toBe(true);
    expect((ack['data'] as Obj)['result']).toEqual({ req_id: 'p1', req_param: param });
    expectShape(res, line('ws_api.jsonl', 5));
    const placed = (res['data'] as Obj)['result'] as Obj;
    expect([placed['status'], placed['size'], placed['text']]).toEqual(['open', 4, 't-wsapi']);
    const [id] = rawIds(replies[1]!);
    expect(BigInt(id!)).toBeGreaterThan(TWO53);

    // Status by the exact id, sent as a JSON number too big for a double: read from the raw text.
    const st = await send(c, `{"time":${nowS()},"channel":"futures.order_status","event":"api","payload":{"req_id":"s1","req_param":{"order_id":${id}}}}`, byReq('s1'));
    expect(rawIds(st.raw)).toContain(id);
    expect(((st.m['data'] as Obj)['result'] as Obj)['status']).toBe('open');
    const cancel = await send(c, apiReq('futures.order_cancel', 'c1', { req_param: { order_id: id } }), byReq('c1'));
    expect(((cancel.m['data'] as Obj)['result'] as Obj)['finish_as']).toBe('cancelled');
    expect(rawIds(cancel.raw)).toContain(id);
    const again = await send(c, apiReq('futures.order_cancel', 'c2', { req_param: { order_id: id } }), byReq('c2'));
    expect(((again.m['data'] as Obj)['errs'] as Obj)['label']).toBe('ORDER_FINISHED');

    // A rejected order: ack, then the error with its status.
    const from2 = c.frames.length;
    await send(c, apiReq('futures.order_place', 'p2', { req_param: { contract: 'BTC_USDT', size: 1, price: far, text: 'abc' } }), byReq('p2', false));
    const r2 = c.frames.slice(from2).filter((f) => f.includes('"request_id":"p2"')).map((f) => JSON.parse(f) as Obj);
    expect(r2.map((m) => m['ack'])).toEqual([true, false]);
    expect((r2[1]!['header'] as Obj)['status']).toBe('400');
    expect((r2[1]!['data'] as Obj)['errs']).toEqual({ label: 'INVALID_PARAM_VALUE', message: 'Invalid parameter `text` with value: abc' });

    // Per-request signing without a login, on another connection.
    const c2 = await connect(v.wsApiUrl);
    const rp = JSON.stringify({ contract: 'ETH_USDT', size: -1, price: '0', tif: 'ioc' });
    const ts2 = String(nowS());
    const sig = signWsApi(v.apiSecret, 'futures.order_place', rp, ts2);
    const text = `{"time":${nowS()},"channel":"futures.order_place","event":"api","payload":{"req_id":"x1","req_param":${rp},"api_key":"${v.apiKey}","timestamp":"${ts2}","signature":"${sig}"}}`;
    const signedRes = await send(c2, text, byReq('x1', false));
    expect(((signedRes.m['data'] as Obj)['result'] as Obj)['finish_as']).toBe('filled');
  });
});

describe('hft sim --venue gate', () => {
  it('prints one JSON line with its URLs and keys, and serves the contracts it was given', async () => {
    const { spawn } = await import('node:child_process');
    const { join } = await import('node:path');
    const { PROJECT_ROOT } = await import('./helpers/fixtures.js');
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/hft.js'), 'sim', '--venue', 'gate', '--symbols', 'BTC_USDT,ETH_USDT'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const nl = buf.indexOf('\n');
          if (nl >= 0) resolve(buf.slice(0, nl));
        });
        child.once('exit', (code) => reject(new Error(`hft sim exited with ${code}`)));
      });
      const d = JSON.parse(line) as { venue: string; rest: string; ws: string; wsApi: string; apiKey: string; apiSecret: string };
      expect(d.venue).toBe('gate-futures');
      expect(d.ws).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v4\/ws\/usdt$/);
      expect(d.apiKey).toMatch(/^[0-9a-f]{32,}$/);
      const res = await request(`${d.rest}/futures/usdt/contracts`);
      const list = (await res.body.json()) as Array<{ name: string }>;
      expect(list.map((c) => c.name).sort()).toEqual(['BTC_USDT', 'ETH_USDT']);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
