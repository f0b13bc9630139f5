import { createHmac } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request, WebSocket } from 'undici';
import { startBinanceVenue, type BinanceVenueHandle, type BinanceVenueOptions } from '../src/sim/binance/BinanceVenue.js';
import { signedPayload, stripSignature, verifySignature, wsApiPayload } from '../src/sim/binance/signing.js';
import { formatRatio, formatScaled, parseScaled } from '../src/core/decimal.js';
import { resolveInstruments } from '../src/sim/instruments.js';
import { SyntheticMarket } from '../src/sim/market/SyntheticMarket.js';
import type { DepthEvent, MarketEventKind } from '../src/sim/market/types.js';
import { Rng } from '../src/sim/rng.js';

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

async function venue(opts: BinanceVenueOptions = {}): Promise<BinanceVenueHandle> {
  const v = await startBinanceVenue({ host: '127.0.0.1', port: 0, ...opts });
  venues.push(v);
  return v;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Conn {
  ws: WebSocket;
  frames: string[];
  closed: Promise<number>;
  isClosed: () => boolean;
}

async function connect(url: string): Promise<Conn> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const frames: string[] = [];
  let closedFlag = false;
  ws.addEventListener('message', (e) => frames.push(String(e.data)));
  const closed = new Promise<number>((resolve) =>
    ws.addEventListener('close', (e) => {
      closedFlag = true;
      resolve(e.code);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)));
  });
  return { ws, frames, closed, isClosed: () => closedFlag };
}

async function waitFor(pred: () => boolean, timeoutMs = 3000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting for condition');
    await sleep(5);
  }
}

/** Sends a control frame and waits for the reply with that id (or any non-data reply). */
async function control(c: Conn, payload: string, id: number | null): Promise<Record<string, unknown>> {
  const from = c.frames.length;
  c.ws.send(payload);
  let found: Record<string, unknown> | undefined;
  await waitFor(() => {
    for (let i = from; i < c.frames.length; i++) {
      const m = JSON.parse(c.frames[i]!) as Record<string, unknown>;
      if ('data' in m || 'e' in m) continue;
      if (id === null || m['id'] === id) {
        found = m;
        return true;
      }
    }
    return false;
  });
  return found!;
}

function hmac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

function qs(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

interface OrderCall {
  params: Record<string, string>;
  /** Params that go to the query string (the rest goes to the body). */
  queryParams?: Record<string, string>;
  apiKey?: string | null;
  secret?: string;
  badSignature?: boolean;
  timestamp?: number;
  method?: 'POST' | 'DELETE';
  path?: string;
}

async function signedCall(v: BinanceVenueHandle, call: OrderCall): Promise<{ status: number; json: Record<string, unknown>; headers: Record<string, unknown> }> {
  const body = qs({ ...call.params, timestamp: String(call.timestamp ?? Date.now()) });
  const query = call.queryParams ? qs(call.queryParams) : '';
  let sig = hmac(call.secret ?? v.apiSecret, query + body);
  if (call.badSignature) sig = sig.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (call.apiKey !== null) headers['x-mbx-apikey'] = call.apiKey ?? v.apiKey;
  const url = `${v.restUrl}${call.path ?? '/fapi/v1/order'}${query ? `?${query}` : ''}`;
  const r = await request(url, { method: call.method ?? 'POST', headers, body: `${body}&signature=${sig}` });
  const json = (await r.body.json()) as Record<string, unknown>;
  return { status: r.statusCode, json, headers: r.headers };
}

const BOOK_TICKER_KEYS = ['e', 'u', 's', 'b', 'B', 'a', 'A', 'T', 'E'];
const DECIMAL_RE = (decimals: number): RegExp => new RegExp(`^\\d+\\.\\d{${decimals}}$`);

// ---- units ----------------------------------------------------------------------------------------------

describe('sim: rng and decimals', () => {
  it('rng is deterministic and its draws have the right moments', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    for (let i = 0; i < 100; i++) expect(a.nextU32()).toBe(b.nextU32());
    expect(new Rng(1).nextU32()).not.toBe(new Rng(2).nextU32());
    const r = new Rng(7);
    const n = 20000;
    let su = 0;
    let sn = 0;
    let sn2 = 0;
    let se = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      su += u;
      const z = r.normal();
      sn += z;
      sn2 += z * z;
      se += r.exponential(2);
    }
    expect(su / n).toBeCloseTo(0.5, 1);
    expect(sn / n).toBeCloseTo(0, 1);
    expect(sn2 / n).toBeCloseTo(1, 1);
    expect(se / n).toBeCloseTo(0.5, 1);
  });

  it('parses and formats exact decimals', () => {
    expect(parseScaled('0.001', 3)).toBe(1);
    expect(parseScaled('0.0010', 3)).toBe(1);
    expect(parseScaled('0.0001', 3)).toBe('precision');
    expect(parseScaled('1e-3', 3)).toBe('malformed');
    expect(parseScaled('-2.5', 1)).toBe(-25);
    expect(parseScaled('100000.10', 2)).toBe(10000010);
    expect(formatScaled(10000010, 2)).toBe('100000.10');
    expect(formatScaled(3, 3)).toBe('0.003');
    expect(formatScaled(-3, 3)).toBe('-0.003');
    expect(formatScaled(0, 2)).toBe('0.00');
    expect(formatRatio(30n, 100n, 0, 2, 8)).toBe('0.30');
    expect(formatRatio(1n, 3n, 0, 2, 8)).toBe('0.33333333');
  });
});

