import { randomBytes } from 'node:crypto';
import type { SimAccount } from '../Venue.js';
import { GE, type GateError } from './errors.js';
import { toJson, type Json } from './json.js';
import { verifyHex512, wsApiSignString } from './signing.js';
import type { GateSocket } from './socket.js';
import type { GateContext, GateTrading, Outcome, RateInfo } from './trading.js';

/** Request `time` / login `timestamp` tolerance (s). */
const MAX_SKEW_S = 60;

/**
 * Gate futures WebSocket API on the market-data socket (protocols.md §2.7): `event:"api"` requests with
 * `payload {req_id, req_param[, api_key, signature, timestamp]}`. `futures.login` authenticates the
 * connection (signature over `api\nfutures.login\n\n<timestamp>`); order channels then run as that
 * account, or as the account of a per-request signature. `order_place` (and `order_batch_place`) answer
 * an ack (`ack:true`, the request echoed) and then the result; the other channels the result only.
 * Errors: `data.errs {label, message}` with the HTTP-like status in the header.
 */
export class GateWsApi {
  requests = 0;

  constructor(
    private readonly ctx: GateContext,
    private readonly trading: GateTrading,
  ) {}

  /** Frames to send back, in order. `inUs`: receive time (µs). */
  handle(sock: GateSocket, msg: Record<string, unknown>, text: string, inUs: number): string[] {
    this.requests++;
    sock.apiUsed = true;
    const now = this.ctx.now();
    // x_in_time on the venue clock (it moves with an injected clock skew; clients estimate their offset from it)
    const inVenueUs = inUs + (now - Date.now()) * 1000;
    const channel = typeof msg['channel'] === 'string' ? msg['channel'] : '';
    const payload = isObject(msg['payload']) ? msg['payload'] : {};
    const reqId = typeof payload['req_id'] === 'string' ? payload['req_id'] : payload['req_id'] === undefined ? '' : String(payload['req_id']);
    const traceId = randomBytes(16).toString('hex');

    const header = (status: number, rate: RateInfo | undefined, full: boolean): Record<string, Json> => {
      const h: Record<string, Json> = { response_time: String(this.ctx.now()), status: String(status), channel, event: 'api', client_id: sock.clientId };
      if (!full) return h;
      h['x_in_time'] = inVenueUs;
      h['x_out_time'] = this.ctx.now() * 1000;
      h['conn_id'] = sock.connId;
      h['conn_trace_id'] = sock.connId + sock.connId;
      h['trace_id'] = traceId;
      if (rate) {
        h['x_gate_ratelimit_requests_remain'] = rate.remain;
        h['x_gate_ratelimit_limit'] = rate.limit;
        h['x_gate_ratelimit_reset_timestamp'] = rate.reset;
      }
      return h;
    };
    const result = (value: Json, rate?: RateInfo): string => toJson({ request_id: reqId, ack: false, header: header(200, rate, true), data: { result: value } });
    const fail = (e: GateError, rate?: RateInfo): string =>
      toJson({ request_id: reqId, ack: false, header: header(e.http, rate, true), data: { errs: { label: e.label, message: e.message } } });
    const outcome = <T extends Json>(r: Outcome<T>): string => (r.ok ? result(r.value, r.rate) : fail(r.error, r.rate));

    const t = msg['time'];
    if (typeof t === 'number' && Math.abs(now / 1000 - t) > MAX_SKEW_S) return [fail(GE.requestExpired())];

    if (channel === 'futures.login') {
      const r = this.login(payload, now);
      if ('label' in r) return [fail(r)];
      sock.login = r.acc;
      // The real login reply: header (short form), data, request_id.
      return [toJson({ header: header(200, undefined, false), data: { result: { uid: String(this.trading.uid(r.acc)), api_key: r.acc.apiKey } }, request_id: reqId })];
    }

    const known = ['futures.order_place', 'futures.order_batch_place', 'futures.order_cancel', 'futures.order_cancel_cp', 'futures.order_status', 'futures.order_list'];
    if (!known.includes(channel)) return [fail(GE.invalidParam('channel', channel))];
    const auth = this.account(sock, payload, channel, text, now);
    if ('label' in auth) return [fail(auth)];
    const acc = auth.acc;
    const param = payload['req_param'];
    const p = isObject(param) ? param : {};

    switch (channel) {
      case 'futures.order_place': {
        const r = this.trading.placeOrder(acc, param, now);
        const ack = toJson({ request_id: reqId, ack: true, header: header(200, r.rate, true), data: { result: { req_id: reqId, req_param: (param ?? null) as Json } } });
        return [ack, outcome(r)];
      }
      case 'futures.order_batch_place': {
        if (!Array.isArray(param) || param.length === 0 || param.length > 20) return [fail(GE.invalidBody('req_param must be a list of 1 to 20 orders'))];
        let rate: RateInfo | undefined;
        const out: Json[] = [];
        for (const item of param) {
          const r = this.trading.placeOrder(acc, item, now);
          rate = r.rate ?? rate;
          out.push(r.ok ? { succeeded: true, ...(r.value as Record<string, Json>) } : { succeeded: false, label: r.error.label, detail: r.error.message });
        }
        const ack = toJson({ request_id: reqId, ack: true, header: header(200, rate, true), data: { result: { req_id: reqId, req_param: param as Json } } });
        return [ack, result(out, rate)];
      }
      case 'futures.order_cancel': {
        const id = orderRef(p, text);
        if (id === null) return [fail(GE.missingParam('order_id'))];
        return [outcome(this.trading.cancelOrder(acc, id, now))];
      }
      case 'futures.order_status': {
        const id = orderRef(p, text);
        if (id === null) return [fail(GE.missingParam('order_id'))];
        return [outcome(this.trading.getOrder(acc, id, now))];
      }
      case 'futures.order_cancel_cp':
        return [outcome(this.trading.cancelAll(acc, str(p['contract']), str(p['side']), now))];
      default: {
        const lim = typeof p['limit'] === 'number' ? Math.min(1000, Math.max(1, Math.floor(p['limit']))) : 100;
        return [outcome(this.trading.listOrders(acc, str(p['contract']), str(p['status']), lim))];
      }
    }
  }

