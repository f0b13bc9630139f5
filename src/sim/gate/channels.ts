import type { ActiveStream } from '../market/Scheduler.js';
import type { DepthEvent, MarketEventKind } from '../market/types.js';
import type { SyntheticMarket } from '../market/SyntheticMarket.js';
import type { SimAccount } from '../Venue.js';
import type { GateContract } from './contracts.js';
import { CANDLE_INTERVALS } from './marketData.js';
import type { GatePrivate } from './private.js';
import { verifyHex512 } from './signing.js';
import type { GateSocket, PrivateChannel } from './socket.js';

/**
 * Subscriptions of the Gate WebSocket (protocols.md §2.2-§2.6): public channels per contract, the
 * `futures.order_book_update` streams with their own diff accumulators, and private channels (with the
 * `auth` object, or on a connection logged in through the WS API).
 */

/**
 * One `futures.order_book_update` stream (contract, frequency, level). Every book change of the
 * contract is merged into it; each push covers the ids since its previous push: U = previous u + 1.
 * A stream starts at the book id current when it is created, so its chain is gapless from there.
 */
export interface ObuStream {
  readonly key: string;
  readonly sym: number;
  readonly intervalMs: number;
  /** The level parameter as subscribed ("100", "50", "20"), null when not given. */
  readonly level: string | null;
  readonly socks: Set<GateSocket>;
  readonly bids: Map<number, number>;
  readonly asks: Map<number, number>;
  /** `u` of the last push (the book id at creation before the first). */
  lastU: number;
  /** Book id of the last change merged in. */
  curU: number;
  nextDue: number;
}

export type SubError = { code: number; message: string };

const PUBLIC_KINDS: readonly MarketEventKind[] = ['bookTicker', 'trade', 'depth'];
const PRIVATE = new Set<string>(['futures.orders', 'futures.usertrades', 'futures.positions', 'futures.balances']);
const LEVELS = new Set(['100', '50', '20']);

export class GateChannels {
  readonly bookTicker: Array<Set<GateSocket>>;
  readonly trades: Array<Set<GateSocket>>;
  readonly tickers: Array<Set<GateSocket>>;
  /** Per contract: interval -> sockets, and the open time of the candle pushed last. */
  readonly candles: Array<Map<string, Set<GateSocket>>>;
  readonly candlePushed: Array<Map<string, number>>;
  readonly obu: Array<Map<string, ObuStream>>;
  private activeCache: ActiveStream[] | null = null;

  constructor(
    private readonly contracts: readonly GateContract[],
    private readonly market: SyntheticMarket,
    private readonly priv: GatePrivate,
    private readonly accountByKey: (key: string) => SimAccount | undefined,
    private readonly onChange: () => void,
  ) {
    const n = contracts.length;
    this.bookTicker = Array.from({ length: n }, () => new Set());
    this.trades = Array.from({ length: n }, () => new Set());
    this.tickers = Array.from({ length: n }, () => new Set());
    this.candles = Array.from({ length: n }, () => new Map());
    this.candlePushed = Array.from({ length: n }, () => new Map());
    this.obu = Array.from({ length: n }, () => new Map());
  }

  private byName(name: unknown): GateContract | undefined {
    return typeof name === 'string' ? this.contracts.find((c) => c.name === name) : undefined;
  }

  /** Someone listens to any public channel of the contract: the market of that contract runs. */
  listened(sym: number): boolean {
    return this.bookTicker[sym]!.size > 0 || this.trades[sym]!.size > 0 || this.tickers[sym]!.size > 0 || this.candles[sym]!.size > 0 || this.obu[sym]!.size > 0;
  }

  active(): ActiveStream[] {
    if (this.activeCache) return this.activeCache;
    const out: ActiveStream[] = [];
    for (const c of this.contracts) if (this.listened(c.idx)) for (const kind of PUBLIC_KINDS) out.push({ sym: c.idx, kind });
    this.activeCache = out;
    return out;
  }

  private changed(): void {
    this.activeCache = null;
    this.onChange();
  }

  // ---- order book streams -----------------------------------------------------------------------------

  /** Merges the book changes pending in the market into the contract's streams. */
  drain(sym: number, now: number): void {
    const ev = this.market.takeDepth(sym, now);
    if (ev) this.merge(ev);
  }

