/**
 * Feed decode micro benches: the byte scanner (BinanceMarketDecoder into ring records) against
 *  - the obvious JSON.parse route doing the same work on the same bytes (Buffer -> string -> JSON.parse ->
 *    parseFloat of every price/qty -> Float64Array), and
 *  - what a ccxt user pays per frame: JSON.parse + ccxt's own parsing of the message into its unified
 *    structure (ccxt.pro.binanceusdm: parseWsTrade, parseWsTicker, handleOHLCV, parseWsLiquidation, and for
 *    depth its level parser parseOrderBookBidsAsks; its order-book delta handling handleOrderBookMessage is
 *    reported beside it). ccxt is a devDependency, loaded only when asked (`prepareDecodeBenches`).
 *
 * Two parts:
 *  - registerDecodeBenches(bench): tinybench tasks on three sample frames (bookTicker, aggTrade, depth20),
 *    plus `.ccxt` tasks when ccxt was loaded first. The scanner publishes into a real SpscRing (as ring A),
 *    drained between batches; each task call handles BATCH frames and reports the per-frame time.
 *  - runRecordedDecodeBench(): every ws frame of the shared recordings (both sessions, ~10k frames) decoded
 *    by all three routes, interleaved pass by pass in one run: per kind and overall ns/frame and the ratios
 *    ours/JSON.parse and ours/ccxt (targets >= 6x and >= 30x). Frames of kinds the recordings lack
 *    (trade, markPrice, forceOrder) come from the market fixture files and are reported apart.
 *
 * Run alone: `node dist/bench/micro/decode.js` after a build (or call `runDecodeBench()`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { SymbolRegistry } from '../../src/core/SymbolRegistry.js';
import { MARKET_SLOT_BYTES } from '../../src/ring/layout.js';
import { SpscRing } from '../../src/ring/SpscRing.js';
import { BinanceMarketDecoder } from '../../src/venues/binance/MarketDecoder.js';

const BATCH = 64;
/** sample frames: scanner vs JSON.parse (p50 ratio) */
const MIN_RATIO = 5;
/** recorded frames, overall: ours vs JSON.parse and vs ccxt, from the same run */
const MIN_RATIO_JSON = 6;
const MIN_RATIO_CCXT = 30;

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

// ---------------------------------------------------------------- the ccxt route (optional)

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

interface CcxtMarket {
  id: string;
  symbol: string;
}
interface CcxtBook {
  bids: unknown;
  asks: unknown;
}
interface CcxtClient {
  url: string;
  subscriptions: Record<string, unknown>;
  resolve(v: unknown, hash: string): void;
  reject(e: unknown, hash: string): void;
}
/** The part of ccxt.pro.binanceusdm the bench calls (its own typings want its WS Client class). */
interface CcxtUsdm {
  parseMarket(raw: Obj): unknown;
  setMarkets(markets: unknown[]): unknown;
  safeMarket(id: string | undefined, market?: CcxtMarket, delimiter?: string, marketType?: string): CcxtMarket;
  safeInteger(o: Obj, key: string): number | undefined;
  parseWsTrade(trade: Obj, market?: CcxtMarket): unknown;
  parseWsTicker(message: Obj, marketType: string): unknown;
  parseWsLiquidation(liquidation: Obj, market?: CcxtMarket): unknown;
  parseOrderBookBidsAsks(levels: Json, priceKey: number, amountKey: number): unknown;
  orderBook(snapshot: Obj, depth?: number): CcxtBook;
  handleOrderBookMessage(client: CcxtClient, message: Obj, book: CcxtBook): unknown;
  handleOHLCV(client: CcxtClient, message: Obj): void;
}

/** What a ccxt user pays per frame, by route. */
interface CcxtRoutes {
  /** JSON.parse + ccxt's parse of the event into its unified structure (depth: its level parser) */
  parse(buf: Buffer): void;
  /** depth only: JSON.parse + ccxt's order-book delta handling on a per-symbol book */
  bookDelta(buf: Buffer): void;
}

