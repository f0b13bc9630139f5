import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli/args.js';
import { gateSubscribeFrames, recordOptionsFromArgs, startRecorder } from '../src/cli/record.js';
import { SIM_SOURCE_FLAGS, simSourceOptions, simSourceSummary } from '../src/cli/simSource.js';
import { verifyBookFile } from '../src/cli/verifyBook.js';
import { DEFAULT_CONFIG } from '../src/config/Config.js';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { FeedHandler } from '../src/feed/FeedHandler.js';
import { BookState, MARKET_SLOT_BYTES } from '../src/ring/layout.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { startGateVenue, type GateVenueHandle, type GateVenueOptions } from '../src/sim/gate/GateVenue.js';
import { GateReplaySource } from '../src/sim/gate/replay.js';
import { signRest } from '../src/sim/gate/signing.js';
import { RecordingReader, RecordingSource } from '../src/venues/binance/recording.js';
import { HAVE_SHARED_FIXTURES, NO_FIXTURES_MESSAGE, fixturePath } from './helpers/fixtures.js';
import { sleep, until } from './helpers/wait.js';

// ---- helpers --------------------------------------------------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), 'hft-sim-gate-replay-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const venues: GateVenueHandle[] = [];
afterEach(async () => {
  for (const v of venues.splice(0)) await v.close();
});

async function venue(opts: GateVenueOptions): Promise<GateVenueHandle> {
  const v = await startGateVenue({ host: '127.0.0.1', port: 0, ...opts });
  venues.push(v);
  return v;
}

interface Line {
  ts: number;
  src: RecordingSource;
  url: string;
  msg: string;
}

function readLines(file: string): Line[] {
  const out: Line[] = [];
  for (const l of RecordingReader.open(file)) out.push({ ts: l.ts, src: l.src, url: l.url, msg: Buffer.from(l.buf.subarray(l.msgStart, l.msgEnd)).toString('utf8') });
  return out;
}

/** The recorded pushes (`event: update`), byte-exact, in order; subscribe acks left out. */
function pushes(lines: readonly Line[]): string[] {
  return lines.filter((l) => l.src === RecordingSource.Ws && (JSON.parse(l.msg) as { event?: unknown }).event === 'update').map((l) => l.msg);
}

function contractsOf(lines: readonly Line[]): string[] {
  const set = new Set<string>();
  for (const m of pushes(lines)) {
    const r = (JSON.parse(m) as { result: unknown }).result;
    const first = (Array.isArray(r) ? r[0] : r) as Record<string, unknown>;
    const name = typeof first['s'] === 'string' ? first['s'] : typeof first['contract'] === 'string' ? first['contract'] : String(first['n']).replace(/^[^_]+_/, '');
    set.add(name);
  }
  return [...set].sort();
}

interface Top {
  bid: number;
  bidSize: number;
  ask: number;
  askSize: number;
}

interface Expected {
  /** the book rebuilt the §2.5 way (first snapshot, updates with u > id, the first straddling id + 1) */
  synced: boolean;
  lastU: number;
  top: Top;
  /** the last book_ticker of the contract */
  ticker: (Top & { u: number }) | null;
}