  private login(payload: Record<string, unknown>, now: number): { acc: SimAccount } | GateError {
    const key = payload['api_key'];
    const sig = payload['signature'];
    const ts = payload['timestamp'];
    if (typeof key !== 'string' || key === '') return GE.invalidKey();
    const acc = this.ctx.core.accountByApiKey(key);
    if (!acc) return GE.invalidKey();
    const tss = typeof ts === 'number' ? String(ts) : typeof ts === 'string' ? ts : '';
    if (!/^\d{1,12}$/.test(tss) || Math.abs(now / 1000 - Number(tss)) > MAX_SKEW_S) return GE.requestExpired();
    if (typeof sig !== 'string' || !verifyHex512(acc.apiSecret, wsApiSignString('futures.login', '', tss), sig)) return GE.invalidSignature();
    return { acc };
  }

  /** The connection's login, or a per-request signature over the req_param JSON as sent. */
  private account(sock: GateSocket, payload: Record<string, unknown>, channel: string, text: string, now: number): { acc: SimAccount } | GateError {
    const sig = payload['signature'];
    if (typeof sig === 'string' && sig !== '') {
      const key = payload['api_key'];
      const acc = typeof key === 'string' ? this.ctx.core.accountByApiKey(key) : undefined;
      if (!acc) return GE.invalidKey();
      const ts = payload['timestamp'];
      const tss = typeof ts === 'number' ? String(ts) : typeof ts === 'string' ? ts : '';
      if (!/^\d{1,12}$/.test(tss) || Math.abs(now / 1000 - Number(tss)) > MAX_SKEW_S) return GE.requestExpired();
      const raw = rawValue(text, 'req_param');
      const candidates = [raw, JSON.stringify(payload['req_param'] ?? '')].filter((x): x is string => x !== null);
      for (const c of candidates) if (verifyHex512(acc.apiSecret, wsApiSignString(channel, c, tss), sig)) return { acc };
      return GE.invalidSignature();
    }
    if (sock.login) return { acc: sock.login };
    return { http: 401, label: 'INVALID_KEY', message: 'Not logged in: send futures.login first or sign the request' };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * `order_id` of a cancel / status request: a string as documented; a JSON number is read from the raw
 * text, since a double would have rounded an id above 2^53.
 */
function orderRef(p: Record<string, unknown>, text: string): string | null {
  const v = p['order_id'];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number') {
    const m = /"order_id"\s*:\s*(\d{1,20})/.exec(text);
    return m ? m[1]! : String(v);
  }
  return null;
}

/** The raw JSON text of the first value under `"key":` in `text` (balanced scan), or null. */
export function rawValue(text: string, key: string): string | null {
  const k = text.indexOf(`"${key}"`);
  if (k < 0) return null;
  let i = k + key.length + 2;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  if (text[i] !== ':') return null;
  i++;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  const start = i;
  let depth = 0;
  let inStr = false;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (inStr) {
      if (ch === '\\') i++;
      else if (ch === '"') {
        inStr = false;
        if (depth === 0) return text.slice(start, i + 1);
      }
      continue;
    }
    if (ch === '"') inStr = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      if (depth === 0) return text.slice(start, i).trim();
      depth--;
      if (depth === 0) return text.slice(start, i + 1);
    } else if (ch === ',' && depth === 0) return text.slice(start, i).trim();
  }
  return null;
}