let ccxtRoutes: CcxtRoutes | null = null;
let ccxtStatus = 'ccxt not loaded (call prepareDecodeBenches() first)';

/** Project root: the nearest folder above this file holding package.json (source or dist/ layout). */
function projectRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let k = 0; k < 6; k++) {
    if (existsSync(join(d, 'package.json'))) return d;
    d = dirname(d);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '../..');
}
const FIXTURES = resolve(projectRoot(), '../shared/fixtures');
const HAVE_FIXTURES = existsSync(join(FIXTURES, 'MANIFEST.md'));

const BENCH_SYMBOLS = [
  'BTCUSDT',
  'ETHUSDT',
  'SOLUSDT',
  'XRPUSDT',
  'BNBUSDT',
  'DOGEUSDT',
  'SUSHIUSDT',
  'AKROUSDT',
  'KEEPUSDT',
  'CTKUSDT',
  'SANDUSDT',
  'CHRUSDT',
  'NEOUSDT',
  'BATUSDT',
  'IOTXUSDT',
  'STGUSDT',
  'COTIUSDT',
  'BTCBUSD_210129',
];

/** An exchangeInfo entry for a contract the trimmed exchangeInfo fixture lacks (what parseMarket reads). */
function syntheticMarket(symbol: string): Obj {
  const delivery = symbol.includes('_');
  const pair = delivery ? symbol.slice(0, symbol.indexOf('_')) : symbol;
  const quote = pair.endsWith('BUSD') ? 'BUSD' : 'USDT';
  return {
    symbol,
    pair,
    contractType: delivery ? 'CURRENT_QUARTER' : 'PERPETUAL',
    deliveryDate: delivery ? 1611907200000 : 4133404800000,
    onboardDate: 1569398400000,
    status: 'TRADING',
    baseAsset: pair.slice(0, pair.length - quote.length),
    quoteAsset: quote,
    marginAsset: quote,
    pricePrecision: 4,
    quantityPrecision: 0,
    baseAssetPrecision: 8,
    quotePrecision: 8,
    underlyingType: 'COIN',
    filters: [
      { minPrice: '0.0001', maxPrice: '100000', filterType: 'PRICE_FILTER', tickSize: '0.0001' },
      { stepSize: '1', filterType: 'LOT_SIZE', maxQty: '1000000', minQty: '1' },
      { notional: '5', filterType: 'MIN_NOTIONAL' },
    ],
    orderTypes: ['LIMIT', 'MARKET'],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
  };
}

function makeCcxtRoutes(ex: CcxtUsdm): CcxtRoutes {
  const raw: Obj[] = [];
  if (HAVE_FIXTURES) {
    const info = JSON.parse(readFileSync(join(FIXTURES, 'binance-usdm/exchangeInfo.json'), 'utf8')) as Obj;
    for (const m of info.symbols as Obj[]) raw.push(m);
  }
  for (const s of BENCH_SYMBOLS) if (!raw.some((m) => m.symbol === s)) raw.push(syntheticMarket(s));
  ex.setMarkets(raw.map((m) => ex.parseMarket(m)));
  const client: CcxtClient = { url: 'wss://fstream.binance.com/stream', subscriptions: {}, resolve() {}, reject() {} };
  const books = new Map<string, CcxtBook>();
  let keep: unknown = null;
  // one event, as ccxt's handlers do it: the market from the symbol, then the event's parser
  const event = (d: Obj): void => {
    switch (d.e) {
      case 'aggTrade':
      case 'trade':
        keep = ex.parseWsTrade(d, ex.safeMarket(d.s as string, undefined, undefined, 'contract'));
        break;
      case 'bookTicker':
      case 'markPriceUpdate':
        keep = ex.parseWsTicker(d, 'contract');
        break;
      case 'depthUpdate':
        // the parse part of ccxt's depth handling: ids, time and both sides' levels as numbers
        keep = [
          ex.safeMarket(d.s as string, undefined, undefined, 'contract'),
          ex.safeInteger(d, 'U'),
          ex.safeInteger(d, 'u'),
          ex.safeInteger(d, 'pu'),
          ex.safeInteger(d, 'E'),
          ex.parseOrderBookBidsAsks(d.b!, 0, 1),
          ex.parseOrderBookBidsAsks(d.a!, 0, 1),
        ];
        break;
      case 'kline':
        ex.handleOHLCV(client, d);
        break;
      case 'forceOrder': {
        const o = d.o as Obj;
        keep = ex.parseWsLiquidation(o, ex.safeMarket(o.s as string, undefined, undefined, 'contract'));
        break;
      }
    }
  };
  const routes: CcxtRoutes = {
    parse(buf: Buffer): void {
      const m = JSON.parse(buf.toString('utf8')) as Json;
      const d = Array.isArray(m) ? m : (m as Obj).data !== undefined ? (m as Obj).data! : m;
      if (Array.isArray(d)) for (const e of d) event(e as Obj);
      else event(d as Obj);
    },
    bookDelta(buf: Buffer): void {
      const m = JSON.parse(buf.toString('utf8')) as Obj;
      const d = (m.data ?? m) as Obj;
      const s = d.s as string;
      let book = books.get(s);
      if (book === undefined) books.set(s, (book = ex.orderBook({})));
      keep = ex.handleOrderBookMessage(client, d, book);
    },
  };
  void keep;
  return routes;
}