  /** A depth diff (scheduler event or drained changes) into every stream of its contract. */
  merge(ev: DepthEvent): void {
    const streams = this.obu[ev.sym]!;
    if (streams.size === 0) return;
    for (const st of streams.values()) {
      for (let i = 0; i < ev.bids.length; i += 2) st.bids.set(ev.bids[i]!, ev.bids[i + 1]!);
      for (let i = 0; i < ev.asks.length; i += 2) st.asks.set(ev.asks[i]!, ev.asks[i + 1]!);
      st.curU = ev.u;
    }
  }

  /** `futures.order_book_update` result: keys U, a, b, [l], s, t, u (the recorded frames are alphabetical). */
  obuResult(st: ObuStream, now: number): string {
    const c = this.contracts[st.sym]!;
    const side = (m: Map<number, number>, asc: boolean): string => {
      const ticks = [...m.keys()].sort(asc ? (x, y) => x - y : (x, y) => y - x);
      let s = '[';
      for (let i = 0; i < ticks.length; i++) s += `${i > 0 ? ',' : ''}{"p":"${c.px(ticks[i]!)}","s":${m.get(ticks[i]!)!}}`;
      return s + ']';
    };
    const l = st.level === null ? '' : `,"l":"${st.level}"`;
    return `{"U":${st.lastU + 1},"a":${side(st.asks, true)},"b":${side(st.bids, false)}${l},"s":"${c.name}","t":${now},"u":${st.curU}}`;
  }

  // ---- subscribe / unsubscribe ------------------------------------------------------------------------

  /**
   * Applies a subscribe or unsubscribe request; null on success. `time` and `auth` are the request's
   * (private channels check the signature over channel, event and time).
   */
  apply(sock: GateSocket, channel: string, event: 'subscribe' | 'unsubscribe', payload: unknown, time: unknown, auth: unknown, now: number): SubError | null {
    if (PRIVATE.has(channel)) return this.applyPrivate(sock, channel as PrivateChannel, event, payload, time, auth);
    if (!Array.isArray(payload) || payload.length === 0) return { code: 2, message: 'invalid argument: payload must be a non-empty list' };
    const sub = event === 'subscribe';
    switch (channel) {
      case 'futures.book_ticker':
      case 'futures.trades':
      case 'futures.tickers': {
        const list = channel === 'futures.book_ticker' ? this.bookTicker : channel === 'futures.trades' ? this.trades : this.tickers;
        const cs: GateContract[] = [];
        for (const n of payload) {
          const c = this.byName(n);
          if (!c) return { code: 2, message: `unknown contract ${String(n)}` };
          cs.push(c);
        }
        for (const c of cs) {
          const key = `${channel}|${c.name}`;
          if (sub) {
            list[c.idx]!.add(sock);
            sock.pub.add(key);
          } else {
            list[c.idx]!.delete(sock);
            sock.pub.delete(key);
          }
        }
        break;
      }
      case 'futures.candlesticks': {
        const [iv, name] = payload as unknown[];
        if (typeof iv !== 'string' || !(iv in CANDLE_INTERVALS)) return { code: 2, message: `invalid interval ${String(iv)}` };
        const c = this.byName(name);
        if (!c) return { code: 2, message: `unknown contract ${String(name)}` };
        const key = `${channel}|${iv}|${c.name}`;
        const m = this.candles[c.idx]!;
        if (sub) {
          let s = m.get(iv);
          if (!s) {
            m.set(iv, (s = new Set()));
            this.candlePushed[c.idx]!.set(iv, 0);
          }
          s.add(sock);
          sock.pub.add(key);
        } else {
          this.dropCandle(sock, c.idx, iv);
          sock.pub.delete(key);
        }
        break;
      }
      case 'futures.order_book_update': {
        const [name, freq, level] = payload as unknown[];
        const c = this.byName(name);
        if (!c) return { code: 2, message: `unknown contract ${String(name)}` };
        if (freq !== '100ms' && freq !== '20ms') return { code: 2, message: `invalid frequency ${String(freq)}` };
        if (level !== undefined && (typeof level !== 'string' || !LEVELS.has(level))) return { code: 2, message: `invalid level ${String(level)}` };
        if (freq === '20ms' && level !== undefined && level !== '20') return { code: 2, message: '20ms only supports level 20' };
        const lv = typeof level === 'string' ? level : null;
        const key = `${c.name}|${freq}|${lv ?? ''}`;
        const pubKey = `${channel}|${key}`;
        if (sub) this.addObu(sock, c.idx, key, freq === '20ms' ? 20 : 100, lv, now);
        else this.dropObu(sock, c.idx, key);
        if (sub) sock.pub.add(pubKey);
        else sock.pub.delete(pubKey);
        break;
      }
      default:
        return { code: 2, message: `unknown channel ${channel}` };
    }
    this.changed();
    return null;
  }

