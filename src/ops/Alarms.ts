import { request } from 'undici';
import { ConfigError, showValue } from '../config/ConfigError.js';

/**
 * Operator alarms: a webhook notifier (POST of a JSON alarm to `alarms.webhookUrl`) and the AlarmWatcher that
 * turns the Supervisor's worker counters, sampled once a second, into alarms. Nothing here runs on the hot
 * path and nothing throws into its caller: a webhook that is down costs retries and a `failed` count.
 */

export type AlarmSeverity = 'info' | 'warning' | 'critical';

export type AlarmKind =
  | 'kill-switch'
  | 'trading-halted'
  | 'reduce-only'
  | 'venue-disconnect'
  | 'book-stale'
  | 'book-out-of-sync'
  | 'http-418'
  | 'drawdown'
  | 'loss-limit';

export interface Alarm {
  kind: AlarmKind;
  severity: AlarmSeverity;
  message: string;
  /** ISO-8601 time the alarm was raised */
  at: string;
  details: Record<string, unknown>;
}

// ------------------------------------------------------------------ configuration

export interface AlarmsConfig {
  /** POST target; '' = alarms off */
  webhookUrl: string;
  /** per attempt */
  timeoutMs: number;
  /** attempts after the first */
  retries: number;
  /** first retry delay; doubles per attempt */
  backoffMs: number;
  /** at most one alarm of a kind per this window; the ones in between are counted into the next */
  rateLimitMs: number;
  /** a book not Live for longer than this raises book-out-of-sync */
  bookStuckMs: number;
}

export const ALARMS_DEFAULTS: Readonly<AlarmsConfig> = {
  webhookUrl: '',
  timeoutMs: 5000,
  retries: 3,
  backoffMs: 500,
  rateLimitMs: 60_000,
  bookStuckMs: 30_000,
};

const INT_FIELDS: Record<Exclude<keyof AlarmsConfig, 'webhookUrl'>, { min: number; max: number }> = {
  timeoutMs: { min: 100, max: 120_000 },
  retries: { min: 0, max: 10 },
  backoffMs: { min: 0, max: 600_000 },
  rateLimitMs: { min: 0, max: 86_400_000 },
  bookStuckMs: { min: 1000, max: 86_400_000 },
};

/**
 * Validates the config's `alarms` section (undefined = all defaults, alarms off) and returns it whole.
 * Errors are ConfigErrors naming the key, e.g. `config: alarms.webhookUrl must be an http(s) URL or ""; got "x"`.
 */
export function validateAlarmsConfig(raw: unknown): AlarmsConfig {
  if (raw === undefined) return { ...ALARMS_DEFAULTS };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('alarms', `must be an object; got ${showValue(raw)}`);
  const obj = raw as Record<string, unknown>;
  const out: AlarmsConfig = { ...ALARMS_DEFAULTS };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'webhookUrl') {
      if (typeof v !== 'string' || (v !== '' && !isHttpUrl(v))) throw new ConfigError('alarms.webhookUrl', `must be an http(s) URL or "" (off); got ${showValue(v)}`);
      out.webhookUrl = v;
      continue;
    }
    const range = INT_FIELDS[k as keyof typeof INT_FIELDS];
    if (!range) throw new ConfigError(`alarms.${k}`, `is not a known key (allowed: webhookUrl, ${Object.keys(INT_FIELDS).join(', ')})`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < range.min || v > range.max) throw new ConfigError(`alarms.${k}`, `must be an integer between ${range.min} and ${range.max}; got ${showValue(v)}`);
    out[k as keyof typeof INT_FIELDS] = v;
  }
  return out;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ notifier

export interface AlarmSink {
  /** Resolves true when delivered, false when dropped or failed; never rejects. */
  notify(alarm: Alarm): Promise<boolean>;
}

export interface NotifierCounters {
  /** delivered (2xx) */
  sent: number;
  /** gave up after the retries */
  failed: number;
  /** held back by the per-kind rate limit (counted into the next alarm of that kind) */
  suppressed: number;
  /** retry attempts */
  retries: number;
}

