import { formatRatio, formatScaled } from '../../core/decimal.js';
import type { Instrument } from '../instruments.js';
import type { Rng } from '../rng.js';
import type { AlgoOrder, CoreListener, ExecType, SimAccount, SimOrder, TradeInfo, VenueCore } from '../Venue.js';
import { m8, m8z, mTrim } from './accountFormat.js';
import type { MdSocket, UserKeyHook, UserSub } from './streams.js';

/**
 * Binance USD-M user data stream (protocols.md §1.8): listen keys (one per account, valid
 * `validityMs` after the last POST/PUT, then `listenKeyExpired`), the sockets subscribed to them (with
 * their optional event filter and the combined envelope `{"stream":"<listenKey>","data":...}`), and the
 * events themselves, formatted from the venue core's account-side changes with the key order of real
 * frames (fixtures orderTradeUpdate/tradeLite/accountUpdate/userDataOther.jsonl).
 */

interface KeyEntry {
  readonly key: string;
  readonly acc: SimAccount;
  expiresAt: number;
  readonly subs: Set<UserSub>;
}

export interface UserStreamCounters {
  events: number;
  frames: number;
  expired: number;
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export class UserStreams implements UserKeyHook {
  private readonly byKey = new Map<string, KeyEntry>();
  private readonly byAcc = new Map<string, KeyEntry>();
  readonly counters: UserStreamCounters = { events: 0, frames: 0, expired: 0 };

  constructor(
    private readonly rng: Rng,
    private readonly validityMs: number,
    /** Queues a frame on a socket (the venue flushes it). */
    private readonly enqueue: (s: MdSocket, frame: string) => void,
  ) {}

  /** POST: the account's live key, extended, or a new one. */
  start(acc: SimAccount, now: number): string {
    const have = this.byAcc.get(acc.id);
    if (have) {
      have.expiresAt = now + this.validityMs;
      return have.key;
    }
    let key = '';
    do {
      key = '';
      for (let i = 0; i < 64; i++) key += KEY_ALPHABET[this.rng.int(KEY_ALPHABET.length)];
    } while (this.byKey.has(key));
    const e: KeyEntry = { key, acc, expiresAt: now + this.validityMs, subs: new Set() };
    this.byKey.set(key, e);
    this.byAcc.set(acc.id, e);
    return key;
  }

  /** PUT: extends the account's key (the one given, when given); null when there is none (-1125). */
  keepalive(acc: SimAccount, key: string | undefined, now: number): string | null {
    const e = this.byAcc.get(acc.id);
    if (!e || (key !== undefined && key !== '' && key !== e.key)) return null;
    e.expiresAt = now + this.validityMs;
    return e.key;
  }

  /** DELETE: invalidates the account's key; its sockets stay open but receive nothing more. */
  close(acc: SimAccount, key: string | undefined): boolean {
    const e = this.byAcc.get(acc.id);
    if (!e || (key !== undefined && key !== '' && key !== e.key)) return false;
    this.drop(e);
    return true;
  }

  keyOf(acc: SimAccount): string | undefined {
    return this.byAcc.get(acc.id)?.key;
  }

  /** Expiry time (ms) of a live key. */
  expiresAt(key: string): number | undefined {
    return this.byKey.get(key)?.expiresAt;
  }

  isLive(key: string): boolean {
    return this.byKey.has(key);
  }

  attach(s: MdSocket, key: string, events: ReadonlySet<string> | null): void {
    const e = this.byKey.get(key);
    if (!e) return;
    this.detach(s, key);
    const sub: UserSub = { key, events, sock: s };
    e.subs.add(sub);
    s.userSubs.push(sub);
  }

  detach(s: MdSocket, key: string): void {
    const i = s.userSubs.findIndex((u) => u.key === key);
    if (i < 0) return;
    const sub = s.userSubs[i]!;
    s.userSubs.splice(i, 1);
    this.byKey.get(key)?.subs.delete(sub);
  }

  removeSocket(s: MdSocket): void {
    for (const sub of s.userSubs) this.byKey.get(sub.key)?.subs.delete(sub);
    s.userSubs.length = 0;
  }

  /** Someone receives this account's events. */
  listening(acc: SimAccount): boolean {
    const e = this.byAcc.get(acc.id);
    return e !== undefined && e.subs.size > 0;
  }

  /** Sends one event (`type` is its `e`) to every socket on the account's key that takes it. */
  emit(acc: SimAccount, type: string, json: string): void {
    const e = this.byAcc.get(acc.id);
    if (!e || e.subs.size === 0) return;
    this.counters.events++;
    this.send(e, type, json);
  }

  /** Expires the keys not kept alive in time; returns how many. */
  expireDue(now: number): number {
    let n = 0;
    for (const e of [...this.byKey.values()]) {
      if (e.expiresAt > now) continue;
      this.expire(e, now);
      n++;
    }
    return n;
  }

  /** Expires every live key now (test control). */
  expireAll(now: number): number {
    const all = [...this.byKey.values()];
    for (const e of all) this.expire(e, now);
    return all.length;
  }

  private expire(e: KeyEntry, now: number): void {
    this.counters.expired++;
    // `E` is a string in the venue's example of this event.
    this.send(e, 'listenKeyExpired', `{"e":"listenKeyExpired","E":"${now}","listenKey":"${e.key}"}`);
    this.drop(e);
  }

  private send(e: KeyEntry, type: string, json: string): void {
    let wrapped: string | null = null;
    for (const sub of e.subs) {
      if (sub.events !== null && !sub.events.has(type)) continue;
      const s = sub.sock;
      if (s.closed) continue;
      let frame = json;
      if (s.combined) frame = wrapped ??= `{"stream":"${e.key}","data":${json}}`;
      this.counters.frames++;
      this.enqueue(s, frame);
    }
  }

  private drop(e: KeyEntry): void {
    for (const sub of e.subs) {
      const i = sub.sock.userSubs.indexOf(sub);
      if (i >= 0) sub.sock.userSubs.splice(i, 1);
    }
    e.subs.clear();
    this.byKey.delete(e.key);
    if (this.byAcc.get(e.acc.id) === e) this.byAcc.delete(e.acc.id);
  }
}

/** Price without trailing zeros ("750.000" -> "750"). */
function trimDec(s: string): string {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}

/** Average fill price of an order with priceDecimals + 3 decimals ("91739.90000"), "0" before any fill. */
function avgFill(o: SimOrder): string {
  if (o.executedQty === 0) return '0';
  const d = o.inst.priceDecimals + 3;
  return formatRatio(o.cumQuote, BigInt(o.executedQty * o.inst.stepUnits), o.inst.priceDecimals, d, d);
}

/** Open-order notionals (money) of one symbol: what `b` / `a` of ORDER_TRADE_UPDATE show. */
function openNotionals(acc: SimAccount, inst: Instrument): [bigint, bigint] {
  let b = 0n;
  let a = 0n;
  const scale = inst.priceDecimals + inst.qtyDecimals;
  for (const o of acc.open.values()) {
    if (o.inst !== inst) continue;
    const q = inst.quote(o.price, o.qty - o.executedQty);
    if (o.side === 'BUY') b += q;
    else a += q;
  }
  const toM = (v: bigint): bigint => (scale <= 8 ? v * 10n ** BigInt(8 - scale) : v / 10n ** BigInt(scale - 8));
  return [toM(b), toM(a)];
}

/** `ORDER_TRADE_UPDATE`: top-level e,T,E,o; order keys in the order of 2024-2025 captures, then `er`. */
export function orderTradeUpdateJson(acc: SimAccount, o: SimOrder, exec: ExecType, trade: TradeInfo | null, now: number): string {
  const inst = o.inst;
  const t = o.trigger;
  const f = trade?.fill;
  const [bids, asks] = openNotionals(acc, inst);
  return (
    `{"e":"ORDER_TRADE_UPDATE","T":${now},"E":${now},"o":{"s":"${inst.symbol}","c":${JSON.stringify(o.clientOrderId)},"S":"${o.side}",` +
    `"o":"${o.type}","f":"${o.timeInForce}","q":"${inst.qtyStr(o.qty)}","p":"${o.type === 'MARKET' ? '0' : inst.priceStr(o.price)}",` +
    `"ap":"${avgFill(o)}","sp":"${t ? inst.priceStr(t.stopPrice) : '0'}","x":"${exec}","X":"${o.status}","i":${o.orderId},` +
    `"l":"${f ? f.qty : '0'}","z":"${o.executedQty === 0 ? '0' : inst.qtyStr(o.executedQty)}","L":"${f ? f.price : '0'}",` +
    `"n":"${trade ? m8z(trade.fee) : '0'}","N":"${inst.spec.quoteAsset}","T":${now},"t":${f ? f.tradeId : 0},"b":"${mTrim(bids)}",` +
    `"a":"${mTrim(asks)}","m":${f ? f.maker : false},"R":${o.reduceOnly},"wt":"${t ? t.workingType : 'CONTRACT_PRICE'}",` +
    `"ot":"${t ? t.origType : o.type}","ps":"${o.positionSide}","cp":${t ? t.closePosition : false},"rp":"${trade ? m8z(trade.realized) : '0'}",` +
    `"pP":${t ? t.priceProtect : false},"si":0,"ss":0,"V":"NONE","pm":"${o.priceMatch}","gtd":${o.goodTillDate},"er":"${o.expireReason}"}}`
  );
}

/** `TRADE_LITE`: e,E,T,s,q,p,m,c,S,L,l,t,i (p is "0.00"-style for MARKET orders, as captured). */
export function tradeLiteJson(o: SimOrder, trade: TradeInfo, now: number): string {
  const inst = o.inst;
  const f = trade.fill;
  return (
    `{"e":"TRADE_LITE","E":${now},"T":${now},"s":"${inst.symbol}","q":"${inst.qtyStr(o.qty)}","p":"${inst.priceStr(o.type === 'MARKET' ? 0 : o.price)}",` +
    `"m":${f.maker},"c":${JSON.stringify(o.clientOrderId)},"S":"${o.side}","L":"${f.price}","l":"${f.qty}","t":${f.tradeId},"i":${o.orderId}}`
  );
}

/** `ACCOUNT_UPDATE` with reason ORDER: the margin asset's balance and the symbol's position (s,pa,ep,cr,up,mt,iw,ps,ma,bep). */
export function accountUpdateJson(core: VenueCore, acc: SimAccount, sym: number, now: number): string {
  const v = core.positionView(acc, sym);
  const inst = v.inst;
  const asset = inst.spec.quoteAsset;
  const wb = m8(acc.wallet.get(asset) ?? 0n);
  return (
    `{"e":"ACCOUNT_UPDATE","T":${now},"E":${now},"a":{"B":[{"a":"${asset}","wb":"${wb}","cw":"${wb}","bc":"0"}],` +
    `"P":[{"s":"${inst.symbol}","pa":"${inst.qtyStr(v.qty)}","ep":"${v.entryPrice}","cr":"${m8z(v.realized)}","up":"${m8z(v.unrealized)}",` +
    `"mt":"cross","iw":"0","ps":"BOTH","ma":"${asset}","bep":"${v.breakEvenPrice}"}],"m":"ORDER"}}`
  );
}

/** `ALGO_UPDATE` (keys of the venue's example: caid, aid, at, o, s, S, ps, f, q, X, ai, ap, aq, act, tp, p, V, wt, pm, cp, pP, R, tt, gtd[, rm]). */
export function algoUpdateJson(core: VenueCore, acc: SimAccount, a: AlgoOrder, now: number): string {
  const inst = a.inst;
  const o = core.algoOrderOf(acc, a);
  const d = inst.priceDecimals + 3;
  const ap = o && o.executedQty > 0 ? avgFill(o) : formatScaled(0, d);
  const aq = formatScaled((o?.executedQty ?? 0) * inst.stepUnits * 1000, inst.qtyDecimals + 3);
  const limit = a.type === 'STOP' || a.type === 'TAKE_PROFIT';
  const rm = a.reason === '' ? '' : `,"rm":${JSON.stringify(a.reason)}`;
  return (
    `{"e":"ALGO_UPDATE","T":${now},"E":${now},"o":{"caid":${JSON.stringify(a.clientAlgoId)},"aid":${a.algoId},"at":"CONDITIONAL",` +
    `"o":"${a.type}","s":"${inst.symbol}","S":"${a.side}","ps":"${a.positionSide}","f":"${a.timeInForce}","q":"${inst.qtyStr(a.qty)}",` +
    `"X":"${a.status}","ai":"${a.actualOrderId === 0 ? '' : a.actualOrderId}","ap":"${ap}","aq":"${aq}","act":"${o ? o.type : '0'}",` +
    `"tp":"${a.triggerPrice > 0 ? trimDec(inst.priceStr(a.triggerPrice)) : '0'}","p":"${limit ? trimDec(inst.priceStr(a.price)) : '0'}",` +
    `"V":"NONE","wt":"${a.workingType}","pm":"NONE","cp":${a.closePosition},"pP":${a.priceProtect},"R":${a.reduceOnly},` +
    `"tt":${a.triggerTime},"gtd":${a.goodTillDate}${rm}}}`
  );
}

/** The core's account-side changes as user-data events; nothing is formatted for accounts nobody listens to. */
export class BinanceUserEvents implements CoreListener {
  constructor(
    private readonly core: VenueCore,
    private readonly streams: UserStreams,
  ) {}

