import { decodeGateControl, gatePingMessage, gateSubscribeMessage, type GateEvent } from '../venues/gate/control.js';
import type { ControlSender, StreamControl, SubscriptionCounters } from './SubscriptionManager.js';

/**
 * Subscriptions on one Gate `/v4/ws/usdt` connection (protocols.md §2.2, §2.4): `{"time","id","channel",
 * "event":"subscribe"|"unsubscribe","payload"}` messages, acks `result.status == "success"` matched by the
 * echoed `id`, errors `{"code","message"}`. Everything wanted is subscribed again on every open. While the
 * connection is open an application ping (`futures.ping`) goes out every `pingIntervalMs`; the server's
 * protocol pings are answered by WsClient.
 *
 * A stream is named `<kind>:<contract>` with the kind in Gate's spelling (`book_ticker:BTC_USDT`,
 * `trades:BTC_USDT`, `order_book_update@100ms@100:BTC_USDT`, `tickers:...`, `candlesticks@1m:...`);
 * `gateStreamKind` maps the engine's Binance-style kinds (bookTicker, aggTrade, depth@100ms) onto these.
 * Off the hot path: replies are rare and decoded with JSON.parse.
 */

export interface GateSubscriptionOptions {
  /** Control messages per second (pings included). Default 4. */
  maxPerSecond?: number;
  /** A request with no reply within this is counted as timed out (a subscribe is retried once). Default 5000. */
  replyTimeoutMs?: number;
  /** Application ping period, ms; 0 = none. Default 10 000. */
  pingIntervalMs?: number;
  /** Wall clock in ms (the `time` field, seconds, is taken from it). */
  now?: () => number;
}

/** The engine's stream kind (Binance spelling accepted) in Gate's spelling. Throws on a kind Gate has no channel for. */
export function gateStreamKind(kind: string): string {
  const [k, a, b] = kind.split('@') as [string, string?, string?];
  switch (k) {
    case 'book_ticker':
    case 'bookTicker':
      return 'book_ticker';
    case 'trades':
    case 'trade':
    case 'aggTrade':
      return 'trades';
    case 'tickers':
    case 'markPrice':
      return 'tickers';
    case 'order_book_update':
    case 'depth': {
      const freq = a ?? '100ms';
      if (freq !== '20ms' && freq !== '100ms') throw new Error(`gate: order_book_update frequency must be 20ms or 100ms; got ${kind}`);
      const level = b ?? (freq === '20ms' ? '20' : '100');
      if (!['100', '50', '20'].includes(level) || (freq === '20ms' && level !== '20')) throw new Error(`gate: order_book_update level ${level} not allowed at ${freq}`);
      return `order_book_update@${freq}@${level}`;
    }
    case 'candlesticks':
      return `candlesticks@${a ?? '1m'}`;
    default:
      if (k.startsWith('kline_')) return `candlesticks@${k.slice(6)}`;
      throw new Error(`gate: no channel for stream kind ${JSON.stringify(kind)} (book_ticker, trades, tickers, order_book_update@FREQ@LEVEL, candlesticks@INTERVAL)`);
  }
}

/** Stream names for contracts × kinds (kinds in either spelling). */
export function gateStreamNames(contracts: readonly string[], kinds: readonly string[]): string[] {
  const out: string[] = [];
  for (const k of kinds) {
    const g = gateStreamKind(k);
    for (const c of contracts) out.push(`${g}:${c}`);
  }
  return out;
}

/** The order-book level of the first `order_book_update` stream (the REST snapshot must use the same limit), or 0. */
export function gateBookLevel(streams: readonly string[]): number {
  for (const s of streams) {
    if (!s.startsWith('order_book_update@')) continue;
    const level = s.slice(0, s.indexOf(':')).split('@')[2];
    return Number(level ?? '100');
  }
  return 0;
}

/** Channel and payload of one stream; per-contract-list channels are batched by the caller. */
function channelOf(stream: string): { channel: string; contract: string; args: string[]; batchable: boolean } {
  const colon = stream.lastIndexOf(':');
  const kind = stream.slice(0, colon);
  const contract = stream.slice(colon + 1);
  const [k, a, b] = kind.split('@') as [string, string?, string?];
  switch (k) {
    case 'order_book_update':
      return { channel: 'futures.order_book_update', contract, args: [contract, a ?? '100ms', b ?? '100'], batchable: false };
    case 'candlesticks':
      return { channel: 'futures.candlesticks', contract, args: [a ?? '1m', contract], batchable: false };
    default:
      return { channel: `futures.${k}`, contract, args: [contract], batchable: true };
  }
}

interface Request {
  event: GateEvent;
  channel: string;
  payload: string[];
  streams: string[];
  retried: boolean;
}

interface Pending extends Request {
  id: number;
  sentAt: number;
}

