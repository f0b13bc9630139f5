import { describe, expect, it } from 'vitest';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import {
  AU,
  AccountUpdateReason,
  ExecType,
  OrderStatus,
  RP,
  RecordType,
  REPORT_SLOT_BYTES,
  W,
  headerCount,
  headerFlags,
  headerType,
} from '../src/ring/layout.js';
import {
  AccountFlag,
  ExecFlag,
  FillDedup,
  MalformedReason,
  OrderOrigin,
  UserDataDecoder,
  UserDataStatus,
  type UserDataDecoderOptions,
} from '../src/venues/binance/UserDataDecoder.js';
import { HAVE_SHARED_FIXTURES, fixtureLines } from './helpers/fixtures.js';

// ------------------------------------------------------------------ helpers

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'ETHBUSD', 'SEIUSDT', '1000PEPEUSDT', 'BNBUSDT'];
const registry = new SymbolRegistry(SYMBOLS);
const PREFIX = 'h1x-';
const RECV = 123_456;
const PUB = 777;

function decoder(o: Partial<UserDataDecoderOptions> = {}): UserDataDecoder {
  return new UserDataDecoder({ symbols: registry, clientIdPrefix: PREFIX, now: () => PUB, ...o });
}

function writer(capacity = 64): ArraySlotWriter {
  return new ArraySlotWriter(REPORT_SLOT_BYTES, capacity);
}

function run(d: UserDataDecoder, text: string, w = writer()): number {
  const buf = Buffer.from(text, 'utf8');
  return d.decode(buf, 0, buf.length, RECV, w);
}

interface Exec {
  type: number;
  flags: number;
  origin: number;
  sym: number;
  intentId: number;
  status: number;
  execType: number;
  side: number;
  lastQty: number;
  lastPrice: number;
  cumQty: number;
  avgPrice: number;
  fee: number;
  orderId: number;
  venueTime: number;
  isMaker: number;
  msg: string;
  recvTs: number;
  pubTs: number;
}

function exec(w: ArraySlotWriter, k: number): Exec {
  const b = w.base(k);
  const f = w.f64;
  const h = w.i32[b * 2]!;
  const len = f[b + RP.MSG_LEN]!;
  const m0 = (b + RP.MSG) * 8;
  return {
    type: headerType(h),
    flags: headerFlags(h),
    origin: headerCount(h),
    sym: w.i32[b * 2 + 1]!,
    intentId: f[b + RP.INTENT_ID]!,
    status: f[b + RP.STATUS]!,
    execType: f[b + RP.EXEC_TYPE]!,
    side: f[b + RP.SIDE]!,
    lastQty: f[b + RP.LAST_QTY]!,
    lastPrice: f[b + RP.LAST_PRICE]!,
    cumQty: f[b + RP.CUM_QTY]!,
    avgPrice: f[b + RP.AVG_PRICE]!,
    fee: f[b + RP.FEE]!,
    orderId: f[b + RP.ORDER_ID]!,
    venueTime: f[b + RP.VENUE_TIME]!,
    isMaker: f[b + RP.IS_MAKER]!,
    msg: Buffer.from(w.u8.subarray(m0, m0 + len)).toString('latin1'),
    recvTs: f[b + W.RECV_TS]!,
    pubTs: f[b + W.PUB_TS]!,
  };
}

interface Acct {
  type: number;
  flags: number;
  sym: number;
  eventTime: number;
  amt: number;
  entry: number;
  bep: number;
  upnl: number;
  rpnl: number;
  wallet: number;
  crossWallet: number;
  reason: number;
  hasBal: number;
  hasPos: number;
}

function acct(w: ArraySlotWriter, k: number): Acct {
  const b = w.base(k);
  const f = w.f64;
  const h = w.i32[b * 2]!;
  return {
    type: headerType(h),
    flags: headerFlags(h),
    sym: w.i32[b * 2 + 1]!,
    eventTime: f[b + AU.EVENT_TIME]!,
    amt: f[b + AU.POSITION_AMT]!,
    entry: f[b + AU.ENTRY_PRICE]!,
    bep: f[b + AU.BREAK_EVEN_PRICE]!,
    upnl: f[b + AU.UNREALIZED_PNL]!,
    rpnl: f[b + AU.REALIZED_PNL]!,
    wallet: f[b + AU.WALLET_BALANCE]!,
    crossWallet: f[b + AU.CROSS_WALLET_BALANCE]!,
    reason: f[b + AU.REASON]!,
    hasBal: f[b + AU.HAS_BALANCE]!,
    hasPos: f[b + AU.HAS_POSITION]!,
  };
}

