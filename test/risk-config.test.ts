import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/ConfigError.js';
import { DEFAULT_RISK_CONFIG, RISK_CONFIG_SPEC, RISK_OFF, RISK_PRESETS, validateRiskConfig } from '../src/risk/RiskConfig.js';

describe('RiskConfig', () => {
  it('defaults are the event-bus system rules of strategies.md', () => {
    const c = validateRiskConfig(undefined);
    expect(c).toEqual(DEFAULT_RISK_CONFIG);
    expect(c).toMatchObject({
      maxPositionNotional: 500, maxOpenOrders: 10, maxOrdersPerSecond: 5, maxOrdersPer10s: 300, dailyLossLimit: 200, maxDrawdownFraction: 0.05,
      maxConsecutiveLosses: 5, priceBandBps: 200, minSpreadBps: 2, maxSlippageBps: 10, leverage: 1, maxLeverage: 1, requireLiveBook: true,
    });
  });

  it('a preset with keys over it; the Gate scalper survival rules', () => {
    const c = validateRiskConfig({ preset: 'gateScalper', maxVenueLatencyMs: 50 });
    expect(c).toMatchObject({ leverage: 5, maxOrderMarginFraction: 0.25, maxConsecutiveLosses: 3, lossPauseMs: 900_000, dailyLossFraction: 0.03, minCapitalFraction: 0.5, maxLossesPerDay: 3, maxTradesPerDay: 15, maxTradesPerMinute: 10, maxVenueLatencyMs: 50 });
    expect(c.maxPositionNotional).toBe(0);
    expect(validateRiskConfig({ preset: 'ccxtMvp' }).noDuplicatePosition).toBe(true);
  });

  it('every preset is complete and valid', () => {
    for (const p of Object.values(RISK_PRESETS)) {
      expect(Object.keys(p).sort()).toEqual(Object.keys(RISK_CONFIG_SPEC).sort());
      expect(validateRiskConfig({ ...p })).toEqual(p);
    }
    expect(Object.keys(RISK_OFF).sort()).toEqual(Object.keys(RISK_CONFIG_SPEC).sort());
  });

  it('errors name the key and the allowed range', () => {
    const msg = (raw: unknown) => {
      try {
        validateRiskConfig(raw);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(msg({ priceBandBps: -1 })).toBe('config: risk.priceBandBps must be a number between 0 and 10000 (0 = off); got -1');
    expect(msg({ maxOrdersPerSecond: 2.5 })).toBe('config: risk.maxOrdersPerSecond must be an integer between 0 and 10000 (0 = off); got 2.5');
    expect(msg({ leverage: 0 })).toBe('config: risk.leverage must be a number between 1 and 125; got 0');
    expect(msg({ maxDrawdownFraction: 5 })).toBe('config: risk.maxDrawdownFraction must be a number between 0 and 1 (0 = off); got 5');
    expect(msg({ dailyLossLimit: '200' })).toBe('config: risk.dailyLossLimit must be a number between 0 and 1000000000000 (0 = off); got "200"');
    expect(msg({ requireLiveBook: 1 })).toBe('config: risk.requireLiveBook must be true or false; got 1');
    expect(msg({ maxPositon: 1 })).toMatch(/^config: risk\.maxPositon is not a known key; allowed here: preset, maxOrderQty, /);
    expect(msg({ preset: 'yolo' })).toBe('config: risk.preset must be one of off, eventBus, gateScalper, mlSystem, ccxtMvp; got "yolo"');
    expect(msg([])).toBe('config: risk must be an object; got []');
    expect(msg({ lossPauseMs: NaN })).toMatch(/^config: risk\.lossPauseMs must be a number between 0 and 604800000/);
  });
});
