import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import uWS from 'uWebSockets.js';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config/Config.js';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { FeedHandler } from '../src/feed/FeedHandler.js';
import { MARKET_SLOT_BYTES } from '../src/ring/layout.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { parseArgs } from '../src/cli/args.js';
import { SIM_SOURCE_FLAGS, SIM_SOURCE_OPTIONS, simSourceOptions } from '../src/cli/simSource.js';
import { gateSubscribeFrames, recordCommand, recordOptionsFromArgs, startRecorder } from '../src/cli/record.js';
import { startBinanceVenue, type BinanceVenueHandle, type BinanceVenueOptions } from '../src/sim/binance/BinanceVenue.js';
import { ReplaySource } from '../src/sim/market/ReplaySource.js';
import { RecordingReader, RecordingSource } from '../src/venues/binance/recording.js';
import { HAVE_SHARED_FIXTURES, NO_FIXTURES_MESSAGE, PROJECT_ROOT, fixturePath } from './helpers/fixtures.js';
import { sleep, until } from './helpers/wait.js';

// ---- helpers --------------------------------------------------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), 'hft-sim-replay-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const venues: BinanceVenueHandle[] = [];
afterEach(async () => {
  for (const v of venues.splice(0)) await v.close();
});

async function venue(opts: BinanceVenueOptions): Promise<BinanceVenueHandle> {
  const v = await startBinanceVenue({ host: '127.0.0.1', port: 0, ...opts });
  venues.push(v);
  return v;
}

interface Line {
  ts: number;
  src: RecordingSource;
  url: string;
  msg: string;
}

/** Every line of a recording, `msg` as its exact text. */
function readLines(file: string): Line[] {
  const out: Line[] = [];
  for (const l of RecordingReader.open(file)) {
    out.push({ ts: l.ts, src: l.src, url: l.url, msg: Buffer.from(l.buf.subarray(l.msgStart, l.msgEnd)).toString('utf8') });
  }
  return out;
}

/** Market-data frames of a recording (combined envelopes) per stream, in order; control replies left out. */
function framesByStream(lines: readonly Line[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const l of lines) {
    if (l.src !== RecordingSource.Ws) continue;
    const o = JSON.parse(l.msg) as { stream?: unknown };
    if (typeof o.stream !== 'string') continue;
    let list = m.get(o.stream);
    if (!list) m.set(o.stream, (list = []));
    list.push(l.msg);
  }
  return m;
}

function wsFrames(lines: readonly Line[]): Line[] {
  return lines.filter((l) => l.src === RecordingSource.Ws && (JSON.parse(l.msg) as { stream?: unknown }).stream !== undefined);
}

/** Replays `file` at `speed` to a recorder subscribed (combined, in the URL) to every recorded stream. */
async function roundTrip(file: string, speed: number, out: string): Promise<{ v: BinanceVenueHandle; lines: Line[] }> {
  const streams = [...framesByStream(readLines(file)).keys()];
  const v = await venue({ source: { kind: 'replay', file, speed, startDelayMs: 30 } });
  const rec = startRecorder({ venue: 'binance', url: `${v.wsUrl}/stream?streams=${streams.join('/')}`, out });
  await rec.connected();
  await v.replay!.whenDone();
  const sent = v.replay!.stats().framesSent;
  await until(() => rec.stats().frames >= sent, 20_000, `${sent} frames at the recorder`);
  await sleep(20);
  const st = await rec.stop();
  expect(st.frames).toBe(sent);
  return { v, lines: readLines(out) };
}

interface VerifyResult {
  code: number | null;
  symbols: Record<string, { applied: number; gaps: number; resyncs: number; checks: number; mismatches: number }>;
}

const BIN = join(PROJECT_ROOT, 'bin/hft.js');
const BUILT = join(PROJECT_ROOT, 'dist/src/cli/verifyBook.js');

function verifyBook(file: string): Promise<VerifyResult> {
  expect(existsSync(BUILT), `${BUILT} is missing: build first (npx tsc -p .; npm test does it)`).toBe(true);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, 'verify-book', file], { cwd: PROJECT_ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => {
      try {
        const out = JSON.parse(stdout.trim()) as Pick<VerifyResult, 'symbols'>;
        resolve({ code, symbols: out.symbols });
      } catch {
        reject(new Error(`verify-book printed ${stdout} ${stderr}`));
      }
    });
  });
}

function expectSynced(r: VerifyResult): void {
  expect(Object.keys(r.symbols).length).toBeGreaterThan(0);
  for (const [sym, s] of Object.entries(r.symbols)) {
    expect({ sym, gaps: s.gaps, mismatches: s.mismatches }).toEqual({ sym, gaps: 0, mismatches: 0 });
    expect(s.checks, sym).toBeGreaterThan(0);
  }
  expect(r.code).toBe(0);
}

// ---- a recording of our own ---------------------------------------------------------------------------