/** The event inside a raw frame or a combined-stream envelope, as JSON.parse reads it. */
function eventOf(text: string): Record<string, unknown> {
  const j = JSON.parse(text) as Record<string, unknown>;
  return (j['data'] as Record<string, unknown> | undefined) ?? j;
}

const STATUS: Record<string, number> = {
  NEW: OrderStatus.New,
  PARTIALLY_FILLED: OrderStatus.PartiallyFilled,
  FILLED: OrderStatus.Filled,
  CANCELED: OrderStatus.Canceled,
  EXPIRED: OrderStatus.Expired,
  EXPIRED_IN_MATCH: OrderStatus.Expired,
};
const EXEC: Record<string, number> = { NEW: ExecType.Ack, TRADE: ExecType.Fill, CANCELED: ExecType.Canceled, EXPIRED: ExecType.Expired };
const REASON: Record<string, number> = { ORDER: AccountUpdateReason.Order, DEPOSIT: AccountUpdateReason.Deposit, FUNDING_FEE: AccountUpdateReason.FundingFee };

/** What the decoder must write for an ORDER_TRADE_UPDATE, from JSON.parse of the same frame. */
function expectedOtu(text: string, prefix = PREFIX): Partial<Exec> {
  const ev = eventOf(text);
  const o = ev['o'] as Record<string, string | number | boolean>;
  const c = String(o['c']);
  const ours = c.startsWith(prefix) && /^\d{1,15}$/.test(c.slice(prefix.length));
  return {
    type: RecordType.ExecReport,
    sym: registry.id(String(o['s'])),
    intentId: ours ? Number(c.slice(prefix.length)) : -1,
    origin: ours ? OrderOrigin.Ours : OrderOrigin.Manual,
    status: STATUS[String(o['X'])]!,
    execType: EXEC[String(o['x'])]!,
    side: o['S'] === 'BUY' ? 1 : -1,
    lastQty: Number(o['l']),
    lastPrice: Number(o['L']),
    cumQty: Number(o['z']),
    avgPrice: Number(o['ap']),
    fee: o['n'] === undefined ? 0 : Number(o['n']),
    orderId: Number(o['i']),
    venueTime: Number(o['T']),
    isMaker: o['m'] === true ? 1 : 0,
    msg: ours ? '' : c,
    recvTs: RECV,
    pubTs: PUB,
  };
}

// ------------------------------------------------------------------ project-owned frames (always run)

const OTU_NEW =
  '{"e":"ORDER_TRADE_UPDATE","T":1700000000100,"E":1700000000101,"o":{"s":"BTCUSDT","c":"h1x-42","S":"BUY","o":"LIMIT","f":"GTC","q":"0.010","p":"43000.10","ap":"0","sp":"0","x":"NEW","X":"NEW","i":9000000001,"l":"0","z":"0","L":"0","n":"0","N":"USDT","T":1700000000100,"t":0,"b":"430.001","a":"0","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}}';
const LITE_1 =
  '{"e":"TRADE_LITE","E":1700000000200,"T":1700000000199,"s":"BTCUSDT","q":"0.010","p":"43000.10","m":true,"c":"h1x-42","S":"BUY","L":"43000.10","l":"0.004","t":777001,"i":9000000001}';
const OTU_FILL_1 =
  '{"e":"ORDER_TRADE_UPDATE","T":1700000000199,"E":1700000000201,"o":{"s":"BTCUSDT","c":"h1x-42","S":"BUY","o":"LIMIT","f":"GTC","q":"0.010","p":"43000.10","ap":"43000.10000","sp":"0","x":"TRADE","X":"PARTIALLY_FILLED","i":9000000001,"l":"0.004","z":"0.004","L":"43000.10","n":"-0.00344000","N":"USDT","T":1700000000199,"t":777001,"b":"258.0006","a":"0","m":true,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0,"er":"0"}}';
const LITE_2 =
  '{"e":"TRADE_LITE","E":1700000000300,"T":1700000000299,"s":"BTCUSDT","q":"0.010","p":"43000.10","m":true,"c":"h1x-42","S":"BUY","L":"43000.10","l":"0.006","t":777002,"i":9000000001}';
