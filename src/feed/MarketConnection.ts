import { WsClient, type WsClientOptions, type WsHandler } from '../net/WsClient.js';
import type { StreamConnectionSpec } from '../venues/binance/streamRouting.js';
import { SubscriptionManager, type ControlSender, type StreamControl, type SubscriptionOptions } from './SubscriptionManager.js';

/** Where a connection's data frames go. */
export interface FrameSink {
  /**
   * One data frame. `dedup` is true while two connections for the same streams overlap (rotation):
   * the sink must drop events it has already seen. Returns the number of market records produced
   * (>= 0) or a negative decode status.
   */
  frame(buf: Buffer, start: number, end: number, recvTs: number, dedup: boolean): number;
  /** Overlap starts: reset what dedup compares against. */
  beginOverlap(): void;
  status(conn: MarketConnection, event: 'open' | 'close' | 'rotated' | 'rotation-failed', detail: string): void;
}

export interface MarketConnectionOptions {
  ws?: WsClientOptions;
  subscriptions?: SubscriptionOptions;
  /**
   * Open a replacement connection this long after the current one opened (the venue cuts connections
   * at 24 h). 0 = never. Default 23 h.
   */
  rotateAfterMs?: number;
  /** Give up a rotation attempt whose new connection delivered nothing within this. Default 30 s. */
  rotationTimeoutMs?: number;
  /** Keep dropping duplicates this long after the switch (frames already in flight). Default 2 s. */
  dedupAfterSwitchMs?: number;
  /**
   * The venue's control protocol on each leg. Default: Binance SUBSCRIBE messages (SubscriptionManager),
   * whose replies are recognised before decoding. A venue whose decoder recognises its own control replies
   * (Gate) gives `controlStatus`: a frame the sink answers with that status goes to the control as text.
   */
  control?: (sender: ControlSender) => StreamControl;
  controlStatus?: number;
}

export interface MarketConnectionCounters {
  rotations: number;
  rotationFailures: number;
  controlReplies: number;
}

/** One leg: a WsClient, its own subscriptions, and whether it has delivered market data yet. */
class Leg implements WsHandler {
  readonly ws: WsClient;
  readonly subs: StreamControl;
  delivered = false;

  constructor(
    private readonly owner: MarketConnection,
    url: string,
    wsOpts: WsClientOptions,
    subOpts: SubscriptionOptions,
    control: ((sender: ControlSender) => StreamControl) | undefined,
  ) {
    this.ws = new WsClient(url, this, wsOpts);
    this.subs = control ? control(this.ws) : new SubscriptionManager(this.ws, subOpts);
  }

  onOpen(): void {
    this.owner.legOpen(this);
  }

  onMessage(buf: Buffer, start: number, end: number, recvTs: number): void {
    this.owner.legMessage(this, buf, start, end, recvTs);
  }

  onClose(code: number, reason: string, willReconnect: boolean): void {
    this.subs.onClose();
    this.owner.legClose(this, code, reason, willReconnect);
  }
}

/**
 * One logical market-data connection (one base path, one set of streams) that survives the venue's 24 h
 * cut without a gap: before the cut it opens a second connection with the same streams, switches when
 * that one delivers, and closes the old. While both are open the sink drops duplicates. Control replies
 * (SUBSCRIBE acks, errors) go to the leg's SubscriptionManager; data frames to the sink.
 */
export class MarketConnection {
  readonly counters: MarketConnectionCounters = { rotations: 0, rotationFailures: 0, controlReplies: 0 };
  private current: Leg;
  private next: Leg | null = null;
  private rotateTimer: NodeJS.Timeout | null = null;
  private rotationDeadline: NodeJS.Timeout | null = null;
  private dedupUntil = 0;
  private overlapping = false;
  private stopped = false;
  private readonly rotateAfterMs: number;
  private readonly rotationTimeoutMs: number;
  private readonly dedupAfterSwitchMs: number;
  private readonly controlStatus: number | undefined;
  /** streams added or removed at runtime, applied to every leg */
  private readonly wanted: Set<string>;

  constructor(
    readonly spec: StreamConnectionSpec,
    private readonly sink: FrameSink,
    private readonly opts: MarketConnectionOptions = {},
  ) {
    this.rotateAfterMs = opts.rotateAfterMs ?? 23 * 3600_000;
    this.rotationTimeoutMs = opts.rotationTimeoutMs ?? 30_000;
    this.dedupAfterSwitchMs = opts.dedupAfterSwitchMs ?? 2_000;
    this.controlStatus = opts.controlStatus;
    this.wanted = new Set(spec.streams);
    this.current = this.newLeg(true);
  }

  get ws(): WsClient {
    return this.current.ws;
  }

  get subscriptions(): StreamControl {
    return this.current.subs;
  }

  /** True while a replacement connection is open or opening. */
  get rotating(): boolean {
    return this.next !== null;
  }

  start(): void {
    this.stopped = false;
    this.current.ws.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.next?.ws.close(1000);
    this.next = null;
    this.current.ws.close(1000);
  }