/**
 * Loads ccxt (a devDependency) and prepares its binanceusdm with markets, so that registerDecodeBenches
 * adds the ccxt tasks and runRecordedDecodeBench the ccxt column. Resolves to false, with a reason in
 * ccxtStatus, when ccxt cannot be imported.
 */
export async function prepareDecodeBenches(): Promise<boolean> {
  if (ccxtRoutes !== null) return true;
  try {
    const mod = (await import('ccxt')).default;
    ccxtRoutes = makeCcxtRoutes(new mod.pro.binanceusdm() as unknown as CcxtUsdm);
    ccxtStatus = `ccxt ${mod.version}`;
    return true;
  } catch (e) {
    ccxtStatus = `ccxt could not be imported (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): ccxt columns skipped`;
    return false;
  }
}

// ---------------------------------------------------------------- registration (sample frames)

interface Timed {
  overriddenDuration: number;
  overriddenIterationCost: number;
}

/**
 * Adds decode.{bookTicker,aggTrade,depth20}.{scanner,jsonParse} to `bench`, and `.ccxt` for each when
 * prepareDecodeBenches() has loaded ccxt.
 */
export function registerDecodeBenches(bench: Bench): void {
  const symbols = new SymbolRegistry(BENCH_SYMBOLS);
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
  const cc = ccxtRoutes;
  if (cc !== null) {
    const parse = (b: Buffer): void => cc.parse(b);
    bench
      .add('decode.bookTicker.ccxt', viaJson(BOOK_TICKER, parse))
      .add('decode.aggTrade.ccxt', viaJson(AGG_TRADE, parse))
      .add('decode.depth20.ccxt', viaJson(DEPTH20, parse));
  }
}

/** Per-frame latency of a finished task in ns, mean or median of the batch samples (NaN if it did not complete). */
function latencyNs(bench: Bench, name: string, stat: 'mean' | 'p50'): number {
  const r = bench.getTask(name)?.result;
  return r !== undefined && r.state === 'completed' ? r.latency[stat] * 1e6 : NaN;
}

// ---------------------------------------------------------------- recorded frames

/** One kind of frame of the recordings (or of the fixture files, `fixtureOnly`). */
interface FrameSet {
  kind: string;
  frames: Buffer[];
  /** records the scanner must commit for the whole set (checked on every pass) */
  records: number;
  fixtureOnly: boolean;
}

