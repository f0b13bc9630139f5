/**
 * Shared words between the journal worker and its owner: a stop request, and counters the owner reads
 * without messages (the worker blocks in Atomics.wait, so it never sees a postMessage while parked).
 */
const I_STOP = 0;
const I_ALIVE = 1;
const F_BASE = 2; // float64 counters from byte 16
export const enum JournalStat {
  Records = 0,
  Batches = 1,
  Fills = 2,
  LastSeq = 3,
  LostByProducers = 4,
  FailedBatches = 5,
  Parks = 6,
}
const STATS = 8;

export class JournalControl {
  readonly sab: SharedArrayBuffer;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;

  static create(): JournalControl {
    return new JournalControl(new SharedArrayBuffer((F_BASE + STATS) * 8));
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab, 0, F_BASE * 2);
    this.f64 = new Float64Array(sab, F_BASE * 8, STATS);
  }

  requestStop(): void {
    Atomics.store(this.i32, I_STOP, 1);
  }

  stopRequested(): boolean {
    return Atomics.load(this.i32, I_STOP) !== 0;
  }

  setAlive(v: boolean): void {
    Atomics.store(this.i32, I_ALIVE, v ? 1 : 0);
  }

  alive(): boolean {
    return Atomics.load(this.i32, I_ALIVE) !== 0;
  }

  /** Worker side: publish a counter (plain store; the alive/stop atomics order the reads that matter). */
  set(stat: JournalStat, v: number): void {
    this.f64[stat] = v;
  }

  get(stat: JournalStat): number {
    return this.f64[stat]!;
  }
}
