import { performance } from 'node:perf_hooks';

/**
 * One monotonic clock for all threads: float64 nanoseconds since a process epoch captured in the main
 * thread (`process.hrtime.bigint()` at start), exact for >100 days.
 *
 * `performance.now()` is the cheapest monotonic read here (~40 ns), but each thread has its own origin.
 * Each thread therefore calibrates once: offset = (hrtime - epoch) - performance.now(), taking the
 * sample with the tightest bracket so the error stays within a few tens of ns. Reads still box one
 * float (V8 returns a HeapNumber from the runtime call); hot loops read the clock once per batch.
 */
let epochNs: bigint = process.hrtime.bigint();
let offsetMs = calibrate(epochNs);

function calibrate(epoch: bigint): number {
  let best = Infinity;
  let off = 0;
  for (let i = 0; i < 64; i++) {
    const t1 = performance.now();
    const hr = process.hrtime.bigint();
    const t2 = performance.now();
    if (t2 - t1 < best) {
      best = t2 - t1;
      off = Number(hr - epoch) / 1e6 - (t1 + t2) / 2;
    }
  }
  return off;
}

/** Adopt the process epoch of the main thread (call once at worker start, from workerData). */
export function setClockEpoch(epoch: bigint): void {
  epochNs = epoch;
  offsetMs = calibrate(epoch);
}

export function clockEpoch(): bigint {
  return epochNs;
}

/** Nanoseconds since the process epoch, as a float64. */
export function nowNs(): number {
  return (performance.now() + offsetMs) * 1e6;
}
