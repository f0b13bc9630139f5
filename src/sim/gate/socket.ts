import type { WebSocket } from 'uWebSockets.js';
import type { SimAccount } from '../Venue.js';
import { toJson, type Json } from './json.js';

/** Private channels served (protocols.md §2.6). */
export type PrivateChannel = 'futures.orders' | 'futures.usertrades' | 'futures.positions' | 'futures.balances';

/** One private subscription: an account's events of a channel, for one contract or all (`!all`). */
export interface PrivateSub {
  readonly sock: GateSocket;
  readonly acc: SimAccount;
  readonly channel: PrivateChannel;
  /** Contract name, null for all. */
  readonly contract: string | null;
}

/** Per-connection state of a `/v4/ws/usdt` socket (market data, private channels and the WS API share it). */
export interface GateSocket {
  readonly id: number;
  /** 16 hex digits, as `conn_id` in WS API headers. */
  readonly connId: string;
  /** `<ip>-0x<hex>` as `client_id`. */
  readonly clientId: string;
  ws: WebSocket<GateSocket> | null;
  closed: boolean;
  /** Frames waiting for the next flush. */
  readonly pending: string[];
  /** Public subscription keys (`channel|arg...`), to undo on unsubscribe / close. */
  readonly pub: Set<string>;
  readonly priv: PrivateSub[];
  /** Account logged in with `futures.login` (null before). */
  login: SimAccount | null;
  lastPong: number;
  /** The connection sent a WS API request (a target of `api` faults). */
  apiUsed?: boolean;
}

/** A server push: `{"time","time_ms","channel","event":"update","result"}` (fixtures key order). */
export function updateFrame(channel: string, now: number, result: Json): string {
  return `{"time":${Math.floor(now / 1000)},"time_ms":${now},"channel":"${channel}","event":"update","result":${toJson(result)}}`;
}
