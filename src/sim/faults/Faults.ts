import { Rng } from '../rng.js';

/**
 * Fault injection for the venue simulator: what can go wrong, as JSON-able specs (the `faults` option of
 * startBinanceVenue, the body of `POST /_sim/faults`, `handle.faults.inject(...)`), and the injector that
 * arms them, decides (seeded) when they fire and counts what was injected.
 *
 * Firing: a fault fires on matching events (a frame about to be written, a request arriving). Without
 * `probability` it fires on the first `count` of them (default 1: one-shot); with `probability` each
 * matching event fires it with that chance, from the fault's own seeded generator, until it has fired
 * `count` times (default unlimited) or `forMs` passed. `drop` and `stall` without `probability` act at once
 * on every connection of their target; `clockSkew` sets the venue clock's offset until changed.
 */

/** Which connections: market-data sockets, user-data sockets, WebSocket API sockets. */
export type ConnTarget = 'market' | 'user' | 'api';
/** Which requests: order placement, cancels, any order endpoint (place, cancel, batch, algo), any request. */
export type RequestFilter = 'place' | 'cancel' | 'order' | 'any';
export type TransportFilter = 'rest' | 'wsapi' | 'any';

export interface FaultTrigger {
  /** Times the fault fires before it disarms. Default 1, or unlimited with `probability`. */
  count?: number;
  /** Chance that a matching event fires it (seeded). Default: every matching event. */
  probability?: number;
  /** Seed of this fault's draws. Default: from the venue seed and the fault's id. */
  seed?: number;
  /** Disarm after this many ms. */
  forMs?: number;
}

export interface FrameFilter {
  /** Default 'market'. */
  target?: ConnTarget;
  /**
   * Only frames of this event type: depth (depthUpdate), bookTicker, aggTrade, trade, markPrice, kline,
   * forceOrder, or a user-data event (ORDER_TRADE_UPDATE, TRADE_LITE, ACCOUNT_UPDATE, ...). Default any.
   */
  stream?: string;
  /** Only frames of this symbol (e.g. BTCUSDT). */
  symbol?: string;
}

export interface RequestMatch {
  /** Default 'place'. */
  on?: RequestFilter;
  /** Default 'any'. */
  transport?: TransportFilter;
}

export type FaultSpec =
  /** Close connections abruptly (no close frame): at once, or per frame with `probability`. */
  | ({ kind: 'drop'; target?: ConnTarget | 'all' } & FaultTrigger)
  /** No frames to these connections for `ms`, then the held frames go out (or are lost with `discard`). */
  | { kind: 'stall'; target?: ConnTarget | 'all'; ms: number; discard?: boolean }
  /** Skip `events` (default 1) consecutive depth events on a market connection: its `pu` chain breaks. */
  | ({ kind: 'depthGap'; symbol?: string; events?: number } & FaultTrigger)
  /** Send a frame twice. */
  | ({ kind: 'duplicate' } & FrameFilter & FaultTrigger)
  /** Hold a frame until the next frame of the same filter has gone out, then send it. */
  | ({ kind: 'reorder' } & FrameFilter & FaultTrigger)
  /** Replace a frame with its first half (`truncate`, default) or with garbage bytes (`garbage`). */
  | ({ kind: 'malformed'; mode?: 'truncate' | 'garbage' } & FrameFilter & FaultTrigger)
  /** The venue acts on the request; the response never comes (`hang`, default) or the connection closes (`close`). */
  | ({ kind: 'loseAck'; mode?: 'hang' | 'close' } & RequestMatch & FaultTrigger)
  /** The venue acts on the request; the response comes `ms` later than it would. */
  | ({ kind: 'delayAck'; ms: number } & RequestMatch & FaultTrigger)
  /**
   * Answer an HTTP error instead: 503 with message `unknown` ("Unknown error, ..." = execution status
   * unknown; default for 503), `unavailable` ("Service Unavailable." = definite failure) or `throttled`
   * (-1008); 500 (-1000); 429 (-1003, Retry-After `retryAfter` s, default 1); 418 (IP ban, Retry-After
   * default 120 s). `executed`: the venue acts on the request anyway (5xx only; default false).
   * Gate answers its own `{"label","message"}` bodies (src/sim/faults/GateWire.ts); `label` overrides the
   * label it picks for the status there (e.g. SERVER_ERROR instead of INTERNAL).
   */
  | ({ kind: 'http'; status: 500 | 503 | 429 | 418; message?: 'unknown' | 'unavailable' | 'throttled'; retryAfter?: number; executed?: boolean; label?: string } & RequestMatch & FaultTrigger)
  /**
   * Reject the next orders with these codes (cycled), e.g. -2019, -1008, -5022; the venue does not act.
   * Gate rejects by `label` instead (cycled), e.g. INSUFFICIENT_AVAILABLE, ORDER_POC_IMMEDIATE.
   */
  | ({ kind: 'reject'; code?: number | number[]; label?: string | string[]; msg?: string } & RequestMatch & FaultTrigger)
  /** The venue clock runs `ms` ahead (negative: behind) of its base clock; 0 restores it. */
  | { kind: 'clockSkew'; ms: number };

