import { readFileSync, existsSync } from 'node:fs';
import { WAIT_STRATEGIES, type WaitStrategyKind } from '../ring/WaitStrategy.js';
import { ConfigError, showValue } from './ConfigError.js';
import { validateRiskConfig, type RiskConfig, type RiskPresetName } from '../risk/RiskConfig.js';
import { validateAlarmsConfig, type AlarmsConfig } from '../ops/Alarms.js';
import { validateNodeFlags, validateThreadCpus, type ThreadCpus } from '../ops/launch.js';

/** The config's risk section as written: a preset and rules over it (validateRiskConfig makes it whole). */
export type RiskSection = { preset?: RiskPresetName } & Partial<RiskConfig>;
import { checkStrategySymbols, strategyDefaults, strategyNames, validateStrategyParams, type StrategyParams } from '../strategy/registry.js';

/**
 * Engine configuration: a JSON file in config/, then environment overrides, validated at start. Every
 * error names the key, what it holds, and what is allowed. Credentials never live here: they come from
 * the environment (HFT_API_KEY / HFT_API_SECRET) or a key file outside the repository (HFT_KEY_FILE).
 *
 * Environment overrides: HFT_<PATH> where the path segments are joined by "__", e.g.
 *   HFT_VENUE__SIM__RATE=5000   HFT_STRATEGY__PARAMS__QUANTITY=0.002   HFT_LOG__LEVEL=debug
 * Values are read as JSON when they parse (numbers, booleans, arrays), else as strings.
 */
export interface StrategyConfig {
  name: string;
  params: StrategyParams;
}

/** shadow: the real venue's market data, orders filled by the embedded simulator's matching against its live book. */
export type Mode = 'paper' | 'shadow' | 'live' | 'testnet';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export type PingPongParams = {
  symbol: string;
  /** order size in base units */
  quantity: number;
  /** minimum event-time gap between two orders */
  cooldownMs: number;
  /** trade only while the last price is above this (0 = always) */
  triggerPrice: number;
  /** bench mode: fire on every Nth market event regardless of cooldown and trigger (0 = off) */
  everyNTicks: number;
};

