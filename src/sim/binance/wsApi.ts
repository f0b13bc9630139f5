import type { SimAccount, VenueCore } from '../Venue.js';
import { E, type BinanceError } from './errors.js';
import type { BinanceRest } from './rest.js';
import { checkTimestamp, verifyHex, wsApiPayload } from './signing.js';

/** Per-socket state of a WebSocket API (`/ws-fapi/v1`) connection. */
export interface ApiSocket {
  readonly kind: 'api';
  readonly id: number;
  closed: boolean;
}

/**
 * Binance USD-M WebSocket API (protocols.md §1.9), the order-entry subset: `order.place`, `order.cancel`,
 * `time`, `ping`. Requests `{"id","method","params"}`; responses `{"id","status","result","rateLimits"}`
 * or `{"id","status","error":{"code","msg"},"rateLimits"}`. HMAC signing: params sorted by key, joined
 * k=v&..., signature excluded; `apiKey` and `timestamp` inside params. Shares counters with REST.
 */
export class BinanceWsApi {
  requests = 0;

  constructor(
    private readonly core: VenueCore,
    private readonly rest: BinanceRest,
    private readonly now: () => number,
  ) {}

  handle(text: string): string {
    this.requests++;
    const now = this.now();
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return JSON.stringify({ id: null, status: 400, error: { code: -1000, msg: 'Malformed request: invalid JSON.' } });
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return JSON.stringify({ id: null, status: 400, error: { code: -1000, msg: 'Malformed request: expected an object.' } });
    }
    const req = msg as Record<string, unknown>;
    const id = typeof req['id'] === 'string' || typeof req['id'] === 'number' ? req['id'] : null;
    const method = req['method'];
    const rawParams = req['params'];
    const params: Record<string, unknown> =
      typeof rawParams === 'object' && rawParams !== null && !Array.isArray(rawParams) ? (rawParams as Record<string, unknown>) : {};

    const fail = (e: BinanceError, acc: SimAccount | null): string =>
      JSON.stringify({ id, status: e.http, error: { code: e.code, msg: e.msg }, rateLimits: this.rest.rateLimitsFor(acc, now) });
    const ok = (result: unknown, acc: SimAccount | null): string =>
      JSON.stringify({ id, status: 200, result, rateLimits: this.rest.rateLimitsFor(acc, now) });

    switch (method) {
      case 'ping':
        this.rest.addWeight(now, 1);
        return ok({}, null);
      case 'time':
        this.rest.addWeight(now, 1);
        return ok({ serverTime: now }, null);
      case 'order.place':
      case 'order.cancel': {
        this.rest.addWeight(now, method === 'order.place' ? 0 : 1);
        const auth = this.authenticate(params, now);
        if ('code' in auth) return fail(auth, null);
        const map = new Map<string, string>();
        for (const [k, v] of Object.entries(params)) if (k !== 'signature' && k !== 'apiKey') map.set(k, text1(v));
        const r = method === 'order.place' ? this.rest.submitOrder(auth.acc, map, now) : this.rest.submitCancel(auth.acc, map, now);
        return r.error ? fail(r.error, auth.acc) : ok(r.result, auth.acc);
      }
      default:
        return fail({ http: 400, code: -1000, msg: `Unknown method: ${typeof method === 'string' ? method : String(method)}` }, null);
    }
  }

  private authenticate(params: Record<string, unknown>, now: number): { acc: SimAccount } | BinanceError {
    const apiKey = params['apiKey'];
    if (typeof apiKey !== 'string' || apiKey === '') return E.invalidApiKey();
    const acc = this.core.accountByApiKey(apiKey);
    if (!acc) return E.invalidApiKey();
    const asStrings = new Map<string, string>();
    for (const k of ['timestamp', 'recvWindow']) if (params[k] !== undefined) asStrings.set(k, text1(params[k]));
    const ts = checkTimestamp(asStrings, now);
    if (ts) return ts;
    const sig = params['signature'];
    if (typeof sig !== 'string' || sig === '') return E.mandatory('signature');
    if (!verifyHex(acc.apiSecret, wsApiPayload(params), sig)) return E.invalidSignature();
    return { acc };
  }
}

function text1(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}
