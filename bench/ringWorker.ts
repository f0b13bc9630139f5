// Worker for bench/ringThroughput.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { SpscRing, type RingDescriptor } from '../src/ring/SpscRing.js';
import { WaitStrategy } from '../src/ring/WaitStrategy.js';

const { role, ring: desc, records, wait } = workerData as { role: 'producer' | 'consumer'; ring: RingDescriptor; records: number; wait: 'spin' | 'spin-then-park' };
const ring = SpscRing.attach(desc);
const f64 = ring.f64;
if (role === 'producer') {
  let seq = 0;
  const t0 = performance.now();
  while (seq < records) {
    for (let k = 0; k < 64 && seq < records; k++) {
      const b = ring.claim();
      if (b < 0) break;
      f64[b + 3] = seq++;
    }
    ring.commit();
  }
  parentPort!.postMessage({ ms: performance.now() - t0, errors: 0 });
} else {
  const ws = new WaitStrategy(wait, ring.doorbell, { spinBudgetUs: 50 });
  const probe = { hasWork: () => ring.hasData() };
  let expected = 0;
  let errors = 0;
  let t0 = 0;
  while (expected < records) {
    const n = ring.poll(1024);
    if (n === 0) {
      ws.idle(probe);
      continue;
    }
    if (expected === 0) t0 = performance.now();
    for (let i = 0; i < n; i++) if (f64[ring.readBase(i) + 3] !== expected++) errors++;
    ring.release(n);
    ws.busy();
  }
  parentPort!.postMessage({ ms: performance.now() - t0, errors });
}
