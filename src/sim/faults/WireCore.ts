import { Lane, LaneScheduler } from '../latency/DelayLanes.js';
import type { LatencyModel } from '../latency/Latency.js';
import { Rng } from '../rng.js';
import { FaultInjector, FaultSpecError, parseFaultList, parseFaultSpec, type Armed, type ConnTarget, type FaultSpec, type FaultStats, type FrameFilter } from './Faults.js';

/** Fault and latency counters of a venue (its stats().faults). */
export interface WireStats extends FaultStats {
  /** frames and requests the latency model delayed */
  latencyFeedFrames: number;
  latencyUserFrames: number;
  latencyOrders: number;
  latencyAcks: number;
  /** frames and responses waiting in delay queues now */
  queued: number;
}

/** Control of the injected faults (handle.faults). */
export interface FaultControl {
  /** Arms (or applies) a fault; returns its id. Throws FaultSpecError for a bad spec. */
  inject(spec: FaultSpec): number;
  /** Disarms one fault by id, or all of them; returns how many. The clock skew stays (inject clockSkew 0). */
  clear(id?: number): number;
  /** Armed faults. */
  active(): Array<{ id: number; spec: FaultSpec; fired: number; left: number | null }>;
  stats(): WireStats;
}

export type ReqKind = 'place' | 'cancel' | 'order' | 'other';

/** What the shared core needs from any venue. */
export interface WireCoreHost {
  /** Order-driven frames go out. */
  afterExec(): void;
  /** A delayed task (a frame write, a request) threw. */
  onError(e: unknown): void;
}

/** A control answer (both venues' REST responses have this shape). */
export interface ControlResponse {
  status: number;
  body: string;
  headers: Array<[string, string]>;
}

/** What a frame is to the frame faults (bits): which targets it counts for, and whether it is a depth diff. */
export const F_MARKET = 1;
export const F_USER = 2;
export const F_API = 4;
export const F_DEPTH = 8;

/** Dialect of the frame faults. */
export interface FrameDialect {
  /** a frame matches a fault's stream/symbol filter */
  matches(frame: string, f: FrameFilter): boolean;
  /** the symbol of a depth frame (a gap continues on it) */
  gapSymbol(frame: string): string | undefined;
  /** junk a `malformed garbage` fault sends starts with this */
  garbagePrefix: string;
}

const NO_DELAY = { orderMs: 0, ackMs: 0 };

/** Held frames go out at the latest this long after they were held, if nothing of their kind follows. */
const REORDER_MAX_HOLD_MS = 1000;

/**
 * Venue-neutral part of a venue's wire (BinanceWire, GateWire): the per-connection frame-fault pipeline,
 * stalls, the delay lanes, the request pipeline (order delay, lost/delayed acks) and FaultControl.
 * Subclasses keep their dialect: which connections a target means, how a frame is classified, and the
 * error bodies of `reject` / `http`.
 */
export abstract class WireCore<K extends { closed: boolean }, H extends WireCoreHost> implements FaultControl {
  readonly sched: LaneScheduler;
  /** per connection */
  private readonly held = new Map<K, { frame: string; filter: FrameFilter; since: number }>();
  private readonly gapLeft = new Map<K, { n: number; symbol: string | undefined }>();
  private readonly discardUntil = new WeakMap<K, number>();
  /** end of the latest stall (the wired paths stay on until then) */
  private stallEnd = 0;
  private readonly garbageRng: Rng;

  constructor(
    protected readonly host: H,
    readonly faults: FaultInjector,
    readonly latency: LatencyModel | null,
    garbageSeed: number,
    private readonly dialect: FrameDialect,
  ) {
    this.garbageRng = new Rng(garbageSeed);
    this.sched = new LaneScheduler(undefined, (e) => host.onError(e));
  }

  // ------------------------------------------------------------------ switches

  /** Something is queued, held or stalled: later frames must take the same path to keep their order. */
  protected get busy(): boolean {
    if (this.sched.busy) return true;
    if (this.held.size > 0 || this.gapLeft.size > 0) {
      // state of closed connections must not keep the wired paths on
      for (const k of this.held.keys()) if (k.closed) this.held.delete(k);
      for (const k of this.gapLeft.keys()) if (k.closed) this.gapLeft.delete(k);
      if (this.held.size > 0 || this.gapLeft.size > 0) return true;
    }
    return this.stalled();
  }