  wants(acc: SimAccount): boolean {
    return this.streams.listening(acc);
  }

  order(acc: SimAccount, o: SimOrder, exec: ExecType, trade: TradeInfo | null, now: number): void {
    // The low-latency fill event arrives before the full order update (as observed).
    if (trade) this.streams.emit(acc, 'TRADE_LITE', tradeLiteJson(o, trade, now));
    this.streams.emit(acc, 'ORDER_TRADE_UPDATE', orderTradeUpdateJson(acc, o, exec, trade, now));
  }

  account(acc: SimAccount, sym: number, now: number): void {
    this.streams.emit(acc, 'ACCOUNT_UPDATE', accountUpdateJson(this.core, acc, sym, now));
  }

  algo(acc: SimAccount, a: AlgoOrder, now: number): void {
    this.streams.emit(acc, 'ALGO_UPDATE', algoUpdateJson(this.core, acc, a, now));
  }

  leverage(acc: SimAccount, sym: number, leverage: number, now: number): void {
    const s = this.core.market.instruments[sym]!.symbol;
    this.streams.emit(acc, 'ACCOUNT_CONFIG_UPDATE', `{"e":"ACCOUNT_CONFIG_UPDATE","E":${now},"T":${now},"ac":{"s":"${s}","l":${leverage}}}`);
  }
}