export type FaultKind = FaultSpec['kind'];

export interface FaultStats {
  /** faults accepted (armed or applied) */
  injected: number;
  /** connections closed by `drop` */
  drops: number;
  /** connections stalled, and frames discarded by a discarding stall */
  stalls: number;
  stallDiscards: number;
  /** depth events skipped by `depthGap` */
  depthEventsSkipped: number;
  duplicates: number;
  reorders: number;
  malformed: number;
  acksLost: number;
  acksDelayed: number;
  http500: number;
  http503: number;
  http429: number;
  http418: number;
  /** requests the venue acted on although it answered an injected 5xx */
  httpExecuted: number;
  rejects: number;
  /** the current venue clock offset (ms) */
  clockSkewMs: number;
  /** faults still armed */
  armed: number;
}

export class FaultSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultSpecError';
  }
}

const KINDS = new Set<FaultKind>(['drop', 'stall', 'depthGap', 'duplicate', 'reorder', 'malformed', 'loseAck', 'delayAck', 'http', 'reject', 'clockSkew']);
const TARGETS = new Set(['market', 'user', 'api']);
const REQUESTS = new Set(['place', 'cancel', 'order', 'any']);
const TRANSPORTS = new Set(['rest', 'wsapi', 'any']);
/** A Gate error label (protocols.md §2.10): INSUFFICIENT_AVAILABLE, TOO_MANY_REQUESTS, ... */
const LABEL_RE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Checks a spec from JSON; throws FaultSpecError naming the bad field. */
export function parseFaultSpec(v: unknown): FaultSpec {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FaultSpecError('a fault must be a JSON object with a "kind"');
  const o = v as Record<string, unknown>;
  const kind = o['kind'];
  if (typeof kind !== 'string' || !KINDS.has(kind as FaultKind)) throw new FaultSpecError(`unknown fault kind ${JSON.stringify(kind)} (one of ${[...KINDS].join(', ')})`);
  const num = (k: string, opt: { min?: number; max?: number; int?: boolean; required?: boolean } = {}): void => {
    const x = o[k];
    if (x === undefined) {
      if (opt.required) throw new FaultSpecError(`${kind}: "${k}" is required`);
      return;
    }
    if (typeof x !== 'number' || !Number.isFinite(x) || (opt.int && !Number.isInteger(x)) || (opt.min !== undefined && x < opt.min) || (opt.max !== undefined && x > opt.max)) {
      throw new FaultSpecError(`${kind}: "${k}" must be ${opt.int ? 'an integer' : 'a number'}${opt.min !== undefined ? ` >= ${opt.min}` : ''}${opt.max !== undefined ? ` <= ${opt.max}` : ''}`);
    }
  };
  const oneOf = (k: string, allowed: ReadonlySet<string> | readonly string[]): void => {
    const x = o[k];
    const set = allowed instanceof Set ? allowed : new Set(allowed);
    if (x !== undefined && (typeof x !== 'string' || !set.has(x))) throw new FaultSpecError(`${kind}: "${k}" must be one of ${[...set].join(', ')}`);
  };
  const str = (k: string): void => {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw new FaultSpecError(`${kind}: "${k}" must be a string`);
  };
  const bool = (k: string): void => {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new FaultSpecError(`${kind}: "${k}" must be true or false`);
  };
  const trigger = (): void => {
    num('count', { min: 1, int: true });
    num('probability', { min: 0, max: 1 });
    num('seed', { min: 0, max: 2 ** 32 - 1, int: true });
    num('forMs', { min: 0 });
  };
  const request = (): void => {
    oneOf('on', REQUESTS);
    oneOf('transport', TRANSPORTS);
  };
  const frame = (): void => {
    oneOf('target', TARGETS);
    str('stream');
    str('symbol');
  };
  switch (kind as FaultKind) {
    case 'drop':
      oneOf('target', [...TARGETS, 'all']);
      trigger();
      break;
    case 'stall':
      oneOf('target', [...TARGETS, 'all']);
      num('ms', { min: 0, max: 3_600_000, required: true });
      bool('discard');
      break;
    case 'depthGap':
      str('symbol');
      num('events', { min: 1, max: 1_000_000, int: true });
      trigger();
      break;
    case 'duplicate':
    case 'reorder':
      frame();
      trigger();
      break;
    case 'malformed':
      frame();
      oneOf('mode', ['truncate', 'garbage']);
      trigger();
      break;
    case 'loseAck':
      oneOf('mode', ['hang', 'close']);
      request();
      trigger();
      break;
    case 'delayAck':
      num('ms', { min: 0, max: 3_600_000, required: true });
      request();
      trigger();
      break;
    case 'http': {
      const st = o['status'];
      if (st !== 500 && st !== 503 && st !== 429 && st !== 418) throw new FaultSpecError('http: "status" must be 500, 503, 429 or 418');
      oneOf('message', ['unknown', 'unavailable', 'throttled']);
      num('retryAfter', { min: 0, max: 3 * 86_400, int: true });
      bool('executed');
      if (o['label'] !== undefined && (typeof o['label'] !== 'string' || !LABEL_RE.test(o['label']))) throw new FaultSpecError('http: "label" must be an upper-case error label such as SERVER_ERROR');
      request();
      trigger();
      break;
    }
    case 'reject': {
      const c = o['code'];
      const l = o['label'];
      if (c === undefined && l === undefined) throw new FaultSpecError('reject: "code" (Binance) or "label" (Gate) is required');
      const codes = Array.isArray(c) ? c : [c];
      if (c !== undefined && (codes.length === 0 || !codes.every((x) => typeof x === 'number' && Number.isInteger(x) && x < 0))) throw new FaultSpecError('reject: "code" must be a negative integer or a list of them');
      const labels = Array.isArray(l) ? l : [l];
      if (l !== undefined && (labels.length === 0 || !labels.every((x) => typeof x === 'string' && LABEL_RE.test(x)))) throw new FaultSpecError('reject: "label" must be an upper-case error label or a list of them');
      str('msg');
      request();
      trigger();
      break;
    }
    case 'clockSkew':
      num('ms', { min: -86_400_000, max: 86_400_000, required: true });
      break;
  }
  return o as unknown as FaultSpec;
}