  /** Add streams at runtime (SUBSCRIBE on every open leg, and after reconnects). */
  subscribe(streams: readonly string[]): void {
    for (const s of streams) this.wanted.add(s);
    this.current.subs.subscribe(streams);
    this.next?.subs.subscribe(streams);
  }

  unsubscribe(streams: readonly string[]): void {
    for (const s of streams) this.wanted.delete(s);
    this.current.subs.unsubscribe(streams);
    this.next?.subs.unsubscribe(streams);
  }

  /** Start a rotation now (normally the timer does it). */
  rotateNow(): void {
    if (this.next !== null || this.stopped || this.current.ws.state !== 'open') return;
    this.next = this.newLeg(false);
    this.next.ws.connect();
    this.rotationDeadline = setTimeout(() => this.abandonRotation('no data within rotation timeout'), this.rotationTimeoutMs);
    this.rotationDeadline.unref?.();
  }

  // ---- leg callbacks

  legOpen(leg: Leg): void {
    // The URL carries the spec's streams in 'url' mode; anything else wanted is subscribed by message.
    const inUrl = this.spec.mode === 'url' ? this.spec.streams : [];
    leg.subs.subscribe([...this.wanted]);
    leg.subs.onOpen(inUrl);
    if (leg === this.current) {
      this.sink.status(this, 'open', leg.ws.url.href);
      this.armRotation();
    } else {
      this.overlapping = true;
      this.sink.beginOverlap();
    }
  }

  legMessage(leg: Leg, buf: Buffer, start: number, end: number, recvTs: number): void {
    if (this.controlStatus === undefined && SubscriptionManager.isControlReply(buf, start, end)) {
      this.counters.controlReplies++;
      leg.subs.onReply(buf.toString('utf8', start, end));
      return;
    }
    if (leg !== this.current && leg !== this.next) return; // an old leg's last frames after the switch
    const dedup = this.overlapping || (this.dedupUntil > 0 && Date.now() < this.dedupUntil);
    if (!dedup && this.dedupUntil > 0) this.dedupUntil = 0;
    const r = this.sink.frame(buf, start, end, recvTs, dedup);
    if (r === this.controlStatus) {
      this.counters.controlReplies++;
      leg.subs.onReply(buf.toString('utf8', start, end));
      return;
    }
    if (leg === this.next && r >= 0 && !leg.delivered) {
      leg.delivered = true;
      this.switchTo(leg);
    }
  }

  legClose(leg: Leg, code: number, reason: string, willReconnect: boolean): void {
    if (leg === this.next) {
      if (!this.stopped) this.abandonRotation(`replacement closed: ${code} ${reason}`);
      return;
    }
    if (leg !== this.current) return; // the retired leg
    this.clearRotateTimer();
    if (!this.stopped) this.sink.status(this, 'close', `code ${code} ${reason}${willReconnect ? ', reconnecting' : ''}`);
  }

  // ---- rotation

  private switchTo(leg: Leg): void {
    const old = this.current;
    this.current = leg;
    this.next = null;
    if (this.rotationDeadline) clearTimeout(this.rotationDeadline);
    this.rotationDeadline = null;
    this.overlapping = false;
    this.dedupUntil = Date.now() + this.dedupAfterSwitchMs;
    this.counters.rotations++;
    old.ws.close(1000);
    this.sink.status(this, 'rotated', `switched to a new connection (rotation ${this.counters.rotations})`);
    this.armRotation();
  }

  private abandonRotation(why: string): void {
    const leg = this.next;
    if (leg === null) return;
    this.next = null;
    this.overlapping = false;
    if (this.rotationDeadline) clearTimeout(this.rotationDeadline);
    this.rotationDeadline = null;
    leg.ws.close(1000);
    this.counters.rotationFailures++;
    this.sink.status(this, 'rotation-failed', why);
    // try again soon, while the current connection still has time left
    if (!this.stopped) this.armRotation(Math.min(60_000, Math.max(1000, this.rotateAfterMs / 10)));
  }

  private armRotation(afterMs = this.rotateAfterMs): void {
    this.clearRotateTimer();
    if (this.rotateAfterMs <= 0 || this.stopped) return;
    this.rotateTimer = setTimeout(() => {
      this.rotateTimer = null;
      this.rotateNow();
    }, afterMs);
    this.rotateTimer.unref?.();
  }

  private clearRotateTimer(): void {
    if (this.rotateTimer) clearTimeout(this.rotateTimer);
    this.rotateTimer = null;
  }

  private clearTimers(): void {
    this.clearRotateTimer();
    if (this.rotationDeadline) clearTimeout(this.rotationDeadline);
    this.rotationDeadline = null;
  }

  private newLeg(first: boolean): Leg {
    const ws: WsClientOptions = { ...this.opts.ws };
    // The replacement leg must not reconnect on its own: a failed rotation is retried by the timer.
    if (!first) ws.reconnect = false;
    return new Leg(this, this.spec.url, ws, this.opts.subscriptions ?? {}, this.opts.control);
  }
}