/** An independent rebuild of each contract's book from a recording, in file order. */
function expectedBooks(lines: readonly Line[]): Map<string, Expected> {
  const books = new Map<string, { bids: Map<number, number>; asks: Map<number, number>; id: number; lastU: number; synced: boolean; ticker: Expected['ticker']; pending: Array<Record<string, unknown>> }>();
  const get = (c: string): NonNullable<ReturnType<typeof books.get>> => {
    let b = books.get(c);
    if (!b) books.set(c, (b = { bids: new Map(), asks: new Map(), id: -1, lastU: 0, synced: false, ticker: null, pending: [] }));
    return b;
  };
  const apply = (b: NonNullable<ReturnType<typeof books.get>>, r: Record<string, unknown>): void => {
    for (const [side, key] of [[b.bids, 'b'], [b.asks, 'a']] as const) {
      for (const l of r[key] as Array<{ p: string; s: number }>) {
        if (l.s === 0) side.delete(Number(l.p));
        else side.set(Number(l.p), l.s);
      }
    }
    b.lastU = r['u'] as number;
  };
  const onUpdate = (b: NonNullable<ReturnType<typeof books.get>>, r: Record<string, unknown>): void => {
    const U = r['U'] as number;
    const u = r['u'] as number;
    if (b.id < 0) return;
    if (!b.synced) {
      if (u < b.id + 1) return;
      expect(U).toBeLessThanOrEqual(b.id + 1);
      b.synced = true;
    } else expect(U).toBe(b.lastU + 1);
    apply(b, r);
  };
  for (const l of lines) {
    if (l.src === RecordingSource.Rest && l.url.includes('/order_book')) {
      const c = /contract=([A-Z0-9_]+)/.exec(l.url)![1]!;
      const b = get(c);
      if (b.id >= 0) continue; // the first snapshot only
      const o = JSON.parse(l.msg) as { id: number; bids: Array<{ p: string; s: number }>; asks: Array<{ p: string; s: number }> };
      b.id = o.id;
      b.lastU = o.id;
      for (const x of o.bids) b.bids.set(Number(x.p), x.s);
      for (const x of o.asks) b.asks.set(Number(x.p), x.s);
      for (const r of b.pending.splice(0)) onUpdate(b, r);
      continue;
    }
    if (l.src !== RecordingSource.Ws) continue;
    const m = JSON.parse(l.msg) as { channel: string; event: string; result: Record<string, unknown> };
    if (m.event !== 'update') continue;
    if (m.channel === 'futures.order_book_update') {
      const b = get(m.result['s'] as string);
      if (b.id < 0) b.pending.push(m.result);
      else onUpdate(b, m.result);
    } else if (m.channel === 'futures.book_ticker') {
      const r = m.result;
      get(r['s'] as string).ticker = { u: r['u'] as number, bid: Number(r['b']), bidSize: r['B'] as number, ask: Number(r['a']), askSize: r['A'] as number };
    }
  }
  const out = new Map<string, Expected>();
  for (const [c, b] of books) {
    const bid = Math.max(...b.bids.keys());
    const ask = Math.min(...b.asks.keys());
    out.set(c, { synced: b.synced, lastU: b.lastU, top: { bid, bidSize: b.bids.get(bid) ?? 0, ask, askSize: b.asks.get(ask) ?? 0 }, ticker: b.ticker });
  }
  return out;
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const r = await request(url);
  return { status: r.statusCode, text: await r.body.text() };
}

/** The recorded body of the first REST snapshot of a contract. */
function recordedSnapshot(lines: readonly Line[], contract: string): string {
  return lines.find((l) => l.src === RecordingSource.Rest && l.url.includes(`contract=${contract}&`))!.msg;
}

interface Run {
  v: GateVenueHandle;
  feed: FeedHandler;
  recorded: Line[];
}

/**
 * Replays `file` at `speed` to the engine's Gate feed (book_ticker + order_book_update) and, on a second
 * connection, to `hft record --venue gate --snapshot` subscribed to every recorded channel. The replay starts
 * once both have their subscriptions acked, so both see every push.
 */
async function replayToFeedAndRecorder(file: string, speed: number, name: string): Promise<Run> {
  const lines = readLines(file);
  const contracts = contractsOf(lines);
  const v = await venue({ source: { kind: 'replay', file, speed, manualStart: true } });
  const ring = SpscRing.create('A', 1 << 15, MARKET_SLOT_BYTES);
  const feed = new FeedHandler(new SymbolRegistry(contracts), ring, {
    ...DEFAULT_CONFIG.feed,
    venue: 'gate',
    wsBase: v.origin.replace('http', 'ws'),
    restUrl: v.restUrl,
    symbols: contracts,
    streams: ['book_ticker', 'order_book_update@100ms@100'],
    controlPerSecond: 50,
    reconnect: { initialMs: 20, maxMs: 200, jitter: 0.3 },
    book: { ...DEFAULT_CONFIG.book, resyncBackoffMs: 20 },
  });
  const drain = setInterval(() => ring.release(ring.poll()), 1);
  const out = join(tmp, `${name}-rec.jsonl`);
  const channels = ['futures.candlesticks', 'futures.order_book_update', 'futures.book_ticker', 'futures.trades'];
  const o = recordOptionsFromArgs(['--venue', 'gate', '--url', v.origin.replace('http', 'ws'), '--symbols', contracts.join(','), '--streams', channels.join(','), '--snapshot', '--out', out]);
  const rec = startRecorder(o);
  feed.start();
  try {
    const acks = o.send!.length;
    await rec.connected();
    await until(() => rec.stats().frames >= acks && feed.connections[0]!.subscriptions.counters.acked >= contracts.length + 1, 10_000, 'subscriptions');
    v.replay!.start();
    await v.replay!.whenDone();
    const total = v.replay!.stats().framesTotal;
    await until(() => rec.stats().frames >= acks + total, 10_000, `${total} pushes at the recorder`);
    await sleep(50);
    await rec.stop();
    return { v, feed, recorded: readLines(out) };
  } finally {
    clearInterval(drain);
  }
}

