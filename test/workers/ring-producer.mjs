// Test worker: publishes `count` records into an SpscRing; each record carries its sequence number and
// payload words derived from it, so the consumer can check order and integrity.
import { workerData, parentPort } from 'node:worker_threads';
import { SpscRing } from '../../dist/src/ring/SpscRing.js';

const { ring: desc, count, batch } = workerData;
const ring = SpscRing.attach(desc);
const f64 = ring.f64;
let fullSpins = 0;
let sum = 0;
let seq = 0;
while (seq < count) {
  let inBatch = 0;
  while (inBatch < batch && seq < count) {
    const base = ring.claim();
    if (base < 0) { fullSpins++; break; }
    f64[base + 3] = seq;
    f64[base + 4] = (seq * 2654435761) % 4294967296;
    f64[base + 5] = seq * 0.5 + 1;
    f64[base + 15] = -seq;
    sum += seq;
    seq++;
    inBatch++;
  }
  ring.commit();
}
parentPort.postMessage({ published: count, fullSpins, sum });
