import { performance } from 'node:perf_hooks';

/**
 * Venue clock estimate for SIGNED requests (protocols.md §1.5: the venue accepts a timestamp iff
 * timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow, else -1021).
 *
 * A sync takes several `/fapi/v1/time` samples one after another and keeps the one with the smallest
 * round trip: offset = serverTime - (t0 + t1) / 2, and the venue read its clock somewhere inside
 * [t0, t1], so the error is at most rtt / 2 (plus the venue's 1 ms resolution).
 */

export interface TimeSyncOptions {
  /** Returns the venue's `serverTime` (ms); may throw or reject. */
  fetchServerTime: () => Promise<number>;
  /**
   * Local clock in ms. Default: performance.timeOrigin + performance.now() (monotonic, sub-ms), so an
   * NTP step of the wall clock between syncs cannot move the venue estimate.
   */
  now?: () => number;
  /** Samples per sync. Default 5. */
  samples?: number;
  /** Periodic resync once start() was called. Default 60 s. */
  resyncIntervalMs?: number;
  /** onInvalidTimestamp() does not resync again within this long after a sync. Default 1000 ms. */
  minResyncGapMs?: number;
  onSync?: (r: TimeSyncResult) => void;
  onError?: (err: Error) => void;
}

export interface TimeSyncResult {
  ok: boolean;
  /** venue ms - local ms */
  offsetMs: number;
  /** half the round trip of the best sample */
  uncertaintyMs: number;
  rttMs: number;
  /** samples that returned a time */
  samples: number;
  error?: string;
}

export class TimeSync {
  /** venue ms - local ms (0 until the first successful sync) */
  offsetMs = 0;
  uncertaintyMs = Number.POSITIVE_INFINITY;
  rttMs = Number.POSITIVE_INFINITY;
  synced = false;
  /** local ms at the end of the last successful sync (0 = never) */
  lastSyncAt = 0;
  readonly counters = { syncs: 0, failures: 0, samples: 0, sampleErrors: 0, clockRejects: 0, triggeredResyncs: 0 };

  private readonly fetch: () => Promise<number>;
  readonly now: () => number;
  private readonly samples: number;
  private readonly intervalMs: number;
  private readonly minGapMs: number;
  private inFlight: Promise<TimeSyncResult> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;

  constructor(private readonly opts: TimeSyncOptions) {
    this.fetch = opts.fetchServerTime;
    const origin = performance.timeOrigin;
    this.now = opts.now ?? (() => origin + performance.now());
    this.samples = Math.max(1, opts.samples ?? 5);
    this.intervalMs = opts.resyncIntervalMs ?? 60_000;
    this.minGapMs = opts.minResyncGapMs ?? 1000;
  }

  /** Estimated venue time, ms (fractional). */
  serverNow(): number {
    return this.now() + this.offsetMs;
  }

  /** The `timestamp` parameter of a SIGNED request: whole venue ms. */
  timestamp(): number {
    return Math.floor(this.now() + this.offsetMs);
  }

  /** Runs one sync, or joins the one in progress. Never rejects. */
  sync(): Promise<TimeSyncResult> {
    if (this.inFlight) return this.inFlight;
    const p = this.runSync().finally(() => {
      this.inFlight = null;
    });
    this.inFlight = p;
    return p;
  }

  /**
   * The venue answered -1021 (or -5028): resync now unless a sync finished within minResyncGapMs (a
   * burst of rejects from orders sent with the same stale offset then costs one sync, not one each).
   */
  onInvalidTimestamp(): Promise<TimeSyncResult> {
    this.counters.clockRejects++;
    if (this.inFlight) return this.inFlight;
    if (this.synced && this.now() - this.lastSyncAt < this.minGapMs) return Promise.resolve(this.current(true));
    this.counters.triggeredResyncs++;
    return this.sync();
  }

  /**
   * Starts periodic resyncs; idempotent. The first sync runs at once unless one already succeeded (then
   * the next comes one interval later).
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.synced) this.arm();
    else void this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async tick(): Promise<void> {
    await this.sync();
    if (this.running) this.arm();
  }

  private arm(): void {
    // stop() + start() during a sync leaves two loops; keep one timer.
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), this.intervalMs);
    // A clock resync must not keep the process alive on its own.
    this.timer.unref?.();
  }

  private current(ok: boolean, samples = 0, error?: string): TimeSyncResult {
    const r: TimeSyncResult = { ok, offsetMs: this.offsetMs, uncertaintyMs: this.uncertaintyMs, rttMs: this.rttMs, samples };
    if (error !== undefined) r.error = error;
    return r;
  }

  private async runSync(): Promise<TimeSyncResult> {
    let bestRtt = Number.POSITIVE_INFINITY;
    let bestOffset = 0;
    let got = 0;
    let lastErr = '';
    // Sequential on purpose: concurrent samples would queue behind each other and inflate the round trips.
    for (let i = 0; i < this.samples; i++) {
      const t0 = this.now();
      let server: number;
      try {
        server = await this.fetch();
      } catch (e) {
        this.counters.sampleErrors++;
        lastErr = e instanceof Error ? e.message : String(e);
        continue;
      }
      const t1 = this.now();
      if (!Number.isFinite(server) || server <= 0) {
        this.counters.sampleErrors++;
        lastErr = `bad serverTime ${String(server)}`;
        continue;
      }
      got++;
      this.counters.samples++;
      const rtt = t1 - t0;
      if (rtt < bestRtt) {
        bestRtt = rtt;
        bestOffset = server - (t0 + t1) / 2;
      }
    }
    if (got === 0) {
      this.counters.failures++;
      const err = new Error(`time sync failed: ${lastErr}`);
      this.opts.onError?.(err);
      return this.current(false, 0, err.message);
    }
    this.offsetMs = bestOffset;
    this.rttMs = bestRtt;
    this.uncertaintyMs = bestRtt / 2;
    this.synced = true;
    this.lastSyncAt = this.now();
    this.counters.syncs++;
    const r = this.current(true, got);
    this.opts.onSync?.(r);
    return r;
  }
}
