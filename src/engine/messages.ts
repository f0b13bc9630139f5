import type { GateContractRules } from '../venues/gate/contracts.js';
import type { RiskConfig } from '../risk/RiskConfig.js';
import type { FeedOptions } from '../feed/FeedHandler.js';
import type { SymbolFilters } from '../venues/binance/filters.js';
import type { StageName } from '../metrics/StageHistograms.js';
import type { RingDescriptor } from '../ring/SpscRing.js';
import type { Instrument } from '../core/Instrument.js';
import type { StrategyConfig } from '../config/Config.js';
import type { StrategyControl } from '../strategy/control.js';
import type { WaitStrategyKind } from '../ring/WaitStrategy.js';

export type WorkerName = 'feed' | 'strategy' | 'execution';

/** Off-hot-path messages from a worker to main (postMessage). */
export type WorkerMessage =
  | { type: 'ready'; worker: WorkerName }
  | { type: 'stats'; worker: WorkerName; final: boolean; hist: Partial<Record<StageName, string>>; counters: Record<string, number>; gc: GcCounts }
  | { type: 'log'; worker: WorkerName; level: 'info' | 'warn' | 'error'; msg: string }
  | { type: 'fatal'; worker: WorkerName; error: string };

export type MainMessage =
  | { type: 'stop' }
  | { type: 'flushStats' }
  /** strategy worker only: applied at the next slice boundary (already validated by main) */
  | { type: 'strategyControl'; control: StrategyControl }
  /** the control plane's trading state (strategy worker): halt, resume, reduce-only, flatten */
  | { type: 'trading'; action: TradingAction };

export type TradingAction = 'halt' | 'resume' | 'reduce-only' | 'flatten';

export interface GcCounts {
  minor: number;
  major: number;
  /** total pause, ms */
  pauseMs: number;
}

interface Common {
  epoch: bigint;
  symbols: string[];
  statsIntervalMs: number;
}

export interface FeedInit extends Common {
  ringA: RingDescriptor;
  /** everything FeedHandler needs except the ring and the histogram */
  feed: Omit<FeedOptions, 'decodeHist' | 'onStatus'>;
}

export interface StrategyInit extends Common {
  ringA: RingDescriptor;
  ringB: RingDescriptor;
  ringC: RingDescriptor;
  /** Int32Array word 0: stop flag */
  control: SharedArrayBuffer;
  instruments: Instrument[];
  strategy: StrategyConfig;
  /** the whole risk config (validateRiskConfig of the config's section) */
  risk: RiskConfig;
  /** kill switch: halt after the market data has been down this long (ms; 0 = never) */
  disconnectHaltMs: number;
  wait: WaitStrategyKind;
  spinBudgetUs: number;
  /** sleep this long after publishing an intent (0 = never) */
  yieldAfterIntentUs: number;
}

export interface ExecutionInit extends Common {
  ringB: RingDescriptor;
  ringC: RingDescriptor;
  /** the venue's dialect: Binance (ExecutionService) or Gate (GateExecutionService) */
  venue: 'binance' | 'gate';
  /** Gate only: contract rules by symbol id, the private-channel URL and the account's user id */
  gate?: { contracts: GateContractRules[]; wsUrl: string; userId: number };
  /** the journal's feed ring (intents and reports are copied into it), when a journal is kept */
  journalFeed?: RingDescriptor;
  instruments: Instrument[];
  /** exchangeInfo filters per symbol (same order as instruments): checked before an order is sent */
  filters: SymbolFilters[];
  restUrl: string;
  /** 'wsapi': orders over the WebSocket API while it is connected, REST otherwise */
  transport: 'undici' | 'http' | 'wsapi';
  /** WebSocket API URL (`.../ws-fapi/v1`) */
  wsApiUrl: string;
  /** keep a user data stream (listenKey) writing fills and account updates into ring C */
  userStream: boolean;
  /** user-data WebSocket base (the market-data base URL) */
  userStreamWsUrl: string;
  /** legacy `/ws/<listenKey>` or the 2026 `/private/ws?listenKey=...` */
  userStreamUrlStyle: 'legacy' | 'private';
  listenKeyKeepAliveMs: number;
  /** run the encoder on a dummy intent this often to keep it hot (0 = off) */
  warmIntervalMs: number;
  apiKey: string;
  apiSecret: string;
  recvWindow: number;
  requestTimeoutMs: number;
  keepAliveMs: number;
  /** countdown cancel-all (ms; 0 = off) */
  deadManMs: number;
  clientIdPrefix: string;
  /** venue clock minus local wall clock, ms */
  timeOffsetMs: number;
}
