// Test worker: drains an SpscRing with the given wait strategy and checks each record arrives once,
// in order, intact.
import { workerData, parentPort } from 'node:worker_threads';
import { SpscRing } from '../../dist/src/ring/SpscRing.js';
import { WaitStrategy, AsyncRingConsumer } from '../../dist/src/ring/WaitStrategy.js';

const { ring: desc, count, strategy } = workerData;
const ring = SpscRing.attach(desc);
const f64 = ring.f64;
let expected = 0;
let errors = 0;
let firstError = '';
let sum = 0;
let batches = 0;

function drainOnce() {
  const n = ring.poll(4096);
  for (let i = 0; i < n; i++) {
    const b = ring.readBase(i);
    const s = f64[b + 3];
    if (s !== expected || f64[b + 4] !== (s * 2654435761) % 4294967296 || f64[b + 5] !== s * 0.5 + 1 || f64[b + 15] !== -s) {
      if (errors === 0) firstError = `at ${expected}: got seq ${s}`;
      errors++;
    }
    sum += s;
    expected++;
  }
  if (n > 0) batches++;
  ring.release(n);
  return n;
}

const t0 = performance.now();
if (strategy === 'async') {
  const target = { drain: drainOnce, hasWork: () => ring.hasData() };
  const c = new AsyncRingConsumer(ring.doorbell, target, 50);
  c.start();
  await new Promise((resolve) => {
    const check = () => (expected >= count ? resolve() : setTimeout(check, 5));
    check();
  });
  await c.stop();
  parentPort.postMessage({ consumed: expected, errors, firstError, sum, ms: performance.now() - t0, batches, parks: c.parks });
} else {
  const wait = new WaitStrategy(strategy, ring.doorbell, { spinBudgetUs: 20, parkTimeoutMs: 50 });
  const probe = { hasWork: () => ring.hasData() };
  while (expected < count) {
    if (drainOnce() > 0) wait.busy();
    else wait.idle(probe);
  }
  parentPort.postMessage({ consumed: expected, errors, firstError, sum, ms: performance.now() - t0, batches, parks: wait.parks });
}
