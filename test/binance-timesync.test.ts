import { afterEach, describe, expect, it, vi } from 'vitest';
import { request } from 'undici';
import { TimeSync } from '../src/venues/binance/TimeSync.js';
import { startBinanceVenue, type BinanceVenueHandle } from '../src/sim/binance/BinanceVenue.js';
import { Rng } from '../src/sim/rng.js';

/** A local clock that only moves when the fake network says so. */
class FakeClock {
  t = 1_700_000_000_000;
  readonly now = (): number => this.t;
}

/**
 * A fake `/fapi/v1/time`: each call spends `up` ms before the venue reads its clock (local + offset) and
 * `down` ms after, taken from `legs` in turn; `fail` marks calls that throw instead.
 */
function fakeVenue(clock: FakeClock, offset: number, legs: Array<[up: number, down: number]>, fail: number[] = []) {
  let i = 0;
  const calls = { n: 0 };
  const fetch = async (): Promise<number> => {
    const k = i++;
    calls.n++;
    const [up, down] = legs[k % legs.length]!;
    clock.t += up;
    const server = Math.floor(clock.t + offset);
    clock.t += down;
    await Promise.resolve();
    if (fail.includes(k)) throw new Error(`sample ${k} lost`);
    return server;
  };
  return { fetch, calls };
}

describe('TimeSync with a fake clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps the sample with the smallest round trip: offset = serverTime - (t0 + t1) / 2', async () => {
    const clock = new FakeClock();
    const v = fakeVenue(clock, 2500, [
      [50, 5],
      [3, 3],
      [20, 80],
      [10, 10],
      [1, 40],
    ]);
    const ts = new TimeSync({ fetchServerTime: v.fetch, now: clock.now, samples: 5 });
    const r = await ts.sync();
    expect(v.calls.n).toBe(5);
    expect(r).toMatchObject({ ok: true, samples: 5, rttMs: 6, uncertaintyMs: 3, offsetMs: 2500 });
    expect(ts.synced).toBe(true);
    expect(ts.timestamp()).toBe(clock.t + 2500);
    clock.t += 0.7;
    expect(ts.timestamp()).toBe(Math.floor(clock.t + 2500));
    expect(ts.serverNow()).toBeCloseTo(clock.t + 2500, 9);
  });

  it('the estimate is within the stated uncertainty (+1 ms venue resolution) for asymmetric paths', async () => {
    const rng = new Rng(7);
    for (let run = 0; run < 200; run++) {
      const clock = new FakeClock();
      const offset = rng.int(20_000) - 10_000 + rng.int(1000) / 1000;
      const legs: Array<[number, number]> = [];
      for (let i = 0; i < 4; i++) legs.push([rng.int(40) + rng.int(1000) / 1000, rng.int(40) + rng.int(1000) / 1000]);
      const v = fakeVenue(clock, offset, legs);
      const ts = new TimeSync({ fetchServerTime: v.fetch, now: clock.now, samples: 4 });
      const r = await ts.sync();
      expect(Math.abs(r.offsetMs - offset)).toBeLessThanOrEqual(r.uncertaintyMs + 1);
      expect(r.rttMs).toBeCloseTo(Math.min(...legs.map(([a, b]) => a + b)), 2);
    }
  });

  it('skips failed samples; a sync with no sample fails and keeps the previous offset', async () => {
    const clock = new FakeClock();
    const errors: string[] = [];
    const v = fakeVenue(clock, -800, [[2, 2]], [0, 2]);
    const ts = new TimeSync({ fetchServerTime: v.fetch, now: clock.now, samples: 3, onError: (e) => errors.push(e.message) });
    const r1 = await ts.sync();
    expect(r1).toMatchObject({ ok: true, samples: 1, offsetMs: -800 });
    expect(ts.counters.sampleErrors).toBe(2);

    const dead = new TimeSync({
      fetchServerTime: () => Promise.reject(new Error('ECONNREFUSED')),
      now: clock.now,
      samples: 2,
      onError: (e) => errors.push(e.message),
    });
    const r2 = await dead.sync();
    expect(r2.ok).toBe(false);
    expect(r2.error).toMatch(/ECONNREFUSED/);
    expect(dead.synced).toBe(false);
    expect(dead.offsetMs).toBe(0);
    expect(dead.counters.failures).toBe(1);
    expect(errors).toEqual(['time sync failed: ECONNREFUSED']);

    // a failed resync keeps the last good estimate
    let broken = false;
    const flaky = new TimeSync({
      fetchServerTime: async () => {
        if (broken) throw new Error('down');
        return clock.t + 1234;
      },
      now: clock.now,
      samples: 2,
    });
    await flaky.sync();
    broken = true;
    expect((await flaky.sync()).ok).toBe(false);
    expect(flaky.offsetMs).toBe(1234);
    expect(flaky.synced).toBe(true);
  });

  it('rejects nonsense server times', async () => {
    const clock = new FakeClock();
    const ts = new TimeSync({ fetchServerTime: async () => Number.NaN, now: clock.now, samples: 2 });
    expect((await ts.sync()).ok).toBe(false);
    expect(ts.counters.sampleErrors).toBe(2);
  });

  it('concurrent syncs share one round of samples', async () => {
    const clock = new FakeClock();
    const v = fakeVenue(clock, 10, [[1, 1]]);
    const ts = new TimeSync({ fetchServerTime: v.fetch, now: clock.now, samples: 3 });
    const [a, b] = await Promise.all([ts.sync(), ts.sync()]);
    expect(a).toBe(b);
    expect(v.calls.n).toBe(3);
  });

  it('-1021 resyncs at once, but a burst of rejects costs one sync, and not again within minResyncGapMs', async () => {
    const clock = new FakeClock();
    const v = fakeVenue(clock, 0, [[1, 1]]);
    let offset = 0;
    const ts = new TimeSync({
      fetchServerTime: async () => {
        const s = await v.fetch();
        return s + offset;
      },
      now: clock.now,
      samples: 2,
      minResyncGapMs: 1000,
    });
    await ts.sync();
    expect(ts.offsetMs).toBe(0);
    // the venue clock jumps 3 s ahead; orders start failing with -1021
    offset = 3000;
    clock.t += 5000;
    const burst = await Promise.all(Array.from({ length: 10 }, () => ts.onInvalidTimestamp()));
    expect(v.calls.n).toBe(4);
    expect(burst.every((r) => r.ok && r.offsetMs === 3000)).toBe(true);
    expect(ts.counters).toMatchObject({ clockRejects: 10, triggeredResyncs: 1, syncs: 2 });
    // right after a sync, another reject does not resync
    clock.t += 500;
    await ts.onInvalidTimestamp();
    expect(v.calls.n).toBe(4);
    clock.t += 600;
    await ts.onInvalidTimestamp();
    expect(v.calls.n).toBe(6);
    // before the first sync there is nothing to protect: it always syncs
    const fresh = new TimeSync({ fetchServerTime: v.fetch, now: clock.now, samples: 1 });
    await fresh.onInvalidTimestamp();
    expect(fresh.synced).toBe(true);
  });

  it('resyncs periodically after start() until stop()', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = new FakeClock();
    const v = fakeVenue(clock, 42, [[1, 1]]);
    const ts = new TimeSync({ fetchServerTime: v.fetch, now: clock.now, samples: 2, resyncIntervalMs: 30_000 });
    ts.start();
    ts.start(); // idempotent
    await vi.advanceTimersByTimeAsync(0);
    expect(ts.counters.syncs).toBe(1);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(ts.counters.syncs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(ts.counters.syncs).toBe(2);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ts.counters.syncs).toBe(4);
    ts.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(ts.counters.syncs).toBe(4);
    expect(v.calls.n).toBe(8);
    // already synced: start() waits one interval before the next sync
    ts.start();
    await vi.advanceTimersByTimeAsync(29_999);
    expect(ts.counters.syncs).toBe(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(ts.counters.syncs).toBe(5);
    ts.stop();
  });
});

