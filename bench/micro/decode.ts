/**
 * Feed decode micro benches: the byte scanner (BinanceMarketDecoder into ring records) against the obvious
 * JSON.parse route doing the same work on the same bytes (Buffer -> string -> JSON.parse -> parseFloat of
 * every price/qty -> Float64Array).
 *
 * The scanner publishes its records to a real SpscRing (as ring A), drained between batches. Each task call
 * handles BATCH frames and reports the per-frame time (tinybench `overriddenDuration`), so the cost of
 * reading the clock around every call does not swamp a ~250 ns decode.
 *
 * Run alone: `node dist/bench/micro/decode.js` after a build (or call `runDecodeBench()`).
 */
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { SymbolRegistry } from '../../src/core/SymbolRegistry.js';
import { MARKET_SLOT_BYTES } from '../../src/ring/layout.js';
import { SpscRing } from '../../src/ring/SpscRing.js';
import { BinanceMarketDecoder } from '../../src/venues/binance/MarketDecoder.js';

const BATCH = 64;
const MIN_RATIO = 5;

// ---------------------------------------------------------------- sample frames (combined-stream form)

const BOOK_TICKER = Buffer.from(
  '{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":8374531260012,"s":"BTCUSDT","b":"104235.60","B":"7.412","a":"104235.70","A":"1.208","T":1763459530121,"E":1763459530122}}',
);

const AGG_TRADE = Buffer.from(
  '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1763459530188,"a":2894416871,"s":"BTCUSDT","p":"104235.70","q":"0.015","nq":"0.015","f":6702133010,"l":6702133012,"T":1763459530031,"m":false,"st":1}}',
);

/** A BTCUSDT @depth20@100ms frame: 20 bids and 20 asks around 104235.6 / 104235.7, sizes of 0.002..12 BTC. */
function depth20Frame(): Buffer {
  const qtys = ['7.412', '0.004', '0.150', '1.208', '0.002', '3.987', '0.071', '12.050', '0.500', '0.033'];
  const gaps = [1, 1, 2, 1, 3, 1, 1, 5, 2, 1];
  const bids: string[] = [];
  const asks: string[] = [];
  let bid = 1042356; // tenths
  let ask = 1042357;
  for (let i = 0; i < 20; i++) {
    bids.push(`["${(bid / 10).toFixed(2)}","${qtys[i % 10]!}"]`);
    asks.push(`["${(ask / 10).toFixed(2)}","${qtys[(i + 3) % 10]!}"]`);
    bid -= gaps[i % 10]!;
    ask += gaps[(i + 5) % 10]!;
  }
  return Buffer.from(
    '{"stream":"btcusdt@depth20@100ms","data":{"e":"depthUpdate","E":1763459530140,"T":1763459530131,"s":"BTCUSDT",' +
      '"U":8374531251877,"u":8374531260012,"pu":8374531251790,' +
      `"b":[${bids.join(',')}],"a":[${asks.join(',')}]}}`,
  );
}
const DEPTH20 = depth20Frame();

// ---------------------------------------------------------------- the JSON.parse route

interface BookTickerMsg {
  data: { u: number; E: number; T: number; b: string; B: string; a: string; A: string };
}
interface AggTradeMsg {
  data: { E: number; a: number; f: number; l: number; T: number; p: string; q: string; m: boolean };
}
interface DepthMsg {
  data: { E: number; T: number; U: number; u: number; pu: number; b: string[][]; a: string[][] };
}

const sink = new Float64Array(256);

function parseBookTicker(buf: Buffer): void {
  const d = (JSON.parse(buf.toString('utf8')) as BookTickerMsg).data;
  sink[0] = d.u;
  sink[1] = d.E;
  sink[2] = d.T;
  sink[3] = parseFloat(d.b);
  sink[4] = parseFloat(d.B);
  sink[5] = parseFloat(d.a);
  sink[6] = parseFloat(d.A);
}

function parseAggTrade(buf: Buffer): void {
  const d = (JSON.parse(buf.toString('utf8')) as AggTradeMsg).data;
  sink[0] = d.a;
  sink[1] = d.E;
  sink[2] = d.T;
  sink[3] = parseFloat(d.p);
  sink[4] = parseFloat(d.q);
  sink[5] = d.m ? 1 : 0;
  sink[6] = d.f;
  sink[7] = d.l;
}

