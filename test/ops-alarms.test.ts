import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/ConfigError.js';
import { ALARMS_DEFAULTS, AlarmNotifier, AlarmWatcher, validateAlarmsConfig, type Alarm, type AlarmSink, type WorkerCountersReport } from '../src/ops/Alarms.js';

interface Receiver {
  url: string;
  bodies: Alarm[];
  requests: { method: string; contentType: string | undefined }[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

/** A webhook receiver on 127.0.0.1 answering each request with the next status of `statuses` (the last repeats). */
async function receiver(statuses: number[] = [200]): Promise<Receiver> {
  const bodies: Alarm[] = [];
  const requests: Receiver['requests'] = [];
  let i = 0;
  const srv = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', contentType: req.headers['content-type'] });
      const status = statuses[Math.min(i++, statuses.length - 1)]!;
      if (status >= 200 && status < 300) bodies.push(JSON.parse(data) as Alarm);
      res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, bodies, requests, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

const alarm = (kind: Alarm['kind'], message = 'm'): Alarm => ({ kind, severity: 'critical', message, at: '2026-01-01T00:00:00.000Z', details: { a: 1 } });

describe('alarms config', () => {
  it('defaults to off and validates each key', () => {
    expect(validateAlarmsConfig(undefined)).toEqual(ALARMS_DEFAULTS);
    expect(validateAlarmsConfig({ webhookUrl: '' }).webhookUrl).toBe('');
    expect(validateAlarmsConfig({ webhookUrl: 'https://hooks.example/x', retries: 5, bookStuckMs: 10_000 })).toMatchObject({ webhookUrl: 'https://hooks.example/x', retries: 5, bookStuckMs: 10_000, timeoutMs: 5000 });
    expect(() => validateAlarmsConfig({ webhookUrl: 'ftp://x' })).toThrow(ConfigError);
    expect(() => validateAlarmsConfig({ webhookUrl: 'nope' })).toThrow('config: alarms.webhookUrl must be an http(s) URL or "" (off); got "nope"');
    expect(() => validateAlarmsConfig({ retries: -1 })).toThrow(/alarms\.retries must be an integer between 0 and 10; got -1/);
    expect(() => validateAlarmsConfig({ webhook: 'x' })).toThrow(/alarms\.webhook is not a known key/);
    expect(() => validateAlarmsConfig([])).toThrow(/config: alarms must be an object/);
  });
});

describe('AlarmNotifier', () => {
  it('POSTs the alarm as JSON and counts it', async () => {
    const rx = await receiver();
    const n = new AlarmNotifier({ webhookUrl: rx.url });
    expect(await n.notify(alarm('http-418', 'banned'))).toBe(true);
    expect(rx.requests).toEqual([{ method: 'POST', contentType: 'application/json' }]);
    expect(rx.bodies).toEqual([{ kind: 'http-418', severity: 'critical', message: 'banned', at: '2026-01-01T00:00:00.000Z', details: { a: 1 } }]);
    expect(n.counters).toEqual({ sent: 1, failed: 0, suppressed: 0, retries: 0 });
  });

  it('retries 5xx with backoff until delivered', async () => {
    const rx = await receiver([503, 502, 200]);
    const n = new AlarmNotifier({ webhookUrl: rx.url, retries: 3, backoffMs: 5 });
    expect(await n.notify(alarm('kill-switch'))).toBe(true);
    expect(rx.requests).toHaveLength(3);
    expect(rx.bodies).toHaveLength(1);
    expect(n.counters).toEqual({ sent: 1, failed: 0, suppressed: 0, retries: 2 });
  });

  it('gives up after the retries without throwing, and does not retry a 400', async () => {
    const rx = await receiver([500]);
    const errors: string[] = [];
    const n = new AlarmNotifier({ webhookUrl: rx.url, retries: 2, backoffMs: 1, onError: (m) => errors.push(m) });
    expect(await n.notify(alarm('drawdown'))).toBe(false);
    expect(rx.requests).toHaveLength(3);
    expect(n.counters).toMatchObject({ sent: 0, failed: 1, retries: 2 });
    expect(errors).toEqual(['alarm drawdown not delivered: HTTP 500']);

    const bad = await receiver([400]);
    const n2 = new AlarmNotifier({ webhookUrl: bad.url, retries: 3, backoffMs: 1 });
    expect(await n2.notify(alarm('drawdown'))).toBe(false);
    expect(bad.requests).toHaveLength(1);
  });

  it('survives an unreachable webhook', async () => {
    const rx = await receiver();
    const url = rx.url;
    await rx.close();
    servers.length = 0;
    const n = new AlarmNotifier({ webhookUrl: url, retries: 1, backoffMs: 1, timeoutMs: 1000 });
    expect(await n.notify(alarm('venue-disconnect'))).toBe(false);
    expect(n.counters).toMatchObject({ sent: 0, failed: 1, retries: 1 });
  });

  it('rate-limits per kind and reports what it held back', async () => {
    const rx = await receiver();
    let now = 1_000_000;
    const n = new AlarmNotifier({ webhookUrl: rx.url, rateLimitMs: 60_000, now: () => now });
    expect(await n.notify(alarm('venue-disconnect', 'first'))).toBe(true);
    now += 1000;
    expect(await n.notify(alarm('venue-disconnect', 'second'))).toBe(false);
    expect(await n.notify(alarm('venue-disconnect', 'third'))).toBe(false);
    expect(await n.notify(alarm('http-418', 'other kind'))).toBe(true);
    now += 60_000;
    expect(await n.notify(alarm('venue-disconnect', 'fourth'))).toBe(true);
    expect(rx.bodies.map((b) => b.message)).toEqual(['first', 'other kind', 'fourth']);
    expect(rx.bodies[2]!.details).toEqual({ a: 1, suppressed: 2 });
    expect(n.counters).toEqual({ sent: 3, failed: 0, suppressed: 2, retries: 0 });
  });

  it('is off with an empty URL', async () => {
    const n = new AlarmNotifier({ webhookUrl: '' });
    expect(n.enabled).toBe(false);
    expect(await n.notify(alarm('kill-switch'))).toBe(false);
    expect(n.counters.sent + n.counters.failed).toBe(0);
  });
});

/** Counter samples: a quiet, live engine, with `over` applied per worker. */
function sample(over: { feed?: Record<string, number>; strategy?: Record<string, number>; execution?: Record<string, number> } = {}): WorkerCountersReport {
  return {
    workers: {
      feed: { frames: 100, disconnects: 0, reconnects: 0, book_BTCUSDT: 2, book_ETHUSDT: 2, ...over.feed },
      strategy: { tradingState: 0, killSwitches: 0, equity: 100_000, risk_maxDrawdown: 0, risk_dailyLoss: 0, ...over.strategy },
      execution: { banned418: 0, halted: 0, ...over.execution },
    },
  };
}

describe('AlarmWatcher', () => {
  it('raises each alarm once from a counter sequence and delivers it to the webhook', async () => {
    const rx = await receiver();
    const notifier = new AlarmNotifier({ webhookUrl: rx.url, rateLimitMs: 0 });
    const w = new AlarmWatcher(notifier, { bookStuckMs: 5000 });
    const t0 = 1_700_000_000_000;
    const seq: WorkerCountersReport[] = [
      sample(), // baseline
      sample(), // quiet
      sample({ feed: { disconnects: 1, reconnects: 1, book_BTCUSDT: 1 } }), // dropped, resyncing
      sample({ feed: { disconnects: 1, reconnects: 1, book_BTCUSDT: 3 } }), // book stale
      sample({ feed: { disconnects: 1, reconnects: 1, book_BTCUSDT: 3 } }),
      sample({ feed: { disconnects: 1, reconnects: 1, book_BTCUSDT: 3 }, execution: { banned418: 1, halted: 1 } }),
      sample({ feed: { disconnects: 1, reconnects: 1, book_BTCUSDT: 3 }, execution: { banned418: 1, halted: 1 } }),
      sample({ feed: { disconnects: 1, reconnects: 1, book_BTCUSDT: 1 }, execution: { banned418: 1, halted: 1 } }), // 5 s not live
      sample({ feed: { disconnects: 1, reconnects: 1, book_BTCUSDT: 1 }, execution: { banned418: 1, halted: 1 } }),
      sample({ feed: { disconnects: 1, reconnects: 1 }, execution: { banned418: 1, halted: 1 }, strategy: { risk_maxDrawdown: 1, tradingState: 2, killSwitches: 1 } }),
      sample({ feed: { disconnects: 1, reconnects: 1 }, execution: { banned418: 1, halted: 1 }, strategy: { risk_maxDrawdown: 1, tradingState: 2, killSwitches: 1 } }),
    ];
    const perStep = seq.map((r, i) => w.observe(r, t0 + (i + 1) * 1000).map((a) => a.kind));
    expect(perStep).toEqual([
      [],
      [],
      ['venue-disconnect'],
      ['book-stale'],
      [],
      ['http-418'],
      [],
      ['book-out-of-sync'],
      [],
      ['kill-switch', 'drawdown', 'trading-halted'],
      [],
    ]);
    await notifier.flush();
    expect(rx.bodies.map((b) => b.kind)).toEqual(['venue-disconnect', 'book-stale', 'http-418', 'book-out-of-sync', 'kill-switch', 'drawdown', 'trading-halted']);
    const halted = rx.bodies.find((b) => b.kind === 'trading-halted')!;
    expect(halted).toMatchObject({ severity: 'critical', details: { from: 'ACTIVE', cause: 'drawdown', equity: 100_000 } });
    expect(new Date(halted.at).getTime()).toBe(t0 + 10_000);
    expect(rx.bodies.find((b) => b.kind === 'book-out-of-sync')!.details).toMatchObject({ symbol: 'BTCUSDT', state: 'syncing', sinceMs: t0 + 3000 });
    expect(notifier.counters).toMatchObject({ sent: 7, failed: 0 });
    expect(w.raised).toHaveLength(7);
  });

  it('re-arms the stuck-book alarm after the book recovers, and reports reduce-only and loss limits', () => {
    const got: Alarm[] = [];
    const sink: AlarmSink = { notify: (a) => (got.push(a), Promise.resolve(true)) };
    const w = new AlarmWatcher(sink, { bookStuckMs: 2000 });
    const t = (s: number): number => 1_000_000 + s * 1000;
    w.observe(sample({ feed: { book_ETHUSDT: 1 } }), t(0));
    expect(w.observe(sample({ feed: { book_ETHUSDT: 1 } }), t(2)).map((a) => a.kind)).toEqual(['book-out-of-sync']);
    expect(w.observe(sample({ feed: { book_ETHUSDT: 1 } }), t(5))).toEqual([]);
    w.observe(sample(), t(6)); // live again
    w.observe(sample({ feed: { book_ETHUSDT: 1 } }), t(7));
    expect(w.observe(sample({ feed: { book_ETHUSDT: 1 } }), t(9)).map((a) => a.kind)).toEqual(['book-out-of-sync']);

    expect(w.observe(sample({ strategy: { tradingState: 1, risk_dailyLoss: 3 } }), t(10)).map((a) => a.kind)).toEqual(['loss-limit', 'reduce-only']);
    expect(got.map((a) => a.kind)).toEqual(['book-out-of-sync', 'book-out-of-sync', 'loss-limit', 'reduce-only']);
  });

  it('reports an engine already halted at the first sample, and survives a malformed one', () => {
    const got: Alarm[] = [];
    const errors: string[] = [];
    const w = new AlarmWatcher({ notify: (a) => (got.push(a), Promise.resolve(true)) }, { onError: (m) => errors.push(m) });
    expect(w.observe(sample({ strategy: { tradingState: 2 } }), 0).map((a) => a.kind)).toEqual(['trading-halted']);
    expect(got[0]!.details).toMatchObject({ from: 'unknown' });
    expect(w.observe({} as WorkerCountersReport, 1000)).toEqual([]);
    expect(errors).toHaveLength(1);
    // the baseline is kept: the next good sample compares with the last good one
    expect(w.observe(sample({ strategy: { tradingState: 2 }, execution: { banned418: 2 } }), 2000).map((a) => a.kind)).toEqual(['http-418']);
  });

  it('a halt asked for is attributed: the operator\'s is a warning naming the reason, a graceful stop\'s raises nothing', () => {
    const w = new AlarmWatcher({ notify: () => Promise.resolve(true) });
    w.observe(sample({ strategy: { tradingState: 0 } }), 0);
    w.requested('halt', 'POST /trading/halt');
    const [op] = w.observe(sample({ strategy: { tradingState: 2 } }), 1000);
    expect(op).toMatchObject({ kind: 'trading-halted', severity: 'warning', details: { from: 'ACTIVE', cause: 'operator: POST /trading/halt' } });
    w.observe(sample({ strategy: { tradingState: 0 } }), 2000);
    // the request was used up: a later halt nobody asked for is critical again
    expect(w.observe(sample({ strategy: { tradingState: 2 } }), 3000)[0]).toMatchObject({ severity: 'critical', details: { cause: 'see the logs' } });
    w.observe(sample({ strategy: { tradingState: 0 } }), 4000);
    w.requested('halt', 'shutdown (SIGINT)');
    expect(w.observe(sample({ strategy: { tradingState: 2 } }), 5000)).toEqual([]);
    // a drawdown halt stays critical even while an operator's request is pending
    w.observe(sample({ strategy: { tradingState: 0 } }), 6000);
    w.requested('halt', 'POST /trading/halt');
    const kinds = w.observe(sample({ strategy: { tradingState: 2, risk_maxDrawdown: 1 } }), 7000);
    expect(kinds.find((a) => a.kind === 'trading-halted')).toMatchObject({ severity: 'critical', details: { cause: 'drawdown' } });
  });

  it('never lets a failing sink throw into the caller', () => {
    const w = new AlarmWatcher({ notify: () => Promise.reject(new Error('sink down')) });
    w.observe(sample(), 0);
    expect(() => w.observe(sample({ execution: { banned418: 1 } }), 1000)).not.toThrow();
  });
});