export interface EngineConfig {
  mode: Mode;
  venue: {
    /** the venue's dialect: Binance USDT-M futures, or Gate.io USDT futures (symbols are contracts: BTC_USDT) */
    name: 'binance-usdm' | 'gate-futures';
    /** start the built-in venue simulator (paper trading) */
    embedded: boolean;
    restUrl: string;
    /** market-data WebSocket base (e.g. wss://fstream.binance.com); paths are added per stream kind */
    wsUrl: string;
    /** WebSocket API for order entry (e.g. wss://ws-fapi.binance.com/ws-fapi/v1); "" = derive from wsUrl */
    wsApiUrl: string;
    sim: { rate: number; seed: number; port: number };
  };
  symbols: string[];
  feed: {
    streams: string[];
    reconnect: { initialMs: number; maxMs: number; jitter: number };
    /** 'split': /public and /market base paths (2026); 'legacy': the root (testnet) */
    routing: 'split' | 'legacy';
    /** streams in the connection URL, or SUBSCRIBE messages after open */
    subscribe: 'url' | 'message';
    /** control messages per second per connection (the venue disconnects above 10) */
    controlPerSecond: number;
    /** open a replacement connection this long after a connection opened (the venue cuts at 24 h); 0 = never */
    rotateAfterMs: number;
    /** reconnect a market-data connection that received nothing for this long (a stall), ms; 0 = never */
    idleTimeoutMs: number;
  };
  book: {
    /** REST depth snapshot size (weight 2/5/10/20 for <=50/100/500/1000) */
    snapshotLimit: number;
    /** at most this many resyncs per symbol per minute; beyond it the symbol stays stale until the next minute */
    maxResyncsPerMinute: number;
    /** first resync retry delay; doubles per failed attempt */
    resyncBackoffMs: number;
    /** a live book with no depth event for this long reads as stale (0 = never) */
    staleAfterMs: number;
  };
  /** any registered strategy (`hft strategies`); params are validated against that strategy's schema */
  strategy: StrategyConfig;
  /**
   * Pre-trade risk (src/risk/RiskConfig.ts): a preset of the earlier systems' rules (`preset`, default
   * eventBus) with any rule set over it; every numeric rule is off at 0. A file's `risk` section replaces
   * the embedded one whole (a preset is not mixed with the default's overrides). `maxPosition` is accepted
   * for `maxPositionQty`.
   */
  risk: RiskSection;
  /**
   * The SQLite journal (better-sqlite3, WAL): sessions, intents, orders, order events, fills, positions,
   * PnL. `path` '' keeps none; a relative path is from the working directory.
   */
  journal: {
    path: string;
    /** 'full': every commit survives a power cut; 'normal': a process crash (kill -9) only */
    synchronous: 'full' | 'normal';
    /**
     * At start (journal file present), orders open at the venue, all left by an earlier run or placed
     * outside the engine: 'cancel' them at the venue, or 'adopt' them as open orders in the journal
     * (src/journal/Reconciler.ts).
     */
    unknownOrders: 'adopt' | 'cancel';
  };
  /** The operator's API and dashboard (`hft run`): JSON + WebSocket on uWebSockets.js in the main thread. */
  control: {
    enabled: boolean;
    /** 127.0.0.1 by default: anything else exposes the API beyond this machine */
    host: string;
    /** 0 = any free port (tests) */
    port: number;
    /** bearer token for the mutating endpoints; '' = the one in tokenFile, generated at first start */
    token: string;
    tokenFile: string;
    /** WS /ws pushes per second per topic (at most 2) */
    pushHz: number;
  };
  /** automatic kill switch triggers beyond the risk rules */
  killSwitch: {
    /** halt when the market-data connection has been down this long (ms; 0 = never) */
    disconnectHaltMs: number;
  };
  execution: {
    /**
     * undici Client, the hand-written HttpConnection (one synchronous write per order), or the venue's
     * WebSocket API (order.place / order.cancel on one persistent connection)
     */
    transport: 'undici' | 'http' | 'wsapi';
    /** keep a user data stream (listenKey) for fills and account updates */
    userStream: boolean;
    /** listenKey keep-alive period */
    listenKeyKeepAliveMs: number;
    /** keep the order encoder hot by running it on a dummy intent every N ms (0 = off) */
    warmIntervalMs: number;
    recvWindow: number;
    requestTimeoutMs: number;
    keepAliveMs: number;
    /** dead-man switch: the venue's countdown cancel-all kept armed with this countdown (ms); 0 = off */
    deadManMs: number;
  };
  rings: { marketCapacity: number; intentCapacity: number; reportCapacity: number };
  threads: {
    strategyWait: WaitStrategyKind;
    spinBudgetUs: number;
    /**
     * After publishing an order intent the strategy worker sleeps this long (0 = never), handing its core
     * to the execution worker on boxes without a spare core.
     */
    yieldAfterIntentUs: number;
    /** young generation of the strategy worker (MB); large enough that steady state sees no scavenge */
    strategyYoungGenMb: number;
    /** pin each worker thread to these CPUs (best effort with taskset; {} = no pinning; see src/ops/launch.ts) */
    cpus: ThreadCpus;
  };
  /** Node / V8 flags for the launch command line (deploy/hft.service, `launchPlan`), e.g. --max-semi-space-size=64 */
  node: { flags: string[] };
  /** webhook alarms: kill switch, venue disconnect, 418, drawdown breach, book stuck (src/ops/Alarms.ts) */
  alarms: AlarmsConfig;
  stats: { intervalMs: number };
  log: { level: LogLevel };
}

export { ConfigError };

type Spec =
  | { t: 'int'; min: number; max: number }
  | { t: 'num'; min: number; max: number }
  | { t: 'bool' }
  | { t: 'str'; pattern?: RegExp; allowed?: string }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'strs'; pattern: RegExp; allowed: string; minItems: number }
  | { t: 'obj'; fields: Record<string, Spec> }
  /** { name, params }: params are checked against the named strategy's schema (src/strategy/registry.ts) */
  | { t: 'strategy' }
  /** the risk section: validated by validateRiskConfig, kept as written (sparse) */
  | { t: 'risk' }
  /** a section validated by its own module's validator (errors name the key) */
  | { t: 'custom'; check: (v: unknown, key: string) => unknown };