  /** A stall is in progress (no clock read when none was injected). */
  protected stalled(): boolean {
    if (this.stallEnd === 0) return false;
    if (this.sched.now() < this.stallEnd) return true;
    this.stallEnd = 0;
    return false;
  }

  /** Pushes must go through the wire (frame delays, frame faults, or queued/held state). */
  protected get framesOn(): boolean {
    const l = this.latency;
    return (l !== null && (l.feed !== null || l.user !== null)) || this.faults.frameArmed || this.busy;
  }

  /** Frames must pass `applyFrameFaults`. */
  protected get faulty(): boolean {
    return this.faults.frameArmed || this.held.size > 0 || this.gapLeft.size > 0 || this.stalled();
  }

  /** REST requests go through `restRequest`. */
  get restActive(): boolean {
    return (this.latency !== null && this.latency.requests) || this.faults.requestArmed;
  }

  // ------------------------------------------------------------------ FaultControl

  inject(spec: FaultSpec): number {
    const s = parseFaultSpec(spec);
    const id = this.faults.arm(s);
    if (s.kind === 'drop' && s.probability === undefined) this.dropNow(s.target ?? 'market');
    else if (s.kind === 'stall') {
      const until = this.sched.now() + s.ms;
      if (until > this.stallEnd) this.stallEnd = until;
      this.stallNow(s.target ?? 'market', until, s.discard ?? false);
    }
    return id;
  }

  clear(id?: number): number {
    return this.faults.clear(id);
  }

  active(): Array<{ id: number; spec: FaultSpec; fired: number; left: number | null }> {
    return this.faults.active();
  }

  stats(): WireStats {
    const lc = this.latency?.counters;
    return {
      ...this.faults.stats,
      latencyFeedFrames: lc?.feedDelayed ?? 0,
      latencyUserFrames: lc?.userDelayed ?? 0,
      latencyOrders: lc?.ordersDelayed ?? 0,
      latencyAcks: lc?.acksDelayed ?? 0,
      queued: this.sched.queued,
    };
  }

  close(): void {
    this.sched.close();
    this.held.clear();
    this.gapLeft.clear();
  }

  /**
   * `/_sim/...` control requests: `POST /_sim/faults` (a fault, a list, or {"faults":[...]}) -> {"ids":[..]},
   * `GET /_sim/faults` -> {"active":[..],"stats":{..}}, `DELETE /_sim/faults[?id=N]` -> {"cleared":n},
   * `GET /_sim/latency` -> the latency model. Null for other paths.
   */
  control(method: string, path: string, query: string, body: string): ControlResponse | null {
    if (!path.startsWith('/_sim/')) return null;
    const ok = (j: unknown): ControlResponse => ({ status: 200, body: JSON.stringify(j), headers: [] });
    const bad = (status: number, msg: string): ControlResponse => ({ status, body: JSON.stringify({ error: msg }), headers: [] });
    if (path === '/_sim/faults') {
      if (method === 'get') return ok({ active: this.active(), stats: this.stats() });
      if (method === 'delete') {
        const id = new URLSearchParams(query).get('id');
        return ok({ cleared: this.clear(id !== null && id !== '' ? Number(id) : undefined) });
      }
      if (method === 'post') {
        let j: unknown;
        try {
          j = JSON.parse(body);
        } catch {
          return bad(400, 'body must be JSON: a fault, a list of faults, or {"faults":[...]}');
        }
        try {
          return ok({ ids: parseFaultList(j).map((f) => this.inject(f)) });
        } catch (e) {
          if (e instanceof FaultSpecError) return bad(400, e.message);
          throw e;
        }
      }
      return bad(405, 'GET, POST or DELETE');
    }
    if (path === '/_sim/latency' && method === 'get') return ok(this.latency?.describe() ?? {});
    return bad(404, 'unknown control path (/_sim/faults, /_sim/latency)');
  }

  // ------------------------------------------------------------------ immediate faults (dialect: which connections)

  /** Closes the targeted connections now (each counted in stats.drops). */
  protected abstract dropNow(target: ConnTarget | 'all'): void;
  /** Stalls the targeted connections until `until` (each through `stallConn`); stallEnd is already set. */
  protected abstract stallNow(target: ConnTarget | 'all', until: number, discard: boolean): void;

