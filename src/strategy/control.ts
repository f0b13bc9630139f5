import { ConfigError } from '../config/ConfigError.js';
import type { StrategyRunner } from './StrategyRunner.js';
import { checkStrategySymbols, createStrategy, strategyNames, validateStrategyParams, type StrategyParams } from './registry.js';

/**
 * Runtime control of the strategy worker's strategy (main → worker, applied between slices):
 * - activate / deactivate: a deactivated strategy gets no events or timers and submits nothing; the runner
 *   keeps following books, fills and positions, so re-activating resumes with current state;
 * - switch: a new strategy from the registry, params validated against its schema (omitted keys take its
 *   defaults);
 * - params: re-parameterise the current strategy (omitted keys keep their current values). The strategy is
 *   rebuilt with the new values, so its features warm up again; positions and in-flight orders stay.
 */
export type StrategyControl =
  | { action: 'activate' }
  | { action: 'deactivate' }
  | { action: 'switch'; name: string; params?: Record<string, unknown> }
  | { action: 'params'; params: Record<string, unknown> };

export interface StrategyState {
  name: string;
  params: StrategyParams;
  active: boolean;
}

export type StrategyControlResult = ({ ok: true } & StrategyState) | { ok: false; error: string };

/**
 * The state after `c`, validated (no strategy is built): main checks a request with this before sending it,
 * the worker applies the same rules. Errors name the parameter key and what is allowed.
 */
export function resolveControl(state: StrategyState, c: unknown, symbols: readonly string[]): StrategyControlResult {
  try {
    if (typeof c !== 'object' || c === null) throw new ConfigError('control', 'must be an object with an action');
    const m = c as Record<string, unknown>;
    switch (m.action) {
      case 'activate':
      case 'deactivate':
        return { ok: true, name: state.name, params: state.params, active: m.action === 'activate' };
      case 'switch': {
        const names = strategyNames();
        if (typeof m.name !== 'string' || !names.includes(m.name)) throw new ConfigError('control.name', `must be one of ${names.join(', ')}; got ${JSON.stringify(m.name)}`);
        const params = validateStrategyParams(m.name, m.params ?? {}, 'control.params');
        checkStrategySymbols(m.name, params, symbols, 'control.params');
        return { ok: true, name: m.name, params, active: state.active };
      }
      case 'params': {
        const params = validateStrategyParams(state.name, m.params ?? {}, 'control.params', state.params);
        checkStrategySymbols(state.name, params, symbols, 'control.params');
        return { ok: true, name: state.name, params, active: state.active };
      }
      default:
        throw new ConfigError('control.action', `must be one of activate, deactivate, switch, params; got ${JSON.stringify(m.action)}`);
    }
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, error: e.message };
    throw e;
  }
}

/** Applies control messages to a runner (the strategy worker's, or an in-process one). */
export class StrategyController {
  state: StrategyState;

  constructor(
    private readonly runner: StrategyRunner,
    initial: StrategyState,
    private readonly symbols: readonly string[],
  ) {
    this.state = { ...initial };
    runner.setActive(initial.active);
  }

  apply(c: StrategyControl): StrategyControlResult {
    const r = resolveControl(this.state, c, this.symbols);
    if (!r.ok) return r;
    if (c.action === 'switch' || c.action === 'params') this.runner.setStrategy(createStrategy(r.name, r.params, this.symbols));
    this.runner.setActive(r.active);
    this.state = { name: r.name, params: r.params, active: r.active };
    return r;
  }
}