/** Binance symbols (BTCUSDT) and Gate contracts (BTC_USDT) */
const SYMBOL = /^[A-Z0-9]{1,20}(_[A-Z0-9]{1,10})?$/;
const STREAM = /^(bookTicker|aggTrade|trade|depth(@100ms|@500ms|@0ms)?|depth(5|10|20)(@100ms|@500ms)?|markPrice(@1s)?|forceOrder|kline_(1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d|3d|1w|1M))$/;
const URL_OR_EMPTY = /^$|^(https?|wss?):\/\/[^\s]+$/;

const SCHEMA: Spec = {
  t: 'obj',
  fields: {
    mode: { t: 'enum', values: ['paper', 'shadow', 'live', 'testnet'] },
    venue: {
      t: 'obj',
      fields: {
        name: { t: 'enum', values: ['binance-usdm', 'gate-futures'] },
        embedded: { t: 'bool' },
        restUrl: { t: 'str', pattern: URL_OR_EMPTY, allowed: 'an http(s) URL or ""' },
        wsUrl: { t: 'str', pattern: URL_OR_EMPTY, allowed: 'a ws(s) URL or ""' },
        wsApiUrl: { t: 'str', pattern: URL_OR_EMPTY, allowed: 'a ws(s) URL or ""' },
        sim: {
          t: 'obj',
          fields: {
            rate: { t: 'int', min: 1, max: 200_000 },
            seed: { t: 'int', min: 0, max: 2 ** 31 - 1 },
            port: { t: 'int', min: 0, max: 65535 },
          },
        },
      },
    },
    symbols: { t: 'strs', pattern: SYMBOL, allowed: 'upper-case venue symbols such as BTCUSDT (Binance) or BTC_USDT (Gate)', minItems: 1 },
    feed: {
      t: 'obj',
      fields: {
        streams: { t: 'strs', pattern: STREAM, allowed: 'bookTicker, aggTrade, trade, depth[@100ms|@500ms|@0ms], depth5/10/20[@100ms|@500ms], markPrice[@1s], forceOrder, kline_<interval>', minItems: 1 },
        reconnect: {
          t: 'obj',
          fields: {
            initialMs: { t: 'int', min: 1, max: 60_000 },
            maxMs: { t: 'int', min: 1, max: 600_000 },
            jitter: { t: 'num', min: 0, max: 1 },
          },
        },
        routing: { t: 'enum', values: ['split', 'legacy'] },
        subscribe: { t: 'enum', values: ['url', 'message'] },
        controlPerSecond: { t: 'int', min: 1, max: 10 },
        rotateAfterMs: { t: 'int', min: 0, max: 24 * 3600_000 - 60_000 },
        idleTimeoutMs: { t: 'int', min: 0, max: 3_600_000 },
      },
    },
    book: {
      t: 'obj',
      fields: {
        snapshotLimit: { t: 'int', min: 5, max: 1000 },
        maxResyncsPerMinute: { t: 'int', min: 1, max: 60 },
        resyncBackoffMs: { t: 'int', min: 10, max: 60_000 },
        staleAfterMs: { t: 'int', min: 0, max: 3_600_000 },
      },
    },
    strategy: { t: 'strategy' },
    risk: { t: 'risk' },
    journal: {
      t: 'obj',
      fields: {
        path: { t: 'str', pattern: /^[^\0]{0,4096}$/, allowed: 'a file path, or "" for no journal' },
        synchronous: { t: 'enum', values: ['full', 'normal'] },
        unknownOrders: { t: 'enum', values: ['adopt', 'cancel'] },
      },
    },
    control: {
      t: 'obj',
      fields: {
        enabled: { t: 'bool' },
        host: { t: 'str', pattern: /^[A-Za-z0-9.:-]{1,253}$/, allowed: 'a host name or IP address' },
        port: { t: 'int', min: 0, max: 65535 },
        token: { t: 'str', pattern: /^(|[A-Za-z0-9._~+/=-]{16,200})$/, allowed: '"" (generate one) or 16-200 token characters' },
        tokenFile: { t: 'str', pattern: /^[^\0]{1,4096}$/, allowed: 'a file path' },
        pushHz: { t: 'num', min: 0.1, max: 2 },
      },
    },
    killSwitch: {
      t: 'obj',
      fields: {
        disconnectHaltMs: { t: 'int', min: 0, max: 3_600_000 },
      },
    },
    execution: {
      t: 'obj',
      fields: {
        transport: { t: 'enum', values: ['undici', 'http', 'wsapi'] },
        userStream: { t: 'bool' },
        listenKeyKeepAliveMs: { t: 'int', min: 1000, max: 3_600_000 },
        warmIntervalMs: { t: 'int', min: 0, max: 60_000 },
        recvWindow: { t: 'int', min: 1, max: 60_000 },
        requestTimeoutMs: { t: 'int', min: 10, max: 120_000 },
        keepAliveMs: { t: 'int', min: 1000, max: 600_000 },
        deadManMs: { t: 'int', min: 0, max: 3_600_000 },
      },
    },
    rings: {
      t: 'obj',
      fields: {
        marketCapacity: { t: 'int', min: 16, max: 1 << 22 },
        intentCapacity: { t: 'int', min: 16, max: 1 << 20 },
        reportCapacity: { t: 'int', min: 16, max: 1 << 20 },
      },
    },
    threads: {
      t: 'obj',
      fields: {
        strategyWait: { t: 'enum', values: WAIT_STRATEGIES },
        spinBudgetUs: { t: 'int', min: 0, max: 1_000_000 },
        yieldAfterIntentUs: { t: 'int', min: 0, max: 10_000 },
        strategyYoungGenMb: { t: 'int', min: 0, max: 1024 },
        cpus: { t: 'custom', check: (v, key) => validateThreadCpus(v, key) },
      },
    },
    node: { t: 'obj', fields: { flags: { t: 'custom', check: (v, key) => validateNodeFlags(v, key) } } },
    alarms: { t: 'custom', check: (v) => validateAlarmsConfig(v) },
    stats: { t: 'obj', fields: { intervalMs: { t: 'int', min: 100, max: 3_600_000 } } },
    log: { t: 'obj', fields: { level: { t: 'enum', values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] } } },
  },
};