const OTU_FILL_2 =
  '{"e":"ORDER_TRADE_UPDATE","T":1700000000299,"E":1700000000301,"o":{"s":"BTCUSDT","c":"h1x-42","S":"BUY","o":"LIMIT","f":"GTC","q":"0.010","p":"43000.10","ap":"43000.10000","sp":"0","x":"TRADE","X":"FILLED","i":9000000001,"l":"0.006","z":"0.010","L":"43000.10","n":"-0.00516001","N":"USDT","T":1700000000299,"t":777002,"b":"0","a":"0","m":true,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0,"er":"0"}}';
const LIQ =
  '{"e":"ORDER_TRADE_UPDATE","T":1700000001000,"E":1700000001001,"o":{"s":"ETHUSDT","c":"autoclose-1700000000999123","S":"SELL","o":"LIQUIDATION","f":"IOC","q":"1.500","p":"2001.00","ap":"2001.00","sp":"0","x":"CALCULATED","X":"FILLED","i":555,"l":"1.500","z":"1.500","L":"2001.00","n":"0","N":"USDT","T":1700000001000,"t":9001,"m":false,"R":false,"ps":"BOTH","rp":"-12.5"}}';
const ADL =
  '{"e":"ORDER_TRADE_UPDATE","T":1700000002000,"E":1700000002001,"o":{"s":"ETHUSDT","c":"adl_autoclose","S":"BUY","o":"LIMIT","f":"IOC","q":"0.5","p":"2001.00","ap":"0","sp":"0","x":"NEW","X":"NEW","i":556,"l":"0","z":"0","L":"0","T":1700000002000,"t":0,"m":false}}';
const ACCOUNT_2POS =
  '{"e":"ACCOUNT_UPDATE","E":1700000003001,"T":1700000003000,"a":{"m":"FUNDING_FEE","B":[{"a":"BNB","wb":"1.5","cw":"1.5","bc":"0"},{"a":"USDT","wb":"1000.25","cw":"900.125","bc":"-0.5"}],"P":[{"s":"BTCUSDT","pa":"-0.010","ep":"43000.1","bep":"42990","cr":"5","up":"-1.25","mt":"isolated","iw":"100","ps":"SHORT","ma":"USDT"},{"s":"ETHUSDT","pa":"2","ep":"2000","cr":"0","up":"3","mt":"cross","iw":"0","ps":"LONG","ma":"USDT"}]}}';
const MARGIN_CALL =
  '{"e":"MARGIN_CALL","E":1700000004000,"cw":"3.16812045","p":[{"s":"ETHUSDT","ps":"LONG","pa":"1.327","mt":"CROSSED","iw":"0","mp":"187.17127","up":"-1.166074","mm":"1.614445"}]}';
const ALGO =
  '{"e":"ALGO_UPDATE","T":1700000005000,"E":1700000005001,"o":{"caid":"h1x-77","aid":31337,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0.01","X":"FINISHED","ai":"123","ap":"42000.50","aq":"0.01","act":"0","tp":"42001","p":"0","V":"NONE","wt":"MARK_PRICE","pm":"NONE","cp":false,"pP":false,"R":true,"tt":1700000004999,"gtd":0,"rm":""}}';
const EXPIRED = '{"e":"listenKeyExpired","E":"1700000006000","listenKey":"abc"}';

