/**
 * Ring throughput between two worker threads: one producer publishing in batches, one spinning consumer
 * draining in batches, records of 128 bytes with a sequence number checked on the way. Reports records/s.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { SpscRing } from '../src/ring/SpscRing.js';

export interface RingThroughput {
  records: number;
  seconds: number;
  recordsPerSec: number;
  errors: number;
}

export async function measureRingThroughput(records = 20_000_000, wait: 'spin' | 'spin-then-park' = 'spin'): Promise<RingThroughput> {
  const ring = SpscRing.create('bench', 1 << 14, 128);
  const file = fileURLToPath(new URL('./ringWorker.js', import.meta.url));
  const run = (role: 'producer' | 'consumer'): Promise<{ ms: number; errors: number }> =>
    new Promise((resolve, reject) => {
      const w = new Worker(file, { workerData: { role, ring: ring.descriptor(), records, wait } });
      w.once('message', resolve);
      w.once('error', reject);
    });
  const consumer = run('consumer');
  const producer = run('producer');
  const [c] = await Promise.all([consumer, producer]);
  return { records, seconds: c.ms / 1000, recordsPerSec: records / (c.ms / 1000), errors: c.errors };
}