/** The embedded defaults: paper trading against the built-in simulator, no keys needed. */
export const DEFAULT_CONFIG: EngineConfig = {
  mode: 'paper',
  venue: { name: 'binance-usdm', embedded: true, restUrl: '', wsUrl: '', wsApiUrl: '', sim: { rate: 2000, seed: 42, port: 0 } },
  symbols: ['BTCUSDT', 'ETHUSDT'],
  feed: {
    streams: ['bookTicker', 'aggTrade', 'depth@100ms'],
    reconnect: { initialMs: 100, maxMs: 10_000, jitter: 0.3 },
    routing: 'split',
    subscribe: 'url',
    controlPerSecond: 4,
    rotateAfterMs: 23 * 3600_000,
    idleTimeoutMs: 0,
  },
  book: { snapshotLimit: 1000, maxResyncsPerMinute: 6, resyncBackoffMs: 250, staleAfterMs: 0 },
  // the registry's defaults: ping-pong's own parameters and the shared exit and sizing ones (all off)
  strategy: { name: 'ping-pong', params: strategyDefaults('ping-pong') },
  // the event-bus system's rules, sized for paper trading on the simulator's BTC and ETH (spreads of a tick:
  // no minimum spread; no notional cap beyond the quantity caps); no pause after losing round trips: the
  // demo strategy (ping-pong) pays the spread on every one
  risk: { preset: 'eventBus', maxOrderQty: 0.01, maxPositionQty: 0.01, maxPositionNotional: 0, minSpreadBps: 0, maxConsecutiveLosses: 0 },
  // no journal unless a file names one (config/default.json does): tests and benches keep none
  journal: { path: '', synchronous: 'full', unknownOrders: 'cancel' },
  // the dashboard on any free port unless a file names one (config/default.json: 8787)
  control: { enabled: true, host: '127.0.0.1', port: 0, token: '', tokenFile: '.hft/control-token', pushHz: 2 },
  killSwitch: { disconnectHaltMs: 10_000 },
  execution: { transport: 'undici', userStream: true, listenKeyKeepAliveMs: 30 * 60_000, warmIntervalMs: 0, recvWindow: 5000, requestTimeoutMs: 5000, keepAliveMs: 60_000, deadManMs: 0 },
  rings: { marketCapacity: 65536, intentCapacity: 1024, reportCapacity: 1024 },
  threads: { strategyWait: 'spin-then-park', spinBudgetUs: 50, yieldAfterIntentUs: 0, strategyYoungGenMb: 64, cpus: {} },
  node: { flags: [] },
  alarms: validateAlarmsConfig(undefined),
  stats: { intervalMs: 5000 },
  log: { level: 'info' },
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const show = showValue;

function validate(spec: Spec, v: unknown, key: string): unknown {
  switch (spec.t) {
    case 'int':
    case 'num': {
      if (typeof v !== 'number' || !Number.isFinite(v) || (spec.t === 'int' && !Number.isInteger(v))) {
        throw new ConfigError(key, `must be ${spec.t === 'int' ? 'an integer' : 'a number'} between ${spec.min} and ${spec.max}; got ${show(v)}`);
      }
      if (v < spec.min || v > spec.max) throw new ConfigError(key, `must be between ${spec.min} and ${spec.max}; got ${show(v)}`);
      return v;
    }
    case 'bool':
      if (typeof v !== 'boolean') throw new ConfigError(key, `must be true or false; got ${show(v)}`);
      return v;
    case 'str':
      if (typeof v !== 'string' || (spec.pattern && !spec.pattern.test(v))) {
        throw new ConfigError(key, `must be ${spec.allowed ?? 'a string'}; got ${show(v)}`);
      }
      return v;
    case 'enum':
      if (typeof v !== 'string' || !spec.values.includes(v)) throw new ConfigError(key, `must be one of ${spec.values.join(', ')}; got ${show(v)}`);
      return v;
    case 'strs':
      if (!Array.isArray(v) || v.length < spec.minItems) throw new ConfigError(key, `must be a list of at least ${spec.minItems} (${spec.allowed}); got ${show(v)}`);
      v.forEach((x, i) => {
        if (typeof x !== 'string' || !spec.pattern.test(x)) throw new ConfigError(`${key}[${i}]`, `must be ${spec.allowed}; got ${show(x)}`);
      });
      if (new Set(v).size !== v.length) throw new ConfigError(key, `must not repeat an entry; got ${show(v)}`);
      return [...(v as string[])];
    case 'obj': {
      if (!isObj(v)) throw new ConfigError(key || '(root)', `must be an object; got ${show(v)}`);
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        if (!(k in spec.fields)) throw new ConfigError(key ? `${key}.${k}` : k, `is not a known key; allowed here: ${Object.keys(spec.fields).join(', ')}`);
      }
      for (const [k, s] of Object.entries(spec.fields)) {
        const sub = key ? `${key}.${k}` : k;
        if (!(k in v)) throw new ConfigError(sub, 'is missing');
        out[k] = validate(s, v[k], sub);
      }
      return out;
    }
    case 'custom':
      return spec.check(v, key);
    case 'risk': {
      if (!isObj(v)) throw new ConfigError(key, `must be an object; got ${show(v)}`);
      const section: Record<string, unknown> = { ...v };
      if ('maxPosition' in section) {
        if ('maxPositionQty' in section) throw new ConfigError(`${key}.maxPosition`, 'is the old name of maxPositionQty; give one of them');
        section.maxPositionQty = section.maxPosition;
        delete section.maxPosition;
      }
      validateRiskConfig(section, key);
      return section;
    }
    case 'strategy': {
      if (!isObj(v)) throw new ConfigError(key, `must be an object; got ${show(v)}`);
      for (const k of Object.keys(v)) {
        if (k !== 'name' && k !== 'params') throw new ConfigError(`${key}.${k}`, 'is not a known key; allowed here: name, params');
      }
      const names = strategyNames();
      if (typeof v.name !== 'string' || !names.includes(v.name)) throw new ConfigError(`${key}.name`, `must be one of ${names.join(', ')}; got ${show(v.name)}`);
      return { name: v.name, params: validateStrategyParams(v.name, v.params ?? {}, `${key}.params`) };
    }
  }
}