describe('UserDataDecoder: project frames', () => {
  it('ORDER_TRADE_UPDATE NEW of our order: intent id from the client order id, exact values', () => {
    const d = decoder();
    const w = writer();
    expect(run(d, OTU_NEW, w)).toBe(1);
    const r = exec(w, 0);
    expect(r).toMatchObject(expectedOtu(OTU_NEW));
    expect(r.intentId).toBe(42);
    expect(r.flags).toBe(ExecFlag.Stream);
    expect(r.origin).toBe(OrderOrigin.Ours);
    expect(r.msg).toBe('');
  });

  it('TRADE_LITE first, then its ORDER_TRADE_UPDATE: the fill is counted once', () => {
    const d = decoder();
    const w = writer();
    for (const f of [OTU_NEW, LITE_1, OTU_FILL_1, LITE_2, OTU_FILL_2]) expect(run(d, f, w)).toBe(1);
    const recs = [0, 1, 2, 3, 4].map((k) => exec(w, k));
    // lite records: fill qty/price/maker, cumulative values unknown
    expect(recs[1]).toMatchObject({ execType: ExecType.Fill, lastQty: 0.004, lastPrice: 43000.1, isMaker: 1, orderId: 9000000001, intentId: 42, status: OrderStatus.PartiallyFilled, venueTime: 1700000000199 });
    expect(recs[1]!.flags).toBe(ExecFlag.Stream | ExecFlag.Lite);
    expect(recs[1]!.cumQty).toBeNaN();
    expect(recs[1]!.fee).toBeNaN();
    expect(recs[3]!.status).toBe(OrderStatus.PartiallyFilled); // 0.006 of 0.010: a lower bound
    // full records flagged Dup carry the cumulative state and the (negative = rebate) fee
    expect(recs[2]).toMatchObject({ ...expectedOtu(OTU_FILL_1), flags: ExecFlag.Stream | ExecFlag.Dup });
    expect(recs[4]).toMatchObject({ ...expectedOtu(OTU_FILL_2), flags: ExecFlag.Stream | ExecFlag.Dup });
    expect(recs[2]!.fee).toBe(-0.00344);
    const counted = recs.filter((r) => r.execType === ExecType.Fill && (r.flags & ExecFlag.Dup) === 0).reduce((s, r) => s + r.lastQty, 0);
    expect(counted).toBeCloseTo(0.01, 12);
    expect(d.dupFills).toBe(2);
    expect(d.liteDropped).toBe(0);
  });

  it('ORDER_TRADE_UPDATE first, then a late TRADE_LITE: the lite writes nothing', () => {
    const d = decoder();
    const w = writer();
    expect(run(d, OTU_FILL_1, w)).toBe(1);
    expect(run(d, LITE_1, w)).toBe(0);
    expect(w.count).toBe(1);
    expect(exec(w, 0).flags).toBe(ExecFlag.Stream);
    expect(d.liteDropped).toBe(1);
    // a repeated lite is dropped as well
    expect(run(d, LITE_2, w)).toBe(1);
    expect(run(d, LITE_2, w)).toBe(0);
    expect(d.liteDropped).toBe(2);
  });

  it('liquidation (CALCULATED) and ADL orders are foreign with their origin and raw client id', () => {
    const d = decoder();
    const w = writer();
    expect(run(d, LIQ, w)).toBe(1);
    expect(run(d, ADL, w)).toBe(1);
    const liq = exec(w, 0);
    expect(liq).toMatchObject({ intentId: -1, origin: OrderOrigin.Liquidation, execType: ExecType.Fill, status: OrderStatus.Filled, lastQty: 1.5, lastPrice: 2001, side: -1, msg: 'autoclose-1700000000999123' });
    expect(liq.flags).toBe(ExecFlag.Stream | ExecFlag.Foreign | ExecFlag.Liquidation);
    const adl = exec(w, 1);
    expect(adl).toMatchObject({ intentId: -1, origin: OrderOrigin.Adl, execType: ExecType.Ack, status: OrderStatus.New, msg: 'adl_autoclose', fee: 0 });
    expect(adl.avgPrice).toBe(0);
  });

  it('another session prefix or a non-numeric suffix is a manual (foreign) order', () => {
    const d = decoder();
    const w = writer();
    run(d, OTU_NEW.replace('"h1x-42"', '"h1y-42"'), w);
    run(d, OTU_NEW.replace('"h1x-42"', '"h1x-42a"'), w);
    run(d, OTU_NEW.replace('"h1x-42"', '"h1x-"'), w);
    for (let k = 0; k < 3; k++) expect(exec(w, k)).toMatchObject({ intentId: -1, origin: OrderOrigin.Manual });
    expect(exec(w, 0).msg).toBe('h1y-42');
  });

  it('ACCOUNT_UPDATE: one record per position, margin asset balance on each, sides and margin type as flags', () => {
    const d = decoder();
    const w = writer();
    expect(run(d, ACCOUNT_2POS, w)).toBe(2);
    const a = acct(w, 0);
    expect(a).toMatchObject({ type: RecordType.AccountUpdate, sym: registry.id('BTCUSDT'), eventTime: 1700000003001, amt: -0.01, entry: 43000.1, bep: 42990, rpnl: 5, upnl: -1.25, wallet: 1000.25, crossWallet: 900.125, reason: AccountUpdateReason.FundingFee, hasBal: 1, hasPos: 1 });
    expect(a.flags).toBe(AccountFlag.Short | AccountFlag.Isolated);
    const b = acct(w, 1);
    expect(b).toMatchObject({ sym: registry.id('ETHUSDT'), amt: 2, entry: 2000, upnl: 3, wallet: 1000.25, hasBal: 1 });
    expect(b.flags).toBe(AccountFlag.Long);
    expect(b.bep).toBeNaN(); // absent in the frame
    expect(d.otherAssetBalances).toBe(1);
  });

  it('ACCOUNT_UPDATE without positions: one balance record with symbol -1; unknown symbols skipped', () => {
    const d = decoder();
    const w = writer();
    const dep = '{"e":"ACCOUNT_UPDATE","E":5,"T":4,"a":{"B":[{"a":"USDT","wb":"10","cw":"9","bc":"10"}],"P":[],"m":"DEPOSIT"}}';
    expect(run(d, dep, w)).toBe(1);
    expect(acct(w, 0)).toMatchObject({ sym: -1, wallet: 10, crossWallet: 9, reason: AccountUpdateReason.Deposit, hasBal: 1, hasPos: 0 });
    const unk = '{"e":"ACCOUNT_UPDATE","E":6,"a":{"B":[],"P":[{"s":"DOGEUSDT","pa":"1"},{"s":"BTCUSDT","pa":"0.5"}],"m":"ORDER"}}';
    expect(run(d, unk, w)).toBe(1);
    expect(acct(w, 1)).toMatchObject({ sym: registry.id('BTCUSDT'), amt: 0.5, hasBal: 0, wallet: 0 });
    expect(d.unknownSymbolPositions).toBe(1);
    // no margin-asset balance, no known position: nothing to write
    expect(run(d, '{"e":"ACCOUNT_UPDATE","E":7,"a":{"B":[{"a":"BNB","wb":"1","cw":"1"}],"P":[],"m":"ADJUSTMENT"}}', w)).toBe(0);
  });

  it('MARGIN_CALL: an alarm record per position and the listener with mark price and maintenance margin', () => {
    const calls: number[][] = [];
    const d = decoder({ listener: { onMarginCall: (...a) => calls.push(a) } });
    const w = writer();
    expect(run(d, MARGIN_CALL, w)).toBe(1);
    const a = acct(w, 0);
    expect(a).toMatchObject({ sym: registry.id('ETHUSDT'), amt: 1.327, upnl: -1.166074, crossWallet: 3.16812045, hasPos: 1, hasBal: 1, eventTime: 1700000004000 });
    expect(a.flags).toBe(AccountFlag.MarginCall | AccountFlag.Long);
    expect(calls).toEqual([[registry.id('ETHUSDT'), AccountFlag.Long, 1.327, 187.17127, -1.166074, 1.614445, 3.16812045, 1700000004000]]);
    expect(d.marginCalls).toBe(1);
  });

  it('ALGO_UPDATE: an Algo ExecReport with the algo id, our intent id from clientAlgoId', () => {
    const d = decoder();
    const w = writer();
    expect(run(d, ALGO, w)).toBe(1);
    const r = exec(w, 0);
    expect(r).toMatchObject({ intentId: 77, orderId: 31337, status: OrderStatus.Filled, execType: ExecType.Ack, cumQty: 0.01, avgPrice: 42000.5, side: -1, venueTime: 1700000005000, lastQty: 0 });
    expect(r.flags).toBe(ExecFlag.Stream | ExecFlag.Algo);
  });

  it('listenKeyExpired (E as a string) returns ListenKeyExpired; unknown events are counted and skipped', () => {
    const d = decoder();
    const w = writer();
    expect(run(d, EXPIRED, w)).toBe(UserDataStatus.ListenKeyExpired);
    expect(run(d, `{"stream":"abc","data":${EXPIRED}}`, w)).toBe(UserDataStatus.ListenKeyExpired);
    expect(d.listenKeyExpired).toBe(2);
    expect(run(d, '{"e":"ACCOUNT_CONFIG_UPDATE","E":1,"T":1,"ac":{"s":"BTCUSDT","l":25}}', w)).toBe(UserDataStatus.Ignored);
    expect(run(d, '{"result":null,"id":1}', w)).toBe(UserDataStatus.Ignored);
    expect(d.unknownEvents).toBe(1);
    expect(d.ignored).toBe(2);
    expect(w.count).toBe(0);
  });

  it('other shapes decode the same: envelope either key order, whitespace, escapes', () => {
    const ref = decoder();
    const w0 = writer();
    run(ref, OTU_FILL_1, w0);
    const want = exec(w0, 0);
    const variants = [
      `{"stream":"k","data":${OTU_FILL_1}}`,
      `{"data":${OTU_FILL_1},"stream":"k"}`,
      JSON.stringify(JSON.parse(OTU_FILL_1), null, 2),
      OTU_FILL_1.replace('"e":"ORDER_TRADE_UPDATE"', '"\\u0065":"ORDER_TRADE\\u005fUPDATE"').replace('"BTCUSDT"', '"BTC\\u0055SDT"'),
      ` \n${OTU_FILL_1}\r\n`,
    ];
    for (const v of variants) {
      const d = decoder();
      const w = writer();
      expect(run(d, v, w), v).toBe(1);
      expect(exec(w, 0)).toEqual(want);
    }
  });

  it('malformed frames are counted by reason and never leave a record', () => {
    const d = decoder();
    const w = writer();
    const cases: Array<[string, MalformedReason]> = [
      ['', MalformedReason.Syntax],
      ['not json', MalformedReason.Syntax],
      [OTU_FILL_1.slice(0, 100), MalformedReason.Syntax],
      [OTU_FILL_1 + '}', MalformedReason.Syntax],
      ['[1,2]', MalformedReason.Syntax],
      [OTU_FILL_1.replace('"i":9000000001,', ''), MalformedReason.MissingField],
      [OTU_FILL_1.replace('"l":"0.004"', '"l":"abc"'), MalformedReason.BadValue],
      [OTU_FILL_1.replace('"n":"-0.00344000"', '"n":{}'), MalformedReason.BadValue],
      [OTU_FILL_1.replace('"X":"PARTIALLY_FILLED"', '"X":"HALF_DONE"'), MalformedReason.BadEnum],
      [OTU_FILL_1.replace('"S":"BUY"', '"S":"UP"'), MalformedReason.BadEnum],
      [LITE_1.replace('"t":777001,', ''), MalformedReason.MissingField],
      [ACCOUNT_2POS.replace('"pa":"2"', '"pa":true'), MalformedReason.BadValue],
      ['{"e":"ACCOUNT_UPDATE","E":1}', MalformedReason.MissingField],
      ['{"e":"MARGIN_CALL","E":1,"cw":"x","p":[]}', MalformedReason.BadValue],
    ];
    const want = [0, 0, 0, 0];
    for (const [text, reason] of cases) {
      expect(run(d, text, w), text).toBe(UserDataStatus.Malformed);
      want[reason]!++;
    }
    expect([...d.malformedByReason]).toEqual(want);
    expect(d.malformed).toBe(cases.length);
    expect(w.count).toBe(0);
  });

  it('every truncation and random byte damage of a frame: no throw, no partial record', () => {
    const d = decoder();
    let seed = 7;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (const f of [OTU_FILL_1, ACCOUNT_2POS, MARGIN_CALL, ALGO, LITE_1]) {
      const full = Buffer.from(f);
      for (let n = 0; n < full.length; n++) {
        const w = writer();
        expect(d.decode(full, 0, n, RECV, w)).toBe(UserDataStatus.Malformed);
        expect(w.count).toBe(0);
      }
      for (let k = 0; k < 300; k++) {
        const b = Buffer.from(full);
        b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        const w = writer();
        const r = d.decode(b, 0, b.length, RECV, w);
        expect(r >= 0 ? w.count === r : w.count === 0).toBe(true);
      }
    }
  });

  it('ring full: nothing written, dedup untouched, the same frame succeeds on retry', () => {
    const d = decoder();
    const w1 = writer(1);
    expect(run(d, ACCOUNT_2POS, w1)).toBe(UserDataStatus.RingFull);
    expect(w1.count).toBe(0);
    const w0 = writer(0);
    expect(run(d, LITE_1, w0)).toBe(UserDataStatus.RingFull);
    expect(d.ringFull).toBe(2);
    const w = writer();
    expect(run(d, LITE_1, w)).toBe(1); // not mistaken for a duplicate
    expect(run(d, ACCOUNT_2POS, w)).toBe(2);
  });

  it('reads a frame inside a larger buffer and tells the listener about order events', () => {
    const events: number[][] = [];
    const d = decoder({ listener: { onOrderEvent: (...a) => events.push(a) } });
    const w = writer();
    const buf = Buffer.from(`garbage${OTU_FILL_2}more`);
    expect(d.decode(buf, 7, 7 + OTU_FILL_2.length, RECV, w)).toBe(1);
    expect(events).toEqual([[registry.id('BTCUSDT'), 9000000001, 42, OrderStatus.Filled, 0.01, 43000.1, 1, 1700000000299]]);
  });
});