export interface NotifierOptions extends Partial<Omit<AlarmsConfig, 'bookStuckMs'>> {
  /** where a failure is reported (default: nowhere) */
  onError?: (message: string) => void;
  /** the clock for the rate limit (tests) */
  now?: () => number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/**
 * POSTs each alarm as JSON {kind, severity, message, at, details} with undici, retrying non-2xx answers and
 * network errors with exponential backoff. Rate-limited per kind: within `rateLimitMs` of the last alarm of
 * a kind a new one is not sent but counted, and the next one sent carries `details.suppressed`.
 */
export class AlarmNotifier implements AlarmSink {
  readonly counters: NotifierCounters = { sent: 0, failed: 0, suppressed: 0, retries: 0 };
  private readonly cfg: Omit<AlarmsConfig, 'bookStuckMs'>;
  private readonly lastSentAt = new Map<AlarmKind, number>();
  private readonly heldBack = new Map<AlarmKind, number>();
  private readonly inFlight = new Set<Promise<boolean>>();
  private readonly now: () => number;

  constructor(private readonly opts: NotifierOptions = {}) {
    this.cfg = {
      webhookUrl: opts.webhookUrl ?? ALARMS_DEFAULTS.webhookUrl,
      timeoutMs: opts.timeoutMs ?? ALARMS_DEFAULTS.timeoutMs,
      retries: opts.retries ?? ALARMS_DEFAULTS.retries,
      backoffMs: opts.backoffMs ?? ALARMS_DEFAULTS.backoffMs,
      rateLimitMs: opts.rateLimitMs ?? ALARMS_DEFAULTS.rateLimitMs,
    };
    this.now = opts.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.cfg.webhookUrl !== '';
  }

  notify(alarm: Alarm): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    const t = this.now();
    const last = this.lastSentAt.get(alarm.kind);
    if (last !== undefined && t - last < this.cfg.rateLimitMs) {
      this.counters.suppressed++;
      this.heldBack.set(alarm.kind, (this.heldBack.get(alarm.kind) ?? 0) + 1);
      return Promise.resolve(false);
    }
    this.lastSentAt.set(alarm.kind, t);
    const held = this.heldBack.get(alarm.kind) ?? 0;
    this.heldBack.delete(alarm.kind);
    const body = JSON.stringify(held > 0 ? { ...alarm, details: { ...alarm.details, suppressed: held } } : alarm);
    const p = this.deliver(alarm.kind, body).catch(() => false);
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  /** Waits for the deliveries under way (at shutdown, so the last alarm is not lost). */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async deliver(kind: AlarmKind, body: string): Promise<boolean> {
    let lastError = '';
    for (let attempt = 0; attempt <= this.cfg.retries; attempt++) {
      if (attempt > 0) {
        this.counters.retries++;
        await sleep(this.cfg.backoffMs * 2 ** (attempt - 1));
      }
      try {
        const res = await request(this.cfg.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          headersTimeout: this.cfg.timeoutMs,
          bodyTimeout: this.cfg.timeoutMs,
          signal: AbortSignal.timeout(this.cfg.timeoutMs),
        });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) {
          this.counters.sent++;
          return true;
        }
        lastError = `HTTP ${res.statusCode}`;
        // a 4xx other than 408/429 will not get better by asking again
        if (res.statusCode >= 400 && res.statusCode < 500 && res.statusCode !== 408 && res.statusCode !== 429) break;
      } catch (e) {
        lastError = (e as Error).message;
      }
    }
    this.counters.failed++;
    this.opts.onError?.(`alarm ${kind} not delivered: ${lastError}`);
    return false;
  }
}

// ------------------------------------------------------------------ watcher

/** What the watcher reads: the Supervisor's EngineReport (only its worker counters). */
export interface WorkerCountersReport {
  workers: { feed: Record<string, number>; strategy: Record<string, number>; execution: Record<string, number> };
}

const TRADING_STATE = ['ACTIVE', 'REDUCE_ONLY', 'HALTED'] as const;
const BOOK_LIVE = 2;
const BOOK_STALE = 3;
const BOOK_STATE_NAMES: Record<number, string> = { 0: 'none', 1: 'syncing', 2: 'live', 3: 'stale' };
/** reject counters (risk_<reason>) whose growth means a loss limit was breached */
const DRAWDOWN_REJECTS = ['risk_maxDrawdown', 'risk_capitalFloor'];
const LOSS_REJECTS = ['risk_dailyLoss', 'risk_maxRealizedLoss'];