/** The feed's books equal the independent rebuild; where the last book_ticker is of the same u, it too (returns how many such). */
async function expectBooks(feed: FeedHandler, lines: readonly Line[], contracts: readonly string[]): Promise<number> {
  const want = expectedBooks(lines);
  const live = contracts.filter((c) => want.get(c)?.synced);
  await until(() => live.every((c) => feed.bookState(contracts.indexOf(c)) === BookState.Live && feed.book(contracts.indexOf(c)).lastUpdateId === want.get(c)!.lastU), 10_000, 'books live at the last update');
  const c = feed.counters();
  expect(c).toMatchObject({ bookGaps: 0, decodeErrors: 0, ringDrops: 0 });
  let tickerChecks = 0;
  for (const name of contracts) {
    const s = contracts.indexOf(name);
    const w = want.get(name)!;
    if (!w.synced) {
      // no update after the snapshot in the recording: nothing can join it (verify-book leaves it syncing too)
      expect(feed.bookState(s), name).not.toBe(BookState.Live);
      continue;
    }
    const b = feed.book(s);
    expect({ name, top: { bid: b.bestBid, bidSize: b.bestBidQty, ask: b.bestAsk, askSize: b.bestAskQty } }).toEqual({ name, top: w.top });
    if (w.ticker !== null && w.ticker.u === w.lastU) {
      tickerChecks++;
      expect({ name, top: w.top }).toEqual({ name, top: { bid: w.ticker.bid, bidSize: w.ticker.bidSize, ask: w.ticker.ask, askSize: w.ticker.askSize } });
    }
  }
  return tickerChecks;
}

// ---- a recording of our own ---------------------------------------------------------------------------