/** Specs from a request body: one spec, a list, or {"faults": [...]}. */
export function parseFaultList(v: unknown): FaultSpec[] {
  const list = Array.isArray(v) ? v : typeof v === 'object' && v !== null && Array.isArray((v as Record<string, unknown>)['faults']) ? ((v as Record<string, unknown>)['faults'] as unknown[]) : [v];
  return list.map(parseFaultSpec);
}

/** An armed fault. */
export interface Armed {
  readonly id: number;
  readonly spec: FaultSpec;
  /** fires left (Infinity = until cleared) */
  left: number;
  fired: number;
  readonly until: number;
  readonly rng: Rng | null;
  readonly probability: number;
}

/** Kinds that act on frames about to be written. */
const FRAME_KINDS = new Set<FaultKind>(['drop', 'depthGap', 'duplicate', 'reorder', 'malformed']);
/** Kinds that act on requests. */
const REQUEST_KINDS = new Set<FaultKind>(['loseAck', 'delayAck', 'http', 'reject']);

/**
 * Arms faults and decides when they fire. Frame faults and request faults are kept in separate lists so
 * the venue asks only when one of them is armed (`frameArmed` / `requestArmed`); with nothing armed it
 * is never consulted.
 */
export class FaultInjector {
  readonly stats: FaultStats = {
    injected: 0, drops: 0, stalls: 0, stallDiscards: 0, depthEventsSkipped: 0, duplicates: 0, reorders: 0, malformed: 0,
    acksLost: 0, acksDelayed: 0, http500: 0, http503: 0, http429: 0, http418: 0, httpExecuted: 0, rejects: 0, clockSkewMs: 0, armed: 0,
  };
  /** venue clock offset (ms) */
  skewMs = 0;
  private nextId = 1;
  private frame: Armed[] = [];
  private request: Armed[] = [];

  constructor(
    private readonly seed: number,
    private readonly now: () => number = Date.now,
  ) {}

  get frameArmed(): boolean {
    return this.frame.length > 0;
  }

  get requestArmed(): boolean {
    return this.request.length > 0;
  }