/** The JSON.parse route for any recorded frame: parse, then every field our record holds as a number. */
function viaJsonAny(buf: Buffer): void {
  const m = JSON.parse(buf.toString('utf8')) as Json;
  const d = Array.isArray(m) ? m : (m as Obj).data !== undefined ? (m as Obj).data! : m;
  if (Array.isArray(d)) for (const e of d) jsonEvent(e as Obj);
  else jsonEvent(d as Obj);
}

const num = (v: Json | undefined): number => (v === undefined ? NaN : parseFloat(v as string));

function jsonEvent(d: Obj): void {
  switch (d.e) {
    case 'bookTicker':
      sink[0] = num(d.u);
      sink[1] = num(d.E);
      sink[2] = num(d.T);
      sink[3] = num(d.b);
      sink[4] = num(d.B);
      sink[5] = num(d.a);
      sink[6] = num(d.A);
      break;
    case 'aggTrade':
    case 'trade':
      sink[0] = num(d.a ?? d.t);
      sink[1] = num(d.E);
      sink[2] = num(d.T);
      sink[3] = num(d.p);
      sink[4] = num(d.q);
      sink[5] = d.m === true ? 1 : 0;
      sink[6] = num(d.f);
      sink[7] = num(d.l);
      break;
    case 'depthUpdate': {
      sink[0] = num(d.U);
      sink[1] = num(d.u);
      sink[2] = num(d.pu);
      sink[3] = num(d.E);
      sink[4] = num(d.T);
      let k = 5;
      for (const l of d.b as string[][]) {
        sink[k++ & 255] = parseFloat(l[0]!);
        sink[k++ & 255] = parseFloat(l[1]!);
      }
      for (const l of d.a as string[][]) {
        sink[k++ & 255] = parseFloat(l[0]!);
        sink[k++ & 255] = parseFloat(l[1]!);
      }
      break;
    }
    case 'markPriceUpdate':
      sink[0] = num(d.E);
      sink[1] = num(d.p);
      sink[2] = num(d.i);
      sink[3] = num(d.P);
      sink[4] = num(d.r);
      sink[5] = num(d.T);
      break;
    case 'forceOrder': {
      const o = d.o as Obj;
      sink[0] = num(d.E);
      sink[1] = num(o.T);
      sink[2] = o.S === 'BUY' ? 1 : -1;
      sink[3] = num(o.p);
      sink[4] = num(o.q);
      sink[5] = num(o.ap);
      sink[6] = num(o.l);
      sink[7] = num(o.z);
      break;
    }
    case 'kline': {
      const k = d.k as Obj;
      sink[0] = num(d.E);
      sink[1] = num(k.t);
      sink[2] = num(k.T);
      sink[3] = num(k.o);
      sink[4] = num(k.h);
      sink[5] = num(k.l);
      sink[6] = num(k.c);
      sink[7] = num(k.v);
      sink[8] = num(k.q);
      sink[9] = num(k.n);
      sink[10] = num(k.V);
      sink[11] = num(k.Q);
      sink[12] = k.x === true ? 1 : 0;
      break;
    }
  }
}

