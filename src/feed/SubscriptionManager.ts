/**
 * Live stream management on one market-data connection: SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS
 * (protocols.md §1.2). The venue disconnects a client that sends more than 10 messages per second, so
 * every outgoing control message goes through a small send budget (default 4 per second, leaving room
 * for pongs), queued in order, and many streams are batched into one message.
 *
 * Off the hot path: replies are rare and parsed with JSON.parse.
 */

export interface ControlSender {
  /** Send one text frame; false when the connection is not open. */
  send(text: string): boolean;
}

export interface SubscriptionOptions {
  /** Control messages per second this manager may send (the venue cuts at 10, pongs count too). Default 4. */
  maxPerSecond?: number;
  /** Streams per SUBSCRIBE message. Default 100. */
  batchSize?: number;
  /** A request with no reply within this is counted as timed out (and a subscribe is retried once). Default 5000. */
  replyTimeoutMs?: number;
  /** Millisecond clock (inject for tests). */
  now?: () => number;
  /** Timer hooks (inject for tests). */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

export interface SubscriptionCounters {
  sent: number;
  acked: number;
  errors: number;
  timeouts: number;
  /** replies whose id we never sent */
  strayReplies: number;
  queued: number;
}

type Method = 'SUBSCRIBE' | 'UNSUBSCRIBE' | 'LIST_SUBSCRIPTIONS';

interface Pending {
  id: number;
  method: Method;
  params: string[];
  sentAt: number;
  retried: boolean;
  resolve?: (v: string[]) => void;
  reject?: (e: Error) => void;
}

interface Queued {
  method: Method;
  params: string[];
  retried: boolean;
  resolve?: (v: string[]) => void;
  reject?: (e: Error) => void;
}

export class SubscriptionError extends Error {
  constructor(
    readonly code: number,
    msg: string,
  ) {
    super(msg);
    this.name = 'SubscriptionError';
  }
}

/**
 * What a market connection needs from the control protocol of its venue (Binance SUBSCRIBE messages here,
 * Gate subscribe events in GateSubscriptionManager): the wanted streams survive reconnects and are sent
 * again on every open; replies are matched to requests.
 */
export interface StreamControl {
  readonly counters: SubscriptionCounters;
  subscriptions(): string[];
  wantedStreams(): string[];
  readonly backlog: number;
  readonly inFlight: number;
  readonly error: string | null;
  subscribe(streams: readonly string[]): void;
  unsubscribe(streams: readonly string[]): void;
  /** Streams as the venue confirms them (a LIST request where the venue has one, else the acked set). */
  list(): Promise<string[]>;
  onOpen(alreadySubscribed?: readonly string[]): void;
  onClose(): void;
  /** Handle one reply frame. Returns false if it was not a control reply. */
  onReply(text: string): boolean;
}

export class SubscriptionManager implements StreamControl {
  readonly counters: SubscriptionCounters = { sent: 0, acked: 0, errors: 0, timeouts: 0, strayReplies: 0, queued: 0 };
  /** what the venue confirmed (after SUBSCRIBE/UNSUBSCRIBE acks) */
  private readonly active = new Set<string>();
  /** what we want, re-sent after every reconnect */
  private readonly wanted = new Set<string>();
  private readonly queue: Queued[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** send times of the last second, oldest first */
  private readonly sendTimes: number[] = [];
  private timer: unknown = null;
  private replyTimer: unknown = null;
  private open = false;
  private lastError: string | null = null;
  private readonly maxPerSecond: number;
  private readonly batchSize: number;
  private readonly replyTimeoutMs: number;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;

  constructor(
    private readonly sender: ControlSender,
    opts: SubscriptionOptions = {},
  ) {
    this.maxPerSecond = opts.maxPerSecond ?? 4;
    this.batchSize = opts.batchSize ?? 100;
    this.replyTimeoutMs = opts.replyTimeoutMs ?? 5000;
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
    if (!(this.maxPerSecond >= 1 && this.maxPerSecond <= 10)) throw new RangeError(`maxPerSecond must be 1..10 (the venue's inbound limit is 10/s); got ${this.maxPerSecond}`);
  }

  /** Streams the venue has confirmed. */
  subscriptions(): string[] {
    return [...this.active];
  }

  /** Streams asked for (confirmed or not). */
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

  /** Ask for streams; sent now if the connection is open, else on the next open. */
  subscribe(streams: readonly string[]): void {
    const add = streams.filter((s) => !this.wanted.has(s));
    for (const s of add) this.wanted.add(s);
    if (this.open) this.enqueueBatches('SUBSCRIBE', add);
  }

  unsubscribe(streams: readonly string[]): void {
    const drop = streams.filter((s) => this.wanted.delete(s) || this.active.has(s));
    if (this.open) this.enqueueBatches('UNSUBSCRIBE', drop);
  }

  /** Streams as the venue lists them (LIST_SUBSCRIPTIONS). */
  list(): Promise<string[]> {
    return new Promise((resolve, reject) => {
      if (!this.open) return reject(new Error('connection not open'));
      this.queue.push({ method: 'LIST_SUBSCRIPTIONS', params: [], retried: false, resolve, reject });
      this.counters.queued++;
      this.pump();
    });
  }

  /**
   * The connection opened. `alreadySubscribed` are streams the URL carried (`/stream?streams=`); the
   * rest of what we want is subscribed by message.
   */
  onOpen(alreadySubscribed: readonly string[] = []): void {
    this.open = true;
    this.active.clear();
    for (const s of alreadySubscribed) {
      this.active.add(s);
      this.wanted.add(s);
    }
    const missing = [...this.wanted].filter((s) => !this.active.has(s));
    this.enqueueBatches('SUBSCRIBE', missing);
  }

  /** The connection closed: nothing in flight will be answered; everything wanted is re-sent on open. */
  onClose(): void {
    this.open = false;
    this.active.clear();
    for (const p of this.pending.values()) p.reject?.(new Error('connection closed'));
    this.pending.clear();
    for (const q of this.queue) q.reject?.(new Error('connection closed'));
    this.queue.length = 0;
    if (this.timer !== null) this.clearTimer(this.timer);
    if (this.replyTimer !== null) this.clearTimer(this.replyTimer);
    this.timer = null;
    this.replyTimer = null;
  }

  /** True when `text` looks like a control reply (`{"result":…,"id":…}` or `{"code":…,"msg":…}`). */
  static isControlReply(buf: Uint8Array, start: number, end: number): boolean {
    // Replies are small and never carry "stream"/"e"; check the first key cheaply.
    let i = start;
    while (i < end && buf[i] !== 0x22 /* " */) i++;
    const k0 = buf[i + 1];
    return k0 === 0x72 /* r */ || k0 === 0x69 /* i */ || k0 === 0x63 /* c */;
  }

  /** Handle one reply frame. Returns false if it was not a control reply. */
  onReply(text: string): boolean {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return false;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return false;
    const m = msg as { id?: unknown; result?: unknown; code?: unknown; msg?: unknown };
    if (typeof m.code === 'number' && !('result' in m)) {
      // {"code":2,"msg":"Invalid request: ...","id":?}: the venue's error reply
      this.counters.errors++;
      this.lastError = `code ${m.code}: ${String(m.msg)}`;
      const p = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
      if (p) {
        this.pending.delete(p.id);
        p.reject?.(new SubscriptionError(m.code, String(m.msg)));
      }
      this.pump();
      return true;
    }
    if (!('result' in m) || typeof m.id !== 'number') return false;
    const p = this.pending.get(m.id);
    if (!p) {
      this.counters.strayReplies++;
      return true;
    }
    this.pending.delete(p.id);
    this.counters.acked++;
    if (p.method === 'SUBSCRIBE') for (const s of p.params) this.active.add(s);
    else if (p.method === 'UNSUBSCRIBE') for (const s of p.params) this.active.delete(s);
    else if (p.method === 'LIST_SUBSCRIPTIONS') {
      const list = Array.isArray(m.result) ? m.result.filter((x): x is string => typeof x === 'string') : [];
      p.resolve?.(list);
    }
    this.pump();
    return true;
  }

  private enqueueBatches(method: Method, streams: readonly string[]): void {
    for (let i = 0; i < streams.length; i += this.batchSize) {
      this.queue.push({ method, params: streams.slice(i, i + this.batchSize), retried: false });
      this.counters.queued++;
    }
    this.pump();
  }

  /** Send what the budget allows now; schedule the rest. */
  private pump(): void {
    if (this.timer !== null) return;
    const now = this.now();
    this.expire(now);
    while (this.queue.length > 0 && this.open) {
      while (this.sendTimes.length > 0 && now - this.sendTimes[0]! >= 1000) this.sendTimes.shift();
      if (this.sendTimes.length >= this.maxPerSecond) {
        const wait = 1000 - (now - this.sendTimes[0]!) + 1;
        this.timer = this.setTimer(() => {
          this.timer = null;
          this.pump();
        }, wait);
        return;
      }
      const q = this.queue.shift()!;
      const id = this.nextId++;
      const frame = q.method === 'LIST_SUBSCRIPTIONS' ? `{"method":"LIST_SUBSCRIPTIONS","id":${id}}` : JSON.stringify({ method: q.method, params: q.params, id });
      if (!this.sender.send(frame)) {
        this.queue.unshift(q);
        return;
      }
      this.sendTimes.push(now);
      this.counters.sent++;
      const p: Pending = { id, method: q.method, params: q.params, sentAt: now, retried: q.retried };
      if (q.resolve) p.resolve = q.resolve;
      if (q.reject) p.reject = q.reject;
      this.pending.set(id, p);
    }
    if (this.pending.size > 0 && this.replyTimer === null && this.open) {
      this.replyTimer = this.setTimer(() => {
        this.replyTimer = null;
        this.expire(this.now());
        this.pump();
      }, this.replyTimeoutMs);
    }
  }

  /** Requests unanswered past the timeout: counted; a subscribe is retried once. */
  private expire(now: number): void {
    for (const p of this.pending.values()) {
      if (now - p.sentAt < this.replyTimeoutMs) continue;
      this.pending.delete(p.id);
      this.counters.timeouts++;
      if (p.method === 'SUBSCRIBE' && !p.retried) {
        const stillWanted = p.params.filter((s) => this.wanted.has(s));
        if (stillWanted.length > 0) this.queue.push({ method: 'SUBSCRIBE', params: stillWanted, retried: true });
      } else {
        p.reject?.(new Error(`${p.method} ${p.id}: no reply within ${this.replyTimeoutMs} ms`));
      }
    }
  }
}
