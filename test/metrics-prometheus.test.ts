import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlServer } from '../src/control/ControlServer.js';
import { FakeControlTarget, TICK_TO_ORDER_SAMPLES } from './helpers/fakeControlTarget.js';

/**
 * A real Prometheus (Debian's package) scrapes the ControlServer's /metrics (the real EngineMetrics exporter over
 * the fake target's counters and a known tickToOrder histogram): the exposition must parse, and the series must
 * read back through Prometheus's query API with the target's values, following changes.
 */
const PROMETHEUS = '/usr/bin/prometheus';
const HAVE_PROMETHEUS = existsSync(PROMETHEUS);
const SKIP_MESSAGE = `${PROMETHEUS} not found: skipping the Prometheus scrape test (install Debian's prometheus: apt-get install -y prometheus)`;
if (!HAVE_PROMETHEUS) console.warn(SKIP_MESSAGE);

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no free port');
  return addr.port;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, limitMs: number, detail: () => string = () => ''): Promise<T> {
  const end = Date.now() + limitMs;
  let lastErr = '';
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

describe.skipIf(!HAVE_PROMETHEUS)(`Prometheus scrapes /metrics${HAVE_PROMETHEUS ? '' : ` (skipped: ${SKIP_MESSAGE})`}`, () => {
  let fake: FakeControlTarget;
  let server: ControlServer;
  let prom: ChildProcess | undefined;
  let promExit: Promise<void> = Promise.resolve();
  let promLog = '';
  let dir = '';
  let promUrl = '';

  /** The instant vector for `query`, once it has at least one sample. */
  async function query(q: string): Promise<VectorSample[] | undefined> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: VectorSample[] } };
    if (body.status !== 'success') throw new Error(`query ${q}: ${body.error ?? res.status}`);
    const r = body.data?.result ?? [];
    return r.length > 0 ? r : undefined;
  }

  /** Waits until `q` evaluates to `want` (Prometheus sees a scrape that happened after the change). */
  async function valueBecomes(q: string, want: number): Promise<number> {
    return until(
      `${q} == ${want}`,
      async () => {
        const r = await query(q);
        const v = r ? Number(r[0]!.value[1]) : undefined;
        return v === want ? v : undefined;
      },
      30_000,
      () => `prometheus log:\n${promLog.slice(-2000)}`,
    );
  }

  beforeAll(async () => {
    fake = new FakeControlTarget();
    server = new ControlServer(fake, { host: '127.0.0.1', port: 0, token: 'prometheus-test-token' });
    await server.start();
    dir = mkdtempSync(join(tmpdir(), 'hft-prometheus-'));
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: hft',
        '    metrics_path: /metrics',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${server.port}']`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const child = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prom = child;
    child.stdout.on('data', (b: Buffer) => (promLog += b.toString()));
    child.stderr.on('data', (b: Buffer) => (promLog += b.toString()));
    promExit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await until(
      'Prometheus ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${promLog.slice(-2000)}`);
        const r = await fetch(`${promUrl}/-/ready`);
        return r.status === 200 ? true : undefined;
      },
      30_000,
      () => promLog.slice(-2000),
    );
  });

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      prom.kill('SIGTERM');
      const killer = setTimeout(() => prom?.kill('SIGKILL'), 10_000);
      await promExit;
      clearTimeout(killer);
    }
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads the scraped counter, gauges and histogram back through the query API', async () => {
    // the scrape target is up (the exposition parsed)
    expect(await valueBecomes('up{job="hft"}', 1)).toBe(1);
    const sent = await until('orders sent', () => query('hft_worker_events_total{worker="execution",counter="sent"}'), 30_000, () => promLog.slice(-2000));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.metric).toMatchObject({ __name__: 'hft_worker_events_total', job: 'hft', instance: `127.0.0.1:${server.port}`, worker: 'execution', counter: 'sent' });
    expect(Number(sent[0]!.value[1])).toBe(42);
    expect(await valueBecomes('hft_ring_depth{ring="A"}', 7)).toBe(7);
    expect(await valueBecomes('hft_trading_state', 0)).toBe(0);

    const total = TICK_TO_ORDER_SAMPLES.reduce((a, [, n]) => a + n, 0);
    expect(await valueBecomes('hft_stage_latency_seconds_count{stage="tickToOrder"}', total)).toBe(100);
    // cumulative buckets: 40 samples at or below 25 µs, 90 at or below 50 µs
    expect(await valueBecomes('hft_stage_latency_seconds_bucket{stage="tickToOrder",le="0.000025"}', 40)).toBe(40);
    expect(await valueBecomes('hft_stage_latency_seconds_bucket{stage="tickToOrder",le="0.00005"}', 90)).toBe(90);
    // the median: the 50th of 100 lies 10/50 of the way through the (25 µs, 50 µs] bucket
    const q = await until('histogram_quantile', () => query('histogram_quantile(0.5, hft_stage_latency_seconds_bucket{stage="tickToOrder"})'), 30_000);
    expect(Number(q[0]!.value[1])).toBeCloseTo(3e-5, 10);
    expect(fake.metricsCalls).toBeGreaterThan(0);
  });

  it('follows the target: a new counter value and a halt show up in later scrapes', async () => {
    fake.ordersSent = 57;
    expect(await valueBecomes('hft_worker_events_total{worker="execution",counter="sent"}', 57)).toBe(57);
    await fake.trading('halt', 'prometheus test');
    expect(await valueBecomes('hft_trading_state', 2)).toBe(2); // 0 ACTIVE, 1 REDUCE_ONLY, 2 HALTED
  });
});