/** Every ws frame of both recordings by kind, then the fixture-only kinds; [] without the shared folder. */
function loadRecordedFrames(decoder: BinanceMarketDecoder): FrameSet[] {
  if (!HAVE_FIXTURES) return [];
  const byKind = new Map<string, FrameSet>();
  const add = (text: string, fixtureOnly: boolean): void => {
    const m = JSON.parse(text) as Obj;
    const d = (m.data ?? m) as Obj;
    const kind = String(d.e);
    let set = byKind.get(kind);
    if (set === undefined) byKind.set(kind, (set = { kind, frames: [], records: 0, fixtureOnly }));
    if (set.fixtureOnly !== fixtureOnly) return;
    set.frames.push(Buffer.from(text));
  };
  for (const rec of ['2021-04-05_SAND-CHR-NEO-CTK-BAT.jsonl', '2021-07-22_SUSHI-AKRO-KEEP-CTK.jsonl']) {
    for (const line of readFileSync(join(FIXTURES, 'recordings/binance-usdm', rec), 'utf8').split('\n')) {
      if (!line.includes('"src":"ws"')) continue;
      add(line.slice(line.indexOf('"msg":') + 6, line.lastIndexOf('}')), false);
    }
  }
  for (const file of ['trade', 'markPrice', 'forceOrder']) {
    for (const line of readFileSync(join(FIXTURES, `binance-usdm/${file}.jsonl`), 'utf8').split('\n')) {
      if (line.trim().length > 0) add(line, true);
    }
  }
  // the fixture-only kinds have a handful of frames: cycle them to ~2000 so every route runs JIT-compiled
  for (const set of byKind.values()) {
    if (!set.fixtureOnly || set.frames.length === 0) continue;
    const base = set.frames;
    set.frames = [];
    while (set.frames.length < 2000) set.frames.push(...base);
  }
  const out = new ArraySlotWriterLite();
  for (const set of byKind.values()) {
    for (const f of set.frames) {
      const n = decoder.decode(f, 0, f.length, 1, out);
      if (n <= 0) throw new Error(`recorded ${set.kind} frame does not decode (${n}): ${f.toString().slice(0, 120)}`);
      set.records += n;
    }
  }
  const order = ['depthUpdate', 'bookTicker', 'aggTrade', 'kline', 'trade', 'markPriceUpdate', 'forceOrder'];
  return [...byKind.values()].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
}

/** A throw-away writer for the load-time check (records are counted, not kept). */
class ArraySlotWriterLite {
  readonly f64 = new Float64Array(256 * 16);
  readonly i32 = new Int32Array(this.f64.buffer);
  readonly u8 = new Uint8Array(this.f64.buffer);
  readonly slotWords = MARKET_SLOT_BYTES / 8;
  private n = 0;
  claim(): number {
    return this.n < 256 ? this.n++ * this.slotWords : -1;
  }
  commit(): void {
    this.n = 0;
  }
  abort(): void {
    this.n = 0;
  }
}

export interface RecordedKindResult {
  kind: string;
  frames: number;
  records: number;
  /** ns per frame (median of the passes) */
  oursNs: number;
  jsonNs: number;
  ccxtNs: number;
  /** depth only: ccxt's handleOrderBookMessage on a live per-symbol book (NaN for other kinds) */
  ccxtBookNs: number;
  /** from the fixture files, not the recordings: not in the overall figures */
  fixtureOnly: boolean;
}

export interface RecordedDecodeResult {
  /** why a part did not run ('' = it ran) */
  skipped: string;
  ccxt: string;
  passes: number;
  kinds: RecordedKindResult[];
  /**
   * Over every recorded frame of the recordings (the kinds mixed as the sessions had them). ccxtNs counts
   * depth frames at ccxt's level parser (the cheaper reading of ccxt); ccxtBookNs at its order-book delta
   * handling instead. The target is checked on the cheaper one.
   */
  overall: {
    frames: number;
    oursNs: number;
    jsonNs: number;
    ccxtNs: number;
    ccxtBookNs: number;
    vsJson: number;
    vsCcxt: number;
    vsCcxtBook: number;
  };
  ok: boolean;
}