export class GateSubscriptionManager implements StreamControl {
  readonly counters: SubscriptionCounters = { sent: 0, acked: 0, errors: 0, timeouts: 0, strayReplies: 0, queued: 0 };
  pingsSent = 0;
  pongs = 0;
  private readonly active = new Set<string>();
  private readonly wanted = new Set<string>();
  private readonly queue: Request[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly sendTimes: number[] = [];
  private nextId = 1;
  private open = false;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private replyTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private readonly maxPerSecond: number;
  private readonly replyTimeoutMs: number;
  private readonly pingIntervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly sender: ControlSender,
    opts: GateSubscriptionOptions = {},
  ) {
    this.maxPerSecond = Math.max(1, opts.maxPerSecond ?? 4);
    this.replyTimeoutMs = opts.replyTimeoutMs ?? 5000;
    this.pingIntervalMs = opts.pingIntervalMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  subscriptions(): string[] {
    return [...this.active];
  }

  wantedStreams(): string[] {
    return [...this.wanted];
  }

  get backlog(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get error(): string | null {
    return this.lastError;
  }

  /** Gate has no list request: the streams it acknowledged on this connection. */
  list(): Promise<string[]> {
    return this.open ? Promise.resolve(this.subscriptions()) : Promise.reject(new Error('connection not open'));
  }

  subscribe(streams: readonly string[]): void {
    const add = streams.filter((s) => !this.wanted.has(s));
    for (const s of add) this.wanted.add(s);
    if (this.open) this.enqueue('subscribe', add);
  }

  unsubscribe(streams: readonly string[]): void {
    const drop = streams.filter((s) => this.wanted.delete(s) || this.active.has(s));
    if (this.open) this.enqueue('unsubscribe', drop);
  }

  /** Gate has no streams in the URL: everything wanted is subscribed by message. */
  onOpen(): void {
    this.open = true;
    this.active.clear();
    this.enqueue('subscribe', [...this.wanted]);
    if (this.pingIntervalMs > 0 && this.pingTimer === null) {
      this.pingTimer = setInterval(() => this.ping(), this.pingIntervalMs);
      this.pingTimer.unref?.();
    }
  }

  onClose(): void {
    this.open = false;
    this.active.clear();
    this.pending.clear();
    this.queue.length = 0;
    for (const t of [this.timer, this.replyTimer]) if (t) clearTimeout(t);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.timer = this.replyTimer = this.pingTimer = null;
  }

  onReply(text: string): boolean {
    const r = decodeGateControl(text);
    if (r.kind === 'other') return false;
    if (r.kind === 'pong') {
      this.pongs++;
      return true;
    }
    const p = r.id >= 0 ? this.pending.get(r.id) : this.oldestPending(r.channel, r.event);
    if (r.kind === 'error') {
      this.counters.errors++;
      this.lastError = `${r.channel} ${r.event}: code ${r.code} ${r.message}`;
      if (p) this.pending.delete(p.id);
      this.pump();
      return true;
    }
    if (!p) {
      this.counters.strayReplies++;
      return true;
    }
    this.pending.delete(p.id);
    this.counters.acked++;
    for (const s of p.streams) {
      if (p.event === 'subscribe') this.active.add(s);
      else this.active.delete(s);
    }
    this.pump();
    return true;
  }

  private oldestPending(channel: string, event: string): Pending | undefined {
    for (const p of this.pending.values()) if (p.channel === channel && p.event === event) return p;
    return undefined;
  }

  private ping(): void {
    if (!this.open) return;
    if (this.sender.send(gatePingMessage(this.now() / 1000))) this.pingsSent++;
  }

  /** One message per channel for contract-list channels (book_ticker, trades, tickers), one per stream otherwise. */
  private enqueue(event: GateEvent, streams: readonly string[], retried = false): void {
    const batches = new Map<string, Request>();
    for (const s of streams) {
      const c = channelOf(s);
      if (c.batchable) {
        let b = batches.get(c.channel);
        if (!b) {
          batches.set(c.channel, (b = { event, channel: c.channel, payload: [], streams: [], retried }));
          this.queue.push(b);
          this.counters.queued++;
        }
        b.payload.push(c.contract);
        b.streams.push(s);
      } else {
        this.queue.push({ event, channel: c.channel, payload: c.args, streams: [s], retried });
        this.counters.queued++;
      }
    }
    this.pump();
  }

  private pump(): void {
    if (this.timer !== null) return;
    const now = this.now();
    this.expire(now);
    while (this.queue.length > 0 && this.open) {
      while (this.sendTimes.length > 0 && now - this.sendTimes[0]! >= 1000) this.sendTimes.shift();
      if (this.sendTimes.length >= this.maxPerSecond) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.pump();
        }, 1000 - (now - this.sendTimes[0]!) + 1);
        return;
      }
      const q = this.queue.shift()!;
      const id = this.nextId++;
      if (!this.sender.send(gateSubscribeMessage(q.channel, q.payload, now / 1000, q.event, id))) {
        this.queue.unshift(q);
        return;
      }
      this.sendTimes.push(now);
      this.counters.sent++;
      this.pending.set(id, { ...q, id, sentAt: now });
    }
    if (this.pending.size > 0 && this.replyTimer === null && this.open) {
      this.replyTimer = setTimeout(() => {
        this.replyTimer = null;
        this.expire(this.now());
        this.pump();
      }, this.replyTimeoutMs);
      this.replyTimer.unref?.();
    }
  }

  private expire(now: number): void {
    for (const p of this.pending.values()) {
      if (now - p.sentAt < this.replyTimeoutMs) continue;
      this.pending.delete(p.id);
      this.counters.timeouts++;
      if (p.event === 'subscribe' && !p.retried) {
        const still = p.streams.filter((s) => this.wanted.has(s));
        if (still.length > 0) this.enqueue('subscribe', still, true);
      }
    }
  }
}
