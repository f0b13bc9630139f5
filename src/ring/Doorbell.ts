/**
 * The wake-up word of one consuming thread. Producers ring it after a commit; a consumer that has run
 * out of work sets SLEEPING, re-checks its rings, and only then waits on SEQ. A producer pays for
 * `Atomics.notify` only when the flag says someone sleeps.
 *
 * No lost wake-up: the producer stores its ring counter and then loads SLEEPING; the consumer stores
 * SLEEPING and then loads the ring counters. With sequentially consistent Atomics at least one of the
 * two sees the other's store: either the producer bumps SEQ and notifies, or the consumer finds the new
 * records and does not wait. `Atomics.wait(SEQ, seen)` returns at once if SEQ moved in between.
 *
 * One consumer thread may own one doorbell shared by several rings (the strategy worker reads rings A
 * and C and sleeps on one word).
 */
const I_SEQ = 0;
const I_SLEEPING = 32; // own 128-byte block: written by the consumer, read by producers
const BYTES = 256;

export class Doorbell {
  readonly sab: SharedArrayBuffer;
  private readonly w: Int32Array;

  static create(): Doorbell {
    return new Doorbell(new SharedArrayBuffer(BYTES));
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.w = new Int32Array(sab);
  }

  /** Producer side: wake the consumer if it sleeps. */
  ring(): void {
    if (Atomics.load(this.w, I_SLEEPING) !== 0) {
      Atomics.add(this.w, I_SEQ, 1);
      Atomics.notify(this.w, I_SEQ);
    }
  }

  /** Unconditional wake (shutdown, control messages). */
  wake(): void {
    Atomics.add(this.w, I_SEQ, 1);
    Atomics.notify(this.w, I_SEQ);
  }

  // consumer side -------------------------------------------------------------------------------

  /** Current SEQ; read it before announcing sleep. */
  seq(): number {
    return Atomics.load(this.w, I_SEQ);
  }

  announceSleep(): void {
    Atomics.store(this.w, I_SLEEPING, 1);
  }

  clearSleep(): void {
    Atomics.store(this.w, I_SLEEPING, 0);
  }

  /** Blocks until SEQ != seen or the timeout passes (worker threads only; main cannot block). */
  wait(seen: number, timeoutMs: number): 'ok' | 'not-equal' | 'timed-out' {
    return Atomics.wait(this.w, I_SEQ, seen, timeoutMs);
  }

  /** Non-blocking wait for event-loop threads: resolves when SEQ != seen or after the timeout. */
  waitAsync(seen: number, timeoutMs: number): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> } {
    return Atomics.waitAsync(this.w, I_SEQ, seen, timeoutMs);
  }
}