function merge(base: Json, over: Json): Json {
  if (isObj(base) && isObj(over)) {
    const out: Record<string, Json> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? merge(base[k] as Json, v as Json) : (v as Json);
    return out;
  }
  return over;
}

/** Applies HFT_A__B__C=value overrides (keys are matched case-insensitively against the defaults' keys). */
export function applyEnv(cfg: Json, env: NodeJS.ProcessEnv): Json {
  let out = cfg;
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('HFT_') || raw === undefined) continue;
    if (['HFT_API_KEY', 'HFT_API_SECRET', 'HFT_KEY_FILE', 'HFT_CONFIG'].includes(name)) continue;
    const path = name.slice(4).split('__').map((p) => p.toLowerCase());
    let value: Json;
    try {
      value = JSON.parse(raw) as Json;
    } catch {
      value = raw;
    }
    const patch: Json = {};
    let cur: Record<string, Json> = patch as Record<string, Json>;
    let ref: Json = out;
    for (let i = 0; i < path.length; i++) {
      const want = path[i]!;
      const actual = isObj(ref) ? (Object.keys(ref).find((k) => k.toLowerCase() === want) ?? want) : want;
      if (i === path.length - 1) cur[actual] = value;
      else {
        const next: Record<string, Json> = {};
        cur[actual] = next;
        cur = next;
        ref = isObj(ref) ? (ref[actual] as Json) : null;
      }
    }
    out = merge(out, patch);
  }
  return out;
}

