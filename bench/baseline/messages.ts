/**
 * Message shapes of the naive baseline pipeline (bench/baseline). Everything here travels by
 * `postMessage` (structured clone): that is the point of the baseline, it is what a typical Node bot
 * does, and the engine is measured against it.
 *
 *   feed ──port A──► strategy ──port B──► exec          (ticks, orders; `eof` closes each hop in order)
 *                        ▲                    │
 *                        └─────── port B ◄────┘          (ack / reject back on the same channel)
 *   every worker ◄── parentPort ──► main                 (ready, window, stop, done, error)
 */
import type { MessagePort } from 'node:worker_threads';
import type { StageSummary } from '../../src/metrics/StageHistograms.js';

export type Role = 'feed' | 'strategy' | 'exec';

/** A market-data tick as a naive feed builds it: one plain object per frame. */
export interface Tick {
  kind: 'tick';
  /** Event type of the frame: bookTicker, aggTrade or trade. */
  event: string;
  stream: string;
  symbol: string;
  /** Best bid / ask (last seen for the symbol on trade frames; NaN before the first bookTicker). */
  bid: number;
  ask: number;
  bidQty: number;
  askQty: number;
  /** Mid on bookTicker frames, trade price on trade frames. */
  price: number;
  /** Trade quantity (0 on bookTicker frames). */
  qty: number;
  /** Venue event time, ms. */
  eventTime: number;
  /** Receive time of the frame, ns since the shared process epoch (util/clock). */
  recvTs: number;
}

export interface OrderIntent {
  kind: 'order';
  id: number;
  side: 'BUY' | 'SELL';
  symbol: string;
  quantity: string;
  type: 'MARKET';
  /** recvTs of the tick that triggered the order. */
  recvTs: number;
  /** Decided by the strategy from the tick's recvTs: inside the measurement window or not. */
  measured: boolean;
}

export interface OrderReply {
  kind: 'ack' | 'reject';
  id: number;
  measured: boolean;
  /** Venue order status on an ack (e.g. FILLED), empty on a reject. */
  status: string;
  /** HTTP status; 0 when the request failed before a response. */
  httpStatus: number;
  /** Venue error code on a reject (negative), 0 otherwise. */
  code: number;
  msg: string;
}

export interface Eof {
  kind: 'eof';
}

export type FeedToStrategy = Tick | Eof;
export type StrategyToExec = OrderIntent | Eof;
export type ExecToStrategy = OrderReply;

/** Main -> worker control messages. */
export type Control =
  /** Measurement window, ns since the shared epoch: [fromNs, toNs). */
  | { kind: 'window'; fromNs: number; toNs: number }
  /** Feed only: close the WebSocket and send `eof` downstream. */
  | { kind: 'stop' };

export interface FeedStats {
  frames: number;
  ticks: number;
  ignored: number;
  parseErrors: number;
}

export interface StrategyStats {
  ticksTotal: number;
  ticksMeasured: number;
  ordersTotal: number;
  ordersMeasured: number;
  acksSeen: number;
  rejectsSeen: number;
}

export interface ExecStats {
  ordersReceived: number;
  ordersMeasured: number;
  acks: number;
  rejects: number;
  /** Requests still unanswered when the drain timed out. */
  inFlightAtEnd: number;
  /** Measured orders whose send time came from undici's `undici:request:bodySent` channel. */
  sendTsFromChannel: number;
  /** Measured orders whose send time fell back to the clock read just before `fetch()`. */
  sendTsFallbacks: number;
  tickToOrder: StageSummary;
  venueRtt: StageSummary;
  /** Extra, for the breakdown: order read by exec -> body written (signing + fetch's own overhead). */
  send: StageSummary;
  /** hdr-histogram-js compressed base64 encodings, for a caller that wants to merge histograms. */
  tickToOrderEncoded: string;
  venueRttEncoded: string;
}

/** Worker -> main messages. */
export type WorkerReport =
  | { kind: 'ready'; role: Role }
  | { kind: 'error'; role: Role; message: string }
  | { kind: 'done'; role: 'feed'; stats: FeedStats }
  | { kind: 'done'; role: 'strategy'; stats: StrategyStats }
  | { kind: 'done'; role: 'exec'; stats: ExecStats };

/** workerData of each worker; `upstream` / `downstream` are MessagePorts moved in the transfer list. */
export interface FeedWorkerData {
  epoch: bigint;
  wsUrl: string;
  streams: string[];
  /** To the strategy worker. */
  downstream: MessagePort;
}

export interface StrategyWorkerData {
  epoch: bigint;
  orderEvery: number;
  symbol: string;
  quantity: string;
  /** From the feed worker. */
  upstream: MessagePort;
  /** To (and back from) the exec worker. */
  downstream: MessagePort;
}

export interface ExecWorkerData {
  epoch: bigint;
  restUrl: string;
  apiKey: string;
  apiSecret: string;
  /** Max time to wait for in-flight orders after `eof`. */
  drainMs: number;
  /** From (and back to) the strategy worker. */
  upstream: MessagePort;
}
