/**
 * The market decoder against ccxt (a devDependency), an independent parser of the same frames: for every
 * frame kind ccxt parses into a unified structure (trades, bookTicker -> ticker bid/ask, depth -> order-book
 * levels and its book, markPrice -> mark/index price, kline -> OHLCV, forceOrder -> liquidation), each field
 * ccxt gives must equal our record's word exactly. Runs on a few of our own frames always (when ccxt is
 * installed) and on every market frame of the shared fixtures and recordings when they are there.
 */
import { syntheticMarket } from '../bench/micro/decode.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { AT, BT, DEPTH, FO, KL, MARKET_SLOT_BYTES, MP, RecordFlag, RecordType, headerCount, headerFlags, headerType, depthAskMask, depthLevels } from '../src/ring/layout.js';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { BinanceMarketDecoder } from '../src/venues/binance/MarketDecoder.js';
import { HAVE_SHARED_FIXTURES, NO_FIXTURES_MESSAGE, fixtureLines, fixturePath } from './helpers/fixtures.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// ------------------------------------------------------------------ the slice of ccxt we call

interface CcxtMarket {
  id: string;
  symbol: string;
}
interface CcxtTrade {
  id?: string;
  timestamp?: number;
  symbol?: string;
  side?: string;
  price?: number;
  amount?: number;
}
interface CcxtTicker {
  symbol?: string;
  timestamp?: number;
  bid?: number;
  bidVolume?: number;
  ask?: number;
  askVolume?: number;
  markPrice?: number;
  indexPrice?: number;
}
interface CcxtLiquidation {
  symbol?: string;
  contracts?: number;
  price?: number;
  side?: string;
  timestamp?: number;
}
interface CcxtBook {
  bids: number[][];
  asks: number[][];
  nonce?: number;
  timestamp?: number;
}
interface CcxtClient {
  url: string;
  subscriptions: Record<string, unknown>;
  resolve(v: unknown, hash: string): void;
  reject(e: unknown, hash: string): void;
}
/** ccxt.pro.binanceusdm, as far as these tests use it (ccxt's own typings want its Client class). */
interface CcxtUsdm {
  markets: Record<string, CcxtMarket>;
  ohlcvs: Record<string, Record<string, number[][]>>;
  parseMarket(raw: Obj): unknown;
  setMarkets(markets: unknown[]): unknown;
  market(symbol: string): CcxtMarket;
  safeMarket(id: string, market?: CcxtMarket, delimiter?: string, marketType?: string): CcxtMarket;
  parseWsTrade(trade: Obj, market?: CcxtMarket): CcxtTrade;
  parseWsTicker(message: Obj, marketType: string): CcxtTicker;
  parseWsLiquidation(liquidation: Obj, market?: CcxtMarket): CcxtLiquidation;
  parseOrderBookBidsAsks(levels: Json, priceKey: number, amountKey: number): number[][];
  orderBook(snapshot: Obj, depth?: number): CcxtBook;
  handleOrderBookMessage(client: CcxtClient, message: Obj, book: CcxtBook): CcxtBook;
  handleMessage(client: CcxtClient, message: Json): void;
}

const ccxtMod = await import('ccxt').then(
  (m) => m.default,
  () => null,
);
const NO_CCXT_MESSAGE = 'ccxt is not installed (devDependency): skipping the ccxt differential test';