describe('FillDedup', () => {
  it('frees entries seen twice and counts evicted pending lites', () => {
    const dd = new FillDedup(1); // one set of 4 ways: easy to overflow
    dd.mark(1, 10, 1);
    expect(dd.lookup(1, 10)).toBe(1);
    dd.mark(1, 10, 2);
    expect(dd.lookup(1, 10)).toBe(0); // both seen: freed
    for (let k = 0; k < 5; k++) dd.mark(2, 100 + k, 1);
    expect(dd.evictedPending).toBe(1);
    expect(dd.lookup(2, 100)).toBe(0); // the oldest went
    expect(dd.lookup(2, 104)).toBe(1);
    expect(() => new FillDedup(3)).toThrow();
  });
});

// ------------------------------------------------------------------ shared recorded fixtures

describe.skipIf(!HAVE_SHARED_FIXTURES)('UserDataDecoder: shared fixtures', () => {

  it('orderTradeUpdate.jsonl: every frame decodes to the values JSON.parse gives', () => {
    const lines = fixtureLines('binance-usdm/orderTradeUpdate.jsonl');
    expect(lines.length).toBe(14);
    for (const line of lines) {
      const d = decoder();
      const w = writer();
      expect(run(d, line, w), line).toBe(1);
      const r = exec(w, 0);
      const want = expectedOtu(line);
      expect(r, line).toMatchObject(want);
      expect(r.flags).toBe(ExecFlag.Stream | ExecFlag.Foreign);
    }
    // a client order id becomes ours when the prefix matches
    const d = decoder({ clientIdPrefix: 'ios_' });
    const w = writer();
    run(d, lines[0]!, w);
    expect(exec(w, 0)).toMatchObject({ intentId: -1, origin: OrderOrigin.Manual, msg: 'ios_3pdK38TLtMRjqN6y5WBZ' });
  });

  it('accountUpdate.jsonl: one record per position, exact values, balance of the margin asset', () => {
    const lines = fixtureLines('binance-usdm/accountUpdate.jsonl');
    expect(lines.length).toBe(6);
    for (const line of lines) {
      const ev = eventOf(line);
      const a = ev['a'] as { B: Array<Record<string, string>>; P: Array<Record<string, string>>; m: string };
      const asset = a.B[0]!['a']!;
      const d = decoder({ marginAsset: asset });
      const w = writer();
      const n = run(d, line, w);
      expect(n, line).toBe(Math.max(1, a.P.length));
      const bal = a.B[0]!;
      if (a.P.length === 0) {
        expect(acct(w, 0)).toMatchObject({ sym: -1, hasPos: 0, hasBal: 1, wallet: Number(bal['wb']), crossWallet: Number(bal['cw']), reason: REASON[a.m]!, eventTime: Number(ev['E']) });
      }
      a.P.forEach((p, k) => {
        const r = acct(w, k);
        expect(r).toMatchObject({
          type: RecordType.AccountUpdate,
          sym: registry.id(p['s']!),
          eventTime: Number(ev['E']),
          amt: Number(p['pa']),
          entry: Number(p['ep']),
          rpnl: Number(p['cr']),
          upnl: Number(p['up']),
          wallet: Number(bal['wb']),
          crossWallet: Number(bal['cw']),
          reason: REASON[a.m]!,
          hasBal: 1,
          hasPos: 1,
          flags: 0,
        });
        if (p['bep'] === undefined) expect(r.bep).toBeNaN();
        else expect(r.bep).toBe(Number(p['bep']));
      });
    }
  });

  it('tradeLite.jsonl with its ORDER_TRADE_UPDATEs: lite first, fills counted once', () => {
    const lites = fixtureLines('binance-usdm/tradeLite.jsonl');
    const otus = fixtureLines('binance-usdm/orderTradeUpdate.jsonl');
    // MANIFEST: lite 1, 2, 3 belong to OTU lines 9, 11, 14
    const pairs: Array<[string, string]> = [
      [lites[0]!, otus[8]!],
      [lites[1]!, otus[10]!],
      [lites[2]!, otus[13]!],
    ];
    const d = decoder();
    const w = writer();
    let want = 0;
    for (const [lite, otu] of pairs) {
      const l = JSON.parse(lite) as Record<string, string | number | boolean>;
      const o = (JSON.parse(otu) as { o: Record<string, string | number> }).o;
      expect(l['t']).toBe(o['t']);
      expect(run(d, lite, w)).toBe(1);
      const r = exec(w, w.count - 1);
      expect(r).toMatchObject({
        execType: ExecType.Fill,
        sym: registry.id(String(l['s'])),
        lastQty: Number(l['l']),
        lastPrice: Number(l['L']),
        orderId: Number(l['i']),
        side: l['S'] === 'BUY' ? 1 : -1,
        isMaker: l['m'] === true ? 1 : 0,
        venueTime: Number(l['T']),
        intentId: -1,
        msg: String(l['c']),
        status: Number(l['l']) === Number(l['q']) ? OrderStatus.Filled : OrderStatus.PartiallyFilled,
      });
      expect(r.flags).toBe(ExecFlag.Stream | ExecFlag.Lite | ExecFlag.Foreign);
      expect(run(d, otu, w)).toBe(1);
      const full = exec(w, w.count - 1);
      expect(full).toMatchObject(expectedOtu(otu));
      expect(full.flags & ExecFlag.Dup).toBe(ExecFlag.Dup);
      want += Number(o['l']);
    }
    let counted = 0;
    for (let k = 0; k < w.count; k++) {
      const r = exec(w, k);
      if (r.execType === ExecType.Fill && (r.flags & ExecFlag.Dup) === 0) counted += r.lastQty;
    }
    expect(counted).toBeCloseTo(want, 12);
    expect(d.dupFills).toBe(3);
  });

  it('userDataOther.jsonl: listenKeyExpired, MARGIN_CALL, ALGO_UPDATE', () => {
    const [expired, margin, algo] = fixtureLines('binance-usdm/userDataOther.jsonl') as [string, string, string];
    const calls: number[][] = [];
    const d = decoder({ listener: { onMarginCall: (...a) => calls.push(a) } });
    const w = writer();
    expect(run(d, expired, w)).toBe(UserDataStatus.ListenKeyExpired);
    expect(w.count).toBe(0);

    const mj = JSON.parse(margin) as { E: number; cw: string; p: Array<Record<string, string>> };
    expect(run(d, margin, w)).toBe(mj.p.length);
    const p0 = mj.p[0]!;
    expect(acct(w, 0)).toMatchObject({ sym: registry.id(p0['s']!), amt: Number(p0['pa']), upnl: Number(p0['up']), crossWallet: Number(mj.cw), eventTime: mj.E, flags: AccountFlag.MarginCall | AccountFlag.Long });
    expect(calls[0]).toEqual([registry.id(p0['s']!), AccountFlag.Long, Number(p0['pa']), Number(p0['mp']), Number(p0['up']), Number(p0['mm']), Number(mj.cw), mj.E]);

    const aj = JSON.parse(algo) as { T: number; o: Record<string, string | number> };
    expect(run(d, algo, w)).toBe(1);
    const r = exec(w, w.count - 1);
    expect(r).toMatchObject({
      sym: registry.id(String(aj.o['s'])),
      orderId: Number(aj.o['aid']),
      status: OrderStatus.Canceled,
      execType: ExecType.Canceled,
      side: -1,
      cumQty: Number(aj.o['aq']),
      avgPrice: Number(aj.o['ap']),
      venueTime: aj.T,
      intentId: -1,
      msg: String(aj.o['caid']),
    });
    expect(r.flags).toBe(ExecFlag.Stream | ExecFlag.Algo | ExecFlag.Foreign);
  });
});