class Lcg {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0;
    return this.s / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

interface OwnRecording {
  file: string;
  contracts: string[];
  snapshotBodies: Record<string, string>;
  /** per contract: the first ask, the lowest ask later, the last ask (prices as printed) */
  asks: Record<string, { first: string; min: string; last: string }>;
  lastU: Record<string, number>;
}

/**
 * A Gate recording made up here: per contract a book (tick 0.01, integer sizes) changed by order_book_update
 * pushes chained `U == previous u + 1`, each preceded by the book_ticker of the same `u`, a few trades and a
 * candle, one REST snapshot (with_id) per contract after its third push, ws_out subscribe frames and acks.
 */
function writeOwnRecording(file: string, opts: { events: number; gapMs: [number, number]; seed: number }): OwnRecording {
  const names = ['AAA_USDT', 'BBB_USDT'];
  const rng = new Lcg(opts.seed);
  const url = 'wss://fx-ws.gateio.ws/v4/ws/usdt';
  const lines: string[] = [];
  let ts = 1_700_000_000.25;
  const tsText = (): string => ts.toFixed(6);
  const out: OwnRecording = { file, contracts: names, snapshotBodies: {}, asks: {}, lastU: {} };
  lines.push(`{"ts":${tsText()},"src":"connect","url":"${url}","msg":null}`);
  for (const ch of ['futures.order_book_update', 'futures.book_ticker', 'futures.trades']) {
    ts += 0.001;
    lines.push(`{"ts":${tsText()},"src":"ws_out","url":"${url}","msg":{"time":1700000000,"channel":"${ch}","event":"subscribe","payload":${JSON.stringify(names)}}}`);
  }
  for (const ch of ['futures.order_book_update', 'futures.book_ticker', 'futures.trades']) {
    ts += 0.01;
    lines.push(`{"ts":${tsText()},"src":"ws","url":"${url}","msg":{"time":1700000000,"time_ms":0,"channel":"${ch}","event":"subscribe","result":{"status":"success"}}}`);
  }
  const books = names.map((_, i) => {
    const mid = 10_000 + i * 20_000;
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    for (let k = 3; k <= 12; k++) {
      bids.set(mid - k, 10 + rng.int(500));
      asks.set(mid + k, 10 + rng.int(500));
    }
    return { mid, bids, asks, lastU: 5_000_000 + i * 1_000_000, events: 0, snap: false, trade: 1000 };
  });
  const px = (t: number): string => String(t / 100);
  let ms = 1_700_000_000_300;
  const frame = (channel: string, result: string): string => `{"time":${Math.floor(ms / 1000)},"time_ms":${ms},"channel":"${channel}","event":"update","result":${result}}`;
  const push = (msg: string): void => {
    ts += (opts.gapMs[0] + rng.next() * (opts.gapMs[1] - opts.gapMs[0])) / 1000;
    ms += 7;
    lines.push(`{"ts":${tsText()},"src":"ws","url":"${url}","msg":${msg}}`);
  };
  for (let n = 0; n < opts.events; n++) {
    const si = rng.int(names.length);
    const name = names[si]!;
    const b = books[si]!;
    const U = b.lastU + 1;
    const u = U + rng.int(5);
    if (!b.snap && b.events >= 3) {
      b.snap = true;
      const lv = (m: Map<number, number>, desc: boolean): string =>
        JSON.stringify([...m].sort((x, y) => (desc ? y[0] - x[0] : x[0] - y[0])).map(([t, q]) => ({ s: q, p: px(t) })));
      const body = `{"current":${(ms / 1000).toFixed(3)},"update":${((ms - 5) / 1000).toFixed(3)},"asks":${lv(b.asks, false)},"bids":${lv(b.bids, true)},"id":${b.lastU}}`;
      out.snapshotBodies[name] = body;
      ts += 0.002;
      lines.push(`{"ts":${tsText()},"src":"rest","url":"https://api.gateio.ws/api/v4/futures/usdt/order_book?contract=${name}&limit=100&with_id=true","msg":${body}}`);
    }
    const chB: Array<[number, number]> = [];
    const chA: Array<[number, number]> = [];
    for (let k = 1 + rng.int(3); k > 0; k--) {
      const bidSide = rng.next() < 0.5;
      const side = bidSide ? b.bids : b.asks;
      // the first pushes change deeper levels only, so the first touch stays 3 ticks off the mid
      const dist = (b.events < 10 ? 4 : 1) + rng.int(6);
      const t = bidSide ? b.mid - dist : b.mid + dist;
      const q = rng.next() < 0.25 && side.size > 3 ? 0 : 1 + rng.int(900);
      if (q === 0) side.delete(t);
      else side.set(t, q);
      (bidSide ? chB : chA).push([t, q]);
    }
    const bestBid = Math.max(...b.bids.keys());
    const bestAsk = Math.min(...b.asks.keys());
    push(frame('futures.book_ticker', `{"t":${ms},"u":${u},"s":"${name}","b":"${px(bestBid)}","B":${b.bids.get(bestBid)},"a":"${px(bestAsk)}","A":${b.asks.get(bestAsk)}}`));
    const a = out.asks[name];
    if (!a) out.asks[name] = { first: px(bestAsk), min: px(bestAsk), last: px(bestAsk) };
    else {
      a.last = px(bestAsk);
      if (bestAsk < Math.round(Number(a.min) * 100)) a.min = px(bestAsk);
    }
    if (rng.next() < 0.2) {
      b.trade++;
      push(frame('futures.trades', `[{"size":${1 + rng.int(20)},"id":${b.trade},"create_time":${Math.floor(ms / 1000)},"create_time_ms":${ms},"price":"${px(bestAsk)}","contract":"${name}"}]`));
    }
    const lv = (ch: Array<[number, number]>): string => JSON.stringify(ch.map(([t, q]) => ({ p: px(t), s: q })));
    push(frame('futures.order_book_update', `{"t":${ms - 3},"s":"${name}","U":${U},"u":${u},"b":${lv(chB)},"a":${lv(chA)}}`));
    b.lastU = u;
    b.events++;
    if (n === 5) push(frame('futures.candlesticks', `[{"t":${Math.floor(ms / 60_000) * 60},"v":3,"c":"${px(bestAsk)}","h":"${px(bestAsk)}","l":"${px(bestBid)}","o":"${px(bestBid)}","n":"1m_${name}","a":"3"}]`));
  }
  for (let i = 0; i < names.length; i++) out.lastU[names[i]!] = books[i]!.lastU;
  writeFileSync(file, lines.join('\n') + '\n');
  return out;
}

async function order(v: GateVenueHandle, body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const path = '/api/v4/futures/usdt/orders';
  const text = JSON.stringify(body);
  const ts = String(Math.floor(Date.now() / 1000));
  const r = await request(`${v.origin}${path}`, {
    method: 'POST',
    headers: { KEY: v.apiKey, Timestamp: ts, SIGN: signRest(v.apiSecret, 'POST', path, '', text, ts), 'Content-Type': 'application/json' },
    body: text,
  });
  return { status: r.statusCode, json: (await r.body.json()) as Record<string, unknown> };
}

// ---- tests: our own recording ---------------------------------------------------------------------------

describe('sim gate replay: a recording of our own', () => {
  it('loads: contracts, derived price round, pushes (acks left out), snapshots', () => {
    const own = writeOwnRecording(join(tmp, 'own-load.jsonl'), { events: 120, gapMs: [2, 10], seed: 1 });
    const src = GateReplaySource.load(own.file);
    expect(src.contracts.map((c) => c.name)).toEqual(own.contracts);
    for (const c of src.contracts) expect([c.spec.orderPriceRound, c.spec.quantoMultiplier]).toEqual(['0.01', '1']);
    const n = pushes(readLines(own.file)).length;
    expect(src.frameCount).toBe(n);
    expect(src.loadStats).toEqual({ frames: n, snapshots: 2, skippedFrames: 3, outgoing: 3, malformedLines: 0 });
    // a spec of the same name replaces the derived one (a recording does not show the quanto multiplier)
    const withSpec = GateReplaySource.load(own.file, [{ ...src.contracts[0]!.spec, quantoMultiplier: '0.1' }, 'BTC_USDT']);
    expect(withSpec.contracts.map((c) => c.spec.quantoMultiplier)).toEqual(['0.1', '1']);
  });

  it('speed 0: the feed syncs every book and ends on the last top; the recorder gets every push byte-exact; REST order_book and contracts from the recording', async () => {
    const own = writeOwnRecording(join(tmp, 'own-rt.jsonl'), { events: 400, gapMs: [2, 10], seed: 2 });
    const original = readLines(own.file);
    const v0 = await venue({ source: { kind: 'replay', file: own.file, speed: 0, manualStart: true } });
    const contracts = JSON.parse((await get(`${v0.restUrl}/futures/usdt/contracts`)).text) as Array<{ name: string; order_price_round: string; quanto_multiplier: string }>;
    expect(contracts.map((c) => [c.name, c.order_price_round, c.quanto_multiplier])).toEqual(own.contracts.map((n) => [n, '0.01', '1']));
    // before the replay: the recorded snapshot, verbatim at limit 100, cut at 2
    const d = await get(`${v0.restUrl}/futures/usdt/order_book?contract=AAA_USDT&limit=100&with_id=true`);
    expect(d).toEqual({ status: 200, text: own.snapshotBodies['AAA_USDT'] });
    const full = JSON.parse(own.snapshotBodies['AAA_USDT']!) as { asks: unknown[]; bids: unknown[] };
    expect(JSON.parse((await get(`${v0.restUrl}/futures/usdt/order_book?contract=AAA_USDT&limit=2&with_id=true`)).text)).toEqual({ ...full, asks: full.asks.slice(0, 2), bids: full.bids.slice(0, 2) });
    expect((await get(`${v0.restUrl}/futures/usdt/order_book?contract=NOPE_USDT&limit=2&with_id=true`)).status).toBe(400);
    await v0.close();

    const { v, feed, recorded } = await replayToFeedAndRecorder(own.file, 0, 'own-rt');
    try {
      const st = v.replay!.stats();
      expect(st).toMatchObject({ done: true, framesReplayed: st.framesTotal, framesSent: st.framesTotal, snapshotsReplayed: 2, laps: 1, framesSkipped: 3 });
      expect(pushes(recorded)).toEqual(pushes(original));
      expect(await expectBooks(feed, original, own.contracts)).toBe(2);
      expect(feed.counters()).toMatchObject({ bookResyncs: 0 });
      for (const [s, name] of own.contracts.entries()) {
        expect(v.top(name).ask).toBe(own.asks[name]!.last);
        expect(feed.book(s).bestAsk).toBe(Number(own.asks[name]!.last));
      }
      // far past the recorded snapshot: the rebuilt book, whose id the last push (already in it) joins
      const late = JSON.parse((await get(`${v.restUrl}/futures/usdt/order_book?contract=AAA_USDT&limit=100&with_id=true`)).text) as { id: number; asks: Array<{ p: string; s: number }> };
      const lastObu = pushes(original).filter((m) => m.includes('order_book_update') && m.includes('AAA_USDT')).pop()!;
      const last = (JSON.parse(lastObu) as { result: { U: number; u: number } }).result;
      expect(last.u).toBe(own.lastU['AAA_USDT']);
      expect(late.id).toBe(last.U - 1);
      expect(late.asks[0]!.p).toBe(own.asks['AAA_USDT']!.last);
      // hft record --snapshot on the replaying sim: verify-book syncs on the re-recording as on the original
      const again = verifyBookFile(join(tmp, 'own-rt-rec.jsonl'), 'gate');
      const orig = verifyBookFile(own.file, 'gate');
      for (const name of own.contracts) {
        expect(again.result.symbols[name]).toMatchObject({ gaps: 0, mismatches: 0 });
        expect(again.details.states[name]).toBe('live');
        expect(orig.result.symbols[name]).toMatchObject({ gaps: 0, mismatches: 0 });
      }
    } finally {
      feed.stop();
    }
  });

  it('a client asking in mid-replay, long past the recorded snapshot, syncs on the rebuilt book (id = last u)', async () => {
    const own = writeOwnRecording(join(tmp, 'own-late.jsonl'), { events: 400, gapMs: [2, 4], seed: 9 });
    const all = pushes(readLines(own.file));
    const isAaaUpdate = (m: string): boolean => m.includes('order_book_update') && m.includes('AAA_USDT');
    // stop 120 AAA_USDT updates in: past the recorded snapshot (after its 3rd), with more of them left
    let stopAt = 0;
    for (let k = 0; k < 120; stopAt++) if (isAaaUpdate(all[stopAt]!)) k++;
    expect(all.slice(stopAt).some(isAaaUpdate)).toBe(true);
    const v = await venue({ source: { kind: 'replay', file: own.file, speed: 0, maxFrames: stopAt, manualStart: true } });
    v.replay!.start();
    await v.replay!.whenDone();
    const body = JSON.parse((await get(`${v.restUrl}/futures/usdt/order_book?contract=AAA_USDT&limit=100&with_id=true`)).text) as { id: number; asks: Array<{ p: string }> };
    // the id is the book's last u, so the next push (U = id + 1) joins it
    const replayed = all.slice(0, stopAt).filter(isAaaUpdate);
    const lastU = (JSON.parse(replayed[replayed.length - 1]!) as { result: { u: number } }).result.u;
    expect(body.id).toBe(lastU);
    const next = (JSON.parse(all.slice(stopAt).find(isAaaUpdate)!) as { result: { U: number } }).result;
    expect(next.U).toBe(body.id + 1);
    expect(body.asks[0]!.p).toBe(v.top('AAA_USDT').ask);
  });

  it('orders execute against the replayed book: a resting bid fills when the replayed ask reaches it, a market buy at the last ask', async () => {
    const own = writeOwnRecording(join(tmp, 'own-orders.jsonl'), { events: 300, gapMs: [1, 3], seed: 3 });
    const a = own.asks['AAA_USDT']!;
    expect(Number(a.min)).toBeLessThan(Number(a.first));
    const v = await venue({ source: { kind: 'replay', file: own.file, speed: 0, manualStart: true } });
    expect(v.top('AAA_USDT').ask).toBe(a.first);
    const resting = await order(v, { contract: 'AAA_USDT', size: 3, price: a.min, tif: 'gtc' });
    expect(resting.status).toBe(201);
    expect(resting.json['status']).toBe('open');
    v.replay!.start();
    await v.replay!.whenDone();
    expect(v.fills()).toEqual([expect.objectContaining({ symbol: 'AAA_USDT', side: 'BUY', price: a.min, qty: '3', maker: true })]);
    expect(v.top('AAA_USDT').ask).toBe(a.last);
    const mkt = await order(v, { contract: 'AAA_USDT', size: 2, price: '0', tif: 'ioc' });
    expect(mkt.status).toBe(201);
    expect(mkt.json).toMatchObject({ status: 'finished', finish_as: 'filled', fill_price: a.last });
  });

  it('speed 20 paces the pushes by the recorded time; loop and maxFrames', async () => {
    const own = writeOwnRecording(join(tmp, 'own-pace.jsonl'), { events: 60, gapMs: [10, 30], seed: 5 });
    const original = readLines(own.file);
    const frames = pushes(original).length;
    const span = original[original.length - 1]!.ts - original.find((l) => l.src === RecordingSource.Ws)!.ts;
    const v = await venue({ source: { kind: 'replay', file: own.file, speed: 20, manualStart: true } });
    const t0 = performance.now();
    v.replay!.start();
    await v.replay!.whenDone();
    const elapsed = (performance.now() - t0) / 1000;
    expect(elapsed).toBeGreaterThan((span / 20) * 0.8);
    expect(elapsed).toBeLessThan(span / 20 + 0.5);
    const v2 = await venue({ source: { kind: 'replay', file: own.file, speed: 0, loop: true, maxFrames: frames * 2 + 5, manualStart: true } });
    const send = gateSubscribeFrames(['futures.order_book_update', 'futures.book_ticker', 'futures.trades', 'futures.candlesticks'], own.contracts, 1);
    const rec = startRecorder({ venue: 'gate', url: v2.wsUrl, out: join(tmp, 'loop.jsonl'), send });
    await rec.connected();
    await until(() => rec.stats().frames >= send.length, 5000, 'acks');
    v2.replay!.start();
    await v2.replay!.whenDone();
    await until(() => rec.stats().frames >= send.length + frames * 2 + 5, 10_000, 'frames');
    await rec.stop();
    expect(v2.replay!.stats()).toMatchObject({ done: true, laps: 2, framesReplayed: frames * 2 + 5 });
    const one = pushes(original);
    expect(pushes(readLines(join(tmp, 'loop.jsonl')))).toEqual([...one, ...one, ...one.slice(0, 5)]);
  });

  it('hft sim --venue gate --source: options, refusals and the JSON summary', async () => {
    const own = writeOwnRecording(join(tmp, 'own-cli.jsonl'), { events: 10, gapMs: [1, 2], seed: 8 });
    const parse = (argv: string[]): ReturnType<typeof parseArgs> => parseArgs(argv, [...SIM_SOURCE_FLAGS]);
    expect(simSourceOptions(parse([]), 'gate')).toEqual({});
    expect(simSourceOptions(parse(['--source', own.file, '--speed', '0', '--loop']), 'gate')).toEqual({ source: { kind: 'replay', file: own.file, speed: 0, loop: true } });
    expect(() => simSourceOptions(parse(['--source', join(tmp, 'nope.jsonl')]), 'gate')).toThrow(/no such file/);
    const binanceFile = join(tmp, 'binance.jsonl');
    writeFileSync(binanceFile, '{"ts":1.0,"src":"connect","url":"wss://fstream.binance.com/stream","msg":null}\n');
    expect(() => simSourceOptions(parse(['--source', binanceFile]), 'gate')).toThrow(/not a Gate recording/);
    expect(() => simSourceOptions(parse(['--mirror', 'http://h', 'ws://h']), 'gate')).toThrow(/--venue binance/);
    const v = await venue({ ...simSourceOptions(parse(['--source', own.file, '--speed', '3']), 'gate') });
    expect(simSourceSummary(v)).toEqual({ source: { kind: 'replay', file: own.file, speed: 3, loop: false, frames: pushes(readLines(own.file)).length } });
    const synthetic = await venue({});
    expect(simSourceSummary(synthetic)).toEqual({});
    expect(synthetic.replay).toBeNull();
  });
});

// ---- the shared Gate recording --------------------------------------------------------------------------

const SHARED_GATE = 'recordings/gateio-futures/2023-05-24_10-contracts.jsonl';

describe.skipIf(!HAVE_SHARED_FIXTURES)('sim gate replay: the shared Gate recording', () => {
  for (const speed of [0, 20]) {
    it(`speed ${speed}: the feed's books go Live without gaps and end on the rebuilt top (as verify-book); the recorder gets every push byte-exact`, async () => {
      const file = fixturePath(SHARED_GATE);
      const original = readLines(file);
      const contracts = contractsOf(original);
      expect(contracts.length).toBe(10);
      const { v, feed, recorded } = await replayToFeedAndRecorder(file, speed, `shared-${speed}`);
      try {
        const st = v.replay!.stats();
        expect(st).toMatchObject({ done: true, framesTotal: 428, framesReplayed: 428, framesSent: 428, snapshotsReplayed: 10, framesSkipped: 22 });
        expect(pushes(recorded)).toEqual(pushes(original));
        const listed = JSON.parse((await get(`${v.restUrl}/futures/usdt/contracts`)).text) as Array<{ name: string }>;
        expect(listed.map((c) => c.name)).toEqual(contracts);
        // the feed against verify-book: the same contracts Live, none with a gap, the same final tops
        const vb = verifyBookFile(file, 'gate');
        expect(Object.keys(vb.result.symbols).sort()).toEqual(contracts);
        // (no contract's last book_ticker has the last u here: the final tops are checked against the rebuild alone)
        await expectBooks(feed, original, contracts);
        for (const name of contracts) {
          const s = contracts.indexOf(name);
          expect({ name, live: feed.bookState(s) === BookState.Live }).toEqual({ name, live: vb.details.states[name] === 'live' });
          expect(vb.result.symbols[name]).toMatchObject({ gaps: 0, mismatches: 0 });
        }
        expect(feed.counters().bookGaps).toBe(0);
        // the re-recording (hft record --venue gate --snapshot on the replaying sim) verifies like the original
        const again = verifyBookFile(join(tmp, `shared-${speed}-rec.jsonl`), 'gate');
        for (const name of contracts) {
          expect(again.result.symbols[name], name).toMatchObject({ gaps: 0, mismatches: 0 });
          expect({ name, state: again.details.states[name] }).toEqual({ name, state: vb.details.states[name] });
        }
      } finally {
        feed.stop();
      }
    });
  }

  it('REST order_book answers the recorded snapshot byte-exact', async () => {
    const file = fixturePath(SHARED_GATE);
    const original = readLines(file);
    const v = await venue({ source: { kind: 'replay', file, speed: 0, manualStart: true } });
    for (const name of contractsOf(original)) {
      const r = await get(`${v.restUrl}/futures/usdt/order_book?contract=${name}&limit=100&with_id=true`);
      expect({ name, body: r.text }).toEqual({ name, body: recordedSnapshot(original, name) });
    }
  });
});

if (!HAVE_SHARED_FIXTURES) {
  describe('sim gate replay: the shared Gate recording', () => {
    it.skip(NO_FIXTURES_MESSAGE, () => {});
  });
}