/** Validates a whole configuration object (file content merged over the defaults, env applied). */
export function validateConfig(raw: unknown): EngineConfig {
  const cfg = validate(SCHEMA, raw, '') as EngineConfig;
  checkStrategySymbols(cfg.strategy.name, cfg.strategy.params, cfg.symbols, 'strategy.params');
  if (cfg.feed.reconnect.maxMs < cfg.feed.reconnect.initialMs) {
    throw new ConfigError('feed.reconnect.maxMs', `must be >= feed.reconnect.initialMs (${cfg.feed.reconnect.initialMs}); got ${cfg.feed.reconnect.maxMs}`);
  }
  for (const k of ['marketCapacity', 'intentCapacity', 'reportCapacity'] as const) {
    const c = cfg.rings[k];
    if ((c & (c - 1)) !== 0) throw new ConfigError(`rings.${k}`, `must be a power of two; got ${c}`);
  }
  if (!cfg.venue.embedded && (!cfg.venue.restUrl || !cfg.venue.wsUrl)) {
    throw new ConfigError('venue.restUrl', 'and venue.wsUrl must be set when venue.embedded is false');
  }
  if (cfg.mode === 'live') {
    throw new ConfigError('mode', '"live" is not available yet: this build trades on paper, in shadow of a venue or on the venue\'s testnet (allowed: paper, shadow, testnet)');
  }
  if (cfg.venue.name === 'gate-futures') {
    const bad = cfg.symbols.find((x) => !x.includes('_'));
    if (bad !== undefined) throw new ConfigError('symbols', `on gate-futures must be contracts such as BTC_USDT; got ${JSON.stringify(bad)}`);
    if (cfg.mode !== 'paper' || !cfg.venue.embedded) throw new ConfigError('venue.name', 'gate-futures runs in paper mode on the embedded simulator in this build');
  } else {
    const bad = cfg.symbols.find((x) => x.includes('_'));
    if (bad !== undefined) throw new ConfigError('symbols', `on binance-usdm must be symbols such as BTCUSDT; got ${JSON.stringify(bad)}`);
  }
  if (cfg.mode === 'shadow') {
    // The real venue only supplies market data: orders go to the embedded simulator mirroring it, never to the venue.
    if (!cfg.venue.embedded) throw new ConfigError('venue.embedded', 'must be true in shadow mode (orders are filled by the embedded simulator, which mirrors the venue\'s market data)');
    if (!/^https?:\/\//.test(cfg.venue.restUrl) || !/^wss?:\/\//.test(cfg.venue.wsUrl)) {
      throw new ConfigError('venue.restUrl', `and venue.wsUrl must be the real venue's REST and market-data WebSocket bases in shadow mode; got ${JSON.stringify(cfg.venue.restUrl)} and ${JSON.stringify(cfg.venue.wsUrl)}`);
    }
    if (cfg.venue.wsApiUrl !== '') throw new ConfigError('venue.wsApiUrl', `must be "" in shadow mode (orders never go to the venue); got ${JSON.stringify(cfg.venue.wsApiUrl)}`);
  }
  if (cfg.mode === 'testnet' && cfg.venue.embedded) {
    throw new ConfigError('venue.embedded', 'must be false in testnet mode (the testnet is a real venue; see config/testnet.json)');
  }
  const validLimits = [5, 10, 20, 50, 100, 500, 1000];
  if (!validLimits.includes(cfg.book.snapshotLimit)) {
    throw new ConfigError('book.snapshotLimit', `must be one of ${validLimits.join(', ')}; got ${cfg.book.snapshotLimit}`);
  }
  return cfg;
}