describe('TimeSync against the simulator', () => {
  let venue: BinanceVenueHandle | undefined;
  afterEach(async () => {
    await venue?.close();
    venue = undefined;
  });

  it('measures a venue clock 12.345 s ahead over GET /fapi/v1/time', async () => {
    const SKEW = 12_345;
    venue = await startBinanceVenue({ host: '127.0.0.1', port: 0, paused: true, clock: () => Date.now() + SKEW });
    const url = `${venue.restUrl}/fapi/v1/time`;
    const ts = new TimeSync({
      fetchServerTime: async () => {
        const res = await request(url);
        const j = (await res.body.json()) as { serverTime: number };
        return j.serverTime;
      },
      // the simulator's clock is Date.now based; compare like with like
      now: Date.now,
      samples: 5,
    });
    const r = await ts.sync();
    expect(r.ok).toBe(true);
    expect(r.samples).toBe(5);
    expect(r.rttMs).toBeLessThan(200);
    // Date.now has 1 ms resolution on both sides
    expect(Math.abs(r.offsetMs - SKEW)).toBeLessThanOrEqual(r.uncertaintyMs + 2);
    expect(Math.abs(ts.timestamp() - (Date.now() + SKEW))).toBeLessThanOrEqual(r.uncertaintyMs + 3);
  });
});
