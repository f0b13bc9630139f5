import { ExecType, OrderStatus, RejectReason } from '../ring/layout.js';
import type { ExecReportSink } from './OrderTransport.js';

/** Options every venue's resolver takes. */
export interface ResolverCoreOptions {
  /** where the follow-up reports go (ring C, behind whatever was written before) */
  sink: ExecReportSink;
  /** ns since the process epoch */
  now: () => number;
  /** First retry delay after a failed query; doubles up to 10 s. Default 500 ms. */
  retryMs?: number;
  onEvent?: (level: 'info' | 'warn', msg: string) => void;
}

/** Counters every venue's resolver keeps. */
export interface ResolverCoreCounters {
  unknownSeen: number;
  unknownResolved: number;
  resolvedNeverArrived: number;
  resolveErrors: number;
  resolvePending: number;
  resolveAbandoned: number;
}

/** What the core needs of an Unknown order. */
export interface ResolverCoreEntry {
  symbolId: number;
  intentId: number;
  side: number;
  recvTs: number;
  sentTs: number;
  settled: boolean;
}

/** Longest retry delay after failed queries (ms). */
const MAX_RETRY_MS = 10_000;

/** The next retry delay after `delay` (doubling, capped). */
export function nextRetryMs(delay: number): number {
  return Math.min(delay * 2, MAX_RETRY_MS);
}

/**
 * Venue-neutral bookkeeping of the Unknown-order resolvers (UnknownResolver, GateUnknownResolver): one
 * pending resolution per intent, interruptible sleeps, backoff, idle/stop, and the shared reports. How an
 * order is looked up and when "not found" becomes final is each venue's `run`.
 */
export abstract class ResolverCore<O extends ResolverCoreOptions, E extends ResolverCoreEntry, C extends ResolverCoreCounters> {
  abstract readonly counters: C;
  protected readonly pending = new Map<number, E>();
  private readonly running = new Set<Promise<void>>();
  private readonly wakers = new Set<() => void>();
  protected stopped = false;

  constructor(protected readonly opts: O) {}

  get size(): number {
    return this.pending.size;
  }

  /** Resolves one entry until it is settled, reported or stopped; must end with `finish(e)`. */
  protected abstract run(e: E): Promise<void>;

  /** Starts resolving `e` (the caller checked it is new). */
  protected start(e: E): void {
    this.pending.set(e.intentId, e);
    this.counters.unknownSeen++;
    this.counters.resolvePending = this.pending.size;
    const p = this.run(e).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** `e` is done; called from `run`'s finally, so a settle() right after the report finds nothing pending. */
  protected finish(e: E): void {
    this.pending.delete(e.intentId);
    this.counters.resolvePending = this.pending.size;
  }

  /** First retry delay. */
  protected get firstRetryMs(): number {
    return this.opts.retryMs ?? 500;
  }

  /** A query failed: counted and logged; the caller sleeps `delay` and retries. */
  protected failed(name: string, why: string, delay: number): void {
    this.counters.resolveErrors++;
    this.opts.onEvent?.('warn', `order ${name}: outcome still unknown, query failed (${why}); retrying in ${delay} ms`);
  }

  /** The venue does not know the order once "not found" is final: Rejected, "never arrived". */
  protected writeNeverArrived(e: E, name: string, code: number, message: string): void {
    this.counters.unknownResolved++;
    this.counters.resolvedNeverArrived++;
    this.opts.sink.execReport(e.symbolId, e.intentId, e.side, e.recvTs, e.sentTs, this.opts.now(), OrderStatus.Rejected, ExecType.Reject, 0, 0, 0, 0, 0, code, 0, RejectReason.Transport, message);
    this.opts.onEvent?.('info', `order ${name}: outcome resolved: it never reached the venue`);
  }

  protected sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(t);
        this.wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  /** Waits (at most `timeoutMs`) for the resolutions in progress; true when none is left. */
  async idle(timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.running.size > 0 && Date.now() < end) {
      await Promise.race([Promise.all([...this.running]), new Promise((r) => setTimeout(r, Math.max(1, end - Date.now())))]);
    }
    return this.running.size === 0;
  }

  /** Gives up on what is still pending (counted); queries already sent are left to finish unseen. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.counters.resolveAbandoned += this.pending.size;
    for (const w of [...this.wakers]) w();
  }
}