export interface AlarmWatcherOptions {
  /** a book not Live for longer than this raises book-out-of-sync (default 30 s) */
  bookStuckMs?: number;
  /** called with each alarm raised (logging) */
  onAlarm?: (alarm: Alarm) => void;
  /** called when a sample cannot be read */
  onError?: (message: string) => void;
}

/**
 * Raises alarms from successive counter samples (`observe`, once a second): counters that grow between two
 * samples and states that change. The first sample only sets the baseline, except a state that is already
 * bad (HALTED, a stale book), which is reported at once.
 */
export class AlarmWatcher {
  /** every alarm raised, oldest first (capped) */
  readonly raised: Alarm[] = [];
  private prev: WorkerCountersReport['workers'] | undefined;
  /** symbol -> since when its book has not been Live, and whether that was alarmed */
  private readonly notLive = new Map<string, { sinceMs: number; alarmed: boolean }>();
  private readonly bookStuckMs: number;
  /** The last halt / reduce-only the operator (or a graceful stop) asked for: names the cause of the next change. */
  private requestedChange: { action: string; reason: string } | null = null;

  constructor(
    private readonly sink: AlarmSink,
    private readonly opts: AlarmWatcherOptions = {},
  ) {
    this.bookStuckMs = opts.bookStuckMs ?? ALARMS_DEFAULTS.bookStuckMs;
  }

  /**
   * A trading state change asked for through the control plane or by a graceful stop (`reason` as logged).
   * The next HALTED or REDUCE_ONLY the counters show is then attributed to it: an operator's halt is a
   * warning naming its reason, not a critical "see the logs"; the halt of a graceful stop raises nothing.
   */
  requested(action: string, reason: string): void {
    this.requestedChange = { action, reason };
  }

  /** Reads one sample of the worker counters; returns the alarms it raised. Never throws. */
  observe(report: WorkerCountersReport, nowMs: number = Date.now()): Alarm[] {
    const out: Alarm[] = [];
    try {
      const w = report.workers;
      this.check(w, nowMs, out);
      this.prev = { feed: { ...w.feed }, strategy: { ...w.strategy }, execution: { ...w.execution } };
    } catch (e) {
      // a malformed sample must not stop the watcher (nor the Supervisor's timer)
      this.opts.onError?.(`alarm watcher: unreadable counters: ${(e as Error).message}`);
    }
    for (const a of out) {
      this.raised.push(a);
      if (this.raised.length > 1000) this.raised.shift();
      this.opts.onAlarm?.(a);
      void this.sink.notify(a).catch(() => false);
    }
    return out;
  }