const SYMBOLS = [
  'BTCUSDT',
  'ETHUSDT',
  'XRPUSDT',
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


/** binanceusdm with markets from the exchangeInfo fixture (when there) plus synthetic ones for the rest. */
function makeCcxt(): CcxtUsdm {
  if (ccxtMod === null) throw new Error(NO_CCXT_MESSAGE);
  const ex = new ccxtMod.pro.binanceusdm() as unknown as CcxtUsdm;
  const raw: Obj[] = [];
  if (HAVE_SHARED_FIXTURES) {
    const info = JSON.parse(readFileSync(fixturePath('binance-usdm/exchangeInfo.json'), 'utf8')) as Obj;
    for (const m of info.symbols as Obj[]) raw.push(m);
  }
  for (const s of SYMBOLS) if (!raw.some((m) => m.symbol === s)) raw.push(syntheticMarket(s));
  ex.setMarkets(raw.map((m) => ex.parseMarket(m)));
  return ex;
}

function stubClient(): CcxtClient {
  return { url: 'wss://fstream.binance.com/stream', subscriptions: {}, resolve() {}, reject() {} };
}

// ------------------------------------------------------------------ comparison

/** Our number vs ccxt's: equal, or both "absent" (our NaN, ccxt's undefined). */
function sameNum(ours: number, theirs: number | undefined): boolean {
  return theirs === undefined ? Number.isNaN(ours) : ours === theirs;
}

class Differ {
  readonly reg = new SymbolRegistry(SYMBOLS);
  readonly dec = new BinanceMarketDecoder(this.reg, () => 1);
  readonly w = new ArraySlotWriter(MARKET_SLOT_BYTES, 4096);
  readonly ex = makeCcxt();
  readonly client = stubClient();
  readonly problems: string[] = [];
  /** frames compared, by event type */
  readonly counts = new Map<string, number>();

  private f(base: number, word: number): number {
    return this.w.f64[base + word]!;
  }

  private check(label: string, what: string, ours: number, theirs: number | undefined): void {
    if (!sameNum(ours, theirs)) this.problems.push(`${label} ${what}: ours ${ours}, ccxt ${String(theirs)}`);
  }

  private checkStr(label: string, what: string, ours: string | undefined, theirs: string | undefined): void {
    if (ours !== theirs) this.problems.push(`${label} ${what}: ours ${String(ours)}, ccxt ${String(theirs)}`);
  }

  /** Decodes `text` (one frame) and compares every record with what ccxt makes of the same frame. */
  frame(text: string, label: string): void {
    const msg = JSON.parse(text) as Json;
    const events: Obj[] = [];
    if (Array.isArray(msg)) for (const e of msg) isObj(e) && events.push(e);
    else if (isObj(msg)) {
      const d = 'data' in msg ? msg.data : msg;
      if (Array.isArray(d)) for (const e of d) isObj(e) && events.push(e);
      else if (isObj(d)) events.push(d);
    }
    const w = this.w;
    w.reset();
    const bytes = Buffer.from(text);
    const n = this.dec.decode(bytes, 0, bytes.length, 0, w);
    if (n <= 0) {
      this.problems.push(`${label}: decode returned ${n}`);
      return;
    }
    let r = 0;
    for (const d of events) {
      const e = String(d.e);
      this.counts.set(e, (this.counts.get(e) ?? 0) + 1);
      const base = w.base(r);
      const hdr = w.i32[base * 2]!;
      const sym = this.reg.name(w.i32[base * 2 + 1]!);
      const market = this.ex.safeMarket(sym, undefined, undefined, 'contract');
      const L = `${label} ${e}`;
      switch (e) {
        case 'aggTrade':
        case 'trade': {
          const t = this.ex.parseWsTrade(d, market);
          this.check(L, 'type', headerType(hdr), e === 'aggTrade' ? RecordType.AggTrade : RecordType.Trade);
          this.checkStr(L, 'symbol', market.symbol, t.symbol);
          const id = this.f(base, AT.TRADE_ID);
          this.checkStr(L, 'id', Number.isNaN(id) ? undefined : String(id), t.id);
          this.check(L, 'price', this.f(base, AT.PRICE), t.price);
          this.check(L, 'amount', this.f(base, AT.QTY), t.amount);
          this.check(L, 'timestamp', this.f(base, AT.TRADE_TIME), t.timestamp);
          this.checkStr(L, 'side', this.f(base, AT.BUYER_MAKER) === 1 ? 'sell' : 'buy', t.side);
          r++;
          break;
        }
        case 'bookTicker': {
          const t = this.ex.parseWsTicker(d, 'contract');
          this.check(L, 'type', headerType(hdr), RecordType.BookTicker);
          this.checkStr(L, 'symbol', market.symbol, t.symbol);
          this.check(L, 'bid', this.f(base, BT.BID), t.bid);
          this.check(L, 'bidVolume', this.f(base, BT.BID_QTY), t.bidVolume);
          this.check(L, 'ask', this.f(base, BT.ASK), t.ask);
          this.check(L, 'askVolume', this.f(base, BT.ASK_QTY), t.askVolume);
          this.check(L, 'timestamp', this.f(base, BT.EVENT_TIME), t.timestamp);
          r++;
          break;
        }
        case 'markPriceUpdate': {
          // ccxt's WS path gives mark and index price (funding rate only from its REST parser)
          const t = this.ex.parseWsTicker(d, 'contract');
          this.check(L, 'type', headerType(hdr), RecordType.MarkPrice);
          this.checkStr(L, 'symbol', market.symbol, t.symbol);
          this.check(L, 'markPrice', this.f(base, MP.MARK), t.markPrice);
          this.check(L, 'indexPrice', this.f(base, MP.INDEX), t.indexPrice);
          this.check(L, 'timestamp', this.f(base, MP.EVENT_TIME), t.timestamp);
          r++;
          break;
        }
        case 'forceOrder': {
          const liq = this.ex.parseWsLiquidation(d.o as Obj, market);
          this.check(L, 'type', headerType(hdr), RecordType.ForceOrder);
          this.checkStr(L, 'symbol', market.symbol, liq.symbol);
          // ccxt's liquidation: contracts = last filled qty `l`, price = average price `ap`
          this.check(L, 'contracts', this.f(base, FO.LAST_QTY), liq.contracts);
          this.check(L, 'price', this.f(base, FO.AVG_PRICE), liq.price);
          this.checkStr(L, 'side', this.f(base, FO.SIDE) === 1 ? 'buy' : 'sell', liq.side);
          this.check(L, 'timestamp', this.f(base, FO.TRADE_TIME), liq.timestamp);
          r++;
          break;
        }
        case 'kline': {
          // ccxt parses klines only inside handleOHLCV, into its per-symbol OHLCV cache
          this.ex.handleMessage(this.client, { e: 'kline', E: d.E!, s: d.s!, k: d.k! });
          const k = d.k as Obj;
          const tf = String(k.i);
          const rows = this.ex.ohlcvs[market.symbol]?.[tf] ?? [];
          const row = rows[rows.length - 1];
          this.check(L, 'type', headerType(hdr), RecordType.Kline);
          if (row === undefined) {
            this.problems.push(`${L}: no OHLCV row in ccxt`);
          } else {
            const words = [KL.OPEN_TIME, KL.OPEN, KL.HIGH, KL.LOW, KL.CLOSE, KL.VOLUME];
            words.forEach((word, j) => this.check(L, `ohlcv[${j}]`, this.f(base, word), row[j]));
          }
          this.check(L, 'closed', (headerFlags(hdr) & RecordFlag.Closed) !== 0 ? 1 : 0, k.x === true ? 1 : 0);
          r++;
          break;
        }
        case 'depthUpdate': {
          // (a) ccxt's level parser: the same numbers in the same order, bids then asks
          const levels = [...this.ex.parseOrderBookBidsAsks(d.b!, 0, 1), ...this.ex.parseOrderBookBidsAsks(d.a!, 0, 1)];
          const ours: number[][] = [];
          const bookBids = new Map<number, number>();
          const bookAsks = new Map<number, number>();
          let last = false;
          for (; !last; r++) {
            const b = w.base(r);
            const h = w.i32[b * 2]!;
            if (headerType(h) !== RecordType.Depth) {
              this.problems.push(`${L}: record ${r} is not depth`);
              return;
            }
            last = (headerFlags(h) & RecordFlag.Last) !== 0;
            const cnt = headerCount(h);
            for (let j = 0; j < depthLevels(cnt); j++) {
              const p = this.f(b, DEPTH.LEVELS + 2 * j);
              const q = this.f(b, DEPTH.LEVELS + 2 * j + 1);
              ours.push([p, q]);
              const side = ((depthAskMask(cnt) >>> j) & 1) === 1 ? bookAsks : bookBids;
              if (q === 0) side.delete(p);
              else side.set(p, q);
            }
          }
          if (JSON.stringify(ours) !== JSON.stringify(levels)) this.problems.push(`${L}: levels differ`);
          // (b) ccxt's order-book delta handling on an empty book: the resulting book from our levels
          const book = this.ex.handleOrderBookMessage(this.client, d, this.ex.orderBook({}));
          const sorted = (m: Map<number, number>, desc: boolean): number[][] =>
            [...m.entries()].sort((x, y) => (desc ? y[0] - x[0] : x[0] - y[0])).map(([p, q]) => [p, q]);
          if (JSON.stringify(sorted(bookBids, true)) !== JSON.stringify(book.bids.map((l) => [l[0], l[1]]))) this.problems.push(`${L}: book bids differ`);
          if (JSON.stringify(sorted(bookAsks, false)) !== JSON.stringify(book.asks.map((l) => [l[0], l[1]]))) this.problems.push(`${L}: book asks differ`);
          this.check(L, 'nonce', this.f(w.base(r - 1), DEPTH.FINAL_UPDATE_ID), book.nonce);
          this.check(L, 'timestamp', this.f(w.base(r - 1), DEPTH.EVENT_TIME), book.timestamp);
          break;
        }
        default:
          break;
      }
    }
    if (r !== n) this.problems.push(`${label}: compared ${r} records of ${n}`);
  }
}

// ------------------------------------------------------------------ our own frames (always run with ccxt)

const OWN_FRAMES = [
  '{"e":"bookTicker","u":7081766043288,"s":"BTCUSDT","b":"84158.30","B":"6.454","a":"84158.40","A":"9.533","T":1742582931601,"E":1742582931601}',
  '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1786171884624,"a":3404749954,"s":"BTCUSDT","p":"64990.90","q":"0.002","nq":"0.002","f":7960913511,"l":7960913513,"T":1786171884471,"m":true,"st":1}}',
  '{"e":"trade","E":1742583237873,"T":1742583237870,"s":"ETHUSDT","t":6126585299,"p":"2366.55","q":"0.070","X":"MARKET","m":false}',
  '{"stream":"sushiusdt@depth@100ms","data":{"e":"depthUpdate","E":1626992741037,"T":1626992741024,"s":"SUSHIUSDT","U":600859599090,"u":600859600917,"pu":600859598061,"b":[["7.5040","813"],["7.6090","0"],["7.6110","2"]],"a":[["7.6150","1563"],["7.6220","3284"]]}}',
  '[{"e":"markPriceUpdate","E":1786171884000,"s":"BTCUSDT","p":"64991.37858696","ap":"64991.37858696","P":"64980.01344384","i":"65016.05673913","r":"0.00003936","T":1786176000000,"st":1},{"e":"markPriceUpdate","E":1569888003001,"s":"ETHUSDT","p":"180.21","r":"0.00010000","T":1569916800000}]',
  '{"e":"forceOrder","E":1789672236702,"o":{"s":"COTIUSDT","S":"BUY","o":"LIMIT","f":"IOC","q":"288183","p":"0.0220482","ap":"0.0219120","X":"FILLED","l":"288183","z":"288183","T":1789672235690}}',
  '{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1786173360960,"s":"BTCUSDT","k":{"t":1786173300000, "T":1786173359999, "s":"BTCUSDT", "i":"1m", "f":7960920076, "L":7960920277, "o":"64970.80", "c":"64969.40", "h":"64970.90", "l":"64969.40", "v":"9.090", "n":194, "x":true, "q":"590577.96880", "V":"3.460", "Q":"224795.09440", "B":"0"}}}',
];

describe.skipIf(ccxtMod === null)('BinanceMarketDecoder vs ccxt: own frames', () => {
  it('every field ccxt parses equals our record', () => {
    const d = new Differ();
    OWN_FRAMES.forEach((f, i) => d.frame(f, `own ${i}`));
    expect(d.problems).toEqual([]);
    expect(Object.fromEntries(d.counts)).toEqual({ bookTicker: 1, aggTrade: 1, trade: 1, depthUpdate: 1, markPriceUpdate: 2, forceOrder: 1, kline: 1 });
  });

  it('the comparison catches a wrong value', () => {
    const d = new Differ();
    d.frame(OWN_FRAMES[0]!, 'good');
    expect(d.problems).toEqual([]);
    // decode one frame, then compare the records against ccxt's parse of a frame with another bid
    const w = d.w;
    const orig = d.dec.decode.bind(d.dec);
    d.dec.decode = (buf, s, e, ts, out) => {
      const n = orig(buf, s, e, ts, out);
      w.f64[w.base(0) + BT.BID] += 0.01;
      return n;
    };
    d.frame(OWN_FRAMES[0]!, 'tampered');
    expect(d.problems).toEqual([expect.stringMatching(/^tampered bookTicker bid: ours 84158\.31\d*, ccxt 84158\.3$/)]);
  });
});

// ------------------------------------------------------------------ every recorded market frame

describe.skipIf(ccxtMod === null || !HAVE_SHARED_FIXTURES)('BinanceMarketDecoder vs ccxt: recorded frames', () => {
  it('every market fixture line', () => {
    const d = new Differ();
    for (const file of ['bookTicker', 'aggTrade', 'trade', 'depthUpdate', 'depthPartial', 'markPrice', 'forceOrder', 'kline']) {
      fixtureLines(`binance-usdm/${file}.jsonl`).forEach((line, i) => d.frame(line, `${file}:${i + 1}`));
    }
    expect(d.problems).toEqual([]);
    expect(Object.fromEntries(d.counts)).toEqual({
      bookTicker: 23,
      aggTrade: 22,
      trade: 4,
      depthUpdate: 256,
      markPriceUpdate: 4,
      forceOrder: 4,
      kline: 21,
    });
  });

  for (const rec of ['2021-04-05_SAND-CHR-NEO-CTK-BAT.jsonl', '2021-07-22_SUSHI-AKRO-KEEP-CTK.jsonl']) {
    it(`every ws frame of recordings/binance-usdm/${rec}`, () => {
      const d = new Differ();
      let ws = 0;
      fixtureLines(`recordings/binance-usdm/${rec}`).forEach((line, i) => {
        if (!line.includes('"src":"ws"')) return;
        ws++;
        // the frame's bytes as recorded: the raw text after `"msg":` up to the line's last `}`
        d.frame(line.slice(line.indexOf('"msg":') + 6, line.lastIndexOf('}')), `${rec}:${i + 1}`);
      });
      expect(d.problems).toEqual([]);
      expect(ws).toBeGreaterThan(1000);
      expect([...d.counts.values()].reduce((a, b) => a + b, 0)).toBe(ws);
    });
  }
});

if (ccxtMod === null || !HAVE_SHARED_FIXTURES) {
  describe('ccxt differential', () => {
    it.skip(ccxtMod === null ? NO_CCXT_MESSAGE : NO_FIXTURES_MESSAGE, () => {});
  });
}