/**
 * Loads a config file (JSON) over the embedded defaults, applies environment overrides and validates.
 * `path` undefined = the defaults alone.
 */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): EngineConfig {
  let fileCfg: Json = {};
  if (path !== undefined) {
    if (!existsSync(path)) throw new ConfigError('(file)', `${path} does not exist`);
    try {
      fileCfg = JSON.parse(readFileSync(path, 'utf8')) as Json;
    } catch (e) {
      throw new ConfigError('(file)', `${path} is not valid JSON: ${(e as Error).message}`);
    }
    if (!isObj(fileCfg)) throw new ConfigError('(file)', `${path} must hold a JSON object`);
  }
  // a file's risk section replaces the embedded one: its preset must not be overridden by the default's keys
  const base = isObj(fileCfg) && isObj(fileCfg.risk) ? { ...DEFAULT_CONFIG, risk: {} } : DEFAULT_CONFIG;
  let merged = applyEnv(merge(base as unknown as Json, fileCfg), env);
  const name = isObj(merged) && isObj(merged.strategy) ? merged.strategy.name : undefined;
  if (typeof name === 'string' && name !== DEFAULT_CONFIG.strategy.name && strategyNames().includes(name)) {
    // Another strategy: its params start from its own defaults, not ping-pong's (whose keys it would refuse).
    const withStrategy = { ...base, strategy: { name, params: strategyDefaults(name) } };
    merged = applyEnv(merge(withStrategy as unknown as Json, fileCfg), env);
  }
  return validateConfig(merged);
}

export interface Credentials {
  apiKey: string;
  apiSecret: string;
}

/** Credentials for a real venue: HFT_API_KEY/HFT_API_SECRET, or HFT_KEY_FILE (JSON {apiKey, apiSecret}). */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  if (env.HFT_API_KEY && env.HFT_API_SECRET) return { apiKey: env.HFT_API_KEY, apiSecret: env.HFT_API_SECRET };
  if (env.HFT_KEY_FILE) {
    const j = JSON.parse(readFileSync(env.HFT_KEY_FILE, 'utf8')) as Partial<Credentials>;
    if (typeof j.apiKey !== 'string' || typeof j.apiSecret !== 'string') {
      throw new ConfigError('HFT_KEY_FILE', 'must name a JSON file with string fields apiKey and apiSecret');
    }
    return { apiKey: j.apiKey, apiSecret: j.apiSecret };
  }
  return undefined;
}
