import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'undici';
import { ControlServer } from '../src/control/ControlServer.js';
import { FakeControlTarget } from './helpers/fakeControlTarget.js';

const TOKEN = 'test-token-0123456789abcdef';
let target: FakeControlTarget;
let server: ControlServer;
let base: string;

beforeAll(async () => {
  target = new FakeControlTarget();
  server = new ControlServer(target, { host: '127.0.0.1', port: 0, token: TOKEN, pushHz: 2 });
  await server.start();
  base = server.url;
});
afterAll(async () => {
  await server.close();
});

async function call(method: string, path: string, opts: { body?: string; token?: string | null; type?: string } = {}): Promise<{ status: number; json: Record<string, unknown>; text: string; headers: Headers }> {
  const headers: Record<string, string> = {};
  const tok = opts.token === undefined ? TOKEN : opts.token;
  if (tok !== null) headers.authorization = `Bearer ${tok}`;
  if (opts.body !== undefined) headers['content-type'] = opts.type ?? 'application/json';
  const r = await fetch(base + path, { method, headers, ...(opts.body !== undefined ? { body: opts.body } : {}) });
  const text = await r.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (metrics)
  }
  return { status: r.status, json, text, headers: r.headers };
}

describe('control API contract', () => {
  it('GET endpoints answer JSON with the documented shapes and no CORS headers', async () => {
    const h = await call('GET', '/health', { token: null });
    expect(h.status).toBe(200);
    expect(h.json).toMatchObject({ status: 'ok', tradingState: 'ACTIVE' });
    expect(h.headers.get('access-control-allow-origin')).toBeNull();
    const s = await call('GET', '/stats', { token: null });
    expect(s.status).toBe(200);
    expect(s.json).toHaveProperty('stages');
    expect(s.json).toHaveProperty('tradingState', 'ACTIVE');
    expect(Array.isArray((await call('GET', '/positions', { token: null })).json)).toBe(true);
    const o = await call('GET', '/orders', { token: null });
    expect(o.json).toHaveProperty('open');
    expect(o.json).toHaveProperty('recent');
    const f = await call('GET', '/fills?limit=5', { token: null });
    expect(f.status).toBe(200);
    const p = await call('GET', '/pnl?range=all', { token: null });
    expect(p.status).toBe(200);
    expect(target.pnlRequests.at(-1)).toMatchObject({ range: 'all' });
    const st = await call('GET', '/strategies', { token: null });
    expect((st.json.registry as unknown[]).length).toBeGreaterThan(5);
    expect(st.json.current).toMatchObject({ name: 'ping-pong' });
    const m = await call('GET', '/metrics', { token: null });
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(m.text).toMatch(/^# TYPE hft_stage_latency_seconds histogram$/m);
    expect(m.text).toMatch(/^hft_stage_latency_seconds_count\{stage="tickToOrder"\} 100$/m);
  });

  it('GET errors: 400 for a bad query value, 404 for an unknown path', async () => {
    expect(await call('GET', '/pnl?range=week', { token: null })).toMatchObject({ status: 400, json: { error: 'range must be one of session, today, all; got "week"' } });
    expect((await call('GET', '/pnl?range=all&from=10&to=5', { token: null })).status).toBe(400);
    expect((await call('GET', '/fills?limit=0', { token: null })).json.error).toMatch(/limit must be an integer between 1 and 10000/);
    expect((await call('GET', '/pnl?from=yesterday', { token: null })).json.error).toMatch(/from must be a time in ms/);
    expect((await call('GET', '/nope', { token: null })).status).toBe(404);
  });

  it('every mutating endpoint: 401 without or with a wrong token, and the target is not touched', async () => {
    const before = target.calls.length;
    const paths = ['/strategies/ping-pong/activate', '/strategies/ping-pong/deactivate', '/strategies/ping-pong/params', '/trading/halt', '/trading/resume', '/trading/reduce-only', '/trading/flatten', '/engine/start', '/engine/stop', '/history/clear'];
    for (const p of paths) {
      expect((await call('POST', p, { token: null, body: '{}' })).status, p).toBe(401);
      expect((await call('POST', p, { token: 'wrong-token-0123456789', body: '{}' })).status, p).toBe(401);
    }
    expect(target.calls.length).toBe(before);
    expect(server.counters.unauthorized).toBeGreaterThanOrEqual(20);
  });

  it('POST bodies are validated: bad JSON, wrong content type, unknown fields, bad values are 400; unknown routes 404; other methods 405', async () => {
    expect((await call('POST', '/trading/halt', { body: '{nope' })).json.error).toBe('request body is not valid JSON');
    expect((await call('POST', '/trading/halt', { body: 'x=1', type: 'application/x-www-form-urlencoded' })).status).toBe(400);
    expect((await call('POST', '/trading/halt', { body: '{"why":"x"}' })).json.error).toBe('unknown field why; allowed: reason');
    expect((await call('POST', '/trading/halt', { body: JSON.stringify({ reason: 'x'.repeat(201) }) })).status).toBe(400);
    expect((await call('POST', '/strategies/ping-pong/params', { body: '[1]' })).status).toBe(400);
    expect((await call('POST', '/strategies/ping-pong/params', { body: '{"quantity": -1}' })).json.error).toBe("config: control.params.quantity must be between 1e-12 and 1000000000; got -1");
    expect((await call('POST', '/strategies/ping-pong/activate', { body: '{"x":1}' })).json.error).toBe('activate takes no body');
    expect((await call('POST', '/engine/stop', { body: '{"now":true}' })).status).toBe(400);
    expect((await call('POST', '/history/clear', { body: '{"before":"today"}' })).status).toBe(400);
    expect((await call('POST', '/trading/panic', { body: '{}' })).status).toBe(404);
    expect((await call('POST', '/strategies/ping-pong/explode', { body: '{}' })).status).toBe(404);
    expect((await call('DELETE', '/trading/halt')).status).toBe(405);
    expect((await call('OPTIONS', '/trading/halt', { token: null })).status).toBe(405);
    const big = JSON.stringify({ reason: 'x'.repeat(20_000) });
    expect((await call('POST', '/trading/halt', { body: big })).status).toBe(413);
  });

  it('authorized POSTs reach the target: strategies, trading states, engine, history', async () => {
    expect(await call('POST', '/strategies/ping-pong/params', { body: '{"quantity": 0.004}' })).toMatchObject({ status: 200, json: { ok: true, name: 'ping-pong' } });
    expect(target.strategy.params.quantity).toBe(0.004);
    expect((await call('POST', '/strategies/ping-pong/deactivate', { body: '' })).json).toMatchObject({ ok: true, active: false });
    expect((await call('POST', '/strategies/ping-pong/activate')).json).toMatchObject({ ok: true, active: true });
    // another strategy: the engine switches to it
    expect((await call('POST', '/strategies/fee-momentum/activate')).json).toMatchObject({ ok: true, name: 'fee-momentum', active: true });
    expect((await call('POST', '/strategies/ping-pong/deactivate')).status).toBe(409);
    expect((await call('POST', '/trading/halt', { body: '{"reason":"test"}' })).json).toMatchObject({ ok: true, state: 'HALTED' });
    expect(target.tradingState).toBe('HALTED');
    expect((await call('GET', '/stats', { token: null })).json.tradingState).toBe('HALTED');
    expect((await call('POST', '/trading/reduce-only')).json).toMatchObject({ state: 'REDUCE_ONLY' });
    expect((await call('POST', '/trading/resume')).json).toMatchObject({ state: 'ACTIVE' });
    expect((await call('POST', '/trading/flatten')).status).toBe(200);
    // nothing left to flatten: the target refuses, a 409 with its reason
    expect(await call('POST', '/trading/flatten')).toMatchObject({ status: 409, json: { error: 'nothing to flatten: no open position' } });
    expect((await call('POST', '/engine/stop')).json).toMatchObject({ ok: true, running: false });
    expect((await call('POST', '/engine/stop')).status).toBe(409);
    expect((await call('POST', '/engine/start')).json).toMatchObject({ ok: true, running: true });
    expect((await call('POST', '/history/clear', { body: '{}' })).json).toMatchObject({ ok: true });
    expect(target.calls.filter((c) => c.kind === 'trading').map((c) => (c.detail as { action: string }).action)).toEqual(['halt', 'reduce-only', 'resume', 'flatten', 'flatten']);
  });

  it('WS /ws pushes every topic, at most twice a second each', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`);
    const got: Array<{ topic: string; t: number }> = [];
    ws.addEventListener('message', (ev) => got.push(JSON.parse(String(ev.data)) as { topic: string; t: number }));
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new Error('ws error')));
    });
    const t0 = Date.now();
    while (Date.now() - t0 < 1600) await new Promise((r) => setTimeout(r, 50));
    ws.close();
    const topics = new Set(got.map((m) => m.topic));
    expect([...topics].sort()).toEqual(['fills', 'logs', 'orders', 'positions', 'stats']);
    // pushes are timer-driven at 2 Hz: in 1.6 s at most 4 of a topic (one per 500 ms, plus one at the edge)
    for (const t of topics) expect(got.filter((m) => m.topic === t).length).toBeLessThanOrEqual(4);
  });
});
