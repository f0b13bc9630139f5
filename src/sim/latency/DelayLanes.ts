/**
 * Per-connection FIFO delay queues ("lanes") on one timer. A task pushed on a lane runs at its due time or
 * later, and never before a task pushed on the same lane earlier: a frame delayed by 5 ms holds a later
 * frame drawn 1 ms. A lane can also be held (a stall): nothing on it runs before the hold ends.
 *
 * Times are ms on the scheduler's clock (performance.now by default: monotonic, sub-ms). Node timers have
 * 1 ms granularity, so the last fraction of a millisecond is waited out on setImmediate turns.
 */
export class Lane {
  /** due times and tasks, FIFO from `head` */
  readonly due: number[] = [];
  readonly run: Array<(() => void) | undefined> = [];
  head = 0;
  /** due time of the last task pushed (later tasks are due no earlier) */
  lastDue = Number.NEGATIVE_INFINITY;
  /** nothing runs before this (stall) */
  holdUntil = 0;

  get size(): number {
    return this.run.length - this.head;
  }
}

export class LaneScheduler {
  private readonly active = new Set<Lane>();
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private closed = false;
  /** tasks that threw (each reported to onError; the others still run) */
  errors = 0;

  constructor(
    readonly now: () => number = () => performance.now(),
    private readonly onError: (e: unknown) => void = () => undefined,
  ) {}

  /** Queues `fn` on the lane, due at `due` ms (scheduler clock), after what the lane already holds. */
  push(lane: Lane, due: number, fn: () => void): void {
    if (this.closed) return;
    const d = due > lane.lastDue ? due : lane.lastDue;
    lane.lastDue = d;
    lane.due.push(d);
    lane.run.push(fn);
    if (!this.active.has(lane)) this.active.add(lane);
    this.arm();
  }

  /** Runs `fn` now when the lane is idle and not held, else queues it behind the lane's tasks. */
  runOrQueue(lane: Lane, fn: () => void): void {
    const t = this.now();
    if (lane.size === 0 && t >= lane.holdUntil) {
      fn();
      return;
    }
    this.push(lane, t, fn);
  }

  /** Holds the lane: nothing queued on it runs before `until`. */
  hold(lane: Lane, until: number): void {
    if (until > lane.holdUntil) lane.holdUntil = until;
    if (lane.size > 0) this.arm();
  }

  /** Drops what the lane holds (its connection is gone). */
  clear(lane: Lane): void {
    lane.due.length = 0;
    lane.run.length = 0;
    lane.head = 0;
    this.active.delete(lane);
  }

  /** Some lane has tasks waiting. */
  get busy(): boolean {
    return this.active.size > 0;
  }

  /** Tasks waiting on every lane. */
  get queued(): number {
    let n = 0;
    for (const l of this.active) n += l.size;
    return n;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    for (const l of this.active) {
      l.due.length = 0;
      l.run.length = 0;
      l.head = 0;
    }
    this.active.clear();
  }

  /** Earliest time a task can run, over all lanes. */
  private nextDue(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const l of this.active) {
      if (l.size === 0) continue;
      const d = l.due[l.head]!;
      const at = d > l.holdUntil ? d : l.holdUntil;
      if (at < next) next = at;
    }
    return next;
  }

  private arm(): void {
    if (this.closed || this.immediate !== null) return;
    const next = this.nextDue();
    if (next === Number.POSITIVE_INFINITY) return;
    const wait = next - this.now();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (wait < 1) this.immediate = setImmediate(this.fire);
    else this.timer = setTimeout(this.fire, Math.floor(wait));
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.immediate = null;
    if (this.closed) return;
    const t = this.now();
    for (const l of this.active) {
      if (t < l.holdUntil) continue;
      while (l.head < l.run.length && l.due[l.head]! <= t) {
        const fn = l.run[l.head]!;
        l.run[l.head] = undefined;
        l.head++;
        try {
          fn();
        } catch (e) {
          // one failed task must not stop the lanes (nor, from a timer, the process)
          this.errors++;
          this.onError(e);
        }
      }
      if (l.head >= l.run.length) {
        l.due.length = 0;
        l.run.length = 0;
        l.head = 0;
        this.active.delete(l);
      } else if (l.head > 1024) {
        // keep the arrays from growing without bound on a lane that never empties
        l.due.splice(0, l.head);
        l.run.splice(0, l.head);
        l.head = 0;
      }
    }
    this.arm();
  };
}
