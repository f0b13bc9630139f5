import { measureRingThroughput } from './dist/bench/ringThroughput.js';
for (let i = 0; i < 2; i++) {
  const r = await measureRingThroughput(20_000_000);
  console.log((r.recordsPerSec/1e6).toFixed(1), 'M/s', r.errors);
}
