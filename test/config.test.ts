import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { DEFAULT_CONFIG, ConfigError, loadConfig, validateConfig, applyEnv } from '../src/config/Config.js';
import { PROJECT_ROOT } from './helpers/fixtures.js';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('config', () => {
  it('config/default.json is the embedded defaults (paper trading on the built-in simulator)', () => {
    const cfg = loadConfig(join(PROJECT_ROOT, 'config/default.json'), {});
    // the differences: npm start keeps a journal and serves the dashboard on 8787; the embedded defaults
    // (tests, benches) keep none and take any free port
    expect(cfg).toEqual({ ...DEFAULT_CONFIG, journal: { ...DEFAULT_CONFIG.journal, path: 'data/journal.sqlite' }, control: { ...DEFAULT_CONFIG.control, port: 8787 } });
    expect(DEFAULT_CONFIG.journal.path).toBe('');
    expect(cfg.mode).toBe('paper');
    expect(cfg.venue.embedded).toBe(true);
  });

  it('names the key and the allowed values on a bad value', () => {
    const bad = clone(DEFAULT_CONFIG) as unknown as { threads: { strategyWait: string } };
    bad.threads.strategyWait = 'nap';
    expect(() => validateConfig(bad)).toThrow(ConfigError);
    expect(() => validateConfig(bad)).toThrow('config: threads.strategyWait must be one of spin, spin-then-park, park; got "nap"');
  });

  it('rejects out-of-range numbers, unknown keys, missing keys, bad symbols', () => {
    const a = clone(DEFAULT_CONFIG);
    a.venue.sim.rate = 500_000;
    expect(() => validateConfig(a)).toThrow(/venue\.sim\.rate must be between 1 and 200000; got 500000/);
    const b = clone(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
    b.colour = 'blue';
    expect(() => validateConfig(b)).toThrow(/colour is not a known key; allowed here: mode, venue/);
    const c = clone(DEFAULT_CONFIG) as unknown as { risk: Record<string, unknown>; killSwitch: Record<string, unknown> };
    c.risk.maxOrderQty = -1;
    expect(() => validateConfig(c)).toThrow(/risk\.maxOrderQty must be a number between 0 and 1000000000000 \(0 = off\); got -1/);
    c.risk.maxOrderQty = 1;
    c.risk.preset = 'yolo';
    expect(() => validateConfig(c)).toThrow(/risk\.preset must be one of off, eventBus, gateScalper, mlSystem, ccxtMvp; got "yolo"/);
    delete c.risk.preset;
    delete c.killSwitch.disconnectHaltMs;
    expect(() => validateConfig(c)).toThrow(/killSwitch\.disconnectHaltMs is missing/);
    const d = clone(DEFAULT_CONFIG);
    d.symbols = ['BTCUSDT', 'btc-usdt'];
    expect(() => validateConfig(d)).toThrow(/symbols\[1\] must be upper-case venue symbols/);
    const e = clone(DEFAULT_CONFIG);
    e.strategy.params.symbol = 'SOLUSDT';
    expect(() => validateConfig(e)).toThrow(/strategy\.params\.symbol must be one of the configured symbols \(BTCUSDT, ETHUSDT\)/);
    const f = clone(DEFAULT_CONFIG);
    f.rings.marketCapacity = 1000;
    expect(() => validateConfig(f)).toThrow(/rings\.marketCapacity must be a power of two; got 1000/);
  });

  it('refuses live mode in this build with a clear message', () => {
    const a = clone(DEFAULT_CONFIG);
    a.mode = 'live';
    expect(() => validateConfig(a)).toThrow(/mode "live" is not available yet/);
  });

  it('config/testnet.json targets Binance futures testnet on the legacy root, never the embedded simulator', () => {
    const cfg = loadConfig(join(PROJECT_ROOT, 'config/testnet.json'), {});
    expect(cfg.mode).toBe('testnet');
    expect(cfg.venue.embedded).toBe(false);
    expect(cfg.venue.restUrl).toBe('https://testnet.binancefuture.com');
    expect(cfg.venue.wsUrl).toBe('wss://fstream.binancefuture.com');
    expect(cfg.venue.wsApiUrl).toBe('wss://testnet.binancefuture.com/ws-fapi/v1');
    expect(cfg.feed.routing).toBe('legacy');
    const embedded = clone(cfg);
    embedded.venue.embedded = true;
    expect(() => validateConfig(embedded)).toThrow(/venue\.embedded must be false in testnet mode/);
  });

  it('checks the book-sync and feed keys', () => {
    const a = clone(DEFAULT_CONFIG);
    a.book.snapshotLimit = 300;
    expect(() => validateConfig(a)).toThrow('config: book.snapshotLimit must be one of 5, 10, 20, 50, 100, 500, 1000; got 300');
    const b = clone(DEFAULT_CONFIG);
    b.feed.controlPerSecond = 11;
    expect(() => validateConfig(b)).toThrow(/feed\.controlPerSecond must be between 1 and 10; got 11/);
    const c = clone(DEFAULT_CONFIG) as unknown as { feed: { routing: string } };
    c.feed.routing = 'root';
    expect(() => validateConfig(c)).toThrow(/feed\.routing must be one of split, legacy; got "root"/);
    const d = clone(DEFAULT_CONFIG);
    d.feed.streams = ['markPrice@1s', 'kline_1m', 'forceOrder', 'depth20@100ms'];
    expect(validateConfig(d).feed.streams).toHaveLength(4);
  });

  it('applies HFT_ environment overrides (JSON values, nested keys, case-insensitive)', () => {
    const cfg = loadConfig(undefined, { HFT_VENUE__SIM__RATE: '5000', HFT_STRATEGY__PARAMS__QUANTITY: '0.002', HFT_LOG__LEVEL: 'debug', HFT_THREADS__STRATEGYWAIT: 'park' });
    expect(cfg.venue.sim.rate).toBe(5000);
    expect(cfg.strategy.params.quantity).toBe(0.002);
    expect(cfg.log.level).toBe('debug');
    expect(cfg.threads.strategyWait).toBe('park');
    expect(() => loadConfig(undefined, { HFT_VENUE__SIM__RATE: 'fast' })).toThrow(/venue\.sim\.rate must be an integer between 1 and 200000; got "fast"/);
    expect(applyEnv({ a: 1 }, { HFT_API_SECRET: 'x' })).toEqual({ a: 1 });
  });

  it('reports a missing or broken file', () => {
    expect(() => loadConfig('/nonexistent/x.json', {})).toThrow(/does not exist/);
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(() => loadConfig(join(dir, 'bad.json'), {})).toThrow(/is not valid JSON/);
  });
});
