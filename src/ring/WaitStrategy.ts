import { performance } from 'node:perf_hooks';
import type { Doorbell } from './Doorbell.js';

/**
 * What a consumer does when its rings are empty (the Disruptor's wait strategies):
 *  - `spin`: return at once and poll again (lowest latency, burns a core).
 *  - `spin-then-park`: poll for a budget (about the expected gap between messages), then park on the
 *    doorbell with Atomics.wait; producers notify only when the sleeping flag is set.
 *  - `park`: park as soon as there is nothing to do.
 * Event-loop threads (execution worker, main) use `AsyncRingConsumer` instead: Atomics.waitAsync keeps
 * their sockets and timers alive.
 *
 * Never run more spinning consumers than cores (design.md §6).
 */
export type WaitStrategyKind = 'spin' | 'spin-then-park' | 'park';
export const WAIT_STRATEGIES: readonly WaitStrategyKind[] = ['spin', 'spin-then-park', 'park'];

/** Re-checks the consumer's rings after the sleeping flag is set (allocation-free: an object, not a closure). */
export interface WorkProbe {
  hasWork(): boolean;
}

export interface WaitStrategyOptions {
  /** spin-then-park: how long to spin before parking, in microseconds. */
  spinBudgetUs?: number;
  /** Upper bound of one park; the loop then runs its housekeeping (stats, control messages). */
  parkTimeoutMs?: number;
}

export class WaitStrategy {
  readonly kind: WaitStrategyKind;
  /** times the consumer parked */
  parks = 0;
  /** parks that ended by timeout rather than by a producer */
  parkTimeouts = 0;
  private idleSpins = 0;
  private spinLimit: number;
  private readonly parkTimeoutMs: number;

  constructor(kind: WaitStrategyKind, private readonly doorbell: Doorbell, opts: WaitStrategyOptions = {}) {
    if (!WAIT_STRATEGIES.includes(kind)) {
      throw new Error(`wait strategy must be one of ${WAIT_STRATEGIES.join(', ')}; got ${String(kind)}`);
    }
    this.kind = kind;
    this.parkTimeoutMs = opts.parkTimeoutMs ?? 100;
    this.budgetUs = opts.spinBudgetUs ?? 50;
    // spin-then-park: the iteration budget is calibrated on the consumer's own probe at the first idle call
    this.spinLimit = kind === 'spin-then-park' ? -1 : 0;
  }

  private readonly budgetUs: number;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));

  /**
   * Gives the core away for about `us` microseconds (a timed futex wait nobody notifies). Used after
   * handing work to another thread on a box with no spare core, so that thread can run at once.
   */
  sleep(us: number): void {
    if (us > 0) Atomics.wait(this.sleeper, 0, 0, us / 1000);
  }

  /** The consumer found work: reset the spin budget. */
  busy(): void {
    this.idleSpins = 0;
  }

  /** The consumer found nothing. Spins (returns at once) or parks until woken or timed out. */
  idle(probe: WorkProbe): void {
    if (this.kind === 'spin') return;
    if (this.kind === 'spin-then-park') {
      if (this.spinLimit < 0) this.spinLimit = calibrateSpins(probe, this.budgetUs);
      if (++this.idleSpins < this.spinLimit) return;
    }
    this.idleSpins = 0;
    const bell = this.doorbell;
    const seen = bell.seq();
    bell.announceSleep();
    if (!probe.hasWork()) {
      this.parks++;
      if (bell.wait(seen, this.parkTimeoutMs) === 'timed-out') this.parkTimeouts++;
    }
    bell.clearSleep();
  }
}

/** How many idle iterations (probe calls) fit in the spin budget, measured on the probe itself. */
function calibrateSpins(probe: WorkProbe, budgetUs: number): number {
  if (budgetUs <= 0) return 1;
  const n = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) probe.hasWork();
  const us = (performance.now() - t0) * 1000;
  const perUs = us > 0 ? n / us : 100;
  return Math.max(1, Math.round(budgetUs * perUs));
}

/**
 * Consumer for event-loop threads: drains with `drain()` (returns how many records it handled), and when
 * there is nothing, parks on the doorbell with Atomics.waitAsync so the thread's sockets and timers keep
 * running. Parking allocates one promise; that is the price of staying on the event loop.
 */
export interface Drainable extends WorkProbe {
  drain(): number;
}

export class AsyncRingConsumer {
  parks = 0;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(
    private readonly doorbell: Doorbell,
    private readonly target: Drainable,
    private readonly parkTimeoutMs = 100,
    /** called after each park ends (timers, housekeeping) */
    private readonly onWake?: () => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Stops the loop after its current wait; resolves when it has exited. */
  async stop(): Promise<void> {
    this.running = false;
    this.doorbell.wake();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    const bell = this.doorbell;
    while (this.running) {
      this.target.drain();
      const seen = bell.seq();
      bell.announceSleep();
      if (this.target.hasWork()) {
        // More records already: let the I/O callbacks queued meanwhile run, then drain again.
        bell.clearSleep();
        await yieldToEventLoop();
        continue;
      }
      this.parks++;
      const r = bell.waitAsync(seen, this.parkTimeoutMs);
      if (r.async) await r.value;
      else await yieldToEventLoop();
      bell.clearSleep();
      if (this.onWake) this.onWake();
    }
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