  /** One connection stalls: its frames are discarded until `until`, or its out lane is held. */
  protected stallConn(key: K, outLane: () => Lane, until: number, discard: boolean): void {
    this.faults.stats.stalls++;
    if (discard) this.discardUntil.set(key, until);
    else this.sched.hold(outLane(), until);
  }

  // ------------------------------------------------------------------ frames

  /**
   * Frame faults on the frames about to go to one connection. Returns what is to be written (null when the
   * connection was dropped). `classify` gives each frame's F_* bits; `close` closes the connection.
   */
  protected applyFrameFaults(key: K, frames: readonly string[], classify: (f: string) => number, close: () => void): string[] | null {
    const st = this.faults.stats;
    const now = this.sched.now();
    const armed = this.faults.frameArmed ? this.faults.frameFaults() : [];
    const out: string[] = [];
    const discardEnd = this.discardUntil.get(key);
    const d = this.dialect;
    for (let i = 0; i < frames.length; i++) {
      let f = frames[i]!;
      if (discardEnd !== undefined && now < discardEnd) {
        st.stallDiscards++;
        continue;
      }
      const cls = classify(f);
      const depth = (cls & F_DEPTH) !== 0;
      const gap = this.gapLeft.get(key);
      if (gap !== undefined && depth && (gap.symbol === undefined || f.includes(`"s":"${gap.symbol}"`))) {
        st.depthEventsSkipped++;
        if (--gap.n <= 0) this.gapLeft.delete(key);
        continue;
      }
      const market = (cls & F_MARKET) !== 0;
      const user = (cls & F_USER) !== 0;
      const api = (cls & F_API) !== 0;
      let skip = false;
      let dup = false;
      let hold: FrameFilter | null = null;
      let garbage: string | null = null;
      for (let k = 0; k < armed.length && !skip; k++) {
        const a: Armed = armed[k]!;
        const spec = a.spec;
        switch (spec.kind) {
          case 'drop': {
            const t = spec.target ?? 'market';
            if (!(t === 'all' || (t === 'market' && market) || (t === 'user' && user) || (t === 'api' && api))) break;
            if (!this.faults.fire(a)) break;
            st.drops++;
            close();
            return null;
          }
          case 'depthGap': {
            if (!market || !depth) break;
            const sym = spec.symbol?.toUpperCase();
            if (sym !== undefined && !f.includes(`"s":"${sym}"`)) break;
            if (!this.faults.fire(a)) break;
            st.depthEventsSkipped++;
            const more = (spec.events ?? 1) - 1;
            // the gap continues with the symbol of the skipped event (a one-symbol gap)
            if (more > 0) this.gapLeft.set(key, { n: more, symbol: sym ?? d.gapSymbol(f) });
            skip = true;
            break;
          }
          case 'duplicate':
          case 'reorder':
          case 'malformed': {
            const t = spec.target ?? 'market';
            if (!((t === 'market' && market) || (t === 'user' && user) || (t === 'api' && api))) break;
            if (!d.matches(f, spec)) break;
            if (spec.kind === 'reorder' && (this.held.has(key) || hold !== null)) break;
            if (!this.faults.fire(a)) break;
            if (spec.kind === 'duplicate') {
              st.duplicates++;
              dup = true;
            } else if (spec.kind === 'reorder') {
              st.reorders++;
              hold = spec;
            } else {
              st.malformed++;
              // truncate: the frame is damaged (its event is lost); garbage: junk goes out before it
              if ((spec.mode ?? 'truncate') === 'truncate') f = f.slice(0, Math.max(1, f.length >> 1));
              else garbage = this.garbage();
            }
            break;
          }
          default:
            break;
        }
      }
      if (skip) continue;
      if (hold !== null) {
        this.held.set(key, { frame: f, filter: hold, since: now });
        continue;
      }
      if (garbage !== null) out.push(garbage);
      out.push(f);
      if (dup) out.push(f);
      const h = this.held.get(key);
      if (h !== undefined && (d.matches(f, h.filter) || now - h.since > REORDER_MAX_HOLD_MS)) {
        out.push(h.frame);
        this.held.delete(key);
      }
    }
    return out;
  }