/** Small deterministic generator (LCG): no dependency on Math.random. */
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
  /** first and last ts of the ws frames */
  span: number;
  /** per symbol: the first bookTicker ask, the lowest ask seen later, the last ask, as printed */
  asks: Record<string, { first: string; min: string; last: string }>;
  snapshotBodies: Record<string, string>;
}

/**
 * A Binance-style recording made up here: per symbol a book (prices 0.01, quantities 0.001) changing by diff
 * events chained with `pu`, each preceded by the bookTicker with the same `u` (as on the venue, where the
 * real-time bookTicker arrives before the batched depth event), some aggTrades, one REST snapshot per symbol
 * whose lastUpdateId falls inside a later event, a ws_out SUBSCRIBE and its reply. `gapMs` spaces the frames.
 */
function writeOwnRecording(file: string, opts: { events: number; gapMs: [number, number]; seed: number }): OwnRecording {
  const syms = ['BTCUSDT', 'ETHUSDT'];
  const rng = new Lcg(opts.seed);
  const url = 'wss://fstream.binance.com/stream';
  const lines: string[] = [];
  let ts = 1_700_000_000.25;
  const tsText = (): string => ts.toFixed(6);
  const out: OwnRecording = { file, span: 0, asks: {}, snapshotBodies: {} };
  lines.push(`{"ts":${tsText()},"src":"connect","url":"${url}","msg":null}`);
  const streams = syms.flatMap((s) => [`${s.toLowerCase()}@bookTicker`, `${s.toLowerCase()}@aggTrade`, `${s.toLowerCase()}@depth@100ms`]);
  ts += 0.001;
  lines.push(`{"ts":${tsText()},"src":"ws_out","url":"${url}","msg":{"method":"SUBSCRIBE","params":${JSON.stringify(streams)},"id":1}}`);
  ts += 0.02;
  lines.push(`{"ts":${tsText()},"src":"ws","url":"${url}","msg":{"result":null,"id":1}}`);
  const books = syms.map((_, i) => {
    const mid = 10_000 + i * 20_000; // 100.00, 300.00
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    // the first touch is 3 ticks off the mid: later changes come closer (the orders test needs the ask to drop)
    for (let k = 3; k <= 12; k++) {
      bids.set(mid - k, 1000 + rng.int(5000));
      asks.set(mid + k, 1000 + rng.int(5000));
    }
    return { mid, bids, asks, lastU: 5_000_000 + i * 1_000_000, events: 0, snap: false, trade: 1000 };
  });
  const px = (t: number): string => (t / 100).toFixed(2);
  const qx = (q: number): string => (q / 1000).toFixed(3);
  let firstWs = NaN;
  for (let n = 0; n < opts.events; n++) {
    const si = rng.int(syms.length);
    const sym = syms[si]!;
    const lower = sym.toLowerCase();
    const b = books[si]!;
    const U = b.lastU + 1 + rng.int(3);
    const u = U + rng.int(20);
    // the snapshot: the book before this event, lastUpdateId inside [U, u]
    if (!b.snap && b.events >= 3) {
      b.snap = true;
      const bids = [...b.bids].sort((x, y) => y[0] - x[0]).map(([t, q]) => [px(t), qx(q)]);
      const asks = [...b.asks].sort((x, y) => x[0] - y[0]).map(([t, q]) => [px(t), qx(q)]);
      const body = JSON.stringify({ lastUpdateId: U, E: 1700000000000 + n, T: 1700000000000 + n, bids, asks });
      out.snapshotBodies[sym] = body;
      ts += 0.002;
      lines.push(`{"ts":${tsText()},"src":"rest","url":"https://fapi.binance.com/fapi/v1/depth?symbol=${sym}&limit=1000","msg":${body}}`);
    }
    // 1-3 level changes near the touch, never crossing the mid, never emptying a side
    const chB: Array<[number, number]> = [];
    const chA: Array<[number, number]> = [];
    for (let k = 1 + rng.int(3); k > 0; k--) {
      const bidSide = rng.next() < 0.5;
      const side = bidSide ? b.bids : b.asks;
      // the first events of a symbol change deeper levels only, so its first touch stays 3 ticks off the mid
      const dist = (b.events < 10 ? 4 : 1) + rng.int(6);
      const t = bidSide ? b.mid - dist : b.mid + dist;
      const q = rng.next() < 0.25 && side.size > 3 ? 0 : 100 + rng.int(9000);
      if (q === 0) side.delete(t);
      else side.set(t, q);
      (bidSide ? chB : chA).push([t, q]);
    }
    const bestBid = Math.max(...b.bids.keys());
    const bestAsk = Math.min(...b.asks.keys());
    const E = 1700000000000 + n * 7;
    const envelope = (stream: string, data: string): string => `{"stream":"${stream}","data":${data}}`;
    const push = (msg: string): void => {
      ts += (opts.gapMs[0] + rng.next() * (opts.gapMs[1] - opts.gapMs[0])) / 1000;
      if (firstWs !== firstWs) firstWs = ts;
      lines.push(`{"ts":${tsText()},"src":"ws","url":"${url}","msg":${msg}}`);
    };
    push(envelope(`${lower}@bookTicker`, `{"e":"bookTicker","u":${u},"s":"${sym}","b":"${px(bestBid)}","B":"${qx(b.bids.get(bestBid)!)}","a":"${px(bestAsk)}","A":"${qx(b.asks.get(bestAsk)!)}","T":${E},"E":${E + 3}}`));
    const a = out.asks[sym];
    if (!a) out.asks[sym] = { first: px(bestAsk), min: px(bestAsk), last: px(bestAsk) };
    else {
      a.last = px(bestAsk);
      if (bestAsk < Number(a.min) * 100) a.min = px(bestAsk);
    }
    if (rng.next() < 0.3) {
      b.trade++;
      push(envelope(`${lower}@aggTrade`, `{"e":"aggTrade","E":${E},"a":${b.trade},"s":"${sym}","p":"${px(bestAsk)}","q":"${qx(10 + rng.int(500))}","f":${b.trade * 2},"l":${b.trade * 2 + 1},"T":${E},"m":false}`));
    }
    const lv = (ch: Array<[number, number]>): string => JSON.stringify(ch.sort((x, y) => x[0] - y[0]).map(([t, q]) => [px(t), qx(q)]));
    push(envelope(`${lower}@depth@100ms`, `{"e":"depthUpdate","E":${E + 5},"T":${E + 2},"s":"${sym}","U":${U},"u":${u},"pu":${b.lastU},"b":${lv(chB)},"a":${lv(chA)}}`));
    b.lastU = u;
    b.events++;
  }
  out.span = ts - firstWs;
  writeFileSync(file, lines.join('\n') + '\n');
  return out;
}