  private addObu(sock: GateSocket, sym: number, key: string, intervalMs: number, level: string | null, now: number): void {
    const m = this.obu[sym]!;
    let st = m.get(key);
    if (!st) {
      // Changes before the stream's start belong to the existing streams (or to nobody).
      if (m.size > 0) this.drain(sym, now);
      else this.market.discardDepth(sym);
      const id = this.market.updateId(sym);
      st = { key, sym, intervalMs, level, socks: new Set(), bids: new Map(), asks: new Map(), lastU: id, curU: id, nextDue: now + intervalMs };
      m.set(key, st);
    }
    st.socks.add(sock);
  }

  private dropObu(sock: GateSocket, sym: number, key: string): void {
    const m = this.obu[sym]!;
    const st = m.get(key);
    if (!st) return;
    st.socks.delete(sock);
    if (st.socks.size === 0) m.delete(key);
  }

  private dropCandle(sock: GateSocket, sym: number, iv: string): void {
    const s = this.candles[sym]!.get(iv);
    if (!s) return;
    s.delete(sock);
    if (s.size === 0) {
      this.candles[sym]!.delete(iv);
      this.candlePushed[sym]!.delete(iv);
    }
  }

  private applyPrivate(sock: GateSocket, channel: PrivateChannel, event: 'subscribe' | 'unsubscribe', payload: unknown, time: unknown, auth: unknown): SubError | null {
    if (!Array.isArray(payload) || payload.length === 0) return { code: 2, message: 'invalid argument: payload must be [user id, contract]' };
    let contract: string | null = null;
    if (channel !== 'futures.balances') {
      const name = payload[1];
      if (name === undefined || name === '!all') contract = null;
      else if (!this.byName(name)) return { code: 2, message: `unknown contract ${String(name)}` };
      else contract = name as string;
    }
    if (event === 'unsubscribe') {
      this.priv.unsubscribe(sock, channel, channel === 'futures.balances' ? undefined : contract);
      return null;
    }
    let acc: SimAccount | null = null;
    if (typeof auth === 'object' && auth !== null) {
      const a = auth as Record<string, unknown>;
      const key = a['KEY'];
      const sign = a['SIGN'];
      if (a['method'] !== 'api_key' || typeof key !== 'string' || typeof sign !== 'string') return { code: 4, message: 'authentication fail: auth must be {method:"api_key", KEY, SIGN}' };
      const found = this.accountByKey(key);
      if (!found) return { code: 4, message: 'authentication fail: invalid key' };
      if (!verifyHex512(found.apiSecret, `channel=${channel}&event=${event}&time=${String(time)}`, sign)) return { code: 4, message: 'authentication fail: signature mismatch' };
      acc = found;
    } else if (sock.login) acc = sock.login;
    if (!acc) return { code: 4, message: 'authentication fail: auth required' };
    this.priv.subscribe({ sock, acc, channel, contract });
    return null;
  }

  removeSocket(sock: GateSocket): void {
    for (let sym = 0; sym < this.contracts.length; sym++) {
      this.bookTicker[sym]!.delete(sock);
      this.trades[sym]!.delete(sock);
      this.tickers[sym]!.delete(sock);
      for (const iv of [...this.candles[sym]!.keys()]) this.dropCandle(sock, sym, iv);
      for (const key of [...this.obu[sym]!.keys()]) this.dropObu(sock, sym, key);
    }
    sock.pub.clear();
    this.priv.removeSocket(sock);
    this.changed();
  }
}