// ---- synthetic market (no network) ----------------------------------------------------------------------

describe('sim: synthetic market', () => {
  it('keeps depth chaining, bookTicker and a rebuilt book consistent over many events', () => {
    const insts = resolveInstruments(['BTCUSDT', 'ETHUSDT']);
    const m = new SyntheticMarket(insts, { seed: 11 });
    const pick = new Rng(5);
    const kinds: MarketEventKind[] = ['bookTicker', 'trade', 'depth'];
    const books = insts.map(() => ({
      bids: new Map<number, number>(),
      asks: new Map<number, number>(),
      lastU: 0,
      synced: false,
      lastTicker: null as null | { u: number; top: number[] },
    }));
    const bookTop = (bk: { bids: Map<number, number>; asks: Map<number, number> }): number[] => {
      const bb = Math.max(...bk.bids.keys());
      const ba = Math.min(...bk.asks.keys());
      return [bb, bk.bids.get(bb)!, ba, bk.asks.get(ba)!];
    };
    const snaps = insts.map((i) => m.snapshot(i.idx, 1000, 0));
    snaps.forEach((s, i) => {
      for (const [t, q] of s.bids) books[i]!.bids.set(t, q);
      for (const [t, q] of s.asks) books[i]!.asks.set(t, q);
    });
    let matches = 0;
    for (let n = 0; n < 30000; n++) {
      const sym = pick.int(2);
      const r = pick.uniform();
      const ev = m.next(sym, kinds[r < 0.6 ? 0 : r < 0.85 ? 1 : 2]!, n);
      const bk = books[sym]!;
      if (ev.kind === 'depth') {
        expect(ev.U).toBeGreaterThan(ev.pu);
        expect(ev.u).toBeGreaterThanOrEqual(ev.U);
        if (!bk.synced) {
          // First event after the snapshot straddles its id.
          expect(ev.U).toBeLessThanOrEqual(snaps[sym]!.lastUpdateId);
          expect(ev.u).toBeGreaterThanOrEqual(snaps[sym]!.lastUpdateId);
          bk.synced = true;
        } else expect(ev.pu).toBe(bk.lastU);
        bk.lastU = ev.u;
        for (let k = 0; k < ev.bids.length; k += 2) {
          if (k > 0) expect(ev.bids[k]!).toBeGreaterThan(ev.bids[k - 2]!);
          if (ev.bids[k + 1] === 0) bk.bids.delete(ev.bids[k]!);
          else bk.bids.set(ev.bids[k]!, ev.bids[k + 1]!);
        }
        for (let k = 0; k < ev.asks.length; k += 2) {
          if (ev.asks[k + 1] === 0) bk.asks.delete(ev.asks[k]!);
          else bk.asks.set(ev.asks[k]!, ev.asks[k + 1]!);
        }
        const top = bookTop(bk);
        expect(top[0]!).toBeLessThan(top[2]!);
        // A bookTicker carrying this event's final id described the same book.
        if (bk.lastTicker?.u === ev.u) {
          expect(top).toEqual(bk.lastTicker.top);
          matches++;
        }
      } else if (ev.kind === 'bookTicker') {
        expect(ev.bid).toBeLessThan(ev.ask);
        expect(ev.bidQty).toBeGreaterThan(0);
        expect(ev.askQty).toBeGreaterThan(0);
        bk.lastTicker = { u: ev.u, top: [ev.bid, ev.bidQty, ev.ask, ev.askQty] };
      } else {
        expect(ev.qty).toBeGreaterThan(0);
      }
    }
    expect(matches).toBeGreaterThan(50);
  });

  it('is reproducible from its seed and keeps prices sane', () => {
    const run = (seed: number): string[] => {
      const m = new SyntheticMarket(resolveInstruments(['BTCUSDT']), { seed });
      const out: string[] = [];
      for (let i = 0; i < 3000; i++) out.push(JSON.stringify(m.next(0, i % 3 === 0 ? 'trade' : i % 3 === 1 ? 'bookTicker' : 'depth', 0)));
      return out;
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
    const m = new SyntheticMarket(resolveInstruments(['BTCUSDT']), { seed: 9 });
    let spreads = 0;
    for (let i = 0; i < 20000; i++) {
      const ev = m.next(0, 'bookTicker', 0);
      if (ev.kind !== 'bookTicker') continue;
      spreads += ev.ask - ev.bid;
      expect(ev.bid).toBeGreaterThan(900_000); // stays within 10% of 100000.0 (ticks of 0.10)
      expect(ev.ask).toBeLessThan(1_100_000);
    }
    const avgSpread = spreads / 20000;
    expect(avgSpread).toBeGreaterThanOrEqual(1);
    expect(avgSpread).toBeLessThan(4);
  });

  it('a taker walks the book and its trades show in the next depth diff', () => {
    const m = new SyntheticMarket(resolveInstruments(['BTCUSDT']), { seed: 2 });
    const top = m.top(0);
    const r = m.take(0, 'BUY', top.askQty + 1, null, 0);
    expect(r.filled).toBe(top.askQty + 1);
    expect(r.fills[0]).toEqual({ price: top.ask, qty: top.askQty });
    expect(r.fills[1]!.price).toBeGreaterThan(top.ask);
    expect(r.events.filter((e) => e.kind === 'trade')).toHaveLength(2);
    const d = m.next(0, 'depth', 0) as DepthEvent;
    const asks = new Map<number, number>();
    for (let k = 0; k < d.asks.length; k += 2) asks.set(d.asks[k]!, d.asks[k + 1]!);
    expect(asks.get(top.ask)).toBe(0);
    // IOC-style limit below the ask takes nothing.
    expect(m.take(0, 'BUY', 5, m.top(0).ask - 1, 0).filled).toBe(0);
  });
});

// ---- signing --------------------------------------------------------------------------------------------

describe('sim: binance signature verifier', () => {
  const SECRET = '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9';
  const PAYLOAD = 'symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943';

  it('accepts the official vectors (protocols.md §1.5)', () => {
    const sig1 = '3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9';
    expect(verifySignature(SECRET, '', `${PAYLOAD}&signature=${sig1}`)).toBe(true); // Ex.2: body
    expect(verifySignature(SECRET, `${PAYLOAD}&signature=${sig1}`, '')).toBe(true); // Ex.1: query
    expect(verifySignature(SECRET, `${PAYLOAD}&signature=${sig1.toUpperCase()}`, '')).toBe(true); // hex case-insensitive
    // Ex.3: query + body concatenated without '&'.
    const q = 'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC';
    const b = 'quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943';
    expect(verifySignature(SECRET, q, `${b}&signature=30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4`)).toBe(true);
    // The doc's printed Ex.3 signature only matches its stray space.
    expect(verifySignature(SECRET, q, `${b}&signature=f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2`)).toBe(false);
    expect(verifySignature(SECRET, q, `${b.replace('timestamp=', 'timestamp= ')}&signature=f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2`)).toBe(true);
    // Wrong: tampered payload, missing signature, bad hex.
    expect(verifySignature(SECRET, '', `${PAYLOAD.replace('9000', '9001')}&signature=${sig1}`)).toBe(false);
    expect(verifySignature(SECRET, '', PAYLOAD)).toBe(false);
    expect(verifySignature(SECRET, '', `${PAYLOAD}&signature=xyz`)).toBe(false);
  });

  it('strips the signature parameter wherever it is and signs the WS API sorted payload', () => {
    expect(stripSignature('a=1&signature=ab&b=2')).toEqual({ rest: 'a=1&b=2', signature: 'ab' });
    expect(stripSignature('signature=ab&b=2')).toEqual({ rest: 'b=2', signature: 'ab' });
    expect(stripSignature('signature=ab')).toEqual({ rest: '', signature: 'ab' });
    expect(stripSignature('a=1&xsignature=2')).toEqual({ rest: 'a=1&xsignature=2', signature: null });
    expect(signedPayload('a=1&signature=zz', 'b=2')).toEqual({ payload: 'a=1b=2', signature: 'zz' });
    const params = {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '1',
      price: '9000',
      recvWindow: 5000,
      timestamp: 1591702613943,
      apiKey: 'dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83',
    };
    expect(hmac(SECRET, wsApiPayload(params))).toBe('5b8fe2b962b8e1b2b82fb40e548d56147c2a8f835b5f1393ae4b4b90c38b527f');
  });
});

// ---- venue: market data ---------------------------------------------------------------------------------

describe('sim: binance venue market data', () => {
  it('combined stream delivers well-formed frames of each subscribed type at about the set rate', async () => {
    const rate = 20_000;
    const v = await venue({ rate, seed: 21 });
    const streams = ['btcusdt@bookTicker', 'btcusdt@aggTrade', 'btcusdt@depth@100ms', 'ethusdt@bookTicker', 'ethusdt@aggTrade', 'ethusdt@depth'];
    const c = await connect(`${v.wsUrl}/stream?streams=${streams.join('/')}`);
    await sleep(200);
    const n0 = c.frames.length;
    const t0 = performance.now();
    await sleep(1000);
    const n1 = c.frames.length;
    const secs = (performance.now() - t0) / 1000;
    const got = (n1 - n0) / secs;
    expect(got).toBeGreaterThan(rate * 0.75);
    expect(got).toBeLessThan(rate * 1.25);

    const seen = new Map<string, number>();
    const price2 = DECIMAL_RE(2);
    const qty3 = DECIMAL_RE(3);
    for (const f of c.frames.slice(0, 6000)) {
      const m = JSON.parse(f) as { stream: string; data: Record<string, unknown> };
      expect(Object.keys(m)).toEqual(['stream', 'data']);
      seen.set(m.stream, (seen.get(m.stream) ?? 0) + 1);
      const d = m.data;
      const sym = m.stream.startsWith('btc') ? 'BTCUSDT' : 'ETHUSDT';
      expect(d['s']).toBe(sym);
      if (m.stream.endsWith('@bookTicker')) {
        expect(Object.keys(d)).toEqual(BOOK_TICKER_KEYS);
        expect(d['e']).toBe('bookTicker');
        expect(d['b']).toMatch(price2);
        expect(d['a']).toMatch(price2);
        expect(d['B']).toMatch(qty3);
        expect(Number(d['b'])).toBeLessThan(Number(d['a']));
        expect(Number.isSafeInteger(d['u'])).toBe(true);
      } else if (m.stream.endsWith('@aggTrade')) {
        expect(Object.keys(d)).toEqual(['e', 'E', 'a', 's', 'p', 'q', 'f', 'l', 'T', 'm']);
        expect(d['p']).toMatch(price2);
        expect(d['q']).toMatch(qty3);
        expect(typeof d['m']).toBe('boolean');
        expect(d['l'] as number).toBeGreaterThanOrEqual(d['f'] as number);
      } else {
        expect(Object.keys(d)).toEqual(['e', 'E', 'T', 's', 'U', 'u', 'pu', 'b', 'a']);
        expect(d['e']).toBe('depthUpdate');
        for (const [p, q] of [...(d['b'] as string[][]), ...(d['a'] as string[][])]) {
          expect(p).toMatch(price2);
          expect(q).toMatch(qty3);
        }
      }
    }
    for (const s of streams) expect(seen.get(s) ?? 0).toBeGreaterThan(0);
    expect(v.stats().framesSent).toBeGreaterThanOrEqual(n1);
  });

  it('raw /ws/<stream> and the split base paths deliver bare events', async () => {
    const v = await venue({ rate: 5000, seed: 4 });
    const raw = await connect(`${v.wsUrl}/ws/btcusdt@bookTicker`);
    const pub = await connect(`${v.wsUrl}/public/ws/ethusdt@depth@100ms`);
    const mkt = await connect(`${v.wsUrl}/market/stream?streams=btcusdt@aggTrade`);
    await waitFor(() => raw.frames.length > 20 && pub.frames.length > 5 && mkt.frames.length > 5);
    const r = JSON.parse(raw.frames[0]!) as Record<string, unknown>;
    expect(Object.keys(r)).toEqual(BOOK_TICKER_KEYS);
    expect(JSON.parse(pub.frames[0]!).e).toBe('depthUpdate');
    const m = JSON.parse(mkt.frames[0]!) as { stream: string; data: { e: string } };
    expect(m.stream).toBe('btcusdt@aggTrade');
    expect(m.data.e).toBe('aggTrade');
  });

  it('with strictPaths, serves book streams on /public and trades on /market only', async () => {
    const v = await venue({ rate: 5000, strictPaths: true });
    const mkt = await connect(`${v.wsUrl}/market/stream?streams=btcusdt@bookTicker/btcusdt@aggTrade`);
    const legacy = await connect(`${v.wsUrl}/ws/ethusdt@aggTrade`);
    const pub = await connect(`${v.wsUrl}/public/stream?streams=ethusdt@bookTicker/ethusdt@aggTrade`);
    await waitFor(() => mkt.frames.length > 20 && pub.frames.length > 20);
    await sleep(50);
    expect(new Set(mkt.frames.map((f) => (JSON.parse(f) as { stream: string }).stream))).toEqual(new Set(['btcusdt@aggTrade']));
    expect(new Set(pub.frames.map((f) => (JSON.parse(f) as { stream: string }).stream))).toEqual(new Set(['ethusdt@bookTicker']));
    expect(legacy.frames).toHaveLength(0);
    // Subscribed all the same (the venue starves the stream silently).
    const reply = await control(legacy, '{"method":"LIST_SUBSCRIPTIONS","id":1}', 1);
    expect(reply).toEqual({ result: ['ethusdt@aggTrade'], id: 1 });
  });

  it('answers SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS and properties like the venue', async () => {
    const v = await venue({ rate: 2000, seed: 5, maxIncomingPerSecond: 100 });
    const c = await connect(`${v.wsUrl}/ws`);
    expect(await control(c, '{"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@depth"],"id":1}', 1)).toEqual({ result: null, id: 1 });
    await waitFor(() => c.frames.some((f) => f.includes('"e":"aggTrade"')) && c.frames.some((f) => f.includes('"e":"depthUpdate"')));
    expect(await control(c, '{"method":"LIST_SUBSCRIPTIONS","id":3}', 3)).toEqual({ result: ['btcusdt@aggTrade', 'btcusdt@depth'], id: 3 });
    expect(await control(c, '{"method":"UNSUBSCRIBE","params":["btcusdt@depth"],"id":312}', 312)).toEqual({ result: null, id: 312 });
    expect(await control(c, '{"method":"LIST_SUBSCRIPTIONS","id":4}', 4)).toEqual({ result: ['btcusdt@aggTrade'], id: 4 });
    expect(await control(c, '{"method":"GET_PROPERTY","params":["combined"],"id":2}', 2)).toEqual({ result: false, id: 2 });
    expect(await control(c, '{"method":"SET_PROPERTY","params":["combined",true],"id":5}', 5)).toEqual({ result: null, id: 5 });
    const from = c.frames.length;
    await waitFor(() => c.frames.slice(from).some((f) => f.startsWith('{"stream":"btcusdt@aggTrade","data":')));
    expect((await control(c, '{"method":"SET_PROPERTY","params":["combined","yes"],"id":6}', 6))['code']).toBe(1);
    expect((await control(c, '{"method":"GET_PROPERTY","params":["nope"],"id":7}', 7))['code']).toBe(0);
    expect((await control(c, '{"method":"FOO","id":8}', 8))['code']).toBe(2);
    expect((await control(c, '{"method":"LIST_SUBSCRIPTIONS","id":"x"}', null))['code']).toBe(2);
    expect((await control(c, '{not json', null))['code']).toBe(3);
  });

  it('disconnects a client sending more than 10 messages per second', async () => {
    const v = await venue({ rate: 1000 });
    const c = await connect(`${v.wsUrl}/ws`);
    for (let i = 1; i <= 11; i++) c.ws.send(`{"method":"LIST_SUBSCRIPTIONS","id":${i}}`);
    expect(await c.closed).toBe(1008);
    expect(v.stats().inboundLimitDisconnects).toBe(1);
  });

  it('depth pu chain is unbroken and a REST snapshot satisfies the first-event rule', async () => {
    const v = await venue({ rate: 8000, seed: 8 });
    const c = await connect(`${v.wsUrl}/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker/btcusdt@aggTrade`);
    await sleep(150);
    const r = await request(`${v.restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-mbx-used-weight-1m']).toBeDefined();
    const snap = (await r.body.json()) as { lastUpdateId: number; bids: string[][]; asks: string[][] };
    await sleep(400);
    v.pause();
    await sleep(30);
    const events = c.frames.map((f) => JSON.parse(f) as { stream: string; data: Record<string, unknown> });
    const depth = events.filter((e) => e.stream === 'btcusdt@depth@100ms').map((e) => e.data as { U: number; u: number; pu: number; b: string[][]; a: string[][] });
    expect(depth.length).toBeGreaterThan(50);
    for (let i = 1; i < depth.length; i++) {
      expect(depth[i]!.pu).toBe(depth[i - 1]!.u);
      expect(depth[i]!.U).toBeGreaterThan(depth[i]!.pu);
      expect(depth[i]!.u).toBeGreaterThanOrEqual(depth[i]!.U);
    }
    // Binance procedure: drop u < lastUpdateId; the first applied event has U <= lastUpdateId <= u.
    const L = snap.lastUpdateId;
    const firstIdx = depth.findIndex((d) => d.u >= L);
    expect(firstIdx).toBeGreaterThan(0);
    expect(depth[firstIdx]!.U).toBeLessThanOrEqual(L);
    expect(depth[firstIdx]!.u).toBeGreaterThanOrEqual(L);

    // Rebuild from the snapshot and compare with bookTickers carrying the same update id as a depth event.
    const bids = new Map(snap.bids.map(([p, q]) => [p!, q!]));
    const asks = new Map(snap.asks.map(([p, q]) => [p!, q!]));
    const tickers = new Map<number, string[]>();
    for (const e of events) if (e.stream === 'btcusdt@bookTicker') tickers.set(e.data['u'] as number, [e.data['b'], e.data['B'], e.data['a'], e.data['A']] as string[]);
    let checks = 0;
    for (const d of depth.slice(firstIdx)) {
      for (const [p, q] of d.b) (Number(q) === 0 ? bids.delete(p!) : bids.set(p!, q!));
      for (const [p, q] of d.a) (Number(q) === 0 ? asks.delete(p!) : asks.set(p!, q!));
      const bb = [...bids.keys()].sort((x, y) => Number(y) - Number(x))[0]!;
      const ba = [...asks.keys()].sort((x, y) => Number(x) - Number(y))[0]!;
      expect(Number(bb)).toBeLessThan(Number(ba));
      const t = tickers.get(d.u);
      if (t) {
        expect([bb, bids.get(bb), ba, asks.get(ba)]).toEqual(t);
        checks++;
      }
    }
    expect(checks).toBeGreaterThan(5);
  });

  it('is reproducible from the seed and stops after maxTicks', async () => {
    const collect = async (): Promise<string[]> => {
      const v = await venue({ rate: 20_000, seed: 99, maxTicks: 800 });
      const c = await connect(`${v.wsUrl}/stream?streams=btcusdt@bookTicker/btcusdt@aggTrade/btcusdt@depth`);
      await waitFor(() => c.frames.length >= 800);
      await sleep(50);
      expect(c.frames.length).toBe(800);
      expect(v.stats().eventsGenerated).toBe(800);
      return c.frames.map((f) => f.replace(/"[ET]":\d+/g, ''));
    };
    const a = await collect();
    const b = await collect();
    expect(a).toEqual(b);
  });

  it('dropStreams() closes every market-data socket', async () => {
    const v = await venue({ rate: 2000 });
    const a = await connect(`${v.wsUrl}/ws/btcusdt@bookTicker`);
    const b = await connect(`${v.wsUrl}/stream?streams=ethusdt@aggTrade`);
    await waitFor(() => v.stats().connections === 2);
    expect(v.dropStreams()).toBe(2);
    await Promise.all([a.closed, b.closed]);
    expect(a.isClosed() && b.isClosed()).toBe(true);
    expect(v.stats().connections).toBe(0);
    // The venue keeps serving new connections.
    const c = await connect(`${v.wsUrl}/ws/btcusdt@bookTicker`);
    await waitFor(() => c.frames.length > 0);
  });

  it('counts slow-consumer drops instead of buffering without bound', async () => {
    const v = await venue({ rate: 50_000, maxBufferedBytes: 64 * 1024 });
    // A client that completes the handshake and then never reads.
    const sock = net.connect(v.port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(
      'GET /stream?streams=btcusdt@bookTicker/btcusdt@aggTrade/btcusdt@depth HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await new Promise<void>((r) => sock.once('data', () => r()));
    sock.pause();
    await waitFor(() => v.stats().slowConsumerDrops > 0, 5000);
    expect(v.stats().connections).toBe(1);
    sock.destroy();
  });
});

// ---- venue: REST -----------------------------------------------------------------------------------------

describe('sim: binance venue REST', () => {
  it('serves time and exchangeInfo with filters and weight headers', async () => {
    const v = await venue();
    const t = await request(`${v.restUrl}/fapi/v1/time`);
    const { serverTime } = (await t.body.json()) as { serverTime: number };
    expect(Math.abs(serverTime - Date.now())).toBeLessThan(1000);
    expect(t.headers['x-mbx-used-weight-1m']).toBe('1');
    const r = await request(`${v.restUrl}/fapi/v1/exchangeInfo`);
    const info = (await r.body.json()) as { rateLimits: unknown[]; symbols: Array<{ symbol: string; filters: Array<Record<string, string>> }> };
    expect(info.rateLimits).toHaveLength(3);
    const btc = info.symbols.find((s) => s.symbol === 'BTCUSDT')!;
    const types = btc.filters.map((f) => f['filterType']);
    expect(types).toEqual(expect.arrayContaining(['PRICE_FILTER', 'LOT_SIZE', 'MARKET_LOT_SIZE', 'MIN_NOTIONAL']));
    expect(btc.filters.find((f) => f['filterType'] === 'PRICE_FILTER')!['tickSize']).toBe('0.10');
    expect(btc.filters.find((f) => f['filterType'] === 'LOT_SIZE')!['stepSize']).toBe('0.001');
    expect(r.headers['x-mbx-used-weight-1m']).toBe('2');
    const nf = await request(`${v.restUrl}/fapi/v1/nope`);
    expect(nf.statusCode).toBe(404);
    await nf.body.dump();
  });

  it('fills a signed MARKET order at the best price seen on the stream', async () => {
    const v = await venue({ rate: 5000, seed: 31 });
    const c = await connect(`${v.wsUrl}/ws/btcusdt@bookTicker`);
    await waitFor(() => c.frames.length > 50);
    v.pause();
    await sleep(30);
    const last = JSON.parse(c.frames[c.frames.length - 1]!) as Record<string, string>;
    expect(v.top('BTCUSDT').ask).toBe(last['a']);

    const buy = await signedCall(v, { params: { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002', newOrderRespType: 'RESULT', newClientOrderId: 'test-buy-1' } });
    expect(buy.status).toBe(200);
    expect(buy.json['status']).toBe('FILLED');
    expect(buy.json['avgPrice']).toBe(last['a']);
    expect(buy.json['executedQty']).toBe('0.002');
    expect(buy.json['clientOrderId']).toBe('test-buy-1');
    expect(buy.json['cumQuote']).toBe((Number(last['a']) * 0.002).toFixed(5));
    expect(buy.headers['x-mbx-order-count-10s']).toBe('1');
    expect(buy.headers['x-mbx-order-count-1m']).toBe('1');
    expect(buy.headers['x-mbx-used-weight-1m']).toBeDefined();
    expect(Object.keys(buy.json)).toEqual([
      'orderId', 'symbol', 'status', 'clientOrderId', 'price', 'avgPrice', 'origQty', 'executedQty', 'cumQty', 'cumQuote', 'timeInForce', 'type',
      'reduceOnly', 'closePosition', 'side', 'positionSide', 'stopPrice', 'workingType', 'priceProtect', 'origType', 'priceMatch',
      'selfTradePreventionMode', 'goodTillDate', 'updateTime',
    ]);

    // Our own trade shows on the public stream.
    await waitFor(() => c.frames.length > 0 && (JSON.parse(c.frames[c.frames.length - 1]!) as { u: number }).u > Number(last['u']));

    // Default response type is ACK: NEW with nothing executed, but the venue filled it.
    const bidBefore = v.top('BTCUSDT').bid;
    const sell = await signedCall(v, { params: { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.002' } });
    expect(sell.status).toBe(200);
    expect(sell.json['status']).toBe('NEW');
    expect(sell.json['executedQty']).toBe('0.000');
    expect(typeof sell.json['clientOrderId']).toBe('string');
    const fills = v.fills();
    expect(fills).toHaveLength(2);
    expect(fills[0]).toMatchObject({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.002', price: last['a'], orderId: buy.json['orderId'], clientOrderId: 'test-buy-1' });
    expect(fills[1]).toMatchObject({ symbol: 'BTCUSDT', side: 'SELL', qty: '0.002', price: bidBefore, orderId: sell.json['orderId'] });
    expect(v.positions()).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', positionAmt: '0.000' })]);
  });

  it('rejects bad requests with the venue error codes', async () => {
    const v = await venue({
      rate: 1000,
      symbols: [
        'BTCUSDT',
        {
          symbol: 'TESTUSDT', baseAsset: 'TEST', quoteAsset: 'USDT', tickSize: '0.05', stepSize: '0.5', minPrice: '0.05', maxPrice: '100000',
          minQty: '0.5', maxQty: '100000', minNotional: '5', initialPrice: '100', typicalLevelQty: '50',
        },
      ],
    });
    const base = { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002' };
    const expectErr = async (call: OrderCall, code: number, status = 400): Promise<Record<string, unknown>> => {
      const r = await signedCall(v, call);
      expect({ status: r.status, code: r.json['code'] }).toEqual({ status, code });
      expect(typeof r.json['msg']).toBe('string');
      expect(r.headers['x-mbx-used-weight-1m']).toBeDefined();
      return r.json;
    };
    await expectErr({ params: base, badSignature: true }, -1022);
    await expectErr({ params: base, apiKey: null }, -2015, 401);
    await expectErr({ params: base, apiKey: 'nope' }, -2015, 401);
    await expectErr({ params: base, timestamp: Date.now() - 10_000 }, -1021);
    await expectErr({ params: base, timestamp: Date.now() + 5_000 }, -1021);
    await signedCall(v, { params: { ...base, recvWindow: '20000' }, timestamp: Date.now() - 10_000 }).then((r) => expect(r.status).toBe(200));
    await expectErr({ params: { ...base, symbol: 'FOOUSDT' } }, -1121);
    const missing = await expectErr({ params: { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET' } }, -1102);
    expect(missing['msg']).toBe("Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
    await expectErr({ params: { ...base, side: 'UP' } }, -1117);
    await expectErr({ params: { ...base, type: 'BEST' } }, -1116);
    await expectErr({ params: { ...base, quantity: '0.0001' } }, -1111);
    await expectErr({ params: { ...base, quantity: '0' } }, -4003);
    await expectErr({ params: { ...base, symbol: 'TESTUSDT', quantity: '1.25' } }, -1111);
    await expectErr({ params: { ...base, symbol: 'TESTUSDT', quantity: '0.7' } }, -4023);
    await expectErr({ params: { ...base, price: '100000.00' } }, -1106);
    await expectErr({ params: { ...base, type: 'LIMIT', timeInForce: 'GTC', price: '100000.05' } }, -4014);
    await expectErr({ params: { ...base, type: 'LIMIT', price: '100000.00' } }, -1102);
    await expectErr({ params: { ...base, quantity: '0.001', type: 'LIMIT', timeInForce: 'GTC', price: '1000.00' } }, -4164);

    // IOC LIMIT that does not cross: EXPIRED, nothing executed.
    const top = v.top('BTCUSDT');
    const below = (Number(top.ask) - 50).toFixed(2);
    const ioc = await signedCall(v, { params: { ...base, type: 'LIMIT', timeInForce: 'IOC', price: below, newOrderRespType: 'RESULT' } });
    expect(ioc.status).toBe(200);
    expect(ioc.json).toMatchObject({ status: 'EXPIRED', executedQty: '0.000', price: below, timeInForce: 'IOC', type: 'LIMIT' });

    // GTC rests; the same client id again is a duplicate while it is open; GTX that would cross is rejected.
    const gtc = { ...base, type: 'LIMIT', timeInForce: 'GTC', price: below, newClientOrderId: 'dup-1' };
    const first = await signedCall(v, { params: gtc });
    expect(first.json['status']).toBe('NEW');
    await expectErr({ params: gtc }, -4116);
    await expectErr({ params: { ...base, type: 'LIMIT', timeInForce: 'GTX', price: (Number(top.ask) + 10).toFixed(2) } }, -5022);
    const cancel = await signedCall(v, { method: 'DELETE', params: { symbol: 'BTCUSDT', origClientOrderId: 'dup-1' } });
    expect(cancel.json).toMatchObject({ status: 'CANCELED', clientOrderId: 'dup-1' });
    await expectErr({ method: 'DELETE', params: { symbol: 'BTCUSDT', origClientOrderId: 'dup-1' } }, -2011);
    expect(v.fills()).toHaveLength(1); // only the recvWindow order traded
  });

  it('takes parameters from query and body, query winning, signed over query + body', async () => {
    const v = await venue({ rate: 1000 });
    const r = await signedCall(v, {
      queryParams: { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET' },
      params: { side: 'BUY', quantity: '0.002', newOrderRespType: 'RESULT' },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ side: 'SELL', status: 'FILLED', executedQty: '0.002' });
  });

  it('places orders over the WebSocket API', async () => {
    const v = await venue({ rate: 1000 });
    const c = await connect(v.wsApiUrl);
    const params: Record<string, string | number> = {
      apiKey: v.apiKey,
      symbol: 'ETHUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.010',
      newOrderRespType: 'RESULT',
      timestamp: Date.now(),
    };
    params['signature'] = hmac(v.apiSecret, wsApiPayload(params));
    c.ws.send(JSON.stringify({ id: 'a1', method: 'order.place', params }));
    await waitFor(() => c.frames.length === 1);
    const ok = JSON.parse(c.frames[0]!) as { id: string; status: number; result: Record<string, unknown>; rateLimits: unknown[] };
    expect(ok).toMatchObject({ id: 'a1', status: 200, result: { status: 'FILLED', executedQty: '0.010', symbol: 'ETHUSDT' } });
    expect(ok.rateLimits).toHaveLength(3);
    c.ws.send(JSON.stringify({ id: 'a2', method: 'order.place', params: { ...params, quantity: '0.020' } }));
    await waitFor(() => c.frames.length === 2);
    expect(JSON.parse(c.frames[1]!)).toMatchObject({ id: 'a2', status: 400, error: { code: -1022 } });
  });

  it('close() frees the port', async () => {
    const v = await startBinanceVenue({ rate: 1000 });
    const c = await connect(`${v.wsUrl}/ws/btcusdt@bookTicker`);
    await waitFor(() => c.frames.length > 0);
    const port = v.port;
    await v.close();
    await c.closed;
    await expect(request(`http://127.0.0.1:${port}/fapi/v1/time`)).rejects.toThrow();
    const again = await venue({ port });
    expect(again.port).toBe(port);
  });
});