function parseDepth(buf: Buffer): void {
  const d = (JSON.parse(buf.toString('utf8')) as DepthMsg).data;
  sink[0] = d.U;
  sink[1] = d.u;
  sink[2] = d.pu;
  sink[3] = d.E;
  sink[4] = d.T;
  let k = 5;
  for (const l of d.b) {
    sink[k++] = parseFloat(l[0]!);
    sink[k++] = parseFloat(l[1]!);
  }
  for (const l of d.a) {
    sink[k++] = parseFloat(l[0]!);
    sink[k++] = parseFloat(l[1]!);
  }
}

// ---------------------------------------------------------------- registration

interface Timed {
  overriddenDuration: number;
  overriddenIterationCost: number;
}

/** Adds decode.{bookTicker,aggTrade,depth20}.{scanner,jsonParse} to `bench`. */
export function registerDecodeBenches(bench: Bench): void {
  const symbols = new SymbolRegistry(['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT', 'BNBUSDT', 'DOGEUSDT']);
  const decoder = new BinanceMarketDecoder(symbols, () => 0);
  // the real ring A; this thread also plays its consumer and releases what was published after each batch
  const out = SpscRing.create('bench.decode', 1024, MARKET_SLOT_BYTES);
  const now = bench.now;

  const scanner = (frame: Buffer, expect: number) => (): Timed => {
    out.release(out.poll());
    const t0 = now();
    for (let i = 0; i < BATCH; i++) {
      if (decoder.decode(frame, 0, frame.length, 1, out) !== expect) throw new Error('decode failed');
    }
    const dt = now() - t0;
    return { overriddenDuration: dt / BATCH, overriddenIterationCost: dt };
  };
  const viaJson = (frame: Buffer, parse: (b: Buffer) => void) => (): Timed => {
    const t0 = now();
    for (let i = 0; i < BATCH; i++) parse(frame);
    const dt = now() - t0;
    return { overriddenDuration: dt / BATCH, overriddenIterationCost: dt };
  };

  bench
    .add('decode.bookTicker.scanner', scanner(BOOK_TICKER, 1))
    .add('decode.bookTicker.jsonParse', viaJson(BOOK_TICKER, parseBookTicker))
    .add('decode.aggTrade.scanner', scanner(AGG_TRADE, 1))
    .add('decode.aggTrade.jsonParse', viaJson(AGG_TRADE, parseAggTrade))
    .add('decode.depth20.scanner', scanner(DEPTH20, 10))
    .add('decode.depth20.jsonParse', viaJson(DEPTH20, parseDepth));
}

/** Per-frame latency of a finished task in ns, mean or median of the batch samples (NaN if it did not complete). */
function latencyNs(bench: Bench, name: string, stat: 'mean' | 'p50'): number {
  const r = bench.getTask(name)?.result;
  return r !== undefined && r.state === 'completed' ? r.latency[stat] * 1e6 : NaN;
}

/**
 * Runs only the decode benches, prints a table and the jsonParse / scanner ratios (wanted: >= 5x each).
 * The ratio uses the medians of the batch samples, which a scheduler hiccup on a shared box moves less
 * than the means.
 */
export async function runDecodeBench(): Promise<void> {
  const bench = new Bench({ name: 'decode', time: 400, warmupTime: 150, iterations: 64 });
  registerDecodeBenches(bench);
  await bench.run();
  console.table(
    bench.tasks.map((t) => ({
      task: t.name,
      'ns/frame p50': Math.round(latencyNs(bench, t.name, 'p50')),
      'ns/frame mean': Math.round(latencyNs(bench, t.name, 'mean')),
      'frames/s': Math.round(1e9 / latencyNs(bench, t.name, 'mean')),
      batches: t.runs,
    })),
  );
  let ok = true;
  for (const kind of ['bookTicker', 'aggTrade', 'depth20']) {
    const ratio = latencyNs(bench, `decode.${kind}.jsonParse`, 'p50') / latencyNs(bench, `decode.${kind}.scanner`, 'p50');
    const meanRatio = latencyNs(bench, `decode.${kind}.jsonParse`, 'mean') / latencyNs(bench, `decode.${kind}.scanner`, 'mean');
    const pass = ratio >= MIN_RATIO;
    ok &&= pass;
    console.log(
      `decode.${kind}: scanner ${ratio.toFixed(1)}x faster than JSON.parse (p50; mean ${meanRatio.toFixed(1)}x; want >= ${MIN_RATIO}x) ${pass ? 'ok' : 'TOO SLOW'}`,
    );
  }
  if (!ok) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runDecodeBench();
}