  private check(w: WorkerCountersReport['workers'], nowMs: number, out: Alarm[]): void {
    const p = this.prev;
    const grew = (now: Record<string, number>, before: Record<string, number> | undefined, key: string): number => {
      if (!before) return 0;
      const d = (now[key] ?? 0) - (before[key] ?? 0);
      return d > 0 ? d : 0;
    };
    const s = w.strategy;
    const state = s['tradingState'] ?? 0;
    const prevState = p?.strategy['tradingState'] ?? 0;

    const kills = grew(s, p?.strategy, 'killSwitches');
    if (kills > 0) out.push(this.alarm('kill-switch', 'critical', `kill switch fired (${kills}); trading state ${stateName(state)}`, { killSwitches: s['killSwitches'] ?? 0, tradingState: stateName(state) }, nowMs));

    const drawdownRejects = DRAWDOWN_REJECTS.map((k) => [k, grew(s, p?.strategy, k)] as const).filter(([, d]) => d > 0);
    const lossRejects = LOSS_REJECTS.map((k) => [k, grew(s, p?.strategy, k)] as const).filter(([, d]) => d > 0);
    const drawdownCause = drawdownRejects.length > 0 || DRAWDOWN_REJECTS.some((k) => (s[k] ?? 0) > 0);
    if (drawdownRejects.length > 0) {
      out.push(this.alarm('drawdown', 'critical', `drawdown limit breached: ${drawdownRejects.map(([k, d]) => `${k} +${d}`).join(', ')}`, { ...Object.fromEntries(drawdownRejects), equity: s['equity'] ?? null, tradingState: stateName(state) }, nowMs));
    }
    if (lossRejects.length > 0) {
      out.push(this.alarm('loss-limit', 'critical', `loss limit breached: ${lossRejects.map(([k, d]) => `${k} +${d}`).join(', ')}`, { ...Object.fromEntries(lossRejects), equity: s['equity'] ?? null, tradingState: stateName(state) }, nowMs));
    }

    const asked = this.requestedChange;
    if (state === 2 && (p === undefined || prevState !== 2)) {
      const byRequest = asked !== null && asked.action === 'halt' && !drawdownCause && kills === 0;
      if (byRequest) this.requestedChange = null;
      if (byRequest && asked.reason.startsWith('shutdown')) {
        // a graceful stop halts (cancels, stops new orders) on purpose: nothing to alarm
      } else if (byRequest) {
        const cause = `operator: ${asked.reason}`;
        out.push(this.alarm('trading-halted', 'warning', `trading HALTED (cause: ${cause})`, { from: p ? stateName(prevState) : 'unknown', cause, equity: s['equity'] ?? null }, nowMs));
      } else {
        const cause = drawdownCause ? 'drawdown' : kills > 0 ? 'kill switch' : 'see the logs';
        out.push(this.alarm('trading-halted', 'critical', `trading HALTED (cause: ${cause})`, { from: p ? stateName(prevState) : 'unknown', cause, equity: s['equity'] ?? null }, nowMs));
      }
    } else if (state === 1 && p !== undefined && prevState !== 1) {
      if (asked !== null && asked.action === 'reduce-only') this.requestedChange = null;
      out.push(this.alarm('reduce-only', 'warning', `trading moved to REDUCE_ONLY from ${stateName(prevState)}`, { from: stateName(prevState), equity: s['equity'] ?? null }, nowMs));
    }

    const bans = grew(w.execution, p?.execution, 'banned418');
    if (bans > 0) out.push(this.alarm('http-418', 'critical', `venue answered HTTP 418 (IP banned) ${bans} time(s); order entry halted`, { banned418: w.execution['banned418'] ?? 0, halted: w.execution['halted'] ?? 0 }, nowMs));

    const f = w.feed;
    const disc = grew(f, p?.feed, 'disconnects');
    const reconn = grew(f, p?.feed, 'reconnects');
    if (disc > 0 || reconn > 0) {
      out.push(this.alarm('venue-disconnect', 'warning', `market-data connection lost: ${disc} disconnect(s), ${reconn} reconnect(s) in the last interval`, { disconnects: f['disconnects'] ?? 0, reconnects: f['reconnects'] ?? 0 }, nowMs));
    }

    for (const [key, v] of Object.entries(f)) {
      if (!key.startsWith('book_')) continue;
      const sym = key.slice(5);
      const before = p?.feed[key];
      if (v === BOOK_STALE && before !== BOOK_STALE) {
        out.push(this.alarm('book-stale', 'warning', `${sym} book is stale`, { symbol: sym, from: before === undefined ? 'unknown' : bookName(before) }, nowMs));
      }
      if (v === BOOK_LIVE) {
        this.notLive.delete(sym);
        continue;
      }
      const track = this.notLive.get(sym) ?? { sinceMs: nowMs, alarmed: false };
      this.notLive.set(sym, track);
      if (!track.alarmed && nowMs - track.sinceMs >= this.bookStuckMs) {
        track.alarmed = true;
        out.push(this.alarm('book-out-of-sync', 'warning', `${sym} book not live for ${Math.round((nowMs - track.sinceMs) / 1000)} s (state ${bookName(v)})`, { symbol: sym, state: bookName(v), sinceMs: track.sinceMs }, nowMs));
      }
    }
  }

  private alarm(kind: AlarmKind, severity: AlarmSeverity, message: string, details: Record<string, unknown>, nowMs: number): Alarm {
    return { kind, severity, message, at: new Date(nowMs).toISOString(), details };
  }
}

function stateName(v: number): string {
  return TRADING_STATE[v] ?? `UNKNOWN(${v})`;
}

function bookName(v: number): string {
  return BOOK_STATE_NAMES[v] ?? `state ${v}`;
}

/**
 * Samples `getReport` every `intervalMs` into the watcher (the Supervisor's hook); the timer does not keep
 * the process alive. Returns the stop function.
 */
export function watchCounters(watcher: AlarmWatcher, getReport: () => WorkerCountersReport | undefined, intervalMs = 1000): () => void {
  const timer = setInterval(() => {
    const r = getReport();
    if (r) watcher.observe(r);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