  private garbage(): string {
    const r = this.garbageRng;
    let s = this.dialect.garbagePrefix;
    const n = 8 + r.int(24);
    for (let i = 0; i < n; i++) s += String.fromCharCode(33 + r.int(90));
    return s;
  }

  /**
   * Pushes after the frame faults, through the connection's FIFO lane. `delayOf` null: no frame delay (written
   * now unless the lane holds something); otherwise each frame is due after `delayOf(frame)` ms (it counts).
   */
  protected deliver(lane: Lane, out: readonly string[], write: (frames: readonly string[]) => void, delayOf: ((f: string) => number) | null): void {
    const t = this.sched.now();
    if (delayOf === null) {
      if (lane.size === 0 && t >= lane.holdUntil) {
        write(out);
        return;
      }
      const copy = out.slice();
      this.sched.push(lane, t, () => write(copy));
      return;
    }
    for (let i = 0; i < out.length; i++) {
      const f = out[i]!;
      this.sched.push(lane, t + delayOf(f), () => write([f]));
    }
  }

  /** A task on a lane after `delayMs`, or now when nothing is ahead of it. */
  protected onLane(lane: Lane, delayMs: number, task: () => void): void {
    if (delayMs > 0) this.sched.push(lane, this.sched.now() + delayMs, task);
    else this.sched.runOrQueue(lane, task);
  }

  // ------------------------------------------------------------------ requests

  /** The latency model's order/ack delays for an order-entry request. */
  private requestDelays(kind: ReqKind): { orderMs: number; ackMs: number } {
    return kind !== 'other' && this.latency !== null && this.latency.requests ? this.latency.request() : NO_DELAY;
  }

  /**
   * A request on a WebSocket connection: after the order delay (on the connection's inbound lane, in arrival
   * order) `respond` runs (the venue acts even if the connection died meanwhile), then the ack is lost
   * (`loseAck`, closing on mode close), or `reply` sends it with the ack delay.
   */
  protected wsExchange<T>(inLane: Lane, kind: ReqKind, fault: Armed | null, respond: () => T, closed: () => boolean, close: () => void, reply: (r: T, delayMs: number) => void): void {
    const delays = this.requestDelays(kind);
    const exec = (): void =>
      this.execute(fault, respond, closed, close, (r) => {
        if (!closed()) reply(r, delays.ackMs + this.ackDelay(fault));
      });
    this.onLane(inLane, delays.orderMs, exec);
  }

  /**
   * A REST request under `fault` and the request delays. Returns false when neither applies: the venue then
   * answers it on its direct path.
   */
  protected restExchange<T>(kind: ReqKind, fault: Armed | null, respond: () => T, write: (r: T) => void, close: () => void, aborted: () => boolean): boolean {
    const delays = this.requestDelays(kind);
    if (fault === null && delays.orderMs <= 0 && delays.ackMs <= 0) return false;
    // One lane per request: REST clients here wait for each answer before the next request on a connection.
    const lane = new Lane();
    const exec = (): void =>
      this.execute(fault, respond, aborted, close, (r) => {
        const send = (): void => {
          if (!aborted()) write(r);
        };
        const ack = delays.ackMs + this.ackDelay(fault);
        if (ack > 0) this.sched.push(lane, this.sched.now() + ack, send);
        else send();
      });
    if (delays.orderMs > 0) this.sched.push(lane, this.sched.now() + delays.orderMs, exec);
    else exec();
    return true;
  }

  /**
   * The venue acts on a request (`respond`), its order-driven frames go out, then the ack is lost (`loseAck`:
   * the connection closes on mode close unless `gone`) or goes on to `answer`.
   */
  private execute<T>(fault: Armed | null, respond: () => T, gone: () => boolean, close: () => void, answer: (r: T) => void): void {
    const r = respond();
    this.host.afterExec();
    if (this.ackLost(fault)) {
      if ((fault!.spec as { mode?: string }).mode === 'close' && !gone()) close();
      return;
    }
    answer(r);
  }

  private ackLost(fault: Armed | null): boolean {
    if (fault === null || fault.spec.kind !== 'loseAck') return false;
    this.faults.stats.acksLost++;
    return true;
  }

  private ackDelay(fault: Armed | null): number {
    if (fault === null || fault.spec.kind !== 'delayAck') return 0;
    this.faults.stats.acksDelayed++;
    return fault.spec.ms;
  }
}