function median(xs: number[]): number {
  const a = xs.slice().sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length === 0 ? NaN : a.length % 2 === 1 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

/**
 * Ours vs JSON.parse vs ccxt on every recorded frame, in one run: `passes` rounds, each timing one pass
 * of every route over every kind's frames in turn (so drift and GC hit all routes alike); per-kind
 * figures are medians over the rounds.
 */
export async function runRecordedDecodeBench(opts: { passes?: number; log?: (m: string) => void } = {}): Promise<RecordedDecodeResult> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const passes = opts.passes ?? 15;
  const symbols = new SymbolRegistry(BENCH_SYMBOLS);
  const decoder = new BinanceMarketDecoder(symbols, () => 0);
  const sets = loadRecordedFrames(decoder);
  const empty = { frames: 0, oursNs: NaN, jsonNs: NaN, ccxtNs: NaN, ccxtBookNs: NaN, vsJson: NaN, vsCcxt: NaN, vsCcxtBook: NaN };
  if (sets.length === 0) {
    const why = `shared fixtures not found at ${FIXTURES}: recorded-frame bench skipped`;
    log(why);
    return { skipped: why, ccxt: ccxtStatus, passes: 0, kinds: [], overall: empty, ok: true };
  }
  const cc = ccxtRoutes;
  const ring = SpscRing.create('bench.decode.recorded', 4096, MARKET_SLOT_BYTES);
  const times = sets.map(() => ({ ours: [] as number[], json: [] as number[], ccxt: [] as number[], book: [] as number[] }));
  const now = (): number => performance.now();

  const passOurs = (set: FrameSet): number => {
    const frames = set.frames;
    let recs = 0;
    const t0 = now();
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      recs += decoder.decode(f, 0, f.length, 1, ring);
      if ((i & 15) === 15) ring.release(ring.poll());
    }
    const dt = now() - t0;
    ring.release(ring.poll());
    if (recs !== set.records) throw new Error(`${set.kind}: ${recs} records, expected ${set.records}`);
    return dt;
  };
  const passWith = (set: FrameSet, route: (b: Buffer) => void): number => {
    const frames = set.frames;
    const t0 = now();
    for (let i = 0; i < frames.length; i++) route(frames[i]!);
    return now() - t0;
  };

  // one untimed pass of everything first (JIT, ccxt's caches and books)
  for (const set of sets) {
    passOurs(set);
    passWith(set, viaJsonAny);
    if (cc !== null) {
      passWith(set, cc.parse);
      if (set.kind === 'depthUpdate') passWith(set, cc.bookDelta);
    }
  }
  for (let p = 0; p < passes; p++) {
    sets.forEach((set, k) => {
      const t = times[k]!;
      // rotate the order of the routes from pass to pass
      const routes: Array<() => void> = [
        () => t.ours.push(passOurs(set)),
        () => t.json.push(passWith(set, viaJsonAny)),
      ];
      if (cc !== null) {
        routes.push(() => t.ccxt.push(passWith(set, cc.parse)));
        if (set.kind === 'depthUpdate') routes.push(() => t.book.push(passWith(set, cc.bookDelta)));
      }
      for (let r = 0; r < routes.length; r++) routes[(r + p) % routes.length]!();
    });
    await new Promise((r) => setImmediate(r));
  }

  const kinds: RecordedKindResult[] = sets.map((set, k) => {
    const t = times[k]!;
    const per = (xs: number[]): number => (xs.length === 0 ? NaN : (median(xs) * 1e6) / set.frames.length);
    return {
      kind: set.kind,
      frames: set.frames.length,
      records: set.records,
      oursNs: per(t.ours),
      jsonNs: per(t.json),
      ccxtNs: per(t.ccxt),
      ccxtBookNs: per(t.book),
      fixtureOnly: set.fixtureOnly,
    };
  });
  const rec = kinds.filter((x) => !x.fixtureOnly);
  const frames = rec.reduce((a, x) => a + x.frames, 0);
  const total = (f: (x: RecordedKindResult) => number): number => rec.reduce((a, x) => a + f(x) * x.frames, 0) / frames;
  const oursNs = total((x) => x.oursNs);
  const jsonNs = total((x) => x.jsonNs);
  const ccxtNs = cc !== null ? total((x) => x.ccxtNs) : NaN;
  const ccxtBookNs = cc !== null ? total((x) => (x.kind === 'depthUpdate' ? x.ccxtBookNs : x.ccxtNs)) : NaN;
  const overall = {
    frames,
    oursNs,
    jsonNs,
    ccxtNs,
    ccxtBookNs,
    vsJson: jsonNs / oursNs,
    vsCcxt: ccxtNs / oursNs,
    vsCcxtBook: ccxtBookNs / oursNs,
  };
  const ok = overall.vsJson >= MIN_RATIO_JSON && (cc === null || overall.vsCcxt >= MIN_RATIO_CCXT);

  const f1 = (x: number): string => (Number.isNaN(x) ? 'n/a' : x.toFixed(1));
  const rows = kinds.map((x) => ({
    kind: x.fixtureOnly ? `${x.kind} (fixture lines, cycled)` : x.kind,
    frames: x.frames,
    records: x.records,
    'ours ns': Math.round(x.oursNs),
    'JSON.parse ns': Math.round(x.jsonNs),
    'ccxt ns': cc !== null ? Math.round(x.ccxtNs) : 'n/a',
    'vs JSON': f1(x.jsonNs / x.oursNs) + 'x',
    'vs ccxt': cc !== null ? f1(x.ccxtNs / x.oursNs) + 'x' : 'n/a',
    'ccxt book delta ns': Number.isNaN(x.ccxtBookNs) ? '' : `${Math.round(x.ccxtBookNs)} (${f1(x.ccxtBookNs / x.oursNs)}x)`,
  }));
  log(`recorded frames: ${frames} ws frames of the two Binance recordings, ${passes} interleaved passes per route; ${ccxtStatus}`);
  console.table(rows);
  log(
    `recorded overall: ours ${f1(oursNs)} ns/frame, JSON.parse ${f1(jsonNs)} ns (${f1(overall.vsJson)}x, want >= ${MIN_RATIO_JSON}x), ` +
      `ccxt ${f1(ccxtNs)} ns (${f1(overall.vsCcxt)}x, want >= ${MIN_RATIO_CCXT}x) ${ok ? 'ok' : 'TOO SLOW'}`,
  );
  if (cc !== null) {
    log(`recorded overall with ccxt's depth handled as a book delta (handleOrderBookMessage): ccxt ${f1(ccxtBookNs)} ns (${f1(overall.vsCcxtBook)}x)`);
  }
  return { skipped: '', ccxt: ccxtStatus, passes, kinds, overall, ok };
}

