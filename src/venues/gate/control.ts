import { signChannel } from './sign.js';

/**
 * Gate WebSocket control messages (protocols.md §2.2, §2.3): the outgoing subscribe / unsubscribe / ping
 * JSON, and the decoding of their replies. Cold path (a handful per connection): strings and JSON.parse are fine.
 */

export type GateEvent = 'subscribe' | 'unsubscribe';

/** `{"time":<s>,"channel":<c>,"event":<e>,"payload":[...]}` (with `id` when given). */
export function gateSubscribeMessage(channel: string, payload: readonly string[], timeS: number, event: GateEvent = 'subscribe', id?: number): string {
  const idPart = id === undefined ? '' : `,"id":${id}`;
  return `{"time":${Math.floor(timeS)}${idPart},"channel":${JSON.stringify(channel)},"event":"${event}","payload":${JSON.stringify(payload)}}`;
}

/**
 * A private-channel subscription (futures.orders, futures.usertrades, futures.positions, ...): payload
 * `[userId, contract | "!all"]`, and `auth` signed over `channel=<c>&event=<e>&time=<s>`.
 */
export function gatePrivateSubscribeMessage(
  channel: string,
  payload: readonly string[],
  timeS: number,
  apiKey: string,
  apiSecret: string,
  event: GateEvent = 'subscribe',
  id?: number,
): string {
  const t = Math.floor(timeS);
  const sign = signChannel(apiSecret, channel, event, t);
  const idPart = id === undefined ? '' : `,"id":${id}`;
  return `{"time":${t}${idPart},"channel":${JSON.stringify(channel)},"event":"${event}","payload":${JSON.stringify(payload)},"auth":{"method":"api_key","KEY":${JSON.stringify(apiKey)},"SIGN":"${sign}"}}`;
}

/** The application-level ping: `{"time":<s>,"channel":"futures.ping"}` (answered by futures.pong). */
export function gatePingMessage(timeS: number): string {
  return `{"time":${Math.floor(timeS)},"channel":"futures.ping"}`;
}

/**
 * Stream kinds of the engine's config -> Gate subscriptions for a list of contracts:
 * `book_ticker`, `trades`, `tickers` (one message for all contracts), `order_book_update@<freq>[@<level>]`
 * (one per contract: `[contract, "100ms", "100"]`), `candlesticks@<interval>` (one per contract:
 * `[interval, contract]`).
 */
export function gateMarketSubscriptions(contracts: readonly string[], streams: readonly string[], timeS: number): string[] {
  const out: string[] = [];
  for (const s of streams) {
    const [kind, a, b] = s.split('@') as [string, string?, string?];
    switch (kind) {
      case 'book_ticker':
      case 'trades':
      case 'tickers':
        out.push(gateSubscribeMessage(`futures.${kind}`, contracts, timeS));
        break;
      case 'order_book_update': {
        const freq = a ?? '100ms';
        if (freq !== '20ms' && freq !== '100ms') throw new Error(`gate: order_book_update frequency must be 20ms or 100ms; got ${freq}`);
        const level = b ?? (freq === '20ms' ? '20' : '100');
        if (!['100', '50', '20'].includes(level) || (freq === '20ms' && level !== '20')) throw new Error(`gate: order_book_update level ${level} not allowed at ${freq}`);
        for (const c of contracts) out.push(gateSubscribeMessage('futures.order_book_update', [c, freq, level], timeS));
        break;
      }
      case 'candlesticks': {
        const iv = a ?? '1m';
        if (!['10s', '1m', '5m', '15m', '30m', '1h', '4h', '8h', '1d', '7d'].includes(iv)) throw new Error(`gate: candlestick interval ${iv} not allowed`);
        for (const c of contracts) out.push(gateSubscribeMessage('futures.candlesticks', [iv, c], timeS));
        break;
      }
      default:
        throw new Error(`gate: unknown stream kind ${JSON.stringify(s)} (book_ticker, trades, tickers, order_book_update@FREQ[@LEVEL], candlesticks@INTERVAL)`);
    }
  }
  return out;
}

export type GateControlKind = 'ack' | 'error' | 'pong' | 'other';

export interface GateControlReply {
  kind: GateControlKind;
  channel: string;
  event: string;
  /** the request `id` echoed, or -1 */
  id: number;
  /** error code (1 invalid argument struct, 2 invalid argument, 3 service error, 4 authentication fail), 0 if none */
  code: number;
  message: string;
}

/** Decodes a subscribe / unsubscribe reply or a pong (the frames GateMarketDecoder returns Control for). */
export function decodeGateControl(frame: string | Uint8Array): GateControlReply {
  const text = typeof frame === 'string' ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8');
  const reply: GateControlReply = { kind: 'other', channel: '', event: '', id: -1, code: 0, message: '' };
  let o: Record<string, unknown>;
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return reply;
    o = v as Record<string, unknown>;
  } catch {
    return reply;
  }
  reply.channel = typeof o['channel'] === 'string' ? o['channel'] : '';
  reply.event = typeof o['event'] === 'string' ? o['event'] : '';
  if (typeof o['id'] === 'number') reply.id = o['id'];
  const err = o['error'];
  if (err !== null && err !== undefined) {
    reply.kind = 'error';
    if (typeof err === 'object') {
      const e = err as Record<string, unknown>;
      reply.code = typeof e['code'] === 'number' ? e['code'] : Number(e['code']) || 0;
      reply.message = typeof e['message'] === 'string' ? e['message'] : '';
    } else reply.message = String(err);
    return reply;
  }
  if (reply.channel === 'futures.pong') {
    reply.kind = 'pong';
    return reply;
  }
  if (reply.event === 'subscribe' || reply.event === 'unsubscribe') {
    const res = o['result'] as { status?: unknown } | null | undefined;
    if (res && res.status === 'success') reply.kind = 'ack';
    else if (res && typeof res.status === 'string') {
      reply.kind = 'error';
      reply.message = res.status;
    }
  }
  return reply;
}