function hmac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

async function order(v: BinanceVenueHandle, params: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = new URLSearchParams({ ...params, timestamp: String(Date.now()) }).toString();
  const r = await request(`${v.restUrl}/fapi/v1/order`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-mbx-apikey': v.apiKey },
    body: `${body}&signature=${hmac(v.apiSecret, body)}`,
  });
  return { status: r.statusCode, json: (await r.body.json()) as Record<string, unknown> };
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const r = await request(url);
  return { status: r.statusCode, text: await r.body.text() };
}

// ---- tests ----------------------------------------------------------------------------------------------

describe('sim replay: a recording of our own', () => {
  it('loads: symbols, derived tick/step, frames (control reply left out), snapshots', () => {
    const own = writeOwnRecording(join(tmp, 'own-load.jsonl'), { events: 120, gapMs: [2, 12], seed: 1 });
    const src = ReplaySource.load(own.file);
    expect(src.instruments.map((i) => i.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    for (const i of src.instruments) {
      expect(i.spec.tickSize).toBe('0.01');
      expect(i.spec.stepSize).toBe('0.001');
      expect(i.spec.quoteAsset).toBe('USDT');
    }
    const frames = wsFrames(readLines(own.file)).length;
    expect(src.frameCount).toBe(frames);
    expect(src.loadStats).toMatchObject({ frames, snapshots: 2, skippedFrames: 1, outgoing: 1, malformedLines: 0 });
  });

  it('speed 0: every frame reaches the recorder byte-exact and in order, combined and raw; REST depth is the recorded snapshot', async () => {
    const own = writeOwnRecording(join(tmp, 'own-rt.jsonl'), { events: 400, gapMs: [2, 12], seed: 2 });
    const original = readLines(own.file);
    const streams = [...framesByStream(original).keys()];
    const v = await venue({ source: { kind: 'replay', file: own.file, speed: 0, startDelayMs: 30 } });
    // exchangeInfo lists the recording's symbols with the derived filters
    const info = JSON.parse((await get(`${v.restUrl}/fapi/v1/exchangeInfo`)).text) as { symbols: Array<{ symbol: string; filters: Array<Record<string, string>> }> };
    expect(info.symbols.map((s) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(info.symbols[0]!.filters.find((f) => f['filterType'] === 'PRICE_FILTER')!['tickSize']).toBe('0.01');
    // before the replay reaches it, REST depth answers the recording's (first) snapshot: verbatim at limit 1000, cut at 5
    const d = await get(`${v.restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`);
    expect(d.status).toBe(200);
    expect(d.text).toBe(own.snapshotBodies['BTCUSDT']);
    const d5 = JSON.parse((await get(`${v.restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=5`)).text) as { lastUpdateId: number; bids: string[][]; asks: string[][] };
    const full = JSON.parse(own.snapshotBodies['BTCUSDT']!) as { lastUpdateId: number; bids: string[][]; asks: string[][] };
    expect(d5).toEqual({ ...full, bids: full.bids.slice(0, 5), asks: full.asks.slice(0, 5) });

    const combined = startRecorder({ venue: 'binance', url: `${v.wsUrl}/stream?streams=${streams.join('/')}`, out: join(tmp, 'rt-combined.jsonl') });
    const raw = startRecorder({ venue: 'binance', url: `${v.wsUrl}/ws/btcusdt@depth@100ms`, out: join(tmp, 'rt-raw.jsonl') });
    await Promise.all([combined.connected(), raw.connected()]);
    await v.replay!.whenDone();
    const st = v.replay!.stats();
    expect(st).toMatchObject({ done: true, framesReplayed: st.framesTotal, framesSent: st.framesTotal, snapshotsReplayed: 2, laps: 1 });
    const depthFrames = framesByStream(original).get('btcusdt@depth@100ms')!;
    await until(() => combined.stats().frames >= st.framesSent && raw.stats().frames >= depthFrames.length, 10_000, 'frames');
    await sleep(20);
    await combined.stop();
    await raw.stop();

    const got = readLines(join(tmp, 'rt-combined.jsonl'));
    expect(got[0]!.src).toBe(RecordingSource.Connect);
    // one connection: the global order is the recorded one too
    expect(wsFrames(got).map((l) => l.msg)).toEqual(wsFrames(original).map((l) => l.msg));
    expect(framesByStream(got)).toEqual(framesByStream(original));
    // a raw subscriber gets the envelope's data, byte-exact
    const rawGot = readLines(join(tmp, 'rt-raw.jsonl')).filter((l) => l.src === RecordingSource.Ws).map((l) => l.msg);
    expect(rawGot).toEqual(depthFrames.map((m) => m.slice('{"stream":"btcusdt@depth@100ms","data":'.length, -1)));
    expect(v.stats().replay?.framesSent).toBe(st.framesSent);

    // ~200 depth events past the recorded snapshot, a client asking now could not sync from it: the venue
    // serves the book it rebuilt, as of the last replayed depth event, whose top is the last bookTicker's
    const lastDepth = JSON.parse(depthFrames[depthFrames.length - 1]!) as { data: { u: number } };
    const late = JSON.parse((await get(`${v.restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`)).text) as { lastUpdateId: number; bids: string[][]; asks: string[][] };
    expect(late.lastUpdateId).toBe(lastDepth.data.u);
    const top = v.top('BTCUSDT');
    expect([late.bids[0], late.asks[0]]).toEqual([[top.bid, top.bidQty], [top.ask, top.askQty]]);
    expect(top.ask).toBe(own.asks['BTCUSDT']!.last);
  });

  it('orders during a replay execute against the replayed book: a resting bid fills when the replayed ask reaches it, a market buy at the replayed ask', async () => {
    const own = writeOwnRecording(join(tmp, 'own-orders.jsonl'), { events: 300, gapMs: [1, 4], seed: 3 });
    const a = own.asks['BTCUSDT']!;
    expect(Number(a.min)).toBeLessThan(Number(a.first)); // the generator moved the ask down at some point
    const v = await venue({ source: { kind: 'replay', file: own.file, speed: 0, manualStart: true } });
    // before the replay the book shows the recording's first top
    expect(v.top('BTCUSDT').ask).toBe(a.first);
    const resting = await order(v, { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.100', price: a.min });
    expect(resting.status).toBe(200);
    expect(resting.json['status']).toBe('NEW');
    // someone has to listen for the frames to go out; the book moves either way
    const rec = startRecorder({ venue: 'binance', url: `${v.wsUrl}/stream?streams=btcusdt@bookTicker`, out: join(tmp, 'orders-rec.jsonl') });
    await rec.connected();
    v.replay!.start();
    await v.replay!.whenDone();
    await rec.stop();
    const fills = v.fills();
    expect(fills.length).toBe(1);
    expect(fills[0]).toMatchObject({ symbol: 'BTCUSDT', side: 'BUY', price: a.min, qty: '0.100', maker: true });
    // after the replay the top is the last replayed one; a market buy takes it
    expect(v.top('BTCUSDT').ask).toBe(a.last);
    const mkt = await order(v, { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.050', newOrderRespType: 'RESULT' });
    expect(mkt.status).toBe(200);
    expect(mkt.json).toMatchObject({ status: 'FILLED', avgPrice: a.last, executedQty: '0.050' });
  });

  it('--snapshot: hft record fetches the depth snapshots after the stream starts, and verify-book syncs on the re-recording', async () => {
    const own = writeOwnRecording(join(tmp, 'own-snap.jsonl'), { events: 300, gapMs: [2, 8], seed: 4 });
    const v = await venue({ source: { kind: 'replay', file: own.file, speed: 4, startDelayMs: 30 } });
    const out = join(tmp, 'own-snap-rec.jsonl');
    const frames = ReplaySource.load(own.file).frameCount;
    const write = process.stdout.write;
    let printed = '';
    process.stdout.write = ((s: string): boolean => ((printed += s), true)) as typeof process.stdout.write;
    let rc: number;
    try {
      rc = await recordCommand(['--venue', 'binance', '--url', v.wsUrl, '--symbols', 'BTCUSDT,ETHUSDT', '--streams', 'bookTicker,aggTrade,depth@100ms', '--snapshot', '--out', out, '--max-messages', String(frames), '--duration', '20']);
    } finally {
      process.stdout.write = write;
    }
    expect(rc).toBe(0);
    const summary = JSON.parse(printed.trim()) as { frames: number; snapshots: number; snapshotErrors: number };
    expect(summary).toMatchObject({ frames, snapshots: 2, snapshotErrors: 0 });
    const lines = readLines(out);
    const rest = lines.filter((l) => l.src === RecordingSource.Rest);
    expect(rest.map((l) => l.url).sort()).toEqual([`${v.restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`, `${v.restUrl}/fapi/v1/depth?symbol=ETHUSDT&limit=1000`]);
    expect(rest.map((l) => l.msg).sort()).toEqual([own.snapshotBodies['BTCUSDT'], own.snapshotBodies['ETHUSDT']].sort());
    // each snapshot was asked for after that symbol's first depth event, not at the end
    const firstRest = lines.findIndex((l) => l.src === RecordingSource.Rest);
    expect(firstRest).toBeLessThan(lines.length / 2);
    expectSynced(await verifyBook(out));
    expectSynced(await verifyBook(own.file));
  });

  it('speed 1 follows the recorded timing (loosely), speed 4 is about 4x faster', async () => {
    const own = writeOwnRecording(join(tmp, 'own-pace.jsonl'), { events: 40, gapMs: [5, 40], seed: 5 });
    const original = wsFrames(readLines(own.file));
    expect(own.span).toBeGreaterThan(1);
    for (const speed of [1, 4]) {
      const { lines } = await roundTrip(own.file, speed, join(tmp, `pace-${speed}.jsonl`));
      const got = wsFrames(lines);
      expect(got.map((l) => l.msg)).toEqual(original.map((l) => l.msg));
      const span = own.span / speed;
      const elapsed = got[got.length - 1]!.ts - got[0]!.ts;
      expect(elapsed).toBeGreaterThan(span * 0.85);
      expect(elapsed).toBeLessThan(span + 0.5);
      // each frame's offset from the first follows the recording's, within 100 ms for nearly all frames
      let off = 0;
      for (let i = 0; i < got.length; i++) {
        const want = (original[i]!.ts - original[0]!.ts) / speed;
        if (Math.abs(got[i]!.ts - got[0]!.ts - want) > 0.1) off++;
      }
      expect(off).toBeLessThanOrEqual(Math.ceil(got.length * 0.05));
    }
  });

  it("the engine's FeedHandler syncs its books on a replay and ends on the recording's last top of book", async () => {
    const own = writeOwnRecording(join(tmp, 'own-feed.jsonl'), { events: 400, gapMs: [2, 12], seed: 7 });
    const v = await venue({ source: { kind: 'replay', file: own.file, speed: 0, startDelayMs: 50 } });
    const symbols = ['BTCUSDT', 'ETHUSDT'];
    const ring = SpscRing.create('A', 1 << 14, MARKET_SLOT_BYTES);
    const feed = new FeedHandler(new SymbolRegistry(symbols), ring, {
      ...DEFAULT_CONFIG.feed,
      wsBase: v.wsUrl,
      restUrl: v.restUrl,
      symbols,
      streams: ['bookTicker', 'aggTrade', 'depth@100ms'],
      reconnect: { initialMs: 20, maxMs: 200, jitter: 0.3 },
      book: { ...DEFAULT_CONFIG.book, resyncBackoffMs: 20 },
    });
    const drain = setInterval(() => ring.release(ring.poll()), 1);
    feed.start();
    try {
      await v.replay!.whenDone();
      await until(() => feed.counters().booksLive === 2 && feed.decoder.frames >= v.replay!.stats().framesSent, 10_000, 'books live');
      const c = feed.counters();
      expect(c).toMatchObject({ bookSnapshots: 2, bookGaps: 0, bookResyncs: 0, decodeErrors: 0, ringDrops: 0 });
      for (let s = 0; s < symbols.length; s++) {
        const top = v.top(symbols[s]!);
        expect(top.ask).toBe(own.asks[symbols[s]!]!.last);
        const book = feed.book(s);
        expect([book.bestBid, book.bestBidQty, book.bestAsk, book.bestAskQty]).toEqual([Number(top.bid), Number(top.bidQty), Number(top.ask), Number(top.askQty)]);
      }
    } finally {
      clearInterval(drain);
      feed.stop();
    }
  });

  it('a raw-stream recording: frames named from the url and payload; combined subscribers get them wrapped, raw ones byte-exact', async () => {
    const url = 'wss://fstream.binance.com/ws/btcusdt@bookTicker/btcusdt@depth@500ms';
    const bt = (u: number, b: string): string => `{"e":"bookTicker","u":${u},"s":"BTCUSDT","b":"${b}","B":"1.000","a":"100.10","A":"2.000","T":1,"E":2}`;
    const dp = (U: number, u: number, pu: number): string => `{"e":"depthUpdate","E":3,"T":3,"s":"BTCUSDT","U":${U},"u":${u},"pu":${pu},"b":[["100.00","1.000"]],"a":[]}`;
    const frames = [bt(10, '100.00'), dp(5, 10, 4), bt(12, '99.90'), dp(11, 12, 10)];
    const file = join(tmp, 'raw.jsonl');
    writeFileSync(file, [`{"ts":1.0,"src":"connect","url":"${url}","msg":null}`, ...frames.map((f, i) => `{"ts":${1.1 + i / 100},"src":"ws","url":"${url}","msg":${f}}`)].join('\n') + '\n');
    const src = ReplaySource.load(file);
    expect(src.streams).toEqual(['btcusdt@bookTicker', 'btcusdt@depth@500ms']);
    const v = await venue({ source: { kind: 'replay', file, speed: 0, startDelayMs: 30 } });
    const combined = startRecorder({ venue: 'binance', url: `${v.wsUrl}/stream?streams=btcusdt@bookTicker/btcusdt@depth@500ms`, out: join(tmp, 'raw-c.jsonl') });
    const raw = startRecorder({ venue: 'binance', url: `${v.wsUrl}/ws/btcusdt@depth@500ms`, out: join(tmp, 'raw-r.jsonl') });
    await Promise.all([combined.connected(), raw.connected()]);
    await v.replay!.whenDone();
    await until(() => combined.stats().frames >= 4 && raw.stats().frames >= 2, 5000, 'frames');
    await combined.stop();
    await raw.stop();
    const msgs = (f: string): string[] => readLines(f).filter((l) => l.src === RecordingSource.Ws).map((l) => l.msg);
    expect(msgs(join(tmp, 'raw-c.jsonl'))).toEqual([
      `{"stream":"btcusdt@bookTicker","data":${frames[0]}}`,
      `{"stream":"btcusdt@depth@500ms","data":${frames[1]}}`,
      `{"stream":"btcusdt@bookTicker","data":${frames[2]}}`,
      `{"stream":"btcusdt@depth@500ms","data":${frames[3]}}`,
    ]);
    expect(msgs(join(tmp, 'raw-r.jsonl'))).toEqual([frames[1], frames[3]]);
  });

  it('loop and maxFrames: laps restart the recording; stats say done at maxFrames', async () => {
    const own = writeOwnRecording(join(tmp, 'own-loop.jsonl'), { events: 50, gapMs: [1, 3], seed: 6 });
    const frames = ReplaySource.load(own.file).frameCount;
    const { v, lines } = await roundTrip(own.file, 0, join(tmp, 'loop-nothing.jsonl'));
    expect(wsFrames(lines).length).toBe(frames);
    await v.close();
    const v2 = await venue({ source: { kind: 'replay', file: own.file, speed: 0, loop: true, maxFrames: frames * 2 + 7, startDelayMs: 10 } });
    const streams = [...framesByStream(readLines(own.file)).keys()];
    const rec = startRecorder({ venue: 'binance', url: `${v2.wsUrl}/stream?streams=${streams.join('/')}`, out: join(tmp, 'loop.jsonl') });
    await rec.connected();
    await v2.replay!.whenDone();
    await until(() => rec.stats().frames >= frames * 2 + 7, 10_000, 'frames');
    await rec.stop();
    expect(v2.replay!.stats()).toMatchObject({ done: true, laps: 2, framesReplayed: frames * 2 + 7, framesSent: frames * 2 + 7 });
    const got = wsFrames(readLines(join(tmp, 'loop.jsonl'))).map((l) => l.msg);
    const one = wsFrames(readLines(own.file)).map((l) => l.msg);
    expect(got).toEqual([...one, ...one, ...one.slice(0, 7)]);
  });
});

// ---- the shared recordings ------------------------------------------------------------------------------

const SHARED = ['recordings/binance-usdm/2021-07-22_SUSHI-AKRO-KEEP-CTK.jsonl', 'recordings/binance-usdm/2021-04-05_SAND-CHR-NEO-CTK-BAT.jsonl'];

/** The re-recording with the original's REST lines put back after as many ws frames as they followed there. */
function copySnapshots(originalFile: string, rerecorded: string, out: string): void {
  const orig = readFileSync(originalFile, 'utf8').split('\n').filter((l) => l.trim().length > 0);
  const rec = readFileSync(rerecorded, 'utf8').split('\n').filter((l) => l.trim().length > 0);
  const recWs = rec.filter((l) => l.includes('"src":"ws"'));
  const outLines: string[] = [rec.find((l) => l.includes('"src":"connect"'))!];
  let k = 0;
  for (const l of orig) {
    if (l.includes('"src":"rest"')) outLines.push(l);
    else if (l.includes('"src":"ws"') && l.includes('"msg":{"stream"')) outLines.push(recWs[k++]!);
  }
  expect(k).toBe(recWs.length);
  writeFileSync(out, outLines.join('\n') + '\n');
}

describe.skipIf(!HAVE_SHARED_FIXTURES)('sim replay: the shared Binance recordings', () => {
  for (const rel of SHARED) {
    it(`${rel.split('/').pop()}: speed 0 round trip byte-exact per stream; verify-book syncs on the re-recording`, async () => {
      const file = fixturePath(rel);
      const name = rel.split('/').pop()!.replace('.jsonl', '');
      const original = readLines(file);
      const { v, lines } = await roundTrip(file, 0, join(tmp, `${name}-rec.jsonl`));
      const st = v.replay!.stats();
      expect(st.framesSkipped).toBe(0);
      expect(st.framesSent).toBe(wsFrames(original).length);
      expect(framesByStream(lines)).toEqual(framesByStream(original));
      expect(wsFrames(lines).map((l) => l.msg)).toEqual(wsFrames(original).map((l) => l.msg));
      // the recording's symbols are listed, with tick/step derived from what it printed
      const info = JSON.parse((await get(`${v.restUrl}/fapi/v1/exchangeInfo`)).text) as { symbols: Array<{ symbol: string; filters: Array<Record<string, string>> }> };
      const real = JSON.parse(readFileSync(fixturePath('binance-usdm/exchangeInfo.json'), 'utf8')) as typeof info;
      // exchangeInfo.json is of the same day as the 2021-07-22 recording (ticks changed since April: CTK 0.00001 -> 0.001)
      for (const s of rel.includes('2021-07-22') ? info.symbols : []) {
        const r = real.symbols.find((x) => x.symbol === s.symbol);
        if (!r) continue;
        const f = (x: typeof s, t: string, k: string): string | undefined => x.filters.find((y) => y['filterType'] === t)?.[k];
        expect([s.symbol, f(s, 'PRICE_FILTER', 'tickSize'), f(s, 'LOT_SIZE', 'stepSize')]).toEqual([s.symbol, f(r, 'PRICE_FILTER', 'tickSize'), f(r, 'LOT_SIZE', 'stepSize')]);
      }
      const withSnaps = join(tmp, `${name}-rec-snap.jsonl`);
      copySnapshots(file, join(tmp, `${name}-rec.jsonl`), withSnaps);
      const [again, orig] = await Promise.all([verifyBook(withSnaps), verifyBook(file)]);
      expectSynced(again);
      expect(again.symbols).toEqual(orig.symbols);
    });
  }
});

if (!HAVE_SHARED_FIXTURES) {
  describe('sim replay: the shared Binance recordings', () => {
    it.skip(NO_FIXTURES_MESSAGE, () => {});
  });
}

// ---- recorder: CLI and Gate ------------------------------------------------------------------------------

describe('hft record and hft sim --source: options; recording Gate', () => {
  it('hft sim --source/--speed/--loop: the venue options (simSourceOptions)', () => {
    const own = writeOwnRecording(join(tmp, 'own-cli.jsonl'), { events: 10, gapMs: [1, 2], seed: 8 });
    const parse = (argv: string[]): ReturnType<typeof parseArgs> => parseArgs(argv, [...SIM_SOURCE_FLAGS]);
    expect(simSourceOptions(parse([]))).toEqual({});
    expect(simSourceOptions(parse(['--source', own.file]))).toEqual({ source: { kind: 'replay', file: own.file, speed: 1, loop: false } });
    expect(simSourceOptions(parse(['--source', own.file, '--speed', '0', '--loop']))).toEqual({ source: { kind: 'replay', file: own.file, speed: 0, loop: true } });
    expect(() => simSourceOptions(parse(['--speed', '2']))).toThrow(/go with --source/);
    expect(() => simSourceOptions(parse(['--source', join(tmp, 'nope.jsonl')]))).toThrow(/no such file/);
    expect(() => simSourceOptions(parse(['--source', own.file, '--speed', '-1']))).toThrow(/--speed/);
    expect(() => simSourceOptions(parse(['--source', own.file]), 'gate')).toThrow(/Binance recordings/);
    expect(SIM_SOURCE_OPTIONS).toEqual(['source', 'speed', 'loop']);
  });

  it('builds the stream URL, SUBSCRIBE and the REST base from the flags', () => {
    const o = recordOptionsFromArgs(['--url', 'ws://127.0.0.1:9', '--symbols', 'BTCUSDT', '--streams', 'bookTicker,depth@100ms', '--out', 'x', '--snapshot']);
    expect(o.url).toBe('ws://127.0.0.1:9/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms');
    expect(o.snapshot).toEqual({ restBase: 'http://127.0.0.1:9', limit: 1000, symbols: ['BTCUSDT'] });
    const m = recordOptionsFromArgs(['--url', 'wss://fstream.binance.com', '--symbols', 'BTCUSDT', '--subscribe', 'message', '--out', 'x', '--snapshot']);
    expect(m.url).toBe('wss://fstream.binance.com/stream');
    expect(m.send).toEqual(['{"method":"SUBSCRIBE","params":["btcusdt@bookTicker","btcusdt@aggTrade","btcusdt@depth@100ms"],"id":1}']);
    expect(m.snapshot?.restBase).toBe('https://fapi.binance.com');
    const g = recordOptionsFromArgs(['--venue', 'gate', '--url', 'wss://fx-ws.gateio.ws', '--symbols', 'BTC_USDT,ETH_USDT', '--out', 'x', '--snapshot']);
    expect(g.url).toBe('wss://fx-ws.gateio.ws/v4/ws/usdt');
    expect(g.snapshot).toMatchObject({ restBase: 'https://fx-api.gateio.ws/api/v4', limit: 100 });
    expect(g.send!.map((s) => JSON.parse(s) as { channel: string; payload: unknown })).toEqual([
      expect.objectContaining({ channel: 'futures.book_ticker', event: 'subscribe', payload: ['BTC_USDT', 'ETH_USDT'] }),
      expect.objectContaining({ channel: 'futures.order_book_update', payload: ['BTC_USDT', '100ms', '100'] }),
      expect.objectContaining({ channel: 'futures.order_book_update', payload: ['ETH_USDT', '100ms', '100'] }),
      expect.objectContaining({ channel: 'futures.trades', payload: ['BTC_USDT', 'ETH_USDT'] }),
    ]);
    expect(() => recordOptionsFromArgs(['--url', 'ws://h:1', '--out', 'x'])).toThrow(/nothing to record/);
    expect(() => recordOptionsFromArgs(['--venue', 'kraken', '--url', 'ws://h:1', '--out', 'x'])).toThrow(/--venue/);
  });

  it('--venue gate: records ws_out subscribe requests, the /v4/ws/usdt envelopes byte-exact, and order_book snapshots', async () => {
    // A stand-in Gate endpoint: acks every subscribe, then pushes an order_book_update and a book_ticker.
    const push = '{"time":1684922400,"time_ms":1684922400123,"channel":"futures.order_book_update","event":"update","result":{"t":1684922400120,"s":"BTC_USDT","U":101,"u":103,"b":[{"p":"27000.1","s":5}],"a":[]}}';
    const bt = '{"time":1684922400,"time_ms":1684922400130,"channel":"futures.book_ticker","event":"update","result":{"t":1684922400125,"u":103,"s":"BTC_USDT","b":"27000.1","B":5,"a":"27000.2","A":9}}';
    const snapshot = '{"id":102,"current":1684922400.2,"update":1684922400.1,"asks":[{"p":"27000.2","s":9}],"bids":[{"p":"27000.1","s":4}]}';
    let listen: uWS.us_listen_socket | false = false;
    const restHits: string[] = [];
    const app = uWS
      .App()
      .ws('/v4/ws/usdt', {
        message: (ws, m) => {
          const req = JSON.parse(Buffer.from(m).toString()) as { channel: string; time: number };
          ws.send(`{"time":${req.time},"time_ms":0,"channel":"${req.channel}","event":"subscribe","error":null,"result":{"status":"success"}}`);
          if (req.channel === 'futures.book_ticker') {
            ws.send(push);
            ws.send(bt);
          }
        },
      })
      .get('/api/v4/futures/usdt/order_book', (res, req) => {
        restHits.push(req.getQuery() ?? '');
        res.writeHeader('Content-Type', 'application/json').end(snapshot);
      });
    const port = await new Promise<number>((resolve) => app.listen('127.0.0.1', 0, (ls) => ((listen = ls), resolve(ls ? uWS.us_socket_local_port(ls) : -1))));
    try {
      const o = recordOptionsFromArgs(['--venue', 'gate', '--url', `ws://127.0.0.1:${port}`, '--symbols', 'BTC_USDT', '--streams', 'futures.order_book_update,futures.book_ticker', '--snapshot', '--out', join(tmp, 'gate.jsonl')]);
      const rec = startRecorder(o);
      await rec.connected();
      await until(() => rec.stats().frames >= 4 && rec.stats().snapshots >= 1, 5000, 'gate frames');
      await rec.stop();
      const lines = readLines(join(tmp, 'gate.jsonl'));
      expect(lines.map((l) => l.src)).toEqual([
        RecordingSource.Connect,
        RecordingSource.WsOut,
        RecordingSource.WsOut,
        RecordingSource.Ws,
        RecordingSource.Ws,
        RecordingSource.Ws,
        RecordingSource.Ws,
        RecordingSource.Rest,
      ]);
      expect(lines.every((l) => l.url === `ws://127.0.0.1:${port}/v4/ws/usdt` || l.src === RecordingSource.Rest)).toBe(true);
      expect(lines[1]!.msg).toBe(o.send![0]);
      expect(lines[5]!.msg).toBe(push);
      expect(lines[6]!.msg).toBe(bt);
      expect(lines[7]!.url).toBe(`http://127.0.0.1:${port}/api/v4/futures/usdt/order_book?contract=BTC_USDT&limit=100&with_id=true`);
      expect(lines[7]!.msg).toBe(snapshot);
      expect(restHits).toEqual(['contract=BTC_USDT&limit=100&with_id=true']);
      expect(gateSubscribeFrames(['futures.candlesticks'], ['A_USDT'], 5)).toEqual(['{"time":5,"channel":"futures.candlesticks","event":"subscribe","payload":["1m","A_USDT"]}']);
    } finally {
      if (listen) uWS.us_listen_socket_close(listen);
    }
  });
});
