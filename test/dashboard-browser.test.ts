/// <reference lib="dom" />
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ControlServer } from '../src/control/ControlServer.js';
import { listStrategies } from '../src/strategy/registry.js';
import { FakeControlTarget } from './helpers/fakeControlTarget.js';
import { PROJECT_ROOT } from './helpers/fixtures.js';

/**
 * The dashboard (dashboard/) served by the real ControlServer over a fake target, driven in Debian's headless
 * Chromium through playwright-core: charts fill and move, tables show the topics, every control reaches the
 * target, a wrong token and an API error are shown to the user, and a screenshot is kept.
 */
const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SKIP_MESSAGE = `${CHROMIUM} not found: skipping the dashboard browser test (install Debian's chromium: apt-get install -y chromium)`;
if (!HAVE_CHROMIUM) console.warn(SKIP_MESSAGE);

/** The flags this machine's headless Chromium needs (closed network: no background fetches). */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TOKEN = 'dashboard-test-token-7f3a';
const SCREENSHOT = join(PROJECT_ROOT, 'test-output', 'dashboard.png');

/** Polls `f` until it returns true; fails with `what` after `limitMs` (a bound, not a timing assertion). */
async function until(what: string, f: () => Promise<boolean> | boolean, limitMs = 15_000): Promise<void> {
  const end = Date.now() + limitMs;
  for (;;) {
    if (await f()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!HAVE_CHROMIUM)(`dashboard in headless Chromium${HAVE_CHROMIUM ? '' : ` (skipped: ${SKIP_MESSAGE})`}`, () => {
  let fake: FakeControlTarget;
  let server: ControlServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  const attr = async (sel: string, name: string): Promise<string> => (await page.getAttribute(sel, name)) ?? '';
  const num = async (sel: string, name: string): Promise<number> => Number(await attr(sel, name));
  const text = async (sel: string): Promise<string> => (await page.textContent(sel)) ?? '';
  const tradingCalls = (): string[] => fake.calls.filter((c) => c.kind === 'trading').map((c) => (c.detail as { action: string }).action);

  beforeAll(async () => {
    fake = new FakeControlTarget();
    server = new ControlServer(fake, { host: '127.0.0.1', port: 0, token: TOKEN, staticDir: join(PROJECT_ROOT, 'dashboard') });
    await server.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1500 } });
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads, and the PnL and latency charts fill and keep updating', async () => {
    const res = await page.goto(`${server.url}/`);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toContain('hft-engine');
    await until('the WebSocket feed', async () => (await attr('#ws-state', 'data-state')) === 'open');

    // PnL: the session's points arrive, then polling appends more while equity rises
    await until('PnL points', async () => (await num('#pnl-chart', 'data-points')) > 0);
    const p1 = await num('#pnl-chart', 'data-points');
    const e1 = await num('#pnl-chart', 'data-last-equity');
    await until('more PnL points', async () => (await num('#pnl-chart', 'data-points')) > p1);
    expect(await num('#pnl-chart', 'data-last-equity')).toBeGreaterThan(e1);
    expect(fake.pnlRequests[0]?.range).toBe('session');
    expect(fake.pnlRequests.some((r) => r.from !== undefined)).toBe(true); // incremental polls

    // latency: samples from the stats topic (2 Hz) for the selected stage
    await until('latency samples', async () => (await num('#latency-chart', 'data-points')) > 0);
    const l1 = await num('#latency-chart', 'data-points');
    await until('more latency samples', async () => (await num('#latency-chart', 'data-points')) >= l1 + 2);
    expect(await attr('#latency-chart', 'data-stage')).toBe('tickToOrder');
    expect(await num('#latency-chart', 'data-last-p99')).toBeGreaterThan(0);
    const table = await text('#latency-table');
    for (const s of ['decode', 'hopA', 'strategy', 'hopB', 'send', 'tickToOrder', 'venueRtt']) expect(table).toContain(s);
    expect(table).toMatch(/µs/);

    // the other topics
    expect(await text('#trading-state')).toBe('ACTIVE');
    await until('positions', async () => (await text('#positions')).includes('BTCUSDT'));
    expect(await attr('#positions', 'data-open')).toBe('1');
    await until('open orders', async () => (await text('#orders')).includes('partially_filled'));
    expect(await text('#orders')).toContain('LIMIT'); // order_type 2, side -1 → SELL
    expect(await text('#orders')).toContain('SELL');
    await until('fills', async () => (await num('#fills', 'data-rows')) >= 5);
    await until('logs', async () => (await text('#logs')).includes('fake engine started'));
    const books = await text('#books');
    expect(books).toContain('BTCUSDT');
    expect(books).toContain('ETHUSDT');
    expect(books).toMatch(/LIVE|SYNCING/); // book_<SYMBOL> state codes decoded
    expect(await page.locator('#ring-meters .meter').count()).toBe(3);
    expect(await page.locator('#rate-meters .meter').count()).toBe(3);
    expect(await text('#engine-state')).toBe('running');
  });

  it('zooms with the wheel, pans with a drag, resets on double-click, and loads a range', async () => {
    const box = await page.locator('#pnl-chart').boundingBox();
    if (!box) throw new Error('no PnL chart box');
    const cx = box.x + box.width * 0.6;
    const cy = box.y + box.height / 2;
    const span0 = (await num('#pnl-chart', 'data-view-to')) - (await num('#pnl-chart', 'data-view-from'));
    await page.mouse.move(cx, cy);
    await page.mouse.wheel(0, -400);
    await until('zoom in', async () => (await attr('#pnl-chart', 'data-zoomed')) === 'true');
    const from1 = await num('#pnl-chart', 'data-view-from');
    const span1 = (await num('#pnl-chart', 'data-view-to')) - from1;
    expect(span1).toBeLessThan(span0 * 0.8);

    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 200, cy, { steps: 5 });
    await page.mouse.up();
    await until('pan', async () => (await num('#pnl-chart', 'data-view-from')) < from1);
    const span2 = (await num('#pnl-chart', 'data-view-to')) - (await num('#pnl-chart', 'data-view-from'));
    expect(Math.abs(span2 - span1)).toBeLessThan(2); // a pan keeps the span

    await page.dblclick('#pnl-chart');
    await until('reset', async () => (await attr('#pnl-chart', 'data-zoomed')) === 'false');

    const sessionPoints = await num('#pnl-chart', 'data-points');
    await page.click('#range-all');
    await until('range all', async () => (await attr('#pnl-chart', 'data-range')) === 'all' && fake.pnlRequests.some((r) => r.range === 'all'));
    // range=all holds the two points from earlier days: the view now starts more than a day back
    await until('older points', async () => (await num('#pnl-chart', 'data-points')) >= sessionPoints + 2);
    expect(await num('#pnl-chart', 'data-view-from')).toBeLessThan(Date.now() - 86_400_000);
    expect(await attr('#range-all', 'aria-pressed')).toBe('true');
    await page.click('#range-session');
    await until('range session', async () => (await attr('#pnl-chart', 'data-range')) === 'session');
  });

  it('a wrong token gets a clear 401 message and changes nothing', async () => {
    await page.fill('#token-input', 'not-the-token');
    await page.click('#halt-btn');
    await until('401 message', async () => (await page.isVisible('#message')) && (await text('#message')).includes('401'));
    expect(await text('#message')).toMatch(/Unauthorized \(401\).*token/);
    expect(await attr('#message', 'data-kind')).toBe('error');
    expect(tradingCalls()).toEqual([]);
    expect(fake.tradingState).toBe('ACTIVE');
    expect(await text('#trading-state')).toBe('ACTIVE');
    expect(server.counters.unauthorized).toBeGreaterThan(0);
    expect(await page.evaluate('sessionStorage.getItem("hft.controlToken")')).toBeNull(); // the rejected token is not kept
  });

  it('with the token, Halt halts: the page, the target and GET /stats agree', async () => {
    await page.fill('#token-input', TOKEN);
    await page.click('#token-save');
    expect(await page.evaluate('sessionStorage.getItem("hft.controlToken")')).toBe(TOKEN);
    expect(await page.inputValue('#token-input')).toBe(''); // never left on screen
    await page.fill('#reason-input', 'dashboard test');
    await page.click('#halt-btn');
    await until('HALTED on the page', async () => (await text('#trading-state')) === 'HALTED');
    expect(await attr('#trading-state', 'data-state')).toBe('HALTED');
    expect(fake.tradingState).toBe('HALTED');
    expect(fake.calls.at(-1)).toEqual({ kind: 'trading', detail: { action: 'halt', reason: 'dashboard test' } });
    const stats = (await (await fetch(`${server.url}/stats`)).json()) as { tradingState: string };
    expect(stats.tradingState).toBe('HALTED');
    // the next pushes keep showing it, and the open orders were pulled while halted
    await until('orders emptied by the halt', async () => (await text('#orders')).includes('no open orders'));
    expect(await text('#trading-state')).toBe('HALTED');
  });

  it('flatten asks for confirmation; refusals from the API are shown', async () => {
    await page.click('#flatten-btn');
    await page.waitForSelector('#confirm-dialog[open]');
    await page.click('#confirm-cancel');
    await page.waitForSelector('#confirm-dialog:not([open])', { state: 'attached' });
    expect(tradingCalls()).not.toContain('flatten');

    await page.click('#flatten-btn');
    await page.waitForSelector('#confirm-dialog[open]');
    await page.click('#confirm-ok');
    await until('flatten reached the target', () => tradingCalls().includes('flatten'));
    await until('state after flatten', async () => (await text('#trading-state')) === 'REDUCE_ONLY');
    await until('flat positions', async () => (await attr('#positions', 'data-open')) === '0');

    // a second flatten is refused by the target (409 { error }): the error text reaches the user
    await page.click('#flatten-btn');
    await page.waitForSelector('#confirm-dialog[open]');
    await page.click('#confirm-ok');
    await until('409 message', async () => (await text('#message')).includes('nothing to flatten'));
    expect(await text('#message')).toContain('409');
    expect(await attr('#message', 'data-kind')).toBe('error');

    await page.click('#engine-start-btn');
    await until('engine start refusal', async () => (await text('#message')).includes('engine is already running'));
  });

  it('resume, reduce-only, engine stop/start and clear history reach the target', async () => {
    await page.click('#resume-btn');
    await until('ACTIVE', async () => (await text('#trading-state')) === 'ACTIVE');
    await page.click('#reduce-only-btn');
    await until('REDUCE_ONLY', async () => (await text('#trading-state')) === 'REDUCE_ONLY');
    expect(fake.tradingState).toBe('REDUCE_ONLY');

    await page.click('#engine-stop-btn');
    await page.waitForSelector('#confirm-dialog[open]');
    await page.click('#confirm-ok');
    await until('engine stopped', async () => !fake.running && (await text('#engine-state')) === 'stopped');
    await page.click('#engine-start-btn');
    await until('engine running', async () => fake.running && (await text('#engine-state')) === 'running');

    await page.click('#history-clear-btn');
    await page.waitForSelector('#confirm-dialog[open]');
    await page.click('#confirm-ok');
    await until('history cleared', async () => fake.calls.some((c) => c.kind === 'clearHistory') && (await text('#message')).includes('History cleared'));
    // the chart reloads from what is left
    await until('PnL reloaded', async () => (await num('#pnl-chart', 'data-points')) <= 3);

    await page.click('#resume-btn');
    await until('ACTIVE again', async () => (await text('#trading-state')) === 'ACTIVE');
  });

  it('strategy controls: deactivate, activate, parameters (a bad value shows the validation error)', async () => {
    const current = fake.strategy.name;
    expect(await page.inputValue('#strategy-select')).toBe(current);
    const loadsBefore = Number(await page.evaluate(() => document.body.dataset.strategiesLoaded ?? '0'));
    await page.click('#strategy-deactivate-btn');
    await until('deactivated', async () => !fake.strategy.active && (await text('#strategy-state')).includes('off'));
    await page.click('#strategy-activate-btn');
    await until('activated', async () => fake.strategy.active && (await text('#strategy-state')).includes('on'));

    const def = listStrategies().find((d) => d.name === current)!;
    const numeric = def.params.find((p) => (p.type === 'number' || p.type === 'integer') && typeof p.max === 'number' && p.max < 1e12);
    if (numeric && typeof numeric.max === 'number') {
      // the strategies the activation reloaded have arrived (the form is rebuilt with them)
      await until('strategies reloaded', async () => (await page.evaluate(() => document.body.dataset.strategiesLoaded ?? '0')) === String(loadsBefore + 2));
      await page.fill(`#param-${numeric.name}`, String(numeric.max * 10 + 1));
      expect(await page.inputValue(`#param-${numeric.name}`)).toBe(String(numeric.max * 10 + 1));
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/params') && r.request().method() === 'POST'),
        page.click('#strategy-params-btn'),
      ]);
      // the API refused it, naming the parameter, and the page shows that answer
      expect(resp.status()).toBe(400);
      expect(((await resp.json()) as { error: string }).error).toContain(numeric.name);
      await until('validation error', async () => (await attr('#message', 'data-kind')) === 'error' && (await text('#message')).includes(numeric.name));
      expect(await text('#message')).toContain('400');
      expect(fake.strategy.params[numeric.name]).not.toBe(numeric.max * 10 + 1);
      // a valid value goes through
      const good = numeric.type === 'integer' ? Math.max(numeric.min ?? 0, Math.min(numeric.max, Number(numeric.default) + 1)) : numeric.max;
      await page.fill(`#param-${numeric.name}`, String(good));
      await page.click('#strategy-params-btn');
      await until('params applied', () => fake.strategy.params[numeric.name] === good);
    }
  });

  it('renders without page errors and saves a screenshot', async () => {
    // let a couple more pushes land so the charts have some history in the picture
    const l = await num('#latency-chart', 'data-points');
    await until('latency history', async () => (await num('#latency-chart', 'data-points')) >= l + 2);
    await page.mouse.move(0, 0);
    mkdirSync(join(PROJECT_ROOT, 'test-output'), { recursive: true });
    // the whole page in one viewport (a full-page capture would repaint the sticky header mid-page)
    const height = Number(await page.evaluate('document.documentElement.scrollHeight'));
    await page.setViewportSize({ width: 1400, height: Math.min(height, 4000) });
    await until('charts redrawn at the new size', async () => (await num('#latency-chart', 'data-points')) >= l + 3);
    await page.screenshot({ path: SCREENSHOT });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000);
    // the API errors above are expected console noise from fetch (4xx); nothing else may fail
    expect(pageErrors.filter((e) => !/status of 40[019]/.test(e))).toEqual([]);
  });
});
