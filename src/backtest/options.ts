import { existsSync } from 'node:fs';
import { UsageError, num, str, type ParsedArgs } from '../cli/args.js';
import { ConfigError } from '../config/ConfigError.js';
import { RISK_OFF, RISK_PRESETS, validateRiskConfig, type RiskConfig } from '../risk/RiskConfig.js';
import { latencyOptionsFromArgs, LatencySpecError, type LatencyOptions } from '../sim/latency/Latency.js';
import type { QueueModelName } from '../sim/matching/QueueModel.js';
import { listStrategies, strategyNames, type ParamValue } from '../strategy/registry.js';
import { recordingFiles, type BacktestConfig } from './Backtester.js';

export const QUEUE_MODELS: readonly QueueModelName[] = ['risk-averse', 'probabilistic', 'none'];

/** Options `hft backtest` and `hft sweep` share. */
export const COMMON_OPTIONS = ['data', 'strategy', 'param', 'seed', 'latency', 'queue', 'maker-fee', 'taker-fee', 'risk', 'capital', 'sample-ms', 'out'];

export const COMMON_HELP = `  --data FILE|DIR      a recording (shared recordings format, or hft record output) or a folder of .jsonl
  --strategy NAME      a registered strategy (hft strategies)
  --param k=v          strategy parameter (repeatable); symbol defaults to the recording's first symbol
  --seed N             seed of every random draw (default 1)
  --latency SPEC       delays (repeatable), as hft sim: [feed=|order=|ack=|rtt=|user=]SPEC, SPEC const:2ms,
                       normal:2ms:0.5ms, lognormal:1ms:0.4, uniform:1ms:3ms or file:F[#STAGE]; a bare spec
                       is feed+order+ack; user (fills of resting orders) defaults to ack. Default none
  --queue MODEL        queue position of resting orders: risk-averse (default), probabilistic, none
  --maker-fee F        maker fee rate (default 0.0002); --taker-fee F (default 0.0005)
  --risk R             pre-trade risk: a preset (${Object.keys(RISK_PRESETS).join(', ')}; default eventBus, the
                       engine's), off, or key=value over it (repeatable)
  --capital Q          capital the returns are relative to (default 10000)
  --sample-ms N        equity sampling interval, event time (default 1000)
  --out DIR            write the results there
`;

/** `k=v` into a typed strategy parameter (by the strategy's schema). */
export function parseParam(strategy: string, kv: string): [string, ParamValue] {
  const eq = kv.indexOf('=');
  if (eq <= 0) throw new UsageError(`--param needs key=value; got ${JSON.stringify(kv)}`);
  const k = kv.slice(0, eq);
  const v = kv.slice(eq + 1);
  return [k, paramValue(strategy, k, v)];
}

/** A parameter's text as its schema type (unknown keys are left to the schema check, as text). */
export function paramValue(strategy: string, key: string, text: string): ParamValue {
  const def = listStrategies().find((s) => s.name === strategy);
  const spec = def?.params.find((p) => p.name === key);
  if (spec === undefined) return text;
  if (spec.type === 'number' || spec.type === 'integer') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`param ${key} must be a number; got ${JSON.stringify(text)}`);
    return n;
  }
  if (spec.type === 'boolean') {
    if (text !== 'true' && text !== 'false') throw new UsageError(`param ${key} must be true or false; got ${JSON.stringify(text)}`);
    return text === 'true';
  }
  return text;
}

/** `--risk` values: presets (or off) and key=value overrides, validated like the config's risk section. */
export function parseRisk(values: readonly string[]): RiskConfig {
  let base: Record<string, unknown> = { preset: 'eventBus' };
  const over: Record<string, unknown> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) {
      if (v === 'off') base = { ...RISK_OFF };
      else if (v in RISK_PRESETS) base = { preset: v };
      else throw new UsageError(`--risk: unknown preset ${JSON.stringify(v)} (off, ${Object.keys(RISK_PRESETS).join(', ')}, or key=value)`);
      continue;
    }
    const k = v.slice(0, eq);
    const t = v.slice(eq + 1);
    over[k] = t === 'true' ? true : t === 'false' ? false : Number(t);
  }
  try {
    return validateRiskConfig({ ...base, ...over }, 'risk');
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`--${e.message}`);
    throw e;
  }
}

/** The backtest configuration from parsed arguments (everything but the strategy parameters of a sweep). */
export function configFromArgs(args: ParsedArgs, command: string): BacktestConfig {
  const data = str(args, 'data');
  if (data === undefined) throw new UsageError(`hft ${command}: --data FILE|DIR is required`);
  if (!existsSync(data)) throw new UsageError(`hft ${command}: no such file or folder: ${data}`);
  const files = recordingFiles(data);
  if (files.length === 0) throw new UsageError(`hft ${command}: no .jsonl recordings in ${data}`);
  const strategy = str(args, 'strategy');
  if (strategy === undefined) throw new UsageError(`hft ${command}: --strategy NAME is required (${strategyNames().join(', ')})`);
  if (!strategyNames().includes(strategy)) throw new UsageError(`hft ${command}: --strategy must be one of ${strategyNames().join(', ')}; got ${JSON.stringify(strategy)}`);
  const params: Record<string, ParamValue> = {};
  for (const kv of args.options.get('param') ?? []) {
    const [k, v] = parseParam(strategy, kv);
    params[k] = v;
  }
  const queue = str(args, 'queue') ?? 'risk-averse';
  if (!QUEUE_MODELS.includes(queue as QueueModelName)) throw new UsageError(`--queue must be one of ${QUEUE_MODELS.join(', ')}; got ${JSON.stringify(queue)}`);
  let latency: LatencyOptions;
  try {
    latency = latencyOptionsFromArgs(args.options.get('latency') ?? []);
  } catch (e) {
    if (e instanceof LatencySpecError) throw new UsageError(`--latency: ${e.message}`);
    throw e;
  }
  return {
    files,
    strategy,
    params,
    seed: num(args, 'seed', { min: 0, max: 0xffffffff, int: true }) ?? 1,
    latency,
    queue: queue as QueueModelName,
    fees: { maker: num(args, 'maker-fee', { min: -0.01, max: 0.01 }) ?? 0.0002, taker: num(args, 'taker-fee', { min: -0.01, max: 0.01 }) ?? 0.0005 },
    risk: parseRisk(args.options.get('risk') ?? []),
    capital: num(args, 'capital', { min: 1e-9, max: 1e15 }) ?? 10_000,
    sampleMs: num(args, 'sample-ms', { min: 1, max: 86_400_000, int: true }) ?? 1000,
  };
}