  /** Arms a fault (drop/stall without probability and clockSkew are applied by the caller at once). Returns its id. */
  arm(spec: FaultSpec): number {
    const id = this.nextId++;
    this.stats.injected++;
    if (spec.kind === 'clockSkew') {
      this.skewMs = spec.ms;
      this.stats.clockSkewMs = spec.ms;
      return id;
    }
    if (spec.kind === 'stall') return id;
    const t = spec as FaultTrigger;
    if (spec.kind === 'drop' && t.probability === undefined) return id;
    const probability = t.probability ?? 1;
    const a: Armed = {
      id,
      spec,
      left: t.count ?? (t.probability !== undefined ? Number.POSITIVE_INFINITY : 1),
      fired: 0,
      until: t.forMs !== undefined ? this.now() + t.forMs : Number.POSITIVE_INFINITY,
      rng: probability < 1 ? new Rng(t.seed ?? (this.seed * 31 + id) >>> 0) : null,
      probability,
    };
    if (FRAME_KINDS.has(spec.kind)) this.frame.push(a);
    else if (REQUEST_KINDS.has(spec.kind)) this.request.push(a);
    this.stats.armed = this.frame.length + this.request.length;
    return id;
  }

  /** Frame faults armed now (expired ones removed). */
  frameFaults(): readonly Armed[] {
    return this.prune(this.frame);
  }

  /** Decides whether an armed fault fires on this event; disarms it when used up. */
  fire(a: Armed): boolean {
    if (a.left <= 0 || this.now() >= a.until) return false;
    if (a.rng !== null && !a.rng.chance(a.probability)) return false;
    a.left--;
    a.fired++;
    if (a.left <= 0) this.remove(a.id);
    return true;
  }

  /** The first armed request fault matching this request that fires, if any. */
  requestFault(transport: 'rest' | 'wsapi', kind: 'place' | 'cancel' | 'order' | 'other'): Armed | null {
    const list = this.prune(this.request);
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!;
      const m = a.spec as RequestMatch;
      const tr = m.transport ?? 'any';
      if (tr !== 'any' && tr !== transport) continue;
      const on = m.on ?? 'place';
      const ok = on === 'any' || (on === 'order' ? kind !== 'other' : on === kind);
      if (ok && this.fire(a)) return a;
    }
    return null;
  }

  /** Disarms one fault, or every fault (clock skew stays as it is). Returns how many were disarmed. */
  clear(id?: number): number {
    if (id === undefined) {
      const n = this.frame.length + this.request.length;
      this.frame = [];
      this.request = [];
      this.stats.armed = 0;
      return n;
    }
    return this.remove(id) ? 1 : 0;
  }

  /** What is armed (for the control endpoint). */
  active(): Array<{ id: number; spec: FaultSpec; fired: number; left: number | null }> {
    return [...this.prune(this.frame), ...this.prune(this.request)].map((a) => ({ id: a.id, spec: a.spec, fired: a.fired, left: Number.isFinite(a.left) ? a.left : null }));
  }

  private remove(id: number): boolean {
    const before = this.frame.length + this.request.length;
    this.frame = this.frame.filter((a) => a.id !== id);
    this.request = this.request.filter((a) => a.id !== id);
    this.stats.armed = this.frame.length + this.request.length;
    return this.stats.armed < before;
  }

  private prune(list: Armed[]): Armed[] {
    if (list.length === 0) return list;
    const t = this.now();
    if (list.every((a) => a.until > t && a.left > 0)) return list;
    const keep = list.filter((a) => a.until > t && a.left > 0);
    if (list === this.frame) this.frame = keep;
    else this.request = keep;
    this.stats.armed = this.frame.length + this.request.length;
    return keep;
  }
}

/** `"e":"<event>"` needle for a frame filter's stream name. */
export function eventNeedle(stream: string): string {
  const e = stream === 'depth' ? 'depthUpdate' : stream === 'markPrice' ? 'markPriceUpdate' : stream;
  return `"e":"${e}"`;
}

/** Whether a frame matches a filter (substring checks on the JSON text; only run while a frame fault is armed). */
export function frameMatches(frame: string, f: FrameFilter): boolean {
  if (f.stream !== undefined && !frame.includes(eventNeedle(f.stream))) return false;
  if (f.symbol !== undefined && !frame.includes(`"s":"${f.symbol.toUpperCase()}"`)) return false;
  return true;
}

export const DEPTH_NEEDLE = '"e":"depthUpdate"';
