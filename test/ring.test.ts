import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { SpscRing } from '../src/ring/SpscRing.js';
import { Doorbell } from '../src/ring/Doorbell.js';
import { WaitStrategy } from '../src/ring/WaitStrategy.js';
import { PROJECT_ROOT } from './helpers/fixtures.js';

function fill(ring: SpscRing, from: number, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const b = ring.claim();
    if (b < 0) break;
    ring.f64[b + 3] = from + i;
    ok++;
  }
  ring.commit();
  return ok;
}

function drain(ring: SpscRing, max = 1 << 30): number[] {
  const n = ring.poll(max);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(ring.f64[ring.readBase(i) + 3]!);
  ring.release(n);
  return out;
}

describe('SpscRing (one thread)', () => {
  it('rejects a bad capacity or slot size with a clear error', () => {
    expect(() => SpscRing.create('x', 3, 64)).toThrow(/power of two/);
    expect(() => SpscRing.create('x', 8, 100)).toThrow(/multiple of 64/);
  });

  it('is empty at start and after draining', () => {
    const r = SpscRing.create('a', 8, 64);
    expect(r.poll()).toBe(0);
    expect(r.hasData()).toBe(false);
    fill(r, 0, 3);
    expect(drain(r)).toEqual([0, 1, 2]);
    expect(r.poll()).toBe(0);
    expect(r.snapshot().depth).toBe(0);
  });

  it('refuses claims when full, counts them, and accepts again after the consumer releases', () => {
    const r = SpscRing.create('a', 8, 64);
    expect(fill(r, 0, 8)).toBe(8);
    expect(r.claim()).toBe(-1);
    expect(r.claim()).toBe(-1);
    expect(r.snapshot()).toMatchObject({ depth: 8, published: 8, fullEvents: 2 });
    expect(drain(r, 3)).toEqual([0, 1, 2]);
    expect(fill(r, 8, 5)).toBe(3);
    // poll() serves the cached producer position first, then re-reads it.
    expect([...drain(r), ...drain(r)]).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('wraps around many times keeping order, including across the int32 counter range', () => {
    const r = SpscRing.create('a', 16, 64);
    let next = 0;
    const seen: number[] = [];
    for (let round = 0; round < 1000; round++) {
      next += fill(r, next, 1 + (round % 16));
      seen.push(...drain(r, 1 + (round % 7)));
    }
    seen.push(...drain(r));
    expect(seen.length).toBe(next);
    for (let i = 0; i < seen.length; i++) expect(seen[i]).toBe(i);
  });

  it('keeps working when the int32 counters wrap past 2^31', () => {
    const r = SpscRing.create('a', 8, 64);
    // Move both counters close to the int32 limit as if ~2^31 records had passed.
    const ctl = new Int32Array(r.descriptor().sab, 0, 128);
    ctl[0] = 0x7ffffffc;
    ctl[32] = 0x7ffffffc;
    const r2 = SpscRing.attach(r.descriptor());
    let next = 0;
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      next += fill(r2, next, 5);
      seen.push(...drain(r2));
    }
    expect(seen).toEqual([...Array(50).keys()]);
    expect(ctl[0]).toBeLessThan(0); // wrapped
  });

  it('batch claims are invisible until commit, and abort discards them', () => {
    const r = SpscRing.create('a', 8, 64);
    const b1 = r.claim();
    const b2 = r.claim();
    r.f64[b1 + 3] = 10;
    r.f64[b2 + 3] = 11;
    expect(r.poll()).toBe(0);
    r.commit();
    expect(drain(r)).toEqual([10, 11]);
    r.claim();
    r.abort();
    expect(r.poll()).toBe(0);
    expect(r.snapshot().published).toBe(2);
  });

  it('attaches from a descriptor and sees the same records', () => {
    const r = SpscRing.create('a', 8, 128);
    fill(r, 100, 2);
    const other = SpscRing.attach(r.descriptor());
    expect(drain(other)).toEqual([100, 101]);
    expect(other.slotWords).toBe(16);
  });

  it('a parked consumer with nothing to do times out; a pending record prevents parking', () => {
    const bell = Doorbell.create();
    const r = SpscRing.create('a', 8, 64, bell);
    const w = new WaitStrategy('park', bell, { parkTimeoutMs: 5 });
    const probe = { hasWork: () => r.hasData() };
    w.idle(probe);
    expect(w.parks).toBe(1);
    expect(w.parkTimeouts).toBe(1);
    fill(r, 0, 1);
    w.idle(probe);
    expect(w.parks).toBe(1);
    expect(() => new WaitStrategy('nap' as never, bell)).toThrow(/spin, spin-then-park, park/);
  });
});

interface ProducerResult { published: number; fullSpins: number; sum: number }
interface ConsumerResult { consumed: number; errors: number; firstError: string; sum: number; ms: number; batches: number; parks: number }

function runWorker<T>(file: string, workerData: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(join(PROJECT_ROOT, 'test/workers', file), { workerData });
    w.once('message', (m: T) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`${file} exited with ${code}`)));
  });
}

describe('SpscRing between two workers', () => {
  const COUNT = 10_000_000;
  for (const strategy of ['spin', 'spin-then-park', 'park', 'async'] as const) {
    it(`passes ${COUNT.toLocaleString('en')} records once, in order, intact with a ${strategy} consumer`, async () => {
      const ring = SpscRing.create(`t-${strategy}`, 1 << 14, 128);
      const consumer = runWorker<ConsumerResult>('ring-consumer.mjs', { ring: ring.descriptor(), count: COUNT, strategy });
      const producer = runWorker<ProducerResult>('ring-producer.mjs', { ring: ring.descriptor(), count: COUNT, batch: 64 });
      const [p, c] = await Promise.all([producer, consumer]);
      expect(c.firstError).toBe('');
      expect(c.errors).toBe(0);
      expect(c.consumed).toBe(COUNT);
      expect(p.published).toBe(COUNT);
      expect(c.sum).toBe(p.sum);
      expect(ring.snapshot()).toMatchObject({ depth: 0, published: COUNT, consumed: COUNT });
      console.log(`ring ${strategy}: ${((COUNT / c.ms) * 1000 / 1e6).toFixed(1)} M records/s, ${c.batches} batches, ${c.parks} parks, producer full ${p.fullSpins}`);
    }, 120_000);
  }
});