export interface DecodeBenchResult {
  /** sample frames: per kind, p50 ratios jsonParse/scanner and ccxt/scanner (NaN without ccxt) */
  samples: Array<{ kind: string; vsJson: number; vsCcxt: number }>;
  recorded: RecordedDecodeResult;
}

/**
 * Runs only the decode benches: the sample-frame tinybench table (ratio jsonParse / scanner wanted >= 5x,
 * medians of the batch samples, which a scheduler hiccup moves less than the means), then the recorded
 * frames (overall >= 6x JSON.parse and >= 30x ccxt). Sets process.exitCode = 1 when a target is missed.
 */
export async function runDecodeBench(): Promise<DecodeBenchResult> {
  await prepareDecodeBenches();
  console.log(ccxtStatus);
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
  const samples: DecodeBenchResult['samples'] = [];
  for (const kind of ['bookTicker', 'aggTrade', 'depth20']) {
    const ours = latencyNs(bench, `decode.${kind}.scanner`, 'p50');
    const ratio = latencyNs(bench, `decode.${kind}.jsonParse`, 'p50') / ours;
    const meanRatio = latencyNs(bench, `decode.${kind}.jsonParse`, 'mean') / latencyNs(bench, `decode.${kind}.scanner`, 'mean');
    const vsCcxt = latencyNs(bench, `decode.${kind}.ccxt`, 'p50') / ours;
    samples.push({ kind, vsJson: ratio, vsCcxt });
    const pass = ratio >= MIN_RATIO;
    ok &&= pass;
    console.log(
      `decode.${kind}: scanner ${ratio.toFixed(1)}x faster than JSON.parse (p50; mean ${meanRatio.toFixed(1)}x; want >= ${MIN_RATIO}x) ${pass ? 'ok' : 'TOO SLOW'}` +
        (Number.isNaN(vsCcxt) ? '' : `, ${vsCcxt.toFixed(1)}x faster than ccxt`),
    );
  }
  const recorded = await runRecordedDecodeBench();
  if (!ok || !recorded.ok) process.exitCode = 1;
  return { samples, recorded };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runDecodeBench();
}
